//! AF_PACKET SOCK_RAW sockets, one per dataplane (lan/wan) interface.
//!
//! Owns: opening/binding the socket to one ifindex (ETH_P_ALL,
//! non-blocking) with its TPACKET_V3 receive ring (`ring`), our own
//! transmissions not looped back (PACKET_IGNORE_OUTGOING), big socket
//! buffers (SO_SNDBUFFORCE/SO_RCVBUFFORCE, else the capped ones: logged
//! once), multicast/unicast MAC memberships, the kernel's per-socket drop
//! counter (PACKET_STATISTICS: ring full), and send. Never: looks inside a
//! frame.

use super::ring::{self, RxRing};
use super::sys::{getsockopt, setsockopt};
use log::{info, warn};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

/// Socket buffer size asked for (send and receive), as the experiment in
/// shared/AFPACKET-FORWARDING.md measured (+35–55 % TCP throughput over
/// the defaults).
pub const SOCKET_BUFFER: libc::c_int = 64 << 20;
/// Set once the FORCE variants were refused (no CAP_NET_ADMIN) and the
/// capped ones used: logged once per process.
static BUFFERS_CAPPED: AtomicBool = AtomicBool::new(false);

/// The VRRP multicast MAC 01:00:5e:00:00:12 (224.0.0.18).
pub const VRRP_MCAST_MAC: [u8; 6] = [0x01, 0x00, 0x5e, 0x00, 0x00, 0x12];

/// How a MAC address was made acceptable to the interface.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MacFilter {
    Unicast,
    Promiscuous,
}

pub struct PacketSocket {
    /// Declared before `fd`: unmapped before the socket closes.
    pub ring: RxRing,
    fd: OwnedFd,
    pub ifindex: i32,
    /// The buffers are the capped (non-FORCE) ones.
    pub buffers_capped: bool,
}

/// SO_SNDBUFFORCE/SO_RCVBUFFORCE to `SOCKET_BUFFER`, else the capped
/// SO_SNDBUF/SO_RCVBUF (net.core.[rw]mem_max). True when capped.
fn big_buffers(fd: RawFd) -> bool {
    let mut capped = false;
    for (force, plain) in [
        (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF),
        (libc::SO_RCVBUFFORCE, libc::SO_RCVBUF),
    ] {
        if setsockopt(fd, libc::SOL_SOCKET, force, &SOCKET_BUFFER).is_err() {
            capped = true;
            let _ = setsockopt(fd, libc::SOL_SOCKET, plain, &SOCKET_BUFFER);
        }
    }
    if capped && !BUFFERS_CAPPED.swap(true, Ordering::Relaxed) {
        warn!(
            "packet sockets: SO_SNDBUFFORCE/SO_RCVBUFFORCE refused (no CAP_NET_ADMIN); using the buffers net.core.wmem_max/rmem_max allow (forwarding throughput suffers)"
        );
    }
    capped
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
        let raw = fd.as_raw_fd();
        // Our own transmissions are not copied back into the ring (Linux
        // >= 4.20; older kernels mark them PACKET_OUTGOING, skipped).
        let _ = setsockopt(raw, libc::SOL_PACKET, ring::PACKET_IGNORE_OUTGOING, &1);
        let buffers_capped = big_buffers(raw);
        // The ring, before bind: no frame is queued outside it. Smaller
        // when the kernel cannot find the memory.
        let mut blocks = ring::ring_blocks(ring::total_ram());
        let ring = loop {
            match RxRing::setup(raw, blocks) {
                Ok(r) => break r,
                Err(e) if blocks > 8 && e.raw_os_error() == Some(libc::ENOMEM) => blocks /= 2,
                Err(e) => return Err(e),
            }
        };
        info!(
            "ifindex {ifindex}: TPACKET_V3 receive ring of {} KiB",
            ring.bytes() / 1024
        );
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
        Ok(PacketSocket {
            ring,
            fd,
            ifindex,
            buffers_capped,
        })
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
        setsockopt(
            self.fd.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_ADD_MEMBERSHIP,
            &mreq,
        )
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

    /// Frames the kernel dropped for this socket (receive ring full)
    /// since the last call: PACKET_STATISTICS' tp_drops, which the kernel
    /// resets on every read (with TPACKET_V3 it fills a tpacket_stats_v3,
    /// whose first two fields are these).
    pub fn take_drops(&self) -> io::Result<u64> {
        // SAFETY: tpacket_stats is plain old data.
        let mut st: libc::tpacket_stats = unsafe { std::mem::zeroed() };
        getsockopt(
            self.fd.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_STATISTICS,
            &mut st,
        )?;
        Ok(u64::from(st.tp_drops))
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
