//! Loads the catalog files (docs/CATALOG.md) into PostgreSQL: everything is
//! checked first (codes, the agency tree, opening hours, forms, which
//! agencies handle what), then written in one transaction, so a bad file
//! changes nothing. Loading again updates what changed; entries removed
//! from the files are kept (dossiers refer to them).

use std::{
    collections::{HashMap, HashSet},
    path::Path,
};

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Deserialize;

use crate::domain::payment::FeeStage;
use crate::{
    catalog::openings,
    domain::{calendar::Calendar, form, national_portal::NationalCode, search},
    storage::catalog::{self as store, AgencyRow, ServiceRow},
};

#[derive(Debug, Deserialize)]
struct AgencyEntry {
    code: String,
    name: String,
    parent: Option<String>,
    tier: String,
    working_hours: serde_json::Value,
    #[serde(default)]
    address: String,
    email: Option<String>,
    abbreviation: Option<String>,
    #[serde(default)]
    sample: bool,
}

#[derive(Debug, Deserialize)]
struct HolidayEntry {
    date: NaiveDate,
    name: String,
    kind: String,
}

#[derive(Debug, Deserialize)]
struct Fee {
    amount_vnd: Option<i64>,
    note: Option<String>,
    /// `filing` (default) or `on_request`.
    #[serde(default)]
    stage: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ServiceEntry {
    code: String,
    name: String,
    field: String,
    agency_levels: Vec<String>,
    handling_agencies: Vec<String>,
    service_level: String,
    processing_days: i32,
    fee: Option<Fee>,
    required_documents: serde_json::Value,
    result_type: serde_json::Value,
    form: Vec<form::FormField>,
    #[serde(default)]
    sample: bool,
    /// The national procedure code (mã TTHC), when known.
    #[serde(default)]
    national_code: Option<String>,
}

fn is_type_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// A result type: its codes, and what it establishes (vault keys bound to
/// fields that exist, or to constants).
fn check_result(raw: &serde_json::Value, fields: &[form::FormField]) -> Result<(), String> {
    if raw.is_null() {
        return Ok(());
    }
    let result: super::ResultType =
        serde_json::from_value(raw.clone()).map_err(|e| e.to_string())?;
    if !is_type_code(&result.type_code) {
        return Err(format!(
            "type_code {:?} must be A–Z, 0–9 and _",
            result.type_code
        ));
    }
    if let Some(bad) = result.satisfies.iter().find(|c| !is_type_code(c)) {
        return Err(format!("satisfies: {bad:?} must be A–Z, 0–9 and _"));
    }
    if result.valid_days == Some(0) {
        return Err("valid_days must be at least 1".into());
    }
    for (key, spec) in &result.establishes {
        crate::domain::vault::VaultKey::parse(key)
            .map_err(|_| format!("establishes: {key:?} is not a vault key (record.field)"))?;
        match (&spec.field, &spec.value) {
            (Some(f), None) if fields.iter().any(|x| &x.name == f) => {}
            (Some(f), None) => return Err(format!("establishes {key}: no form field {f}")),
            (None, Some(v)) if !v.trim().is_empty() => {}
            _ => {
                return Err(format!(
                    "establishes {key}: give exactly one of field, value"
                ));
            }
        }
    }
    Ok(())
}

/// What a load did.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Agencies written.
    pub agencies: usize,
    /// Calendar days written.
    pub calendar_days: usize,
    /// Services written.
    pub services: usize,
    /// Of which sample data.
    pub sample_services: usize,
}

fn read<T: for<'de> Deserialize<'de>>(dir: &Path, name: &str) -> anyhow::Result<T> {
    let path = dir.join(name);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a valid catalog file", path.display()))
}

fn code_ok(code: &str) -> bool {
    (2..=32).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase() || b == b'.')
        && code.as_bytes()[0].is_ascii_alphanumeric()
}

/// Agencies in an order where every parent comes before its children.
fn check_agencies(entries: Vec<AgencyEntry>) -> anyhow::Result<Vec<AgencyEntry>> {
    let mut codes = HashSet::new();
    for a in &entries {
        if !code_ok(&a.code) {
            bail!(
                "agencies.json: code {:?} must be 2–32 of A–Z, 0–9 and '.'",
                a.code
            );
        }
        if !codes.insert(a.code.clone()) {
            bail!("agencies.json: code {} appears twice", a.code);
        }
        if a.name.trim().is_empty() || a.tier.trim().is_empty() {
            bail!("agencies.json: {} needs a name and a tier", a.code);
        }
        let hours = openings(&a.working_hours)
            .map_err(|e| anyhow::anyhow!("agencies.json: {}: {e}", a.code))?;
        Calendar::new(hours, []).map_err(|e| anyhow::anyhow!("agencies.json: {}: {e}", a.code))?;
    }
    for a in &entries {
        if let Some(p) = &a.parent
            && !codes.contains(p)
        {
            bail!(
                "agencies.json: {} names parent {p}, which is not in the file",
                a.code
            );
        }
    }
    // Order parents first; whatever cannot be placed is in a cycle.
    let mut placed: HashSet<String> = HashSet::new();
    let mut ordered = Vec::with_capacity(entries.len());
    let mut rest = entries;
    while !rest.is_empty() {
        let (ready, waiting): (Vec<_>, Vec<_>) = rest
            .into_iter()
            .partition(|a| a.parent.as_ref().is_none_or(|p| placed.contains(p)));
        if ready.is_empty() {
            bail!(
                "agencies.json: the parents of {} form a cycle",
                waiting
                    .iter()
                    .map(|a| a.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        for a in &ready {
            placed.insert(a.code.clone());
        }
        ordered.extend(ready);
        rest = waiting;
    }
    Ok(ordered)
}

/// The agencies handling service `s` (tiers expanded, each known).
fn handled_by(
    s: &ServiceEntry,
    tiers: &HashMap<String, Vec<String>>,
    known: &HashSet<&str>,
) -> anyhow::Result<Vec<String>> {
    let mut handled_by = Vec::new();
    for h in &s.handling_agencies {
        if let Some(tier) = h.strip_prefix('*') {
            let all = tiers
                .get(tier)
                .with_context(|| format!("services.json: {}: no agency has tier {tier}", s.code))?;
            handled_by.extend(all.iter().cloned());
        } else if known.contains(h.as_str()) {
            handled_by.push(h.clone());
        } else {
            bail!(
                "services.json: {}: agency {h} is not in agencies.json",
                s.code
            );
        }
    }
    handled_by.sort();
    handled_by.dedup();
    if handled_by.is_empty() {
        bail!("services.json: {}: no agency handles it", s.code);
    }
    Ok(handled_by)
}

/// Checks one entry of services.json (code, level, national code, days,
/// form, result, fee) and makes its row.
fn service_row(s: ServiceEntry, now: DateTime<Utc>) -> anyhow::Result<ServiceRow> {
    let code_ok = (2..=32).contains(&s.code.len())
        && s.code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    if !code_ok {
        bail!(
            "services.json: code {:?} must be 2–32 of A–Z, 0–9, '.' and '-'",
            s.code
        );
    }
    if !matches!(s.service_level.as_str(), "full" | "partial") {
        bail!(
            "services.json: {}: service_level must be full or partial",
            s.code
        );
    }
    let national_code = s
        .national_code
        .as_deref()
        .map(|raw| {
            NationalCode::parse(raw).map_err(|_| {
                anyhow::anyhow!(
                    "services.json: {}: national_code {raw:?} must be digits and dots, e.g. 1.001193",
                    s.code
                )
            })
        })
        .transpose()?;
    if !(0..=365).contains(&s.processing_days) {
        bail!("services.json: {}: processing_days must be 0–365", s.code);
    }
    form::check_definition(&s.form)
        .map_err(|e| anyhow::anyhow!("services.json: {}: {e}", s.code))?;
    check_result(&s.result_type, &s.form)
        .map_err(|e| anyhow::anyhow!("services.json: {}: result_type: {e}", s.code))?;
    let (fee_vnd, fee_note, fee_stage) = match s.fee {
        Some(f) => (f.amount_vnd, f.note, f.stage),
        None => (None, None, None),
    };
    let Some(fee_stage) = FeeStage::parse(fee_stage.as_deref().unwrap_or("filing")) else {
        bail!(
            "services.json: {}: fee stage must be filing or on_request",
            s.code
        );
    };
    if fee_vnd.is_some_and(|f| f < 0) {
        bail!("services.json: {}: a fee cannot be negative", s.code);
    }
    Ok(ServiceRow {
        search_text: search::fold(&format!("{} {}", s.name, s.field)),
        code: s.code,
        name: s.name,
        field: s.field,
        agency_levels: s.agency_levels,
        service_level: s.service_level,
        processing_days: s.processing_days,
        fee_vnd,
        fee_note,
        required_documents: s.required_documents,
        result_type: s.result_type,
        form: serde_json::to_value(&s.form)?,
        sample: s.sample,
        updated_at: now,
        fee_stage,
        national_code: national_code.map(|c| c.as_str().to_owned()),
    })
}

/// Loads `dir`/agencies.json, holidays.json and services.json at `now`.
pub async fn load(
    conn: &mut AsyncPgConnection,
    dir: &Path,
    now: DateTime<Utc>,
) -> anyhow::Result<Loaded> {
    let agencies = check_agencies(read::<Vec<AgencyEntry>>(dir, "agencies.json")?)?;
    let tiers: HashMap<String, Vec<String>> = agencies.iter().fold(HashMap::new(), |mut m, a| {
        m.entry(a.tier.clone()).or_default().push(a.code.clone());
        m
    });
    let known: HashSet<&str> = agencies.iter().map(|a| a.code.as_str()).collect();

    let holidays: HashMap<String, Vec<HolidayEntry>> = read(dir, "holidays.json")?;
    let mut days = Vec::new();
    let (mut first, mut last) = (NaiveDate::MAX, NaiveDate::MIN);
    for (year, list) in &holidays {
        let year: i32 = year
            .parse()
            .with_context(|| format!("holidays.json: {year:?} is not a year"))?;
        first = first.min(NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(first));
        last = last.max(NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(last));
        for h in list {
            if chrono::Datelike::year(&h.date) != year {
                bail!("holidays.json: {} is listed under {year}", h.date);
            }
            let kind = match h.kind.as_str() {
                "holiday" | "compensatory" => "closed",
                "working_saturday" | "worked" => "worked",
                other => bail!(
                    "holidays.json: {}: kind {other:?} is not holiday, compensatory or working_saturday",
                    h.date
                ),
            };
            days.push((h.date, kind.to_owned(), h.name.clone()));
        }
    }

    let entries: Vec<ServiceEntry> = read(dir, "services.json")?;
    let mut seen = HashSet::new();
    let mut services = Vec::with_capacity(entries.len());
    for s in entries {
        if !seen.insert(s.code.clone()) {
            bail!("services.json: code {} appears twice", s.code);
        }
        let handled_by = handled_by(&s, &tiers, &known)?;
        services.push((service_row(s, now)?, handled_by));
    }

    let rows: Vec<AgencyRow> = agencies
        .into_iter()
        .map(|a| AgencyRow {
            code: a.code,
            name: a.name,
            parent_code: a.parent,
            tier: a.tier,
            abbreviation: a.abbreviation,
            address: a.address,
            email: a.email,
            working_hours: a.working_hours,
            sample: a.sample,
            updated_at: now,
        })
        .collect();
    let loaded = Loaded {
        agencies: rows.len(),
        calendar_days: days.len(),
        services: services.len(),
        sample_services: services.iter().filter(|(s, _)| s.sample).count(),
    };
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        store::upsert_agencies(c, &rows).await?;
        if first <= last {
            store::replace_calendar_days(c, first, last, &days).await?;
        }
        store::upsert_services(c, &services).await?;
        Ok(())
    })
    .await
    .context("writing the catalog")?;
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agency(code: &str, parent: Option<&str>) -> AgencyEntry {
        AgencyEntry {
            code: code.into(),
            name: "Cơ quan".into(),
            parent: parent.map(str::to_owned),
            tier: "ward".into(),
            working_hours: serde_json::json!([{ "weekday": 1, "open": "07:30", "close": "11:30" }]),
            address: String::new(),
            email: None,
            abbreviation: None,
            sample: false,
        }
    }

    #[test]
    fn the_agency_tree_is_ordered_parents_first_and_cycles_are_refused() {
        let ordered = check_agencies(vec![
            agency("C.1", Some("B.1")),
            agency("B.1", Some("A.1")),
            agency("A.1", None),
        ])
        .expect("a tree");
        let codes: Vec<&str> = ordered.iter().map(|a| a.code.as_str()).collect();
        assert_eq!(codes, ["A.1", "B.1", "C.1"]);
        let err = check_agencies(vec![agency("A.1", Some("B.1")), agency("B.1", Some("A.1"))])
            .expect_err("a cycle");
        assert!(err.to_string().contains("cycle"), "{err}");
        assert!(check_agencies(vec![agency("A.1", Some("Z.9"))]).is_err());
        assert!(check_agencies(vec![agency("a-1", None)]).is_err());
        let mut closed = agency("A.1", None);
        closed.working_hours =
            serde_json::json!([{ "weekday": 1, "open": "17:00", "close": "08:00" }]);
        assert!(check_agencies(vec![closed]).is_err());
    }
}
