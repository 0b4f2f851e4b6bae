//! Randomized test against a simple model: thousands of seeded random
//! inserts (local and synced), packets, removals, expiries and drains on a
//! small table, checking after each step that lookups by both tuples agree
//! with a HashMap model, `len` agrees, UDP/ICMP/generic deadlines follow
//! the model's own rules, evictions only take non-assured sessions, and
//! the table's internal structure is consistent.

use super::tests::{at, other, seg, snat, table_with, tuple};
use super::*;
use crate::config::ConntrackTimeouts;
use crate::time::Duration;
use std::collections::HashMap;
use std::net::Ipv4Addr;

/// splitmix64: small, seeded, good enough to pick operations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Clone, Debug)]
struct Model {
    idx: SessionIdx,
    reply: Tuple,
    /// Deadline in seconds as the model computes it (TCP: as the table
    /// reports it, the TCP machine is tested on its own).
    deadline: u64,
    seen_reply: bool,
    assured: bool,
}

struct World {
    ct: Conntrack,
    model: HashMap<Tuple, Model>,
    now: Instant,
    timeouts: ConntrackTimeouts,
    rng: Rng,
}

const CAPACITY: u32 = 128;

impl World {
    fn secs_ceil(&self) -> u64 {
        self.now.as_micros().div_ceil(1_000_000)
    }

    fn timeout(&self, proto: u8, assured: bool) -> u64 {
        let t = &self.timeouts;
        u64::from(match proto {
            17 if assured => t.udp_stream,
            17 => t.udp,
            1 => t.icmp,
            _ => t.generic,
        })
    }

    fn random_tuple(&mut self) -> Tuple {
        let proto = [6, 17, 17, 1, 47][self.rng.below(5) as usize];
        let port = 1 + self.rng.below(300) as u16;
        match proto {
            1 => tuple(1, port, port),
            47 => Tuple::new(
                47,
                Ipv4Addr::new(10, 0, 0, port as u8),
                0,
                super::tests::SERVER,
                0,
            ),
            p => tuple(p, port, 53),
        }
    }

    fn random_reply(&mut self, orig: Tuple) -> Tuple {
        if self.rng.chance(50) || orig.proto == 47 || orig.proto == 1 {
            orig.reversed()
        } else {
            snat(orig, 1000 + self.rng.below(400) as u16)
        }
    }

    fn first_packet(&mut self, t: Tuple) -> PacketInfo {
        match t.proto {
            6 => seg(t, tcp_flags::SYN, self.rng.next() as u32, 0, 0),
            1 => PacketInfo {
                tuple: t,
                len: 84,
                l4: L4::IcmpEcho { request: true },
            },
            _ => other(t),
        }
    }

    fn clashes(&self, orig: &Tuple, reply: &Tuple) -> bool {
        self.model
            .iter()
            .any(|(o, m)| [o, &m.reply].iter().any(|x| *x == orig || *x == reply))
    }

    fn tcp_refresh(&mut self, orig: Tuple) {
        let m = self.model.get(&orig).cloned();
        if let Some(m) = m {
            let s = self.ct.get(m.idx).unwrap();
            let (deadline, assured) = (s.expires().as_micros() / 1_000_000, s.assured());
            let m = self.model.get_mut(&orig).unwrap();
            (m.deadline, m.assured) = (deadline, assured);
        }
    }

    fn insert(&mut self) {
        let orig = self.random_tuple();
        let reply = self.random_reply(orig);
        let pkt = self.first_packet(orig);
        let full = self.model.len() == CAPACITY as usize;
        let clash = self.clashes(&orig, &reply);
        let before: Vec<(Tuple, bool)> = self.model.iter().map(|(t, m)| (*t, m.assured)).collect();
        let evicted = self.ct.stats().evicted;
        match self
            .ct
            .insert(self.now, orig, reply, NatFlags::default(), &pkt)
        {
            Err(InsertError::Exists) => assert!(clash, "{orig} / {reply}"),
            Err(InsertError::Full) => assert!(full && !clash),
            Err(e) => panic!("{e:?}"),
            Ok(idx) => {
                assert!(!clash);
                if full {
                    assert_eq!(self.ct.stats().evicted, evicted + 1);
                    let gone: Vec<_> = before
                        .iter()
                        .filter(|(t, _)| self.ct.lookup(t).is_none())
                        .collect();
                    assert_eq!(gone.len(), 1, "exactly one evicted");
                    assert!(!gone[0].1, "only a non-assured session is evicted");
                    self.model.remove(&gone[0].0);
                }
                let deadline = self.secs_ceil() + self.timeout(orig.proto, false);
                let m = Model {
                    idx,
                    reply,
                    deadline,
                    seen_reply: false,
                    assured: false,
                };
                self.model.insert(orig, m);
                if orig.proto == 6 {
                    self.tcp_refresh(orig);
                }
            }
        }
    }

    fn insert_synced(&mut self) {
        let orig = self.random_tuple();
        if orig.proto == 6 {
            return;
        }
        let reply = self.random_reply(orig);
        let assured = orig.proto != 1 && self.rng.chance(50);
        let rec = SyncedSession {
            id: self.rng.next(),
            orig,
            reply,
            nat: NatFlags::default(),
            tcp_state: None,
            seen_reply: assured,
            assured,
            remaining_secs: self.rng.below(700) as u32,
            tcp_wscale: [0; 2],
        };
        let clash = self.clashes(&orig, &reply);
        let full = self.model.len() == CAPACITY as usize;
        match self.ct.insert_synced(self.now, &rec) {
            Err(InsertError::Conflict) => assert!(clash),
            Err(InsertError::Full) => assert!(full),
            Err(e) => panic!("{e:?}"),
            Ok(idx) => {
                assert!(!clash);
                // An eviction may have happened: drop what vanished.
                self.model.retain(|t, _| self.ct.lookup(t).is_some());
                let t = self.timeout(orig.proto, assured);
                let deadline = self.secs_ceil() + u64::from(rec.remaining_secs).min(t);
                let m = Model {
                    idx,
                    reply,
                    deadline,
                    seen_reply: assured,
                    assured,
                };
                self.model.insert(orig, m);
            }
        }
    }

    fn packet(&mut self) {
        let n = self.model.len() as u64;
        if n == 0 {
            return;
        }
        let k = self.rng.below(n) as usize;
        let (orig, m) = self
            .model
            .iter()
            .nth(k)
            .map(|(t, m)| (*t, m.clone()))
            .unwrap();
        let dir = if self.rng.chance(50) {
            Dir::Original
        } else {
            Dir::Reply
        };
        let t = if dir == Dir::Original { orig } else { m.reply };
        let pkt = match orig.proto {
            6 => {
                let flags = self.rng.next() as u8;
                let (s, a) = (self.rng.next() as u32, self.rng.next() as u32);
                seg(t, flags, s, a, self.rng.below(1500) as u16)
            }
            1 => PacketInfo {
                tuple: t,
                len: 84,
                l4: L4::IcmpEcho {
                    request: dir == Dir::Original,
                },
            },
            _ => other(t),
        };
        assert_eq!(self.ct.lookup(&t), Some((m.idx, dir)));
        let r = self.ct.track(self.now, m.idx, dir, &pkt);
        if orig.proto == 6 {
            self.tcp_refresh(orig);
            return;
        }
        assert_eq!(r, CtState::Established);
        let assured = m.assured || (m.seen_reply && orig.proto != 1);
        let deadline = self.secs_ceil() + self.timeout(orig.proto, assured);
        let mm = self.model.get_mut(&orig).unwrap();
        mm.assured = assured;
        mm.seen_reply |= dir == Dir::Reply;
        mm.deadline = mm.deadline.max(deadline);
        if assured && !m.assured {
            mm.deadline = deadline; // new class, new timeout
        }
    }

    fn advance(&mut self) {
        self.now = self.now + Duration::from_millis(self.rng.below(5_000));
        if let Some(next) = self.ct.poll_timeout() {
            let earliest = self.model.values().map(|m| m.deadline).min().unwrap();
            assert!(
                next.as_micros() / 1_000_000 <= earliest,
                "never reports late"
            );
        }
        let now_s = self.now.as_micros() / 1_000_000;
        let due = self.model.values().filter(|m| m.deadline <= now_s).count();
        assert_eq!(self.ct.handle_timeout(self.now), due, "at {now_s}");
        self.model.retain(|_, m| m.deadline > now_s);
    }

    fn check(&self) {
        assert_eq!(self.ct.len(), self.model.len());
        for (orig, m) in &self.model {
            assert_eq!(self.ct.lookup(orig), Some((m.idx, Dir::Original)));
            assert_eq!(self.ct.lookup(&m.reply), Some((m.idx, Dir::Reply)));
            let s = self.ct.get(m.idx).unwrap();
            assert_eq!(s.expires(), Instant::from_secs(m.deadline), "{orig}");
            assert_eq!(s.assured(), m.assured, "{orig}");
        }
    }
}

#[test]
fn random_operations_agree_with_a_hashmap_model() {
    let timeouts = ConntrackTimeouts {
        tcp_syn_sent: 40,
        tcp_established: 300,
        udp: 30,
        udp_stream: 90,
        icmp: 20,
        generic: 60,
        ..ConntrackTimeouts::default()
    };
    for seed in [1, 2, 3, 0xdead_beef] {
        let mut w = World {
            ct: table_with(CAPACITY, timeouts.clone()),
            model: HashMap::new(),
            now: at(1_000),
            timeouts: timeouts.clone(),
            rng: Rng(seed),
        };
        let mut changes = 0;
        for step in 0..6_000 {
            match w.rng.below(100) {
                0..45 => w.insert(),
                45..50 => w.insert_synced(),
                50..85 => w.packet(),
                85..88 => {
                    if let Some((t, m)) = w.model.iter().next().map(|(t, m)| (*t, m.clone())) {
                        assert!(w.ct.remove(m.idx));
                        w.model.remove(&t);
                    }
                }
                88..94 => w.advance(),
                _ => {
                    let max = w.rng.below(50) as usize;
                    changes += w.ct.drain_changes(max, |_| {});
                }
            }
            let miss = w.random_tuple();
            if !w.model.contains_key(&miss) && !w.model.values().any(|m| m.reply == miss) {
                assert_eq!(w.ct.lookup(&miss), None);
            }
            assert_eq!(w.ct.len(), w.model.len());
            if step % 5 == 0 {
                w.check();
            }
            if step % 97 == 0 {
                w.ct.table.check();
            }
        }
        let s = w.ct.stats();
        assert!(
            s.inserted > 500 && s.expired > 200 && changes > 500,
            "{s:?}"
        );
        assert!(s.evicted > 0 && s.drop_exists > 0, "{s:?}");
        assert!(
            s.invalid_tcp_flags + s.invalid_tcp_state + s.invalid_tcp_window > 50,
            "{s:?}"
        );
    }
}
