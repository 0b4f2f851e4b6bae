//! The gateway lab of SPEC §1 on real interfaces: a client on the LAN, two
//! hagw routers (lan0/wan0 owned by hagw, sync0 a kernel interface on a
//! segment of its own), a server on the WAN. The same topology with a
//! kernel router (IPv4 forwarding + nftables SNAT) serves as the
//! benchmark's reference. Addresses follow board/examples/scenario5:
//! client 192.168.10.100/24 via 192.168.10.1 (LAN VIP), server
//! 10.0.0.100/24 (the SNAT address 10.0.0.1 is on its link), routers
//! 192.168.10.2/.3, 10.0.0.2/.3, sync 10.99.0.1/30 and .2/30.

use super::{Lab, Router, expect_state, sh, wait_for};
use std::time::Duration;

pub const CLIENT: &str = "192.168.10.100";
pub const SERVER: &str = "10.0.0.100";
pub const LAN_VIP: &str = "192.168.10.1";
pub const WAN_VIP: &str = "10.0.0.1";

/// The namespaces of one gateway lab.
pub struct Gateway {
    pub a: Router,
    pub b: Option<Router>,
    pub client: String,
    pub server: String,
}

/// Client, server and router(s) `a` (and `b` when `b_cfg` is given) wired
/// as in the module docs; the routers' configs are spliced by `Lab::router`.
/// Nothing is started.
pub fn gateway(lab: &mut Lab, a_cfg: &str, b_cfg: Option<&str>) -> Gateway {
    lab.segment("l");
    lab.segment("w");
    lab.segment("s");
    let a = lab.router("a", a_cfg);
    let b = b_cfg.map(|c| lab.router("b", c));
    let client = lab.ns("c");
    let server = lab.ns("srv");
    for (r, sync) in [(Some(&a), "10.99.0.1/30"), (b.as_ref(), "10.99.0.2/30")] {
        let Some(r) = r else { continue };
        lab.plug("l", &r.ns, "lan0");
        lab.plug("w", &r.ns, "wan0");
        lab.plug("s", &r.ns, "sync0");
        lab.addr(&r.ns, "sync0", sync);
    }
    lab.plug("l", &client, "eth0");
    lab.addr(&client, "eth0", &format!("{CLIENT}/24"));
    sh(&[
        "ip", "-n", &client, "route", "add", "default", "via", LAN_VIP,
    ]);
    lab.plug("w", &server, "eth0");
    lab.addr(&server, "eth0", &format!("{SERVER}/24"));
    Gateway {
        a,
        b,
        client,
        server,
    }
}

/// The reference: one namespace `k` routing between the same client and
/// server with the kernel (forwarding on, both gateway addresses on its
/// ports, nftables `snat to 10.0.0.1` on the WAN port).
pub fn kernel_gateway(lab: &mut Lab) -> (String, String, String) {
    lab.segment("l");
    lab.segment("w");
    let k = lab.ns("k");
    let client = lab.ns("c");
    let server = lab.ns("srv");
    lab.plug("l", &k, "lan0");
    lab.plug("w", &k, "wan0");
    lab.addr(&k, "lan0", &format!("{LAN_VIP}/24"));
    lab.addr(&k, "wan0", &format!("{WAN_VIP}/24"));
    sh(&[
        "ip",
        "netns",
        "exec",
        &k,
        "sysctl",
        "-qw",
        "net.ipv4.ip_forward=1",
    ]);
    // nft wants a separator after each statement and after a chain's
    // block when written on one line.
    let rules = "table ip nat { chain post { type nat hook postrouting priority 100; \
                 oifname \"wan0\" snat to 10.0.0.1; }; }";
    sh(&["ip", "netns", "exec", &k, "nft", rules]);
    lab.plug("l", &client, "eth0");
    lab.addr(&client, "eth0", &format!("{CLIENT}/24"));
    sh(&[
        "ip", "-n", &client, "route", "add", "default", "via", LAN_VIP,
    ]);
    lab.plug("w", &server, "eth0");
    lab.addr(&server, "eth0", &format!("{SERVER}/24"));
    (k, client, server)
}

/// The scenario-5 pair from `a_cfg` and `b_cfg` started: A master and B
/// backup of both groups and, with `resync`, B's start-up bulk resync from
/// A done (read from B's log). Returns the gateway (without `b`) and B.
pub fn started_pair(lab: &mut Lab, a_cfg: &str, b_cfg: &str, resync: bool) -> (Gateway, Router) {
    let mut g = gateway(lab, a_cfg, Some(b_cfg));
    let mut b = g.b.take().expect("router b");
    lab.start(&mut g.a);
    lab.start(&mut b);
    for group in ["lan_gw", "wan_gw"] {
        expect_state(lab, &g.a, group, "master", Duration::from_secs(10));
        expect_state(lab, &b, group, "backup", Duration::from_secs(10));
    }
    if resync {
        let done = wait_for(Duration::from_secs(15), || {
            lab.hagw(&b)
                .log_text()
                .contains("bulk resync from peer 1 done")
        });
        assert!(done.is_some(), "B's resync: {}", lab.hagw(&b).log_text());
    }
    (g, b)
}

/// `started_pair` with board/examples/scenario5-stateful-{a,b}.uci.
pub fn scenario5_pair(lab: &mut Lab, resync: bool) -> (Gateway, Router) {
    started_pair(
        lab,
        &super::board("scenario5-stateful-a.uci"),
        &super::board("scenario5-stateful-b.uci"),
        resync,
    )
}
