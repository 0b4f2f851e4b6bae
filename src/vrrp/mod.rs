//! VRRP (RFC 3768 v2, RFC 5798/9568 v3, IPv4) as a pure state machine.
//!
//! Owns: per-group state (INIT/BACKUP/MASTER/FAULT), timers, election,
//! preemption, sync groups, per-group counters. Never: sockets, clocks,
//! byte parsing (that is `wire::vrrp`), or frames other than adverts.

use crate::config::Ipv4Cidr;
use crate::time::Duration;
use std::net::Ipv4Addr;

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
    pub rx_interval_mismatch: u64,
    /// Adverts from another master that lost the election to us (two
    /// masters at once: split brain, resolved by re-asserting).
    pub split_brain: u64,
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
    /// "none" or "plaintext-password".
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
