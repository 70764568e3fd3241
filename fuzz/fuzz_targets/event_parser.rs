//! Ingest's event parser: whatever it accepts, the processor's reader must read back, and
//! nothing may panic (`herald_core::testing::accepted_reads_back`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| herald_core::testing::accepted_reads_back(data));
