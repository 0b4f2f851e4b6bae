//! AF_PACKET SOCK_RAW sockets, one per dataplane (lan/wan) interface.
//!
//! Owns: opening/binding the socket to one ifindex (ETH_P_ALL,
//! non-blocking), multicast/unicast MAC memberships, batched receive
//! (recvmmsg(2) into a preallocated `RxBatch`) that marks our own outgoing
//! frames and truncated ones, the kernel's per-socket drop counter
//! (PACKET_STATISTICS), and send. Never: looks inside a frame.

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

/// Frames one recvmmsg(2) call can return.
pub const RX_BATCH_FRAMES: usize = 16;
/// Receive buffer per frame: a full Ethernet frame (1518) plus room, so a
/// frame a little too big is seen whole (and counted as oversize); anything
/// longer arrives truncated (MSG_TRUNC) and is counted as such.
pub const RX_FRAME_BYTES: usize = 2048;

/// One received frame, as `RxBatch::frame` shows it.
#[derive(Debug, PartialEq, Eq)]
pub enum Rx<'a> {
    /// A frame from the wire (the whole frame), writable so the engine can
    /// rewrite it in place before it is forwarded.
    Frame(&'a mut [u8]),
    /// A copy of a frame this host sent (PACKET_OUTGOING).
    Outgoing,
    /// Longer than `RX_FRAME_BYTES`; the kernel cut it (MSG_TRUNC).
    Truncated,
}

/// The buffers, iovecs, addresses and headers of one recvmmsg(2) call,
/// allocated once (the daemon keeps one for all its sockets: the loop reads
/// one socket at a time) and reused for every call: no allocation per wake
/// or per frame.
pub struct RxBatch {
    bufs: Box<[[u8; RX_FRAME_BYTES]]>,
    iovs: Box<[libc::iovec]>,
    addrs: Box<[libc::sockaddr_ll]>,
    hdrs: Box<[libc::mmsghdr]>,
    count: usize,
}

impl Default for RxBatch {
    fn default() -> Self {
        Self::new()
    }
}

impl RxBatch {
    pub fn new() -> RxBatch {
        // SAFETY (zeroed): iovec, sockaddr_ll and mmsghdr are plain old data;
        // null pointers are fixed by `arm` before every use.
        let iov: libc::iovec = unsafe { std::mem::zeroed() };
        let sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let hdr: libc::mmsghdr = unsafe { std::mem::zeroed() };
        RxBatch {
            bufs: vec![[0u8; RX_FRAME_BYTES]; RX_BATCH_FRAMES].into_boxed_slice(),
            iovs: vec![iov; RX_BATCH_FRAMES].into_boxed_slice(),
            addrs: vec![sll; RX_BATCH_FRAMES].into_boxed_slice(),
            hdrs: vec![hdr; RX_BATCH_FRAMES].into_boxed_slice(),
            count: 0,
        }
    }

    /// Point each header at its iovec and address slot, each iovec at its
    /// buffer, and reset the value-result lengths. Pointers are set on
    /// every call (a few stores) so nothing depends on the struct not
    /// having moved since it was built.
    fn arm(&mut self) {
        self.count = 0;
        let parts = self
            .hdrs
            .iter_mut()
            .zip(self.iovs.iter_mut())
            .zip(self.addrs.iter_mut())
            .zip(self.bufs.iter_mut());
        for (((h, iov), sll), buf) in parts {
            iov.iov_base = buf.as_mut_ptr() as *mut libc::c_void;
            iov.iov_len = buf.len();
            h.msg_hdr.msg_name = sll as *mut libc::sockaddr_ll as *mut libc::c_void;
            h.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            h.msg_hdr.msg_iov = iov as *mut libc::iovec;
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_control = std::ptr::null_mut();
            h.msg_hdr.msg_controllen = 0;
            h.msg_hdr.msg_flags = 0;
            h.msg_len = 0;
        }
    }

    /// Frames filled by the last `recv_batch`.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Frame `i` of the last `recv_batch` (None past its end).
    pub fn frame(&mut self, i: usize) -> Option<Rx<'_>> {
        if i >= self.count {
            return None;
        }
        let h = self.hdrs.get(i)?;
        let sll = self.addrs.get(i)?;
        if i32::from(sll.sll_pkttype) == i32::from(libc::PACKET_OUTGOING) {
            return Some(Rx::Outgoing);
        }
        if h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
            return Some(Rx::Truncated);
        }
        let len = usize::try_from(h.msg_len).unwrap_or(0);
        self.bufs.get_mut(i)?.get_mut(..len).map(Rx::Frame)
    }
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

    /// Receive up to `RX_BATCH_FRAMES` frames with one recvmmsg(2) into
    /// `batch` (non-blocking). Returns how many arrived (0 when nothing is
    /// queued); read them with `batch.frame(i)`.
    pub fn recv_batch(&self, batch: &mut RxBatch) -> io::Result<usize> {
        batch.arm();
        // SAFETY: `arm` pointed every mmsghdr at its own iovec/sockaddr_ll
        // and every iovec at its own buffer, all owned by `batch` (heap, not
        // moved during the call); vlen is the array length.
        let n = unsafe {
            libc::recvmmsg(
                self.fd.as_raw_fd(),
                batch.hdrs.as_mut_ptr(),
                RX_BATCH_FRAMES as libc::c_uint,
                libc::MSG_DONTWAIT as _,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            batch.count = 0;
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(0),
                _ => Err(e),
            };
        }
        batch.count = usize::try_from(n).unwrap_or(0).min(RX_BATCH_FRAMES);
        Ok(batch.count)
    }

    /// Frames the kernel dropped for this socket (receive buffer full)
    /// since the last call: PACKET_STATISTICS' tp_drops, which the kernel
    /// resets on every read.
    pub fn take_drops(&self) -> io::Result<u64> {
        // SAFETY: tpacket_stats is plain old data.
        let mut st: libc::tpacket_stats = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::tpacket_stats>() as libc::socklen_t;
        // SAFETY: st is valid for `len` bytes.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                &mut st as *mut libc::tpacket_stats as *mut libc::c_void,
                &mut len,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
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
