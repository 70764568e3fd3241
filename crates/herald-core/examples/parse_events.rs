//! Ingest's per-message parse (`Incoming::parse`) on the events `herald bench ingest` sends
//! (~476-byte `track` calls): what validation costs per event, apart from HTTP and storage.
//! Deterministic in instructions, so it can be compared between builds under
//! `valgrind --tool=callgrind` on a busy machine:
//!
//! ```sh
//! cargo run --release -p herald-core --example parse_events -- 200000
//! ```

use std::time::Instant;

use herald_core::event::{Incoming, ParseContext, TimeMode};
use herald_core::timestamp::parse_timestamp;

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(200_000);
    let padding = "x".repeat(200);
    let events: Vec<String> = (0..1000)
        .map(|i| {
            format!(
                r#"{{"type":"track","event":"Order Completed","messageId":"bench-{i:012}","userId":"user-{:06}","timestamp":"2026-11-01T12:00:00.000Z","context":{{"library":{{"name":"herald-bench","version":"1"}},"ip":"127.0.0.1"}},"properties":{{"revenue":42.5,"currency":"EUR","sku":"SKU-1234","padding":"{padding}"}}}}"#,
                (i * 7919) % 1_000_000
            )
        })
        .collect();
    let ctx = ParseContext {
        received_at: parse_timestamp("2026-11-01T12:00:01Z").expect("a time"),
        batch_sent_at: Some("2026-11-01T12:00:00.000Z"),
        implied_type: None,
        time_mode: TimeMode::Live,
        fallback_message_id: String::new,
    };
    let started = Instant::now();
    let mut bytes = 0;
    for i in 0..count {
        let incoming = Incoming::parse(&events[i % events.len()], &ctx, None).expect("valid");
        bytes += incoming.json.len();
    }
    let elapsed = started.elapsed();
    println!(
        "{count} events ({} bytes stored) in {:.3} s: {:.0} ns/event",
        bytes,
        elapsed.as_secs_f64(),
        elapsed.as_nanos() as f64 / count as f64
    );
}
