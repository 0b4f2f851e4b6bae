//! Steady state allocates nothing: two sync cores (with a MAC key) exchange
//! new sessions, updates, destroys, keepalives, NACKs and resends over a
//! lossy link, and one bulk resync, under a counting global allocator.

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc as alloc;
mod sync_harness;

use hagw::sync::{SessionRecord, Sync};
use hagw::time::{Duration, Instant};
use sync_harness::{Rng, cfg, session, shuttle};

/// Live sessions of one node: a fixed window of the last `LIVE` created.
const LIVE: usize = 2000;

struct Side {
    sync: Sync,
    live: Vec<SessionRecord>,
    created: u64,
}

fn step(now: Instant, a: &mut Side, b: &mut Side, rng: &mut Rng, buf: &mut [u8], count: bool) {
    alloc::counting(count);
    for s in [&mut *a, &mut *b] {
        // three new sessions, the oldest ones end, one update
        for _ in 0..3 {
            s.created += 1;
            let slot = (s.created as usize) % LIVE;
            let old = s.live[slot].id;
            s.sync.export_destroy(old);
            let r = session(s.sync.node_id(), s.created, rng);
            s.live[slot] = r;
            s.sync.export_new(&r);
        }
        let r = s.live[rng.below(LIVE as u64) as usize];
        s.sync.export_update(r.id, 4, 7200);
        if s.sync.poll_timeout().is_some_and(|d| d <= now) {
            s.sync.handle_timeout(now);
        }
        let live = &s.live;
        s.sync.bulk_step(now, |cur| {
            let r = live.get(*cur as usize).copied();
            *cur += 1;
            r
        });
        s.sync.flush(now);
    }
    shuttle(now, &mut a.sync, &mut b.sync, rng, 0.05, buf);
    shuttle(now, &mut b.sync, &mut a.sync, rng, 0.05, buf);
    alloc::counting(false);
}

#[test]
fn steady_state_sync_allocates_nothing() {
    let key = Some("steady-state-key");
    let mut rng = Rng::new(99);
    let mut mk = |node: u16| Side {
        sync: Sync::new(&cfg(key), node, u32::from(node) * 1000, 16_384, 1500),
        live: (0..LIVE as u64)
            .map(|c| session(node, c + 1_000_000, &mut rng))
            .collect(),
        created: 0,
    };
    let (mut a, mut b) = (mk(1), mk(2));
    let mut buf = vec![0u8; 2048];
    let mut now = Instant::from_secs(1);
    let ms = Duration::from_millis(1);
    // warm up: peers meet, initial bulks, caches fill
    for _ in 0..5000 {
        step(now, &mut a, &mut b, &mut rng, &mut buf, false);
        now = now + ms;
    }
    // counted: 5 s with loss, and a resync request half-way
    for i in 0..5000 {
        if i == 2500 {
            alloc::counting(true);
            b.sync.request_resync(now, 1);
            alloc::counting(false);
        }
        step(now, &mut a, &mut b, &mut rng, &mut buf, true);
        now = now + ms;
    }
    let (sa, sb) = (a.sync.stats(), b.sync.stats());
    println!(
        "frames a→b {} b→a {}, lost seen {}/{}, resent {}/{}, bulks sent {}/{}",
        sa.pkts_sent,
        sb.pkts_sent,
        sb.lost,
        sa.lost,
        sa.resent,
        sb.resent,
        sa.bulk_sent,
        sb.bulk_sent
    );
    assert!(
        sb.lost > 0 && sa.resent > 0,
        "loss and resends were exercised"
    );
    assert!(sa.bulk_sent >= 2, "the requested bulk ran");
    assert!(sb.ext_current > 1000);
    assert_eq!(alloc::allocations(), 0, "allocations in steady state");
}

#[test]
fn the_counter_sees_allocations() {
    // (each test runs on its own thread; the counter is per thread)
    alloc::counting(true);
    let v = std::hint::black_box(vec![1u8; 64]);
    alloc::counting(false);
    drop(v);
    assert_eq!(alloc::allocations(), 1);
}
