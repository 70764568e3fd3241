//! A per-provider send-rate limit: a token bucket. The bucket itself is pure (the time is
//! passed in); [`RateLimiter`] puts it behind a lock and waits on Tokio's clock.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::ConfigError;

/// `rate` tokens a second, at most `burst` saved up. A send reserves a token; when none is
/// left the reservation is still made, in the future, and the caller waits for it. So sends
/// are spaced `1 / rate` apart once the burst is spent, in the order they asked.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    /// May be negative: tokens promised to callers that are waiting.
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket. `rate` must be positive and finite, `burst` at least 1 (the
    /// configuration is checked before, see [`RateLimit::validate`]).
    pub fn new(rate: f64, burst: u32, now: Instant) -> TokenBucket {
        let burst = f64::from(burst.max(1));
        TokenBucket {
            rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Reserves one send at or after `now`; returns how long the caller must wait for it
    /// (zero when a token is there). `now` going backwards is taken as no time passing.
    pub fn reserve(&mut self, now: Instant) -> Duration {
        if now > self.last {
            let elapsed = now.duration_since(self.last).as_secs_f64();
            self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
            self.last = now;
        }
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate)
        }
    }
}

/// The configured limit: `rate_per_second` sends a second, bursts of up to `burst` (default:
/// the rate rounded up, at least 1).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub rate_per_second: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
}

impl RateLimit {
    pub fn validate(&self) -> Result<(), String> {
        if !(self.rate_per_second.is_finite() && self.rate_per_second > 0.0) {
            return Err(format!(
                "rate_per_second must be a positive number, not {}",
                self.rate_per_second
            ));
        }
        if self.burst == Some(0) {
            return Err("burst must be at least 1".to_owned());
        }
        Ok(())
    }

    fn burst(&self) -> u32 {
        self.burst.unwrap_or_else(|| {
            // A rate above u32::MAX a second is no limit anyone configures; saturate.
            let rounded = self.rate_per_second.ceil();
            if rounded >= f64::from(u32::MAX) {
                u32::MAX
            } else {
                (rounded as u32).max(1)
            }
        })
    }
}

/// A [`TokenBucket`] shared by a provider's concurrent sends.
#[derive(Debug)]
pub struct RateLimiter {
    bucket: Mutex<TokenBucket>,
}

impl RateLimiter {
    /// The limiter a provider's `rate_per_second` and `burst` ask for, if they set a rate.
    pub fn configured(
        provider: &'static str,
        rate_per_second: Option<f64>,
        burst: Option<u32>,
    ) -> Result<Option<RateLimiter>, ConfigError> {
        let Some(rate_per_second) = rate_per_second else {
            return Ok(None);
        };
        let limit = RateLimit {
            rate_per_second,
            burst,
        };
        limit
            .validate()
            .map_err(|m| ConfigError::new(provider, "rate_per_second", m))?;
        Ok(Some(RateLimiter::new(limit)))
    }

    pub fn new(limit: RateLimit) -> RateLimiter {
        RateLimiter {
            bucket: Mutex::new(TokenBucket::new(
                limit.rate_per_second,
                limit.burst(),
                Instant::now(),
            )),
        }
    }

    /// Waits until this send's turn. A cancelled wait keeps its reservation (the next
    /// sends wait a little longer): simpler than handing tokens back, and never faster
    /// than the limit.
    pub async fn acquire(&self) {
        let wait = {
            let mut bucket = self
                .bucket
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            bucket.reserve(Instant::now())
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_burst_then_one_per_interval() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(10.0, 3, t0);
        let waits: Vec<Duration> = (0..6).map(|_| bucket.reserve(t0)).collect();
        let expected = [0, 0, 0, 100, 200, 300];
        for (wait, expected) in waits.iter().zip(expected) {
            assert!(
                wait.abs_diff(ms(expected)) < Duration::from_micros(1),
                "{waits:?}"
            );
        }
        // Half a second later: the three promised tokens are paid back, two are saved.
        let t1 = t0 + ms(500);
        assert_eq!(bucket.reserve(t1), Duration::ZERO);
        assert_eq!(bucket.reserve(t1), Duration::ZERO);
        assert!(bucket.reserve(t1).abs_diff(ms(100)) < Duration::from_micros(1));
    }

    #[test]
    fn time_going_backwards_adds_nothing() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut bucket = TokenBucket::new(1.0, 1, t0);
        assert_eq!(bucket.reserve(t0), Duration::ZERO);
        let wait = bucket.reserve(t0 - Duration::from_secs(5));
        assert!(wait.abs_diff(Duration::from_secs(1)) < Duration::from_micros(1));
    }

    #[test]
    fn configuration() {
        let limit = |rate, burst| RateLimit {
            rate_per_second: rate,
            burst,
        };
        assert!(limit(0.0, None).validate().is_err());
        assert!(limit(-1.0, None).validate().is_err());
        assert!(limit(f64::NAN, None).validate().is_err());
        assert!(limit(f64::INFINITY, None).validate().is_err());
        assert!(limit(1.0, Some(0)).validate().is_err());
        assert!(limit(0.5, None).validate().is_ok());
        assert_eq!(limit(0.5, None).burst(), 1);
        assert_eq!(limit(14.2, None).burst(), 15);
        assert_eq!(limit(14.2, Some(2)).burst(), 2);
        assert_eq!(limit(1e300, None).burst(), u32::MAX);
    }

    proptest! {
        /// The oracle: whatever the arrivals, the sends the bucket schedules never exceed
        /// `burst + rate × T` in any span of length T (a span counted from one send to a
        /// later one), and a send is never scheduled before its arrival.
        #[test]
        fn never_faster_than_the_limit(
            rate in 1u32..50,
            burst in 1u32..5,
            gaps in proptest::collection::vec(0u64..200, 1..60),
        ) {
            let t0 = Instant::now();
            let mut bucket = TokenBucket::new(f64::from(rate), burst, t0);
            let mut arrival = t0;
            let mut scheduled = Vec::new();
            for gap in gaps {
                arrival += ms(gap);
                let at = arrival + bucket.reserve(arrival);
                prop_assert!(at >= arrival);
                scheduled.push(at);
            }
            for (i, start) in scheduled.iter().enumerate() {
                for (j, end) in scheduled.iter().enumerate().skip(i) {
                    let span = end.duration_since(*start).as_secs_f64();
                    let count = (j - i + 1) as f64;
                    prop_assert!(
                        count <= f64::from(burst) + f64::from(rate) * span + 1e-6,
                        "{count} sends in {span}s at {rate}/s, burst {burst}"
                    );
                }
            }
        }

        /// And it is not slower than it must be: a send waits only while the bucket is
        /// empty, so sends arriving at one instant after a long pause are `burst` at once,
        /// then one every `1 / rate`.
        #[test]
        fn no_slower_than_the_limit(rate in 1u32..50, burst in 1u32..5, n in 1usize..20) {
            let t0 = Instant::now();
            let mut bucket = TokenBucket::new(f64::from(rate), burst, t0);
            let later = t0 + Duration::from_secs(100);
            for k in 0..n {
                let wait = bucket.reserve(later).as_secs_f64();
                let expected = (k as f64 + 1.0 - f64::from(burst)).max(0.0) / f64::from(rate);
                prop_assert!((wait - expected).abs() < 1e-6, "{k}: {wait} != {expected}");
            }
        }
    }
}
