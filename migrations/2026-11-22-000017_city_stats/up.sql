-- The whole city's dashboard at a glance: the monthly figures summed by
-- service and by agency (a few thousand rows each), refreshed right after
-- dossier_monthly_stats by the same job.
CREATE MATERIALIZED VIEW dossier_service_stats AS
SELECT service_code, month,
       sum(received)::bigint AS received, sum(online)::bigint AS online,
       sum(decided)::bigint AS decided, sum(on_time)::bigint AS on_time,
       sum(overdue)::bigint AS overdue
FROM dossier_monthly_stats
GROUP BY 1, 2;
CREATE UNIQUE INDEX dossier_service_stats_key ON dossier_service_stats (month, service_code);

CREATE MATERIALIZED VIEW dossier_agency_stats AS
SELECT agency_code, month,
       sum(received)::bigint AS received, sum(online)::bigint AS online,
       sum(decided)::bigint AS decided, sum(on_time)::bigint AS on_time,
       sum(overdue)::bigint AS overdue
FROM dossier_monthly_stats
GROUP BY 1, 2;
CREATE UNIQUE INDEX dossier_agency_stats_key ON dossier_agency_stats (month, agency_code);
