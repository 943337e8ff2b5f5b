//! The test harness: `TestApp::spawn()` gives a running application backed
//! by real PostgreSQL (a database of its own, cloned from a migrated
//! template), real Redis (a key prefix of its own, or a server of its own),
//! and a real SMTP server (aiosmtpd, a process of its own writing a Maildir).
//!
//! `./scripts/test` starts PostgreSQL and Redis and exports `TEST_DATABASE_URL`
//! (an admin URL), `TEST_REDIS_URL`, `TEST_SMTP_PYTHON` and `TEST_REDIS_SERVER`.

use std::{collections::HashMap, net::TcpListener, path::PathBuf, sync::Arc};

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use eservices::{
    clock::{Clock, ManualClock, SystemClock},
    config::Settings,
    domain::EmailAddress,
    error::AppError,
    http::AppState,
    notify::{EmailTemplate, outbox::Envelope, queue_email},
    startup::{Application, Options},
};
use secrecy::ExposeSecret;

mod database;
mod national_portal;
mod payment;
mod readers;
mod services;
mod sign_in;
mod staff;
mod vneid;

pub use database::TestDatabase;
use database::{admin_url, create_database, database_url};
pub use national_portal::NationalPortal;
pub use payment::*;
pub use readers::*;
pub use services::*;
pub use sign_in::*;
pub use staff::*;
pub use vneid::*;

/// How to spawn a test application.
#[derive(Default)]
pub struct TestOptions {
    /// Give the app a Redis server of its own (to stop and start it).
    pub own_redis: bool,
    /// Start the VNeID stand-in and configure the app to use it.
    pub vneid: Option<VneidOptions>,
    /// Further settings (name, value).
    pub env: Vec<(&'static str, String)>,
    /// Serve the app as `http://localhost:{port}` (PUBLIC_URL and `address`),
    /// a secure context with a domain name, as WebAuthn in a browser needs.
    /// It still binds 127.0.0.1.
    pub localhost: bool,
}

/// A running application and handles on everything behind it.
pub struct TestApp {
    pub address: String,
    /// The origin authenticators must name (`http://localhost:{port}`).
    pub webauthn_origin: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub smtp: SmtpServer,
    pub redis: Option<RedisServer>,
    /// Kept alive for the app's lifetime.
    pub _vneid: Option<VneidProvider>,
    pub db_name: String,
    /// The vault master key the app runs with.
    pub master_key: String,
    /// Where the app writes SMS (its file transport).
    pub sms_dir: PathBuf,
    pub files_dir: PathBuf,
    /// Cancel to shut the application down gracefully.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// The running application; resolves when it has stopped.
    pub server: tokio::task::JoinHandle<anyhow::Result<()>>,
    admin_url: String,
    _dir: tempfile::TempDir,
    /// Dropped last: drops the test's database.
    _database: TestDatabase,
}

/// Routes only the tests mount: probes for the error model and the outbox.
fn test_routes(cfg: &mut actix_web::web::ServiceConfig) {
    use actix_web::{HttpResponse, web};
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Echo {
        to: String,
        count: u32,
    }
    async fn panic_handler() -> HttpResponse {
        panic!("probe panic");
    }
    async fn hold() -> HttpResponse {
        HOLD_ENTERED.notify_one();
        HOLD_RELEASE.notified().await;
        HttpResponse::Ok().body("released")
    }
    async fn echo(
        state: web::Data<AppState>,
        body: web::Json<Echo>,
    ) -> Result<HttpResponse, AppError> {
        let to = EmailAddress::parse(&body.to)
            .map_err(|_| AppError::from(eservices::error::Code::BadRequest))?;
        let id = eservices::admin::queue_test_email(&state, to.as_str())
            .await
            .map_err(AppError::internal)?;
        Ok(
            HttpResponse::Created()
                .json(serde_json::json!({ "email_id": id, "count": body.count })),
        )
    }
    cfg.route("/test/panic", web::get().to(panic_handler))
        .route("/test/echo", web::post().to(echo))
        .route("/test/hold", web::get().to(hold));
}

/// `/test/hold` signals this when a request is inside it…
pub static HOLD_ENTERED: tokio::sync::Notify = tokio::sync::Notify::const_new();
/// …and answers once this is signalled.
pub static HOLD_RELEASE: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// The settings every test app starts from.
fn base_env(
    database_url: String,
    redis_url: String,
    db_name: &str,
    address: &str,
    port: u16,
    smtp: &SmtpServer,
    dir: &std::path::Path,
) -> HashMap<String, String> {
    [
        ("DATABASE_URL", database_url),
        ("DATABASE_POOL_SIZE", "8".into()),
        ("DATABASE_TIMEOUT_SECS", "2".into()),
        ("REDIS_URL", redis_url),
        ("REDIS_PREFIX", format!("test:{db_name}:")),
        ("PUBLIC_URL", address.to_owned()),
        ("BIND_ADDR", format!("127.0.0.1:{port}")),
        ("SMTP_URL", format!("smtp://{}", smtp.addr)),
        ("SMTP_TIMEOUT_SECS", "5".into()),
        (
            "MAIL_FROM",
            "Cổng Dịch vụ công <no-reply@dichvucong.test>".into(),
        ),
        ("HTTP_WORKERS", "2".into()),
        ("WORKER_CONCURRENCY", "8".into()),
        ("VAULT_MASTER_KEY", test_master_key()),
        ("SMS_DIR", dir.join("sms").display().to_string()),
        ("FILES_DIR", dir.join("files").display().to_string()),
        // WebAuthn needs a domain: authenticators in the tests speak for
        // http://localhost:{port} (the same server).
        ("WEBAUTHN_RP_ID", "localhost".into()),
        ("WEBAUTHN_ORIGINS", format!("http://localhost:{port}")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Points the app at the VNeID stand-in, unless the test set these itself.
fn vneid_env(env: &mut HashMap<String, String>, provider: &VneidProvider) {
    for (k, v) in [
        ("VNEID_ISSUER", provider.issuer.as_str()),
        ("VNEID_CLIENT_ID", VNEID_CLIENT_ID),
        ("VNEID_CLIENT_SECRET", VNEID_CLIENT_SECRET),
        ("VNEID_SCOPES", "openid profile national_id"),
        ("VNEID_CLAIM_NATIONAL_ID", "so_dinh_danh"),
    ] {
        // A test may ask for other VNeID settings (e.g. more scopes).
        env.entry(k.to_owned()).or_insert_with(|| v.to_owned());
    }
}

/// Builds the state and runs the application on `listener` until the
/// returned token is cancelled.
async fn serve(
    settings: Settings,
    clock: Arc<ManualClock>,
    listener: TcpListener,
) -> (
    AppState,
    tokio_util::sync::CancellationToken,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let state = AppState::build(settings, clock).expect("state");
    state
        .check_master_key()
        .await
        .expect("the master key fits the database");
    let app = Application::build_on(
        state.clone(),
        Options {
            workers: false,
            extra_routes: Some(test_routes),
        },
        listener,
    )
    .expect("application builds");
    let shutdown = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(app.run_until(shutdown.clone().cancelled_owned()));
    (state, shutdown, server)
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(TestOptions::default()).await
    }

    pub async fn spawn_with(options: TestOptions) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let admin = admin_url();
        let database = create_database(&admin).await;
        let smtp = SmtpServer::start(dir.path());
        let redis = options.own_redis.then(|| RedisServer::start(dir.path()));
        let redis_url = redis.as_ref().map_or_else(
            || env_or("TEST_REDIS_URL", "redis://127.0.0.1:6379/"),
            RedisServer::url,
        );

        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let host = if options.localhost {
            "localhost"
        } else {
            "127.0.0.1"
        };
        let address = format!("http://{host}:{port}");
        let vneid = options
            .vneid
            .as_ref()
            .map(|v| VneidProvider::start(v, &format!("{address}/login/vneid/callback")));
        let mut env = base_env(
            database_url(&admin, &database.name),
            redis_url,
            &database.name,
            &address,
            port,
            &smtp,
            dir.path(),
        );
        for (k, v) in &options.env {
            env.insert((*k).to_owned(), v.clone());
        }
        if let Some(provider) = &vneid {
            vneid_env(&mut env, provider);
        }
        let master_key = env["VAULT_MASTER_KEY"].clone();
        let settings = Settings::from_env(&env).expect("test settings are valid");
        // PostgreSQL keeps microseconds: a clock finer than that would make
        // times computed in a test differ from the same times read back.
        let clock = Arc::new(ManualClock::new(chrono::SubsecRound::trunc_subsecs(
            SystemClock.now(),
            6,
        )));
        let (state, shutdown, server) = serve(settings, clock.clone(), listener).await;

        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .expect("client");
        Self {
            webauthn_origin: format!("http://localhost:{port}"),
            address,
            client,
            state,
            clock,
            smtp,
            redis,
            _vneid: vneid,
            db_name: database.name.clone(),
            master_key,
            sms_dir: dir.path().join("sms"),
            files_dir: dir.path().join("files"),
            shutdown,
            server,
            admin_url: admin,
            _dir: dir,
            _database: database,
        }
    }

    /// Where this app keeps dossier files.
    pub fn files_dir(&self) -> PathBuf {
        self.files_dir.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// Runs every due outbox job, as a worker would; returns how many ran.
    pub async fn run_jobs(&self) -> usize {
        self.state.worker().drain().await.expect("jobs run")
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A connection to this test's database.
    pub async fn db(&self) -> eservices::storage::DbConn {
        self.state.db.get().await.expect("db connection")
    }

    /// An admin connection to the cluster (for fault injection).
    pub async fn admin_db(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.admin_url)
            .await
            .expect("admin connection")
    }

    /// Queues `email` to `to` in a transaction of its own.
    pub async fn queue<T: EmailTemplate + Sync>(&self, to: &str, email: &T) -> uuid::Uuid {
        let to = EmailAddress::parse(to).expect("valid address");
        let now = self.now();
        let domain = self.state.settings.mail_domain();
        let mut conn = self.db().await;
        conn.transaction::<_, AppError, _>(async |c| {
            queue_email(
                c,
                now,
                &Envelope {
                    to: &to,
                    account_id: None,
                    mail_domain: &domain,
                },
                email,
            )
            .await
        })
        .await
        .expect("queued")
    }

    /// A count from this test's database.
    pub async fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.db().await;
        let row: N = diesel::sql_query(sql)
            .get_result(&mut conn)
            .await
            .expect("count");
        row.n
    }

    /// The account of a national ID.
    pub async fn state_account(&self, national_id: &str) -> eservices::domain::AccountId {
        let mut conn = self.db().await;
        eservices::storage::accounts::find_by_national_id(&mut conn, national_id)
            .await
            .expect("query")
            .expect("account")
            .id
            .into()
    }

    /// The database URL of this test (with password).
    pub fn database_url(&self) -> String {
        self.state.settings.database.url.expose_secret().to_owned()
    }
}

/// A citizen to register in tests: valid by construction, unique by `seq`.
#[derive(Debug, Clone)]
pub struct Citizen {
    pub national_id: String,
    pub full_name: String,
    pub date_of_birth: String,
    pub sex: String,
    pub email: String,
    pub phone: String,
    pub password: String,
}

impl Citizen {
    /// A man born in 1990 in Ho Chi Minh City (province 079).
    pub fn sample(seq: u32) -> Self {
        Self {
            national_id: format!("079090{:06}", seq % 1_000_000),
            full_name: "Nguyễn Văn An".into(),
            date_of_birth: "1990-05-17".into(),
            sex: "male".into(),
            email: format!("citizen{seq}@example.vn"),
            phone: "0912 345 678".into(),
            password: "Sài Gòn mưa chiều 2026".into(),
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "national_id": self.national_id,
            "full_name": self.full_name,
            "date_of_birth": self.date_of_birth,
            "sex": self.sex,
            "email": self.email,
            "phone": self.phone,
            "password": self.password,
        })
    }
}

/// The value of the first `name="…" value="…"` input in a page.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

/// The token a link in an email carries (`token=…`).
pub fn token_in(text: &str) -> Option<String> {
    let start = text.find("token=")? + "token=".len();
    Some(
        text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect(),
    )
}
