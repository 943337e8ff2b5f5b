DROP MATERIALIZED VIEW dossier_agency_stats;
DROP MATERIALIZED VIEW dossier_service_stats;
