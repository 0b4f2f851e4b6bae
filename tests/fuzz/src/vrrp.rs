//! Target `vrrp`: VRRP adverts as whole Ethernet frames, through the wire
//! parser (what parses is rebuilt and parses the same) and into a router's
//! VRRP groups (v2 without and with a password, v3, one with a unicast
//! peer), interleaved with time steps so the state machines move.
//!
//! Input: operations, each an op byte and its arguments:
//! * `op & 1` 0: a frame on the LAN, u16 length then bytes; unless
//!   `op & 2`, the IPv4 and VRRP checksums are filled in (the VRRP one
//!   v2-style when `op & 4`, else per the message's version).
//! * 1: u8 `n`: run timers for (n + 1) × 10 ms.

use super::input::{Reader, Writer};
use super::simcfg::{ConfigBuilder, ip};
use hagw::config::VrrpAuth;
use hagw::engine::{Engine, MAX_FRAME};
use hagw::time::{Duration, Instant};
use hagw::wire::build::{self, AdvertHeader};
use hagw::wire::ipv4::Ipv4Packet;
use hagw::wire::vrrp::{VrrpPacket, parse_advert_frame};

pub const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];

/// A router on 192.168.42.2/24 with groups 42 (v2), 43 (v3, 100 ms),
/// 44 (v2, password "secret") and 45 (v2, unicast to .9).
pub fn engine(now: Instant) -> Engine {
    let cfg = ConfigBuilder::new(1)
        .interface("lan", "192.168.42.2/24")
        .group("g2", "lan", 42, &["192.168.42.50/24"], |g| g.priority = 100)
        .group("g3", "lan", 43, &["192.168.42.51/24"], |g| {
            g.version = 3;
            g.advert_interval_cs = 10;
            g.priority = 100;
        })
        .group("gp", "lan", 44, &["192.168.42.52/24"], |g| {
            g.auth = VrrpAuth::Plaintext("secret".into());
            g.priority = 100;
        })
        .group("gu", "lan", 45, &["192.168.42.53/24"], |g| {
            g.unicast_peers = vec![ip("192.168.42.9")];
            g.priority = 100;
        })
        .build();
    match Engine::new(&cfg, &[MAC], now) {
        Ok(e) => e,
        Err(e) => panic!("the vrrp fuzz config is refused: {e:?}"),
    }
}

/// Fill in the IPv4 header checksum and the VRRP checksum of a frame.
pub fn fix(f: &mut [u8], legacy: bool) {
    let Some(ipb) = f.get_mut(14..) else { return };
    let Ok(p) = Ipv4Packet::new_checked(&*ipb) else {
        return;
    };
    let (hl, total, src, dst) = (
        p.header_len(),
        usize::from(p.total_len()),
        p.src_addr(),
        p.dst_addr(),
    );
    if let Some(v) = ipb.get_mut(hl..total)
        && v.len() >= 8
    {
        let mut vp = VrrpPacket::new_unchecked(v);
        if legacy || vp.version() != 3 {
            vp.fill_checksum_legacy();
        } else {
            vp.fill_checksum_rfc(src, dst);
        }
    }
    if let Some(h) = ipb.get_mut(..hl) {
        Ipv4Packet::new_unchecked(h).fill_checksum();
    }
}

/// What parses is rebuilt by our builder and parses to the same advert.
pub fn roundtrip(f: &[u8]) {
    let Ok(a) = parse_advert_frame(f) else { return };
    let hdr = AdvertHeader {
        src_mac: a.src_mac,
        dst_mac: a.dst_mac,
        src_ip: a.src_ip,
        dst_ip: a.dst_ip,
        ip_id: 7,
        tos: 0xc0,
        dont_frag: false,
    };
    let mut buf = [0u8; MAX_FRAME];
    let n = build::vrrp_advert(&mut buf, &hdr, &a.repr, a.checksum_mode);
    let b = parse_advert_frame(buf.get(..n).unwrap_or(&[]));
    assert_eq!(
        b.map(|b| (b.repr, b.checksum_mode)),
        Ok((a.repr, a.checksum_mode))
    );
}

thread_local! {
    /// The router every input starts from, built once per thread; each
    /// input runs on its own copy.
    static ROUTER: Engine = engine(START);
}

/// When the harness's router starts.
pub const START: Instant = Instant::from_secs(1);

pub fn run(data: &[u8]) {
    let mut now = START;
    let mut e = ROUTER.with(Engine::clone);
    let mut f = [0u8; MAX_FRAME];
    let mut r = Reader::new(data);
    super::gateway::with_tx(|tx| {
        while !r.is_empty() {
            let op = r.u8();
            if op & 1 == 0 {
                let n = usize::from(r.u16()) % (MAX_FRAME + 1);
                let bytes = r.bytes(n);
                let f = &mut f[..bytes.len()];
                f.copy_from_slice(bytes);
                if op & 2 == 0 {
                    fix(f, op & 4 != 0);
                }
                roundtrip(f);
                e.handle_frame(now, 0, f, tx);
            } else {
                let d = Duration::from_millis((u64::from(r.u8()) + 1) * 10);
                super::gateway::advance(&mut e, tx, &mut now, d);
            }
            tx.clear();
            while e.poll_event().is_some() {}
        }
    });
    let _ = e.snapshot(now);
}

/// Seed encoders.
pub fn op_frame(w: &mut Writer, bytes: &[u8]) {
    w.u8(0).blob(bytes);
}
pub fn op_step(w: &mut Writer, tens_of_ms: u8) {
    w.u8(1).u8(tens_of_ms);
}
