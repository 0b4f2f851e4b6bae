//! Target `netlink`: datagrams read from NETLINK_ROUTE sockets — the link
//! and IPv4 address notifications (`daemon::netlink::parse`) and the
//! acknowledgements of the host TAP's address requests (`daemon::tap::
//! ack_of`) — through the one checked message walk both use.
//!
//! Input: u32 `seq` (the request whose acknowledgement is looked for), then
//! the datagram.

use hagw::daemon::netlink::{NLMSG_HDRLEN, parse, walk};
use hagw::daemon::tap::ack_of;

pub fn run(data: &[u8]) {
    let (head, dgram) = data.split_at(data.len().min(4));
    let mut seq = [0u8; 4];
    if let Some(s) = seq.get_mut(..head.len()) {
        s.copy_from_slice(head);
    }
    let seq = u32::from_be_bytes(seq);
    let mut whole = 0usize;
    let mut messages = 0u32;
    for m in walk(dgram) {
        let Ok((_, msg)) = m else { break };
        assert!(
            msg.len() >= NLMSG_HDRLEN,
            "a message shorter than its header"
        );
        whole += msg.len();
        messages += 1;
    }
    assert!(whole <= dgram.len(), "messages longer than the datagram");
    let seen = parse(dgram);
    assert!(
        seen.links + seen.addrs <= messages,
        "more notifications counted than messages walked"
    );
    let _ = ack_of(dgram, seq);
}

/// One netlink message of type `kind` for request `seq` with `payload`,
/// padded to 4 bytes.
pub fn message(kind: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let len = (NLMSG_HDRLEN + payload.len()) as u32;
    let mut m = len.to_ne_bytes().to_vec();
    m.extend_from_slice(&kind.to_ne_bytes());
    m.extend_from_slice(&[0; 2]);
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&[0; 4]);
    m.extend_from_slice(payload);
    while m.len() % 4 != 0 {
        m.push(0);
    }
    m
}

/// Seed encoder: `seq`, then the datagram.
pub fn input(seq: u32, dgram: &[u8]) -> Vec<u8> {
    let mut v = seq.to_be_bytes().to_vec();
    v.extend_from_slice(dgram);
    v
}
