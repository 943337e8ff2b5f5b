//! Password hashing with argon2id on a bounded pool.
//!
//! Hashes use at least the OWASP parameters (m = 19 MiB, t = 2, p = 1); the
//! parameters travel in the PHC string, and a hash made with weaker ones is
//! upgraded at the next successful sign-in. Hashing runs on tokio's blocking
//! threads behind a semaphore sized to the cores, so a flood of sign-ins
//! queues up instead of starving the request workers.

use std::sync::Arc;

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier, Version,
    password_hash::{SaltString, rand_core::OsRng},
};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

/// Memory cost in KiB (19 MiB).
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Iterations.
pub const ITERATIONS: u32 = 2;
/// Lanes.
pub const PARALLELISM: u32 = 1;

/// The result of checking a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Wrong password (or no usable hash).
    Mismatch,
    /// Right password; `upgraded` carries a new hash when the stored one used weaker parameters.
    Match {
        /// The hash to store instead, if any.
        upgraded: Option<String>,
    },
}

/// Hashes and verifies passwords on a bounded pool.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    params: Params,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("available", &self.permits.available_permits())
            .finish()
    }
}

impl PasswordHasher {
    /// A hasher running at most `concurrency` hashes at once.
    pub fn new(concurrency: usize) -> anyhow::Result<Self> {
        Ok(Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            params: Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
                .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?,
        })
    }

    /// A hasher sized to the machine's cores.
    pub fn for_this_machine() -> anyhow::Result<Self> {
        Self::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Hashes a password.
    pub async fn hash(&self, password: SecretString) -> AppResult<String> {
        let argon2 = self.argon2();
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2
                .hash_password(password.expose_secret().as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| anyhow::anyhow!("hashing: {e}"))
        })
        .await
    }

    /// Verifies a password against a stored PHC string; when `stored` is
    /// `None` a dummy hash is checked, so timing does not reveal whether the
    /// account exists or has a password.
    pub async fn verify(
        &self,
        stored: Option<String>,
        password: SecretString,
    ) -> AppResult<Verification> {
        let argon2 = self.argon2();
        let target = self.params.clone();
        self.run(move || {
            let Some(stored) = stored else {
                // Same work as a real check, so timing does not tell accounts apart.
                let salt = SaltString::generate(&mut OsRng);
                let _ = argon2.hash_password(password.expose_secret().as_bytes(), &salt);
                return Ok(Verification::Mismatch);
            };
            let Ok(parsed) = PasswordHash::new(&stored) else {
                return Ok(Verification::Mismatch);
            };
            if argon2
                .verify_password(password.expose_secret().as_bytes(), &parsed)
                .is_err()
            {
                return Ok(Verification::Mismatch);
            }
            let upgraded = if needs_upgrade(&parsed, &target) {
                let salt = SaltString::generate(&mut OsRng);
                Some(
                    argon2
                        .hash_password(password.expose_secret().as_bytes(), &salt)
                        .map_err(|e| anyhow::anyhow!("rehashing: {e}"))?
                        .to_string(),
                )
            } else {
                None
            };
            Ok(Verification::Match { upgraded })
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> AppResult<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AppError::internal(anyhow::anyhow!("hash pool closed: {e}")))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(AppError::internal)?
            .map_err(AppError::internal)
    }
}

fn needs_upgrade(hash: &PasswordHash<'_>, target: &Params) -> bool {
    if hash.algorithm != Algorithm::Argon2id.ident() {
        return true;
    }
    match Params::try_from(hash) {
        Ok(p) => {
            p.m_cost() < target.m_cost()
                || p.t_cost() < target.t_cost()
                || p.p_cost() < target.p_cost()
        }
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[tokio::test]
    async fn hashes_verify_and_carry_their_parameters() {
        let hasher = PasswordHasher::new(2).expect("hasher");
        let hash = hasher
            .hash(secret("Mật khẩu rất dài 2026"))
            .await
            .expect("hash");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert_eq!(
            hasher
                .verify(Some(hash.clone()), secret("Mật khẩu rất dài 2026"))
                .await
                .expect("verify"),
            Verification::Match { upgraded: None }
        );
        assert_eq!(
            hasher
                .verify(Some(hash), secret("mật khẩu khác"))
                .await
                .expect("verify"),
            Verification::Mismatch
        );
        assert_eq!(
            hasher
                .verify(None, secret("anything"))
                .await
                .expect("verify"),
            Verification::Mismatch
        );
    }

    #[tokio::test]
    async fn weaker_hashes_are_upgraded_on_a_match() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 1, 1, None).expect("params"),
        )
        .hash_password(b"correct horse battery", &SaltString::generate(&mut OsRng))
        .expect("hash")
        .to_string();
        let hasher = PasswordHasher::new(1).expect("hasher");
        let Verification::Match {
            upgraded: Some(new),
        } = hasher
            .verify(Some(weak), secret("correct horse battery"))
            .await
            .expect("verify")
        else {
            panic!("expected an upgrade");
        };
        assert!(new.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    }

    #[tokio::test]
    async fn garbage_hashes_never_match() {
        let hasher = PasswordHasher::new(1).expect("hasher");
        assert_eq!(
            hasher
                .verify(Some("not a phc string".into()), secret("x"))
                .await
                .expect("verify"),
            Verification::Mismatch
        );
    }
}
