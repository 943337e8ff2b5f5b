//! Builds the application state and the actix server, and runs them (with
//! the in-process outbox worker) until told to stop.

use std::{future::Future, net::TcpListener, sync::Arc, time::Duration};

use actix_web::{App, HttpServer, dev::Server, middleware::from_fn, web};
use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::{
    clock::SharedClock,
    config::Settings,
    http,
    identity::{
        password::PasswordHasher, sessions::SessionStore, staff::StaffSession, throttle::Throttle,
        vneid::Vneid,
    },
    kv::Kv,
    metrics::Metrics,
    notify::{Mailer, Worker, sms::SmsSender, worker::WorkerOptions},
    storage::{self, DbPool},
};

/// How long in-flight requests may take to finish on shutdown.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The settings.
    pub settings: Arc<Settings>,
    /// PostgreSQL.
    pub db: DbPool,
    /// Redis.
    pub kv: Arc<Kv>,
    /// The time.
    pub clock: SharedClock,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// The email transport.
    pub mailer: Mailer,
    /// The SMS transport.
    pub sms: SmsSender,
    /// Citizens' browser sessions.
    pub sessions: SessionStore,
    /// Civil servants' back-office sessions.
    pub staff_sessions: SessionStore<StaffSession>,
    /// Throttling of guesses.
    pub throttle: Throttle,
    /// Password hashing on a bounded pool.
    pub hasher: PasswordHasher,
    /// Sign-in with VNeID, when configured.
    pub vneid: Option<Arc<Vneid>>,
    /// The OpenID provider's keys, cached in this process.
    pub key_cache: Arc<crate::oidc::keys::KeyCache>,
    /// Access tokens verified by this process.
    pub verified_tokens: Arc<crate::oidc::jwt::VerifiedTokens>,
    /// Registered OpenID clients, cached in this process.
    pub client_cache: Arc<crate::oidc::clients::ClientCache>,
    /// Dossier files.
    pub files: Arc<dyn object_store::ObjectStore>,
    /// Outgoing HTTP (back-channel logout).
    pub http: reqwest::Client,
    /// The WebAuthn relying party (`None`: passkeys are off on this server).
    pub passkeys: Option<Arc<crate::identity::passkeys::RelyingParty>>,
}

impl AppState {
    /// Builds the state: pools and clients are created, nothing is connected yet.
    pub fn build(settings: Settings, clock: SharedClock) -> anyhow::Result<Self> {
        let db = storage::build_pool(&settings.database)?;
        let kv = Kv::new(&settings.redis).context("REDIS_URL")?;
        let mailer = Mailer::build(&settings.mail.transport)?;
        let sms = SmsSender::build(&settings.sms)?;
        let kv = Arc::new(kv);
        let vneid = match &settings.vneid {
            Some(v) => Some(Arc::new(Vneid::new(v.clone(), &settings.issuer())?)),
            None => None,
        };
        Ok(Self {
            passkeys: crate::identity::passkeys::RelyingParty::build(&settings.webauthn),
            vneid,
            key_cache: Arc::default(),
            client_cache: Arc::default(),
            files: crate::dossiers::files::open_store(&settings.files)
                .context("FILES_URL / FILES_DIR")?,
            verified_tokens: Arc::default(),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .connect_timeout(std::time::Duration::from_secs(5))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .context("HTTP client")?,
            settings: Arc::new(settings),
            db,
            sessions: SessionStore::new(kv.clone()),
            staff_sessions: SessionStore::new(kv.clone()),
            throttle: Throttle::new(kv.clone()),
            hasher: PasswordHasher::for_this_machine()?,
            kv,
            clock,
            metrics: Arc::new(Metrics::new()?),
            mailer,
            sms,
        })
    }

    /// Refuses to go on when the configured master keys do not open what
    /// this database holds (a wrong or missing `VAULT_MASTER_KEY`).
    pub async fn check_master_key(&self) -> anyhow::Result<()> {
        let mut conn = self.db.get().await?;
        crate::vault::keys::check(&self.settings.keyring, &mut conn, self.clock.now()).await?;
        Ok(())
    }

    /// An outbox worker sharing this state's pool, clock and metrics.
    pub fn worker(&self) -> Worker {
        Worker::new(
            self.db.clone(),
            self.clock.clone(),
            self.mailer.clone(),
            self.sms.clone(),
            self.settings.mail.from.clone(),
            Some(self.metrics.clone()),
            &WorkerOptions {
                concurrency: self.settings.worker.concurrency,
                poll_interval: self.settings.worker.poll_interval,
            },
            self.clone(),
        )
    }
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
