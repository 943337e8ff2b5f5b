DROP TABLE stats_refreshes;
DROP MATERIALIZED VIEW dossier_monthly_stats;
