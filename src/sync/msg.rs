//! Sync messages and their compact postcard encoding.
//!
//! Owns: the `Message` enum, its wire form inside a frame and the
//! compatibility rule. Never: frame headers, CRC or MAC (that is `frame`),
//! protocol decisions.
//!
//! Inside a frame each message is `kind: u8`, `len` (postcard varint) and
//! `len` bytes of body; the body is a postcard-encoded struct. Addresses are
//! `[u8; 4]` and ports fixed 2-byte big-endian (postcard's varint would make
//! a port above 16383 three bytes). A session id whose creator is the frame's
//! sender is sent as its 48-bit counter only (`WireId::Own`), otherwise with
//! the creator node (`WireId::Foreign`).
//!
//! **Compatibility rule.** A receiver skips a message whose kind it does not
//! know, by its length, and counts it. A later version may append fields at
//! the end of a known kind's body: a decoder reads the fields it knows and
//! ignores the rest of the body. A field is never removed, reordered or
//! re-typed; a change that cannot be expressed by appending gets a new kind
//! number. A new frame layout gets a new frame version (`frame::VERSION`),
//! and frames of another version are dropped and counted.

use super::record::{Endpoint, NatMapping, SessionRecord, id_counter, id_node, session_id};
use crate::conntrack::Tuple;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// Most (vrid, state) pairs one keepalive carries.
pub const MAX_VRRP: usize = 16;
/// Most peers one node tracks (and echoes in its keepalives).
pub const MAX_PEERS: usize = 4;
/// Largest body this version emits (a keepalive at its limits).
pub const MAX_BODY: usize = 160;

/// Message kind numbers on the wire.
pub mod kind {
    pub const NEW: u8 = 1;
    pub const UPDATE: u8 = 2;
    pub const DESTROY: u8 = 3;
    pub const KEEPALIVE: u8 = 4;
    pub const RESYNC_REQUEST: u8 = 5;
    pub const BULK_BEGIN: u8 = 6;
    pub const BULK_END: u8 = 7;
    pub const NACK: u8 = 8;
}

/// "I last heard frame `seq` of `node`'s epoch `boot`": proves to `node`
/// that this keepalive is fresher than that frame (see `peer` docs).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Echo {
    pub node: u16,
    pub boot: u32,
    pub seq: u32,
}

/// The sender's heartbeat.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keepalive {
    /// Highest sequence number the sender has used (its own frame's), so a
    /// lost tail of data frames shows as a gap.
    pub last_seq: u32,
    /// The sender's VRRP groups: (vrid, `VrrpState` code, see
    /// `sync::vrrp_code`).
    pub vrrp: heapless::Vec<(u8, u8), MAX_VRRP>,
    /// What the sender last heard from each peer.
    pub echoes: heapless::Vec<Echo, MAX_PEERS>,
}

/// A sync message, as the protocol core sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    New(SessionRecord),
    Update {
        id: u64,
        state: u8,
        timeout_secs: u32,
    },
    Destroy {
        id: u64,
    },
    Keepalive(Keepalive),
    /// Ask `to` (0: every node) for a bulk resync.
    ResyncRequest {
        to: u16,
    },
    BulkBegin,
    /// End of a bulk; `count` sessions were sent in it.
    BulkEnd {
        count: u32,
    },
    /// Ask `to` to resend frames `first..=last` of its epoch `boot`.
    Nack {
        to: u16,
        boot: u32,
        first: u32,
        last: u32,
    },
}

impl Message {
    pub fn kind(&self) -> u8 {
        match self {
            Message::New(_) => kind::NEW,
            Message::Update { .. } => kind::UPDATE,
            Message::Destroy { .. } => kind::DESTROY,
            Message::Keepalive(_) => kind::KEEPALIVE,
            Message::ResyncRequest { .. } => kind::RESYNC_REQUEST,
            Message::BulkBegin => kind::BULK_BEGIN,
            Message::BulkEnd { .. } => kind::BULK_END,
            Message::Nack { .. } => kind::NACK,
        }
    }
}

/// Why a message could not be encoded or decoded.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MsgError {
    /// The message does not fit in the space left.
    NoRoom,
    /// Length prefix runs past the payload, or a body does not decode.
    Malformed,
}

// ---- wire forms ----

#[derive(Serialize, Deserialize)]
enum WireId {
    /// Created by the frame's sender: the counter only.
    Own(u64),
    /// Created by another node (e.g. a session taken over at failover).
    Foreign(u16, u64),
}

impl WireId {
    fn from_id(id: u64, sender: u16) -> WireId {
        if id_node(id) == sender {
            WireId::Own(id_counter(id))
        } else {
            WireId::Foreign(id_node(id), id_counter(id))
        }
    }
    fn to_id(&self, sender: u16) -> u64 {
        match *self {
            WireId::Own(c) => session_id(sender, c),
            WireId::Foreign(n, c) => session_id(n, c),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct WireEnd {
    addr: [u8; 4],
    port: [u8; 2],
}

impl From<Endpoint> for WireEnd {
    fn from(e: Endpoint) -> WireEnd {
        WireEnd {
            addr: e.addr.octets(),
            port: e.port.to_be_bytes(),
        }
    }
}

impl From<&WireEnd> for Endpoint {
    fn from(w: &WireEnd) -> Endpoint {
        Endpoint::new(Ipv4Addr::from(w.addr), u16::from_be_bytes(w.port))
    }
}

#[derive(Serialize, Deserialize)]
enum WireNat {
    None,
    Snat(WireEnd),
    Dnat(WireEnd),
    Both(WireEnd, WireEnd),
}

#[derive(Serialize, Deserialize)]
struct WireNew {
    id: WireId,
    proto: u8,
    src: [u8; 4],
    sport: [u8; 2],
    dst: [u8; 4],
    dport: [u8; 2],
    nat: WireNat,
    state: u8,
    flags: u8,
    timeout: u32,
}

#[derive(Serialize, Deserialize)]
struct WireUpdate {
    id: WireId,
    state: u8,
    timeout: u32,
}

#[derive(Serialize, Deserialize)]
struct WireDestroy {
    id: WireId,
}

#[derive(Serialize, Deserialize)]
struct WireResync {
    to: u16,
}

#[derive(Serialize, Deserialize)]
struct WireBulkEnd {
    count: u32,
}

#[derive(Serialize, Deserialize)]
struct WireNack {
    to: u16,
    boot: u32,
    first: u32,
    last: u32,
}

fn new_to_wire(r: &SessionRecord, sender: u16) -> WireNew {
    WireNew {
        id: WireId::from_id(r.id, sender),
        proto: r.orig.proto,
        src: r.orig.src.octets(),
        sport: r.orig.sport.to_be_bytes(),
        dst: r.orig.dst.octets(),
        dport: r.orig.dport.to_be_bytes(),
        nat: match r.nat {
            NatMapping::None => WireNat::None,
            NatMapping::Snat(e) => WireNat::Snat(e.into()),
            NatMapping::Dnat(e) => WireNat::Dnat(e.into()),
            NatMapping::Both { snat, dnat } => WireNat::Both(snat.into(), dnat.into()),
        },
        state: r.state,
        flags: r.flags,
        timeout: r.timeout_secs,
    }
}

fn new_from_wire(w: &WireNew, sender: u16) -> SessionRecord {
    SessionRecord {
        id: w.id.to_id(sender),
        orig: Tuple::new(
            w.proto,
            Ipv4Addr::from(w.src),
            u16::from_be_bytes(w.sport),
            Ipv4Addr::from(w.dst),
            u16::from_be_bytes(w.dport),
        ),
        nat: match &w.nat {
            WireNat::None => NatMapping::None,
            WireNat::Snat(e) => NatMapping::Snat(e.into()),
            WireNat::Dnat(e) => NatMapping::Dnat(e.into()),
            WireNat::Both(s, d) => NatMapping::Both {
                snat: s.into(),
                dnat: d.into(),
            },
        },
        state: w.state,
        flags: w.flags,
        timeout_secs: w.timeout,
    }
}

/// Postcard-encode `v` into `buf`, returning the bytes written.
fn put<T: Serialize>(v: &T, buf: &mut [u8]) -> Result<usize, MsgError> {
    postcard::to_slice(v, buf)
        .map(|s| s.len())
        .map_err(|_| MsgError::NoRoom)
}

fn encode_body(msg: &Message, sender: u16, buf: &mut [u8]) -> Result<usize, MsgError> {
    match msg {
        Message::New(r) => put(&new_to_wire(r, sender), buf),
        Message::Update {
            id,
            state,
            timeout_secs,
        } => put(
            &WireUpdate {
                id: WireId::from_id(*id, sender),
                state: *state,
                timeout: *timeout_secs,
            },
            buf,
        ),
        Message::Destroy { id } => put(
            &WireDestroy {
                id: WireId::from_id(*id, sender),
            },
            buf,
        ),
        Message::Keepalive(k) => put(k, buf),
        Message::ResyncRequest { to } => put(&WireResync { to: *to }, buf),
        Message::BulkBegin => Ok(0),
        Message::BulkEnd { count } => put(&WireBulkEnd { count: *count }, buf),
        Message::Nack {
            to,
            boot,
            first,
            last,
        } => put(
            &WireNack {
                to: *to,
                boot: *boot,
                first: *first,
                last: *last,
            },
            buf,
        ),
    }
}

/// Append `msg` (kind, length, body) to `out`; returns the bytes written.
/// `sender` is the node id in the frame header (for compact session ids).
pub fn encode(msg: &Message, sender: u16, out: &mut [u8]) -> Result<usize, MsgError> {
    let mut body = [0u8; MAX_BODY];
    let n = encode_body(msg, sender, &mut body)?;
    let body = body.get(..n).ok_or(MsgError::NoRoom)?;
    let len = u32::try_from(n).map_err(|_| MsgError::NoRoom)?;
    let (kind_byte, rest) = out.split_first_mut().ok_or(MsgError::NoRoom)?;
    *kind_byte = msg.kind();
    let l = put(&len, rest)?;
    let dst = rest
        .get_mut(l..l.saturating_add(n))
        .ok_or(MsgError::NoRoom)?;
    dst.copy_from_slice(body);
    Ok(1 + l + n)
}

/// Bytes `msg` takes inside a frame (kind, length and body).
pub fn encoded_len(msg: &Message, sender: u16) -> Result<usize, MsgError> {
    let mut buf = [0u8; MAX_BODY + 4];
    encode(msg, sender, &mut buf)
}

fn take<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, MsgError> {
    postcard::take_from_bytes(body)
        .map(|(v, _rest)| v)
        .map_err(|_| MsgError::Malformed)
}

/// Decode one message body of kind `k`. `Ok(None)`: a kind this version
/// does not know (skip it). Trailing body bytes are ignored (compat rule).
pub fn decode(k: u8, body: &[u8], sender: u16) -> Result<Option<Message>, MsgError> {
    Ok(Some(match k {
        kind::NEW => Message::New(new_from_wire(&take(body)?, sender)),
        kind::UPDATE => {
            let w: WireUpdate = take(body)?;
            Message::Update {
                id: w.id.to_id(sender),
                state: w.state,
                timeout_secs: w.timeout,
            }
        }
        kind::DESTROY => Message::Destroy {
            id: take::<WireDestroy>(body)?.id.to_id(sender),
        },
        kind::KEEPALIVE => Message::Keepalive(take(body)?),
        kind::RESYNC_REQUEST => Message::ResyncRequest {
            to: take::<WireResync>(body)?.to,
        },
        kind::BULK_BEGIN => Message::BulkBegin,
        kind::BULK_END => Message::BulkEnd {
            count: take::<WireBulkEnd>(body)?.count,
        },
        kind::NACK => {
            let w: WireNack = take(body)?;
            Message::Nack {
                to: w.to,
                boot: w.boot,
                first: w.first,
                last: w.last,
            }
        }
        _ => return Ok(None),
    }))
}

/// One entry of a frame's payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded {
    Known(Message),
    /// A kind this version does not know; skipped by its length.
    Unknown(u8),
}

/// Walks the messages of a frame payload. Stops (after yielding one
/// `Err`) at the first malformed entry.
pub struct Messages<'a> {
    rest: &'a [u8],
    sender: u16,
}

impl<'a> Messages<'a> {
    pub fn new(payload: &'a [u8], sender: u16) -> Messages<'a> {
        Messages {
            rest: payload,
            sender,
        }
    }

    fn step(&mut self) -> Result<Decoded, MsgError> {
        let (&k, after_kind) = self.rest.split_first().ok_or(MsgError::Malformed)?;
        let (len, after_len): (u32, &[u8]) =
            postcard::take_from_bytes(after_kind).map_err(|_| MsgError::Malformed)?;
        let len = usize::try_from(len).map_err(|_| MsgError::Malformed)?;
        let body = after_len.get(..len).ok_or(MsgError::Malformed)?;
        self.rest = after_len.get(len..).unwrap_or_default();
        Ok(match decode(k, body, self.sender)? {
            Some(m) => Decoded::Known(m),
            None => Decoded::Unknown(k),
        })
    }
}

impl Iterator for Messages<'_> {
    type Item = Result<Decoded, MsgError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let r = self.step();
        if r.is_err() {
            self.rest = &[];
        }
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::record::session_id;

    const ME: u16 = 1;

    fn snat_tcp(counter: u64) -> SessionRecord {
        SessionRecord {
            id: session_id(ME, counter),
            orig: Tuple::new(
                6,
                Ipv4Addr::new(192, 168, 10, 31),
                47284,
                Ipv4Addr::new(216, 134, 160, 13),
                443,
            ),
            nat: NatMapping::Snat(Endpoint::new(Ipv4Addr::new(10, 0, 0, 1), 61001)),
            state: 3,
            flags: 0x81,
            timeout_secs: 432_000,
        }
    }

    fn every_message() -> Vec<Message> {
        let mut dnat = snat_tcp(5);
        dnat.id = session_id(7, 9);
        dnat.nat = NatMapping::Dnat(Endpoint::new(Ipv4Addr::new(192, 168, 10, 100), 22));
        let mut both = snat_tcp(6);
        both.nat = NatMapping::Both {
            snat: Endpoint::new(Ipv4Addr::new(192, 168, 10, 1), 2000),
            dnat: Endpoint::new(Ipv4Addr::new(192, 168, 10, 100), 22),
        };
        let mut none = snat_tcp(1 << 40);
        none.nat = NatMapping::None;
        none.orig.proto = 17;
        let mut k = Keepalive {
            last_seq: 99,
            ..Keepalive::default()
        };
        k.vrrp.push((51, 2)).unwrap();
        k.vrrp.push((52, 1)).unwrap();
        k.echoes
            .push(Echo {
                node: 2,
                boot: 0xdead_beef,
                seq: 1234,
            })
            .unwrap();
        vec![
            Message::New(snat_tcp(1)),
            Message::New(dnat),
            Message::New(both),
            Message::New(none),
            Message::Update {
                id: session_id(ME, 300),
                state: 4,
                timeout_secs: 120,
            },
            Message::Update {
                id: session_id(9, 300),
                state: 4,
                timeout_secs: 0,
            },
            Message::Destroy {
                id: session_id(ME, 12),
            },
            Message::Destroy {
                id: session_id(0xffff, super::super::record::COUNTER_MAX),
            },
            Message::Keepalive(k),
            Message::Keepalive(Keepalive::default()),
            Message::ResyncRequest { to: 0 },
            Message::ResyncRequest { to: 2 },
            Message::BulkBegin,
            Message::BulkEnd { count: 65536 },
            Message::Nack {
                to: 2,
                boot: 7,
                first: 10,
                last: u32::MAX,
            },
        ]
    }

    #[test]
    fn every_message_round_trips() {
        for m in every_message() {
            let mut buf = [0u8; 256];
            let n = encode(&m, ME, &mut buf).unwrap();
            let got: Vec<_> = Messages::new(&buf[..n], ME).collect();
            assert_eq!(got, vec![Ok(Decoded::Known(m.clone()))], "{m:?}");
        }
    }

    #[test]
    fn many_messages_in_one_payload_round_trip() {
        let all = every_message();
        let mut buf = [0u8; 2048];
        let mut n = 0;
        for m in &all {
            n += encode(m, ME, &mut buf[n..]).unwrap();
        }
        let got: Vec<Message> = Messages::new(&buf[..n], ME)
            .map(|d| match d.unwrap() {
                Decoded::Known(m) => m,
                Decoded::Unknown(k) => panic!("unknown {k}"),
            })
            .collect();
        assert_eq!(got, all);
    }

    #[test]
    fn wire_budget() {
        // Counters up to 2^20 (a million sessions per node) and a 5-day
        // TCP timeout: the worst realistic case.
        let new = encoded_len(&Message::New(snat_tcp((1 << 20) - 1)), ME).unwrap();
        let update = encoded_len(
            &Message::Update {
                id: session_id(ME, (1 << 20) - 1),
                state: 4,
                timeout_secs: 432_000,
            },
            ME,
        )
        .unwrap();
        let destroy = encoded_len(
            &Message::Destroy {
                id: session_id(ME, (1 << 20) - 1),
            },
            ME,
        )
        .unwrap();
        println!(
            "wire budget: new NAT'd TCP {new} B (<= 32), update {update} B (<= 12), destroy {destroy} B (<= 8)"
        );
        assert!(new <= 32, "new {new}");
        assert!(update <= 12, "update {update}");
        assert!(destroy <= 8, "destroy {destroy}");
        // A session taken over from another node names its creator: still
        // within budget for counters below 2^27.
        let mut foreign = snat_tcp((1 << 27) - 1);
        foreign.id = session_id(0xffff, (1 << 27) - 1);
        let n = encoded_len(&Message::New(foreign), ME).unwrap();
        assert!(n <= 32 + 3, "foreign new {n}");
    }

    #[test]
    fn ports_are_fixed_two_bytes() {
        let mut lo = snat_tcp(1);
        lo.orig.sport = 1;
        let hi = snat_tcp(1);
        assert_eq!(
            encoded_len(&Message::New(lo), ME),
            encoded_len(&Message::New(hi), ME)
        );
    }

    #[test]
    fn unknown_kind_is_skipped_by_length() {
        let mut buf = [0u8; 256];
        let mut n = encode(&Message::BulkBegin, ME, &mut buf).unwrap();
        // kind 200, 3 body bytes
        buf[n..n + 5].copy_from_slice(&[200, 3, 0xaa, 0xbb, 0xcc]);
        n += 5;
        n += encode(
            &Message::Destroy {
                id: session_id(ME, 4),
            },
            ME,
            &mut buf[n..],
        )
        .unwrap();
        let got: Vec<_> = Messages::new(&buf[..n], ME).collect();
        assert_eq!(
            got,
            vec![
                Ok(Decoded::Known(Message::BulkBegin)),
                Ok(Decoded::Unknown(200)),
                Ok(Decoded::Known(Message::Destroy {
                    id: session_id(ME, 4)
                })),
            ]
        );
    }

    #[test]
    fn appended_fields_are_ignored() {
        // A later version's destroy with two extra bytes in the body.
        let mut buf = [0u8; 64];
        let n = encode(
            &Message::Destroy {
                id: session_id(ME, 4),
            },
            ME,
            &mut buf,
        )
        .unwrap();
        let mut longer = buf[..n].to_vec();
        longer[1] += 2;
        longer.extend_from_slice(&[1, 2]);
        let got: Vec<_> = Messages::new(&longer, ME).collect();
        assert_eq!(
            got,
            vec![Ok(Decoded::Known(Message::Destroy {
                id: session_id(ME, 4)
            }))]
        );
    }

    #[test]
    fn truncated_payloads_are_malformed_never_panic() {
        let mut buf = [0u8; 2048];
        let mut n = 0;
        for m in every_message() {
            n += encode(&m, ME, &mut buf[n..]).unwrap();
        }
        for cut in 0..n {
            // Every prefix either decodes cleanly up to a boundary or ends in
            // exactly one error.
            let items: Vec<_> = Messages::new(&buf[..cut], ME).collect();
            assert!(items.iter().filter(|r| r.is_err()).count() <= 1);
            if let Some(last) = items.last() {
                let ok_prefix = items.iter().take(items.len() - 1).all(|r| r.is_ok());
                assert!(ok_prefix);
                let _ = last;
            }
        }
    }

    #[test]
    fn no_room_is_reported() {
        let mut buf = [0u8; 10];
        assert_eq!(
            encode(&Message::New(snat_tcp(1)), ME, &mut buf),
            Err(MsgError::NoRoom)
        );
    }
}
