//! The conntrack-sync transport: one non-blocking UDP socket on the sync
//! interface (a kernel interface with its own address), in the same poll
//! loop as everything else (SPEC §4). Multicast to `mcast_group:port`
//! (default 225.0.0.50:3780) joined on the sync interface, or unicast to
//! `peer:port`; TTL 1 either way, multicast loopback off, bound to the
//! device so nothing arrives or leaves through another interface.
//!
//! Owns: the socket and its addresses. Never: looks inside a datagram
//! (the engine's sync core does).

use super::sys::setsockopt as setopt;
use crate::config::{Config, ConntrackSync};
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Largest datagram read (frames fill up to the link MTU).
pub const MAX_DATAGRAM: usize = 9000;

pub struct SyncSocket {
    fd: OwnedFd,
    dest: libc::sockaddr_in,
    pub device: String,
    pub local: Ipv4Addr,
}

fn sockaddr(addr: Ipv4Addr, port: u16) -> libc::sockaddr_in {
    // SAFETY: sockaddr_in is plain data; all-zero is a valid value.
    let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    sa.sin_port = port.to_be();
    sa.sin_addr.s_addr = u32::from(addr).to_be();
    sa
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl SyncSocket {
    /// Open the socket for `config`'s `conntrack_sync` section; `None` when
    /// there is none. The sync interface must exist and have its address.
    pub fn open(config: &Config) -> Option<io::Result<SyncSocket>> {
        let cs = config.conntrack_sync.as_ref()?;
        let iface = config.interface(&cs.interface)?;
        Some(SyncSocket::open_on(cs, &iface.device, iface.address.addr))
    }

    fn open_on(cs: &ConntrackSync, device: &str, local: Ipv4Addr) -> io::Result<SyncSocket> {
        // SAFETY: plain socket(2); the fd is owned below.
        let raw = unsafe {
            libc::socket(
                libc::AF_INET,
                libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
            )
        };
        check(raw)?;
        // SAFETY: `raw` is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let one: libc::c_int = 1;
        setopt(raw, libc::SOL_SOCKET, libc::SO_REUSEADDR, &one)?;
        super::sys::bind_to_device(raw, device)?;
        let ttl: libc::c_int = 1;
        setopt(raw, libc::IPPROTO_IP, libc::IP_TTL, &ttl)?;
        let dest = match cs.peer {
            Some(peer) => {
                let sa = sockaddr(local, cs.port);
                // SAFETY: sa is a valid sockaddr_in.
                check(unsafe {
                    libc::bind(
                        raw,
                        (&sa as *const libc::sockaddr_in).cast(),
                        std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                    )
                })?;
                sockaddr(peer, cs.port)
            }
            None => {
                let sa = sockaddr(Ipv4Addr::UNSPECIFIED, cs.port);
                // SAFETY: sa is a valid sockaddr_in.
                check(unsafe {
                    libc::bind(
                        raw,
                        (&sa as *const libc::sockaddr_in).cast(),
                        std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                    )
                })?;
                let mreq = libc::ip_mreq {
                    imr_multiaddr: libc::in_addr {
                        s_addr: u32::from(cs.mcast_group).to_be(),
                    },
                    imr_interface: libc::in_addr {
                        s_addr: u32::from(local).to_be(),
                    },
                };
                setopt(raw, libc::IPPROTO_IP, libc::IP_ADD_MEMBERSHIP, &mreq)?;
                let ifaddr = libc::in_addr {
                    s_addr: u32::from(local).to_be(),
                };
                setopt(raw, libc::IPPROTO_IP, libc::IP_MULTICAST_IF, &ifaddr)?;
                setopt(raw, libc::IPPROTO_IP, libc::IP_MULTICAST_TTL, &ttl)?;
                let zero: libc::c_int = 0;
                setopt(raw, libc::IPPROTO_IP, libc::IP_MULTICAST_LOOP, &zero)?;
                sockaddr(cs.mcast_group, cs.port)
            }
        };
        Ok(SyncSocket {
            fd,
            dest,
            device: device.to_string(),
            local,
        })
    }

    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Send one datagram to the peer (or the group). Never blocks: a full
    /// socket buffer is an error the caller counts (the frame stays in the
    /// sender's resend ring, so the peer's NACK recovers it).
    pub fn send(&self, buf: &[u8]) -> io::Result<()> {
        // SAFETY: buf and dest are valid for the given lengths.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                buf.as_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
                (&self.dest as *const libc::sockaddr_in).cast(),
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// One datagram into `buf`: (length, source); `Ok(None)` when none
    /// waits. Datagrams from our own address (multicast loopback despite
    /// the option) are skipped.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<(usize, Ipv4Addr)>> {
        loop {
            // SAFETY: sockaddr_in is plain data.
            let mut from: libc::sockaddr_in = unsafe { std::mem::zeroed() };
            let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            // SAFETY: buf and from are valid for their lengths.
            let n = unsafe {
                libc::recvfrom(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                    (&mut from as *mut libc::sockaddr_in).cast(),
                    &mut len,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                return match e.kind() {
                    io::ErrorKind::WouldBlock => Ok(None),
                    io::ErrorKind::Interrupted => continue,
                    _ => Err(e),
                };
            }
            let from = Ipv4Addr::from(u32::from_be(from.sin_addr.s_addr));
            if from == self.local {
                continue;
            }
            return Ok(Some((n as usize, from)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicast_on_loopback_carries_datagrams_both_ways() {
        let cs = |port, peer| ConntrackSync {
            port,
            peer: Some(peer),
            ..ConntrackSync::default()
        };
        let lo = Ipv4Addr::LOCALHOST;
        // Two ports on 127.0.0.1 stand for the two nodes; SO_BINDTODEVICE
        // needs CAP_NET_RAW, so skip (loudly) where we lack it.
        let a = match SyncSocket::open_on(&cs(39_781, lo), "lo", lo) {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                eprintln!("skipping: SO_BINDTODEVICE needs CAP_NET_RAW ({e})");
                return;
            }
            Err(e) => panic!("open: {e}"),
        };
        let mut b = SyncSocket::open_on(&cs(39_782, lo), "lo", Ipv4Addr::new(127, 0, 0, 2))
            .expect("second socket");
        // Both bound to 127.0.0.1 but b filters "own" datagrams by 127.0.0.2.
        b.dest = sockaddr(lo, 39_781);
        let mut buf = [0u8; 64];
        assert_eq!(a.recv(&mut buf).unwrap(), None);
        b.send(b"hello").unwrap();
        let mut got = None;
        for _ in 0..100 {
            got = a.recv(&mut buf).unwrap();
            if got.is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(got, Some((5, Ipv4Addr::new(127, 0, 0, 2))));
        assert_eq!(&buf[..5], b"hello");
    }
}
