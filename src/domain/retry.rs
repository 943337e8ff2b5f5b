//! When to try a failed job again: exponential backoff with a cap and a
//! deterministic spread, so a burst of failures does not retry in lockstep.

use std::time::Duration;

/// The backoff policy of a job kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Delay after the first failure.
    pub base: Duration,
    /// Longest delay.
    pub cap: Duration,
    /// Attempts in all before the job is dead.
    pub max_attempts: i32,
}

impl RetryPolicy {
    /// The delay before the attempt after failed attempt number `attempt`
    /// (1-based), or `None` when that was the last allowed attempt.
    ///
    /// `spread_key` (the job id) adds up to 10 % so jobs that failed together
    /// come back spread out; the same job always gets the same delay.
    pub fn delay_after(&self, attempt: i32, spread_key: i64) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let exponent = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let raw = self.base.saturating_mul(1_u32 << exponent);
        let delay = raw.min(self.cap);
        let spread_permille = u64::try_from(spread_key.rem_euclid(101)).unwrap_or(0);
        let extra = delay.mul_f64(spread_permille as f64 / 1000.0);
        Some(delay + extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        base: Duration::from_secs(10),
        cap: Duration::from_secs(3600),
        max_attempts: 5,
    };

    #[test]
    fn delays_double_until_the_cap() {
        let d: Vec<_> = (1..5).map(|a| POLICY.delay_after(a, 0)).collect();
        assert_eq!(
            d,
            vec![
                Some(Duration::from_secs(10)),
                Some(Duration::from_secs(20)),
                Some(Duration::from_secs(40)),
                Some(Duration::from_secs(80)),
            ]
        );
        let capped = RetryPolicy {
            max_attempts: 100,
            ..POLICY
        };
        assert_eq!(capped.delay_after(40, 0), Some(Duration::from_secs(3600)));
    }

    #[test]
    fn the_last_attempt_has_no_retry() {
        assert_eq!(POLICY.delay_after(5, 0), None);
        assert_eq!(POLICY.delay_after(6, 0), None);
    }

    #[test]
    fn spread_is_bounded_and_stable() {
        for key in [1_i64, 50, 100, 12345, -7] {
            let d = POLICY.delay_after(1, key).expect("retry");
            assert!(
                d >= Duration::from_secs(10) && d <= Duration::from_secs(11),
                "{d:?}"
            );
            assert_eq!(POLICY.delay_after(1, key), Some(d));
        }
    }
}
