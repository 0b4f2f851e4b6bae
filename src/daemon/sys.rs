//! Small checked wrappers over the interface ioctls the daemon needs
//! (index, hardware address, flags) and fd ownership.
//!
//! Owns: the unsafe FFI for ifreq ioctls. Never: keeps state, parses frames.

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

fn ifreq_for(name: &str) -> io::Result<libc::ifreq> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad interface name {name:?}"),
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

pub fn fmt_mac(mac: &[u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]
    )
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
    }
}
