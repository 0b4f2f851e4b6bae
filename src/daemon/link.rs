//! Ports (one per configured interface) and their link state.
//!
//! Link state is read with SIOCGIFFLAGS (one ioctl per interface): at once
//! when a NETLINK_ROUTE link notification arrives (`netlink`), and as a
//! fallback every `LINK_POLL_WITH_NETLINK` (1 s), or every `LINK_POLL`
//! (200 ms) when the netlink socket cannot be opened. A port is usable when the device exists, is UP and
//! RUNNING, and (lan/wan) its packet socket is open. A missing device is
//! retried every `RETRY` without exiting (and `missing` says so).
//!
//! Owns: opening/reopening the packet socket of lan/wan ports, MAC
//! memberships, per-port driver counters (including the kernel's socket
//! drops), and a warning for every kernel IPv4 address or IPv4 forwarding on
//! a lan/wan device (checked at each open and link up, and on every netlink
//! IPv4 address event). Never: decides what a link change means for VRRP
//! (the engine does), changes kernel settings.

use super::packet::{MacFilter, PacketSocket, VRRP_MCAST_MAC};
use super::sys::{IoctlSocket, fmt_mac, kernel_ipv4_addrs, kernel_ipv4_forwarding};
use crate::config::{Config, Interface, Role};
use crate::time::{Duration, Instant};
use log::{debug, info, warn};

pub const LINK_POLL: Duration = Duration::from_millis(200);
pub const LINK_POLL_WITH_NETLINK: Duration = Duration::from_secs(1);
pub const RETRY: Duration = Duration::from_secs(1);

/// What the driver itself counts per port (the wire truth).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortCounters {
    pub rx_frames: u64,
    pub rx_bytes: u64,
    pub tx_frames: u64,
    pub tx_bytes: u64,
    pub rx_errors: u64,
    pub tx_errors: u64,
    pub rx_oversize: u64,
    /// TCP super-frames (segmentation offload, GRO) cut into wire-sized
    /// segments (each segment is then counted in rx_frames).
    pub rx_segmented: u64,
    /// Longer than the receive buffer (MSG_TRUNC): never seen whole.
    pub rx_truncated: u64,
    /// Dropped by the kernel before we read them (socket receive buffer
    /// full; PACKET_STATISTICS tp_drops, summed).
    pub rx_overrun: u64,
    /// Receive-ring blocks taken, and the most frames one block held (how
    /// well receive batching works).
    pub rx_batches: u64,
    pub rx_batch_max: u64,
    /// sendmmsg(2) calls on the forward path (tx_frames / tx_batches is
    /// the frames per call).
    pub tx_batches: u64,
}

pub struct Port {
    pub name: String,
    pub device: String,
    pub role: Role,
    pub sock: Option<PacketSocket>,
    pub ifindex: i32,
    /// Zero until the device has been seen.
    pub mac: [u8; 6],
    /// Link state last reported to the engine.
    pub up: bool,
    /// The device's IP MTU last reported to the engine (0: not read yet).
    pub mtu: u16,
    /// Virtual MACs (RFC 3768 mode) the socket was told to accept.
    vmacs: Vec<[u8; 6]>,
    pub counters: PortCounters,
    /// Kernel settings found since the socket was last opened that conflict
    /// with hagw owning the device (an IPv4 address, IPv4 forwarding on).
    pub kernel_conflicts: u32,
    /// The conflicts already warned about since the socket was opened.
    kernel_reported: Vec<String>,
    /// The kernel's IPv4 addresses on this lan/wan device at the last check
    /// (socket open, link up, or a netlink address event).
    pub kernel_ipv4: Vec<(std::net::Ipv4Addr, u32)>,
    /// The device does not exist (its last read failed): the groups on it
    /// are in FAULT until it appears.
    pub missing: bool,
    next_retry: Instant,
    last_error: Option<String>,
}

impl Port {
    pub fn new(iface: &Interface) -> Port {
        Port {
            name: iface.name.clone(),
            device: iface.device.clone(),
            role: iface.role,
            sock: None,
            ifindex: 0,
            mac: [0; 6],
            up: false,
            mtu: 0,
            vmacs: Vec::new(),
            counters: PortCounters::default(),
            kernel_conflicts: 0,
            kernel_reported: Vec::new(),
            kernel_ipv4: Vec::new(),
            missing: false,
            next_retry: Instant::ZERO,
            last_error: None,
        }
    }

    /// Dataplane ports get a packet socket; the sync port is the kernel's.
    pub fn dataplane(&self) -> bool {
        matches!(self.role, Role::Lan | Role::Wan)
    }

    fn note_error(&mut self, what: String) {
        if self.last_error.as_deref() != Some(what.as_str()) {
            warn!(
                "{} ({}): {what}; retrying every {}s",
                self.name,
                self.device,
                RETRY.as_secs()
            );
            self.last_error = Some(what);
        } else {
            debug!("{} ({}): {what}", self.name, self.device);
        }
    }

    /// Add the kernel's drop count for the socket (read-and-reset) to the
    /// counters.
    pub fn read_kernel_drops(&mut self) {
        if let Some(s) = &self.sock {
            match s.take_drops() {
                Ok(n) => self.counters.rx_overrun += n,
                Err(e) => debug!("{}: PACKET_STATISTICS: {e}", self.name),
            }
        }
    }

    fn close(&mut self) {
        self.read_kernel_drops();
        if self.sock.is_some() {
            warn!("{} ({}): packet socket closed", self.name, self.device);
        }
        self.sock = None;
        self.vmacs.clear();
        self.kernel_ipv4.clear(); // re-read when it opens again
    }

    fn open(&mut self, ioctl: &IoctlSocket, config: &Config) -> bool {
        let ifindex = match ioctl.ifindex(&self.device) {
            Ok(i) => i,
            Err(e) => {
                self.note_error(format!("device not available: {e}"));
                return false;
            }
        };
        let mac = match ioctl.hwaddr(&self.device) {
            Ok(m) => m,
            Err(e) => {
                self.note_error(format!("cannot read MAC: {e}"));
                return false;
            }
        };
        if self.mac != [0; 6] && self.mac != mac {
            // Re-created device: the caller tells the engine (`set_mac`).
            warn!(
                "{} ({}): MAC changed from {} to {}; using the new one",
                self.name,
                self.device,
                fmt_mac(&self.mac),
                fmt_mac(&mac)
            );
        }
        self.mac = mac;
        self.ifindex = ifindex;
        if !self.dataplane() {
            self.last_error = None;
            return true;
        }
        let sock = match PacketSocket::open(ifindex) {
            Ok(s) => s,
            Err(e) => {
                self.note_error(format!("cannot open packet socket: {e}"));
                return false;
            }
        };
        self.disable_rx_merging();
        if let Err(e) = sock.join_multicast(&VRRP_MCAST_MAC) {
            self.note_error(format!("cannot join VRRP multicast MAC: {e}"));
            return false;
        }
        info!(
            "{} ({}): packet socket open (ifindex {ifindex}, MAC {})",
            self.name,
            self.device,
            fmt_mac(&self.mac)
        );
        self.kernel_reported.clear();
        self.kernel_conflicts = 0;
        self.check_kernel_ownership();
        self.sock = Some(sock);
        self.vmacs.clear();
        self.last_error = None;
        self.sync_vmacs(config);
        true
    }

    /// GRO/LRO off on an owned port (see `IoctlSocket::disable_rx_merging`);
    /// said in the log, as it changes the device.
    fn disable_rx_merging(&self) {
        let r = IoctlSocket::new().and_then(|s| s.disable_rx_merging(&self.device));
        match r {
            Ok(off) if off.is_empty() => {}
            Ok(off) => info!(
                "{} ({}): turned off {} (hagw forwards frames as received; merged frames would be too big)",
                self.name,
                self.device,
                off.join(", ")
            ),
            Err(e) => warn!(
                "{} ({}): cannot turn off GRO/LRO ({e}); frames the driver merges arrive truncated and are dropped (rx_truncated)",
                self.name, self.device
            ),
        }
    }

    /// SPEC §1: hagw owns lan/wan devices, so the kernel must have no IPv4
    /// address on them (it would answer ARP for it too, with the same MAC,
    /// and send its own ICMP/RSTs) and must not forward for them. Called
    /// when the socket is (re)opened and when the link comes up; warns once
    /// (per open) about each conflict and counts them in
    /// `kernel_conflicts`. Never changes anything.
    pub fn check_kernel_ownership(&mut self) {
        if !self.dataplane() {
            return;
        }
        let mut found = Vec::new();
        match kernel_ipv4_addrs(&self.device) {
            Ok(addrs) => {
                self.kernel_ipv4.clone_from(&addrs);
                for (a, len) in addrs {
                    found.push(format!(
                        "the kernel has IPv4 address {a}/{len} on this device; hagw owns lan/wan devices and the kernel would answer ARP there too: remove it (ip addr del {a}/{len} dev {})",
                        self.device
                    ));
                }
            }
            Err(e) => debug!("{} ({}): getifaddrs: {e}", self.name, self.device),
        }
        if kernel_ipv4_forwarding(&self.device) == Some(true) {
            found.push(format!(
                "the kernel forwards IPv4 on this device (/proc/sys/net/ipv4/conf/{}/forwarding = 1); hagw routes for lan/wan devices: set it to 0",
                self.device
            ));
        }
        let mut new = 0u32;
        for what in found {
            if self.kernel_reported.contains(&what) {
                continue;
            }
            warn!("{} ({}): {what}", self.name, self.device);
            self.kernel_reported.push(what);
            new += 1;
        }
        if new > 0 {
            self.kernel_conflicts += new;
            warn!(
                "{} ({}): {} kernel setting(s) conflict with hagw owning this device",
                self.name, self.device, self.kernel_conflicts
            );
        }
    }

    /// A netlink IPv4 address event: re-check the kernel's addresses on
    /// this device at once (not at the next link change). Warns about a new
    /// one as `check_kernel_ownership` does; says when the last one is gone.
    pub fn recheck_kernel_ipv4(&mut self) {
        if !self.dataplane() || self.sock.is_none() {
            return; // checked when the socket opens
        }
        let had = self.kernel_ipv4.len();
        self.check_kernel_ownership();
        // An address removed and added again is warned about again.
        let now = &self.kernel_ipv4;
        self.kernel_reported.retain(|w| {
            !w.starts_with("the kernel has IPv4 address ")
                || now
                    .iter()
                    .any(|(a, l)| w.starts_with(&format!("the kernel has IPv4 address {a}/{l} ")))
        });
        if had > 0 && self.kernel_ipv4.is_empty() {
            info!(
                "{} ({}): the kernel has no IPv4 address on this device any more",
                self.name, self.device
            );
        }
    }

    /// Make the socket accept the virtual MAC of every RFC-mode group on this port.
    pub fn sync_vmacs(&mut self, config: &Config) {
        let Some(sock) = &self.sock else {
            return;
        };
        for g in &config.vrrp_groups {
            if g.interface != self.name || !g.rfc3768_compatibility {
                continue;
            }
            let vmac = [0x00, 0x00, 0x5e, 0x00, 0x01, g.vrid];
            if self.vmacs.contains(&vmac) {
                continue;
            }
            match sock.accept_unicast(&vmac) {
                Ok(MacFilter::Unicast) => info!(
                    "{} ({}): accepting virtual MAC {} (unicast filter)",
                    self.name,
                    self.device,
                    fmt_mac(&vmac)
                ),
                Ok(MacFilter::Promiscuous) => info!(
                    "{} ({}): accepting virtual MAC {} (promiscuous mode; unicast filter refused)",
                    self.name,
                    self.device,
                    fmt_mac(&vmac)
                ),
                Err(e) => warn!(
                    "{} ({}): cannot accept virtual MAC {}: {e}",
                    self.name,
                    self.device,
                    fmt_mac(&vmac)
                ),
            }
            self.vmacs.push(vmac);
        }
    }

    /// Re-read the device; (re)open the socket when due. Returns the new
    /// usable state (the caller compares with `up` and tells the engine).
    pub fn refresh(&mut self, now: Instant, ioctl: &IoctlSocket, config: &Config) -> bool {
        let flags = match ioctl.flags(&self.device) {
            Ok(f) => {
                self.missing = false;
                f
            }
            Err(e) => {
                self.missing = true;
                self.close();
                self.note_error(format!("device not available: {e}"));
                return false;
            }
        };
        let opened = self.sock.is_some() || (!self.dataplane() && self.mac != [0; 6]);
        if opened {
            // Deleted and re-created between two polls: new ifindex, reopen.
            match ioctl.ifindex(&self.device) {
                Ok(i) if i == self.ifindex => {}
                _ => {
                    self.close();
                    self.next_retry = now;
                    self.mac = if self.dataplane() { self.mac } else { [0; 6] };
                }
            }
        }
        let opened = self.sock.is_some() || (!self.dataplane() && self.mac != [0; 6]);
        if !opened && now >= self.next_retry {
            self.next_retry = now + RETRY;
            self.open(ioctl, config);
        }
        let ready = self.sock.is_some() || !self.dataplane();
        flags.usable() && ready
    }
}
