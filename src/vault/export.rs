//! Everything the vault holds about a person, as one archive: `vault.json`
//! (records, documents, the access log) and every document's file under
//! `documents/`. The right of access and portability (Decree 13/2023).

use std::io::Write;

use serde_json::json;

use super::{access, documents, records};
use crate::infra::Core;
use crate::{
    domain::{AccountId, vault::Owner},
    error::{AppError, AppResult},
    storage::{accounts, vault as store},
};

/// Longest access log exported (the newest rows).
const ACCESS_ROWS: i64 = 100;

/// The archive (a ZIP file) of `account`'s vault.
pub async fn archive(state: &Core, account: AccountId) -> AppResult<Vec<u8>> {
    let owner = Owner::Account(account);
    let now = state.clock.now();
    let records = records::list(state, owner).await?;
    let mut access_log = Vec::new();
    let mut before = None;
    loop {
        let page = access::list(state, owner, before, ACCESS_ROWS).await?;
        before = page.last().map(|a| a.id);
        let last = page.len() < usize::try_from(ACCESS_ROWS).unwrap_or(usize::MAX);
        access_log.extend(page);
        if last {
            break;
        }
    }
    let mut conn = state.db.get().await?;
    let person = accounts::find(&mut conn, account.as_uuid()).await?;
    let rows = store::owner_documents(&mut conn, owner).await?;
    drop(conn);
    let mut files = Vec::with_capacity(rows.len());
    for row in &rows {
        let path = format!(
            "documents/{}-{}",
            row.id,
            row.file_name.replace(['/', '\\'], "_")
        );
        files.push((path, documents::bytes(state, row).await?));
    }
    let index = json!({
        "format": "hcm-eservices-vault-export/1",
        "exported_at": now,
        "subject": { "national_id": person.national_id, "full_name": person.full_name },
        "records": records,
        "documents": rows.iter().zip(&files).map(|(r, (path, _))| {
            let mut v = serde_json::to_value(documents::DocumentView::of(state, r)).unwrap_or_default();
            v["file"] = json!(path);
            v
        }).collect::<Vec<_>>(),
        "access_log": access_log,
    });
    tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<u8>> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("vault.json", options)?;
        zip.write_all(&serde_json::to_vec_pretty(&index)?)?;
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (path, bytes) in files {
            zip.start_file(path, stored)?;
            zip.write_all(&bytes)?;
        }
        Ok(zip.finish()?.into_inner())
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)
}
