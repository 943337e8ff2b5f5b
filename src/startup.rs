//! The composition root: builds the application state and the actix
//! server, gives the outbox worker every feature's jobs, and runs them
//! until told to stop.

use std::{future::Future, net::TcpListener, sync::Arc, time::Duration};

use actix_web::{App, HttpServer, dev::Server, middleware::from_fn, web};
use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::{
    http::{self, AppState},
    notify::{JobRegistry, Worker, worker::WorkerOptions},
};

/// How long in-flight requests may take to finish on shutdown.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

impl AppState {
    /// An outbox worker on this state's core, running every feature's jobs.
    pub fn worker(&self) -> Worker {
        Worker::new(
            &self.core,
            self.senders.clone(),
            Arc::new(job_registry(self)),
            &WorkerOptions {
                concurrency: self.settings.worker.concurrency,
                poll_interval: self.settings.worker.poll_interval,
            },
        )
    }
}

/// Every feature's background jobs and their schedule.
fn job_registry(state: &AppState) -> JobRegistry {
    let mut registry = JobRegistry::default();
    crate::identity::jobs::register(&mut registry, &state.core);
    crate::oidc::jobs::register(&mut registry, &state.oidc);
    crate::dossiers::jobs::register(&mut registry, &state.core);
    crate::integrations::national_portal::register(&mut registry, &state.core);
    crate::integrations::webhooks::register(&mut registry, &state.core);
    crate::payments::jobs::register(&mut registry, &state.core);
    registry
}

/// Routes added by the caller (the test harness adds probes of its own).
pub type ExtraRoutes = fn(&mut web::ServiceConfig);

/// How to build the application.
#[derive(Clone)]
pub struct Options {
    /// Run the outbox worker in this process.
    pub workers: bool,
    /// Extra routes, registered after the application's own.
    pub extra_routes: Option<ExtraRoutes>,
}

/// A built, not yet running, application.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    workers: bool,
}

impl Application {
    /// Binds `BIND_ADDR` (port 0 picks a free port) and builds the server.
    pub fn build(state: AppState, options: Options) -> anyhow::Result<Self> {
        let addr = state.settings.bind_addr;
        let listener =
            TcpListener::bind(addr).with_context(|| format!("binding BIND_ADDR {addr}"))?;
        Self::build_on(state, options, listener)
    }

    /// Builds the server on a listener bound by the caller.
    pub fn build_on(
        state: AppState,
        options: Options,
        listener: TcpListener,
    ) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let data = web::Data::new(state.clone());
        let extra = options.extra_routes;
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(http::extract::json_config())
                .app_data(http::extract::path_config())
                .app_data(http::extract::query_config())
                .wrap(http::middleware::problem_defaults())
                .wrap(from_fn(http::middleware::catch_panic))
                .wrap(from_fn(http::middleware::track_metrics))
                .wrap(from_fn(http::request_id::middleware))
                .wrap(from_fn(http::middleware::security_headers))
                .configure(http::configure)
                .configure(|cfg| {
                    if let Some(extra) = extra {
                        extra(cfg);
                    }
                })
                .default_service(web::to(http::not_found))
        })
        .disable_signals()
        .shutdown_timeout(SHUTDOWN_TIMEOUT.as_secs());
        if let Some(n) = state.settings.http_workers {
            server = server.workers(n);
        }
        let server = server.listen(listener)?.run();
        Ok(Self {
            port,
            server,
            state,
            workers: options.workers,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then stops gracefully: in-flight
    /// requests finish (up to 30 s) and the worker hands back unfinished jobs.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let cancel = CancellationToken::new();
        let worker = self
            .workers
            .then(|| tokio::spawn(self.state.worker().run(cancel.clone())));
        let handle = self.server.handle();
        let server = tokio::spawn(self.server);
        shutdown.await;
        tracing::info!("shutting down");
        cancel.cancel();
        let stop = handle.stop(true);
        let (_, server_result) = tokio::join!(stop, server);
        if let Some(worker) = worker {
            worker.await.context("worker task")?;
        }
        server_result.context("server task")?.context("server")?;
        Ok(())
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
