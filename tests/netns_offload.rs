//! hagw as a gateway with the veth offloads left on (the kernel's
//! defaults: TX checksum offload, TSO/GSO): frames from a local sender
//! reach hagw's ring with a partial TCP checksum (TP_STATUS_CSUMNOTREADY)
//! and must leave with a complete, NAT-updated one. A 20 MB HTTP download
//! through SNAT arrives intact and neither end counts a TCP checksum error
//! (`nstat` TcpInCsumErrors). Topology and config as tests/netns_dataplane.rs.
//! Needs root, curl, nstat, /usr/bin/python3.

mod netns;
use netns::gateway::{SERVER, gateway};
use netns::traffic::*;
use netns::*;
use std::time::Duration;

/// TcpInCsumErrors of namespace `ns` (absolute, history untouched).
fn csum_errors(lab: &Lab, ns: &str) -> u64 {
    let o = lab.exec(ns, &["nstat", "-asz", "TcpInCsumErrors"]);
    text(&o)
        .lines()
        .find_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some("TcpInCsumErrors")).then(|| w.next()?.parse().ok())?
        })
        .unwrap_or_else(|| panic!("nstat in {ns}: {}", text(&o)))
}

#[test]
fn download_through_snat_with_offloads_on() {
    if skip() || tools_missing() {
        return;
    }
    if std::process::Command::new("nstat")
        .arg("-V")
        .output()
        .is_err()
    {
        println!("skipped: needs nstat (iproute2)");
        return;
    }
    let mut lab = Lab::new("offload");
    lab.offloads = true;
    let mut g = gateway(&mut lab, &board("scenario5-stateful-a.uci"), None);
    lab.start(&mut g.a);
    expect_state(&lab, &g.a, "lan_gw", "master", Duration::from_secs(10));
    expect_state(&lab, &g.a, "wan_gw", "master", Duration::from_secs(10));
    // The client's NIC really offloads (else the test proves nothing).
    let k = lab.exec(&g.client, &["ethtool", "-k", "eth0"]);
    assert!(
        text(&k).contains("tx-checksum-ip-generic: on"),
        "veth TX checksum offload on: {}",
        text(&k)
    );

    let (o, intact, _) = http_download(&mut lab, &g.client, &g.server, SERVER, 20);
    let shown = query(&g.a.socket, "interfaces").unwrap_or_default();
    assert!(o.status.success(), "curl: {}\n{shown}", text(&o));
    assert!(intact, "download intact\n{shown}");
    for ns in [&g.server, &g.client] {
        assert_eq!(csum_errors(&lab, ns), 0, "TcpInCsumErrors in {ns}\n{shown}");
    }
}
