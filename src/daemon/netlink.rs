//! NETLINK_ROUTE link notifications (RTMGRP_LINK) and IPv4 address
//! notifications (RTMGRP_IPV4_IFADDR) as wake-up hints.
//!
//! A link message for any interface makes the loop re-read every port's
//! flags at once (SIOCGIFFLAGS stays the single source of truth), so FAULT
//! follows a carrier loss within one loop turn instead of one poll period,
//! and a device that appears is opened at once. An address message makes
//! it re-check the kernel's IPv4 addresses on the lan/wan devices (SPEC §1).
//! Owns: the netlink socket and the checked walk over received messages
//! (`walk`; `tap` reads its request acknowledgements with it too).
//! Never: trusts a length field before checking it against the buffer.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

pub const NLMSG_HDRLEN: usize = 16;
const IFINFOMSG_LEN: usize = 16;
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_NEWADDR: u16 = 20;
const RTM_DELADDR: u16 = 21;
/// struct ifaddrmsg.
const IFADDRMSG_LEN: usize = 8;
const NLMSG_OVERRUN: u16 = 4;

pub struct LinkMonitor {
    fd: OwnedFd,
    buf: Box<[u8; 8192]>,
}

/// What one drain of the socket saw.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// Link messages (new/del) for any interface.
    pub links: u32,
    /// IPv4 address messages (new/del) for any interface.
    pub addrs: u32,
    /// Messages lost (ENOBUFS/overrun) or malformed: re-read everything.
    pub lost: bool,
}

impl LinkMonitor {
    pub fn open() -> io::Result<LinkMonitor> {
        // SAFETY: plain socket(2); the fd is owned below.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is fresh and ours.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: sockaddr_nl is plain old data.
        let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        sa.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        sa.nl_groups = (libc::RTMGRP_LINK | libc::RTMGRP_IPV4_IFADDR) as u32;
        // SAFETY: sa is a valid sockaddr_nl of the given length.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                &sa as *const libc::sockaddr_nl as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(LinkMonitor {
            fd,
            buf: Box::new([0; 8192]),
        })
    }

    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Read what is queued (bounded number of datagrams).
    pub fn drain(&mut self) -> Seen {
        let mut seen = Seen::default();
        for _ in 0..32 {
            // SAFETY: buf is valid for its length.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    self.buf.as_mut_ptr() as *mut libc::c_void,
                    self.buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::ENOBUFS) {
                    seen.lost = true;
                    continue;
                }
                break;
            }
            let len = usize::try_from(n).unwrap_or(0).min(self.buf.len());
            let s = parse(self.buf.get(..len).unwrap_or(&[]));
            seen.links = seen.links.saturating_add(s.links);
            seen.addrs = seen.addrs.saturating_add(s.addrs);
            seen.lost |= s.lost;
        }
        seen
    }
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_ne_bytes([*s.first()?, *s.get(1)?]))
}

/// The native-endian u32 at `off` of `b`, if it is there.
pub fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    let mut a = [0u8; 4];
    a.copy_from_slice(s);
    Some(u32::from_ne_bytes(a))
}

/// A length field that does not fit the datagram: the rest is unreadable.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Truncated;

/// The messages of one datagram (host byte order, 4-byte aligned), as
/// (type, the message's bytes with its header), each length checked
/// against the buffer; the walk ends after the first `Err(Truncated)`.
pub fn walk(b: &[u8]) -> Walk<'_> {
    Walk { rest: b }
}

pub struct Walk<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Walk<'a> {
    type Item = Result<(u16, &'a [u8]), Truncated>;

    fn next(&mut self) -> Option<Self::Item> {
        let b = std::mem::take(&mut self.rest);
        if b.is_empty() {
            return None;
        }
        let len = u32_at(b, 0).map(|l| usize::try_from(l).unwrap_or(usize::MAX));
        let (Some(len), Some(kind)) = (len, u16_at(b, 4)) else {
            return Some(Err(Truncated));
        };
        let Some(msg) = b.get(..len).filter(|_| len >= NLMSG_HDRLEN) else {
            return Some(Err(Truncated));
        };
        let aligned = len.checked_add(3).map_or(usize::MAX, |l| l & !3);
        self.rest = b.get(aligned..).unwrap_or(&[]);
        Some(Ok((kind, msg)))
    }
}

/// What one datagram of notifications says.
pub fn parse(b: &[u8]) -> Seen {
    let mut seen = Seen::default();
    for m in walk(b) {
        let Ok((kind, msg)) = m else {
            seen.lost = true;
            break;
        };
        let len = msg.len();
        match kind {
            RTM_NEWLINK | RTM_DELLINK => {
                if len >= NLMSG_HDRLEN + IFINFOMSG_LEN {
                    seen.links = seen.links.saturating_add(1);
                } else {
                    seen.lost = true;
                }
            }
            RTM_NEWADDR | RTM_DELADDR => {
                if len >= NLMSG_HDRLEN + IFADDRMSG_LEN {
                    seen.addrs = seen.addrs.saturating_add(1);
                } else {
                    seen.lost = true;
                }
            }
            NLMSG_OVERRUN => seen.lost = true,
            _ => {}
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(kind: u16, payload: usize) -> Vec<u8> {
        let len = (NLMSG_HDRLEN + payload) as u32;
        let mut m = Vec::new();
        m.extend_from_slice(&len.to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&[0; 10]);
        m.extend(std::iter::repeat_n(0u8, payload));
        while m.len() % 4 != 0 {
            m.push(0);
        }
        m
    }

    #[test]
    fn counts_link_messages_and_flags_garbage() {
        let mut d = msg(RTM_NEWLINK, 40);
        d.extend(msg(RTM_DELLINK, 18)); // padded to 4
        d.extend(msg(24, 12)); // RTM_NEWROUTE: ignored
        d.extend(msg(RTM_NEWADDR, 40));
        d.extend(msg(RTM_DELADDR, 8));
        assert_eq!(
            parse(&d),
            Seen {
                links: 2,
                addrs: 2,
                lost: false
            }
        );
        assert!(parse(&msg(RTM_NEWADDR, 4)).lost, "short ifaddrmsg");
        // Short ifinfomsg, truncated datagram, silly length: flagged, no panic.
        assert!(parse(&msg(RTM_NEWLINK, 4)).lost);
        let mut t = msg(RTM_NEWLINK, 40);
        t.truncate(30);
        assert!(parse(&t).lost);
        assert!(parse(&[0xff; 7]).lost);
        let mut huge = msg(RTM_NEWLINK, 20);
        huge[..4].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert!(parse(&huge).lost);
        assert_eq!(parse(&[]), Seen::default());
        for seed in 0u32..2000 {
            let junk: Vec<u8> = (0..64)
                .map(|i| (seed.wrapping_mul(2654435761).rotate_left(i) & 0xff) as u8)
                .collect();
            let _ = parse(&junk);
        }
    }

    #[test]
    fn socket_opens() {
        // Needs no privilege: subscribing to RTMGRP_LINK and
        // RTMGRP_IPV4_IFADDR is allowed for anyone.
        let mut m = LinkMonitor::open().unwrap();
        let _ = m.drain();
    }
}
