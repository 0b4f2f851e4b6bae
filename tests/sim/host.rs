//! An end host for the simulator (a client or a server behind the routers):
//! one interface, one address, a default gateway, an ARP cache that learns
//! like Linux (requests to us, replies, and gratuitous ARPs updating an
//! entry that exists), a queue of packets waiting for ARP, ICMP echo
//! answered when `answer_echo` is set, and every IPv4 packet addressed to
//! it recorded in `received`. Tests craft the traffic (`Sim::host_send`)
//! and read what arrived.
#![allow(dead_code)]

use super::packet::{arp, echo, ether, ipv4, parse};
use hagw::time::Instant;
use std::collections::HashMap;
use std::net::Ipv4Addr;

pub struct Host {
    pub name: String,
    pub mac: [u8; 6],
    pub ip: Ipv4Addr,
    pub prefix_len: u8,
    pub gateway: Option<Ipv4Addr>,
    pub arp: HashMap<Ipv4Addr, [u8; 6]>,
    /// (next hop, IP packet) waiting for an ARP answer.
    waiting: Vec<(Ipv4Addr, Vec<u8>)>,
    /// IPv4 packets addressed to us (or broadcast), with arrival time.
    pub received: Vec<(Instant, Vec<u8>)>,
    pub answer_echo: bool,
    /// Echo requests from these sources go unanswered (a drop rule).
    pub ignore_echo_from: Vec<Ipv4Addr>,
    pub arp_requests_sent: u64,
    /// Times the MAC of an ARP entry changed (gratuitous ARP after failover).
    pub arp_changes: u64,
}

impl Host {
    /// A host with `addr` ("a.b.c.d/len"), default gateway `gw`; its MAC is
    /// 02:aa:00:00:00:`id`.
    pub fn new(name: &str, id: u8, addr: &str, gw: Option<&str>) -> Host {
        let (a, l) = addr.split_once('/').unwrap_or((addr, "24"));
        Host {
            name: name.into(),
            mac: [0x02, 0xaa, 0, 0, 0, id],
            ip: a.parse().unwrap(),
            prefix_len: l.parse().unwrap(),
            gateway: gw.map(|g| g.parse().unwrap()),
            arp: HashMap::new(),
            waiting: Vec::new(),
            received: Vec::new(),
            answer_echo: true,
            ignore_echo_from: Vec::new(),
            arp_requests_sent: 0,
            arp_changes: 0,
        }
    }

    fn on_link(&self, ip: Ipv4Addr) -> bool {
        let mask = if self.prefix_len == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix_len))
        };
        u32::from(ip) & mask == u32::from(self.ip) & mask
    }

    fn learn(&mut self, ip: Ipv4Addr, mac: [u8; 6], create: bool) -> Vec<Vec<u8>> {
        match self.arp.get(&ip) {
            Some(old) if *old != mac => self.arp_changes += 1,
            Some(_) => {}
            None if !create => return Vec::new(),
            None => {}
        }
        self.arp.insert(ip, mac);
        let (ready, rest): (Vec<_>, Vec<_>) = self.waiting.drain(..).partition(|(nh, _)| *nh == ip);
        self.waiting = rest;
        ready
            .into_iter()
            .map(|(_, p)| ether(mac, self.mac, 0x0800, &p))
            .collect()
    }

    /// Frames to put on the wire to send the IPv4 packet `ip`.
    pub fn send_ip(&mut self, _now: Instant, ip: &[u8]) -> Vec<Vec<u8>> {
        let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
        let nh = if self.on_link(dst) {
            dst
        } else {
            match self.gateway {
                Some(g) => g,
                None => return Vec::new(),
            }
        };
        if let Some(mac) = self.arp.get(&nh) {
            return vec![ether(*mac, self.mac, 0x0800, ip)];
        }
        let asked = self.waiting.iter().any(|(h, _)| *h == nh);
        self.waiting.push((nh, ip.to_vec()));
        if asked {
            return Vec::new();
        }
        self.arp_requests_sent += 1;
        let req = arp(1, self.mac, self.ip, [0; 6], nh);
        vec![ether([0xff; 6], self.mac, 0x0806, &req)]
    }

    /// A frame arrived; returns the frames the host sends in answer.
    pub fn receive(&mut self, now: Instant, f: &[u8]) -> Vec<Vec<u8>> {
        if f.len() < 14 {
            return Vec::new();
        }
        let dst: [u8; 6] = f[0..6].try_into().unwrap();
        if dst != self.mac && dst != [0xff; 6] {
            return Vec::new();
        }
        let body = &f[14..];
        match u16::from_be_bytes([f[12], f[13]]) {
            0x0806 if body.len() >= 28 => {
                let op = u16::from_be_bytes([body[6], body[7]]);
                let sha: [u8; 6] = body[8..14].try_into().unwrap();
                let spa = Ipv4Addr::new(body[14], body[15], body[16], body[17]);
                let tpa = Ipv4Addr::new(body[24], body[25], body[26], body[27]);
                let for_me = tpa == self.ip;
                let mut out = self.learn(spa, sha, for_me);
                if op == 1 && for_me && spa != tpa {
                    let rep = arp(2, self.mac, self.ip, sha, spa);
                    out.push(ether(sha, self.mac, 0x0806, &rep));
                }
                out
            }
            0x0800 => {
                let Some(p) = parse(body) else {
                    return Vec::new();
                };
                if p.dst != self.ip && p.dst != Ipv4Addr::BROADCAST {
                    return Vec::new();
                }
                self.received.push((now, body.to_vec()));
                if self.answer_echo
                    && p.icmp == Some((8, 0))
                    && !self.ignore_echo_from.contains(&p.src)
                {
                    let reply = echo(0, self.ip, p.src, p.sport, p.dport, &p.payload, 64);
                    return self.send_ip(now, &reply);
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// Received packets parsed, in order (packets that fail parsing skipped).
    pub fn packets(&self) -> Vec<super::packet::Pkt> {
        self.received.iter().filter_map(|(_, b)| parse(b)).collect()
    }

    /// A raw IPv4 packet from this host (`ipv4` re-exported for tests).
    pub fn raw(&self, dst: Ipv4Addr, proto: u8, ttl: u8, l4: &[u8]) -> Vec<u8> {
        ipv4(self.ip, dst, proto, ttl, 9, false, l4)
    }
}
