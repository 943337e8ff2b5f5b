//! `eservices seed`: loads reference data into a migrated database. Every
//! loader is idempotent, so seeding twice changes nothing.

use crate::startup::AppState;

/// What a seed run did, for the operator.
#[derive(Debug, Default)]
pub struct SeedReport {
    /// One line per loader.
    pub lines: Vec<String>,
}

/// Runs the loaders; `demo` adds the demonstration data.
pub async fn run(state: &AppState, demo: bool) -> anyhow::Result<SeedReport> {
    // Prove the schema is in place before loading anything.
    let mut report = SeedReport::default();
    let depth = crate::admin::job_stats(state).await?;
    report.lines.push(format!(
        "database ready (outbox: {} pending jobs)",
        depth.iter().map(|(_, n)| n).sum::<i64>()
    ));
    if demo {
        report
            .lines
            .push("demo data: none defined in this version".into());
    }
    Ok(report)
}
