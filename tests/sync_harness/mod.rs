//! Two `Sync` cores joined by an in-memory lossy link, each with a stand-in
//! session table (the lead's conntrack later): deterministic from a seed.
#![allow(dead_code)]

use hagw::config::ConntrackSync;
use hagw::conntrack::Tuple;
use hagw::sync::{Endpoint, NatMapping, SessionRecord, Sync, session_id};
use hagw::time::{Duration, Instant};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

pub fn cfg(key: Option<&str>) -> ConntrackSync {
    ConntrackSync {
        auth_key: key.map(str::to_string),
        resync_timeout_secs: 30,
        line: 1,
        ..ConntrackSync::default()
    }
}

/// The crate's seeded generator (loss and workload choices).
pub use hagw::rng::XorShift64Star as Rng;

/// A NAT'd session as conntrack would export it.
pub fn session(node: u16, counter: u64, rng: &mut Rng) -> SessionRecord {
    let r = rng.next_u64();
    let proto = [6u8, 6, 6, 17, 1][(r % 5) as usize];
    let client = Ipv4Addr::new(192, 168, 10, (r >> 8) as u8);
    let sport = (r >> 16) as u16 | 1024;
    let server = Ipv4Addr::new(203, 0, 113, (r >> 32) as u8);
    let dport = [443u16, 80, 22, 53, 8080][((r >> 40) % 5) as usize];
    let snat = Endpoint::new(Ipv4Addr::new(10, 0, 0, 1), (r >> 44) as u16 | 1024);
    let nat = match (r >> 60) % 4 {
        0 => NatMapping::Dnat(Endpoint::new(Ipv4Addr::new(192, 168, 10, 100), 22)),
        1 => NatMapping::Both {
            snat: Endpoint::new(Ipv4Addr::new(192, 168, 10, 1), snat.port),
            dnat: Endpoint::new(Ipv4Addr::new(192, 168, 10, 100), 22),
        },
        _ => NatMapping::Snat(snat),
    };
    let (sport, dport) = if proto == 1 {
        (sport, sport)
    } else {
        (sport, dport)
    };
    SessionRecord {
        id: session_id(node, counter),
        orig: Tuple::new(proto, client, sport, server, dport),
        nat,
        state: 3,
        flags: 1,
        timeout_secs: 3600,
    }
}

/// One router: its sync core and the sessions it exports.
pub struct Node {
    pub id: u16,
    pub sync: Sync,
    pub table: BTreeMap<u64, SessionRecord>,
    pub counter: u64,
    /// Datagrams sent by this node's core, summed over its restarts.
    pub sent: u64,
}

impl Node {
    pub fn new(id: u16, boot: u32, key: Option<&str>, ext: usize) -> Node {
        Node {
            id,
            sync: Sync::new(&cfg(key), id, boot, ext, 1500),
            table: BTreeMap::new(),
            counter: 0,
            sent: 0,
        }
    }

    /// The router restarts: new boot id, empty session table.
    pub fn restart(&mut self, boot: u32, key: Option<&str>, ext: usize) {
        self.sync = Sync::new(&cfg(key), self.id, boot, ext, 1500);
        self.table.clear();
    }

    pub fn create(&mut self, rng: &mut Rng) -> u64 {
        self.counter += 1;
        let r = session(self.id, self.counter, rng);
        self.table.insert(r.id, r);
        self.sync.export_new(&r);
        r.id
    }

    fn pick(&self, rng: &mut Rng) -> Option<u64> {
        if self.table.is_empty() {
            return None;
        }
        let from = session_id(self.id, rng.below(self.counter + 1));
        self.table
            .range(from..)
            .next()
            .or_else(|| self.table.iter().next())
            .map(|(&id, _)| id)
    }

    pub fn update_random(&mut self, rng: &mut Rng) {
        if let Some(id) = self.pick(rng) {
            let state = (rng.below(8) + 1) as u8;
            if let Some(r) = self.table.get_mut(&id) {
                r.state = state;
            }
            self.sync.export_update(id, state, 3600);
        }
    }

    pub fn destroy_random(&mut self, rng: &mut Rng) {
        if let Some(id) = self.pick(rng) {
            self.table.remove(&id);
            self.sync.export_destroy(id);
        }
    }

    /// One loop turn's timers, bulk walk and flush.
    pub fn turn(&mut self, now: Instant) {
        if self.sync.poll_timeout().is_some_and(|d| d <= now) {
            self.sync.handle_timeout(now);
        }
        let table = &self.table;
        self.sync.bulk_step(now, |cur| {
            let (&id, r) = table.range(*cur..).next()?;
            *cur = id + 1;
            Some(*r)
        });
        self.sync.flush(now);
    }

    /// The external cache as (id → record without timeout) for comparison.
    pub fn external(&self, now: Instant) -> BTreeMap<u64, SessionRecord> {
        self.sync
            .external(now)
            .map(|r| {
                (
                    r.id,
                    SessionRecord {
                        timeout_secs: 0,
                        ..r
                    },
                )
            })
            .collect()
    }

    /// The exported table in the same shape.
    pub fn exported(&self) -> BTreeMap<u64, SessionRecord> {
        self.table
            .iter()
            .map(|(&id, r)| {
                (
                    id,
                    SessionRecord {
                        timeout_secs: 0,
                        ..*r
                    },
                )
            })
            .collect()
    }
}

/// Move every datagram `from` has queued to `to`, dropping each with
/// probability `loss`, through one reusable buffer. Returns how many `from`
/// sent.
pub fn shuttle(
    now: Instant,
    from: &mut Sync,
    to: &mut Sync,
    rng: &mut Rng,
    loss: f64,
    buf: &mut [u8],
) -> u64 {
    let mut sent = 0;
    while let Some(n) = from.poll_transmit(buf) {
        sent += 1;
        if !rng.chance(loss) {
            let _ = to.handle_datagram(now, &buf[..n]);
        }
    }
    sent
}

/// Run both nodes for `dur` in 1 ms turns; `each` runs first in every turn.
pub fn run(
    now: &mut Instant,
    dur: Duration,
    a: &mut Node,
    b: &mut Node,
    rng: &mut Rng,
    loss: f64,
    mut each: impl FnMut(Instant, &mut Node, &mut Node, &mut Rng),
) {
    let end = *now + dur;
    let mut buf = vec![0u8; 2048];
    while *now < end {
        each(*now, a, b, rng);
        a.turn(*now);
        b.turn(*now);
        a.sent += shuttle(*now, &mut a.sync, &mut b.sync, rng, loss, &mut buf);
        b.sent += shuttle(*now, &mut b.sync, &mut a.sync, rng, loss, &mut buf);
        *now = *now + Duration::from_millis(1);
    }
}
