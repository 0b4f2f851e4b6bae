//! The SPEC §6 router (board/examples/scenario5-stateful-a.uci: SNAT of the
//! LAN to the WAN virtual address, wan_in firewall, 16k session table) as
//! an engine in memory, master of both groups, with the LAN and WAN
//! virtual addresses' MACs learnt by ARP as a host would: the forward-path
//! rig of tests/forward_alloc.rs and the dataplane benchmark. A crate
//! includes it with `#[path = ".../common/engine_rig.rs"] mod engine_rig;`
//! next to its `mod packet;` (tests/sim/packet.rs).
#![allow(dead_code)]

use super::packet;
use hagw::config::Config;
use hagw::engine::{Engine, RxMeta, TxQueue, Verdict};
use hagw::time::{Duration, Instant};
use hagw::vrrp::VrrpState;
use std::net::Ipv4Addr;

pub const LAN: usize = 0;
pub const WAN: usize = 1;
pub const LAN_VIP: Ipv4Addr = Ipv4Addr::new(192, 168, 10, 1);
pub const WAN_VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const UPSTREAM: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 254);
pub const UPSTREAM_MAC: [u8; 6] = [0x02, 0xbb, 0, 0, 0, 0xfe];

/// The router under test with its clock, queue and the MACs hosts send to.
pub struct Rig {
    pub e: Engine,
    pub tx: TxQueue,
    pub now: Instant,
    pub lan_gw: [u8; 6],
    pub wan_gw: [u8; 6],
    pub forwarded: u64,
    /// The MAC of a host the router asks for by ARP (None: no answer).
    mac_of: fn(Ipv4Addr) -> Option<[u8; 6]>,
}

/// The MAC of the router's port `p`.
pub fn router_mac(p: usize) -> [u8; 6] {
    [0x02, 0, 0, 0, 1, p as u8 + 1]
}

pub fn config() -> Config {
    let text = include_str!("../../board/examples/scenario5-stateful-a.uci");
    hagw::config::parse_str("scenario5-stateful-a.uci", text)
        .unwrap_or_else(|e| panic!("config: {e:?}"))
}

impl Rig {
    /// The router, master of both groups; `client` (IP, MAC) asks for the
    /// LAN VIP, the upstream router for the WAN VIP.
    pub fn new(client: (Ipv4Addr, [u8; 6]), mac_of: fn(Ipv4Addr) -> Option<[u8; 6]>) -> Rig {
        let cfg = config();
        let macs: Vec<[u8; 6]> = (0..cfg.interfaces.len()).map(router_mac).collect();
        let mut now = Instant::from_secs(100);
        let mut e = Engine::new(&cfg, &macs, now).unwrap();
        let mut tx = TxQueue::with_capacity(256);
        let master = |e: &Engine, now| {
            e.snapshot(now)
                .groups
                .iter()
                .all(|g| g.state == VrrpState::Master)
        };
        for _ in 0..1000 {
            e.handle_timeout(now, &mut tx);
            tx.clear();
            while e.poll_event().is_some() {}
            if master(&e, now) {
                break;
            }
            now = e.poll_timeout().unwrap_or(now + Duration::from_millis(100));
        }
        assert!(master(&e, now), "router did not become master");
        let mut r = Rig {
            e,
            tx,
            now,
            lan_gw: [0; 6],
            wan_gw: [0; 6],
            forwarded: 0,
            mac_of,
        };
        r.lan_gw = r.arp_ask(LAN, client.1, client.0, LAN_VIP);
        r.wan_gw = r.arp_ask(WAN, UPSTREAM_MAC, UPSTREAM, WAN_VIP);
        r
    }

    /// Ask the router who has `target`; returns the MAC of its answer.
    pub fn arp_ask(
        &mut self,
        port: usize,
        mac: [u8; 6],
        ip: Ipv4Addr,
        target: Ipv4Addr,
    ) -> [u8; 6] {
        let a = packet::arp(1, mac, ip, [0; 6], target);
        let mut f = packet::ether([0xff; 6], mac, 0x0806, &a);
        self.tx.clear();
        self.e.handle_frame(self.now, port, &mut f, &mut self.tx);
        let ans = self
            .tx
            .iter()
            .find(|(p, b)| *p == port && b.len() >= 42 && b[12..14] == [8, 6] && b[21] == 2)
            .map(|(_, b)| b[22..28].try_into().unwrap())
            .unwrap_or_else(|| panic!("no ARP answer for {target}"));
        self.tx.clear();
        ans
    }

    /// `send_meta` with nothing to say about the frame.
    pub fn send(&mut self, port: usize, f: Vec<u8>) -> Option<(usize, Vec<u8>)> {
        self.send_meta(port, f, RxMeta::default())
    }

    /// Send `f` in on `port` (outside timed loops): answer the router's ARP
    /// requests for known hosts, and return the frame it forwarded (in
    /// place or, after resolution, from its queue) with the output port.
    pub fn send_meta(
        &mut self,
        port: usize,
        mut f: Vec<u8>,
        meta: RxMeta,
    ) -> Option<(usize, Vec<u8>)> {
        self.tx.clear();
        let v = self
            .e
            .handle_frame_meta(self.now, port, &mut f, meta, &mut self.tx);
        if let Verdict::Forward(p) = v {
            self.tx.clear();
            return Some((p, f));
        }
        let asks: Vec<(usize, Ipv4Addr)> = self
            .tx
            .iter()
            .filter(|(_, b)| b.len() >= 42 && b[12..14] == [8, 6] && b[21] == 1)
            .map(|(p, b)| (p, Ipv4Addr::new(b[38], b[39], b[40], b[41])))
            .collect();
        self.tx.clear();
        for (p, who) in asks {
            let mac = (self.mac_of)(who)?;
            let router_ip = if p == LAN {
                Ipv4Addr::new(192, 168, 10, 2)
            } else {
                Ipv4Addr::new(10, 0, 0, 2)
            };
            let a = packet::arp(2, mac, who, router_mac(p), router_ip);
            let mut r = packet::ether(router_mac(p), mac, 0x0806, &a);
            self.e.handle_frame(self.now, p, &mut r, &mut self.tx);
        }
        let out = self
            .tx
            .iter()
            .find(|(_, b)| b.len() > 14 && b[12..14] == [8, 0])
            .map(|(p, b)| (p, b.to_vec()));
        self.tx.clear();
        out
    }
}
