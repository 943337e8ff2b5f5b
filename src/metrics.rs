//! Prometheus metrics of one process: HTTP requests by route and status,
//! latencies, job outcomes, and (sampled at scrape time) the job queue depth
//! and database pool usage.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// The metrics of one process (a registry of its own, so tests do not share one).
pub struct Metrics {
    registry: Registry,
    /// Requests by method, route pattern and status.
    pub http_requests: IntCounterVec,
    /// Request latencies by method and route pattern.
    pub http_duration: HistogramVec,
    /// Finished job attempts by kind and outcome (succeeded, failed, dead).
    pub jobs_finished: IntCounterVec,
    /// Jobs by state (queued, running, dead), sampled at scrape time.
    pub jobs_depth: IntGaugeVec,
    /// Database pool connections by state (in_use, idle, max), sampled at scrape time.
    pub db_pool: IntGaugeVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("eservices".into()), None)?;
        let http_requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests handled"),
            &["method", "route", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(
                vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ],
            ),
            &["method", "route"],
        )?;
        let jobs_finished = IntCounterVec::new(
            Opts::new("jobs_finished_total", "Job attempts finished, by outcome"),
            &["kind", "outcome"],
        )?;
        let jobs_depth = IntGaugeVec::new(
            Opts::new("jobs", "Jobs in the outbox by state (done jobs excluded)"),
            &["state"],
        )?;
        let db_pool = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections"),
            &["state"],
        )?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(jobs_finished.clone()))?;
        registry.register(Box::new(jobs_depth.clone()))?;
        registry.register(Box::new(db_pool.clone()))?;
        Ok(Self {
            registry,
            http_requests,
            http_duration,
            jobs_finished,
            jobs_depth,
            db_pool,
        })
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        if let Err(err) = TextEncoder::new().encode(&self.registry.gather(), &mut buf) {
            tracing::warn!(error = %err, "encoding metrics failed");
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}
