//! VRRP (RFC 3768 v2, RFC 5798/9568 v3, IPv4) as a pure state machine.
//!
//! Owns: per-group state (INIT/BACKUP/MASTER/FAULT), timers, election,
//! preemption, per-group counters (`group`). Sync groups are decided by the
//! engine, which sees every group. Never: sockets, clocks, byte parsing
//! (that is `wire::vrrp`), or frames.
//!
//! Decisions where the RFCs leave room:
//! * Address list mismatch: always counted (`rx_address_list_error`);
//!   dropped for v2 unless the sender is the owner (priority 255, RFC 3768
//!   §7.1), accepted for v3 (RFC 5798 §7.1 only asks to log; keepalived
//!   accepts too).
//! * preempt_delay: a backup that sees a lower-priority master keeps it as
//!   master (its adverts reset Master_Down_Timer) and preempts exactly
//!   preempt_delay after the first such advert; a higher or equal advert
//!   cancels the wait. With preempt_delay 0 the RFC rule applies (ignore the
//!   lower advert, take over at Master_Down_Interval).
//! * Preempt and equal priority: RFC 3768 §6.4.2 lets a backup keep an
//!   equal-priority master whatever its address, so the winner would depend
//!   on start order. With preempt on (the default) a backup treats an
//!   equal-priority master with a lower primary address like a lower-priority
//!   one and takes over (after preempt_delay), so "ties go to the higher
//!   address" holds however the routers start (SPEC §7 scenario 1). The
//!   master side is the RFC's own rule (§6.4.3), so RFC peers agree.
//! * A master that sees a lower-priority master advertises at once and
//!   re-sends gratuitous ARP (split brain, counted in `split_brain`).
//! * A master forced out by its sync group or a FAULT sends priority 0 (when
//!   its link is up) so the peer takes over after Skew_Time.
//! * Address owner (a VIP equal to the interface's own address): runs at
//!   priority 255, always preempts and ignores preempt_delay (RFC 5798
//!   §6.1). While it is not MASTER (FAULT, or held in BACKUP by its sync
//!   group) it answers neither ARP nor ping for that address (RFC 3768
//!   §6.4.2); the router must then be managed through another address. A
//!   priority-255 advert from another router (two owners) is discarded,
//!   counted (`owner_conflict`) and logged, and the address is kept (RFC 5798
//!   §7.1; RFC 9568 asks to log; keepalived reports a configuration error).
//! * No Accept_Mode (RFC 5798 §6.1): a master always accepts traffic for its
//!   virtual addresses (answers ping; with the dataplane, port forwards and
//!   SNAT return traffic on a WAN VIP need it). keepalived does the same
//!   unless `vrrp_strict`. A backup accepts nothing for them.
//! * A v3 advert whose Max Adver Int is 0 is discarded and counted as an
//!   interval error (RFC 9568 erratum to RFC 5798), not clamped.
//! * `auth_type ah` (v2 only) follows keepalived: one sequence counter per
//!   group serves both directions (`AhSeq`): a received advert is accepted
//!   only with a higher number than any seen or sent (a replay or an old
//!   one is counted in `rx_ah_replay` and dropped), and each advert sent
//!   carries the counter plus one. So a restarted router, which counts
//!   from 0 again, continues above what its peer had seen once it has
//!   heard the peer; until then its own adverts are refused as replays by
//!   the peer, which becomes master and is then taken over again.

use crate::config::Ipv4Cidr;
use crate::time::Duration;
use std::net::Ipv4Addr;

/// A group's authentication (v2), derived from the config.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum GroupAuth {
    None,
    /// The zero-padded password carried in every advert.
    Plaintext([u8; 8]),
    /// The AH key (the password's first 8 bytes, zero padded).
    Ah([u8; 8]),
}

impl GroupAuth {
    /// As `show vrrp` prints it (the config's auth_type value).
    pub fn name(self) -> &'static str {
        match self {
            GroupAuth::None => "none",
            GroupAuth::Plaintext(_) => "plaintext-password",
            GroupAuth::Ah(_) => "ah",
        }
    }
}

/// The AH sequence counter of one group, shared by receive and send as
/// keepalived does (see the module notes).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct AhSeq {
    last: u32,
}

impl AhSeq {
    /// An authenticated advert carried `seq`: true (and remembered) when
    /// it is higher than any seen or sent, false for a replay.
    pub fn accept(&mut self, seq: u32) -> bool {
        if seq > self.last {
            self.last = seq;
            true
        } else {
            false
        }
    }

    /// The number for the next advert sent (stays at `wire::ah::SEQ_MAX`
    /// once reached, like keepalived: after 2^32 adverts).
    pub fn next_tx(&mut self) -> u32 {
        if self.last < crate::wire::ah::SEQ_MAX {
            self.last += 1;
        }
        self.last
    }

    pub fn last(self) -> u32 {
        self.last
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum VrrpState {
    Init,
    Backup,
    Master,
    Fault,
}

impl VrrpState {
    /// Lower-case name as shown by `show vrrp` and passed to notify scripts.
    pub fn as_str(self) -> &'static str {
        match self {
            VrrpState::Init => "init",
            VrrpState::Backup => "backup",
            VrrpState::Master => "master",
            VrrpState::Fault => "fault",
        }
    }
}

/// Per-group counters; every dropped advert is counted by reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupCounters {
    pub adverts_rx: u64,
    pub adverts_tx: u64,
    pub became_master: u64,
    pub priority_zero_rx: u64,
    pub priority_zero_tx: u64,
    pub rx_ttl_error: u64,
    pub rx_checksum_error: u64,
    pub rx_version_error: u64,
    pub rx_length_error: u64,
    /// Type field not ADVERTISEMENT.
    pub rx_type_error: u64,
    pub rx_address_list_error: u64,
    pub rx_auth_error: u64,
    /// `auth_type ah`: authenticated adverts with an old sequence number.
    pub rx_ah_replay: u64,
    pub rx_interval_mismatch: u64,
    /// Adverts from another master that lost the election to us (two
    /// masters at once: split brain, resolved by re-asserting).
    pub split_brain: u64,
    /// Priority-255 adverts from another router while we own the address
    /// (two owners: a configuration error; discarded, logged).
    pub owner_conflict: u64,
}

/// A read-only view of one group, for `show vrrp` and metrics.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupStatus {
    pub name: String,
    pub interface: String,
    pub interface_up: bool,
    pub vrid: u8,
    pub version: u8,
    pub state: VrrpState,
    pub address_owner: bool,
    /// Priority as sent on the wire (255 for an owner, 254 for a non-owner configured 255).
    pub priority: u8,
    pub configured_priority: u8,
    pub advert_interval_cs: u16,
    /// v3: the interval learned from the current master.
    pub master_advert_interval_cs: u16,
    /// "none", "plaintext-password" or "ah".
    pub auth_type: &'static str,
    pub preempt: bool,
    pub preempt_delay_secs: u32,
    pub vips: Vec<Ipv4Cidr>,
    pub source_address: Ipv4Addr,
    /// The current master's primary address (ourselves when master), if known.
    pub master_router: Option<Ipv4Addr>,
    pub master_priority: Option<u8>,
    pub sync_group: Option<String>,
    /// Time since the last state change.
    pub last_transition: Option<Duration>,
    pub counters: GroupCounters,
}

pub mod group;
pub use group::{Group, GroupParams};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ah_seq_shared_by_send_and_receive() {
        let mut s = AhSeq::default();
        assert!(!s.accept(0));
        assert!(s.accept(5));
        assert!(!s.accept(5), "a replay");
        assert!(!s.accept(4), "an old one");
        assert_eq!(s.next_tx(), 6, "sending continues above what was seen");
        assert!(!s.accept(6), "our own number is not accepted back");
        assert!(s.accept(100));
        let mut top = AhSeq {
            last: crate::wire::ah::SEQ_MAX - 1,
        };
        assert_eq!(top.next_tx(), crate::wire::ah::SEQ_MAX);
        assert_eq!(top.next_tx(), crate::wire::ah::SEQ_MAX);
    }
}
