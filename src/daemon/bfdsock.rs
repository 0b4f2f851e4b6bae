//! BFD transport on the sync link (RFC 5881 single hop): packets arrive on
//! UDP 3784 of the sync interface and are handed in with their IP TTL
//! (IP_RECVTTL); packets leave from a source port in 49152-65535 with TTL
//! 255 to the peer router. The peer is the `conntrack_sync` `peer` option,
//! else the other address of a /30 or /31 sync link, else the source of
//! the first BFD or sync packet heard on the link.
//!
//! Owns: the two sockets and the peer address. Never: BFD itself (the
//! engine's `bfd::Session`).

use super::sys::setsockopt;
use crate::config::Config;
use std::io;
use std::net::{Ipv4Addr, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};

pub struct BfdSocket {
    rx: UdpSocket,
    tx: UdpSocket,
    pub local: Ipv4Addr,
    pub peer: Option<Ipv4Addr>,
    pub device: String,
}

/// The other host address of a /30 or /31 link (`None` for wider links).
pub fn point_to_point_peer(addr: Ipv4Addr, prefix_len: u8) -> Option<Ipv4Addr> {
    let a = u32::from(addr);
    match prefix_len {
        31 => Some(Ipv4Addr::from(a ^ 1)),
        30 => match a & 3 {
            1 => Some(Ipv4Addr::from(a + 1)),
            2 => Some(Ipv4Addr::from(a - 1)),
            _ => None,
        },
        _ => None,
    }
}

impl BfdSocket {
    /// `None` without BFD in `conntrack_sync`.
    pub fn open(config: &Config) -> Option<io::Result<BfdSocket>> {
        let cs = config.conntrack_sync.as_ref()?;
        if !cs.bfd.enabled {
            return None;
        }
        let iface = config.interface(&cs.interface)?;
        let peer = cs
            .peer
            .or_else(|| point_to_point_peer(iface.address.addr, iface.address.prefix_len));
        Some(BfdSocket::open_on(&iface.device, iface.address.addr, peer))
    }

    fn open_on(device: &str, local: Ipv4Addr, peer: Option<Ipv4Addr>) -> io::Result<BfdSocket> {
        let rx = UdpSocket::bind((local, crate::bfd::CONTROL_PORT))?;
        rx.set_nonblocking(true)?;
        super::sys::bind_to_device(rx.as_raw_fd(), device)?;
        setsockopt(rx.as_raw_fd(), libc::IPPROTO_IP, libc::IP_RECVTTL, &1)?;
        // A source port in 49152-65535 (RFC 5881 §4): the first free one.
        let mut tx = None;
        for port in crate::bfd::SOURCE_PORT_MIN..=65535 {
            if let Ok(s) = UdpSocket::bind((local, port)) {
                tx = Some(s);
                break;
            }
        }
        let tx = tx.ok_or_else(|| io::Error::new(io::ErrorKind::AddrInUse, "no source port"))?;
        tx.set_nonblocking(true)?;
        super::sys::bind_to_device(tx.as_raw_fd(), device)?;
        tx.set_ttl(u32::from(crate::bfd::TTL))?;
        Ok(BfdSocket {
            rx,
            tx,
            local,
            peer,
            device: device.to_string(),
        })
    }

    pub fn raw_fd(&self) -> RawFd {
        self.rx.as_raw_fd()
    }

    /// Learn the peer from a packet heard on the link (first one wins).
    pub fn learn_peer(&mut self, from: Ipv4Addr) {
        if self.peer.is_none() && from != self.local {
            log::info!("bfd: peer {from} learned on {}", self.device);
            self.peer = Some(from);
        }
    }

    /// Send to the peer; `Ok(false)` while the peer is unknown.
    pub fn send(&self, buf: &[u8]) -> io::Result<bool> {
        let Some(peer) = self.peer else {
            return Ok(false);
        };
        match self.tx.send_to(buf, (peer, crate::bfd::CONTROL_PORT)) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// One packet: (length, source, IP TTL); `Ok(None)` when none waits.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<(usize, Ipv4Addr, u8)>> {
        recv_with_ttl(self.rx.as_raw_fd(), buf)
    }
}

/// One datagram from the non-blocking socket `fd` (with IP_RECVTTL on):
/// (length, source, IP TTL); `Ok(None)` when none waits.
pub fn recv_with_ttl(fd: RawFd, buf: &mut [u8]) -> io::Result<Option<(usize, Ipv4Addr, u8)>> {
    // SAFETY: msghdr, iovec, sockaddr_in and the control buffer point at
    // locals that live across the call.
    unsafe {
        let mut src: libc::sockaddr_in = std::mem::zeroed();
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        let mut cbuf = [0u64; 8];
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_name = (&mut src as *mut libc::sockaddr_in).cast();
        msg.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&cbuf) as _;
        let n = libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT);
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::WouldBlock {
                Ok(None)
            } else {
                Err(e)
            };
        }
        let mut ttl = 0u8;
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::IPPROTO_IP && (*c).cmsg_type == libc::IP_TTL {
                let v = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::c_int);
                ttl = u8::try_from(v).unwrap_or(0);
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
        let from = Ipv4Addr::from(u32::from_be(src.sin_addr.s_addr));
        Ok(Some((n as usize, from, ttl)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_to_point_peers() {
        let a = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        assert_eq!(
            point_to_point_peer(a("10.99.0.1"), 30),
            Some(a("10.99.0.2"))
        );
        assert_eq!(
            point_to_point_peer(a("10.99.0.2"), 30),
            Some(a("10.99.0.1"))
        );
        assert_eq!(point_to_point_peer(a("10.99.0.0"), 30), None);
        assert_eq!(
            point_to_point_peer(a("10.99.0.4"), 31),
            Some(a("10.99.0.5"))
        );
        assert_eq!(
            point_to_point_peer(a("10.99.0.5"), 31),
            Some(a("10.99.0.4"))
        );
        assert_eq!(point_to_point_peer(a("10.99.0.1"), 24), None);
    }
}
