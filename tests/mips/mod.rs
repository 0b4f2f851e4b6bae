//! The MIPS system lab (tests/mips_system.rs): hagw routers as emulated
//! MIPS Malta machines (qemu-system-mipsel, Debian's 4kc-malta kernel, a
//! busybox initramfs) whose NICs are tap devices on the bridges of a
//! `netns::Lab`, so host namespaces (clients, servers) and VMs share
//! segments. Owns: locating the fetched kernel/busybox (tests/mips/fetch.sh),
//! the initramfs (a deterministic newc cpio written here), the VM's init
//! script, the qemu command line and the serial console the test drives.
//! Never: qemu user-mode (slirp) networking; anything outside the lab's
//! namespaces (qemu runs in the lab's switch namespace, which owns the taps).
//! Every wait has a deadline; VMs are killed with the lab (by PID), and
//! their consoles are printed when the test panics.
#![allow(dead_code)]

use crate::netns::{Lab, sh, wait_for};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The MIPS hagw (cross/build.sh mipsel), or `HAGW_MIPS_BIN`.
pub fn mips_hagw() -> PathBuf {
    match std::env::var_os("HAGW_MIPS_BIN") {
        Some(p) => PathBuf::from(p),
        None => repo().join("dist/mipsel-unknown-linux-musl/hagw"),
    }
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What the VMs boot, unpacked from Debian's mipsel packages.
pub struct Kit {
    pub kernel: PathBuf,
    pub modules: Vec<PathBuf>,
    pub busybox: PathBuf,
}

impl Kit {
    /// Runs tests/mips/fetch.sh (a no-op when cached) into
    /// `<target dir>/mips-lab` and finds the kernel, the NIC modules in load
    /// order (mii, then pcnet32) and busybox.
    pub fn fetch() -> Kit {
        let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .expect("target dir")
            .to_path_buf();
        let dir = target.join("mips-lab");
        let script = repo().join("tests/mips/fetch.sh");
        sh(&[script.to_str().unwrap(), dir.to_str().unwrap()]);
        let root = dir.join("root");
        let kernel = only(&root.join("boot"), |n| n.starts_with("vmlinuz-"));
        let kdir = only(&root.join("lib/modules"), |_| true);
        let modules = Nic::model()
            .modules
            .iter()
            .map(|m| kdir.join("kernel").join(m))
            .collect::<Vec<_>>();
        for m in &modules {
            assert!(
                m.exists(),
                "{} missing (kernel package changed?)",
                m.display()
            );
        }
        Kit {
            kernel,
            modules,
            busybox: root.join("bin/busybox"),
        }
    }
}

/// The single entry of `dir` whose name passes `f`.
fn only(dir: &Path, f: impl Fn(&str) -> bool) -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .filter(|e| f(&e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .collect();
    found.sort();
    assert_eq!(
        found.len(),
        1,
        "expected one match in {}: {found:?}",
        dir.display()
    );
    found.remove(0)
}

/// A newc ("070701") cpio archive, as the kernel unpacks an initramfs:
/// entries in the order added, inode numbers counting up, owner root,
/// mtime 0 — the same inputs give the same bytes.
pub struct Cpio {
    out: Vec<u8>,
    ino: u32,
}

impl Default for Cpio {
    fn default() -> Self {
        Cpio {
            out: Vec::new(),
            ino: 1,
        }
    }
}

impl Cpio {
    pub fn dir(&mut self, path: &str) -> &mut Self {
        self.entry(path, 0o040755, 2, &[])
    }

    pub fn file(&mut self, path: &str, perm: u32, data: &[u8]) -> &mut Self {
        self.entry(path, 0o100000 | perm, 1, data)
    }

    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.entry(path, 0o120777, 1, target.as_bytes())
    }

    /// The archive with its trailer.
    pub fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, 1, &[]);
        self.out
    }

    fn entry(&mut self, path: &str, mode: u32, nlink: u32, data: &[u8]) -> &mut Self {
        let name_len = path.len() + 1;
        // ino mode uid gid nlink mtime filesize devmajor devminor
        // rdevmajor rdevminor namesize check
        let fields = [
            self.ino,
            mode,
            0,
            0,
            nlink,
            0,
            data.len() as u32,
            0,
            0,
            0,
            0,
            name_len as u32,
            0,
        ];
        self.ino += 1;
        self.out.extend_from_slice(b"070701");
        for f in fields {
            self.out.extend_from_slice(format!("{f:08X}").as_bytes());
        }
        self.out.extend_from_slice(path.as_bytes());
        self.out.push(0);
        self.pad();
        self.out.extend_from_slice(data);
        self.pad();
        self
    }

    fn pad(&mut self) {
        while self.out.len() % 4 != 0 {
            self.out.push(0);
        }
    }
}

/// One NIC of a VM: the tap on the lab segment, the guest's MAC, the name
/// the guest's init gives it (matched by MAC), and an optional kernel
/// address (the sync link is a kernel interface; lan/wan belong to hagw).
pub struct Nic {
    pub segment: &'static str,
    pub ifname: &'static str,
    pub mac: String,
    pub kernel_addr: Option<&'static str>,
}

/// The emulated NIC model and the guest modules that drive it, in load
/// order: AMD PCnet (pcnet32 + mii), or with `HAGW_MIPS_NIC=e1000` the Intel
/// 82540EM (e1000, a driver that merges received segments with GRO, as most
/// router NIC drivers do).
pub struct NicModel {
    pub device: &'static str,
    pub modules: &'static [&'static str],
}

impl Nic {
    pub fn model() -> NicModel {
        match std::env::var("HAGW_MIPS_NIC").as_deref() {
            Ok("e1000") => NicModel {
                device: "e1000",
                modules: &["drivers/net/ethernet/intel/e1000/e1000.ko"],
            },
            _ => NicModel {
                device: "pcnet",
                modules: &["drivers/net/mii.ko", "drivers/net/ethernet/amd/pcnet32.ko"],
            },
        }
    }
}

/// A router VM to boot: its name ("a", "b"), hagw config, NICs.
pub struct RouterVm {
    pub name: &'static str,
    pub config: String,
    pub nics: Vec<Nic>,
}

/// Printed by the guest's init when hagw has started (or not).
pub const READY: &str = "hagw-lab: ready";
pub const FAILED: &str = "hagw-lab: FAILED";

impl RouterVm {
    /// The guest's /init: mounts, loads the NIC drivers, names the NICs by
    /// MAC, brings them up (a kernel address only where asked), starts hagw
    /// with the board's busybox init script (board/busybox/S60hagw; its log
    /// goes to the second serial port), then leaves a shell on the console.
    pub fn init_script(&self) -> String {
        let mut s = String::from(
            "#!/bin/busybox sh\n\
             # /init of a hagw MIPS lab router (generated by tests/mips/mod.rs)\n\
             /bin/busybox --install -s /bin\n\
             export PATH=/bin:/usr/sbin\n\
             mount -t proc proc /proc\n\
             mount -t sysfs sysfs /sys\n\
             mount -t devtmpfs devtmpfs /dev\n\
             mkdir -p /var/run /var/log /tmp\n\
             fail() { echo \"hagw-lab: FAILED: $*\"; stty -echo; exec sh; }\n\
             echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 2>/dev/null\n\
             echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6 2>/dev/null\n\
             # The PCI interrupt lines (IRQ 10 and 11 on the i8259, each shared\n\
             # by two NICs) are level-triggered, but without the board firmware\n\
             # nobody sets the PIIX4's ELCR: edge-triggered, an interrupt raised\n\
             # while the other NIC holds the line is lost for good and that\n\
             # NIC's receive stalls. ELCR2 is ISA port 0x4d1 (I/O at 0x18000000).\n\
             elcr=$(devmem 0x180004d1 8) || fail read ELCR\n\
             devmem 0x180004d1 8 $((elcr | 0x0c)) || fail write ELCR\n\
             echo \"hagw-lab: ELCR2 $elcr -> $(devmem 0x180004d1 8) (IRQ 10, 11 level-triggered)\"\n\
             for m in /lib/modules/*.ko; do insmod $m || fail insmod $m; done\n\
             for d in /sys/class/net/eth*; do\n\
             \tdev=${d##*/}\n\
             \tcase $(cat $d/address) in\n",
        );
        for n in &self.nics {
            s += &format!("\t{}) ip link set $dev name {} ;;\n", n.mac, n.ifname);
        }
        s += "\tesac\ndone\n";
        for n in &self.nics {
            s += &format!("ip link set {0} up || fail no NIC {0}\n", n.ifname);
            if let Some(a) = n.kernel_addr {
                s += &format!("ip addr add {a} dev {} || fail address {a}\n", n.ifname);
            }
        }
        s += "ip -o link; ip -o -4 addr\n\
              # From here only errors on the console (the test drives a shell on it).\n\
              dmesg -n 4\n\
              /etc/init.d/S60hagw start || fail S60hagw start\n\
              echo \"hagw-lab: ready (guest uptime $(cut -d' ' -f1 /proc/uptime) s)\"\n\
              stty -echo\n\
              exec sh\n";
        s
    }

    /// The initramfs: busybox, the NIC modules, hagw as /usr/sbin/hagw, its
    /// config as /etc/config/hagw, the busybox init script, /init.
    pub fn initramfs(&self, kit: &Kit, hagw: &Path) -> Vec<u8> {
        let read = |p: &Path| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let mut c = Cpio::default();
        for d in [
            "bin",
            "dev",
            "etc",
            "etc/config",
            "etc/default",
            "etc/init.d",
            "lib",
            "lib/modules",
            "proc",
            "sys",
            "usr",
            "usr/sbin",
            "var",
        ] {
            c.dir(d);
        }
        c.file("bin/busybox", 0o755, &read(&kit.busybox));
        c.symlink("bin/sh", "busybox");
        // Numbered, so /init's glob loads them in order (mii before pcnet32).
        for (i, m) in kit.modules.iter().enumerate() {
            let name = m.file_name().unwrap().to_string_lossy();
            c.file(&format!("lib/modules/{i}-{name}"), 0o644, &read(m));
        }
        c.file("usr/sbin/hagw", 0o755, &read(hagw));
        c.file("etc/config/hagw", 0o644, self.config.as_bytes());
        let s60 = read(&repo().join("board/busybox/S60hagw"));
        c.file("etc/init.d/S60hagw", 0o755, &s60);
        // hagw's stderr to ttyS1 (a file on the host), straight through.
        c.file("etc/default/hagw", 0o644, b"HAGW_LOG=/dev/ttyS1\n");
        c.file("init", 0o755, self.init_script().as_bytes());
        c.finish()
    }
}

/// A booted router VM: its qemu process (a `Lab` process, killed with the
/// lab), console log, hagw log and console socket.
pub struct Vm {
    pub name: String,
    pub proc: usize,
    pub console_log: PathBuf,
    pub hagw_log: PathBuf,
    console_sock: PathBuf,
    console: Option<UnixStream>,
    pending: String,
    seq: u32,
    pub started: Instant,
}

impl Vm {
    /// Boot `r`: one tap per NIC on its lab segment, qemu in the lab's
    /// switch namespace (the taps' namespace). Returns at once.
    pub fn boot(lab: &mut Lab, kit: &Kit, hagw: &Path, r: &RouterVm) -> Vm {
        let initrd = lab.dir.join(format!("{}.cpio", r.name));
        std::fs::write(&initrd, r.initramfs(kit, hagw)).unwrap();
        let console_log = lab.dir.join(format!("{}-console.log", r.name));
        let hagw_log = lab.dir.join(format!("{}-hagw.log", r.name));
        let console_sock = lab.dir.join(format!("{}.console", r.name));
        let p = |p: &Path| p.to_string_lossy().into_owned();
        let mut args: Vec<String> = [
            "qemu-system-mipsel",
            "-M",
            "malta",
            "-m",
            "256",
            "-display",
            "none",
            "-vga",
            "none",
            "-monitor",
            "none",
            // A guest panic (panic=1 reboots) ends qemu instead.
            "-no-reboot",
            "-kernel",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.push(p(&kit.kernel));
        args.extend(["-initrd".into(), p(&initrd)]);
        args.extend(["-append".into(), "console=ttyS0 panic=1".into()]);
        args.extend([
            "-chardev".into(),
            format!(
                "socket,id=con,path={},server=on,wait=off,logfile={}",
                p(&console_sock),
                p(&console_log)
            ),
            "-serial".into(),
            "chardev:con".into(),
            "-serial".into(),
            format!("file:{}", p(&hagw_log)),
        ]);
        for (i, n) in r.nics.iter().enumerate() {
            let tap = format!("tap{}{}", r.name, n.segment);
            lab.tap(n.segment, &tap);
            args.extend([
                "-netdev".into(),
                format!("tap,id=n{i},ifname={tap},script=no,downscript=no"),
                "-device".into(),
                format!("{},netdev=n{i},mac={},romfile=", Nic::model().device, n.mac),
            ]);
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let sw = lab.switch_ns().to_string();
        let started = Instant::now();
        let proc = lab.spawn(&sw, &format!("qemu-{}", r.name), &argv);
        Vm {
            name: r.name.to_string(),
            proc,
            console_log,
            hagw_log,
            console_sock,
            console: None,
            pending: String::new(),
            seq: 0,
            started,
        }
    }

    pub fn console_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.console_log).unwrap_or_default()).into_owned()
    }

    pub fn hagw_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.hagw_log).unwrap_or_default()).into_owned()
    }

    /// The init's ready line once it is on the console; Err when init
    /// reported a failure or qemu is gone.
    fn ready_line(&self, lab: &mut Lab) -> Result<Option<String>, String> {
        let text = self.console_text();
        let line = |i: usize| text[i..].lines().next().unwrap_or("").to_string();
        if let Some(i) = text.find(FAILED) {
            return Err(line(i));
        }
        if let Some(i) = text.find(READY) {
            return Ok(Some(line(i)));
        }
        if !lab.proc(self.proc).alive() {
            return Err("qemu exited".into());
        }
        Ok(None)
    }

    /// Run `cmd` in the console shell; (exit status, output). Bounded by
    /// `timeout`. Output lines are framed by markers the shell prints, so
    /// the echo of the command line and earlier output do not count.
    pub fn run(&mut self, cmd: &str, timeout: Duration) -> Result<(i32, String), String> {
        if self.console.is_none() {
            let s = UnixStream::connect(&self.console_sock)
                .map_err(|e| format!("{}: {e}", self.console_sock.display()))?;
            s.set_read_timeout(Some(Duration::from_millis(100))).ok();
            self.console = Some(s);
        }
        self.seq += 1;
        let (begin, end) = (
            format!("@@begin {}", self.seq),
            format!("@@end {} ", self.seq),
        );
        let line = format!("echo '{begin}'; {cmd}; echo \"{end}$?\"\n");
        let deadline = Instant::now() + timeout;
        let sock = self.console.as_mut().expect("connected");
        sock.write_all(line.as_bytes()).map_err(|e| e.to_string())?;
        let mut buf = [0u8; 4096];
        loop {
            if let Some(answer) = framed(&self.pending, &begin, &end) {
                self.pending.clear();
                return Ok(answer);
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "VM {}: no answer to `{cmd}` within {timeout:?}; got:\n{}",
                    self.name, self.pending
                ));
            }
            match sock.read(&mut buf) {
                Ok(0) => return Err(format!("VM {}: console closed", self.name)),
                Ok(n) => self.pending.push_str(&String::from_utf8_lossy(&buf[..n])),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    /// `run`, which must succeed (exit 0); the output.
    pub fn must(&mut self, cmd: &str, timeout: Duration) -> String {
        match self.run(cmd, timeout) {
            Ok((0, out)) => out,
            Ok((code, out)) => panic!("VM {}: `{cmd}` exited {code}:\n{out}", self.name),
            Err(e) => panic!("{e}"),
        }
    }
}

/// The output between a line ending in `begin` (a prompt or a kernel
/// message may precede it) and a complete line `<end><status>`, once both
/// have arrived; the echo of the command line itself never matches.
pub fn framed(text: &str, begin: &str, end: &str) -> Option<(i32, String)> {
    let complete = &text[..text.rfind('\n')?];
    let lines: Vec<&str> = complete.lines().map(|l| l.trim_end_matches('\r')).collect();
    let b = lines.iter().position(|l| l.ends_with(begin))?;
    lines[b + 1..].iter().enumerate().find_map(|(i, l)| {
        let status = l.get(l.find(end)? + end.len()..)?.trim().parse().ok()?;
        Some((status, lines[b + 1..b + 1 + i].join("\n")))
    })
}

/// (interface, vrid, state) rows of `hagw show vrrp summary`'s text table.
pub fn summary_rows(text: &str) -> Vec<(String, u8, String)> {
    text.lines()
        .skip_while(|l| !l.starts_with("---"))
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Some((
                f.first()?.to_string(),
                f.get(1)?.parse().ok()?,
                f.last()?.to_string(),
            ))
        })
        .collect()
}

impl MipsLab {
    /// Wait until every VM's init reports hagw started; per VM the time
    /// from qemu's start to the first sight of the ready line (polled every
    /// 50 ms) and that line. Panics (the consoles are printed) when a VM
    /// fails or `timeout` passes.
    pub fn wait_ready(&mut self, timeout: Duration) -> Vec<(Duration, String)> {
        let mut seen: Vec<Option<(Duration, String)>> = vec![None; self.vms.len()];
        let mut err = None;
        wait_for(timeout, || {
            for (vm, s) in self.vms.iter().zip(seen.iter_mut()) {
                if s.is_some() {
                    continue;
                }
                match vm.ready_line(&mut self.lab) {
                    Ok(Some(line)) => *s = Some((vm.started.elapsed(), line)),
                    Ok(None) => {}
                    Err(e) => err = Some(format!("VM {}: {e}", vm.name)),
                }
            }
            err.is_some() || seen.iter().all(Option::is_some)
        });
        if let Some(e) = err {
            panic!("{e}");
        }
        seen.into_iter()
            .zip(&self.vms)
            .map(|(s, vm)| {
                s.unwrap_or_else(|| panic!("VM {}: not ready within {timeout:?}", vm.name))
            })
            .collect()
    }
}

/// The lab with its VMs: prints every console and hagw log when the test
/// panics (before the lab's own guard kills the VMs and removes the files).
pub struct MipsLab {
    pub lab: Lab,
    pub vms: Vec<Vm>,
}

impl Drop for MipsLab {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for vm in &self.vms {
                eprintln!(
                    "===== VM {} console ({}) =====\n{}",
                    vm.name,
                    vm.console_log.display(),
                    vm.console_text()
                );
                eprintln!(
                    "===== VM {} hagw log ({}) =====\n{}",
                    vm.name,
                    vm.hagw_log.display(),
                    vm.hagw_text()
                );
            }
        }
    }
}
