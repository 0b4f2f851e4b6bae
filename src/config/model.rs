//! The validated configuration model: what every section and option of the
//! UCI schema (SPEC §6) means once parsed and cross-checked.
//!
//! Nothing here parses text; `config::validate` builds these from the UCI
//! sections. Every item keeps the line it came from, so later checks (and a
//! SIGHUP reload) can still say `FILE:LINE:`. Names refer to other sections
//! by their UCI section name (e.g. a group's `interface` is "lan").

use std::net::Ipv4Addr;

/// An IPv4 address with a prefix length (`192.168.10.2/24`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ipv4Cidr {
    pub addr: Ipv4Addr,
    pub prefix_len: u8,
}

impl Ipv4Cidr {
    pub fn netmask(self) -> u32 {
        if self.prefix_len == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix_len.min(32)))
        }
    }
    pub fn network(self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) & self.netmask())
    }
    pub fn contains(self, ip: Ipv4Addr) -> bool {
        (u32::from(ip) & self.netmask()) == (u32::from(self.addr) & self.netmask())
    }
}

impl core::fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

/// An inclusive port range; a single port is `lo == hi`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct PortRange {
    pub lo: u16,
    pub hi: u16,
}

/// An inclusive IPv4 address range; a single address is `lo == hi`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct AddrRange {
    pub lo: Ipv4Addr,
    pub hi: Ipv4Addr,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Globals {
    pub node_id: u16,
    pub log_level: LogLevel,
    pub control_socket: String,
    /// Scheduling niceness the daemon gives itself (-20..19, like
    /// keepalived's `vrrp_priority`). Default -10: the forwarding loop runs
    /// ahead of the router's other daemons, as the kernel's own forwarding
    /// (softirq) runs ahead of every process.
    pub nice: i8,
    pub line: usize,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Role {
    Lan,
    Wan,
    Sync,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Interface {
    /// UCI section name, e.g. "lan"; what other sections refer to.
    pub name: String,
    /// Kernel device, e.g. "lan0".
    pub device: String,
    pub role: Role,
    /// The interface's primary address (VRRP source address).
    pub address: Ipv4Cidr,
    /// The kernel TAP device that carries the router's own traffic on this
    /// port (`hagw-<name>` by default; None: `option host_tap '0'`, or the
    /// sync interface, which is a kernel interface already).
    pub host_tap: Option<String>,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    pub target: Ipv4Cidr,
    pub gateway: Option<Ipv4Addr>,
    pub interface: String,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VrrpAuth {
    None,
    /// Up to 8 bytes, sent in the clear (RFC 2338 type 1).
    Plaintext(String),
    /// IPsec AH (HMAC-MD5-96) keyed with up to 8 bytes, as keepalived's
    /// `auth_type AH` (RFC 2338 type 2); `wire::ah`.
    Ah(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct VrrpGroup {
    /// UCI section name, e.g. "lan_gw" (used in logs and notify scripts).
    pub name: String,
    pub interface: String,
    pub vrid: u8,
    /// One or more virtual addresses; prefix length defaults to the interface's.
    pub virtual_addresses: Vec<Ipv4Cidr>,
    /// As configured (1–255). Address owners run at 255 regardless.
    pub priority: u8,
    pub preempt: bool,
    pub preempt_delay_secs: u32,
    /// Advertisement interval in centiseconds (v2: whole seconds only).
    pub advert_interval_cs: u16,
    pub version: u8,
    pub rfc3768_compatibility: bool,
    pub auth: VrrpAuth,
    pub sync_group: Option<String>,
    pub track_interfaces: Vec<String>,
    /// Names of `track` sections (health tracking) this group follows.
    pub tracks: Vec<String>,
    pub notify: Option<String>,
    /// `notify_args 'keepalived'`: call `notify` as keepalived does
    /// (`INSTANCE NAME STATE PRIORITY`) instead of `NAME state`.
    pub notify_keepalived: bool,
    pub unicast_peers: Vec<Ipv4Addr>,
    /// Gratuitous ARPs sent per VIP on becoming master.
    pub garp_repeat: u8,
    /// Period of the master's GARP refresh, seconds; 0 disables it.
    pub garp_refresh_secs: u32,
    /// VRRPv3: send the v2-style checksum (no pseudo-header) instead of RFC 5798's.
    pub v3_checksum_legacy: bool,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConntrackTimeouts {
    pub tcp_syn_sent: u32,
    pub tcp_syn_recv: u32,
    pub tcp_established: u32,
    pub tcp_fin_wait: u32,
    pub tcp_close_wait: u32,
    pub tcp_last_ack: u32,
    pub tcp_time_wait: u32,
    pub tcp_close: u32,
    pub udp: u32,
    pub udp_stream: u32,
    pub icmp: u32,
    /// Any IP protocol other than TCP, UDP and ICMP (tracked by address pair).
    pub generic: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Conntrack {
    pub max_entries: u32,
    /// Capacity of the external cache (sessions learned from the peer).
    pub external_max_entries: u32,
    /// Seconds; each field is a `<name>_timeout` option.
    pub timeouts: ConntrackTimeouts,
    pub line: usize,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
    Icmp,
    /// Any other IP protocol number.
    Other(u8),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FirewallAction {
    Accept,
    Drop,
    Reject,
}

/// Connection states a rule matches (`option state 'established,related'`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct StateSet {
    pub new: bool,
    pub established: bool,
    pub related: bool,
    pub invalid: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FirewallRuleset {
    pub name: String,
    pub default_action: FirewallAction,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FirewallRule {
    pub ruleset: String,
    pub description: Option<String>,
    pub protocol: Option<Protocol>,
    pub source: Option<Ipv4Cidr>,
    pub destination: Option<Ipv4Cidr>,
    pub source_port: Option<PortRange>,
    pub destination_port: Option<PortRange>,
    /// `None` matches any state.
    pub state: Option<StateSet>,
    pub action: FirewallAction,
    pub line: usize,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
    Local,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FirewallAttach {
    pub interface: String,
    pub direction: Direction,
    pub ruleset: String,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NatSource {
    pub rule: u32,
    pub description: Option<String>,
    pub outbound_interface: String,
    pub protocol: Option<Protocol>,
    pub source: Option<Ipv4Cidr>,
    pub destination: Option<Ipv4Cidr>,
    pub translation_address: AddrRange,
    /// Ports to allocate from when the original source port is taken.
    pub translation_port: Option<PortRange>,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NatDestination {
    pub rule: u32,
    pub description: Option<String>,
    pub inbound_interface: String,
    pub protocol: Option<Protocol>,
    pub destination_address: Option<Ipv4Addr>,
    pub destination_port: Option<PortRange>,
    pub translation_address: Ipv4Addr,
    pub translation_port: Option<u16>,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConntrackSync {
    pub name: String,
    pub interface: String,
    pub sync_group: Option<String>,
    pub mcast_group: Ipv4Addr,
    pub port: u16,
    /// Unicast peer instead of multicast.
    pub peer: Option<Ipv4Addr>,
    /// Keyed MAC over every frame when set.
    pub auth_key: Option<String>,
    /// A starting router waits at most this long for its bulk resync before preempting.
    pub resync_timeout_secs: u32,
    /// BFD to the peer over the sync link (options `bfd`, `bfd_min_tx`,
    /// `bfd_min_rx`, `bfd_multiplier`).
    pub bfd: BfdSettings,
    /// A backup whose BFD session to the master goes Down takes over at
    /// once. It acts on the VRRP groups of `sync_group` (it is a per sync
    /// group setting, kept here because this section names the sync group);
    /// the validator requires `bfd` and `sync_group` with it.
    pub fast_takeover: bool,
    pub line: usize,
}

/// BFD timers of the sync link (RFC 5880 names in brackets).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BfdSettings {
    pub enabled: bool,
    /// Desired Min TX Interval once Up, milliseconds.
    pub min_tx_ms: u32,
    /// Required Min RX Interval, milliseconds.
    pub min_rx_ms: u32,
    /// Detect Mult.
    pub multiplier: u8,
}

/// The `conntrack_sync` section's defaults (multicast 225.0.0.50:3780 on
/// the interface named `sync`, no key, 30 s resync timeout, BFD off).
impl Default for ConntrackSync {
    fn default() -> Self {
        ConntrackSync {
            name: "ha_sync".to_string(),
            interface: "sync".to_string(),
            sync_group: None,
            mcast_group: Ipv4Addr::new(225, 0, 0, 50),
            port: 3780,
            peer: None,
            auth_key: None,
            resync_timeout_secs: 30,
            bfd: BfdSettings::default(),
            fast_takeover: false,
            line: 0,
        }
    }
}

/// Off; 10 ms, 10 ms, 3 (a 30 ms detection time against a peer with the same).
impl Default for BfdSettings {
    fn default() -> Self {
        BfdSettings {
            enabled: false,
            min_tx_ms: 10,
            min_rx_ms: 10,
            multiplier: 3,
        }
    }
}

/// A whole validated configuration file.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The file it was read from (for messages).
    pub path: String,
    pub globals: Globals,
    pub interfaces: Vec<Interface>,
    pub routes: Vec<Route>,
    pub vrrp_groups: Vec<VrrpGroup>,
    pub conntrack: Conntrack,
    pub firewall_rulesets: Vec<FirewallRuleset>,
    pub firewall_rules: Vec<FirewallRule>,
    pub firewall_attaches: Vec<FirewallAttach>,
    pub nat_source: Vec<NatSource>,
    pub nat_destination: Vec<NatDestination>,
    pub conntrack_sync: Option<ConntrackSync>,
    /// Health tracks (`config track`), referenced by groups by name.
    pub tracks: Vec<Track>,
}

/// What a health track probes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TrackKind {
    /// ICMP echo to `target`, sent by the engine from the interface's address.
    Ping,
    /// ARP request for `target` (on the interface's subnet).
    Arp,
    /// The link state of `interface`.
    Interface,
    /// `command` run by the daemon; exit 0 = success.
    Script,
}

impl TrackKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TrackKind::Ping => "ping",
            TrackKind::Arp => "arp",
            TrackKind::Interface => "interface",
            TrackKind::Script => "script",
        }
    }
}

/// One `config track` section: a probe with rise/fall hysteresis and the
/// weight its DOWN state adds to the priority of the groups that list it.
#[derive(Clone, Debug, PartialEq)]
pub struct Track {
    pub name: String,
    pub kind: TrackKind,
    /// Where probes go out (ping/arp) or which link (interface); None for script.
    pub interface: Option<String>,
    /// Ping/ARP target.
    pub target: Option<Ipv4Addr>,
    /// Ping only: the on-link next hop the echo goes to (the target itself,
    /// or the gateway of the route that covers it).
    pub next_hop: Option<Ipv4Addr>,
    /// Probe period, milliseconds (100 ms steps at least).
    pub interval_ms: u32,
    /// Consecutive failures before DOWN / successes before UP.
    pub fall: u8,
    pub rise: u8,
    /// Added to the priority while DOWN (-253..=0); 0 = the group goes FAULT.
    pub weight: i16,
    /// Script: the program and its arguments (split on whitespace, no shell).
    pub command: Option<String>,
    /// Script: killed (and counted a failure) after this long, milliseconds.
    pub timeout_ms: u32,
    pub line: usize,
}

impl Config {
    pub fn track_index(&self, name: &str) -> Option<usize> {
        self.tracks.iter().position(|t| t.name == name)
    }
    pub fn interface(&self, name: &str) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.name == name)
    }
    pub fn interface_index(&self, name: &str) -> Option<usize> {
        self.interfaces.iter().position(|i| i.name == name)
    }
}

// ---------------------------------------------------------------------------
// Defaults and lookups (added by the config branch; pure additions).

/// Defaults of the `conntrack` timeouts (seconds), also used when the
/// `conntrack` section is absent.
impl Default for ConntrackTimeouts {
    fn default() -> Self {
        ConntrackTimeouts {
            tcp_syn_sent: 120,
            tcp_syn_recv: 60,
            tcp_established: 432_000,
            tcp_fin_wait: 120,
            tcp_close_wait: 60,
            tcp_last_ack: 30,
            tcp_time_wait: 120,
            tcp_close: 10,
            udp: 30,
            udp_stream: 120,
            icmp: 30,
            generic: 600,
        }
    }
}

/// The `conntrack` section's defaults (16384 entries, both caches); `line` 0
/// means "not in the file".
impl Default for Conntrack {
    fn default() -> Self {
        Conntrack {
            max_entries: 16_384,
            external_max_entries: 16_384,
            timeouts: ConntrackTimeouts::default(),
            line: 0,
        }
    }
}

/// The `globals` section's defaults; `line` 0 means "not in the file".
impl Default for Globals {
    fn default() -> Self {
        Globals {
            node_id: 1,
            log_level: LogLevel::Info,
            control_socket: "/var/run/hagw.sock".to_string(),
            nice: -10,
            line: 0,
        }
    }
}

impl LogLevel {
    /// The matching `log` crate filter.
    pub fn to_level_filter(self) -> log::LevelFilter {
        match self {
            LogLevel::Error => log::LevelFilter::Error,
            LogLevel::Warn => log::LevelFilter::Warn,
            LogLevel::Info => log::LevelFilter::Info,
            LogLevel::Debug => log::LevelFilter::Debug,
            LogLevel::Trace => log::LevelFilter::Trace,
        }
    }
}

impl Protocol {
    /// The IP protocol number (tcp 6, udp 17, icmp 1).
    pub fn number(self) -> u8 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Icmp => 1,
            Protocol::Other(n) => n,
        }
    }
    /// From an IP protocol number (6, 17 and 1 map to the named variants).
    pub fn from_number(n: u8) -> Protocol {
        match n {
            6 => Protocol::Tcp,
            17 => Protocol::Udp,
            1 => Protocol::Icmp,
            n => Protocol::Other(n),
        }
    }
}

impl core::fmt::Display for Protocol {
    /// The config spelling: `tcp`, `udp`, `icmp` or the number.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Protocol::Tcp => f.write_str("tcp"),
            Protocol::Udp => f.write_str("udp"),
            Protocol::Icmp => f.write_str("icmp"),
            Protocol::Other(n) => write!(f, "{n}"),
        }
    }
}

impl core::fmt::Display for PortRange {
    /// `22` or `1024-65535`, as in the config.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        fmt_range(f, self.lo, self.hi)
    }
}

impl core::fmt::Display for AddrRange {
    /// `10.0.0.1` or `10.0.0.1-10.0.0.4`, as in the config.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        fmt_range(f, self.lo, self.hi)
    }
}

/// `LO` when the range holds one value, else `LO-HI` (the config's range syntax).
fn fmt_range<T: core::fmt::Display + PartialEq>(
    f: &mut core::fmt::Formatter<'_>,
    lo: T,
    hi: T,
) -> core::fmt::Result {
    if lo == hi {
        write!(f, "{lo}")
    } else {
        write!(f, "{lo}-{hi}")
    }
}

impl core::fmt::Display for StateSet {
    /// `established,related`, as in the config.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let names = [
            (self.new, "new"),
            (self.established, "established"),
            (self.related, "related"),
            (self.invalid, "invalid"),
        ];
        let mut sep = "";
        for (_, name) in names.iter().filter(|(on, _)| *on) {
            write!(f, "{sep}{name}")?;
            sep = ",";
        }
        Ok(())
    }
}

impl PortRange {
    pub fn contains(self, port: u16) -> bool {
        self.lo <= port && port <= self.hi
    }
}

impl AddrRange {
    pub fn contains(self, ip: Ipv4Addr) -> bool {
        self.lo <= ip && ip <= self.hi
    }
    /// Number of addresses in the range (at least 1 when lo <= hi).
    pub fn len(self) -> u64 {
        u64::from(u32::from(self.hi)).saturating_sub(u64::from(u32::from(self.lo))) + 1
    }
    pub fn is_empty(self) -> bool {
        self.hi < self.lo
    }
}

impl Config {
    pub fn vrrp_group(&self, name: &str) -> Option<&VrrpGroup> {
        self.vrrp_groups.iter().find(|g| g.name == name)
    }
    /// The interface with role `sync`, if any (at most one exists).
    pub fn sync_interface(&self) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.role == Role::Sync)
    }
    /// True when one of the group's virtual addresses is its interface's own
    /// address (the group then runs at priority 255, RFC 3768 §5.3.4).
    pub fn is_address_owner(&self, group: &VrrpGroup) -> bool {
        match self.interface(&group.interface) {
            Some(i) => group
                .virtual_addresses
                .iter()
                .any(|v| v.addr == i.address.addr),
            None => false,
        }
    }
    /// Names of the groups in a sync group, in config order.
    pub fn sync_group_members(&self, sync_group: &str) -> Vec<&VrrpGroup> {
        self.vrrp_groups
            .iter()
            .filter(|g| g.sync_group.as_deref() == Some(sync_group))
            .collect()
    }
    pub fn firewall_ruleset(&self, name: &str) -> Option<&FirewallRuleset> {
        self.firewall_rulesets.iter().find(|r| r.name == name)
    }
}
