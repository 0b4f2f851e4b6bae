//! AF_PACKET SOCK_RAW sockets, one per dataplane (lan/wan) interface.
//!
//! Owns: opening/binding the socket to one ifindex (ETH_P_ALL,
//! non-blocking), multicast/unicast MAC memberships, batched receive that
//! skips our own outgoing frames, and send. Never: looks inside a frame.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// The VRRP multicast MAC 01:00:5e:00:00:12 (224.0.0.18).
pub const VRRP_MCAST_MAC: [u8; 6] = [0x01, 0x00, 0x5e, 0x00, 0x00, 0x12];

/// How a MAC address was made acceptable to the interface.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MacFilter {
    Unicast,
    Promiscuous,
}

pub struct PacketSocket {
    fd: OwnedFd,
    pub ifindex: i32,
}

fn eth_p_all_be() -> u16 {
    (libc::ETH_P_ALL as u16).to_be()
}

impl PacketSocket {
    /// Open a raw packet socket bound to `ifindex`, receiving every protocol.
    pub fn open(ifindex: i32) -> io::Result<PacketSocket> {
        // Protocol 0 at creation so nothing is queued before bind() narrows
        // the socket to one interface.
        // SAFETY: plain socket(2); the fd is owned below.
        let fd = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is fresh and ours.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: sockaddr_ll is plain old data.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = eth_p_all_be();
        sll.sll_ifindex = ifindex;
        // SAFETY: sll is a valid sockaddr_ll of the given length.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                &sll as *const libc::sockaddr_ll as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(PacketSocket { fd, ifindex })
    }

    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    fn membership(&self, kind: libc::c_int, mac: &[u8; 6]) -> io::Result<()> {
        // SAFETY: packet_mreq is plain old data.
        let mut mreq: libc::packet_mreq = unsafe { std::mem::zeroed() };
        mreq.mr_ifindex = self.ifindex;
        mreq.mr_type = kind as u16;
        mreq.mr_alen = 6;
        mreq.mr_address[..6].copy_from_slice(mac);
        // SAFETY: mreq is valid for the length given.
        let rc = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_ADD_MEMBERSHIP,
                &mreq as *const libc::packet_mreq as *const libc::c_void,
                std::mem::size_of::<libc::packet_mreq>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// Receive frames sent to a multicast MAC (e.g. `VRRP_MCAST_MAC`).
    pub fn join_multicast(&self, mac: &[u8; 6]) -> io::Result<()> {
        self.membership(libc::PACKET_MR_MULTICAST, mac)
    }

    /// Receive frames sent to a unicast MAC that is not the interface's own
    /// (the VRRP virtual MAC): a secondary unicast address if the kernel
    /// accepts it, else promiscuous mode. Says which.
    pub fn accept_unicast(&self, mac: &[u8; 6]) -> io::Result<MacFilter> {
        match self.membership(libc::PACKET_MR_UNICAST, mac) {
            Ok(()) => Ok(MacFilter::Unicast),
            Err(_) => {
                self.membership(libc::PACKET_MR_PROMISC, mac)?;
                Ok(MacFilter::Promiscuous)
            }
        }
    }

    /// Receive one frame into `buf`. `Ok(None)` when nothing is queued;
    /// `Ok(Some((len, outgoing)))` otherwise, `outgoing` for copies of frames
    /// this host sent (PACKET_OUTGOING). `len` is capped at `buf.len()`.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<(usize, bool)>> {
        // SAFETY: sockaddr_ll is plain old data.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let mut sl = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        // SAFETY: buf and sll are valid for the lengths passed.
        let n = unsafe {
            libc::recvfrom(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr() as *mut libc::c_void,
                buf.len(),
                libc::MSG_DONTWAIT,
                &mut sll as *mut libc::sockaddr_ll as *mut libc::sockaddr,
                &mut sl,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(None),
                _ => Err(e),
            };
        }
        let len = usize::try_from(n).unwrap_or(0).min(buf.len());
        Ok(Some((
            len,
            i32::from(sll.sll_pkttype) == i32::from(libc::PACKET_OUTGOING),
        )))
    }

    /// Send one whole Ethernet frame.
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        // SAFETY: frame is valid for its length.
        let n = unsafe {
            libc::send(
                self.fd.as_raw_fd(),
                frame.as_ptr() as *const libc::c_void,
                frame.len(),
                libc::MSG_DONTWAIT,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        if usize::try_from(n).ok() != Some(frame.len()) {
            return Err(io::Error::new(io::ErrorKind::WriteZero, "short send"));
        }
        Ok(())
    }
}
