//! Two hosts on one machine, for the LAN tests and the LAN benchmark: a "box"
//! and a "phone" network namespace joined by a veth pair that the caller
//! creates (as root) and that is removed on drop. Their addresses are in
//! 198.18.0.0/15 (the range reserved for network tests) and a unique-local
//! IPv6 prefix, with no route anywhere else: no packet leaves the two
//! namespaces. Multicast (mDNS) goes out of the veth.

use std::path::Path;
use std::process::{Child, Command};

pub const BOX_V4: &str = "198.18.0.1";
pub const PHONE_V4: &str = "198.18.0.2";
pub const BOX_V6: &str = "fd66:6f79:6572::1";
pub const PHONE_V6: &str = "fd66:6f79:6572::2";

fn ok(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two namespaces joined by a veth pair; removed on drop.
pub struct Lan {
    pub box_ns: String,
    pub phone_ns: String,
    /// The box's end of the veth pair.
    pub box_dev: String,
}

impl Lan {
    /// Creates both namespaces; `tag` keeps several of one process apart.
    /// Panics (with the `ip` error) when that is not possible.
    pub fn create(tag: &str) -> Lan {
        let id = format!("{}{tag}", std::process::id() % 100_000);
        let (va, vb) = (format!("fyb{id}"), format!("fyp{id}"));
        let lan = Lan {
            box_ns: format!("foyer-box-{id}"),
            phone_ns: format!("foyer-phone-{id}"),
            box_dev: va.clone(),
        };
        for ns in [&lan.box_ns, &lan.phone_ns] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
            ok(Command::new("ip").args(["netns", "add", ns]));
            lan.exec(ns, &["ip", "link", "set", "lo", "up"]);
        }
        ok(Command::new("ip").args([
            "link",
            "add",
            &va,
            "netns",
            &lan.box_ns,
            "type",
            "veth",
            "peer",
            "name",
            &vb,
            "netns",
            &lan.phone_ns,
        ]));
        for (ns, dev, v4, v6) in [
            (&lan.box_ns, &va, BOX_V4, BOX_V6),
            (&lan.phone_ns, &vb, PHONE_V4, PHONE_V6),
        ] {
            lan.exec(ns, &["ip", "addr", "add", &format!("{v4}/24"), "dev", dev]);
            lan.exec(
                ns,
                &[
                    "ip",
                    "-6",
                    "addr",
                    "add",
                    &format!("{v6}/64"),
                    "dev",
                    dev,
                    "nodad",
                ],
            );
            lan.exec(ns, &["ip", "link", "set", dev, "up"]);
            // Multicast (mDNS) goes out of the veth, and nowhere else exists.
            lan.exec(ns, &["ip", "route", "add", "224.0.0.0/4", "dev", dev]);
        }
        lan
    }

    /// Runs `args` in namespace `ns`; panics when it fails.
    pub fn exec(&self, ns: &str, args: &[&str]) {
        ok(Command::new("ip").args(["netns", "exec", ns]).args(args));
    }

    /// A command that runs `program` in namespace `ns`.
    pub fn command(&self, ns: &str, program: &Path) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns]).arg(program);
        c
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for ns in [&self.box_ns, &self.phone_ns] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// A child process killed on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    pub fn pid(&self) -> nix::unistd::Pid {
        nix::unistd::Pid::from_raw(self.0.id() as i32)
    }
}
