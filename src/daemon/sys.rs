//! Small checked wrappers over the interface ioctls the daemon needs
//! (index, hardware address, flags), the kernel's IPv4 addresses and
//! forwarding switch of a device, and fd ownership.
//!
//! Owns: the unsafe FFI for ifreq/ifconf ioctls. Never: keeps
//! state, parses frames, changes kernel settings.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// An AF_INET datagram socket used only as an ioctl handle.
pub struct IoctlSocket(OwnedFd);

/// Interface flags the daemon cares about.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LinkFlags {
    pub up: bool,
    pub running: bool,
}

impl LinkFlags {
    /// Usable for VRRP: administratively up and carrier present.
    pub fn usable(self) -> bool {
        self.up && self.running
    }
}

pub(super) fn ifreq_for(name: &str) -> io::Result<libc::ifreq> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "bad interface name \"{}\"",
                crate::cli::show::printable(name)
            ),
        ));
    }
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in ifr.ifr_name.iter_mut().zip(bytes.iter()) {
        *dst = *src as libc::c_char;
    }
    Ok(ifr)
}

impl IoctlSocket {
    pub fn new() -> io::Result<IoctlSocket> {
        // SAFETY: plain socket(2) call; the fd is owned below.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh, valid descriptor we own.
        Ok(IoctlSocket(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    pub(super) fn raw_fd(&self) -> std::os::fd::RawFd {
        self.0.as_raw_fd()
    }

    fn ioctl(&self, req: libc::c_ulong, ifr: &mut libc::ifreq) -> io::Result<()> {
        // SAFETY: ifr is a valid ifreq for the duration of the call; the
        // requests used here only read/write within it.
        let rc = unsafe { libc::ioctl(self.0.as_raw_fd(), req as _, ifr as *mut libc::ifreq) };
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// Kernel ifindex of `name` (ENODEV if it does not exist).
    pub fn ifindex(&self, name: &str) -> io::Result<i32> {
        let mut ifr = ifreq_for(name)?;
        self.ioctl(libc::SIOCGIFINDEX as libc::c_ulong, &mut ifr)?;
        // SAFETY: SIOCGIFINDEX filled the ifindex member of the union.
        Ok(unsafe { ifr.ifr_ifru.ifru_ifindex })
    }

    /// Ethernet address of `name` (SIOCGIFHWADDR).
    pub fn hwaddr(&self, name: &str) -> io::Result<[u8; 6]> {
        let mut ifr = ifreq_for(name)?;
        self.ioctl(libc::SIOCGIFHWADDR as libc::c_ulong, &mut ifr)?;
        // SAFETY: SIOCGIFHWADDR filled the hwaddr member of the union.
        let sa = unsafe { ifr.ifr_ifru.ifru_hwaddr };
        if i32::from(sa.sa_family) != i32::from(libc::ARPHRD_ETHER) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("{name} is not an Ethernet interface"),
            ));
        }
        let mut mac = [0u8; 6];
        for (dst, src) in mac.iter_mut().zip(sa.sa_data.iter()) {
            *dst = *src as u8;
        }
        Ok(mac)
    }

    /// The IP MTU of `name` (SIOCGIFMTU).
    pub fn mtu(&self, name: &str) -> io::Result<u16> {
        let mut ifr = ifreq_for(name)?;
        self.ioctl(libc::SIOCGIFMTU as libc::c_ulong, &mut ifr)?;
        // SAFETY: SIOCGIFMTU filled the mtu member of the union.
        let mtu = unsafe { ifr.ifr_ifru.ifru_mtu };
        Ok(u16::try_from(mtu).unwrap_or(u16::MAX))
    }

    /// Up/running flags of `name` (SIOCGIFFLAGS).
    pub fn flags(&self, name: &str) -> io::Result<LinkFlags> {
        let mut ifr = ifreq_for(name)?;
        self.ioctl(libc::SIOCGIFFLAGS as libc::c_ulong, &mut ifr)?;
        // SAFETY: SIOCGIFFLAGS filled the flags member of the union.
        let f = i32::from(unsafe { ifr.ifr_ifru.ifru_flags });
        Ok(LinkFlags {
            up: f & libc::IFF_UP != 0,
            running: f & libc::IFF_RUNNING != 0,
        })
    }
}

/// `struct ethtool_value` of <linux/ethtool.h>.
#[repr(C)]
struct EthtoolValue {
    cmd: u32,
    data: u32,
}

const ETHTOOL_GFLAGS: u32 = 0x25;
const ETHTOOL_SFLAGS: u32 = 0x26;
const ETHTOOL_GGRO: u32 = 0x2b;
const ETHTOOL_SGRO: u32 = 0x2c;
const ETH_FLAG_LRO: u32 = 1 << 15;

impl IoctlSocket {
    fn ethtool(&self, name: &str, cmd: u32, data: u32) -> io::Result<u32> {
        let mut v = EthtoolValue { cmd, data };
        let mut ifr = ifreq_for(name)?;
        ifr.ifr_ifru.ifru_data = (&mut v as *mut EthtoolValue).cast();
        // SAFETY: SIOCETHTOOL reads/writes the ethtool_value that
        // ifru_data points to, which lives until the call returns.
        self.ioctl(libc::SIOCETHTOOL, &mut ifr)?;
        Ok(v.data)
    }

    /// Turn off the receive offloads that merge frames (GRO, LRO) on
    /// `name`: hagw forwards frames as they arrived, and a merged
    /// super-frame is bigger than the MTU (it would arrive truncated and be
    /// dropped, and TCP through hagw would stall). Returns the ones it
    /// turned off; an offload the driver does not offer is skipped.
    pub fn disable_rx_merging(&self, name: &str) -> io::Result<Vec<&'static str>> {
        let mut off = Vec::new();
        if self.ethtool(name, ETHTOOL_GGRO, 0).is_ok_and(|v| v != 0) {
            self.ethtool(name, ETHTOOL_SGRO, 0)?;
            off.push("gro");
        }
        if let Ok(flags) = self.ethtool(name, ETHTOOL_GFLAGS, 0) {
            if flags & ETH_FLAG_LRO != 0 {
                self.ethtool(name, ETHTOOL_SFLAGS, flags & !ETH_FLAG_LRO)?;
                off.push("lro");
            }
        }
        Ok(off)
    }
}

/// Most IPv4 addresses (all interfaces, aliases included) read at once.
const MAX_KERNEL_ADDRS: usize = 64;

/// The IPv4 addresses (with prefix length) the kernel has on `name`,
/// including labelled aliases such as `name:1` (SIOCGIFCONF and
/// SIOCGIFNETMASK: plain ioctls, unlike getifaddrs(3), whose netlink dump
/// hangs under qemu-user on big-endian MIPS).
pub fn kernel_ipv4_addrs(name: &str) -> io::Result<Vec<(std::net::Ipv4Addr, u32)>> {
    let sock = IoctlSocket::new()?;
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut reqs: [libc::ifreq; MAX_KERNEL_ADDRS] = unsafe { std::mem::zeroed() };
    let mut conf = libc::ifconf {
        ifc_len: std::mem::size_of_val(&reqs) as libc::c_int,
        ifc_ifcu: libc::__c_anonymous_ifc_ifcu {
            ifcu_req: reqs.as_mut_ptr(),
        },
    };
    // SAFETY: conf points at `reqs`, whose size it states; the kernel writes
    // at most ifc_len bytes there and stores the length used.
    let rc = unsafe {
        libc::ioctl(
            sock.0.as_raw_fd(),
            libc::SIOCGIFCONF as _,
            &mut conf as *mut libc::ifconf,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    let used = usize::try_from(conf.ifc_len).unwrap_or(0) / std::mem::size_of::<libc::ifreq>();
    let mut out = Vec::new();
    for req in reqs.iter().take(used.min(MAX_KERNEL_ADDRS)) {
        let label: Vec<u8> = req
            .ifr_name
            .iter()
            .take_while(|c| **c != 0)
            .map(|c| *c as u8)
            .collect();
        let base = label.split(|b| *b == b':').next().unwrap_or(&label);
        // SAFETY: SIOCGIFCONF filled the addr member of the union.
        let sa = unsafe { req.ifr_ifru.ifru_addr };
        if base != name.as_bytes() || i32::from(sa.sa_family) != libc::AF_INET {
            continue;
        }
        // SAFETY: an AF_INET sockaddr has the layout of sockaddr_in, and
        // sockaddr is at least as large.
        let addr = unsafe { *(&sa as *const libc::sockaddr as *const libc::sockaddr_in) };
        let mut mreq = *req;
        let prefix = match sock.ioctl(libc::SIOCGIFNETMASK as libc::c_ulong, &mut mreq) {
            Ok(()) => {
                // SAFETY: SIOCGIFNETMASK filled the netmask member (a sockaddr_in).
                let m = unsafe {
                    *(&mreq.ifr_ifru.ifru_netmask as *const libc::sockaddr
                        as *const libc::sockaddr_in)
                };
                u32::from_be(m.sin_addr.s_addr).count_ones()
            }
            Err(_) => 32,
        };
        out.push((
            std::net::Ipv4Addr::from(u32::from_be(addr.sin_addr.s_addr)),
            prefix,
        ));
    }
    Ok(out)
}

/// Whether the kernel forwards IPv4 for `name`
/// (/proc/sys/net/ipv4/conf/NAME/forwarding); None if unreadable.
pub fn kernel_ipv4_forwarding(name: &str) -> Option<bool> {
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return None;
    }
    let v = std::fs::read_to_string(format!("/proc/sys/net/ipv4/conf/{name}/forwarding")).ok()?;
    Some(v.trim() != "0")
}

pub fn fmt_mac(mac: &[u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]
    )
}

/// Fill `buf` from the kernel's random source (getrandom(2)); falls back
/// to /dev/urandom if the call is unavailable (Linux < 3.17), and, should
/// that fail too, to SipHash of the clock and the pid. (std's `RandomState`,
/// the fallback before, itself reads getrandom or /dev/urandom, and links
/// std's SipHash-1-3 besides our SipHash-2-4.)
pub fn random_bytes(buf: &mut [u8]) {
    let mut done = 0;
    while done < buf.len() {
        let Some(rest) = buf.get_mut(done..) else {
            break;
        };
        // SAFETY: rest is valid for writes of its length.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n <= 0 {
            break;
        }
        done += usize::try_from(n).unwrap_or(0);
    }
    let Some(rest) = buf.get_mut(done..).filter(|r| !r.is_empty()) else {
        return;
    };
    use std::io::Read;
    let urandom = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(rest));
    if urandom.is_err() {
        let key = crate::hash::SipKey([
            super::clock::now().as_micros(),
            u64::from(std::process::id()) ^ (rest.as_ptr() as usize as u64),
        ]);
        for (i, b) in rest.iter_mut().enumerate() {
            *b = key.hash(&(i as u64).to_le_bytes()) as u8;
        }
    }
}

/// SO_BINDTODEVICE: the socket sends and receives only through `device`.
pub fn bind_to_device(fd: std::os::fd::RawFd, device: &str) -> io::Result<()> {
    let mut dev = [0u8; libc::IFNAMSIZ];
    let name = device.as_bytes();
    if name.len() >= dev.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "device name too long",
        ));
    }
    if let Some(d) = dev.get_mut(..name.len()) {
        d.copy_from_slice(name);
    }
    setsockopt(fd, libc::SOL_SOCKET, libc::SO_BINDTODEVICE, &dev)
}

/// Random keys for the engine's hashed tables (session index, NAT port
/// search, neighbour cache), so nobody outside can aim collisions.
pub fn random_keys() -> crate::engine::Keys {
    let mut b = [0u8; 44];
    random_bytes(&mut b);
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i..i + 8]);
        u64::from_le_bytes(w)
    };
    let mut conntrack = [0u8; 16];
    conntrack.copy_from_slice(&b[..16]);
    crate::engine::Keys {
        conntrack,
        nat: crate::hash::SipKey([word(16), word(24)]),
        neigh: word(32),
        boot: u32::from_le_bytes([b[40], b[41], b[42], b[43]]),
    }
}

/// Set this process's scheduling niceness (setpriority(2)).
pub fn set_nice(nice: i8) -> io::Result<()> {
    // SAFETY: plain syscall on our own process.
    let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, libc::c_int::from(nice)) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// setsockopt(2) with the option value `v` (an int, a struct).
pub fn setsockopt<T>(
    fd: std::os::fd::RawFd,
    level: libc::c_int,
    name: libc::c_int,
    v: &T,
) -> std::io::Result<()> {
    // SAFETY: `v` points to a live T of the given size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (v as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// getsockopt(2) into `v` (an int, a struct); what the kernel does not
/// fill keeps the value the caller gave.
pub fn getsockopt<T>(
    fd: std::os::fd::RawFd,
    level: libc::c_int,
    name: libc::c_int,
    v: &mut T,
) -> std::io::Result<()> {
    let mut len = std::mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: `v` points to a live T of `len` bytes, `len` lives across the call.
    let rc = unsafe { libc::getsockopt(fd, level, name, (v as *mut T).cast(), &mut len) };
    if rc < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_queryable_and_bad_names_are_rejected() {
        let s = IoctlSocket::new().unwrap();
        assert!(s.ifindex("lo").unwrap() > 0);
        assert!(s.flags("lo").unwrap().up);
        // lo is ARPHRD_LOOPBACK, not Ethernet.
        assert!(s.hwaddr("lo").is_err());
        assert!(s.ifindex("this-name-is-too-long").is_err());
        assert!(s.ifindex("").is_err());
        assert!(s.ifindex("nosuchif0").is_err());
        assert_eq!(fmt_mac(&[0, 0, 0x5e, 0, 1, 42]), "00:00:5e:00:01:2a");
        let lo = kernel_ipv4_addrs("lo").unwrap();
        assert!(lo.contains(&(std::net::Ipv4Addr::LOCALHOST, 8)), "{lo:?}");
        assert!(kernel_ipv4_addrs("nosuchif0").unwrap().is_empty());
        assert!(kernel_ipv4_forwarding("lo").is_some());
        assert_eq!(kernel_ipv4_forwarding("../x"), None);
    }

    #[test]
    fn socket_options_round_trip_through_the_kernel() {
        use std::os::fd::AsRawFd;
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let fd = s.as_raw_fd();
        // SO_REUSEADDR: an option qemu-user also translates (the test runs
        // under qemu-mips; it refuses to read IP_RECVTTL back).
        let mut v: libc::c_int = -1;
        getsockopt(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, &mut v).unwrap();
        assert_eq!(v, 0);
        setsockopt(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, &1).unwrap();
        getsockopt(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, &mut v).unwrap();
        assert_eq!(v, 1);
        assert!(getsockopt(-1, libc::SOL_SOCKET, libc::SO_REUSEADDR, &mut v).is_err());
        assert!(bind_to_device(fd, "this-name-is-too-long").is_err());
        // SO_BINDTODEVICE needs CAP_NET_RAW.
        // SAFETY: geteuid(2) cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipping the SO_BINDTODEVICE half: not root");
            return;
        }
        // The kernel takes an existing device and refuses a missing one
        // (not read back: qemu-user does not translate that getsockopt).
        bind_to_device(fd, "lo").unwrap();
        assert!(bind_to_device(fd, "nosuchif0").is_err());
    }
}
