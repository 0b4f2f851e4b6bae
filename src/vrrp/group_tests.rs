//! Tests of one VRRP group's state machine (RFC 3768/5798 §6): timers,
//! elections, preemption, bad adverts, fault.

use super::*;

fn params(version: u8, priority: u8) -> GroupParams {
    let mut vips = heapless::Vec::new();
    vips.push(Ipv4Addr::new(192, 168, 42, 50)).unwrap();
    GroupParams {
        name: "g42".into(),
        vrid: 42,
        version,
        priority,
        configured_priority: priority,
        address_owner: priority == 255,
        advert_interval_cs: 100,
        preempt: true,
        preempt_delay: Duration::ZERO,
        primary: Ipv4Addr::new(192, 168, 42, 2),
        vips,
        auth: GroupAuth::None,
    }
}

fn adv(version: u8, priority: u8, interval: u16) -> VrrpRepr {
    let mut addresses = heapless::Vec::new();
    addresses.push(Ipv4Addr::new(192, 168, 42, 50)).unwrap();
    VrrpRepr {
        version,
        vrid: 42,
        priority,
        advert_interval: interval,
        auth_type: 0,
        auth_data: [0; 8],
        addresses,
    }
}

const PEER_LOW: Ipv4Addr = Ipv4Addr::new(192, 168, 42, 1);
const PEER_HIGH: Ipv4Addr = Ipv4Addr::new(192, 168, 42, 3);

fn t(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

#[test]
fn skew_and_master_down_v2() {
    let g = Group::new(params(2, 100));
    // (256-100)/256 s = 609.375 ms
    assert_eq!(g.skew_time(), Duration::from_micros(609_375));
    assert_eq!(g.master_down_interval(), Duration::from_micros(3_609_375));
    let g = Group::new(params(2, 1));
    assert_eq!(g.skew_time(), Duration::from_micros(996_093));
}

#[test]
fn skew_v3_uses_learned_interval() {
    let mut p = params(3, 100);
    p.advert_interval_cs = 10;
    let mut g = Group::new(p);
    g.start(t(0), false);
    // ours: 100 ms → skew = 156*100ms/256 = 60.9375 ms
    assert_eq!(g.skew_time(), Duration::from_micros(60_937));
    // learn 50 cs from a higher master
    g.handle_advert(t(10), PEER_HIGH, 255, &adv(3, 200, 50))
        .unwrap();
    assert_eq!(g.master_adver_interval_cs(), 50);
    assert_eq!(
        g.master_down_interval(),
        Duration::from_micros(1_500_000 + 304_687)
    );
    assert_eq!(g.deadline(), Some(t(10) + g.master_down_interval()));
}

#[test]
fn backup_times_out_to_master_request() {
    let mut g = Group::new(params(2, 100));
    let o = g.start(t(0), false);
    assert_eq!(
        o.transition,
        Some((VrrpState::Init, VrrpState::Backup, "startup"))
    );
    let d = g.deadline().unwrap();
    assert_eq!(d, t(0) + g.master_down_interval());
    assert_eq!(
        g.handle_timeout(d - Duration::from_micros(1)),
        Output::default()
    );
    let o = g.handle_timeout(d);
    assert!(o.want_master.is_some());
    let o = g.become_master(d, "x");
    assert_eq!(o.advert, Some(100));
    assert_eq!(g.state(), VrrpState::Master);
    assert_eq!(g.deadline(), Some(d + Duration::from_secs(1)));
    let o = g.handle_timeout(d + Duration::from_secs(1));
    assert_eq!(o.advert, Some(100));
}

#[test]
fn owner_asks_master_immediately() {
    let mut g = Group::new(params(2, 255));
    let o = g.start(t(0), false);
    assert_eq!(o.want_master, Some("address owner"));
    assert_eq!(g.become_master(t(0), "owner").advert, Some(255));
}

#[test]
fn election_ties_by_address() {
    let mut g = Group::new(params(2, 100));
    g.start(t(0), false);
    g.become_master(t(0), "x");
    // lower address, same priority: we stay master and assert at once
    let o = g
        .handle_advert(t(1), PEER_LOW, 255, &adv(2, 100, 1))
        .unwrap();
    assert_eq!(o.advert, Some(100));
    assert!(o.reassert);
    assert_eq!(g.counters.split_brain, 1);
    assert_eq!(g.state(), VrrpState::Master);
    // higher address, same priority: we yield
    let o = g
        .handle_advert(t(2), PEER_HIGH, 255, &adv(2, 100, 1))
        .unwrap();
    assert_eq!(o.transition.map(|x| x.1), Some(VrrpState::Backup));
    assert_eq!(g.master_router(), Some(PEER_HIGH));
    // higher priority from a lower address: yield too
    let mut g = Group::new(params(2, 100));
    g.start(t(0), false);
    g.become_master(t(0), "x");
    g.handle_advert(t(2), PEER_LOW, 255, &adv(2, 101, 1))
        .unwrap();
    assert_eq!(g.state(), VrrpState::Backup);
}

#[test]
fn backup_with_preempt_ignores_lower_master() {
    let mut g = Group::new(params(2, 200));
    g.start(t(0), false);
    let d0 = g.deadline().unwrap();
    g.handle_advert(t(500), PEER_LOW, 255, &adv(2, 100, 1))
        .unwrap();
    assert_eq!(
        g.deadline(),
        Some(d0),
        "lower advert must not reset the timer"
    );
    // without preempt it does
    let mut p = params(2, 200);
    p.preempt = false;
    let mut g = Group::new(p);
    g.start(t(0), false);
    g.handle_advert(t(500), PEER_LOW, 255, &adv(2, 100, 1))
        .unwrap();
    assert_eq!(g.deadline(), Some(t(500) + g.master_down_interval()));
}

#[test]
fn equal_priority_tie_goes_to_the_higher_address_whoever_started_first() {
    // We (192.168.42.2 in params) are backup; an equal-priority master
    // from a lower address is preempted: its adverts do not reset the timer.
    let mut g = Group::new(params(2, 100));
    g.start(t(0), false);
    let d0 = g.deadline().unwrap();
    g.handle_advert(t(500), PEER_LOW, 255, &adv(2, 100, 1))
        .unwrap();
    assert_eq!(
        g.deadline(),
        Some(d0),
        "equal master with a lower address must be preempted"
    );
    // From a higher address it is accepted as master.
    g.handle_advert(t(600), PEER_HIGH, 255, &adv(2, 100, 1))
        .unwrap();
    assert_eq!(g.deadline(), Some(t(600) + g.master_down_interval()));
    // Without preempt the RFC rule holds: any equal master is kept.
    let mut p = params(2, 100);
    p.preempt = false;
    let mut g = Group::new(p);
    g.start(t(0), false);
    g.handle_advert(t(500), PEER_LOW, 255, &adv(2, 100, 1))
        .unwrap();
    assert_eq!(g.deadline(), Some(t(500) + g.master_down_interval()));
}

#[test]
fn preempt_delay_is_exact() {
    let mut p = params(2, 200);
    p.preempt_delay = Duration::from_secs(30);
    let mut g = Group::new(p);
    g.start(t(0), false);
    g.handle_advert(t(700), PEER_LOW, 255, &adv(2, 100, 1))
        .unwrap();
    for k in 1..30 {
        let now = t(700 + k * 1000);
        assert_eq!(g.handle_timeout(now), Output::default());
        g.handle_advert(now, PEER_LOW, 255, &adv(2, 100, 1))
            .unwrap();
    }
    assert_eq!(g.deadline(), Some(t(30_700)));
    let o = g.handle_timeout(t(30_700));
    assert!(o.want_master.unwrap().contains("preempt"));
    // a higher advert cancels a pending preempt
    let mut p = params(2, 200);
    p.preempt_delay = Duration::from_secs(30);
    let mut g = Group::new(p);
    g.start(t(0), false);
    g.handle_advert(t(700), PEER_LOW, 255, &adv(2, 100, 1))
        .unwrap();
    g.handle_advert(t(900), PEER_HIGH, 255, &adv(2, 250, 1))
        .unwrap();
    assert_eq!(g.deadline(), Some(t(900) + g.master_down_interval()));
}

#[test]
fn priority_zero_gives_skew_time_takeover() {
    let mut g = Group::new(params(2, 100));
    g.start(t(0), false);
    g.handle_advert(t(100), PEER_HIGH, 255, &adv(2, 200, 1))
        .unwrap();
    g.handle_advert(t(200), PEER_HIGH, 255, &adv(2, 0, 1))
        .unwrap();
    assert_eq!(g.deadline(), Some(t(200) + g.skew_time()));
    assert_eq!(g.counters.priority_zero_rx, 1);
    // master answers a priority 0 with an advert
    let mut m = Group::new(params(2, 100));
    m.start(t(0), false);
    m.become_master(t(0), "x");
    let o = m
        .handle_advert(t(300), PEER_HIGH, 255, &adv(2, 0, 1))
        .unwrap();
    assert_eq!(o.advert, Some(100));
    assert_eq!(m.state(), VrrpState::Master);
}

#[test]
fn bad_adverts_counted_and_ignored() {
    let mut p = params(2, 100);
    p.auth = GroupAuth::Plaintext(*b"secret\0\0");
    let mut g = Group::new(p);
    g.start(t(0), false);
    let d0 = g.deadline();
    let mut good = adv(2, 200, 1);
    good.auth_type = 1;
    good.auth_data = *b"secret\0\0";
    assert_eq!(g.handle_advert(t(1), PEER_HIGH, 254, &good), Err(Drop::Ttl));
    let mut a = good.clone();
    a.auth_data = *b"wrong\0\0\0";
    assert_eq!(g.handle_advert(t(1), PEER_HIGH, 255, &a), Err(Drop::Auth));
    let mut a = good.clone();
    a.auth_type = 0;
    assert_eq!(g.handle_advert(t(1), PEER_HIGH, 255, &a), Err(Drop::Auth));
    let mut a = good.clone();
    a.advert_interval = 2;
    assert_eq!(
        g.handle_advert(t(1), PEER_HIGH, 255, &a),
        Err(Drop::Interval)
    );
    let mut a = good.clone();
    a.addresses[0] = Ipv4Addr::new(10, 0, 0, 1);
    assert_eq!(
        g.handle_advert(t(1), PEER_HIGH, 255, &a),
        Err(Drop::AddressList)
    );
    assert_eq!(g.deadline(), d0);
    let c = &g.counters;
    assert_eq!(
        (
            c.rx_ttl_error,
            c.rx_auth_error,
            c.rx_interval_mismatch,
            c.rx_address_list_error
        ),
        (1, 2, 1, 1)
    );
    assert!(g.handle_advert(t(2), PEER_HIGH, 255, &good).is_ok());
    assert_eq!(g.deadline(), Some(t(2) + g.master_down_interval()));
}

#[test]
fn v3_address_list_mismatch_counted_but_accepted() {
    let mut g = Group::new(params(3, 100));
    g.start(t(0), false);
    let mut a = adv(3, 200, 100);
    a.addresses[0] = Ipv4Addr::new(10, 0, 0, 1);
    assert!(g.handle_advert(t(5), PEER_HIGH, 255, &a).is_ok());
    assert_eq!(g.counters.rx_address_list_error, 1);
    assert_eq!(g.master_router(), Some(PEER_HIGH));
    // v2: accepted from the owner only
    let mut g = Group::new(params(2, 100));
    g.start(t(0), false);
    let mut a = adv(2, 255, 1);
    a.addresses[0] = Ipv4Addr::new(10, 0, 0, 1);
    assert!(g.handle_advert(t(5), PEER_HIGH, 255, &a).is_ok());
    assert_eq!(g.counters.rx_address_list_error, 1);
}

#[test]
fn fault_and_recovery() {
    let mut g = Group::new(params(2, 100));
    g.start(t(0), false);
    g.become_master(t(0), "x");
    let o = g.set_fault(t(5), true, true, "tracked down");
    assert_eq!(o.advert, Some(0));
    assert_eq!(g.state(), VrrpState::Fault);
    assert_eq!(g.deadline(), None);
    // adverts ignored in FAULT
    g.handle_advert(t(6), PEER_HIGH, 255, &adv(2, 1, 1))
        .unwrap();
    assert_eq!(g.state(), VrrpState::Fault);
    let o = g.set_fault(t(7), false, true, "link up");
    assert_eq!(
        o.transition,
        Some((VrrpState::Fault, VrrpState::Backup, "link up"))
    );
    // owner: recovery asks for master
    let mut g = Group::new(params(2, 255));
    g.start(t(0), true);
    assert_eq!(g.state(), VrrpState::Fault);
    let o = g.set_fault(t(1), false, true, "up");
    assert!(o.want_master.is_some());
    assert_eq!(g.state(), VrrpState::Init);
    let o = g.become_master(t(1), "owner");
    assert_eq!(o.transition.map(|x| x.1), Some(VrrpState::Master));
    // a FAULT group is never pulled to MASTER
    let mut g = Group::new(params(2, 100));
    g.start(t(0), true);
    assert_eq!(g.become_master(t(1), "sync"), Output::default());
    assert_eq!(g.state(), VrrpState::Fault);
}
