//! The packet I/O of one dataplane port, behind one seam (AF_XDP could
//! replace it): a TPACKET_V3 receive ring (mmap) whose frames the engine
//! rewrites in place, and a per-port transmit batch sent with one
//! sendmmsg(2) whose iovecs point into the ring (or at the engine's
//! transmit queue) — no copy in user space on the forward path.
//!
//! Owns: the ring's memory and cursor (block acquire/release with the
//! kernel's status word), the per-frame facts the kernel gives (length on
//! the wire, truncation, `TP_STATUS_CSUMNOTREADY`), the transmit batch and
//! its partial-send accounting. Never: looks inside a frame, keeps a frame
//! past its block's release (the driver flushes every batch first).
//!
//! Layouts are the kernel's `linux/if_packet.h` (TPACKET_V3), written out
//! here so every target (musl, MIPS) sees the same thing.

use super::sys::setsockopt;
use std::io;
use std::sync::atomic::{AtomicU32, Ordering};

pub const PACKET_RX_RING: libc::c_int = 5;
pub const PACKET_VERSION: libc::c_int = 10;
pub const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
const TPACKET_V3: libc::c_int = 2;
const TP_STATUS_KERNEL: u32 = 0;
const TP_STATUS_USER: u32 = 1;
/// The frame carries a partial L4 checksum (a local sender with checksum
/// offload: the field holds the pseudo-header sum only).
pub const TP_STATUS_CSUMNOTREADY: u32 = 1 << 3;

/// Bytes per ring block (one block is handed over at a time).
pub const BLOCK_SIZE: usize = 64 * 1024;
/// Largest ring per port; smaller on small machines (see `ring_blocks`).
const MAX_RING_BYTES: usize = 4 << 20;
const MIN_BLOCKS: usize = 8;
/// A partly filled block is handed to us after this long (ms): the
/// latency bound for a lone frame.
const RETIRE_TOV_MS: u32 = 1;
/// `tp_frame_size` (V3 packs frames of any size into a block; the kernel
/// still wants a frame size dividing the block).
const FRAME_SIZE: u32 = 2048;

#[repr(C)]
struct TpacketReq3 {
    block_size: u32,
    block_nr: u32,
    frame_size: u32,
    frame_nr: u32,
    retire_blk_tov: u32,
    sizeof_priv: u32,
    feature_req_word: u32,
}

// Offsets in `struct tpacket_block_desc` (version, offset_to_priv, then
// tpacket_hdr_v1: block_status, num_pkts, offset_to_first_pkt, ...).
const BLK_STATUS: usize = 8;
const BLK_NUM_PKTS: usize = 12;
const BLK_FIRST: usize = 16;
// Offsets in `struct tpacket3_hdr`, and the sockaddr_ll after it
// (TPACKET_ALIGN(sizeof(tpacket3_hdr)) = 48).
const PKT_NEXT: usize = 0;
const PKT_SNAPLEN: usize = 12;
const PKT_LEN: usize = 16;
const PKT_STATUS: usize = 20;
const PKT_MAC: usize = 24;
const PKT_HDR: usize = 48;
const SLL_PKTTYPE: usize = PKT_HDR + 10;

/// Ring blocks for a machine with `total_ram` bytes: at most
/// `MAX_RING_BYTES`, at most 1/64 of the memory, at least `MIN_BLOCKS`.
pub fn ring_blocks(total_ram: u64) -> usize {
    let by_ram = usize::try_from(total_ram / 64).unwrap_or(usize::MAX);
    (MAX_RING_BYTES.min(by_ram) / BLOCK_SIZE).max(MIN_BLOCKS)
}

/// The machine's RAM (sysinfo(2)), 0 when unknown.
pub fn total_ram() -> u64 {
    // SAFETY: sysinfo is plain old data filled by the call.
    let mut si: libc::sysinfo = unsafe { std::mem::zeroed() };
    // SAFETY: si is valid for writing.
    if unsafe { libc::sysinfo(&mut si) } != 0 {
        return 0;
    }
    // c_ulong: u32 on 32-bit targets (MIPS), u64 here.
    #[allow(clippy::useless_conversion)]
    let ram = u64::from(si.totalram);
    ram.saturating_mul(u64::from(si.mem_unit.max(1)))
}

/// A TPACKET_V3 receive ring mapped from one packet socket.
pub struct RxRing {
    base: *mut u8,
    blocks: usize,
    /// The block we wait for (or hold) next.
    next: usize,
}

impl RxRing {
    /// Switch `fd` (not yet bound) to TPACKET_V3, ask for a ring of
    /// `blocks` × `BLOCK_SIZE` and map it.
    pub fn setup(fd: libc::c_int, blocks: usize) -> io::Result<RxRing> {
        setsockopt(fd, libc::SOL_PACKET, PACKET_VERSION, &TPACKET_V3)?;
        let block_nr = u32::try_from(blocks).map_err(|_| io::ErrorKind::InvalidInput)?;
        let block_size = BLOCK_SIZE as u32;
        let req = TpacketReq3 {
            block_size,
            block_nr,
            frame_size: FRAME_SIZE,
            frame_nr: block_size / FRAME_SIZE * block_nr,
            retire_blk_tov: RETIRE_TOV_MS,
            sizeof_priv: 0,
            feature_req_word: 0,
        };
        setsockopt(fd, libc::SOL_PACKET, PACKET_RX_RING, &req)?;
        let len = blocks * BLOCK_SIZE;
        // SAFETY: maps the ring the kernel just allocated for fd; checked below.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(RxRing {
            base: base as *mut u8,
            blocks,
            next: 0,
        })
    }

    pub fn bytes(&self) -> usize {
        self.blocks * BLOCK_SIZE
    }

    fn block_ptr(&self, i: usize) -> *mut u8 {
        // SAFETY: i < blocks, so the offset stays inside the mapping.
        unsafe { self.base.add(i * BLOCK_SIZE) }
    }

    fn status(&self, i: usize) -> &AtomicU32 {
        // SAFETY: block_status is an aligned u32 inside the mapping, shared
        // with the kernel: accessed only atomically.
        unsafe { &*(self.block_ptr(i).add(BLK_STATUS) as *const AtomicU32) }
    }

    /// The next block, if the kernel has handed it over. The frames stay
    /// ours until `release`; call `release` once per block taken.
    pub fn take(&self) -> Option<Block> {
        if self.status(self.next).load(Ordering::Acquire) & TP_STATUS_USER == 0 {
            return None;
        }
        let blk = self.block_ptr(self.next);
        // SAFETY: the block is ours (status USER, acquired above); its
        // header words are inside the mapping.
        let (left, first) = unsafe { (read_u32(blk, BLK_NUM_PKTS), read_u32(blk, BLK_FIRST)) };
        Some(Block {
            blk,
            left,
            off: first as usize,
        })
    }

    /// Hand the block `take` returned back to the kernel and move on. The
    /// frames of that block must not be used (or be in a transmit batch)
    /// any more.
    pub fn release(&mut self, _block: Block) {
        self.status(self.next)
            .store(TP_STATUS_KERNEL, Ordering::Release);
        self.next = (self.next + 1) % self.blocks;
    }
}

impl Drop for RxRing {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly what setup mapped.
        unsafe {
            libc::munmap(self.base as *mut libc::c_void, self.bytes());
        }
    }
}

/// SAFETY (callers): `p + off .. + 4` lies in memory we may read.
unsafe fn read_u32(p: *const u8, off: usize) -> u32 {
    // SAFETY: per the caller; unaligned-safe read.
    unsafe { std::ptr::read_unaligned(p.add(off) as *const u32) }
}

/// What the kernel says about one received frame.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    /// Length on the wire (larger than the frame when truncated).
    pub wire_len: usize,
    /// Our own (or the host's) transmission seen on the way out.
    pub outgoing: bool,
    /// The L4 checksum is partial (`TP_STATUS_CSUMNOTREADY`).
    pub csum_partial: bool,
}

/// A block taken from the ring: its frames in order.
pub struct Block {
    blk: *mut u8,
    left: u32,
    off: usize,
}

impl Block {
    /// The next frame of the block, writable in place (the borrow ends
    /// before the next call; the bytes stay valid until `release`).
    pub fn next_frame(&mut self) -> Option<(FrameInfo, &mut [u8])> {
        if self.left == 0 || self.off + PKT_HDR + 12 > BLOCK_SIZE {
            return None;
        }
        self.left -= 1;
        // SAFETY: off + the header lies inside the block (checked above);
        // the kernel wrote the header before handing the block over.
        let pkt = unsafe { self.blk.add(self.off) };
        let (next, snap, len, status, mac) = unsafe {
            (
                read_u32(pkt, PKT_NEXT) as usize,
                read_u32(pkt, PKT_SNAPLEN) as usize,
                read_u32(pkt, PKT_LEN) as usize,
                read_u32(pkt, PKT_STATUS),
                usize::from(std::ptr::read_unaligned(pkt.add(PKT_MAC) as *const u16)),
            )
        };
        // SAFETY: inside the header checked above.
        let pkttype = unsafe { *pkt.add(SLL_PKTTYPE) };
        let start = self.off + mac;
        self.off = if next == 0 {
            self.left = 0;
            BLOCK_SIZE
        } else {
            self.off + next
        };
        if start.checked_add(snap).is_none_or(|end| end > BLOCK_SIZE) {
            return None;
        }
        let info = FrameInfo {
            wire_len: len,
            outgoing: i32::from(pkttype) == i32::from(libc::PACKET_OUTGOING),
            csum_partial: status & TP_STATUS_CSUMNOTREADY != 0,
        };
        // SAFETY: start..start+snap lies inside the block (checked), which
        // is ours until release; no other slice of it is alive (the
        // previous one's borrow ended).
        let frame = unsafe { std::slice::from_raw_parts_mut(self.blk.add(start), snap) };
        Some((info, frame))
    }
}

/// Frames one transmit batch holds (flushed when full).
pub const TX_BATCH: usize = 64;

/// Frames queued for one port, sent with one sendmmsg(2). The iovecs
/// point at memory the caller keeps alive and unchanged until `flush`
/// (a ring block not yet released, the engine's transmit queue).
pub struct TxBatch {
    iovs: Box<[libc::iovec]>,
    hdrs: Box<[libc::mmsghdr]>,
    len: usize,
}

impl Default for TxBatch {
    fn default() -> Self {
        Self::new()
    }
}

/// What a flush did: frames and bytes sent, frames refused.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Sent {
    pub frames: u64,
    pub bytes: u64,
    pub failed: u64,
    pub calls: u64,
}

impl TxBatch {
    pub fn new() -> TxBatch {
        // SAFETY (zeroed): plain old data; pointers are set by `push`.
        let iov: libc::iovec = unsafe { std::mem::zeroed() };
        let hdr: libc::mmsghdr = unsafe { std::mem::zeroed() };
        TxBatch {
            iovs: vec![iov; TX_BATCH].into_boxed_slice(),
            hdrs: vec![hdr; TX_BATCH].into_boxed_slice(),
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_full(&self) -> bool {
        self.len == TX_BATCH
    }

    /// Forget what is queued (nothing sent).
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Queue `frame`; false when full (flush first). The bytes must stay
    /// valid and unchanged until the next `flush`.
    pub fn push(&mut self, frame: &[u8]) -> bool {
        let Some(iov) = self.iovs.get_mut(self.len) else {
            return false;
        };
        iov.iov_base = frame.as_ptr() as *mut libc::c_void;
        iov.iov_len = frame.len();
        self.len += 1;
        true
    }

    /// Send everything queued on `fd` (bound to its port): one
    /// sendmmsg(2), again for the rest after a partial send; a frame the
    /// kernel refuses is dropped and counted.
    pub fn flush(&mut self, fd: libc::c_int) -> Sent {
        let mut sent = Sent::default();
        let n = self.len;
        self.len = 0;
        for (h, iov) in self.hdrs.iter_mut().zip(self.iovs.iter_mut()).take(n) {
            h.msg_hdr.msg_name = std::ptr::null_mut();
            h.msg_hdr.msg_namelen = 0;
            h.msg_hdr.msg_iov = iov as *mut libc::iovec;
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_control = std::ptr::null_mut();
            h.msg_hdr.msg_controllen = 0;
            h.msg_hdr.msg_flags = 0;
            h.msg_len = 0;
        }
        let mut done = 0;
        while done < n {
            let Some(rest) = self.hdrs.get_mut(done..n) else {
                break;
            };
            // SAFETY: every header points at its own iovec (set above),
            // each iovec at bytes the caller keeps alive until now.
            let rc = unsafe {
                libc::sendmmsg(
                    fd,
                    rest.as_mut_ptr(),
                    rest.len() as libc::c_uint,
                    libc::MSG_DONTWAIT as _,
                )
            };
            sent.calls += 1;
            if rc <= 0 {
                // EAGAIN (send buffer full), ENETDOWN, ...: the rest of
                // the batch is dropped and counted.
                sent.failed += (n - done) as u64;
                break;
            }
            let k = usize::try_from(rc).unwrap_or(0).min(rest.len());
            for h in rest.iter().take(k) {
                sent.frames += 1;
                sent.bytes += u64::from(h.msg_len);
            }
            done += k;
        }
        sent
    }
}
