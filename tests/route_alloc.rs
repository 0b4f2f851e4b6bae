//! The routing path allocates nothing once built: route lookups and
//! neighbour resolution, including misses, queued frames, replies, the
//! STALE → PROBE refresh, retries, failures and evictions, with a counting
//! global allocator.

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use hagw::engine::MAX_FRAME;
use hagw::route::{NeighParams, Neighbours, Resolve, RouteTable};
use hagw::time::{Duration, Instant};
use hagw::wire::{ArpOperation, ArpRepr, EthernetAddress};
use std::net::Ipv4Addr;

const OUR_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);

fn reply(host: u8) -> ArpRepr {
    ArpRepr {
        operation: ArpOperation::Reply,
        source_hardware_addr: EthernetAddress([2, 0, 0, 0, 1, host]),
        source_protocol_addr: Ipv4Addr::new(192, 168, 10, host),
        target_hardware_addr: OUR_MAC,
        target_protocol_addr: Ipv4Addr::new(192, 168, 10, 2),
    }
}

/// One second of traffic: every host gets packets, the even ones answer
/// ARP; requests and released frames go out through stack buffers.
fn second(n: &mut Neighbours, table: &RouteTable, now: Instant, hosts: u8) -> u64 {
    let mut frame = [0u8; MAX_FRAME];
    let mut sent = 0u64;
    n.handle_timeout(now);
    for h in 10..10 + hosts {
        let hop = table.lookup(Ipv4Addr::new(192, 168, 10, h)).unwrap();
        match n.resolve(now, hop.port, hop.via) {
            Resolve::Known(mac) => {
                frame[..6].copy_from_slice(&mac.0);
                sent += 1;
            }
            Resolve::Pending => {
                n.enqueue(hop.port, hop.via, &frame[..100]);
            }
            Resolve::Failed => {}
        }
    }
    while let Some(r) = n.poll_request() {
        assert!(r.emit(&mut frame, OUR_MAC, Ipv4Addr::new(192, 168, 10, 2)) > 0);
        let h = r.target.octets()[3];
        if h % 2 == 0 {
            n.handle_arp(now, r.port, &reply(h), true);
        }
    }
    n.drain_resolved(|_, mac, f| {
        f[..6].copy_from_slice(&mac.0);
        sent += 1;
        true
    });
    sent
}

#[test]
fn routing_and_resolution_do_not_allocate() {
    let text = include_str!("fixtures/spec-example.uci");
    let config = hagw::config::parse_str("spec-example.uci", text).unwrap();
    let table = RouteTable::new(&config).unwrap();
    let params = NeighParams {
        capacity: 48,
        pool_frames: 16,
        ..NeighParams::default()
    };
    let mut n = Neighbours::new(params, 7);
    // Warm-up, then 200 s counted, with a 48-entry cache.
    let mut now = Instant::from_secs(1);
    second(&mut n, &table, now, 60);
    counting_alloc::counting(true);
    let mut sent = 0;
    for i in 0..200 {
        now = now + Duration::from_millis(997);
        // Mostly 40 hosts (they fit); a burst of 60 now and then evicts.
        sent += second(&mut n, &table, now, if i % 50 < 3 { 60 } else { 40 });
    }
    counting_alloc::counting(false);
    let c = n.counters();
    assert_eq!(counting_alloc::allocations(), 0, "allocations: {c:?}");
    // The run went through the paths it claims to cover.
    assert!(sent > 1000, "{sent} frames sent");
    assert!(
        c.released > 0 && c.evictions > 0 && c.resolution_failures > 0,
        "{c:?}"
    );
    assert!(c.replies_learned > 100, "refreshes answered: {c:?}");
}
