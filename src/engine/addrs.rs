//! The table of this router's local addresses, rebuilt on VRRP transitions
//! (and reloads) instead of scanning every group per packet.
//!
//! Owns: which IPv4 addresses are ours on which port and with which MAC we
//! answer for them, which virtual MACs a port accepts, and whether a port
//! may forward. Rules (RFC 3768 §8.2, RFC 5798 §8.1.2, issue 12):
//! * A virtual address is ours only while its group is MASTER, answered
//!   with the virtual MAC in RFC mode and the interface MAC otherwise.
//! * The interface's own address is ours at all times, with the interface
//!   MAC, *unless* it is also a virtual address (the address owner): then it
//!   follows the group like any VIP — an owner that is not MASTER (FAULT, or
//!   held in BACKUP by its sync group) answers nothing for it, and a master
//!   owner in RFC mode answers with the virtual MAC. Such a router must be
//!   managed through another address while it is not master.
//! * A port forwards frames when it has no VRRP group at all (a plain
//!   routed port) or when at least one of its groups is MASTER; a backup
//!   forwards nothing (clients reach it only through a stale ARP entry).
//!
//! Never: allocates after `new` (the capacity is fixed by the config).

use super::PortId;
use crate::config::Config;
use crate::vrrp::VrrpState;
use crate::wire::EthernetAddress;
use std::net::Ipv4Addr;

/// Whose an address is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AddrKind {
    /// The interface's own address.
    Own,
    /// A virtual address of the group with this index (its MASTER).
    Vip(usize),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LocalAddr {
    pub port: PortId,
    pub ip: Ipv4Addr,
    /// The MAC we answer ARP with and send from for this address.
    pub mac: [u8; 6],
    pub kind: AddrKind,
}

/// One group as the table needs it.
pub struct GroupView<'a> {
    pub port: PortId,
    pub vrid: u8,
    pub state: VrrpState,
    pub rfc_mode: bool,
    pub vips: &'a [Ipv4Addr],
}

#[derive(Clone)]
pub struct LocalAddrs {
    addrs: Vec<LocalAddr>,
    /// Virtual MACs each port accepts (RFC mode masters).
    vmacs: Vec<(PortId, [u8; 6])>,
    /// Per port: may forward (see module docs).
    forwarding: Vec<bool>,
    /// Per port: the interface MAC.
    macs: Vec<[u8; 6]>,
}

#[allow(dead_code)] // find, source_mac, forwarding, iter: used by the dataplane (issue 10)
impl LocalAddrs {
    /// Sized for `config`: every interface address plus every VIP.
    pub fn new(config: &Config) -> LocalAddrs {
        let vips: usize = config
            .vrrp_groups
            .iter()
            .map(|g| g.virtual_addresses.len())
            .sum();
        LocalAddrs {
            addrs: Vec::with_capacity(config.interfaces.len() + vips),
            vmacs: Vec::with_capacity(config.vrrp_groups.len()),
            forwarding: vec![true; config.interfaces.len()],
            macs: vec![[0; 6]; config.interfaces.len()],
        }
    }

    /// Recompute from the interfaces (`own[port]` = (address, MAC)) and the
    /// groups. Allocation-free when the config did not grow since `new`.
    pub fn rebuild<'a>(
        &mut self,
        own: impl Iterator<Item = (Ipv4Addr, [u8; 6])>,
        groups: impl Iterator<Item = GroupView<'a>> + Clone,
    ) {
        self.addrs.clear();
        self.vmacs.clear();
        for (port, (ip, mac)) in own.enumerate() {
            if let Some(f) = self.forwarding.get_mut(port) {
                *f = true;
            }
            if let Some(m) = self.macs.get_mut(port) {
                *m = mac;
            }
            let is_vip = groups
                .clone()
                .any(|g| g.port == port && g.vips.contains(&ip));
            if !is_vip && !ip.is_unspecified() {
                self.addrs.push(LocalAddr {
                    port,
                    ip,
                    mac,
                    kind: AddrKind::Own,
                });
            }
        }
        // A port with groups forwards only if one of them is master.
        for g in groups.clone() {
            let any_master = groups
                .clone()
                .any(|h| h.port == g.port && h.state == VrrpState::Master);
            if let Some(f) = self.forwarding.get_mut(g.port) {
                *f = any_master;
            }
        }
        for (i, g) in groups.enumerate() {
            if g.state != VrrpState::Master {
                continue;
            }
            let vmac = EthernetAddress::vrrp_virtual(g.vrid).0;
            let mac = if g.rfc_mode {
                self.vmacs.push((g.port, vmac));
                vmac
            } else {
                self.macs.get(g.port).copied().unwrap_or([0; 6])
            };
            for &ip in g.vips {
                self.addrs.push(LocalAddr {
                    port: g.port,
                    ip,
                    mac,
                    kind: AddrKind::Vip(i),
                });
            }
        }
    }

    /// The MAC that answers for `ip` on `port`, if the address is ours there.
    pub fn owner(&self, port: PortId, ip: Ipv4Addr) -> Option<EthernetAddress> {
        self.addrs
            .iter()
            .find(|a| a.port == port && a.ip == ip)
            .map(|a| EthernetAddress(a.mac))
    }

    /// The entry for `ip` on any port.
    pub fn find(&self, ip: Ipv4Addr) -> Option<&LocalAddr> {
        self.addrs.iter().find(|a| a.ip == ip)
    }

    /// Whether `mac` is a virtual MAC that `port` accepts.
    pub fn accepts_vmac(&self, port: PortId, mac: [u8; 6]) -> bool {
        self.vmacs.iter().any(|&(p, m)| p == port && m == mac)
    }

    /// The MAC frames leaving `port` are sent from: the virtual MAC of a
    /// master group in RFC mode there, else `port_mac`.
    pub fn source_mac(&self, port: PortId, port_mac: [u8; 6]) -> [u8; 6] {
        self.vmacs
            .iter()
            .find(|&&(p, _)| p == port)
            .map_or(port_mac, |&(_, m)| m)
    }

    pub fn forwarding(&self, port: PortId) -> bool {
        self.forwarding.get(port).copied().unwrap_or(false)
    }

    pub fn iter(&self) -> impl Iterator<Item = &LocalAddr> {
        self.addrs.iter()
    }
}
