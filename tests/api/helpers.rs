//! The test harness: `TestApp::spawn()` gives a running application backed
//! by real PostgreSQL (a database of its own, cloned from a migrated
//! template), real Redis (a key prefix of its own, or a server of its own),
//! and a real SMTP server (aiosmtpd, a process of its own writing a Maildir).
//!
//! `./scripts/test` starts PostgreSQL and Redis and exports `TEST_DATABASE_URL`
//! (an admin URL), `TEST_REDIS_URL`, `TEST_SMTP_PYTHON` and `TEST_REDIS_SERVER`.

use std::{
    collections::HashMap,
    hash::{Hash, Hasher},
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use eservices::{
    clock::{Clock, ManualClock, SystemClock},
    config::Settings,
    domain::EmailAddress,
    error::AppError,
    notify::{EmailTemplate, outbox::Envelope, queue_email},
    startup::{AppState, Application, Options},
};
use secrecy::ExposeSecret;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// A random vault master key (base64 of 32 bytes).
pub fn test_master_key() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(uuid::Uuid::new_v4().as_bytes().repeat(2))
}

/// A free loopback port (the OS picks it; the socket is closed before use).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Waits until `condition` holds, polling; panics with `what` after `timeout`.
pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if condition().await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn wait_for_port(addr: SocketAddr, up: bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let is_up = TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok();
        if is_up == up {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "port {addr} did not become {}",
            if up { "open" } else { "closed" }
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A child process killed when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A real SMTP server (aiosmtpd) that stores what it receives in a Maildir.
pub struct SmtpServer {
    pub addr: SocketAddr,
    maildir: PathBuf,
    child: Option<Guard>,
}

/// A message the SMTP server received.
pub struct ReceivedEmail {
    pub raw: Vec<u8>,
}

impl ReceivedEmail {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.raw)
            .expect("a parsable message")
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.parsed().header_raw(name).map(|v| v.trim().to_owned())
    }
    pub fn to(&self) -> String {
        self.header("X-RcptTo").unwrap_or_default()
    }
    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_owned()
    }
    pub fn text(&self) -> String {
        self.parsed().body_text(0).unwrap_or_default().into_owned()
    }
    pub fn html(&self) -> String {
        self.parsed().body_html(0).unwrap_or_default().into_owned()
    }
    pub fn message_id(&self) -> String {
        self.parsed().message_id().unwrap_or_default().to_owned()
    }
}

impl SmtpServer {
    pub fn start(dir: &Path) -> Self {
        let mut server = Self {
            addr: SocketAddr::from(([127, 0, 0, 1], free_port())),
            // aiosmtpd creates the Maildir itself (it must not exist beforehand).
            maildir: dir.join("maildir"),
            child: None,
        };
        server.restart();
        server
    }

    /// Stops the server (connections to it are then refused).
    pub fn stop(&mut self) {
        self.child = None;
        wait_for_port(self.addr, false);
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        let python = env_or("TEST_SMTP_PYTHON", "/usr/bin/python3");
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l", &self.addr.to_string()])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&self.maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd runs (apt-get install python3-aiosmtpd)");
        self.child = Some(Guard(child));
        wait_for_port(self.addr, true);
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<ReceivedEmail> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        let mut files: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        // Maildir names are `<secs>.M<usecs>P<pid>Q<seq>.<host>`: order by the numbers.
        let key = |p: &PathBuf| -> (u64, u64, u64) {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let num = |after: char| -> u64 {
                name.split_once(after)
                    .map(|(_, rest)| {
                        rest.chars()
                            .take_while(char::is_ascii_digit)
                            .collect::<String>()
                    })
                    .and_then(|d| d.parse().ok())
                    .unwrap_or(0)
            };
            let secs = name
                .split('.')
                .next()
                .and_then(|d| d.parse().ok())
                .unwrap_or(0);
            (secs, num('M'), num('Q'))
        };
        files.sort_by_key(key);
        files
            .into_iter()
            .filter_map(|p| std::fs::read(p).ok())
            .map(|raw| ReceivedEmail { raw })
            .collect()
    }

    /// Messages to `address`.
    pub fn messages_to(&self, address: &str) -> Vec<ReceivedEmail> {
        self.messages()
            .into_iter()
            .filter(|m| m.to().contains(address))
            .collect()
    }
}

/// A Redis server of a test's own, for fault tests.
pub struct RedisServer {
    pub port: u16,
    dir: PathBuf,
    child: Option<Guard>,
}

impl RedisServer {
    pub fn start(dir: &Path) -> Self {
        let mut server = Self {
            port: free_port(),
            dir: dir.join("redis"),
            child: None,
        };
        std::fs::create_dir_all(&server.dir).expect("redis dir");
        server.restart();
        server
    }
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
    pub fn stop(&mut self) {
        self.child = None;
        wait_for_port(SocketAddr::from(([127, 0, 0, 1], self.port)), false);
    }
    pub fn restart(&mut self) {
        let bin = env_or("TEST_REDIS_SERVER", "redis-server");
        let child = Command::new(bin)
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs");
        self.child = Some(Guard(child));
        wait_for_port(SocketAddr::from(([127, 0, 0, 1], self.port)), true);
    }
}

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
}

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").expect(
        "TEST_DATABASE_URL is not set: run the tests through ./scripts/test \
         (it starts PostgreSQL, Redis and SMTP)",
    )
}

fn database_url(admin: &str, db: &str) -> String {
    let mut url = url::Url::parse(admin).expect("TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{db}"));
    url.to_string()
}

/// A name for the template database that changes whenever a migration or
/// the catalog does.
fn template_name() -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("migrations dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    dirs.sort();
    for dir in dirs {
        dir.file_name().hash(&mut hasher);
        std::fs::read(dir.join("up.sql"))
            .unwrap_or_default()
            .hash(&mut hasher);
    }
    let catalog = Path::new(env!("CARGO_MANIFEST_DIR")).join(eservices::seed::CATALOG_DIR);
    for file in ["agencies.json", "holidays.json", "services.json"] {
        std::fs::read(catalog.join(file))
            .unwrap_or_default()
            .hash(&mut hasher);
    }
    format!("eservices_tpl_{:016x}", hasher.finish())
}

/// Creates a fresh database for one test, cloned from a migrated template.
async fn create_database(admin: &str) -> String {
    let template = template_name();
    let mut conn = AsyncPgConnection::establish(admin)
        .await
        .expect("connect to TEST_DATABASE_URL");
    // One test process builds the template; the others wait on the lock.
    diesel::sql_query("SELECT pg_advisory_lock(7415)")
        .execute(&mut conn)
        .await
        .expect("lock");
    #[derive(diesel::QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        exists: bool,
    }
    let exists: Exists = diesel::sql_query(format!(
        "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = '{template}') AS exists"
    ))
    .get_result(&mut conn)
    .await
    .expect("query pg_database");
    if !exists.exists {
        let building = format!("{template}_building");
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {building}"))
            .execute(&mut conn)
            .await
            .expect("drop stale template");
        diesel::sql_query(format!("CREATE DATABASE {building}"))
            .execute(&mut conn)
            .await
            .expect("create template");
        let url = secrecy::SecretString::from(database_url(admin, &building));
        eservices::storage::run_migrations(&url)
            .await
            .expect("migrations apply");
        // Every test database starts with the catalog, as `eservices seed` loads it.
        let mut template_conn = AsyncPgConnection::establish(&database_url(admin, &building))
            .await
            .expect("connect to the template");
        eservices::catalog::loader::load(
            &mut template_conn,
            &Path::new(env!("CARGO_MANIFEST_DIR")).join(eservices::seed::CATALOG_DIR),
            SystemClock.now(),
        )
        .await
        .expect("the catalog loads");
        drop(template_conn);
        diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {template}"))
            .execute(&mut conn)
            .await
            .expect("rename template");
    }
    diesel::sql_query("SELECT pg_advisory_unlock(7415)")
        .execute(&mut conn)
        .await
        .expect("unlock");
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
        .execute(&mut conn)
        .await
        .expect("create test database");
    name
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
        let to =
            EmailAddress::parse(&body.to).map_err(|_| AppError::bad_request("invalid_email"))?;
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

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(TestOptions::default()).await
    }

    pub async fn spawn_with(options: TestOptions) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let admin = admin_url();
        let db_name = create_database(&admin).await;
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
        let mut env: HashMap<String, String> = [
            ("DATABASE_URL", database_url(&admin, &db_name)),
            ("DATABASE_POOL_SIZE", "8".into()),
            ("DATABASE_TIMEOUT_SECS", "2".into()),
            ("REDIS_URL", redis_url),
            ("REDIS_PREFIX", format!("test:{db_name}:")),
            ("PUBLIC_URL", address.clone()),
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
            ("SMS_DIR", dir.path().join("sms").display().to_string()),
            ("FILES_DIR", dir.path().join("files").display().to_string()),
            // WebAuthn needs a domain: authenticators in the tests speak for
            // http://localhost:{port} (the same server).
            ("WEBAUTHN_RP_ID", "localhost".into()),
            ("WEBAUTHN_ORIGINS", format!("http://localhost:{port}")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for (k, v) in &options.env {
            env.insert((*k).to_owned(), v.clone());
        }
        if let Some(provider) = &vneid {
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
        let master_key = env["VAULT_MASTER_KEY"].clone();
        let settings = Settings::from_env(&env).expect("test settings are valid");
        // PostgreSQL keeps microseconds: a clock finer than that would make
        // times computed in a test differ from the same times read back.
        let clock = Arc::new(ManualClock::new(chrono::SubsecRound::trunc_subsecs(
            SystemClock.now(),
            6,
        )));
        let state = AppState::build(settings, clock.clone()).expect("state");
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
            db_name,
            master_key,
            sms_dir: dir.path().join("sms"),
            files_dir: dir.path().join("files"),
            shutdown,
            server,
            admin_url: admin,
            _dir: dir,
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

impl TestApp {
    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Registers `citizen`; returns the verification token from the email.
    pub async fn register(&self, citizen: &Citizen) -> String {
        let res = self
            .post_json("/api/v1/registrations/citizens", &citizen.json())
            .await;
        assert_eq!(
            res.status(),
            202,
            "{}",
            res.text().await.unwrap_or_default()
        );
        self.run_jobs().await;
        let mails = self.smtp.messages_to(&citizen.email);
        let mail = mails.last().expect("a verification email");
        token_in(&mail.text()).expect("a token in the email")
    }

    /// Registers and verifies `citizen` (an active level-1 account).
    pub async fn active_citizen(&self, citizen: &Citizen) {
        let token = self.register(citizen).await;
        let res = self
            .post_json(
                "/api/v1/registrations/verify-email",
                &serde_json::json!({ "token": token }),
            )
            .await;
        assert_eq!(
            res.status(),
            200,
            "{}",
            res.text().await.unwrap_or_default()
        );
    }

    /// A cookie-keeping client that does not follow redirects (another browser).
    pub fn fresh_client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .expect("client")
    }

    /// Fetches the sign-in page and submits it; returns the answer (303 on success).
    pub async fn sign_in(&self, username: &str, password: &str) -> reqwest::Response {
        self.sign_in_with(&self.client, username, password).await
    }

    /// `sign_in` with another client.
    pub async fn sign_in_with(
        &self,
        client: &reqwest::Client,
        username: &str,
        password: &str,
    ) -> reqwest::Response {
        let page = client
            .get(self.url("/login"))
            .send()
            .await
            .expect("get")
            .text()
            .await
            .expect("login page");
        let csrf = input_value(&page, "csrf_token").expect("a CSRF field");
        client
            .post(self.url("/login"))
            .form(&[
                ("username", username),
                ("password", password),
                ("csrf_token", csrf.as_str()),
                ("return_to", "/api/v1/me"),
            ])
            .send()
            .await
            .expect("request")
    }
}

impl TestApp {
    /// The second step with a code by email, for `client`'s pending sign-in
    /// or signed-in session (a step-up); returns the final answer (303).
    pub async fn step_up_by_email(&self, client: &reqwest::Client) -> reqwest::Response {
        let page = client
            .get(self.url("/login/verify?return_to=/api/v1/me"))
            .send()
            .await
            .expect("get")
            .text()
            .await
            .expect("verify page");
        let csrf = input_value(&page, "csrf_token").expect("a CSRF field on the second step");
        let res = client
            .post(self.url("/login/verify/email-code"))
            .form(&[("csrf_token", csrf.as_str()), ("return_to", "/api/v1/me")])
            .send()
            .await
            .expect("send code");
        assert_eq!(
            res.status(),
            303,
            "{}",
            res.text().await.unwrap_or_default()
        );
        self.run_jobs().await;
        let code = self
            .smtp
            .messages()
            .iter()
            .rev()
            .find(|m| m.subject().contains("Mã xác thực"))
            .and_then(|m| sign_in_code_in(&m.text()))
            .expect("a sign-in code by email");
        client
            .post(self.url("/login/verify"))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("return_to", "/api/v1/me"),
                ("code", code.as_str()),
            ])
            .send()
            .await
            .expect("check code")
    }

    /// Signs in with a password and completes the email-code step: a strong
    /// session (`amr` pwd otp mfa).
    pub async fn sign_in_strongly(&self, username: &str, password: &str) {
        self.sign_in_strongly_with(&self.client, username, password)
            .await;
    }

    /// `sign_in_strongly` with another client.
    pub async fn sign_in_strongly_with(
        &self,
        client: &reqwest::Client,
        username: &str,
        password: &str,
    ) {
        let res = self.sign_in_with(client, username, password).await;
        assert_eq!(
            res.status(),
            303,
            "{}",
            res.text().await.unwrap_or_default()
        );
        let res = self.step_up_by_email(client).await;
        assert_eq!(
            res.status(),
            303,
            "{}",
            res.text().await.unwrap_or_default()
        );
    }
}

/// The six-digit code in a sign-in code email.
pub fn sign_in_code_in(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .map(str::to_owned)
}

/// The independent OpenID provider standing in for VNeID (npm's oidc-provider).
pub struct VneidProvider {
    pub issuer: String,
    _child: Guard,
    _accounts: tempfile::NamedTempFile,
}

/// What the VNeID stand-in knows.
#[derive(Clone, Default)]
pub struct VneidOptions {
    /// `{ "login": …, "claims": { … } }` objects.
    pub accounts: Vec<serde_json::Value>,
    /// Make every sign-in end with this OAuth error.
    pub fail_with: Option<String>,
}

pub const VNEID_CLIENT_ID: &str = "eservices-test";
pub const VNEID_CLIENT_SECRET: &str = "vneid-test-secret-0123456789";

impl VneidProvider {
    pub fn start(options: &VneidOptions, redirect_uri: &str) -> Self {
        use std::io::{BufRead, Write};
        let mut accounts = tempfile::NamedTempFile::new().expect("accounts file");
        accounts
            .write_all(
                serde_json::to_string(&options.accounts)
                    .expect("json")
                    .as_bytes(),
            )
            .expect("write accounts");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/vneid/provider.mjs");
        let mut cmd = Command::new("node");
        cmd.arg(script)
            .args([
                "--port",
                "0",
                "--client-id",
                VNEID_CLIENT_ID,
                "--client-secret",
                VNEID_CLIENT_SECRET,
            ])
            .args(["--redirect-uri", redirect_uri, "--exit-on-stdin-eof"])
            .arg("--accounts")
            .arg(accounts.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(error) = &options.fail_with {
            cmd.args(["--fail-with", error]);
        }
        let mut child = cmd
            .spawn()
            .expect("node runs the VNeID stand-in (npm ci --prefix tests/support/vneid)");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("READY line");
        let issuer = line
            .trim()
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("unexpected provider output: {line:?}"))
            .to_owned();
        Self {
            issuer,
            _child: Guard(child),
            _accounts: accounts,
        }
    }
}

/// A VNeID account for the stand-in, with the claim names the app is configured for.
pub fn vneid_account(
    login: &str,
    sub: &str,
    national_id: &str,
    name: &str,
    birthdate: &str,
    gender: &str,
) -> serde_json::Value {
    serde_json::json!({
        "login": login,
        "claims": {
            "sub": sub,
            "name": name,
            "birthdate": birthdate,
            "gender": gender,
            "so_dinh_danh": national_id,
        }
    })
}

impl TestApp {
    /// Signs in through VNeID as `login`, driving the provider's login form as
    /// a browser would; returns our callback's answer.
    pub async fn sign_in_with_vneid(&self, login: &str) -> reqwest::Response {
        let mut res = self.get("/login/vneid?return_to=/api/v1/me").await;
        let mut base = self.address.clone();
        for _ in 0..10 {
            if res.status() == 303 {
                let location = res.headers()["location"]
                    .to_str()
                    .expect("ascii")
                    .to_owned();
                let next = if location.starts_with('/') {
                    format!("{base}{location}")
                } else {
                    location
                };
                if next.starts_with(&self.url("/login/vneid/callback")) {
                    return self.client.get(next).send().await.expect("callback");
                }
                base = next.split('/').take(3).collect::<Vec<_>>().join("/");
                res = self.client.get(next).send().await.expect("follow");
                continue;
            }
            let page = res.text().await.expect("page");
            let start = page.find("action=\"").expect("a form") + "action=\"".len();
            let action = &page[start..start + page[start..].find('"').expect("end")];
            res = self
                .client
                .post(format!("{base}{action}"))
                .form(&[("login", login), ("password", "any")])
                .send()
                .await
                .expect("post login");
        }
        panic!("the VNeID flow did not come back");
    }
}

/// A civil servant created for a test, with what is needed to sign in.
pub struct TestStaff {
    pub username: String,
    pub password: String,
    pub secret: eservices::domain::TotpSecret,
    pub recovery_codes: Vec<String>,
}

impl TestApp {
    /// Creates a civil servant of `agency` with `roles`.
    pub async fn staff(&self, username: &str, agency: &str, roles: &[&str]) -> TestStaff {
        let password = "Cán bộ một cửa 2026!".to_owned();
        let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
        let new = eservices::identity::staff::NewStaff::parse(
            username,
            "Phạm Thị Tiếp Nhận",
            agency,
            &roles,
            password.clone().into(),
        )
        .expect("valid staff");
        let (_, enrolment) = eservices::identity::staff::create(&self.state, new)
            .await
            .expect("created");
        TestStaff {
            username: username.to_owned(),
            password,
            secret: eservices::domain::TotpSecret::from_base32(&enrolment.secret_base32)
                .expect("secret"),
            recovery_codes: enrolment.recovery_codes,
        }
    }

    /// The TOTP code of `secret` now (by the app's clock).
    pub fn totp_now(&self, secret: &eservices::domain::TotpSecret) -> String {
        let at = u64::try_from(self.now().timestamp()).expect("after 1970");
        eservices::domain::totp::code_at(secret, at)
    }

    /// Signs a civil servant in at /backoffice/login with `second_factor`.
    pub async fn staff_sign_in(
        &self,
        client: &reqwest::Client,
        username: &str,
        password: &str,
        second_factor: &str,
    ) -> reqwest::Response {
        let page = client
            .get(self.url("/backoffice/login"))
            .send()
            .await
            .expect("get")
            .text()
            .await
            .expect("page");
        let csrf = input_value(&page, "csrf_token").expect("csrf");
        client
            .post(self.url("/backoffice/login"))
            .form(&[
                ("username", username),
                ("password", password),
                ("totp", second_factor),
                ("csrf_token", csrf.as_str()),
            ])
            .send()
            .await
            .expect("post")
    }
}

impl TestApp {
    /// A civil servant's browser, signed in to the back office with a fresh TOTP code.
    pub async fn backoffice(&self, staff: &TestStaff) -> reqwest::Client {
        let browser = Self::fresh_client();
        let res = self
            .staff_sign_in(
                &browser,
                &staff.username,
                &staff.password,
                &self.totp_now(&staff.secret),
            )
            .await;
        assert_eq!(
            res.status(),
            303,
            "{}",
            res.text().await.unwrap_or_default()
        );
        browser
    }

    /// A page as `browser` gets it: status and body.
    pub async fn page(&self, browser: &reqwest::Client, path: &str) -> (u16, String) {
        let res = browser.get(self.url(path)).send().await.expect("get");
        (res.status().as_u16(), res.text().await.expect("page"))
    }
}

impl TestApp {
    /// The SMS the app sent (its file transport), as `(to, text)`, oldest first.
    pub fn sms_messages(&self) -> Vec<(String, String)> {
        let Ok(entries) = std::fs::read_dir(&self.sms_dir) else {
            return Vec::new();
        };
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        // File names are UUID v7s: time-ordered.
        files.sort();
        files
            .into_iter()
            .filter_map(|p| std::fs::read(p).ok())
            .filter_map(|raw| serde_json::from_slice::<serde_json::Value>(&raw).ok())
            .map(|v| {
                (
                    v["to"].as_str().unwrap_or_default().to_owned(),
                    v["text"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }
}
