//! The payment platform behind a trait, so the city can plug another one,
//! and the national platform's protocol (docs/INTEGRATIONS.md): a
//! transaction created with a checksum under key 1, answers and callbacks
//! verified under key 2, a status query for reconciliation.

use std::time::Duration;

use futures_util::future::BoxFuture;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::{
    config::PaymentSettings,
    domain::payment::{Reported, checksum, checksum_valid},
};

/// What a transaction is for (the bill the platform shows and keeps).
#[derive(Debug, Clone, Serialize)]
pub struct Bill {
    /// Our service code.
    pub service_code: String,
    /// The national procedure code, when known.
    pub procedure_code: String,
    /// The agency collecting.
    pub agency_code: String,
    /// The dossier's receipt code.
    pub dossier_number: String,
    /// Who pays.
    pub payer: Payer,
    /// What is paid.
    pub fee_lines: Vec<FeeLine>,
}

/// The payer on a bill.
#[derive(Debug, Clone, Serialize)]
pub struct Payer {
    /// Full name.
    pub name: String,
    /// National ID number.
    pub id_number: String,
}

/// One line of a bill.
#[derive(Debug, Clone, Serialize)]
pub struct FeeLine {
    /// What.
    pub name: String,
    /// VND.
    pub amount: i64,
}

/// A transaction to create.
#[derive(Debug, Clone)]
pub struct NewTransaction {
    /// Our id.
    pub transaction_id: String,
    /// VND.
    pub amount: i64,
    /// What for.
    pub description: String,
    /// Where the payer's browser comes back.
    pub return_url: String,
    /// Where the platform posts its callback.
    pub ipn_url: String,
    /// `yyyyMMddHHmmss`.
    pub created_at: String,
    /// The bill.
    pub bill: Bill,
}

/// A created transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The platform's id.
    pub platform_transaction_id: String,
    /// Where the payer pays.
    pub payment_url: String,
}

/// What the platform says of a transaction (a callback or a query), its
/// checksum verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Our id.
    pub transaction_id: String,
    /// The platform's id.
    pub platform_transaction_id: String,
    /// The amount it reports.
    pub amount: i64,
    /// Its status.
    pub status: Reported,
}

/// Why a call to the platform failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    /// No answer in time, or no connection.
    #[error("payment platform unreachable: {0}")]
    Unreachable(String),
    /// An answer we cannot use (not JSON, bad checksum, an error code).
    #[error("payment platform answered unusably: {0}")]
    BadAnswer(String),
    /// It does not know the transaction.
    #[error("unknown transaction")]
    Unknown,
}

/// A payment platform.
pub trait Platform: Send + Sync {
    /// Creates (idempotently, by our transaction id) a transaction.
    fn create<'a>(
        &'a self,
        tx: &'a NewTransaction,
    ) -> BoxFuture<'a, Result<Created, PlatformError>>;
    /// Asks for a transaction's status.
    fn query<'a>(&'a self, transaction_id: &'a str)
    -> BoxFuture<'a, Result<Report, PlatformError>>;
    /// Verifies a callback's body; `None` if it is forged or malformed.
    fn verify_callback(&self, body: &serde_json::Value) -> Option<Report>;
}

/// The national payment platform.
pub struct NationalPlatform {
    settings: PaymentSettings,
    http: reqwest::Client,
}

impl NationalPlatform {
    /// The platform of `settings`, called with `http`.
    pub fn new(settings: PaymentSettings, http: reqwest::Client) -> Self {
        Self { settings, http }
    }

    fn key1(&self) -> &[u8] {
        self.settings.key1.expose_secret().as_bytes()
    }

    fn key2(&self) -> &[u8] {
        self.settings.key2.expose_secret().as_bytes()
    }

    async fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<(u16, serde_json::Value), PlatformError> {
        let url = self
            .settings
            .url
            .join(path)
            .map_err(|e| PlatformError::BadAnswer(e.to_string()))?;
        let response = self
            .http
            .post(url)
            .timeout(Duration::from_secs(self.settings.timeout_secs))
            .json(body)
            .send()
            .await
            .map_err(|e| PlatformError::Unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|e| PlatformError::Unreachable(e.to_string()))?;
        let json = serde_json::from_str(&text)
            .map_err(|_| PlatformError::BadAnswer(format!("HTTP {status}, not JSON")))?;
        Ok((status, json))
    }

    /// A report (query answer or callback) verified under key 2.
    fn report(&self, body: &serde_json::Value) -> Option<Report> {
        #[derive(Deserialize)]
        struct Raw {
            merchant_code: String,
            transaction_id: String,
            platform_transaction_id: String,
            amount: i64,
            status: String,
            #[serde(default)]
            paid_at: String,
            checksum: String,
        }
        let raw: Raw = serde_json::from_value(body.clone()).ok()?;
        let amount = raw.amount.to_string();
        let fields = [
            raw.merchant_code.as_str(),
            &raw.transaction_id,
            &raw.platform_transaction_id,
            &amount,
            &raw.status,
            &raw.paid_at,
        ];
        if raw.merchant_code != self.settings.merchant_code
            || !checksum_valid(self.key2(), &fields, &raw.checksum)
        {
            return None;
        }
        Some(Report {
            transaction_id: raw.transaction_id,
            platform_transaction_id: raw.platform_transaction_id,
            amount: raw.amount,
            status: Reported::parse(&raw.status)?,
        })
    }
}

impl Platform for NationalPlatform {
    fn create<'a>(
        &'a self,
        tx: &'a NewTransaction,
    ) -> BoxFuture<'a, Result<Created, PlatformError>> {
        Box::pin(async move {
            let merchant = self.settings.merchant_code.as_str();
            let amount = tx.amount.to_string();
            let sum = checksum(
                self.key1(),
                &[
                    merchant,
                    &tx.transaction_id,
                    &amount,
                    "VND",
                    &tx.description,
                    &tx.return_url,
                    &tx.ipn_url,
                    &tx.created_at,
                ],
            );
            let body = serde_json::json!({
                "merchant_code": merchant, "transaction_id": tx.transaction_id,
                "amount": tx.amount, "currency": "VND", "description": tx.description,
                "return_url": tx.return_url, "ipn_url": tx.ipn_url,
                "created_at": tx.created_at, "bill": tx.bill, "checksum": sum,
            });
            let (status, answer) = self.post("api/v1/transactions", &body).await?;
            let field = |name: &str| {
                answer
                    .get(name)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
            };
            if status != 200 || field("code") != "00" {
                return Err(PlatformError::BadAnswer(format!(
                    "HTTP {status}, code {:?}",
                    field("code")
                )));
            }
            let fields = [
                field("transaction_id"),
                field("platform_transaction_id"),
                field("payment_url"),
                field("status"),
            ];
            if fields[0] != tx.transaction_id
                || !checksum_valid(self.key2(), &fields, field("checksum"))
            {
                return Err(PlatformError::BadAnswer("answer checksum invalid".into()));
            }
            Ok(Created {
                platform_transaction_id: fields[1].to_owned(),
                payment_url: fields[2].to_owned(),
            })
        })
    }

    fn query<'a>(
        &'a self,
        transaction_id: &'a str,
    ) -> BoxFuture<'a, Result<Report, PlatformError>> {
        Box::pin(async move {
            let merchant = self.settings.merchant_code.as_str();
            let body = serde_json::json!({
                "merchant_code": merchant, "transaction_id": transaction_id,
                "checksum": checksum(self.key1(), &[merchant, transaction_id]),
            });
            let (status, answer) = self.post("api/v1/transactions/query", &body).await?;
            if status == 404 {
                return Err(PlatformError::Unknown);
            }
            let report = self
                .report(&answer)
                .filter(|r| r.transaction_id == transaction_id)
                .ok_or_else(|| PlatformError::BadAnswer(format!("HTTP {status}, unverifiable")))?;
            Ok(report)
        })
    }

    fn verify_callback(&self, body: &serde_json::Value) -> Option<Report> {
        self.report(body)
    }
}

/// The configured platform, if any.
pub fn configured(core: &crate::infra::Core) -> Option<NationalPlatform> {
    core.settings
        .payment
        .clone()
        .map(|s| NationalPlatform::new(s, core.http.clone()))
}
