//! `auth_type ah` on receive: the IPsec AH around a VRRPv2 advert is
//! checked before the advert reaches the group's state machine — the ICV
//! (`wire::ah`, with the TTL treated as mutable for a group with unicast
//! peers, as keepalived does), SPI = the source address, then the sequence
//! number against the group's counter (`vrrp::AhSeq`). A bad ICV or SPI, a
//! missing AH, or an AH on a group without `auth_type ah` counts as
//! `rx_auth_error` (drop reason `vrrp_auth`); an old sequence number as
//! `rx_ah_replay` (`vrrp_replay`). Both are dropped and logged (the first,
//! then every 100th).
//!
//! Owns: that decision. Never: parses frames (`engine::local` splits the
//! AH off) or sends.

use super::ctx::Why;
use crate::vrrp::{Group, GroupAuth};
use crate::wire::ah::{self, AhHeader};
use std::net::Ipv4Addr;

/// A received AH around an advert: its fields and the whole IPv4 packet
/// (the ICV covers the IP header too).
#[derive(Copy, Clone, Debug)]
pub struct AhRx<'a> {
    pub header: AhHeader,
    pub ip_packet: &'a [u8],
}

/// Check the AH (`rx`, None for a bare advert) of an advert from `src` for
/// group `g` (`unicast`: the group has unicast peers). Counts what it
/// refuses; a group without `auth_type ah` refuses any AH.
pub fn check(g: &mut Group, unicast: bool, src: Ipv4Addr, rx: Option<AhRx<'_>>) -> Result<(), Why> {
    let ok = match (g.params.auth, rx) {
        (GroupAuth::Ah(key), Some(rx)) => {
            ah::verify(&key, rx.ip_packet, unicast) && ah::spi_matches(&rx.header, src)
        }
        (GroupAuth::Ah(_), None) | (_, Some(_)) => false,
        (_, None) => return Ok(()),
    };
    let seq = rx.map_or(0, |r| r.header.seq);
    let c = &mut g.counters;
    let (why, n) = if !ok {
        c.rx_auth_error += 1;
        (Why::VrrpAuth, c.rx_auth_error)
    } else if !g.ah_seq.accept(seq) {
        c.rx_ah_replay += 1;
        (Why::VrrpReplay, c.rx_ah_replay)
    } else {
        return Ok(());
    };
    c.adverts_rx += 1;
    if n == 1 || n % 100 == 0 {
        let name = &g.params.name;
        if why == Why::VrrpAuth {
            let what = if rx.is_some() {
                "wrong key, SPI or AH where none is configured"
            } else {
                "no AH"
            };
            log::warn!(
                "vrrp {name}: advert from {src} failed {} authentication ({what}), dropped ({n} such adverts)",
                g.params.auth.name()
            );
        } else {
            log::warn!(
                "vrrp {name}: AH sequence number {seq} from {src} already seen (last {}): replay or a restarted peer, dropped ({n} such adverts)",
                g.ah_seq.last()
            );
        }
    }
    Err(why)
}
