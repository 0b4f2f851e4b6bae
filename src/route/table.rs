//! The IPv4 routing table of the dataplane: one connected route per lan/wan
//! interface (its `address` prefix) plus the config's static `route`
//! sections (default route included), longest prefix match.
//!
//! Owns: route selection (`lookup` → port + next-hop address). Built once
//! from a validated `Config` and never changes size; a reload builds a new
//! table. Never resolves MAC addresses (that is `route::neigh`), never looks
//! at packets, never routes over the sync interface.
//!
//! Lookup cost: the routes sit in one array sorted longest prefix first
//! (connected before static at equal length, then config order) and the
//! first match wins, so a lookup is at most `len()` mask-and-compare steps
//! over 8-byte (network, mask) pairs: about 2 ns per route scanned, a few
//! cache lines for the tens of routes a small router has. Measured with
//! `cargo test --release --lib lookup_bench -- --ignored --nocapture
//! --test-threads=1` (x86-64, shared 2 cores, worst case = default route):
//! 3 routes 10-16 ns, 19 routes 15-25 ns, 67 routes ~60 ns, 259 routes
//! ~235 ns. A trie would win only at hundreds of routes, which the UCI
//! config does not carry.

use crate::config::{Config, Ipv4Cidr, Role};
use crate::engine::PortId;
use std::net::Ipv4Addr;

/// Where to send a packet: out of `port`, to the link-layer neighbour `via`
/// (the route's gateway, or the destination itself on a connected subnet or
/// an interface route without gateway).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct NextHop {
    pub port: PortId,
    pub via: Ipv4Addr,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RouteKind {
    /// The subnet of a lan/wan interface's own address.
    Connected,
    /// A `route` section of the config.
    Static,
}

impl RouteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RouteKind::Connected => "connected",
            RouteKind::Static => "static",
        }
    }
}

/// One route as `hagw show routes` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteStatus {
    /// The network (host bits clear) and its length.
    pub prefix: Ipv4Cidr,
    pub gateway: Option<Ipv4Addr>,
    pub port: PortId,
    /// The interface's UCI section name.
    pub interface: String,
    pub kind: RouteKind,
}

/// Why a table could not be built: `FILE:LINE: message`, as the config
/// validator words it (a validated config never produces one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteError(pub String);

impl core::fmt::Display for RouteError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RouteError {}

/// What a matched route answers (kept apart from the scanned keys).
#[derive(Copy, Clone, Debug)]
struct Hop {
    port: PortId,
    gateway: Option<Ipv4Addr>,
    prefix_len: u8,
    kind: RouteKind,
}

/// The routing table. See the module docs for order and cost.
#[derive(Clone, Debug)]
pub struct RouteTable {
    /// (network, mask) per route, longest prefix first: what `lookup` scans.
    keys: Box<[(u32, u32)]>,
    /// Same order as `keys`.
    hops: Box<[Hop]>,
    /// Interface names by port, for `snapshot`.
    names: Box<[String]>,
}

fn cidr(net: Ipv4Addr, prefix_len: u8) -> Ipv4Cidr {
    let c = Ipv4Cidr {
        addr: net,
        prefix_len: prefix_len.min(32),
    };
    Ipv4Cidr {
        addr: c.network(),
        ..c
    }
}

impl RouteTable {
    /// Build from a config: connected routes for every lan/wan interface,
    /// then the static routes. A static route naming an unknown or the sync
    /// interface, or whose gateway is not inside its interface's subnet
    /// (the validator's rule: a gateway must be directly reachable), is an
    /// error. A static route to exactly a connected prefix is shadowed by
    /// the connected route.
    pub fn new(config: &Config) -> Result<RouteTable, RouteError> {
        let mut routes: Vec<(Ipv4Cidr, Hop)> = Vec::new();
        for (port, iface) in config.interfaces.iter().enumerate() {
            if iface.role == Role::Sync {
                continue;
            }
            let a = iface.address;
            routes.push((
                cidr(a.addr, a.prefix_len),
                Hop {
                    port,
                    gateway: None,
                    prefix_len: a.prefix_len.min(32),
                    kind: RouteKind::Connected,
                },
            ));
        }
        for r in &config.routes {
            let at = format!("{}:{}", config.path, r.line);
            let mut ifaces = config.interfaces.iter().enumerate();
            let Some((port, iface)) = ifaces.find(|(_, i)| i.name == r.interface) else {
                return Err(RouteError(format!(
                    "{at}: option 'interface': no interface '{}'",
                    r.interface
                )));
            };
            if iface.role == Role::Sync {
                return Err(RouteError(format!(
                    "{at}: option 'interface': '{}' is the sync interface; a route must use a lan or wan interface",
                    r.interface
                )));
            }
            if let Some(gw) = r.gateway
                && !iface.address.contains(gw)
            {
                return Err(RouteError(format!(
                    "{at}: option 'gateway': '{gw}' is not inside interface '{}''s subnet {}/{}; a gateway must be directly reachable",
                    r.interface,
                    iface.address.network(),
                    iface.address.prefix_len
                )));
            }
            routes.push((
                cidr(r.target.addr, r.target.prefix_len),
                Hop {
                    port,
                    gateway: r.gateway,
                    prefix_len: r.target.prefix_len.min(32),
                    kind: RouteKind::Static,
                },
            ));
        }
        // Stable: connected (pushed first) before static at equal length.
        routes.sort_by_key(|(c, _)| core::cmp::Reverse(c.prefix_len));
        Ok(RouteTable {
            keys: routes
                .iter()
                .map(|(c, _)| (u32::from(c.addr), c.netmask()))
                .collect(),
            hops: routes.iter().map(|(_, h)| *h).collect(),
            names: config.interfaces.iter().map(|i| i.name.clone()).collect(),
        })
    }

    /// The route for `dst` by longest prefix match; None when no route
    /// matches (no default route). Never allocates.
    pub fn lookup(&self, dst: Ipv4Addr) -> Option<NextHop> {
        let d = u32::from(dst);
        let i = self.keys.iter().position(|&(net, mask)| d & mask == net)?;
        let hop = self.hops.get(i)?;
        Some(NextHop {
            port: hop.port,
            via: hop.gateway.unwrap_or(dst),
        })
    }

    /// Number of routes (connected and static).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Every route in lookup order, for `hagw show routes`.
    pub fn snapshot(&self) -> Vec<RouteStatus> {
        self.keys
            .iter()
            .zip(self.hops.iter())
            .map(|(&(net, _), h)| RouteStatus {
                prefix: cidr(Ipv4Addr::from(net), h.prefix_len),
                gateway: h.gateway,
                port: h.port,
                interface: self.names.get(h.port).cloned().unwrap_or_default(),
                kind: h.kind,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Interface, Route};

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn net(s: &str) -> Ipv4Cidr {
        let (a, l) = s.split_once('/').unwrap();
        Ipv4Cidr {
            addr: ip(a),
            prefix_len: l.parse().unwrap(),
        }
    }

    fn config(ifaces: &[(&str, Role, &str)], routes: &[(&str, Option<&str>, &str)]) -> Config {
        let mut c = crate::config::parse_str("test.conf", "").unwrap();
        c.interfaces = ifaces
            .iter()
            .enumerate()
            .map(|(n, (name, role, addr))| Interface {
                name: name.to_string(),
                device: format!("{name}0"),
                role: *role,
                address: net(addr),
                host_tap: None,
                line: n + 1,
            })
            .collect();
        c.routes = routes
            .iter()
            .enumerate()
            .map(|(n, (target, gw, iface))| Route {
                target: net(target),
                gateway: gw.map(ip),
                interface: iface.to_string(),
                line: 100 + n,
            })
            .collect();
        c
    }

    /// lan 192.168.1.1/24 (port 0), sync (port 1), wan 203.0.113.2/29
    /// (port 2) with overlapping static routes and a default route.
    fn router() -> RouteTable {
        let c = config(
            &[
                ("lan", Role::Lan, "192.168.1.1/24"),
                ("sync", Role::Sync, "172.31.0.1/30"),
                ("wan", Role::Wan, "203.0.113.2/29"),
            ],
            &[
                ("0.0.0.0/0", Some("203.0.113.1"), "wan"),
                ("10.0.0.0/8", Some("192.168.1.254"), "lan"),
                ("10.1.0.0/16", Some("192.168.1.253"), "lan"),
                ("10.1.2.0/24", Some("203.0.113.6"), "wan"),
                ("10.1.2.3/32", None, "lan"),
                // Same prefix as the connected lan subnet: shadowed.
                ("192.168.1.0/24", Some("203.0.113.5"), "wan"),
            ],
        );
        RouteTable::new(&c).unwrap()
    }

    #[test]
    fn longest_prefix_wins() {
        let t = router();
        let hop = |s: &str| t.lookup(ip(s)).map(|h| (h.port, h.via.to_string()));
        let want = |p: usize, v: &str| Some((p, v.to_string()));
        assert_eq!(hop("10.1.2.3"), want(0, "10.1.2.3"), "/32 interface route");
        assert_eq!(hop("10.1.2.4"), want(2, "203.0.113.6"), "/24");
        assert_eq!(hop("10.1.3.4"), want(0, "192.168.1.253"), "/16");
        assert_eq!(hop("10.200.0.1"), want(0, "192.168.1.254"), "/8");
        assert_eq!(hop("8.8.8.8"), want(2, "203.0.113.1"), "default");
        assert_eq!(hop("11.0.0.0"), want(2, "203.0.113.1"), "just past /8");
        assert_eq!(hop("9.255.255.255"), want(2, "203.0.113.1"));
    }

    #[test]
    fn connected_routes_deliver_to_the_destination() {
        let t = router();
        let hop = |s: &str| t.lookup(ip(s)).unwrap();
        assert_eq!(
            hop("192.168.1.77"),
            NextHop {
                port: 0,
                via: ip("192.168.1.77")
            }
        );
        // The connected /24 beats the static route to the same prefix.
        assert_eq!(hop("192.168.1.200").port, 0);
        assert_eq!(
            hop("203.0.113.5"),
            NextHop {
                port: 2,
                via: ip("203.0.113.5")
            }
        );
        // The sync interface's subnet is not routed: it falls to the default.
        assert_eq!(
            hop("172.31.0.2"),
            NextHop {
                port: 2,
                via: ip("203.0.113.1")
            }
        );
        // 203.0.113.8 is outside the /29.
        assert_eq!(hop("203.0.113.8").via, ip("203.0.113.1"));
    }

    #[test]
    fn no_default_route_means_no_route() {
        let c = config(&[("lan", Role::Lan, "192.168.1.1/24")], &[]);
        let t = RouteTable::new(&c).unwrap();
        assert_eq!(t.len(), 1);
        assert!(t.lookup(ip("192.168.1.9")).is_some());
        assert_eq!(t.lookup(ip("192.168.2.9")), None);
        assert_eq!(t.lookup(ip("0.0.0.0")), None);
    }

    /// "prefix gateway interface kind" per route, in lookup order.
    fn rows(t: &RouteTable) -> Vec<String> {
        t.snapshot()
            .iter()
            .map(|r| {
                let gw = r.gateway.map(|g| g.to_string()).unwrap_or("-".into());
                format!("{} {gw} {} {}", r.prefix, r.interface, r.kind.as_str())
            })
            .collect()
    }

    #[test]
    fn spec_example_routes() {
        let text = include_str!("../../tests/fixtures/spec-example.uci");
        let c = crate::config::parse_str("spec-example.uci", text).unwrap();
        let t = RouteTable::new(&c).unwrap();
        assert_eq!(
            rows(&t),
            [
                "192.168.10.0/24 - lan connected",
                "10.0.0.0/24 - wan connected",
                "0.0.0.0/0 10.0.0.254 wan static",
            ]
        );
        let lan = c.interface_index("lan").unwrap();
        let wan = c.interface_index("wan").unwrap();
        let hop = |s: &str| t.lookup(ip(s)).unwrap();
        assert_eq!(
            hop("192.168.10.50"),
            NextHop {
                port: lan,
                via: ip("192.168.10.50")
            }
        );
        assert_eq!(
            hop("10.99.0.2"),
            NextHop {
                port: wan,
                via: ip("10.0.0.254")
            },
            "sync not routed"
        );
    }

    #[test]
    fn snapshot_lists_routes_in_lookup_order() {
        assert_eq!(
            rows(&router()),
            [
                "10.1.2.3/32 - lan static",
                "203.0.113.0/29 - wan connected",
                "192.168.1.0/24 - lan connected",
                "10.1.2.0/24 203.0.113.6 wan static",
                "192.168.1.0/24 203.0.113.5 wan static",
                "10.1.0.0/16 192.168.1.253 lan static",
                "10.0.0.0/8 192.168.1.254 lan static",
                "0.0.0.0/0 203.0.113.1 wan static",
            ]
        );
    }

    #[test]
    fn bad_static_routes_are_reported_with_their_line() {
        let ifs = [
            ("lan", Role::Lan, "192.168.1.1/24"),
            ("sync", Role::Sync, "10.99.0.1/30"),
        ];
        let err = |routes: &[(&str, Option<&str>, &str)]| {
            RouteTable::new(&config(&ifs, routes)).unwrap_err().0
        };
        assert_eq!(
            err(&[("0.0.0.0/0", Some("192.168.2.1"), "lan")]),
            "test.conf:100: option 'gateway': '192.168.2.1' is not inside interface 'lan''s subnet 192.168.1.0/24; a gateway must be directly reachable"
        );
        assert!(
            err(&[("10.0.0.0/8", None, "sync")])
                .starts_with("test.conf:100: option 'interface': 'sync' is the sync")
        );
        assert!(
            err(&[("10.0.0.0/8", None, "lan"), ("10.0.0.0/9", None, "dmz")])
                .starts_with("test.conf:101: option 'interface': no interface 'dmz'")
        );
    }

    /// Every lookup agrees with a brute-force "longest matching prefix,
    /// connected first" over random addresses near the configured prefixes.
    #[test]
    fn lookup_matches_brute_force() {
        let t = router();
        let all = t.snapshot();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let base = all[(x % all.len() as u64) as usize].prefix.addr;
            let d = Ipv4Addr::from(u32::from(base) ^ ((x >> 32) as u32 >> (x >> 59)));
            let best = all
                .iter()
                .filter(|r| r.prefix.contains(d))
                .max_by_key(|r| (r.prefix.prefix_len, r.kind == RouteKind::Connected))
                .map(|r| NextHop {
                    port: r.port,
                    via: r.gateway.unwrap_or(d),
                });
            assert_eq!(t.lookup(d), best, "{d}");
        }
    }

    /// `cargo test --release --lib route::table -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn lookup_bench() {
        for extra in [0usize, 16, 64, 256] {
            let mut routes: Vec<(String, Option<&str>, &str)> = (0..extra)
                .map(|i| {
                    (
                        format!("10.{}.{}.0/24", i / 256, i % 256),
                        Some("192.168.1.254"),
                        "lan",
                    )
                })
                .collect();
            routes.push(("0.0.0.0/0".into(), Some("203.0.113.1"), "wan"));
            let r: Vec<(&str, Option<&str>, &str)> = routes
                .iter()
                .map(|(a, b, c)| (a.as_str(), *b, *c))
                .collect();
            let c = config(
                &[
                    ("lan", Role::Lan, "192.168.1.1/24"),
                    ("wan", Role::Wan, "203.0.113.2/29"),
                ],
                &r,
            );
            let t = RouteTable::new(&c).unwrap();
            let n = 2_000_000u32;
            let start = std::time::Instant::now();
            let mut sum = 0usize;
            for i in 0..n {
                // Mostly the default route: the worst case, a full scan.
                let d = Ipv4Addr::from(0x0800_0000u32.wrapping_add(i.wrapping_mul(2_654_435_761)));
                sum +=
                    std::hint::black_box(t.lookup(std::hint::black_box(d))).map_or(0, |h| h.port);
            }
            let ns = start.elapsed().as_nanos() as f64 / f64::from(n);
            println!("routes {:>3}: {ns:.1} ns/lookup (checksum {sum})", t.len());
        }
    }
}
