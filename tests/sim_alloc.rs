//! Steady state allocates nothing: two engines exchanging adverts, ARP and
//! echo for 100 s of virtual time, with a counting global allocator.

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
mod sim;

use hagw::engine::{Engine, MAX_FRAME, TxQueue};
use hagw::time::Instant;
use sim::config::ConfigBuilder;

/// Move every queued frame of `from` to `to` (port 0), via a stack buffer.
fn shuttle(now: Instant, from: &mut TxQueue, to: &mut Engine, to_tx: &mut TxQueue) -> usize {
    let mut buf = [0u8; MAX_FRAME];
    let mut n = 0;
    for (_, f) in from.iter() {
        buf[..f.len()].copy_from_slice(f);
        to.handle_frame(now, 0, &mut buf[..f.len()], to_tx);
        n += 1;
    }
    from.clear();
    n
}

struct World<'a> {
    a: &'a mut Engine,
    b: &'a mut Engine,
    ta: &'a mut TxQueue,
    tb: &'a mut TxQueue,
    arp: &'a [u8],
}

impl World<'_> {
    fn run(&mut self, until: Instant, count: bool, now: &mut Instant, frames: &mut usize) {
        while let Some(next) = [self.a.poll_timeout(), self.b.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
        {
            if next > until {
                break;
            }
            *now = next;
            counting_alloc::counting(count);
            self.a.handle_timeout(*now, self.ta);
            self.b.handle_timeout(*now, self.tb);
            let mut arp = [0u8; 64];
            let n = self.arp.len().min(arp.len());
            arp[..n].copy_from_slice(&self.arp[..n]);
            self.a.handle_frame(*now, 0, &mut arp[..n], self.ta);
            // A few rounds, so answers to answers (a health probe sent
            // once ARP resolved, its echo reply) arrive too.
            for _ in 0..3 {
                *frames += shuttle(*now, self.ta, self.b, self.tb);
                *frames += shuttle(*now, self.tb, self.a, self.ta);
            }
            self.ta.clear();
            while self.a.poll_event().is_some() {}
            while self.b.poll_event().is_some() {}
            counting_alloc::counting(false);
        }
    }
}

#[test]
fn steady_state_does_not_allocate() {
    steady_state(false);
}

/// The same with health tracks running: A pings B, B ARPs A (probes sent,
/// answered and matched every 200 ms).
#[test]
fn steady_state_with_health_probes_does_not_allocate() {
    steady_state(true);
}

fn steady_state(tracks: bool) {
    let mk = |n: u16, prio: u8| {
        let peer = format!("192.168.42.{}", 4 - n);
        let mut b = ConfigBuilder::new(n)
            .interface("lan", &format!("192.168.42.{}/24", n + 1))
            .group("g", "lan", 42, &["192.168.42.50/24"], |g| {
                g.priority = prio;
                g.garp_refresh_secs = 5;
                if tracks {
                    g.tracks = vec!["peer".into()];
                }
            });
        if tracks {
            let kind = if n == 1 {
                hagw::config::TrackKind::Ping
            } else {
                hagw::config::TrackKind::Arp
            };
            b = b.track("peer", kind, Some("lan"), Some(&peer), |t| {
                t.interval_ms = 200;
                t.weight = -10;
            });
        }
        b.build()
    };
    let t0 = Instant::from_secs(1);
    let mut a = Engine::new(&mk(1, 200), &[[2, 0, 0, 0, 0, 1]], t0).unwrap();
    let mut b = Engine::new(&mk(2, 100), &[[2, 0, 0, 0, 0, 2]], t0).unwrap();
    let (mut ta, mut tb) = (TxQueue::with_capacity(64), TxQueue::with_capacity(64));
    let arp = sim::arp_request("192.168.42.77", "192.168.42.50");
    let mut now = t0;
    let mut frames = 0;
    let mut w = World {
        a: &mut a,
        b: &mut b,
        ta: &mut ta,
        tb: &mut tb,
        arp: &arp,
    };
    w.run(Instant::from_secs(20), false, &mut now, &mut frames);
    assert_eq!(
        w.a.snapshot(now).groups[0].state,
        hagw::vrrp::VrrpState::Master
    );
    let before = frames;
    w.run(Instant::from_secs(120), true, &mut now, &mut frames);
    assert!(
        frames - before > 200,
        "frames exchanged: {}",
        frames - before
    );
    assert_eq!(
        counting_alloc::allocations(),
        0,
        "allocations in steady state"
    );
    if tracks {
        for e in [&w.a, &w.b] {
            let t = &e.snapshot(now).tracks[0];
            assert!(t.up && t.probe.replies > 400, "{t:?}");
        }
    }
}
