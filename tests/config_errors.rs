//! Broken configs: every rule of the schema (SPEC §6) is violated once, on
//! top of the canonical example, and the exact `FILE:LINE:` and a key phrase
//! of the message are asserted, both through the library and through the
//! real `hagw check-config` binary (exit code 1, message on stderr).
//!
//! The erroneous line of each case carries a trailing `# <-` comment (a UCI
//! comment, so it does not change the meaning); the expected line number is
//! computed from it.

mod common;

use common::{TempDir, check_config};
use std::path::Path;

const BASE: &str = include_str!("fixtures/spec-example.uci");

struct Case {
    name: &'static str,
    /// (from, to): replace the first occurrence of `from` in BASE.
    edits: &'static [(&'static str, &'static str)],
    phrase: &'static str,
    /// How many errors the whole file must give (catches cascades).
    count: usize,
}

const fn c(
    name: &'static str,
    edits: &'static [(&'static str, &'static str)],
    phrase: &'static str,
) -> Case {
    Case {
        name,
        edits,
        phrase,
        count: 1,
    }
}

const fn cn(
    name: &'static str,
    edits: &'static [(&'static str, &'static str)],
    phrase: &'static str,
    count: usize,
) -> Case {
    Case {
        name,
        edits,
        phrase,
        count,
    }
}

const LAN_GW: &str = "config vrrp_group 'lan_gw'";
const WAN_GW: &str = "config vrrp_group 'wan_gw'";
const RULE1: &str = "config firewall_rule\n\toption ruleset 'wan_in'\n\toption state";
const SNAT: &str = "config nat_source";
const DNAT: &str = "config nat_destination";
const SYNC: &str = "config conntrack_sync 'ha_sync'";

const CASES: &[Case] = &[
    // --- host TAP (issue 14)
    c(
        "host tap name too long",
        &[(
            "option address '192.168.10.2/24'",
            "option address '192.168.10.2/24'\n\toption host_tap_name 'a-very-long-tap-name' # <-",
        )],
        "not a valid device name",
    ),
    c(
        "host tap name is another interface's device",
        &[(
            "option address '10.0.0.2/24'",
            "option address '10.0.0.2/24'\n\toption host_tap_name 'lan0' # <-",
        )],
        "the host TAP needs a name of its own",
    ),
    c(
        "host tap on the sync interface",
        &[(
            "option address '10.99.0.1/30'",
            "option address '10.99.0.1/30'\n\toption host_tap '1' # <-",
        )],
        "only for lan and wan interfaces",
    ),
    // --- syntax
    c(
        "unterminated quote",
        &[("option vrid '52'", "option vrid '52 # <-")],
        "its closing quote is probably missing",
    ),
    c(
        "unterminated double quote",
        &[("option vrid '52'", "option vrid \"52 # <-")],
        "unterminated double quote",
    ),
    c(
        "too many words",
        &[("option vrid '52'", "option vrid 5 2 # <-")],
        "too many words",
    ),
    c(
        "unknown keyword",
        &[("option vrid '52'", "optoin vrid '52' # <-")],
        "unknown keyword 'optoin'",
    ),
    c(
        "option before any section",
        &[(
            "config globals 'globals'",
            "option x 'y' # <-\nconfig globals 'globals'",
        )],
        "outside a section",
    ),
    // --- unknown things
    c(
        "unknown section type",
        &[(
            WAN_GW,
            "config vrrp_instance 'x' # <-\n\toption a 'b'\n\nconfig vrrp_group 'wan_gw'",
        )],
        "unknown section type 'vrrp_instance'",
    ),
    c(
        "unknown option with hint",
        &[("option preempt_delay '0'", "option preempt_dealy '0' # <-")],
        "option 'preempt_dealy' is not known in a vrrp_group section (did you mean 'preempt_delay'?)",
    ),
    c(
        "list for a single-value option",
        &[("option priority '200'", "list priority '200' # <-")],
        "takes a single value",
    ),
    c(
        "option given twice",
        &[(
            "option priority '200'",
            "option priority '200'\n\toption priority '100' # <-",
        )],
        "given twice (first on line",
    ),
    // --- globals
    c(
        "node_id out of range",
        &[("option node_id '1'", "option node_id '0' # <-")],
        "option 'node_id': '0' is out of range 1-65535",
    ),
    c(
        "log_level bad",
        &[("option log_level 'info'", "option log_level 'verbose' # <-")],
        "'verbose' is not one of error, warn, info, debug, trace",
    ),
    c(
        "nice out of range",
        &[(
            "option log_level 'info'",
            "option log_level 'info'\n\toption nice '-25' # <-",
        )],
        "'-25' must be a whole number from -20 to 19",
    ),
    c(
        "control_socket relative",
        &[(
            "option control_socket '/var/run/hagw.sock'",
            "option control_socket 'hagw.sock' # <-",
        )],
        "must be an absolute path",
    ),
    c(
        "two globals sections",
        &[(
            "config interface 'lan'",
            "config globals 'g2' # <-\n\nconfig interface 'lan'",
        )],
        "only one globals section is allowed",
    ),
    // --- interfaces
    c(
        "interface missing device",
        &[(
            "config interface 'lan'\n\toption device 'lan0'\n",
            "config interface 'lan' # <-\n",
        )],
        "config interface 'lan': missing required option 'device'",
    ),
    c(
        "interface bad role",
        &[("option role 'lan'", "option role 'inside' # <-")],
        "'inside' is not one of lan, wan, sync",
    ),
    c(
        "interface address without prefix length",
        &[(
            "option address '192.168.10.2/24'",
            "option address '192.168.10.2' # <-",
        )],
        "needs a prefix length",
    ),
    c(
        "interface address is the network address",
        &[(
            "option address '192.168.10.2/24'",
            "option address '192.168.10.0/24' # <-",
        )],
        "is the network address of 192.168.10.0/24",
    ),
    c(
        "interface prefix length out of range",
        &[(
            "option address '192.168.10.2/24'",
            "option address '192.168.10.2/33' # <-",
        )],
        "outside /1-/32",
    ),
    c(
        "two interfaces on one device",
        &[("option device 'wan0'", "option device 'lan0' # <-")],
        "'lan0' is already used by interface 'lan'",
    ),
    c(
        "two sync interfaces",
        &[(
            "config route",
            "config interface 'sync2'\n\toption device 'sync1'\n\toption role 'sync' # <-\n\toption address '10.98.0.1/30'\n\nconfig route",
        )],
        "already has role sync; only one sync interface is allowed",
    ),
    c(
        "duplicate interface name",
        &[(
            "config route",
            "config interface 'lan' # <-\n\toption device 'lan1'\n\toption role 'lan'\n\toption address '172.16.0.1/24'\n\nconfig route",
        )],
        "duplicate section name: config interface 'lan' is already defined on line 6; libuci would merge the two sections",
    ),
    c(
        "interface without a name",
        &[(
            "config interface 'sync'\n\toption device 'sync0'\n\toption role 'sync'\n\toption address '10.99.0.1/30'\n",
            "config interface 'sync'\n\toption device 'sync0'\n\toption role 'sync'\n\toption address '10.99.0.1/30'\n\nconfig interface # <-\n\toption device 'x0'\n\toption role 'lan'\n\toption address '172.16.0.1/24'\n",
        )],
        "config interface needs a name",
    ),
    c(
        "two interfaces with one address",
        &[(
            "option address '10.0.0.2/24'",
            "option address '192.168.10.2/16' # <-",
        )],
        "192.168.10.2 is already the address of interface 'lan' (line 9)",
    ),
    // --- routes
    c(
        "route target with host bits",
        &[(
            "option target '0.0.0.0/0'",
            "option target '10.1.2.3/8' # <-",
        )],
        "has host bits set; did you mean '10.0.0.0/8'?",
    ),
    c(
        "route on unknown interface",
        &[(
            "option gateway '10.0.0.254'\n\toption interface 'wan'",
            "option gateway '10.0.0.254'\n\toption interface 'wan1' # <-",
        )],
        "interface 'wan1' is not defined (known: lan, wan, sync) (did you mean 'wan'?)",
    ),
    c(
        "route via the sync interface",
        &[(
            "option gateway '10.0.0.254'\n\toption interface 'wan'",
            "option interface 'sync' # <-",
        )],
        "'sync' is the sync interface",
    ),
    c(
        "route gateway outside the subnet",
        &[(
            "option gateway '10.0.0.254'",
            "option gateway '10.1.0.254' # <-",
        )],
        "is not inside interface 'wan''s subnet 10.0.0.0/24",
    ),
    c(
        "two routes to one prefix",
        &[(
            "config vrrp_group 'lan_gw'",
            "config route\n\toption target '0.0.0.0/0' # <-\n\toption gateway '10.0.0.253'\n\toption interface 'wan'\n\nconfig vrrp_group 'lan_gw'",
        )],
        "a route to 0.0.0.0/0 already exists (line 22)",
    ),
    // --- VRRP groups
    c(
        "group on unknown interface",
        &[(
            "option interface 'lan'\n\toption vrid '51'",
            "option interface 'lan9' # <-\n\toption vrid '51'",
        )],
        "option 'interface': interface 'lan9' is not defined",
    ),
    c(
        "sync interface in a VRRP group",
        &[(
            "option interface 'wan'\n\toption vrid '52'",
            "option interface 'sync' # <-\n\toption vrid '52'",
        )],
        "the sync link must never be part of a VRRP group",
    ),
    c(
        "vrid out of range",
        &[("option vrid '51'", "option vrid '256' # <-")],
        "option 'vrid': '256' is out of range 1-255",
    ),
    c(
        "vrid not a number",
        &[("option vrid '51'", "option vrid 'fifty' # <-")],
        "'fifty' is not a whole number (expected 1-255)",
    ),
    c(
        "priority out of range",
        &[("option priority '200'", "option priority '300' # <-")],
        "option 'priority': '300' is out of range 1-255",
    ),
    c(
        "priority zero",
        &[("option priority '200'", "option priority '0' # <-")],
        "'0' is out of range 1-255",
    ),
    c(
        "duplicate vrid on one interface",
        &[
            (
                "option interface 'wan'\n\toption vrid '52'",
                "option interface 'lan'\n\toption vrid '51' # <-",
            ),
            (
                "list virtual_address '10.0.0.1/24'",
                "list virtual_address '192.168.10.9/24'",
            ),
            // The SNAT address is then no longer a WAN VIP; drop sync to keep one error.
            (
                "config conntrack_sync 'ha_sync'\n\toption interface 'sync'\n\toption sync_group 'gw'\n\toption mcast_group '225.0.0.50'\n\toption port '3780'\n",
                "",
            ),
        ],
        "vrid 51 is already used on interface 'lan' by vrrp_group 'lan_gw'",
    ),
    c(
        "missing vrid",
        &[
            (WAN_GW, "config vrrp_group 'wan_gw' # <-"),
            ("option vrid '52'\n", ""),
        ],
        "config vrrp_group 'wan_gw': missing required option 'vrid'",
    ),
    cn(
        "missing virtual_address",
        &[
            (WAN_GW, "config vrrp_group 'wan_gw' # <-"),
            ("list virtual_address '10.0.0.1/24'\n", ""),
        ],
        "missing required option 'virtual_address'",
        // not also "SNAT address is not a VIP": no cascade from a broken group
        1,
    ),
    c(
        "bad virtual address",
        &[(
            "list virtual_address '192.168.10.1/24'",
            "list virtual_address '192.168.10.300' # <-",
        )],
        "'192.168.10.300' is not an IPv4 address",
    ),
    c(
        "one VIP in two groups",
        &[(
            "option sync_group 'gw'\n\nconfig vrrp_group 'wan_gw'",
            "option sync_group 'gw'\n\nconfig vrrp_group 'lan_gw2'\n\toption interface 'lan'\n\toption vrid '53'\n\tlist virtual_address '192.168.10.1' # <-\n\nconfig vrrp_group 'wan_gw'",
        )],
        "192.168.10.1 is already a virtual address of vrrp_group 'lan_gw' (line 29)",
    ),
    c(
        "VIP is another interface's address",
        &[(
            "list virtual_address '192.168.10.1/24'",
            "list virtual_address '10.0.0.2/24' # <-",
        )],
        "10.0.0.2 is the address of interface 'wan' (line 14); a group can only own the address of its own interface",
    ),
    c(
        "group without a name",
        &[(LAN_GW, "config vrrp_group # <-")],
        "config vrrp_group needs a name",
    ),
    c(
        "preempt not a boolean",
        &[("option preempt '1'", "option preempt 'maybe' # <-")],
        "'maybe' is not a boolean (use 1/0, true/false, yes/no or on/off)",
    ),
    c(
        "preempt_delay out of range",
        &[(
            "option preempt_delay '0'",
            "option preempt_delay '3601' # <-",
        )],
        "'3601' is out of range 0-3600",
    ),
    c(
        "v2 sub-second interval",
        &[(
            "option advertise_interval '1'",
            "option advertise_interval '0.5' # <-",
        )],
        "VRRPv2 advertises in whole seconds (1-255); use version 3",
    ),
    c(
        "v2 interval out of range",
        &[(
            "option advertise_interval '1'",
            "option advertise_interval '256' # <-",
        )],
        "'256' is out of range 1-255",
    ),
    c(
        "v3 interval finer than centiseconds",
        &[(
            "option advertise_interval '1'\n\toption version '2'",
            "option advertise_interval '0.015' # <-\n\toption version '3'",
        )],
        "finer than VRRPv3's centisecond steps",
    ),
    c(
        "v3 interval out of range",
        &[(
            "option advertise_interval '1'\n\toption version '2'",
            "option advertise_interval '41' # <-\n\toption version '3'",
        )],
        "out of range 0.01-40.95 seconds",
    ),
    c(
        "bad version",
        &[("option version '2'", "option version '4' # <-")],
        "'4' is not a VRRP version (expected 2 or 3)",
    ),
    c(
        "auth_type ah without a key",
        &[(
            "option version '2'",
            "option version '2'\n\toption auth_type 'ah' # <-",
        )],
        "option 'auth_type': ah needs option auth_password (1-8 characters, the same on all routers)",
    ),
    c(
        "auth_type ah on version 3",
        &[(
            "option version '2'",
            "option version '3'\n\toption auth_type 'ah' # <-\n\toption auth_password 'secret'",
        )],
        "'ah' is not allowed with version 3",
    ),
    c(
        "auth_type unknown",
        &[(
            "option version '2'",
            "option version '2'\n\toption auth_type 'md5' # <-",
        )],
        "'md5' is not one of none, plaintext-password, ah",
    ),
    c(
        "plaintext without password",
        &[(
            "option version '2'",
            "option version '2'\n\toption auth_type 'plaintext-password' # <-",
        )],
        "plaintext-password needs option auth_password",
    ),
    c(
        "password too long",
        &[(
            "option version '2'",
            "option version '2'\n\toption auth_type 'plaintext-password'\n\toption auth_password '123456789' # <-",
        )],
        "is 9 bytes long; a VRRP password (plaintext or ah key) is 1-8 characters",
    ),
    c(
        "password without auth_type",
        &[(
            "option version '2'",
            "option version '2'\n\toption auth_password 'secret' # <-",
        )],
        "auth_password' is set but auth_type is none",
    ),
    c(
        "auth on version 3",
        &[(
            "option version '2'",
            "option version '3'\n\toption auth_type 'plaintext-password' # <-\n\toption auth_password 'secret'",
        )],
        "not allowed with version 3",
    ),
    c(
        "track_interface unknown",
        &[(
            "option sync_group 'gw'",
            "option sync_group 'gw'\n\tlist track_interface 'wan'\n\tlist track_interface 'dsl' # <-",
        )],
        "option 'track_interface': interface 'dsl' is not defined",
    ),
    c(
        "notify not absolute",
        &[(
            "option sync_group 'gw'",
            "option sync_group 'gw'\n\toption notify 'notify.sh' # <-",
        )],
        "must be an absolute path to a script",
    ),
    c(
        "unicast_peer bad",
        &[(
            "option sync_group 'gw'",
            "option sync_group 'gw'\n\tlist unicast_peer '192.168.10.3'\n\tlist unicast_peer '224.0.0.18' # <-",
        )],
        "option 'unicast_peer': '224.0.0.18' is not a unicast address",
    ),
    c(
        "garp_repeat zero",
        &[(
            "option sync_group 'gw'",
            "option sync_group 'gw'\n\toption garp_repeat '0' # <-",
        )],
        "'0' is out of range 1-100",
    ),
    c(
        "garp_refresh too long",
        &[(
            "option sync_group 'gw'",
            "option sync_group 'gw'\n\toption garp_refresh '86401' # <-",
        )],
        "'86401' is out of range 0-86400",
    ),
    c(
        "v3_checksum bad",
        &[(
            "option sync_group 'gw'",
            "option sync_group 'gw'\n\toption v3_checksum 'v2' # <-",
        )],
        "'v2' is not one of rfc, legacy",
    ),
    c(
        "rfc3768_compatibility bad",
        &[(
            "option sync_group 'gw'",
            "option sync_group 'gw'\n\toption rfc3768_compatibility '2' # <-",
        )],
        "'2' is not a boolean",
    ),
    // --- conntrack
    c(
        "max_entries too small",
        &[("option max_entries '16384'", "option max_entries '8' # <-")],
        "option 'max_entries': '8' is out of range 16-4194304",
    ),
    c(
        "external_max_entries too big",
        &[(
            "option max_entries '16384'",
            "option max_entries '16384'\n\toption external_max_entries '5000000' # <-",
        )],
        "'5000000' is out of range 16-4194304",
    ),
    c(
        "timeout zero",
        &[("option udp_timeout '30'", "option udp_timeout '0' # <-")],
        "option 'udp_timeout': '0' is out of range",
    ),
    c(
        "unknown timeout",
        &[("option udp_timeout '30'", "option sctp_timeout '30' # <-")],
        "option 'sctp_timeout' is not known in a conntrack section",
    ),
    c(
        "two conntrack sections",
        &[(
            "config firewall_ruleset",
            "config conntrack # <-\n\toption max_entries '64'\n\nconfig firewall_ruleset",
        )],
        "only one conntrack section is allowed (the first is on line",
    ),
    // --- firewall
    c(
        "ruleset default_action bad",
        &[(
            "option default_action 'drop'",
            "option default_action 'deny' # <-",
        )],
        "'deny' is not one of accept, drop, reject",
    ),
    c(
        "rule on unknown ruleset",
        &[(
            RULE1,
            "config firewall_rule\n\toption ruleset 'wan_out' # <-\n\toption state",
        )],
        "firewall_ruleset 'wan_out' is not defined (known: wan_in)",
    ),
    c(
        "rule missing action",
        &[(
            "config firewall_rule\n\toption ruleset 'wan_in'\n\toption protocol 'icmp'\n\toption action 'accept'",
            "config firewall_rule # <-\n\toption ruleset 'wan_in'\n\toption protocol 'icmp'",
        )],
        "config firewall_rule: missing required option 'action'",
    ),
    c(
        "rule bad protocol",
        &[("option protocol 'icmp'", "option protocol 'icmpv6' # <-")],
        "'icmpv6' is not a protocol (expected tcp, udp, icmp, all or a number 0-255)",
    ),
    c(
        "rule protocol number out of range",
        &[("option protocol 'icmp'", "option protocol '256' # <-")],
        "'256' is not a protocol",
    ),
    c(
        "rule port with icmp",
        &[(
            "option protocol 'icmp'",
            "option protocol 'icmp'\n\toption destination_port '22' # <-",
        )],
        "ports need option protocol 'tcp' or 'udp' (this section has protocol icmp)",
    ),
    c(
        "rule port without protocol",
        &[(
            "option state 'established,related'",
            "option state 'established,related'\n\toption source_port '1024-65535' # <-",
        )],
        "(this section has no protocol (all))",
    ),
    c(
        "rule bad port range",
        &[(
            "option protocol 'icmp'",
            "option protocol 'tcp'\n\toption destination_port '2000-1000' # <-",
        )],
        "is an empty range; write the lower port first ('1000-2000')",
    ),
    c(
        "rule bad state",
        &[(
            "option state 'established,related'",
            "option state 'established,relatd' # <-",
        )],
        "unknown state 'relatd'",
    ),
    c(
        "rule source with host bits",
        &[(
            "option protocol 'icmp'",
            "option protocol 'icmp'\n\toption source '192.168.10.7/24' # <-",
        )],
        "did you mean '192.168.10.0/24'?",
    ),
    c(
        "attach to the sync interface",
        &[(
            "option interface 'wan'\n\toption direction 'in'",
            "option interface 'sync' # <-\n\toption direction 'in'",
        )],
        "'sync' is the sync interface",
    ),
    c(
        "attach bad direction",
        &[("option direction 'in'", "option direction 'inbound' # <-")],
        "'inbound' is not one of in, out, local",
    ),
    c(
        "attach unknown ruleset",
        &[(
            "option direction 'in'\n\toption ruleset 'wan_in'",
            "option direction 'in'\n\toption ruleset 'lan_in' # <-",
        )],
        "firewall_ruleset 'lan_in' is not defined",
    ),
    c(
        "second attach for the same interface and direction",
        &[(
            SNAT,
            "config firewall_attach # <-\n\toption interface 'wan'\n\toption direction 'in'\n\toption ruleset 'wan_in'\n\nconfig nat_source",
        )],
        "interface 'wan' direction 'in' already has a ruleset attached",
    ),
    // --- NAT
    c(
        "SNAT address not a VIP while sync is on",
        &[(
            "option translation_address '10.0.0.1'",
            "option translation_address '10.0.0.2' # <-",
        )],
        "10.0.0.2 is not a virtual address of a VRRP group on interface 'wan'; with conntrack_sync on, the backup could not own it after failover",
    ),
    c(
        "SNAT range partly outside the VIPs",
        &[(
            "option translation_address '10.0.0.1'",
            "option translation_address '10.0.0.1-10.0.0.4' # <-",
        )],
        "10.0.0.2 is not a virtual address",
    ),
    c(
        "SNAT range reversed",
        &[(
            "option translation_address '10.0.0.1'",
            "option translation_address '10.0.0.9-10.0.0.1' # <-",
        )],
        "is an empty range; write the lower address first",
    ),
    c(
        "SNAT duplicate rule number",
        &[(
            DNAT,
            "config nat_source\n\toption rule '10' # <-\n\toption outbound_interface 'wan'\n\toption translation_address '10.0.0.1'\n\nconfig nat_destination",
        )],
        "nat_source rule 10 already exists",
    ),
    c(
        "SNAT unknown outbound interface",
        &[(
            "option outbound_interface 'wan'",
            "option outbound_interface 'wan2' # <-",
        )],
        "interface 'wan2' is not defined",
    ),
    c(
        "SNAT missing rule",
        &[(SNAT, "config nat_source # <-"), ("option rule '10'\n", "")],
        "config nat_source: missing required option 'rule'",
    ),
    c(
        "SNAT port range with icmp",
        &[(
            "option source '192.168.10.0/24'",
            "option source '192.168.10.0/24'\n\toption protocol 'icmp'\n\toption translation_port '1024-2047' # <-",
        )],
        "ports need protocol tcp, udp or all",
    ),
    c(
        "DNAT missing translation_address",
        &[
            (DNAT, "config nat_destination # <-"),
            ("option translation_address '192.168.10.100'\n", ""),
        ],
        "config nat_destination: missing required option 'translation_address'",
    ),
    cn(
        "DNAT translation_port without tcp/udp",
        &[(
            "option protocol 'tcp'\n\toption destination_port '2222'",
            "option protocol 'icmp'\n\toption destination_port '2222' # <-",
        )],
        "ports need option protocol 'tcp' or 'udp'",
        // destination_port and translation_port are both wrong
        2,
    ),
    c(
        "DNAT duplicate rule",
        &[(
            SYNC,
            "config nat_destination\n\toption rule '20' # <-\n\toption inbound_interface 'wan'\n\toption translation_address '192.168.10.101'\n\nconfig conntrack_sync 'ha_sync'",
        )],
        "nat_destination rule 20 already exists",
    ),
    c(
        "DNAT bad translation port",
        &[(
            "option translation_port '22'",
            "option translation_port '70000' # <-",
        )],
        "'70000' is not a port (expected 1-65535)",
    ),
    // --- conntrack_sync
    c(
        "sync on a lan interface",
        &[(
            "config conntrack_sync 'ha_sync'\n\toption interface 'sync'",
            "config conntrack_sync 'ha_sync'\n\toption interface 'lan' # <-",
        )],
        "'lan' has role lan; conntrack sync needs the interface with role sync",
    ),
    c(
        "sync_group not used by any group",
        &[(
            "option sync_group 'gw'\n\toption mcast_group",
            "option sync_group 'gateway' # <-\n\toption mcast_group",
        )],
        "no vrrp_group is in sync group 'gateway' (known: gw)",
    ),
    c(
        "mcast_group not multicast",
        &[(
            "option mcast_group '225.0.0.50'",
            "option mcast_group '10.99.0.2' # <-",
        )],
        "'10.99.0.2' is not a multicast address",
    ),
    c(
        "sync port zero",
        &[("option port '3780'", "option port '0' # <-")],
        "'0' is not a port (expected 1-65535)",
    ),
    c(
        "sync auth_key too short",
        &[(
            "option port '3780'",
            "option port '3780'\n\toption auth_key 'short' # <-",
        )],
        "option 'auth_key': is 5 characters long; use at least 8",
    ),
    c(
        "resync_timeout out of range",
        &[(
            "option port '3780'",
            "option port '3780'\n\toption resync_timeout '0' # <-",
        )],
        "'0' is out of range 1-3600",
    ),
    c(
        "sync peer not unicast",
        &[(
            "option port '3780'",
            "option port '3780'\n\toption peer '255.255.255.255' # <-",
        )],
        "is not a unicast address",
    ),
    c(
        "bfd not a boolean",
        &[(
            "option port '3780'",
            "option port '3780'\n\toption bfd 'sometimes' # <-",
        )],
        "option 'bfd': 'sometimes' is not a boolean",
    ),
    c(
        "bfd_min_tx zero",
        &[(
            "option port '3780'",
            "option port '3780'\n\toption bfd '1'\n\toption bfd_min_tx '0' # <-",
        )],
        "option 'bfd_min_tx': '0' is out of range 1-10000 milliseconds",
    ),
    c(
        "bfd_min_rx too large",
        &[(
            "option port '3780'",
            "option port '3780'\n\toption bfd '1'\n\toption bfd_min_rx '10001' # <-",
        )],
        "option 'bfd_min_rx': '10001' is out of range 1-10000 milliseconds",
    ),
    c(
        "bfd_min_tx in seconds",
        &[(
            "option port '3780'",
            "option port '3780'\n\toption bfd_min_tx '0.5' # <-",
        )],
        "'0.5' is not a whole number of milliseconds (expected 1-10000)",
    ),
    c(
        "bfd_multiplier zero",
        &[(
            "option port '3780'",
            "option port '3780'\n\toption bfd '1'\n\toption bfd_multiplier '0' # <-",
        )],
        "option 'bfd_multiplier': '0' is out of range 1-255",
    ),
    c(
        "fast_takeover without bfd",
        &[(
            "option port '3780'",
            "option port '3780'\n\toption fast_takeover '1' # <-",
        )],
        "option 'fast_takeover': needs option bfd '1'",
    ),
    c(
        "fast_takeover without sync_group",
        &[
            (
                "option sync_group 'gw'\n\toption mcast_group",
                "option mcast_group",
            ),
            (
                "option port '3780'",
                "option port '3780'\n\toption bfd '1'\n\toption fast_takeover '1' # <-",
            ),
        ],
        "option 'fast_takeover': needs option sync_group",
    ),
    c(
        "fast_takeover misspelt",
        &[(
            "option port '3780'",
            "option port '3780'\n\toption fast_takover '1' # <-",
        )],
        "option 'fast_takover' is not known in a conntrack_sync section (did you mean 'fast_takeover'?)",
    ),
    c(
        "sync interface missing",
        &[(
            "config conntrack_sync 'ha_sync'\n\toption interface 'sync'",
            "config conntrack_sync 'ha_sync' # <-",
        )],
        "config conntrack_sync 'ha_sync': missing required option 'interface'",
    ),
    // --- health tracks
    c(
        "unknown track",
        &[(
            "option advertise_interval '1'",
            "option advertise_interval '1'\n\tlist track 'upstrem' # <-",
        )],
        "option 'track': track 'upstrem' is not defined (there is no valid track section)",
    ),
    c(
        "track probe interface is the sync link",
        &[(
            "config conntrack_sync 'ha_sync'",
            "config track 'up'\n\toption type 'ping'\n\toption interface 'sync' # <-\n\toption target '10.99.0.2'\n\nconfig conntrack_sync 'ha_sync'",
        )],
        "'sync' is the sync interface; probes go out on a lan or wan interface",
    ),
    c(
        "track weight positive",
        &[(
            "config conntrack_sync 'ha_sync'",
            "config track 'up'\n\toption type 'interface'\n\toption interface 'wan'\n\toption weight '50' # <-\n\nconfig conntrack_sync 'ha_sync'",
        )],
        "a weight is added to the priority while the track is DOWN, so it is negative",
    ),
    c(
        "track ping target unreachable",
        &[(
            "config conntrack_sync 'ha_sync'",
            "config track 'up'\n\toption type 'ping'\n\toption interface 'lan'\n\toption target '172.16.0.1' # <-\n\nconfig conntrack_sync 'ha_sync'",
        )],
        "no route with a gateway on 'lan' covers it",
    ),
];

fn build(case: &Case) -> (String, usize) {
    let mut text = BASE.to_string();
    for (from, to) in case.edits {
        assert!(
            text.contains(from),
            "{}: edit source {from:?} not found",
            case.name
        );
        text = text.replacen(from, to, 1);
    }
    let line = text
        .lines()
        .position(|l| l.contains("# <-"))
        .unwrap_or_else(|| panic!("{}: no '# <-' marker", case.name))
        + 1;
    (text, line)
}

#[test]
fn base_is_valid() {
    hagw::config::parse_str("bad.uci", BASE).unwrap();
}

#[test]
fn every_broken_config_names_file_line_and_problem() {
    let mut failures = Vec::new();
    for case in CASES {
        let (text, line) = build(case);
        let errors = match hagw::config::parse_str("bad.uci", &text) {
            Ok(_) => {
                failures.push(format!("{}: accepted", case.name));
                continue;
            }
            Err(e) => e,
        };
        let rendered: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        let prefix = format!("bad.uci:{line}: ");
        if !rendered
            .iter()
            .any(|r| r.starts_with(&prefix) && r.contains(case.phrase))
        {
            failures.push(format!(
                "{}: expected {prefix}...{}...; got {rendered:#?}",
                case.name, case.phrase
            ));
        } else if rendered.len() != case.count {
            failures.push(format!(
                "{}: expected {} error(s), got {rendered:#?}",
                case.name, case.count
            ));
        }
        let mut lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        let sorted = {
            let mut s = lines.clone();
            s.sort();
            s
        };
        if lines != sorted {
            failures.push(format!(
                "{}: errors not in line order: {lines:?}",
                case.name
            ));
        }
        lines.clear();
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

/// The real binary: exit 1 and `PATH:LINE: message` on stderr, for every case.
#[test]
fn check_config_binary_exits_1_with_file_and_line() {
    let dir = TempDir::new("cfgerr", "cases");
    for (i, case) in CASES.iter().enumerate() {
        let (text, line) = build(case);
        let path = dir.path(&format!("case{i}.uci"));
        std::fs::write(&path, &text).unwrap();
        let (code, _, stderr) = check_config(&path);
        assert_eq!(code, Some(1), "{}: {stderr}", case.name);
        let prefix = format!("{}:{line}: ", path.display());
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&prefix) && l.contains(case.phrase)),
            "{}: expected {prefix}...{}... in stderr:\n{stderr}",
            case.name,
            case.phrase
        );
    }
}

/// Several independent mistakes: all are reported, in line order.
#[test]
fn all_errors_reported_in_line_order() {
    let text = BASE
        .replacen("option node_id '1'", "option node_id '70000'", 1)
        .replacen("option priority '200'", "option priority '300'", 1)
        .replacen("option udp_timeout '30'", "option udp_timeout 'x'", 1)
        .replacen("option action 'accept'", "option action 'allow'", 1)
        .replacen("option port '3780'", "option port '99999'", 1);
    let errors = hagw::config::parse_str("bad.uci", &text).unwrap_err();
    let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![2, 30, 47, 56, 87], "{errors:#?}");
}

#[test]
fn missing_file_is_an_error_not_a_panic() {
    let (code, _, stderr) = check_config(Path::new("/nonexistent/hagw.uci"));
    assert_eq!(code, Some(1));
    assert!(stderr.contains("/nonexistent/hagw.uci"));
}

/// Random mutations of the canonical example (values swapped for odd ones,
/// lines deleted, duplicated, moved): never a panic, and every error names a
/// real line of the file, in line order.
#[test]
fn mutated_configs_never_panic_and_name_real_lines() {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    const VALUES: &[&str] = &[
        "",
        "0",
        "1",
        "2",
        "3",
        "255",
        "256",
        "65535",
        "65536",
        "-1",
        "99999999999999999999",
        "abc",
        "lan",
        "wan",
        "sync",
        "gw",
        "10.0.0.1",
        "10.0.0.1/24",
        "10.0.0.0/8",
        "0.0.0.0/0",
        "224.0.0.18",
        "1.5",
        "0.01",
        "tcp",
        "icmp",
        "all",
        "1000-2000",
        "2000-1000",
        "ah",
        "plaintext-password",
        "none",
        "in",
        "local",
        "established,new",
        "accept",
        "legacy",
        "true",
        "off",
        "/x",
        "10.0.0.1-10.0.0.3",
        "x y z",
        "é",
    ];
    let base: Vec<&str> = BASE.lines().collect();
    let mut rejected = 0;
    for _ in 0..3000 {
        let mut lines: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        for _ in 0..(1 + next() % 4) {
            let i = (next() % lines.len() as u64) as usize;
            match next() % 5 {
                0 | 1 => {
                    // Replace the quoted value of the line, if it has one.
                    let v = VALUES[(next() % VALUES.len() as u64) as usize];
                    if let Some(q) = lines[i].find('\'') {
                        let head = lines[i][..q].to_string();
                        lines[i] = format!("{head}'{v}'");
                    }
                }
                2 => {
                    lines.remove(i);
                }
                3 => {
                    let l = lines[i].clone();
                    lines.insert(i, l);
                }
                _ => {
                    let j = (next() % lines.len() as u64) as usize;
                    lines.swap(i, j);
                }
            }
            if lines.is_empty() {
                break;
            }
        }
        let text = lines.join("\n");
        let n = lines.len();
        if let Err(errors) = hagw::config::parse_str("m.uci", &text) {
            rejected += 1;
            assert!(!errors.is_empty());
            let mut prev = 0;
            for e in &errors {
                assert!(
                    e.line >= 1 && e.line <= n,
                    "line {} of {n}: {e}\n{text}",
                    e.line
                );
                assert!(e.line >= prev, "not in order: {errors:#?}");
                prev = e.line;
                assert!(!e.message.is_empty());
            }
        }
    }
    assert!(rejected > 1000, "mutations too gentle: {rejected} rejected");
}

#[test]
fn non_utf8_file_names_the_line() {
    let dir = TempDir::new("cfgutf", "latin1");
    let path = dir.path("latin1.uci");
    std::fs::write(
        &path,
        b"config globals\n\toption node_id '1'\n\toption log_level 'caf\xe9'\n",
    )
    .unwrap();
    let (code, _, stderr) = check_config(&path);
    assert_eq!(code, Some(1));
    assert!(
        stderr.starts_with(&format!("{}:3: not valid UTF-8", path.display())),
        "{stderr}"
    );
}
