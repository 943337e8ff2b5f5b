//! The service catalog: loaded from data/catalog (every test database starts
//! with it), searched with or without diacritics, agencies as a tree, and
//! deadlines counted in an agency's working time.

use chrono::{NaiveDate, NaiveTime, TimeZone};
use serde_json::Value;

use crate::helpers::TestApp;

async fn search(app: &TestApp, query: &str) -> (u16, Value) {
    let res = app.get(&format!("/api/v1/services?{query}")).await;
    let status = res.status().as_u16();
    (status, res.json().await.expect("json"))
}

fn names(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|s| s["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn services_are_found_with_or_without_diacritics_and_filtered() {
    let app = TestApp::spawn().await;
    for q in [
        "dang%20ky%20khai%20sinh",
        "%C4%91%C4%83ng%20k%C3%BD%20khai%20sinh",
        "DANG%20KY%20KHAI%20SINH",
    ] {
        let (status, body) = search(&app, &format!("q={q}")).await;
        assert_eq!(status, 200);
        assert_eq!(
            names(&body).first().map(String::as_str),
            Some("Đăng ký khai sinh"),
            "{q}: {body}"
        );
        assert!(names(&body).iter().all(|n| {
            let folded = eservices::domain::search::fold(n);
            folded.contains("dang") && folded.contains("khai") && folded.contains("sinh")
        }));
    }
    let (_, body) = search(&app, "q=ly%20lich%20tu%20phap").await;
    assert!(
        names(&body)
            .iter()
            .any(|n| n.contains("Phiếu lý lịch tư pháp")),
        "{body}"
    );
    // Filters: a ward's services only, fully online only, one field only.
    let (_, body) = search(&app, "q=khai%20sinh&agency=000.21.11.H29&level=full").await;
    assert!(!names(&body).is_empty());
    assert!(
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|s| s["service_level"] == "full")
    );
    let (_, body) = search(&app, "field=H%E1%BB%99%20t%E1%BB%8Bch&limit=100").await;
    let items = body["items"].as_array().expect("items");
    assert!(items.len() > 10 && items.iter().all(|s| s["field"] == "Hộ tịch"));
    let (_, body) = search(&app, "q=khai%20sinh&agency=000.00.12.H29").await;
    assert!(
        !names(&body).contains(&"Đăng ký khai sinh".to_owned()),
        "the Department of Justice does not register births: {body}"
    );
    let (_, none) = search(&app, "q=zzzz%20khong%20co").await;
    assert_eq!(none["items"], serde_json::json!([]));

    // Bad input: a clear problem, never a 500.
    for (query, code) in [
        ("level=fast", "invalid_service_level"),
        ("limit=0", "invalid_page"),
        ("limit=101", "invalid_page"),
        ("offset=-1", "invalid_page"),
        (&format!("q={}", "a".repeat(201)), "query_too_long"),
    ] {
        let (status, body) = search(&app, query).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(body["code"], code, "{query}");
    }
    let res = app.get("/api/v1/services?limit=abc").await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn agencies_form_a_tree_and_a_service_names_its_agencies_and_form() {
    let app = TestApp::spawn().await;
    let body: Value = app
        .get("/api/v1/agencies")
        .await
        .json()
        .await
        .expect("json");
    let items = body["items"].as_array().expect("items");
    assert!(items.len() >= 100, "{}", items.len());
    let find = |code: &str| items.iter().find(|a| a["code"] == code).cloned();
    let root = find("000.00.00.H29").expect("the city");
    assert!(root["parent"].is_null());
    let ward = find("000.21.11.H29").expect("Bến Thành");
    assert_eq!(ward["name"], "Phường Bến Thành");
    assert_eq!(ward["parent"], "000.00.00.H29");
    // Depth is not fixed: some agency sits three levels below the city.
    let parent_of = |code: &str| find(code).and_then(|a| a["parent"].as_str().map(str::to_owned));
    let deepest = items
        .iter()
        .map(|a| {
            let mut depth = 0;
            let mut code = a["code"].as_str().unwrap_or_default().to_owned();
            while let Some(p) = parent_of(&code) {
                depth += 1;
                code = p;
            }
            depth
        })
        .max()
        .unwrap_or_default();
    assert!(deepest >= 3, "deepest agency is {deepest} levels down");

    let res = app.get("/api/v1/services/HT-001").await;
    assert_eq!(res.status(), 200);
    let service: Value = res.json().await.expect("json");
    assert_eq!(service["name"], "Đăng ký khai sinh");
    let agencies = service["agencies"].as_array().expect("agencies");
    assert!(agencies.iter().any(|a| a == "000.21.11.H29"));
    let form = service["form"].as_array().expect("form");
    assert!(form.iter().any(|f| f["type"] == "national_id"));
    assert!(
        service["required_documents"]
            .as_array()
            .is_some_and(|d| !d.is_empty())
    );

    let res = app.get("/api/v1/services/KHONG-CO").await;
    assert_eq!(res.status(), 404);
    let problem: Value = res.json().await.expect("json");
    assert_eq!(problem["code"], "service_not_found");

    let doc: Value = app
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .expect("json");
    assert!(doc["paths"]["/api/v1/services"].is_object());
    assert!(doc["paths"]["/api/v1/services/{code}"].is_object());
    assert!(doc["paths"]["/api/v1/agencies"].is_object());
}

#[tokio::test]
async fn a_bad_catalog_file_changes_nothing() {
    let app = TestApp::spawn().await;
    let before = app.count("SELECT count(*) AS n FROM services").await;
    assert!(before >= 740, "{before}");
    let dir = tempfile::tempdir().expect("dir");
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/catalog");
    for file in ["agencies.json", "holidays.json"] {
        std::fs::copy(source.join(file), dir.path().join(file)).expect("copy");
    }
    let mut services: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(source.join("services.json")).expect("read"))
            .expect("json");
    services[0]["name"] = "Đã đổi".into();
    services[5]["handling_agencies"] = serde_json::json!(["000.99.99.H29"]);
    std::fs::write(
        dir.path().join("services.json"),
        serde_json::to_string(&services).expect("json"),
    )
    .expect("write");
    let mut conn = app.db().await;
    let err = eservices::catalog::loader::load(&mut conn, dir.path(), app.now())
        .await
        .expect_err("an unknown agency is refused");
    assert!(err.to_string().contains("000.99.99.H29"), "{err}");
    drop(conn);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM services").await,
        before
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM services WHERE name = 'Đã đổi'")
            .await,
        0
    );
    // The real files load again, idempotently.
    let mut conn = app.db().await;
    let loaded = eservices::catalog::loader::load(&mut conn, &source, app.now())
        .await
        .expect("loads");
    assert_eq!(i64::try_from(loaded.services).expect("count"), before);
}

#[tokio::test]
async fn deadlines_follow_the_agencys_hours_and_the_citys_holidays() {
    let app = TestApp::spawn().await;
    let mut conn = app.db().await;
    let ward = eservices::storage::catalog::agency(&mut conn, "000.21.11.H29")
        .await
        .expect("query")
        .expect("Bến Thành");
    let calendar = eservices::catalog::calendar_for(&mut conn, &ward, 2026)
        .await
        .expect("calendar");
    drop(conn);
    let local = |y, m, d, h| {
        eservices::domain::calendar::city_tz()
            .from_local_datetime(
                &NaiveDate::from_ymd_opt(y, m, d)
                    .expect("date")
                    .and_time(NaiveTime::from_hms_opt(h, 0, 0).expect("time")),
            )
            .single()
            .expect("local time")
            .with_timezone(&chrono::Utc)
    };
    // Filed on Friday 13 February 2026 at 10:00, due in 2 working days: the
    // Tết holidays of the data file close the office until Monday 23rd.
    let due = calendar.due(local(2026, 2, 13, 10), 2);
    assert!(!calendar.is_working_day(NaiveDate::from_ymd_opt(2026, 2, 17).expect("date")));
    assert_eq!(due, local(2026, 2, 24, 10));
    // 2 September (National Day) is closed.
    assert!(!calendar.is_working_day(NaiveDate::from_ymd_opt(2026, 9, 2).expect("date")));
}

#[tokio::test]
async fn services_carry_their_national_procedure_code_when_it_is_known() {
    let app = TestApp::spawn().await;
    for (code, national) in [
        ("HT-001", Value::from("1.001193")),
        ("HT-002", Value::from("1.000894")),
        ("HT-003", Value::from("1.000656")),
        ("HGCS-001", Value::Null),
    ] {
        let service: Value = app
            .get(&format!("/api/v1/services/{code}"))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(service["national_code"], national, "{code}");
    }
    let doc: Value = app
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        doc["components"]["schemas"]["ServiceDetail"]
            .to_string()
            .contains("\"national_code\""),
        "national_code is documented"
    );

    // A code that is not digits and dots is refused, naming the service.
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/catalog");
    let dir = tempfile::tempdir().expect("dir");
    for file in ["agencies.json", "holidays.json"] {
        std::fs::copy(source.join(file), dir.path().join(file)).expect("copy");
    }
    let mut services: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(source.join("services.json")).expect("read"))
            .expect("json");
    let write = |services: &[Value]| {
        std::fs::write(
            dir.path().join("services.json"),
            serde_json::to_string(services).expect("json"),
        )
        .expect("write");
    };
    assert_eq!(services[0]["code"], "HT-001");
    services[0]["national_code"] = "1.001193.000.00.00.H29".into();
    write(&services);
    let mut conn = app.db().await;
    let err = eservices::catalog::loader::load(&mut conn, dir.path(), app.now())
        .await
        .expect_err("a bad code is refused");
    assert!(
        err.to_string().contains("HT-001") && err.to_string().contains("national_code"),
        "{err}"
    );
    // A code taken out of the file is taken out of the catalog; it comes
    // back with the file.
    services[0]
        .as_object_mut()
        .expect("object")
        .remove("national_code");
    write(&services);
    eservices::catalog::loader::load(&mut conn, dir.path(), app.now())
        .await
        .expect("loads");
    let coded =
        "SELECT count(*) AS n FROM services WHERE code = 'HT-001' AND national_code = '1.001193'";
    assert_eq!(app.count(coded).await, 0);
    eservices::catalog::loader::load(&mut conn, &source, app.now())
        .await
        .expect("loads");
    assert_eq!(app.count(coded).await, 1);
}
