//! Once-only: a new draft's form values and required documents from the
//! vault. Each prefilled value carries its source (record, provenance,
//! verified); a value the applicant gives instead counts as self-declared,
//! and self-declared values bound to vault keys are kept when the dossier is
//! filed ("store only if submitted"), so they are not asked for again.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::records;
use crate::infra::Core;
use crate::{
    domain::{
        AccountId, BusinessId,
        form::{self, FormField},
        vault::{self, Candidate, Owner, VaultKey},
    },
    error::AppResult,
    storage::vault as store,
};

/// A draft's starting point.
#[derive(Debug, Default)]
pub struct Prefilled {
    /// The form values (given ones and prefilled ones).
    pub values: Map<String, Value>,
    /// Where each value came from, by field.
    pub sources: Map<String, Value>,
    /// Vault documents attached by reference: `(document, requirement)`.
    pub refs: Vec<(Uuid, String)>,
}

/// The source entry of a value the applicant gave.
pub fn self_declared() -> Value {
    json!({ "source": "self_declared" })
}

fn vault_source(key: &VaultKey, c: &Candidate) -> Value {
    json!({
        "source": "vault",
        "vault_key": key.to_string(),
        "record_id": c.id,
        "provenance": c.provenance.as_str(),
        "provenance_label": c.provenance.label(),
        "verified": c.verified,
        "issued_at": c.issued_at,
    })
}

/// Prefills a draft for `applicant` (acting for `business`, if any): every
/// field bound to a vault key the applicant did not give, and every required
/// document the vault holds.
#[allow(clippy::too_many_arguments)]
pub async fn prefill(
    state: &Core,
    conn: &mut AsyncPgConnection,
    applicant: AccountId,
    business: Option<BusinessId>,
    fields: &[FormField],
    given: Map<String, Value>,
    required: &[(String, bool)],
    now: DateTime<Utc>,
) -> AppResult<Prefilled> {
    let mut out = Prefilled {
        sources: given.keys().map(|k| (k.clone(), self_declared())).collect(),
        values: given,
        refs: Vec::new(),
    };
    let bound: Vec<(&FormField, VaultKey)> = fields
        .iter()
        .filter(|f| !out.values.contains_key(&f.name))
        .filter_map(|f| Some((f, VaultKey::parse(f.vault.as_deref()?).ok()?)))
        .collect();
    if !bound.is_empty() {
        let person = records::candidates(state, conn, Owner::Account(applicant)).await?;
        let company = match business {
            Some(b) if bound.iter().any(|(_, k)| k.is_business()) => {
                records::candidates(state, conn, Owner::Business(b)).await?
            }
            _ => Vec::new(),
        };
        for (field, key) in bound {
            let pool = if key.is_business() { &company } else { &person };
            let Some((candidate, value)) = vault::choose(pool, &key, now) else {
                continue;
            };
            // A value that does not fit the field (an option list that
            // words it differently) is left for the applicant.
            let single: Map<String, Value> =
                std::iter::once((field.name.clone(), value.clone())).collect();
            if let Ok(checked) = form::check_values(fields, &single, false)
                && let Some(v) = checked.get(&field.name)
            {
                out.values.insert(field.name.clone(), v.clone());
                out.sources
                    .insert(field.name.clone(), vault_source(&key, candidate));
            }
        }
    }
    let wanted: Vec<String> = required.iter().map(|(t, _)| t.clone()).collect();
    if !wanted.is_empty() {
        let owner = business.map_or(Owner::Account(applicant), Owner::Business);
        let docs = store::documents_of_types(conn, owner, &wanted, now).await?;
        for t in &wanted {
            // Newest first: the first that is, or stands for, the requirement.
            if let Some(d) = docs
                .iter()
                .find(|d| &d.document_type == t || d.satisfies.contains(t))
                && !out.refs.iter().any(|(id, _)| *id == d.id)
            {
                out.refs.push((d.id, t.clone()));
            }
        }
    }
    Ok(out)
}

impl Prefilled {
    /// What the prefill read from the vault, as the access log names it:
    /// the vault keys of prefilled values, then `document:<id>` of attached
    /// documents.
    pub fn vault_items(&self) -> Vec<String> {
        let mut items: Vec<String> = self
            .sources
            .values()
            .filter(|s| s["source"] == "vault")
            .filter_map(|s| s["vault_key"].as_str().map(str::to_owned))
            .collect();
        items.sort();
        items.dedup();
        items.extend(self.refs.iter().map(|(id, _)| format!("document:{id}")));
        items
    }
}

/// Sources after the applicant changed `changes`: a changed vault value
/// becomes self-declared; a removed value has no source.
pub fn after_edit(
    sources: &Map<String, Value>,
    before: &Map<String, Value>,
    after: &Map<String, Value>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in after {
        let kept = sources
            .get(name)
            .filter(|s| s["source"] == "vault" && before.get(name) == Some(value));
        out.insert(name.clone(), kept.cloned().unwrap_or_else(self_declared));
    }
    out
}

/// Keeps the self-declared values bound to vault keys of a dossier being
/// filed, as the applicant's (or the business's) self-declared records.
#[allow(clippy::too_many_arguments)]
pub async fn keep_declared(
    state: &Core,
    conn: &mut AsyncPgConnection,
    applicant: AccountId,
    business: Option<BusinessId>,
    fields: &[FormField],
    values: &Map<String, Value>,
    sources: &Map<String, Value>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut by_record: BTreeMap<(bool, String), Map<String, Value>> = BTreeMap::new();
    for f in fields {
        let (Some(key), Some(value)) = (
            f.vault.as_deref().and_then(|k| VaultKey::parse(k).ok()),
            values.get(&f.name),
        ) else {
            continue;
        };
        if sources.get(&f.name).is_some_and(|s| s["source"] == "vault") {
            continue;
        }
        if key.is_business() && business.is_none() {
            continue;
        }
        by_record
            .entry((key.is_business(), key.record().to_owned()))
            .or_default()
            .insert(key.field().to_owned(), value.clone());
    }
    let mut person = BTreeMap::new();
    let mut company = BTreeMap::new();
    for ((is_business, record_type), data) in by_record {
        if is_business {
            company.insert(record_type, data);
        } else {
            person.insert(record_type, data);
        }
    }
    records::declare(state, conn, Owner::Account(applicant), person, now).await?;
    if let Some(b) = business {
        records::declare(state, conn, Owner::Business(b), company, now).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edited_vault_value_becomes_self_declared() {
        let sources: Map<String, Value> = json!({
            "a": {"source": "vault", "record_id": "r"},
            "b": {"source": "vault", "record_id": "s"},
            "c": {"source": "self_declared"},
        })
        .as_object()
        .cloned()
        .expect("object");
        let before: Map<String, Value> = json!({"a": "1", "b": "2", "c": "3"})
            .as_object()
            .cloned()
            .expect("object");
        let after: Map<String, Value> = json!({"a": "1", "b": "changed", "d": "4"})
            .as_object()
            .cloned()
            .expect("object");
        let out = after_edit(&sources, &before, &after);
        assert_eq!(out["a"]["source"], "vault");
        assert_eq!(out["b"]["source"], "self_declared");
        assert_eq!(out["d"]["source"], "self_declared");
        assert!(!out.contains_key("c"), "removed values have no source");
    }
}
