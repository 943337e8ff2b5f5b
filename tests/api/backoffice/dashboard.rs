//! The dashboard: an agency's figures (on-time share, a chart, a CSV) to its
//! heads only, and the whole city to city admins, who drill into an agency.

use super::{WARD, desk, filed};
use crate::{dossiers::pdf, helpers::TestApp};

#[tokio::test]
async fn the_dashboard_shows_an_agencys_figures_to_its_heads_and_the_city_to_city_admins() {
    let app = TestApp::spawn().await;
    let (decided, _, _) = filed(&app, 72).await;
    filed(&app, 73).await;
    let receiver = crate::dossiers::staff_token(&app, "db.tn", WARD, "receiver").await;
    let approver = crate::dossiers::staff_token(&app, "db.pd", WARD, "approver").await;
    for (token, action) in [(&receiver, "accept")] {
        let res = crate::dossiers::staff_act(&app, token, &decided, action, None).await;
        assert_eq!(res.status(), 200);
    }
    let res = crate::dossiers::stage_result(&app, &approver, &decided, pdf("kq")).await;
    assert_eq!(res.status(), 201);
    let res = crate::dossiers::staff_act(&app, &approver, &decided, "approve", None).await;
    assert_eq!(res.status(), 200);
    eservices::dossiers::stats::refresh(&app.state)
        .await
        .expect("refresh");

    let head = desk(&app, "db.lanhdao", WARD, "approver").await;
    let (code, html) = app.page(&head, "/backoffice/dashboard").await;
    assert_eq!(code, 200);
    let totals = html
        .split("<tr id=\"totals\">")
        .nth(1)
        .and_then(|t| t.split("</tr>").next())
        .expect("totals row");
    assert_eq!(
        totals,
        "<td>2</td><td>1</td><td>100,0 %</td><td>0</td><td>100,0 % ✓</td>"
    );
    assert!(html.contains("<svg"), "a chart drawn on the server");
    let (code, csv) = app.page(&head, "/backoffice/dashboard.csv").await;
    assert_eq!(code, 200);
    let month = app
        .now()
        .with_timezone(&eservices::domain::calendar::city_tz())
        .format("%Y-%m")
        .to_string();
    assert_eq!(
        csv,
        format!(
            "agency_code,service_code,month,received,online,decided,on_time,overdue\n\
             {WARD},HGCS-001,{month},2,2,1,1,0\n"
        )
    );
    let (code, _) = app
        .page(&head, "/backoffice/dashboard?agency=000.00.12.H29")
        .await;
    assert_eq!(code, 403, "another agency's figures");
    let clerk = desk(&app, "db.tiepnhan", WARD, "receiver").await;
    let (code, _) = app.page(&clerk, "/backoffice/dashboard").await;
    assert_eq!(code, 403, "not a head of the agency");

    the_city_sees_every_agency_and_drills_into_one(&app).await;
}

/// A city admin sees the city's table with the ward, drills into the ward
/// (its name, its figures, a way back), and unknown agencies are 404.
async fn the_city_sees_every_agency_and_drills_into_one(app: &TestApp) {
    let city = desk(app, "db.thanhpho", "000.00.00.H29", "agency_admin").await;
    let (code, html) = app.page(&city, "/backoffice/dashboard").await;
    assert_eq!(code, 200);
    assert!(html.contains("toàn Thành phố"));
    assert!(
        html.contains(&format!("agency={WARD}")),
        "the ward in the city's table"
    );
    // The city admin drills into the ward: its name, its months, a way back.
    let (code, html) = app
        .page(&city, &format!("/backoffice/dashboard?agency={WARD}"))
        .await;
    assert_eq!(code, 200);
    assert!(html.contains("– Phường Bến Thành</h1>"), "{html}");
    assert!(html.contains("‹ Toàn Thành phố"));
    let totals = html
        .split("<tr id=\"totals\">")
        .nth(1)
        .and_then(|t| t.split("</tr>").next())
        .expect("totals row");
    assert!(totals.starts_with("<td>2</td><td>1</td>"), "{totals}");
    for path in [
        "/backoffice/dashboard?agency=000.99.99.H29",
        "/backoffice/dashboard.csv?agency=000.99.99.H29",
    ] {
        let (code, html) = app.page(&city, path).await;
        assert_eq!(code, 404, "{path}");
        assert!(html.contains("Không có đơn vị với mã này."));
    }
}
