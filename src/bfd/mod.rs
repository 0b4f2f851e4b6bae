//! BFD (RFC 5880 asynchronous mode, RFC 5881 single hop IPv4) as a pure
//! state machine: liveness of the peer router over the sync link, for fast
//! takeover (SPEC §4a).
//!
//! Owns: the control packet codec (`packet`), one session's state machine,
//! timers, poll sequences and counters (`session`), and the shared types
//! here (states, diagnostics, drop reasons, events, the `show bfd` view).
//! Never: sockets, clocks, ports or addresses (the driver sends what
//! `Session::poll_transmit` writes to UDP port 3784 with TTL 255 from a
//! source port in 49152-65535, and hands in every received datagram with
//! its IP TTL), and never decides about VRRP (the engine reads the events).
//! The driver selects the session: it hands in only datagrams from the
//! configured peer address (RFC 5881 §3, needed while Your Discriminator
//! is still 0); the session checks the discriminator once it is known.
//!
//! Decisions where the RFCs leave room:
//! * No authentication: a packet with the A bit set is dropped (`auth`),
//!   we never set it. No Demand mode (we never set D; a peer's D bit is
//!   ignored and we keep sending periodically, which costs the peer
//!   nothing) and no Echo function (we advertise Required Min Echo RX 0).
//! * Always the Active role: packets are sent from the start, Down at the
//!   slow-start rate of one per second (RFC 5880 §6.8.3) until Up.
//! * A packet with both P and F set is dropped (`poll_and_final`), as
//!   keepalived does; RFC 5880 §6.5 forbids sending one.
//! * Periodic packets go at the negotiated interval with jitter; only the
//!   Final answer to a Poll is sent at once (§6.8.7). A state change does
//!   not send an extra packet; going Up shortens the interval and pulls the
//!   next packet in, which carries the Poll for the new timers.
//! * While in AdminDown we keep sending AdminDown packets at the slow-start
//!   rate (the RFC allows stopping after a Detection Time; continuing lets
//!   a peer that restarts learn it at once).
//! * A peer that signals AdminDown takes our session Down with diagnostic
//!   "neighbor signaled session down", as the RFC says; the event carries
//!   the peer's diagnostic too so the engine can tell an orderly stop from
//!   a failure.

use crate::time::{Duration, Instant};

pub mod packet;
pub mod session;

pub use packet::{BfdPacket, BfdRepr};
pub use session::Session;

/// UDP destination port of single-hop BFD control packets (RFC 5881 §4).
pub const CONTROL_PORT: u16 = 3784;
/// Lowest UDP source port a sender may use (RFC 5881 §4).
pub const SOURCE_PORT_MIN: u16 = 49152;
/// IP TTL every packet is sent with and must arrive with (RFC 5881 §5).
pub const TTL: u8 = 255;
/// How many state-change events a session queues for the engine.
pub const EVENT_CAPACITY: usize = 8;
/// Slowest transmit interval while the session is not Up (RFC 5880 §6.8.3).
pub const SLOW_START: Duration = Duration::from_secs(1);

/// Session state (RFC 5880 §4.1), with the wire values.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum State {
    AdminDown = 0,
    Down = 1,
    Init = 2,
    Up = 3,
}

impl State {
    pub fn from_bits(v: u8) -> State {
        match v & 3 {
            0 => State::AdminDown,
            1 => State::Down,
            2 => State::Init,
            _ => State::Up,
        }
    }
    /// Lower-case name as `show bfd` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            State::AdminDown => "admin_down",
            State::Down => "down",
            State::Init => "init",
            State::Up => "up",
        }
    }
}

/// Diagnostic code (RFC 5880 §4.1): why the session last changed state.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Diag {
    None,
    /// The peer's packets stopped for a Detection Time.
    DetectionTimeExpired,
    EchoFailed,
    /// The peer said Down (or AdminDown) while we were Init/Up.
    NeighborDown,
    ForwardingReset,
    PathDown,
    ConcatenatedPathDown,
    AdminDown,
    ReverseConcatenatedPathDown,
    /// 9-31, reserved by the RFC; kept as received.
    Reserved(u8),
}

impl Diag {
    pub fn from_bits(v: u8) -> Diag {
        match v & 0x1f {
            0 => Diag::None,
            1 => Diag::DetectionTimeExpired,
            2 => Diag::EchoFailed,
            3 => Diag::NeighborDown,
            4 => Diag::ForwardingReset,
            5 => Diag::PathDown,
            6 => Diag::ConcatenatedPathDown,
            7 => Diag::AdminDown,
            8 => Diag::ReverseConcatenatedPathDown,
            n => Diag::Reserved(n),
        }
    }
    pub fn bits(self) -> u8 {
        match self {
            Diag::None => 0,
            Diag::DetectionTimeExpired => 1,
            Diag::EchoFailed => 2,
            Diag::NeighborDown => 3,
            Diag::ForwardingReset => 4,
            Diag::PathDown => 5,
            Diag::ConcatenatedPathDown => 6,
            Diag::AdminDown => 7,
            Diag::ReverseConcatenatedPathDown => 8,
            Diag::Reserved(n) => n & 0x1f,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Diag::None => "none",
            Diag::DetectionTimeExpired => "detection_time_expired",
            Diag::EchoFailed => "echo_failed",
            Diag::NeighborDown => "neighbor_signaled_down",
            Diag::ForwardingReset => "forwarding_plane_reset",
            Diag::PathDown => "path_down",
            Diag::ConcatenatedPathDown => "concatenated_path_down",
            Diag::AdminDown => "admin_down",
            Diag::ReverseConcatenatedPathDown => "reverse_concatenated_path_down",
            Diag::Reserved(_) => "reserved",
        }
    }
}

/// Declares the drop reasons once: the `Drop` enum, `Drop::ALL` and the
/// names `show bfd`, JSON and metrics print, in one order.
macro_rules! drop_reasons {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// Why a received packet was discarded (RFC 5880 §6.8.6, RFC 5881 §5).
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
        pub enum Drop {
            $($(#[$doc])* $variant,)*
        }

        impl Drop {
            /// Every reason, in counter order.
            pub const ALL: &'static [Drop] = &[$(Drop::$variant,)*];
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Drop::$variant => $name,)*
                }
            }
        }
    };
}

drop_reasons! {
    /// Shorter than 24 bytes, or than its Length field says.
    Truncated => "truncated",
    /// Length field below the minimum (24, or 26 with the A bit).
    Length => "bad_length",
    /// Version is not 1.
    Version => "bad_version",
    /// Detect Mult is zero.
    DetectMult => "zero_detect_mult",
    /// The Multipoint bit is set.
    Multipoint => "multipoint",
    /// My Discriminator is zero.
    MyDiscriminator => "zero_my_discriminator",
    /// Your Discriminator is zero but the state is Init or Up.
    YourDiscriminatorZero => "zero_your_discriminator",
    /// Both Poll and Final set.
    PollAndFinal => "poll_and_final",
    /// IP TTL is not 255 (RFC 5881 §5, GTSM).
    Ttl => "ttl",
    /// The A bit is set; no authentication is configured (or supported).
    Auth => "auth",
    /// Your Discriminator is not this session's.
    UnknownDiscriminator => "unknown_discriminator",
    /// Our session is AdminDown: every packet is discarded.
    AdminDown => "admin_down",
}

impl core::fmt::Display for Drop {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Per-session counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Control packets written by `poll_transmit`.
    pub tx: u64,
    /// Packets handed to `handle_packet` (accepted and dropped).
    pub rx: u64,
    /// Dropped packets, indexed like `Drop::ALL`.
    pub drops: [u64; Drop::ALL.len()],
    pub state_changes: u64,
    /// Transitions to Up / away from Up.
    pub up: u64,
    pub down: u64,
    /// Poll sequences started (parameter changes while Up).
    pub polls: u64,
    /// Events the engine did not collect before the queue filled (oldest lost).
    pub events_lost: u64,
}

impl Counters {
    pub fn drop_count(&self, why: Drop) -> u64 {
        self.drops.get(why as usize).copied().unwrap_or(0)
    }
    /// (name, count) for every drop reason, in `Drop::ALL` order.
    pub fn drops_named(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        Drop::ALL.iter().map(|d| (d.as_str(), self.drop_count(*d)))
    }
    pub fn drops_total(&self) -> u64 {
        self.drops.iter().sum()
    }
}

/// A state change, queued for the engine (`Session::poll_event`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub from: State,
    pub to: State,
    /// Our diagnostic for the change.
    pub diag: Diag,
    /// The peer's last diagnostic (AdminDown tells an orderly stop).
    pub remote_diag: Diag,
    pub at: Instant,
}

/// A session's timers as configured (`conntrack_sync` options `bfd_min_tx`,
/// `bfd_min_rx`, `bfd_multiplier`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// Desired Min TX Interval once Up (at least 1 s while not Up).
    pub desired_min_tx: Duration,
    /// Required Min RX Interval (0: the peer must not send periodically).
    pub required_min_rx: Duration,
    /// Detect Mult: packets missed before the peer declares us down.
    pub detect_mult: u8,
}

impl Default for SessionConfig {
    /// 10 ms, 10 ms, 3: the defaults of the config options.
    fn default() -> Self {
        SessionConfig {
            desired_min_tx: Duration::from_millis(10),
            required_min_rx: Duration::from_millis(10),
            detect_mult: 3,
        }
    }
}

impl SessionConfig {
    pub fn from_settings(s: &crate::config::BfdSettings) -> SessionConfig {
        SessionConfig {
            desired_min_tx: Duration::from_millis(u64::from(s.min_tx_ms)),
            required_min_rx: Duration::from_millis(u64::from(s.min_rx_ms)),
            detect_mult: s.multiplier,
        }
    }
}

/// A read-only view of a session for `hagw show bfd`, JSON and metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub state: State,
    pub remote_state: State,
    pub local_discriminator: u32,
    /// 0 until the peer is heard (and again after a Detection Time of silence).
    pub remote_discriminator: u32,
    pub local_diag: Diag,
    pub remote_diag: Diag,
    /// What we advertise now (slow start included).
    pub desired_min_tx: Duration,
    pub required_min_rx: Duration,
    pub detect_mult: u8,
    /// What the peer advertised last.
    pub remote_desired_min_tx: Duration,
    pub remote_required_min_rx: Duration,
    pub remote_detect_mult: u8,
    /// Negotiated transmit interval (before jitter); None while the peer
    /// asks for no periodic packets.
    pub tx_interval: Option<Duration>,
    /// Negotiated receive interval; None until the peer is heard.
    pub rx_interval: Option<Duration>,
    /// Detection Time (peer's Detect Mult × receive interval); None until heard.
    pub detect_time: Option<Duration>,
    pub poll_active: bool,
    pub last_state_change: Option<Instant>,
    /// When the last accepted packet arrived (cleared after a Detection
    /// Time of silence).
    pub last_rx: Option<Instant>,
    pub counters: Counters,
}

#[cfg(test)]
mod pair_tests;
