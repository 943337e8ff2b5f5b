//! `eservices seed`: loads reference data into a migrated database; `--demo`
//! adds demonstration accounts. Every loader is idempotent: what exists is
//! left alone, so seeding twice changes nothing.

use std::path::Path;

use anyhow::Context;
use chrono::NaiveDate;
use diesel_async::AsyncConnection;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::identity::Identity;
use crate::infra::Core;
use crate::oidc::Provider;
use crate::{
    domain::{TotpSecret, assurance::Method, business::RegistrationStatus},
    error::AppError,
    identity::staff::{self as staff_service, NewStaff},
    storage::{accounts, businesses, staff},
};

mod clients;

use clients::seed_demo_clients;

/// What a seed run did, for the operator.
#[derive(Debug, Default)]
pub struct SeedReport {
    /// One line per loader or account.
    pub lines: Vec<String>,
}

/// The password of every demo account (printed by `./scripts/up`).
pub const DEMO_PASSWORD: &str = "DichVuCong@2026";

struct DemoCitizen {
    national_id: &'static str,
    full_name: &'static str,
    date_of_birth: (i32, u32, u32),
    sex: &'static str,
    email: &'static str,
    phone: &'static str,
    level: i16,
}

const DEMO_CITIZENS: [DemoCitizen; 3] = [
    DemoCitizen {
        national_id: "079090000001",
        full_name: "Nguyễn Văn An",
        date_of_birth: (1990, 5, 17),
        sex: "male",
        email: "an.nguyen@demo.dichvucong.test",
        phone: "+84912345678",
        level: 2,
    },
    DemoCitizen {
        national_id: "079191000002",
        full_name: "Trần Thị Bình",
        date_of_birth: (1991, 8, 2),
        sex: "female",
        email: "binh.tran@demo.dichvucong.test",
        phone: "+84987654321",
        level: 1,
    },
    DemoCitizen {
        national_id: "079085000003",
        full_name: "Lê Hoàng Cường",
        date_of_birth: (1985, 1, 30),
        sex: "male",
        email: "cuong.le@demo.dichvucong.test",
        phone: "+84903123456",
        level: 2,
    },
];

/// The demo business: represented by the first citizen, with the third authorised.
const DEMO_TAX_CODE: &str = "0318001238";

/// Demo agencies (unit codes as used by the one-stop systems) and their staff.
const DEMO_AGENCIES: [(&str, &str, &str); 4] = [
    ("000.21.11.H29", "phuong-bentanh", "UBND phường Bến Thành"),
    ("000.00.11.H29", "quan1", "Cơ quan cấp huyện (mẫu)"),
    ("000.00.12.H29", "sotuphap", "Sở Tư pháp"),
    // Its agency admin sees the whole city's dashboard.
    ("000.00.00.H29", "thanhpho", "UBND Thành phố"),
];

/// A deterministic TOTP secret for a demo civil servant, so the printed
/// secret stays valid across `./scripts/up` runs. Never used for real accounts.
fn demo_totp_secret(username: &str) -> TotpSecret {
    let digest = Sha256::digest(format!("eservices demo totp {username}").as_bytes());
    let mut bytes = [0_u8; 20];
    bytes.copy_from_slice(&digest[..20]);
    TotpSecret::from_bytes(bytes)
}

/// Where the catalog files are, from the project root.
pub const CATALOG_DIR: &str = "data/catalog";

/// The usernames of the demo civil servants.
fn demo_usernames() -> Vec<String> {
    DEMO_AGENCIES
        .iter()
        .flat_map(|(_, slug, _)| {
            ["receiver", "processor", "approver", "agency_admin"]
                .map(|role| format!("{slug}.{}", role.replace('_', "")))
        })
        .collect()
}

/// Refuses to add demo data (known passwords, TOTP secrets and client
/// secrets) to a database that holds real accounts. There is no override:
/// demo data belongs in development and test databases only.
async fn refuse_real_data(state: &Core) -> anyhow::Result<()> {
    let ids: Vec<&str> = DEMO_CITIZENS.iter().map(|c| c.national_id).collect();
    let mut conn = state.db.get().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let (citizens, civil_servants) =
        crate::storage::demo::accounts_other_than(&mut conn, &ids, &demo_usernames()).await?;
    let real = citizens + civil_servants;
    if real > 0 {
        anyhow::bail!(
            "refusing to add demo data: this database holds {real} real account(s) \
             ({citizens} citizen(s), {civil_servants} civil servant(s)) besides the demo ones, \
             and demo accounts have published passwords. Use `eservices seed` (without --demo) \
             here; seed demo data only into a development or test database"
        );
    }
    Ok(())
}

/// Runs the loaders (the catalog from `catalog_dir`); `demo` adds the
/// demonstration data, only to a database without real accounts.
pub async fn run(
    state: &Identity,
    oidc: &Provider,
    catalog_dir: &Path,
    demo: bool,
) -> anyhow::Result<SeedReport> {
    if demo {
        refuse_real_data(state).await?;
    }
    let mut report = SeedReport::default();
    let depth = crate::admin::job_stats(state).await?;
    report.lines.push(format!(
        "database ready (outbox: {} pending jobs)",
        depth.iter().map(|(_, n)| n).sum::<i64>()
    ));
    // Creates what is missing; the line is the same either way, so a re-run prints the same.
    crate::oidc::keys::ensure(state)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    report
        .lines
        .push("OpenID signing keys: RS256 and ES256 ready".to_owned());
    let mut conn = state.db.get().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let loaded = crate::catalog::loader::load(&mut conn, catalog_dir, state.clock.now())
        .await
        .with_context(|| format!("loading the catalog from {}", catalog_dir.display()))?;
    drop(conn);
    report.lines.push(format!(
        "catalog: {} agencies, {} calendar days, {} services ({} sample)",
        loaded.agencies, loaded.calendar_days, loaded.services, loaded.sample_services
    ));
    if demo {
        seed_demo(state, &mut report).await?;
        seed_demo_clients(oidc, &mut report).await?;
        seed_demo_dossiers(state, &mut report).await?;
    }
    Ok(report)
}

async fn seed_demo(state: &Identity, report: &mut SeedReport) -> anyhow::Result<()> {
    let now = state.clock.now();
    let password_hash = state
        .hasher
        .hash(DEMO_PASSWORD.to_owned().into())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    report.lines.push(String::new());
    report.lines.push(format!(
        "Demo citizens (sign in at {}/login, password {DEMO_PASSWORD}):",
        state.settings.issuer()
    ));
    let mut ids = Vec::new();
    for c in &DEMO_CITIZENS {
        let mut conn = state.db.get().await?;
        let id = conn
            .transaction::<_, AppError, _>(async |conn| {
                if let Some(existing) = accounts::find_by_national_id(conn, c.national_id).await? {
                    return Ok(existing.id);
                }
                let (y, m, d) = c.date_of_birth;
                let row = accounts::AccountRow {
                    id: Uuid::now_v7(),
                    national_id: c.national_id.into(),
                    full_name: c.full_name.into(),
                    date_of_birth: NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default(),
                    sex: c.sex.into(),
                    email: Some(c.email.into()),
                    email_verified_at: Some(now),
                    phone: Some(c.phone.into()),
                    password_hash: Some(password_hash.clone()),
                    password_changed_at: Some(now),
                    assurance_level: c.level,
                    status: "active".into(),
                    created_at: now,
                    updated_at: now,
                    phone_verified_at: Some(now),
                };
                accounts::insert(conn, &row).await?;
                if c.level == 2 {
                    accounts::insert_verification(
                        conn,
                        &accounts::NewVerification {
                            id: Uuid::now_v7(),
                            account_id: row.id,
                            method: "counter",
                            verified_by: None,
                            agency_code: Some(DEMO_AGENCIES[0].0),
                            evidence: Some("dữ liệu mẫu"),
                            created_at: now,
                        },
                    )
                    .await?;
                }
                Ok(row.id)
            })
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        ids.push(id);
        report.lines.push(format!(
            "  {} / {}  {} (level {})",
            c.national_id, c.email, c.full_name, c.level
        ));
    }

    let mut conn = state.db.get().await?;
    let business_id = Uuid::now_v7();
    let created = businesses::insert(
        &mut conn,
        &businesses::BusinessRow {
            id: business_id,
            tax_code: DEMO_TAX_CODE.into(),
            name: "Công ty TNHH Dịch vụ Mẫu Sài Gòn".into(),
            address: "86 Lê Thánh Tôn, phường Sài Gòn, TP. Hồ Chí Minh".into(),
            representative_id: ids[0],
            created_at: now,
            status: RegistrationStatus::Confirmed.as_str().into(),
            desk_agency_code: None,
            decided_at: Some(now),
            decided_by: None,
            decided_agency_code: None,
            decision_evidence: Some("Dữ liệu mẫu (seed --demo)".into()),
        },
    )
    .await?;
    if created {
        businesses::grant(
            &mut conn,
            &businesses::AuthorizationRow {
                id: Uuid::now_v7(),
                business_id,
                account_id: ids[2],
                granted_by: ids[0],
                valid_until: None,
                revoked_at: None,
                created_at: now,
            },
        )
        .await?;
    }
    report.lines.push(format!(
        "Demo business: {DEMO_TAX_CODE} Công ty TNHH Dịch vụ Mẫu Sài Gòn (representative {}, authorised {})",
        DEMO_CITIZENS[0].national_id, DEMO_CITIZENS[2].national_id
    ));

    report.lines.push(String::new());
    report.lines.push(format!(
        "Demo civil servants (sign in at {}/backoffice/login, password {DEMO_PASSWORD}, TOTP secret below in any authenticator app):",
        state.settings.issuer()
    ));
    for (agency, slug, name) in DEMO_AGENCIES {
        for role in ["receiver", "processor", "approver", "agency_admin"] {
            let username = format!("{slug}.{}", role.replace('_', ""));
            let secret = demo_totp_secret(&username);
            if staff::find_by_username(&mut conn, &username)
                .await?
                .is_none()
            {
                let new = NewStaff::parse(
                    &username,
                    "Cán bộ mẫu",
                    agency,
                    &[role.to_owned()],
                    DEMO_PASSWORD.to_owned().into(),
                )
                .map_err(|e| anyhow::anyhow!("{e}"))?;
                staff_service::create_with_secret(state, new, secret.clone())
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            report.lines.push(format!(
                "  {username:<28} {role:<13} {agency} {name}  TOTP {}",
                secret.to_base32()
            ));
        }
    }
    Ok(())
}

/// A plausible value for a form field, from the applicant's account where the
/// field is bound to their identity.
fn demo_value(
    field: &crate::domain::form::FormField,
    account: &crate::storage::accounts::AccountRow,
) -> Option<serde_json::Value> {
    use crate::domain::form::FieldType;
    Some(match (field.kind, field.vault.as_deref()) {
        (_, Some("identity.full_name")) => account.full_name.clone().into(),
        (_, Some("identity.date_of_birth")) => account.date_of_birth.to_string().into(),
        (FieldType::NationalId, _) => account.national_id.clone().into(),
        (FieldType::Date, _) => "2026-01-15".into(),
        (FieldType::Number, _) => field.min.unwrap_or(1.0).max(1.0).into(),
        (FieldType::Select, _) => field.options.first()?.clone().into(),
        (FieldType::Address, _) => "12 Lê Lợi, Phường Bến Thành, Thành phố Hồ Chí Minh".into(),
        (FieldType::DocumentRef, _) => return None,
        (FieldType::Text, Some("contact.phone")) => "0901234567".into(),
        (FieldType::Text, Some("contact.email")) => account.email.clone()?.into(),
        (FieldType::Text, _) => "Dữ liệu mẫu"
            .chars()
            .take(field.max_length.unwrap_or(100))
            .collect::<String>()
            .into(),
    })
}

/// Dossiers of the first demo citizen at the demo ward, one in every status.
async fn seed_demo_dossiers(state: &Core, report: &mut SeedReport) -> anyhow::Result<()> {
    use crate::{
        domain::{AccountId, dossier::Action, staff::StaffRole},
        dossiers::{self, By, NewDraft},
        identity::staff::StaffSession,
        storage::{accounts, dossiers as dossier_store},
    };
    let describe = |e: crate::error::AppError| anyhow::anyhow!("{}: {}", e.code(), e.detail());
    let (agency, slug, _) = DEMO_AGENCIES[0];
    let mut conn = state.db.get().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let account = accounts::find_by_national_id(&mut conn, DEMO_CITIZENS[0].national_id)
        .await?
        .context("the demo citizen")?;
    let applicant = AccountId::from(account.id);
    let existing = dossier_store::of_applicant(&mut conn, account.id, None, None, 1).await?;
    let mut sessions = Vec::new();
    for role in [
        StaffRole::Receiver,
        StaffRole::Processor,
        StaffRole::Approver,
    ] {
        let username = format!("{slug}.{}", role.as_str().replace('_', ""));
        let row = staff::find_by_username(&mut conn, &username)
            .await?
            .with_context(|| format!("demo civil servant {username}"))?;
        sessions.push(StaffSession {
            staff_id: row.id,
            agency_code: agency.to_owned(),
            roles: vec![role],
            methods: vec![Method::Pwd, Method::Otp],
            created_at: state.clock.now(),
            last_seen_at: state.clock.now(),
            user_agent: None,
            ip: None,
        });
    }
    let service = crate::storage::catalog::service(&mut conn, "HT-006")
        .await?
        .context("service HT-006 in the catalog")?;
    drop(conn);
    report.lines.push(String::new());
    let line = format!(
        "Demo dossiers of {} at {agency}: one in every status (draft … returned, refused, withdrawn, stopped)",
        DEMO_CITIZENS[0].national_id
    );
    if !existing.is_empty() {
        report.lines.push(line);
        return Ok(());
    }
    let fields = crate::catalog::form_of(&service).map_err(describe)?;
    let values: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .filter(|f| f.required)
        .filter_map(|f| demo_value(f, &account).map(|v| (f.name.clone(), v)))
        .collect();
    let (receiver, processor, approver) = (&sessions[0], &sessions[1], &sessions[2]);
    let note = |s: &str| Some(s.to_owned());
    let plans: Vec<Vec<(Action, Option<String>)>> = vec![
        vec![],
        vec![(Action::Submit, None)],
        vec![(Action::Submit, None), (Action::Accept, None)],
        vec![
            (Action::Submit, None),
            (Action::Accept, None),
            (Action::StartProcessing, None),
        ],
        vec![
            (Action::Submit, None),
            (Action::Accept, None),
            (
                Action::RequestSupplement,
                note("Bổ sung bản sao giấy tờ chứng minh nơi cư trú."),
            ),
        ],
        vec![
            (Action::Submit, None),
            (Action::Accept, None),
            (Action::RequestFee, note("Lệ phí 8.000 đồng.")),
        ],
        vec![
            (Action::Submit, None),
            (Action::Accept, None),
            (Action::Approve, None),
        ],
        vec![
            (Action::Submit, None),
            (Action::Accept, None),
            (Action::Approve, None),
            (Action::ReturnResult, None),
        ],
        vec![
            (Action::Submit, None),
            (
                Action::Refuse,
                note("Hồ sơ thuộc thẩm quyền nơi đăng ký khai sinh trước đây."),
            ),
        ],
        vec![
            (Action::Submit, None),
            (Action::Withdraw, note("Nộp nhầm thủ tục.")),
        ],
        vec![
            (Action::Submit, None),
            (Action::Accept, None),
            (Action::Stop, note("Người yêu cầu đề nghị dừng xử lý.")),
        ],
    ];
    for plan in plans {
        let (_, body) = dossiers::create_draft(
            state,
            applicant,
            NewDraft {
                service_code: service.code.clone(),
                agency_code: agency.to_owned(),
                on_behalf_of: None,
                form_values: values.clone(),
            },
            None,
        )
        .await
        .map_err(describe)?;
        let id: uuid::Uuid = serde_json::from_value(body["id"].clone())?;
        for (action, note) in plan {
            if action == Action::Approve {
                let receipt = body["receipt_code"].as_str().unwrap_or_default().to_owned();
                dossiers::results::stage(
                    state,
                    approver,
                    id,
                    crate::dossiers::files::Upload {
                        name: "ket-qua.pdf".into(),
                        declared_type: Some("application/pdf".into()),
                        document_type: None,
                        bytes: demo_pdf(&format!("Ket qua giai quyet ho so {id} {receipt}")).into(),
                    },
                )
                .await
                .map_err(describe)?;
            }
            let by = match action.actor() {
                crate::domain::dossier::Actor::Applicant => By::Applicant(applicant),
                crate::domain::dossier::Actor::Staff(StaffRole::Receiver) => By::Staff(receiver),
                crate::domain::dossier::Actor::Staff(StaffRole::Processor) => By::Staff(processor),
                crate::domain::dossier::Actor::Staff(_) => By::Staff(approver),
            };
            dossiers::act(state, by, id, action, None, note, None)
                .await
                .map_err(describe)?;
        }
    }
    // The dashboard shows the demo figures at once.
    crate::dossiers::stats::refresh(state)
        .await
        .map_err(describe)?;
    report.lines.push(line);
    Ok(())
}

/// A one-page PDF saying `text` (ASCII), standing in for a signed result paper.
pub fn demo_pdf(text: &str) -> Vec<u8> {
    let text: String = text
        .chars()
        .filter(|c| c.is_ascii() && !matches!(c, '(' | ')' | '\\'))
        .collect();
    let stream = format!("BT /F1 14 Tf 72 760 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}
