//! hagw — high-availability gateway for small routers.
//!
//! The crate is a pure, sans-IO core (`config`, `wire`, `vrrp`, `bfd`,
//! `conntrack`, `nat`, `firewall`, `route`, `sync`, `engine`) driven either
//! by the real daemon (`daemon`: sockets, poll loop, signals) or by the
//! deterministic simulator in `tests/sim`. The core never touches a socket,
//! a clock or a file; untrusted bytes go through checked parsers.
//!
//! Outside tests the library has no `unwrap`, `expect` or `panic!`: the
//! lints below keep it that way (an error or a counted drop instead).
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod bfd;
pub mod cli;
pub mod config;
pub mod conntrack;
pub mod daemon;
pub mod engine;
pub mod firewall;
pub mod hash;
pub mod local;
pub mod nat;
pub mod rng;
pub mod route;
pub mod sync;
pub mod time;
pub mod track;
pub mod vrrp;
pub mod wire;
