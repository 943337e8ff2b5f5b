//! Fees paid online through the national payment platform: a payment per
//! request to pay, the platform's callback (IPN) checked against what we
//! stored, reconciliation of what stays pending, an electronic receipt in
//! the payer's vault, and the dossier moved on in the same transaction.
