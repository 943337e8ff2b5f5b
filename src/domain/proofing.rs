//! Proof beats claim: what a proof of identity (a counter check of the chip ID
//! card, or a VNeID sign-in) does to the account that holds the proven
//! national ID.
//!
//! Anyone can type a stranger's national ID (it is printed on every card) into
//! the self-registration form. Such an account proves nothing: neither that
//! the person is who the ID says, nor, when the real owner turns up with a
//! proof, that the account is theirs. So a proof never raises an unproven
//! account with its credentials intact unless the proven person themself
//! recognises those credentials (at the counter, where a receiver asks them);
//! otherwise the account is replaced and nothing of the claimant survives.

/// What we know of the account holding a national ID when a proof arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holder {
    /// Its assurance level (1 or 2).
    pub level: i16,
    /// Its status.
    pub status: HolderStatus,
}

/// An account's status, as far as proofing is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolderStatus {
    /// Registered, email never verified: it has never been used.
    Pending,
    /// In use.
    Active,
    /// Locked by its holder or by the support desk.
    Disabled,
}

impl HolderStatus {
    /// Parses the `accounts.status` column.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(Self::Pending),
            "active" => Some(Self::Active),
            "disabled" => Some(Self::Disabled),
            _ => None,
        }
    }
}

/// Whether the proven person recognised the account's contact details as
/// their own (asked at the counter; VNeID cannot ask, so never).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recognised {
    /// They said the email and phone shown (masked) are theirs.
    Yes,
    /// They did not, or nobody asked.
    No,
}

/// What binding the proven person to their national ID does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// No account holds the ID: one is created for the proven person.
    Create,
    /// An unused registration holds it: it is deleted, then one is created.
    ReplacePending,
    /// A level-1 account in use holds it and nobody vouches for its
    /// credentials: they are cleared (password, email, phone, sessions,
    /// refresh tokens, consents) and the account is raised for the proven person.
    ClearAndRaise,
    /// The proven person recognised the level-1 account as theirs: it is
    /// raised with its credentials.
    Raise,
    /// The account was already proven at level 2: the new proof is recorded.
    AlreadyProven,
    /// A proven account that is locked stays locked: the support desk decides.
    RefuseLocked,
}

/// Decides what a proof does to `holder`.
pub fn decide(holder: Option<Holder>, recognised: Recognised) -> Binding {
    let Some(holder) = holder else {
        return Binding::Create;
    };
    match (holder.level >= 2, holder.status, recognised) {
        (true, HolderStatus::Disabled, _) => Binding::RefuseLocked,
        (true, _, _) => Binding::AlreadyProven,
        (false, HolderStatus::Pending, _) => Binding::ReplacePending,
        (false, HolderStatus::Active, Recognised::Yes) => Binding::Raise,
        // A locked level-1 account is cleared like any other unproven one:
        // the lock protected it from whoever held it, and the proof names its owner.
        (false, HolderStatus::Active | HolderStatus::Disabled, _) => Binding::ClearAndRaise,
    }
}

/// An email address as it may be shown to a receiver or on a screen:
/// `ng***@g***.com`.
pub fn mask_email(email: &str) -> String {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return "***".into();
    };
    let (host, tld) = domain.rsplit_once('.').unwrap_or((domain, ""));
    let keep = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    let local_kept = keep(local, if local.chars().count() > 4 { 2 } else { 1 });
    let host_kept = keep(host, 1);
    if tld.is_empty() {
        format!("{local_kept}***@{host_kept}***")
    } else {
        format!("{local_kept}***@{host_kept}***.{tld}")
    }
}

/// A national ID as a message may show it: its last three digits, `***789`.
pub fn mask_national_id(id: &str) -> String {
    let digits: Vec<char> = id.chars().collect();
    let tail: String = digits[digits.len().saturating_sub(3)..].iter().collect();
    format!("***{tail}")
}

/// A phone number as it may be shown: its last three digits only,
/// `+84 *** *** 789`.
pub fn mask_phone(e164: &str) -> String {
    let digits: Vec<char> = e164.chars().filter(char::is_ascii_digit).collect();
    let tail: String = digits.iter().skip(digits.len().saturating_sub(3)).collect();
    format!("*** *** {tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(level: i16, status: HolderStatus) -> Option<Holder> {
        Some(Holder { level, status })
    }

    #[test]
    fn no_unproven_account_survives_a_proof_with_its_credentials_unless_recognised() {
        use Binding::*;
        use HolderStatus::*;
        assert_eq!(decide(None, Recognised::No), Create);
        assert_eq!(decide(holder(1, Pending), Recognised::No), ReplacePending);
        assert_eq!(decide(holder(1, Pending), Recognised::Yes), ReplacePending);
        assert_eq!(decide(holder(1, Active), Recognised::No), ClearAndRaise);
        assert_eq!(decide(holder(1, Active), Recognised::Yes), Raise);
        assert_eq!(decide(holder(1, Disabled), Recognised::Yes), ClearAndRaise);
        assert_eq!(decide(holder(2, Active), Recognised::No), AlreadyProven);
        assert_eq!(decide(holder(2, Disabled), Recognised::Yes), RefuseLocked);
    }

    #[test]
    fn masks_keep_too_little_to_be_personal_data() {
        assert_eq!(mask_email("nguyenvanan@gmail.com"), "ng***@g***.com");
        assert_eq!(mask_email("an@x.vn"), "a***@x***.vn");
        assert_eq!(mask_email("broken"), "***");
        assert_eq!(mask_phone("+84912345789"), "*** *** 789");
        assert_eq!(mask_national_id("079090000046"), "***046");
        assert!(!mask_phone("+84912345789").contains("912"));
    }
}
