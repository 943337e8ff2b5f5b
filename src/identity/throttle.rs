//! Throttling of anything that guesses (passwords, tokens, look-ups), in Redis.
//!
//! Failures are counted per key (an account name, a client address) in a
//! window. Past a threshold the key is locked for a time that doubles with
//! every further failure, up to a cap: growing delays, then a temporary
//! lockout. Keys are hashed, so Redis holds no usernames or addresses.

use std::time::Duration;

use redis::AsyncCommands;

use crate::{
    crypto::tokens,
    error::{AppError, AppResult, ErrorKind},
    kv::Kv,
};

/// A throttling rule.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Name of the rule (part of the key).
    pub name: &'static str,
    /// Failures allowed in the window before locking.
    pub free_failures: u32,
    /// How long failures are remembered.
    pub window: Duration,
    /// The first lock's length; each further failure doubles it.
    pub base_lock: Duration,
    /// The longest lock.
    pub max_lock: Duration,
}

/// Per-account sign-in failures: the 5th locks for 1 minute, then 2, 4 … at most 1 hour.
pub const SIGN_IN_ACCOUNT: Rule = Rule {
    name: "signin_account",
    free_failures: 4,
    window: Duration::from_secs(24 * 3600),
    base_lock: Duration::from_secs(60),
    max_lock: Duration::from_secs(3600),
};

/// Per-address sign-in failures: 30 free, then growing locks.
pub const SIGN_IN_IP: Rule = Rule {
    name: "signin_ip",
    free_failures: 30,
    window: Duration::from_secs(3600),
    base_lock: Duration::from_secs(60),
    max_lock: Duration::from_secs(3600),
};

/// Requests that send email (registration, resend, reset) per address. Mobile
/// carriers put many people behind one address, hence the generous quota.
pub const EMAIL_SENDING_IP: Rule = Rule {
    name: "email_ip",
    free_failures: 30,
    window: Duration::from_secs(3600),
    base_lock: Duration::from_secs(300),
    max_lock: Duration::from_secs(3600),
};

/// Emails sent to one recipient (resend, reset) in a window.
pub const EMAIL_SENDING_RECIPIENT: Rule = Rule {
    name: "email_recipient",
    free_failures: 3,
    window: Duration::from_secs(3600),
    base_lock: Duration::from_secs(600),
    max_lock: Duration::from_secs(3600),
};

/// Redeeming email tokens per address (guessing tokens).
pub const TOKEN_IP: Rule = Rule {
    name: "token_ip",
    free_failures: 20,
    window: Duration::from_secs(3600),
    base_lock: Duration::from_secs(60),
    max_lock: Duration::from_secs(3600),
};

/// The 429 answer for someone who must wait `wait` seconds.
pub fn too_many(wait: u64) -> AppError {
    retry_later("too_many_requests", "Bạn đã gửi quá nhiều yêu cầu", wait)
}

/// The 429 answer while a sign-in name or address is locked.
pub fn sign_in_locked(wait: u64) -> AppError {
    retry_later("sign_in_locked", "Đăng nhập sai quá nhiều lần", wait)
}

fn retry_later(code: &'static str, lead: &str, wait: u64) -> AppError {
    AppError::new(ErrorKind::TooManyRequests, code)
        .with_detail(format!(
            "{lead}. Vui lòng thử lại sau {} phút.",
            wait.div_ceil(60)
        ))
        .with_header(actix_web::http::header::RETRY_AFTER, wait.to_string())
}

/// Counts failures and locks keys in Redis.
#[derive(Debug, Clone)]
pub struct Throttle {
    kv: std::sync::Arc<Kv>,
}

impl Throttle {
    /// A throttle on `kv`.
    pub fn new(kv: std::sync::Arc<Kv>) -> Self {
        Self { kv }
    }

    fn keys(&self, rule: &Rule, subject: &str) -> (String, String) {
        let h = tokens::hash_hex(subject);
        (
            self.kv.key(&format!("throttle:{}:count:{h}", rule.name)),
            self.kv.key(&format!("throttle:{}:lock:{h}", rule.name)),
        )
    }

    /// Seconds until `subject` may try again under `rule`, or `None` if it may now.
    pub async fn locked_for(&self, rule: &Rule, subject: &str) -> AppResult<Option<u64>> {
        let (_, lock) = self.keys(rule, subject);
        let mut conn = self.kv.conn().await?;
        let ttl: i64 = conn.ttl(&lock).await?;
        Ok(u64::try_from(ttl).ok().filter(|t| *t > 0))
    }

    /// Refuses with 429 while `subject` is locked under `rule`.
    pub async fn check(&self, rule: &Rule, subject: &str) -> AppResult<()> {
        match self.locked_for(rule, subject).await? {
            Some(wait) => Err(too_many(wait)),
            None => Ok(()),
        }
    }

    /// The longest wait among several rules, in one round trip.
    pub async fn locked_for_any(&self, checks: &[(&Rule, &str)]) -> AppResult<Option<u64>> {
        let mut pipe = redis::pipe();
        for (rule, subject) in checks {
            pipe.ttl(self.keys(rule, subject).1);
        }
        let mut conn = self.kv.conn().await?;
        let ttls: Vec<i64> = pipe.query_async(&mut conn).await?;
        Ok(ttls
            .into_iter()
            .filter_map(|t| u64::try_from(t).ok())
            .filter(|t| *t > 0)
            .max())
    }

    /// Records a failure; returns the lock it caused, if any.
    pub async fn fail(&self, rule: &Rule, subject: &str) -> AppResult<Option<Duration>> {
        let (count_key, lock_key) = self.keys(rule, subject);
        let mut conn = self.kv.conn().await?;
        let (count,): (u32,) = redis::pipe()
            .atomic()
            .incr(&count_key, 1)
            .expire(
                &count_key,
                i64::try_from(rule.window.as_secs()).unwrap_or(i64::MAX),
            )
            .ignore()
            .query_async(&mut conn)
            .await?;
        let lock = lock_duration(rule, count);
        if let Some(lock) = lock {
            let _: () = conn.set_ex(&lock_key, 1, lock.as_secs().max(1)).await?;
        }
        Ok(lock)
    }

    /// Forgets the failures of `subject` (after a success).
    pub async fn reset(&self, rule: &Rule, subject: &str) -> AppResult<()> {
        let (count_key, lock_key) = self.keys(rule, subject);
        let mut conn = self.kv.conn().await?;
        let _: () = conn.del(&[count_key, lock_key]).await?;
        Ok(())
    }

    /// Reserves one attempt under `rule` before the guess is checked, in one
    /// atomic step (a Lua script): refused while `subject` is locked;
    /// otherwise the attempt is counted as a failure now, and the attempt
    /// that would lock on failure sets the lock at once, so attempts racing it
    /// are refused instead of being checked. Returns the wait when refused.
    /// A success must call [`Throttle::reset`]; a failure needs nothing more.
    pub async fn reserve(&self, rule: &Rule, subject: &str) -> AppResult<Option<u64>> {
        let (count_key, lock_key) = self.keys(rule, subject);
        let mut conn = self.kv.conn().await?;
        let (granted, value): (i64, i64) = redis::cmd("EVAL")
            .arg(RESERVE_SCRIPT)
            .arg(2)
            .arg(&count_key)
            .arg(&lock_key)
            .arg(rule.window.as_secs())
            .arg(rule.free_failures)
            .arg(rule.base_lock.as_secs().max(1))
            .arg(rule.max_lock.as_secs().max(1))
            .query_async(&mut conn)
            .await?;
        if granted == 1 {
            Ok(None)
        } else {
            Ok(Some(u64::try_from(value).unwrap_or(1).max(1)))
        }
    }

    /// Counts one use of a quota (not a failure): locks once the quota is spent.
    pub async fn spend(&self, rule: &Rule, subject: &str) -> AppResult<Option<u64>> {
        if let Some(wait) = self.locked_for(rule, subject).await? {
            return Ok(Some(wait));
        }
        self.fail(rule, subject).await?;
        Ok(None)
    }
}

/// Reserves an attempt (see [`Throttle::reserve`]). KEYS: the count, the
/// lock. ARGV: window, free failures, base lock, longest lock (seconds).
/// Answers `{1, slot}` when granted, `{0, wait}` when locked.
const RESERVE_SCRIPT: &str = r"
local ttl = redis.call('TTL', KEYS[2])
if ttl ~= -2 then
  return {0, ttl}
end
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
local free = tonumber(ARGV[2])
if n > free then
  local lock = tonumber(ARGV[3])
  local doublings = math.min(n - free - 1, 20)
  for _ = 1, doublings do
    lock = lock * 2
    if lock >= tonumber(ARGV[4]) then break end
  end
  lock = math.min(lock, tonumber(ARGV[4]))
  redis.call('SET', KEYS[2], '1', 'EX', string.format('%d', lock))
end
return {1, n}
";

/// The throttling subject of an account: every name of it (national ID,
/// email) and the password checks of its own pages share one counter.
pub fn account_subject(account: crate::domain::AccountId) -> String {
    format!("account:{account}")
}

/// The throttling subject of a sign-in name that designates no account
/// (normalised, so `A@x.vn` and `a@x.vn` share a counter).
pub fn name_subject(username: &str) -> String {
    format!("name:{}", username.trim().to_lowercase())
}

/// Public look-ups by receipt code that found nothing, per client address:
/// the 21st in an hour locks for 5 minutes, doubling up to an hour.
pub const LOOKUP_IP: Rule = Rule {
    name: "lookup_ip",
    free_failures: 20,
    window: Duration::from_secs(3600),
    base_lock: Duration::from_secs(300),
    max_lock: Duration::from_secs(3600),
};

/// The lock after the `count`-th failure: none while free failures remain,
/// then the base lock doubling per failure, capped.
pub fn lock_duration(rule: &Rule, count: u32) -> Option<Duration> {
    if count <= rule.free_failures {
        return None;
    }
    let doublings = (count - rule.free_failures - 1).min(20);
    Some(
        rule.base_lock
            .saturating_mul(1_u32 << doublings)
            .min(rule.max_lock),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_grow_after_the_free_failures_up_to_the_cap() {
        let r = SIGN_IN_ACCOUNT;
        assert_eq!(lock_duration(&r, 4), None);
        assert_eq!(lock_duration(&r, 5), Some(Duration::from_secs(60)));
        assert_eq!(lock_duration(&r, 6), Some(Duration::from_secs(120)));
        assert_eq!(lock_duration(&r, 7), Some(Duration::from_secs(240)));
        assert_eq!(lock_duration(&r, 40), Some(Duration::from_secs(3600)));
    }
}
