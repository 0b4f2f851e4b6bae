//! Fuzz harnesses for every input hagw takes from outside (issue 8).
//!
//! Owns: one `run(data)` per libFuzzer target (`fuzz_targets/*.rs` call it)
//! and the encoders that write seed inputs in the same format. The same
//! files are compiled into the main test suite by tests/fuzz_regressions.rs,
//! which replays every committed corpus file and every crash found, so a
//! fixed crash stays fixed under plain `cargo test`. Never: assertions about
//! behaviour beyond "no panic" and a few cheap invariants (counters add up,
//! what parses re-encodes to the same).

#[path = "../../sim/packet.rs"]
pub mod packet;
#[path = "../../sim/config.rs"]
pub mod simcfg;

pub mod bfd;
pub mod config;
pub mod control;
pub mod engine;
pub mod gateway;
pub mod input;
pub mod netlink;
pub mod sync;
pub mod vrrp;
