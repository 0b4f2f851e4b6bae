//! The kernel TAP of each lan/wan port (SPEC §1, issue 14): the device the
//! router's own services (dnsmasq, dropbear, uhttpd, the kernel's own
//! connections) use on ports hagw owns.
//!
//! Owns: creating the TAP (`/dev/net/tun`, `IFF_TAP | IFF_NO_PI`,
//! non-blocking, not persistent: it disappears when hagw closes it), giving
//! it the port's MAC and MTU and bringing it up (IPv6 off on it, its
//! carrier following the port's link); the
//! addresses on it (`RTM_NEWADDR` / `RTM_DELADDR` on a NETLINK_ROUTE
//! socket of its own, acknowledged, never blocking: the kernel answers
//! rtnetlink requests before `send` returns); reading and writing frames;
//! and two settings of the physical device that keep the kernel from
//! answering on it behind hagw's back once the TAP holds the port's
//! addresses (strict `rp_filter`, `arp_ignore` 8; restored on stop).
//! The daemon's glue (`impl Daemon` at the end): TAPs opened when the
//! engine starts, read in the poll loop (`RX_BUDGET` frames per wake),
//! written and given their addresses at each flush (when
//! `Engine::addrs_generation` changed), closed on stop.
//! Never: decides which addresses belong on the TAP (the engine does,
//! `Engine::host_addrs`), parses frames.

use super::netlink::{self, NLMSG_HDRLEN};
use super::sys::{IoctlSocket, fmt_mac, ifreq_for};
use super::{Daemon, RX_BUDGET, TX_CAPACITY, flush_tx};
use crate::config::Ipv4Cidr;
use crate::engine::MAX_FRAME;
use crate::time::Instant;
use log::{debug, info, warn};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

pub struct Tap {
    pub device: String,
    fd: OwnedFd,
    ifindex: i32,
    /// The addresses hagw put on the TAP (what the kernel holds).
    addrs: Vec<Ipv4Cidr>,
    /// Frames the kernel could not take (its queue full) or write errors.
    pub write_errors: u64,
    /// The physical device's settings `quiet_physical` changed, with their
    /// values before (restored when the TAP closes).
    pub saved_sysctls: Vec<(String, String)>,
}

fn ioctl_set(sock: &IoctlSocket, req: libc::c_ulong, ifr: &mut libc::ifreq) -> io::Result<()> {
    // SAFETY: ifr is a valid ifreq for the duration of the call; these
    // requests only read it.
    let rc = unsafe { libc::ioctl(sock.raw_fd(), req as _, ifr as *mut libc::ifreq) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Write `value` to /proc/sys/net/`path` (best effort; the caller logs).
pub fn sysctl(path: &str, value: &str) -> io::Result<()> {
    std::fs::write(format!("/proc/sys/net/{path}"), value)
}

impl Tap {
    /// Create TAP `name` with `mac` and `mtu`, up, without addresses.
    pub fn create(sock: &IoctlSocket, name: &str, mac: [u8; 6], mtu: u16) -> io::Result<Tap> {
        let path = c"/dev/net/tun";
        // SAFETY: open(2) with a valid C string; the fd is owned below.
        let fd = unsafe {
            libc::open(
                path.as_ptr(),
                libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is fresh and ours.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut ifr = ifreq_for(name)?;
        ifr.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short;
        // SAFETY: TUNSETIFF reads the name and flags of ifr and may write
        // the name back; ifr outlives the call.
        let rc = unsafe {
            libc::ioctl(
                fd.as_raw_fd(),
                libc::TUNSETIFF as _,
                &mut ifr as *mut libc::ifreq,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut ifr = ifreq_for(name)?;
        // SAFETY: writing the hwaddr member of a zeroed ifreq union.
        unsafe {
            ifr.ifr_ifru.ifru_hwaddr.sa_family = libc::ARPHRD_ETHER;
            for (d, s) in ifr.ifr_ifru.ifru_hwaddr.sa_data.iter_mut().zip(mac) {
                *d = s as libc::c_char;
            }
        }
        ioctl_set(sock, libc::SIOCSIFHWADDR as libc::c_ulong, &mut ifr)?;
        let mut ifr = ifreq_for(name)?;
        ifr.ifr_ifru.ifru_mtu = i32::from(mtu.max(68));
        ioctl_set(sock, libc::SIOCSIFMTU as libc::c_ulong, &mut ifr)?;
        // The host path is IPv4 (hagw drops IPv6): keep the kernel quiet.
        let _ = sysctl(&format!("ipv6/conf/{name}/disable_ipv6"), "1");
        let mut ifr = ifreq_for(name)?;
        ifr.ifr_ifru.ifru_flags = libc::IFF_UP as libc::c_short;
        ioctl_set(sock, libc::SIOCSIFFLAGS as libc::c_ulong, &mut ifr)?;
        let ifindex = sock.ifindex(name)?;
        Ok(Tap {
            device: name.to_string(),
            fd,
            ifindex,
            addrs: Vec::new(),
            write_errors: 0,
            saved_sysctls: Vec::new(),
        })
    }

    /// The TAP's carrier follows the port's link (TUNSETCARRIER), so the
    /// host sees the port go down; best effort (older kernels lack it).
    pub fn set_carrier(&self, up: bool) {
        let on: libc::c_int = i32::from(up);
        // SAFETY: TUNSETCARRIER reads one int through the pointer.
        let rc = unsafe {
            libc::ioctl(
                self.fd.as_raw_fd(),
                libc::TUNSETCARRIER as _,
                &on as *const libc::c_int,
            )
        };
        if rc < 0 {
            debug!(
                "{}: TUNSETCARRIER: {}",
                self.device,
                io::Error::last_os_error()
            );
        }
    }

    pub fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    /// One frame the kernel wrote (None: nothing waiting).
    pub fn read(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        // SAFETY: buf is valid for its length.
        let n = unsafe {
            libc::read(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr() as *mut libc::c_void,
                buf.len(),
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::EAGAIN) | Some(libc::EINTR) => Ok(None),
                _ => Err(e),
            };
        }
        Ok(Some(usize::try_from(n).unwrap_or(0)))
    }

    /// Hand one frame to the kernel (counted when it cannot take it).
    pub fn write(&mut self, frame: &[u8]) {
        // SAFETY: frame is valid for its length.
        let n = unsafe {
            libc::write(
                self.fd.as_raw_fd(),
                frame.as_ptr() as *const libc::c_void,
                frame.len(),
            )
        };
        if n < 0 {
            self.write_errors += 1;
        }
    }

    /// Make the TAP hold exactly `want`: add what is missing, delete what
    /// is no longer wanted. Returns the changes made, for the log.
    pub fn sync_addrs(&mut self, nl: &AddrNetlink, want: &[Ipv4Cidr]) -> Vec<String> {
        let mut done = Vec::new();
        let gone: Vec<Ipv4Cidr> = self
            .addrs
            .iter()
            .filter(|a| !want.contains(a))
            .copied()
            .collect();
        for a in gone {
            match nl.change(false, self.ifindex, a) {
                Ok(()) => done.push(format!("-{a}")),
                Err(e) => done.push(format!("-{a} failed: {e}")),
            }
            self.addrs.retain(|x| *x != a);
        }
        for a in want {
            if self.addrs.contains(a) {
                continue;
            }
            match nl.change(true, self.ifindex, *a) {
                Ok(()) => {
                    done.push(format!("+{a}"));
                    self.addrs.push(*a);
                }
                Err(e) => done.push(format!("+{a} failed: {e}")),
            }
        }
        done
    }
}

/// Keep the kernel from answering on the physical device `dev` for the
/// addresses its TAP holds: strict reverse-path filtering drops IPv4 that
/// arrives there (the route back points at the TAP), `arp_ignore` 8 stops
/// its ARP replies. Returns the previous values (to restore on stop) and
/// what could not be set.
pub fn quiet_physical(dev: &str) -> (Vec<(String, String)>, Vec<String>) {
    let (mut saved, mut failed) = (Vec::new(), Vec::new());
    for (key, v) in [("rp_filter", "1"), ("arp_ignore", "8")] {
        let path = format!("ipv4/conf/{dev}/{key}");
        if let Ok(old) = std::fs::read_to_string(format!("/proc/sys/net/{path}")) {
            saved.push((path.clone(), old.trim().to_string()));
        }
        if let Err(e) = sysctl(&path, v) {
            failed.push(format!("{key}: {e}"));
        }
    }
    (saved, failed)
}

/// A NETLINK_ROUTE socket for address requests (no group subscriptions).
pub struct AddrNetlink {
    fd: OwnedFd,
    seq: std::cell::Cell<u32>,
}

const NLMSG_ERROR: u16 = 2;

impl AddrNetlink {
    pub fn open() -> io::Result<AddrNetlink> {
        // SAFETY: plain socket(2); the fd is owned below.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(AddrNetlink {
            // SAFETY: fd is fresh and ours.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            seq: std::cell::Cell::new(1),
        })
    }

    /// Add (`add`) or delete an IPv4 address on interface `ifindex`, and
    /// read the kernel's acknowledgement.
    pub fn change(&self, add: bool, ifindex: i32, a: Ipv4Cidr) -> io::Result<()> {
        let seq = self.seq.get().wrapping_add(1);
        self.seq.set(seq);
        let msg = addr_request(add, seq, ifindex, a);
        // SAFETY: msg is valid for its length; the kernel is the peer.
        let n = unsafe {
            libc::send(
                self.fd.as_raw_fd(),
                msg.as_ptr() as *const libc::c_void,
                msg.len(),
                0,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut buf = [0u8; 1024];
        // The ack is queued before send(2) returns: read it without waiting
        // (a few tries in case an unrelated message is first).
        for _ in 0..4 {
            // SAFETY: buf is valid for its length.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr() as *mut libc::c_void,
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            let got = buf.get(..usize::try_from(n).unwrap_or(0)).unwrap_or(&[]);
            if let Some(code) = ack_of(got, seq) {
                return match code {
                    0 => Ok(()),
                    // Adding what is there, deleting what is not: done.
                    e if (add && e == -libc::EEXIST) || (!add && e == -libc::EADDRNOTAVAIL) => {
                        Ok(())
                    }
                    e => Err(io::Error::from_raw_os_error(-e)),
                };
            }
        }
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "no netlink acknowledgement",
        ))
    }
}

/// An RTM_NEWADDR / RTM_DELADDR request for `a` on `ifindex`.
fn addr_request(add: bool, seq: u32, ifindex: i32, a: Ipv4Cidr) -> Vec<u8> {
    let kind: u16 = if add {
        libc::RTM_NEWADDR
    } else {
        libc::RTM_DELADDR
    };
    let mut flags = (libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16;
    if add {
        flags |= (libc::NLM_F_CREATE | libc::NLM_F_REPLACE) as u16;
    }
    let attr = |m: &mut Vec<u8>, t: u16, v: &[u8]| {
        m.extend_from_slice(&(4 + v.len() as u16).to_ne_bytes());
        m.extend_from_slice(&t.to_ne_bytes());
        m.extend_from_slice(v);
    };
    let mut m = Vec::with_capacity(48);
    m.extend_from_slice(&[0; 4]); // length, set below
    m.extend_from_slice(&kind.to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes()); // pid: the kernel
    // ifaddrmsg: family, prefix length, flags, scope (universe), index.
    m.extend_from_slice(&[libc::AF_INET as u8, a.prefix_len, 0, 0]);
    m.extend_from_slice(&ifindex.to_ne_bytes());
    attr(&mut m, libc::IFA_LOCAL, &a.addr.octets());
    attr(&mut m, libc::IFA_ADDRESS, &a.addr.octets());
    if add && a.prefix_len < 31 {
        let host = u32::MAX >> a.prefix_len;
        let b = u32::from(a.addr) | host;
        attr(&mut m, libc::IFA_BROADCAST, &b.to_be_bytes());
    }
    let len = m.len() as u32;
    m[..4].copy_from_slice(&len.to_ne_bytes());
    m
}

/// The error code of the NLMSG_ERROR acknowledging request `seq` in a
/// datagram (0 = success), checked against the buffer.
pub fn ack_of(b: &[u8], seq: u32) -> Option<i32> {
    for m in netlink::walk(b) {
        let (kind, msg) = m.ok()?;
        if kind == NLMSG_ERROR && netlink::u32_at(msg, 8)? == seq {
            return Some(netlink::u32_at(msg, NLMSG_HDRLEN)? as i32);
        }
    }
    None
}

/// The daemon's side: TAPs opened with the engine, read in the poll loop,
/// written and given their addresses at each flush, closed on stop.
impl Daemon {
    /// Create the host TAP of every lan/wan port that has one configured
    /// (SPEC §1); a TAP that cannot be created is logged and the engine
    /// counts that port's host traffic as `no_host`.
    pub(super) fn open_taps(&mut self) {
        self.taps = (0..self.ports.len()).map(|_| None).collect();
        let Some(engine) = &mut self.engine else {
            return;
        };
        for (i, (iface, port)) in self.config.interfaces.iter().zip(&self.ports).enumerate() {
            let Some(name) = &iface.host_tap else {
                continue;
            };
            let mtu = if port.mtu == 0 { 1500 } else { port.mtu };
            match Tap::create(&self.ioctl, name, port.mac, mtu) {
                Ok(mut t) => {
                    info!(
                        "{} ({}): host TAP {name} up (MAC {}, MTU {mtu})",
                        iface.name,
                        iface.device,
                        fmt_mac(&port.mac)
                    );
                    let (saved, failed) = quiet_physical(&iface.device);
                    t.saved_sysctls = saved;
                    if !failed.is_empty() {
                        warn!(
                            "{} ({}): could not stop the kernel answering on the device itself ({}); it may answer for the TAP's addresses too",
                            iface.name,
                            iface.device,
                            failed.join(", ")
                        );
                    }
                    t.set_carrier(port.up);
                    if let Some(slot) = self.taps.get_mut(i) {
                        *slot = Some(t);
                    }
                }
                Err(e) => {
                    warn!(
                        "{} ({}): cannot create host TAP {name}: {e}; the router's own services are unreachable on this port (counted as no_host)",
                        iface.name, iface.device
                    );
                    engine.set_host_tap(i, false);
                }
            }
        }
        if self.taps.iter().any(Option::is_some) {
            match AddrNetlink::open() {
                Ok(nl) => self.addr_nl = Some(nl),
                Err(e) => warn!("netlink for the host TAP addresses: {e}; they get no addresses"),
            }
        }
        self.tap_gen = None;
    }

    /// Hand up to `RX_BUDGET` frames the kernel wrote into TAP `p` to the
    /// engine.
    pub(super) fn receive_tap(&mut self, now: Instant, p: usize) {
        let (Some(engine), Some(Some(t))) = (&mut self.engine, self.taps.get(p)) else {
            return;
        };
        self.call_started = now;
        let mut buf = [0u8; MAX_FRAME + 4];
        for _ in 0..RX_BUDGET {
            match t.read(&mut buf) {
                Ok(Some(n)) if n <= MAX_FRAME => {
                    engine.handle_host_frame(now, p, &buf[..n], &mut self.tx);
                }
                Ok(Some(_)) => {} // larger than any frame hagw sends
                Ok(None) => break,
                Err(e) => {
                    debug!("{}: read: {e}", t.device);
                    break;
                }
            }
            if self.tx.len() >= TX_CAPACITY / 2 {
                flush_tx(&mut self.tx, &mut self.ports, &mut self.tx_overflow_seen);
            }
        }
        self.flush(now);
    }

    /// Write the engine's frames for the host into the TAPs, and put the
    /// addresses the engine wants on them when its local addresses changed.
    pub(super) fn flush_host(&mut self) {
        let Some(engine) = &mut self.engine else {
            return;
        };
        for (p, frame) in engine.host_frames() {
            if let Some(Some(t)) = self.taps.get_mut(p) {
                t.write(frame);
            }
        }
        engine.clear_host_frames();
        let generation = engine.addrs_generation();
        if self.tap_gen == Some(generation) {
            return;
        }
        self.tap_gen = Some(generation);
        let Some(nl) = &self.addr_nl else {
            return;
        };
        for (p, t) in self.taps.iter_mut().enumerate() {
            if let Some(t) = t {
                let changes = t.sync_addrs(nl, &engine.host_addrs(p));
                if !changes.is_empty() {
                    info!("host TAP {}: addresses {}", t.device, changes.join(" "));
                }
            }
        }
    }

    /// Close the TAPs (the kernel deletes them with their addresses) and
    /// give the physical devices their settings back.
    pub(super) fn close_taps(&mut self) {
        for t in self.taps.iter_mut() {
            if let Some(t) = t.take() {
                for (path, old) in &t.saved_sysctls {
                    if let Err(e) = sysctl(path, old) {
                        warn!("could not restore net.{path} to {old}: {e}");
                    }
                }
                info!(
                    "host TAP {} removed ({} frames the kernel could not take)",
                    t.device, t.write_errors
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_request_layout() {
        let a = Ipv4Cidr {
            addr: std::net::Ipv4Addr::new(192, 168, 10, 2),
            prefix_len: 24,
        };
        let m = addr_request(true, 7, 3, a);
        assert_eq!(m.len(), 16 + 8 + 8 + 8 + 8);
        assert_eq!(
            u32::from_ne_bytes([m[0], m[1], m[2], m[3]]) as usize,
            m.len()
        );
        assert_eq!(u16::from_ne_bytes([m[4], m[5]]), libc::RTM_NEWADDR);
        assert_eq!(&m[16..20], &[libc::AF_INET as u8, 24, 0, 0]);
        assert_eq!(&m[m.len() - 4..], &[192, 168, 10, 255]);
        let d = addr_request(false, 8, 3, a);
        assert_eq!(d.len(), 16 + 8 + 8 + 8);
    }

    #[test]
    fn acks_are_read_checked() {
        let mut ack = Vec::new();
        ack.extend_from_slice(&36u32.to_ne_bytes());
        ack.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        ack.extend_from_slice(&[0; 2]);
        ack.extend_from_slice(&9u32.to_ne_bytes());
        ack.extend_from_slice(&[0; 4]);
        ack.extend_from_slice(&(-17i32).to_ne_bytes());
        ack.extend_from_slice(&[0; 16]);
        assert_eq!(ack_of(&ack, 9), Some(-17));
        assert_eq!(ack_of(&ack, 10), None);
        assert_eq!(ack_of(&ack[..20], 9), None);
        let mut bad = ack.clone();
        bad[..4].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert_eq!(ack_of(&bad, 9), None);
        assert_eq!(ack_of(&[], 9), None);
    }
}
