//! The harness itself: a test's database goes away with its app, even while
//! something else is still connected to it.

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::helpers::TestApp;

/// How many databases named `name` the cluster has.
async fn databases_named(admin: &mut AsyncPgConnection, name: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let row: N = diesel::sql_query(format!(
        "SELECT count(*) AS n FROM pg_database WHERE datname = '{name}'"
    ))
    .get_result(admin)
    .await
    .expect("query pg_database");
    row.n
}

#[tokio::test]
async fn a_tests_database_is_dropped_with_its_app_even_while_others_are_connected() {
    let app = TestApp::spawn().await;
    let name = app.db_name.clone();
    let mut admin = app.admin_db().await;
    // Used and still connected: the app's pool and a connection of our own.
    assert_eq!(app.get("/readyz").await.status(), 200);
    let mut other = AsyncPgConnection::establish(&app.database_url())
        .await
        .expect("a second connection");
    diesel::sql_query("SELECT 1")
        .execute(&mut other)
        .await
        .expect("the database answers");
    assert_eq!(databases_named(&mut admin, &name).await, 1);

    drop(app);

    assert_eq!(
        databases_named(&mut admin, &name).await,
        0,
        "the database is gone once its app is"
    );
    assert!(
        diesel::sql_query("SELECT 1")
            .execute(&mut other)
            .await
            .is_err(),
        "connections to it were ended"
    );
}
