//! Two sync cores over an in-memory link with 5% loss each way: 10k
//! sessions, updates and destroys, restarts of both routers mid-way; after
//! convergence each external cache equals the other's exported sessions
//! (same ids, tuples, NAT mappings, states).

mod sync_harness;

use hagw::sync::ResyncStatus;
use hagw::time::{Duration, Instant};
use sync_harness::{Node, Rng, run};

const EXT: usize = 16_384;

fn workload(target: u64) -> impl FnMut(Instant, &mut Node, &mut Node, &mut Rng) {
    move |_, a, b, rng| {
        // A: two new sessions per ms until `target`, B: one per 5 ms; both
        // update and destroy some of theirs.
        for _ in 0..2 {
            if a.counter < target {
                a.create(rng);
            }
        }
        if rng.chance(0.2) {
            b.create(rng);
        }
        if rng.chance(0.5) {
            a.update_random(rng);
        }
        if rng.chance(0.2) {
            a.destroy_random(rng);
        }
        if rng.chance(0.05) {
            b.destroy_random(rng);
        }
    }
}

fn converge(key: Option<&str>, seed: u64) -> (Node, Node) {
    let mut rng = Rng::new(seed);
    let mut a = Node::new(1, 0x1000, key, EXT);
    let mut b = Node::new(2, 0x2000, key, EXT);
    let mut now = Instant::from_secs(1);
    let loss = 0.05;
    let ms = Duration::from_millis;

    // 2.5 s of traffic, then B restarts (empty table, new boot)
    run(
        &mut now,
        ms(2500),
        &mut a,
        &mut b,
        &mut rng,
        loss,
        workload(10_000),
    );
    b.restart(0x2001, key, EXT);
    // more traffic, then A restarts too; its counter continues (the lead
    // seeds it so a restarted router never reuses an id)
    run(
        &mut now,
        ms(1500),
        &mut a,
        &mut b,
        &mut rng,
        loss,
        workload(10_000),
    );
    let a_before_restart = a.counter;
    a.restart(0x1001, key, EXT);
    run(
        &mut now,
        ms(6000),
        &mut a,
        &mut b,
        &mut rng,
        loss,
        workload(a_before_restart + 10_000),
    );
    // quiet: keepalives, NACKs and bulks settle, still with loss
    run(
        &mut now,
        ms(10_000),
        &mut a,
        &mut b,
        &mut rng,
        loss,
        |_, _, _, _| {},
    );

    assert!(a.counter >= 10_000, "A created {} sessions", a.counter);
    let (ea, eb) = (a.external(now), b.external(now));
    let (xa, xb) = (a.exported(), b.exported());
    assert!(xa.len() > 5_000, "A exports {}", xa.len());
    assert_eq!(eb.len(), xa.len(), "B's external cache size vs A's table");
    assert!(
        eb == xa,
        "B's external cache differs from A's exported sessions"
    );
    assert!(
        ea == xb,
        "A's external cache differs from B's exported sessions"
    );
    for n in [&a, &b] {
        let s = n.sync.stats();
        println!(
            "node {}: sent {} frames; recv lost {} nack_sent {} resent {} bulk_sent {} bulk_recv {} unrecovered {} replays {} unconfirmed {} swept {} stale {}",
            n.id,
            n.sent,
            s.lost,
            s.nack_sent,
            s.resent,
            s.bulk_sent,
            s.bulk_recv,
            s.unrecovered,
            s.replays,
            s.unconfirmed,
            s.ext_swept,
            s.ext_stale
        );
        assert!(s.lost > 0 && s.nack_sent > 0, "loss was seen and NACKed");
        assert!(matches!(n.sync.resync_status(), ResyncStatus::Done { .. }));
        assert!(n.sync.peers().all(|p| p.up));
        assert_eq!(s.malformed + s.bad_crc + s.auth_failures, 0);
    }
    assert!(a.sync.stats().resent > 0 && b.sync.stats().resent > 0);
    (a, b)
}

#[test]
fn ten_thousand_sessions_with_loss_and_restarts_converge() {
    converge(None, 0x5eed);
}

#[test]
fn the_same_with_authentication() {
    let (a, b) = converge(Some("a-shared-sync-key"), 0xbeef);
    assert!(
        b.sync.stats().unconfirmed > 0,
        "restarts went through the echo check"
    );
    assert!(a.sync.authenticated());
}

#[test]
fn other_seeds_converge_too() {
    for seed in [1, 2, 3] {
        converge(None, seed);
    }
}
