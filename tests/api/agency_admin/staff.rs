//! An agency admin changes a civil servant's roles, disables and enables
//! them, resets their second factor, each only when confirmed; never their
//! own access; never another agency's staff; and the trail records each
//! change made (and none refused).

use chrono::Duration;

use super::{WARD, kinds_in_trail, post, staff_id};
use crate::helpers::{TestApp, TestStaff};

#[tokio::test]
async fn an_agency_admin_changes_roles_disables_and_resets_staff_but_never_their_own_access() {
    let app = TestApp::spawn().await;
    let admin = app.staff("qt.ward", WARD, &["agency_admin"]).await;
    let clerk = app.staff("tn.ward", WARD, &["receiver"]).await;
    let elsewhere = app.staff("tn.khac", "000.00.12.H29", &["receiver"]).await;
    let browser = app.backoffice(&admin).await;
    let clerk_browser = app.backoffice(&clerk).await;
    let clerk_id = staff_id(&app, "tn.ward").await;
    let admin_id = staff_id(&app, "qt.ward").await;
    let member = format!("/backoffice/staff/{clerk_id}");
    let page = MemberPage {
        app: &app,
        browser: &browser,
        member: &member,
    };

    let (code, html) = app.page(&browser, "/backoffice/staff").await;
    assert_eq!(code, 200);
    assert!(
        html.contains(&member),
        "each civil servant links to their page"
    );
    page.roles_change_only_when_confirmed(&clerk_browser).await;
    page.disabled_staff_cannot_sign_in(&clerk).await;
    page.a_reset_second_factor_is_enrolled_again(&clerk).await;
    page.never_the_admins_own_access(&admin_id).await;
    page.out_of_reach_of_other_agencies_and_non_admins(&elsewhere)
        .await;

    let trail = kinds_in_trail(&app, WARD).await;
    for kind in [
        "signed_in",
        "staff.roles_changed",
        "staff.disabled",
        "sign_in_failed",
        "staff.enabled",
        "staff.second_factor_reset",
    ] {
        assert!(trail.iter().any(|k| k == kind), "{kind} in {trail:?}");
    }
    assert_eq!(
        trail.iter().filter(|k| k.starts_with("staff.")).count(),
        4,
        "refused changes leave no change event: {trail:?}"
    );
}

/// The admin's browser on the page of the clerk (`member`).
struct MemberPage<'a> {
    app: &'a TestApp,
    browser: &'a reqwest::Client,
    member: &'a str,
}

impl MemberPage<'_> {
    /// Posts `fields` from the clerk's page to it.
    async fn change(&self, fields: &[(&str, &str)]) -> (u16, String, Option<String>) {
        post(self.browser, self.app, self.member, self.member, fields).await
    }

    /// Without the confirmation box nothing changes; with it the roles
    /// change and the clerk's session (carrying the old roles) is over.
    async fn roles_change_only_when_confirmed(&self, clerk_browser: &reqwest::Client) {
        let (app, member) = (self.app, self.member);
        let (code, html, _) = self
            .change(&[("change", "roles"), ("role", "processor")])
            .await;
        assert_eq!(code, 422);
        assert!(html.contains("Vui lòng đánh dấu xác nhận"));
        assert_eq!(
            app.count("SELECT count(*) AS n FROM staff WHERE username = 'tn.ward' AND roles = ARRAY['receiver']").await,
            1
        );

        let (code, _, location) = self
            .change(&[
                ("change", "roles"),
                ("role", "receiver"),
                ("role", "processor"),
                ("confirm", "yes"),
            ])
            .await;
        assert_eq!(code, 303);
        assert_eq!(
            location.as_deref(),
            Some(format!("{member}?saved=roles").as_str())
        );
        assert_eq!(
            app.count("SELECT count(*) AS n FROM staff WHERE username = 'tn.ward' AND roles = ARRAY['receiver','processor']").await,
            1
        );
        // The clerk's session carried the old roles: it is over.
        let res = clerk_browser
            .get(app.url("/backoffice/queue"))
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/backoffice/login");
    }

    /// Disabled: the right password and code no longer sign in; enabled
    /// again; an unknown change changes nothing.
    async fn disabled_staff_cannot_sign_in(&self, clerk: &TestStaff) {
        let app = self.app;
        let (code, _, _) = self
            .change(&[("change", "disable"), ("confirm", "yes")])
            .await;
        assert_eq!(code, 303);
        app.clock.advance(Duration::seconds(30));
        let res = app
            .staff_sign_in(
                &TestApp::fresh_client(),
                &clerk.username,
                &clerk.password,
                &app.totp_now(&clerk.secret),
            )
            .await;
        assert_eq!(res.status(), 401);
        let (code, _, _) = self
            .change(&[("change", "enable"), ("confirm", "yes")])
            .await;
        assert_eq!(code, 303);

        // An unknown change changes nothing.
        let (code, _, _) = self
            .change(&[("change", "promote"), ("confirm", "yes")])
            .await;
        assert_eq!(code, 400);
    }

    /// A reset second factor: the recovery codes are gone and the next
    /// sign-in enrols again.
    async fn a_reset_second_factor_is_enrolled_again(&self, clerk: &TestStaff) {
        let app = self.app;
        let (code, _, _) = self
            .change(&[("change", "reset_second_factor"), ("confirm", "yes")])
            .await;
        assert_eq!(code, 303);
        assert_eq!(
            app.count("SELECT count(*) AS n FROM staff_recovery_codes r JOIN staff s ON s.id = r.staff_id WHERE s.username = 'tn.ward'").await,
            0
        );
        app.clock.advance(Duration::seconds(30));
        let res = app
            .staff_sign_in(
                &TestApp::fresh_client(),
                &clerk.username,
                &clerk.password,
                "",
            )
            .await;
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/backoffice/enrol");
    }

    /// The admin's own account: no lock-out, whatever the form says.
    async fn never_the_admins_own_access(&self, admin_id: &str) {
        let (app, browser) = (self.app, self.browser);
        let own = format!("/backoffice/staff/{admin_id}");
        let (code, html) = app.page(browser, &own).await;
        assert_eq!(code, 200);
        assert!(
            !html.contains("Khóa tài khoản</button>"),
            "no disable button on one's own page"
        );
        for fields in [
            vec![
                ("change", "roles"),
                ("role", "receiver"),
                ("confirm", "yes"),
            ],
            vec![("change", "disable"), ("confirm", "yes")],
            vec![("change", "reset_second_factor"), ("confirm", "yes")],
        ] {
            let (code, html, _) = post(browser, app, &own, &own, &fields).await;
            assert_eq!(code, 409, "{fields:?}");
            assert!(html.contains("Bạn không thể tự khóa"), "{html}");
        }
        assert_eq!(
            app.count("SELECT count(*) AS n FROM staff WHERE username = 'qt.ward' AND status = 'active' AND roles = ARRAY['agency_admin'] AND totp_secret IS NOT NULL").await,
            1
        );
    }

    /// Another agency's civil servant is not found; a non-admin is refused.
    async fn out_of_reach_of_other_agencies_and_non_admins(&self, elsewhere: &TestStaff) {
        let (app, browser, member) = (self.app, self.browser, self.member);
        let theirs = format!(
            "/backoffice/staff/{}",
            staff_id(app, &elsewhere.username).await
        );
        let (code, _) = app.page(browser, &theirs).await;
        assert_eq!(code, 404);
        let (code, _, _) = post(
            browser,
            app,
            member,
            &theirs,
            &[("change", "disable"), ("confirm", "yes")],
        )
        .await;
        assert_eq!(code, 404);
        assert_eq!(
            app.count(
                "SELECT count(*) AS n FROM staff WHERE username = 'tn.khac' AND status = 'active'"
            )
            .await,
            1
        );
        let processor = app.staff("xl.ward", WARD, &["processor"]).await;
        let other = app.backoffice(&processor).await;
        let (code, _) = app.page(&other, member).await;
        assert_eq!(code, 403);
    }
}
