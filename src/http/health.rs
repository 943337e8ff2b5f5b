//! Liveness, readiness and metrics endpoints.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use secrecy::ExposeSecret;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{
    domain::outbox::JobState,
    error::{AppError, ErrorKind},
    http::AppState,
    storage,
};

/// How long a readiness check waits for each dependency.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /healthz`: 200 while the process lives.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "status": "ok" }))
}

/// `GET /readyz`: 200 when PostgreSQL and Redis answer, 503 otherwise.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let (db, redis) = tokio::join!(
        storage::ping(&state.db, CHECK_TIMEOUT),
        tokio::time::timeout(CHECK_TIMEOUT, state.kv.ping()),
    );
    let db_ok = match db {
        Ok(()) => true,
        Err(err) => {
            tracing::warn!(
                error = format!("{err:#}"),
                "readiness: database unavailable"
            );
            false
        }
    };
    let redis_ok = match redis {
        Ok(Ok(())) => true,
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness: redis unavailable");
            false
        }
        Err(_) => {
            tracing::warn!("readiness: redis did not answer in time");
            false
        }
    };
    let label = |ok: bool| if ok { "ok" } else { "unavailable" };
    let body = json!({
        "status": if db_ok && redis_ok { "ready" } else { "not_ready" },
        "checks": { "database": label(db_ok), "redis": label(redis_ok) },
    });
    let mut builder = if db_ok && redis_ok {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    builder
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// Whether `given` is the configured token: both hashed first, then compared
/// in constant time, so neither the content nor the length leaks by timing.
fn token_matches(given: &str, expected: &str) -> bool {
    Sha256::digest(given.as_bytes())
        .ct_eq(&Sha256::digest(expected.as_bytes()))
        .into()
}

/// Refuses a scrape without `Authorization: Bearer <METRICS_TOKEN>`; with no
/// token configured the endpoint does not exist (404).
fn check_scraper(state: &AppState, req: &HttpRequest) -> Result<(), AppError> {
    let Some(expected) = &state.settings.metrics_token else {
        return Err(AppError::new(ErrorKind::NotFound, "route_not_found")
            .with_detail("Đường dẫn không tồn tại."));
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if given.is_some_and(|g| token_matches(g, expected.expose_secret())) {
        Ok(())
    } else {
        Err(
            AppError::new(ErrorKind::Unauthorized, "metrics_token_invalid")
                .with_detail("Cần mã truy cập hợp lệ để đọc số liệu vận hành.")
                .with_header(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\""),
        )
    }
}

/// `GET /metrics`: Prometheus text for a scraper holding `METRICS_TOKEN`;
/// samples queue depth and pool usage first.
pub async fn metrics(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    check_scraper(&state, &req)?;
    let status = state.db.status();
    let m = &state.metrics;
    let in_use = i64::try_from(status.size.saturating_sub(status.available)).unwrap_or(0);
    m.db_pool.with_label_values(&["in_use"]).set(in_use);
    m.db_pool
        .with_label_values(&["idle"])
        .set(i64::try_from(status.available).unwrap_or(0));
    m.db_pool
        .with_label_values(&["max"])
        .set(i64::try_from(status.max_size).unwrap_or(0));
    let depth = async {
        let mut conn = state.db.get().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok::<_, anyhow::Error>(storage::jobs::depth(&mut conn).await?)
    };
    match tokio::time::timeout(CHECK_TIMEOUT, depth).await {
        Ok(Ok(rows)) => {
            for state in [JobState::Queued, JobState::Running, JobState::Dead] {
                let n = rows
                    .iter()
                    .find(|(s, _)| *s == state)
                    .map_or(0, |(_, n)| *n);
                m.jobs_depth.with_label_values(&[state.as_str()]).set(n);
            }
        }
        Ok(Err(err)) => tracing::warn!(
            error = format!("{err:#}"),
            "metrics: queue depth unavailable"
        ),
        Err(_) => tracing::warn!("metrics: queue depth timed out"),
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(m.render()))
}

#[cfg(test)]
mod tests {
    use super::token_matches;

    #[test]
    fn only_the_exact_token_matches() {
        let token = "0123456789abcdef0123456789abcdef";
        assert!(token_matches(token, token));
        assert!(!token_matches("0123456789abcdef0123456789abcdeX", token));
        assert!(!token_matches("0123456789abcdef", token));
        assert!(!token_matches("", token));
    }
}
