//! Ingest first during a surge: when, and how long, the processor steps back after a batch.
//!
//! Where ingest and processing share the CPU, every cycle the processor spends during an
//! ingest surge is one that the request tasks and the log writer wait for, and acknowledging
//! events is what clients block on (SDKs buffer, then drop). The processor's nice value already
//! favours ingest, but a runnable thread at nice 5 still took ~0.5 of 2 cores during a
//! saturating load (`perf`, BENCHMARKS.md). So when three things hold at once:
//!
//! - the processor is far behind ([`SURGE_LAG`]): it cannot catch up during the surge anyway;
//! - ingest is still committing ([`INGEST_RECENT`]);
//! - the processor itself waited for a CPU for at least a quarter of its last batch: the CPU
//!   is contended, so its cycles are taken from someone;
//!
//! it pauses after each batch for three times the batch's duration (at most [`MAX_PAUSE`]).
//! Its share then falls to a quarter of its thread's time, never to nothing: `SCHED_IDLE`,
//! tried before, starved it outright while another process saturated the CPU. When the surge
//! ends, or the CPU has room, it runs flat out again; at ordinary loads it is never behind,
//! so live audiences keep their latency.

use std::time::Duration;

/// Events behind the log head from which the processor counts as far behind (20 batches).
pub const SURGE_LAG: u64 = 20_000;
/// Ingest counts as still flowing if the log head moved this recently.
pub const INGEST_RECENT: Duration = Duration::from_millis(250);
/// The longest pause after one batch, so commands and timers wait at most this much longer.
pub const MAX_PAUSE: Duration = Duration::from_millis(250);

/// What the processor saw of its last batch.
#[derive(Debug, Clone, Copy)]
pub struct Observed {
    /// Events between the log head and the cursor after the batch.
    pub lag: u64,
    /// Since the log head last moved (`None`: never).
    pub since_ingest: Option<Duration>,
    /// Wall time of the batch.
    pub batch: Duration,
    /// Time the processor thread spent runnable but waiting for a CPU during the batch
    /// (`None` where the OS does not say).
    pub waited: Option<Duration>,
}

/// How long to pause before the next batch, if at all.
pub fn pause(o: &Observed) -> Option<Duration> {
    let far_behind = o.lag >= SURGE_LAG;
    let ingesting = o.since_ingest.is_some_and(|d| d <= INGEST_RECENT);
    let contended = o.waited.is_some_and(|w| w * 4 >= o.batch);
    (far_behind && ingesting && contended).then(|| (o.batch * 3).min(MAX_PAUSE))
}

/// Total time the calling thread has spent runnable but waiting for a CPU, from
/// `/proc/thread-self/schedstat` (Linux; `None` elsewhere or when unreadable).
pub fn run_queue_wait() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let waited_ns: u64 = text.split_whitespace().nth(1)?.parse().ok()?;
    Some(Duration::from_nanos(waited_ns))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn surge() -> Observed {
        Observed {
            lag: SURGE_LAG,
            since_ingest: Some(10 * MS),
            batch: 20 * MS,
            waited: Some(5 * MS),
        }
    }

    #[test]
    fn a_contended_processor_far_behind_a_live_surge_takes_a_quarter() {
        assert_eq!(pause(&surge()), Some(60 * MS));
        let long = Observed {
            batch: 200 * MS,
            waited: Some(100 * MS),
            ..surge()
        };
        assert_eq!(pause(&long), Some(MAX_PAUSE));
    }

    #[test]
    fn each_condition_alone_is_not_enough() {
        let cases = [
            Observed {
                lag: SURGE_LAG - 1,
                ..surge()
            },
            Observed {
                since_ingest: Some(INGEST_RECENT + MS),
                ..surge()
            },
            Observed {
                since_ingest: None,
                ..surge()
            },
            Observed {
                waited: Some(4 * MS),
                ..surge()
            },
            Observed {
                waited: None,
                ..surge()
            },
        ];
        for case in cases {
            assert_eq!(pause(&case), None, "{case:?}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_run_queue_wait_is_readable_and_never_goes_back() {
        let first = run_queue_wait().expect("schedstat on Linux");
        std::thread::yield_now();
        assert!(run_queue_wait().expect("schedstat on Linux") >= first);
    }
}
