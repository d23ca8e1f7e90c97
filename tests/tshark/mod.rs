//! tshark, the outside reader that checks our pcap files (CI's `.ci/run` installs it).

use std::path::Path;
use std::process::Command;

/// Runs `tshark -r file args...` with IP, TCP and UDP checksum validation on and returns its
/// standard output; fails loudly if tshark is missing or fails.
pub fn tshark(file: &Path, args: &[&str]) -> String {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args([
            "-o",
            "ip.check_checksum:TRUE",
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "udp.check_checksum:TRUE",
        ])
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run tshark ({e}): install it, e.g. `apt-get install tshark`")
        });
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
