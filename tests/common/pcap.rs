//! A minimal pcap (libpcap classic format, microsecond timestamps, link type
//! Ethernet) writer for tests: frames we build are written to a file that
//! tshark / tcpdump can read. Include it with
//! `mod common;` and `common::pcap::PcapWriter`. Test-only: panics on I/O errors.

#![allow(dead_code)]

use std::io::Write;
use std::path::Path;

/// LINKTYPE_ETHERNET.
pub const LINKTYPE_ETHERNET: u32 = 1;
/// Largest frame stored whole.
pub const SNAPLEN: u32 = 65535;

/// Frames collected in memory, written out by `write_to`.
#[derive(Default)]
pub struct PcapWriter {
    buf: Vec<u8>,
    frames: usize,
}

impl PcapWriter {
    pub fn new() -> PcapWriter {
        let mut buf = Vec::new();
        buf.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes()); // magic, µs timestamps
        buf.extend_from_slice(&2u16.to_le_bytes()); // version major
        buf.extend_from_slice(&4u16.to_le_bytes()); // version minor
        buf.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        buf.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        buf.extend_from_slice(&SNAPLEN.to_le_bytes());
        buf.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        PcapWriter { buf, frames: 0 }
    }

    /// Append one frame captured at `micros` microseconds after the epoch.
    pub fn frame(&mut self, micros: u64, frame: &[u8]) {
        let len = u32::try_from(frame.len()).unwrap();
        let stored = len.min(SNAPLEN);
        self.buf
            .extend_from_slice(&u32::try_from(micros / 1_000_000).unwrap().to_le_bytes());
        self.buf
            .extend_from_slice(&u32::try_from(micros % 1_000_000).unwrap().to_le_bytes());
        self.buf.extend_from_slice(&stored.to_le_bytes());
        self.buf.extend_from_slice(&len.to_le_bytes());
        self.buf.extend_from_slice(&frame[..stored as usize]);
        self.frames += 1;
    }

    pub fn len(&self) -> usize {
        self.frames
    }

    pub fn is_empty(&self) -> bool {
        self.frames == 0
    }

    /// The whole file as bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn write_to(&self, path: &Path) {
        let mut f = std::fs::File::create(path).unwrap();
        f.write_all(&self.buf).unwrap();
    }
}
