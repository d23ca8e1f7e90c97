//! `[output] compress = "zstd"`: `events.csv` and the captures are written as `.zst` files
//! that decompress to the bytes a plain run writes, and the manifest lists them by those names.

mod common;

use std::path::{Path, PathBuf};

use common::{entries, timewait};

/// Runs `last_ack_lost` with `outputs` into `plain` and, compressed, into `packed`.
fn plain_and_packed(dir: &Path, outputs: &[&str]) -> (PathBuf, PathBuf) {
    let plain = dir.join("plain");
    let packed = dir.join("packed");
    for (out, extra) in [
        (&plain, vec![]),
        (&packed, vec!["--set", "output.compress=zstd"]),
    ] {
        let mut args = vec!["run", "last_ack_lost", "-q"];
        args.extend(outputs);
        args.extend(extra);
        args.extend(["--out", out.to_str().unwrap()]);
        let r = timewait(dir, &args);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    }
    (plain, packed)
}

#[test]
fn compressed_files_hold_the_plain_runs_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, packed) = plain_and_packed(dir.path(), &["--outputs", "all"]);
    let files = entries(&packed);
    for name in ["events.csv", "trace.pcap"] {
        assert!(
            !files.iter().any(|f| f == name),
            "{name} written plain: {files:?}"
        );
        let z = format!("{name}.zst");
        assert!(files.contains(&z), "{z} missing: {files:?}");
        let back = zstd::decode_all(std::fs::File::open(packed.join(&z)).unwrap()).unwrap();
        assert!(
            back == std::fs::read(plain.join(name)).unwrap(),
            "{z} differs from the plain run's {name}"
        );
    }
    // The small files stay plain and the same.
    for name in ["states.csv", "connections.csv", "socket_counts.csv"] {
        assert_eq!(
            std::fs::read(packed.join(name)).unwrap(),
            std::fs::read(plain.join(name)).unwrap(),
            "{name}"
        );
    }
    let manifest = std::fs::read_to_string(packed.join("manifest.toml")).unwrap();
    assert!(
        manifest.contains("\"events.csv.zst\"") && manifest.contains("\"trace.pcap.zst\""),
        "{manifest}"
    );
}

#[test]
fn plot_redraws_a_compressed_runs_ladder_as_the_plain_run_drew_it() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, packed) = plain_and_packed(dir.path(), &[]);
    // The ladder needs events.csv, which the compressed run has only as events.csv.zst.
    std::fs::remove_file(packed.join("ladder.svg")).unwrap();
    let r = timewait(dir.path(), &["plot", packed.to_str().unwrap()]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(
        std::fs::read(packed.join("ladder.svg")).unwrap(),
        std::fs::read(plain.join("ladder.svg")).unwrap(),
        "the ladder drawn from events.csv.zst"
    );
}
