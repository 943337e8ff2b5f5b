//! The portal answering 503, hanging or answering garbage: our actions go
//! on, the run is retried with backoff and delivers later, in order, each
//! row once. Two runs at once send each row once; a dossier whose run was
//! lost is picked up by the scheduled sweep.

use super::{
    SERVICE, act, app_with_portal, calls_about, cursor, filed, progress_seqs, sync_jobs, ward,
};

#[tokio::test]
async fn a_portal_down_is_retried_with_backoff_and_caught_up_in_order_once() {
    let (app, portal) = app_with_portal().await;
    let staff = ward(&app, "dn").await;
    for (seq, mode, why) in [
        (311, "503", "503"),
        (312, "hang", "timed out"),
        (313, "garbage", "without an acknowledgement"),
    ] {
        portal.down(mode).await;
        let (id, receipt, _) = filed(&app, seq, SERVICE).await;
        app.run_jobs().await;
        let queued = |attempts: i32| vec![("queued".to_owned(), attempts)];
        assert_eq!(
            sync_jobs(&app, &id).await,
            queued(1),
            "{mode}: the first attempt"
        );
        // Our own work goes on while the portal is down.
        act(&app, &staff.receiver, &id, "accept", None).await;
        app.run_jobs().await;
        assert_eq!(
            sync_jobs(&app, &id).await,
            queued(1),
            "{mode}: the retry waits for its backoff (the accept queued nothing more)"
        );
        app.clock.advance(chrono::Duration::seconds(40));
        app.run_jobs().await;
        assert_eq!(
            sync_jobs(&app, &id).await,
            queued(2),
            "{mode}: the second attempt"
        );
        assert!(calls_about(&portal, &receipt).await.is_empty(), "{mode}");
        let (acked, failed, _, retries) = cursor(&app, &id).await;
        assert_eq!((acked, failed, retries), (0, false, 2), "{mode}");

        portal.down("no").await;
        app.clock.advance(chrono::Duration::seconds(40));
        app.run_jobs().await;
        assert_eq!(
            sync_jobs(&app, &id).await,
            queued(2),
            "{mode}: the backoff doubled"
        );
        app.clock.advance(chrono::Duration::seconds(40));
        app.run_jobs().await;

        // Delivered: the record as it stands, then both rows in order, once.
        let calls = calls_about(&portal, &receipt).await;
        let kinds: Vec<&str> = calls
            .iter()
            .map(|c| c["call"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(kinds, ["dossier", "progress", "progress"], "{mode}");
        assert_eq!(calls[0]["body"]["TrangThaiHoSo"], 2, "{mode}");
        let statuses: Vec<i64> = calls[1..]
            .iter()
            .map(|c| c["body"]["TrangThai"].as_i64().expect("status"))
            .collect();
        assert_eq!(statuses, [1, 2], "{mode}");
        let seqs = progress_seqs(&calls);
        assert!(seqs[0] < seqs[1], "{mode}: {seqs:?}");
        assert_eq!(
            sync_jobs(&app, &id).await,
            [("done".to_owned(), 3)],
            "{mode}"
        );
        let (_, failed, _, retries) = cursor(&app, &id).await;
        assert!(!failed && retries == 0, "{mode}");
        // Each failed attempt says why.
        let failures = app
            .count(&format!(
                "SELECT count(*) AS n FROM job_attempts a JOIN jobs j ON j.id = a.job_id \
                 WHERE j.payload->>'dossier_id' = '{id}' AND a.outcome = 'failed' \
                 AND a.detail LIKE '%{why}%'"
            ))
            .await;
        assert_eq!(failures, 2, "{mode}");
    }
}

#[tokio::test]
async fn two_runs_at_once_send_each_row_once() {
    let (app, portal) = app_with_portal().await;
    let staff = ward(&app, "ht").await;
    let (id, receipt, _) = filed(&app, 321, SERVICE).await;
    act(&app, &staff.receiver, &id, "accept", None).await;
    let dossier: uuid::Uuid = id.parse().expect("uuid");
    let run = || eservices::integrations::national_portal::sync::run(&app.state, dossier);
    let (a, b) = tokio::join!(run(), run());
    assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
    let calls = calls_about(&portal, &receipt).await;
    let kinds: Vec<&str> = calls
        .iter()
        .map(|c| c["call"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds, ["dossier", "progress", "progress"], "{calls:#?}");
}

#[tokio::test]
async fn a_dossier_whose_run_was_lost_is_picked_up_by_the_sweep() {
    let (app, portal) = app_with_portal().await;
    let (id, receipt, _) = filed(&app, 331, SERVICE).await;
    // The run is lost (as when a row commits while its run is finishing).
    app.count(
        "WITH lost AS (UPDATE jobs SET state = 'done', finished_at = now() \
         WHERE kind = 'sync_national_portal' RETURNING 1) SELECT count(*) AS n FROM lost",
    )
    .await;
    let worker = app.state.worker();
    worker.schedule_maintenance().await.expect("scheduled");
    app.run_jobs().await;
    assert!(
        calls_about(&portal, &receipt).await.is_empty(),
        "too recent to be left behind"
    );

    app.clock.advance(chrono::Duration::minutes(6));
    worker.schedule_maintenance().await.expect("scheduled");
    app.run_jobs().await;
    let calls = calls_about(&portal, &receipt).await;
    let kinds: Vec<&str> = calls
        .iter()
        .map(|c| c["call"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds, ["dossier", "progress"]);
    assert_eq!(
        sync_jobs(&app, &id)
            .await
            .last()
            .map(|(state, _)| state.as_str()),
        Some("done")
    );
    // Up to date: the next sweep queues nothing for it.
    app.clock.advance(chrono::Duration::minutes(11));
    worker.schedule_maintenance().await.expect("scheduled");
    app.run_jobs().await;
    assert_eq!(sync_jobs(&app, &id).await.len(), 2);
}
