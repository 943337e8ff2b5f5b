//! A database per test: cloned from a migrated template that carries the
//! catalog, and dropped again when the test's `TestApp` goes away.

use std::{
    hash::{Hash, Hasher},
    path::Path,
    sync::mpsc,
    time::Duration,
};

use diesel_async::{
    AsyncConnection, AsyncPgConnection, RunQueryDsl,
    async_connection_wrapper::AsyncConnectionWrapper,
};
use eservices::clock::{Clock, SystemClock};

/// The admin URL of the cluster the test services run.
pub(super) fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").expect(
        "TEST_DATABASE_URL is not set: run the tests through ./scripts/test \
         (it starts PostgreSQL, Redis and SMTP)",
    )
}

/// `admin` with its database replaced by `db`.
pub(super) fn database_url(admin: &str, db: &str) -> String {
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

/// Creates a fresh database for one test, cloned from a migrated template;
/// the guard drops it.
pub(super) async fn create_database(admin: &str) -> TestDatabase {
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
        build_template(&mut conn, admin, &template).await;
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
    TestDatabase {
        name,
        admin_url: admin.to_owned(),
    }
}

/// Migrates a new database, loads the catalog into it, then names it
/// `template` (under the advisory lock the caller holds).
async fn build_template(conn: &mut AsyncPgConnection, admin: &str, template: &str) {
    let building = format!("{template}_building");
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {building}"))
        .execute(conn)
        .await
        .expect("drop stale template");
    diesel::sql_query(format!("CREATE DATABASE {building}"))
        .execute(conn)
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
        .execute(conn)
        .await
        .expect("rename template");
}

/// A test's own database; dropping the guard drops the database.
///
/// Anything still connected (the app's pool, a second `AppState` a test
/// built on the same database, a CLI process) is disconnected by `FORCE`.
pub struct TestDatabase {
    /// The database's name (`t_…`).
    pub name: String,
    admin_url: String,
}

/// How long dropping a test database may hold up the end of a test.
const DROP_TIMEOUT: Duration = Duration::from_secs(15);

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, where blocking on another
        // future panics: the synchronous connection (which runs a runtime of
        // its own) lives on a thread of its own. Errors are ignored: a
        // database left behind dies with the throwaway cluster.
        let admin = self.admin_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let (done, finished) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name(format!("drop-{}", self.name))
            .spawn(move || {
                if let Ok(mut conn) =
                    <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(
                        &admin,
                    )
                {
                    let _ = diesel::RunQueryDsl::execute(diesel::sql_query(sql), &mut conn);
                }
                // The connection is closed before the test goes on.
                let _ = done.send(());
            });
        if spawned.is_ok() {
            let _ = finished.recv_timeout(DROP_TIMEOUT);
        }
    }
}
