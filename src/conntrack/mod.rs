//! Connection tracking: the fixed-size session table of the dataplane.
//!
//! Owns: flow identity (`tuple`), the connection state a packet has for the
//! firewall (`CtState`) and which way a packet runs in its session (`Dir`).
//! The session table, protocol state machines and expiry are being built
//! (issue 10).

pub mod frag;
pub mod tuple;

pub use tuple::Tuple;

/// Which way a packet runs in its session.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    /// From the side that opened the session.
    Original,
    /// The answering side.
    Reply,
}

/// A packet's connection state, as firewall rules match it
/// (`option state 'new,established,related,invalid'`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum CtState {
    /// Would open a session (no session yet).
    New,
    /// Belongs to a tracked session (either direction).
    Established,
    /// An ICMP error about a tracked session.
    Related,
    /// Fits no session and cannot open one (e.g. a mid-stream TCP segment),
    /// or is outside its session's TCP window.
    Invalid,
}
