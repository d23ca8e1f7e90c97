//! `[output] pcap_snaplen` cuts frames as `tcpdump -s` does: tshark reads every frame, marks
//! exactly the cut ones "packet size limited during capture", and finds nothing malformed.

mod common;
mod tshark;

use common::{TWO_HOSTS, timewait};
use tshark::tshark;

#[test]
fn a_snaplen_capture_is_cut_only_where_frames_are_longer() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = format!(
        "[simulation]\nseed = 1\nduration = \"2s\"\n{TWO_HOSTS}\n\
         [output]\npcap = \"all\"\npcap_snaplen = 96\n\n\
         [[app]]\nkind = \"http_server\"\nhost = \"b\"\nport = 80\n\
         handlers = [{{ path = \"/\", body = 5000 }}]\n\n\
         [[app]]\nkind = \"http_client\"\nhost = \"a\"\nurl = \"http://10.0.0.2:80/\"\n"
    );
    std::fs::write(dir.path().join("s.toml"), scenario).unwrap();
    let out = timewait(dir.path(), &["run", "s.toml", "--out", "o", "-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pcap = dir.path().join("o/trace.pcap");
    let rows = tshark(
        &pcap,
        &[
            "-T",
            "fields",
            "-e",
            "frame.len",
            "-e",
            "frame.cap_len",
            "-e",
            "_ws.short",
            "-e",
            "_ws.malformed",
        ],
    );
    let (mut cut, mut whole) = (0, 0);
    for row in rows.lines() {
        let f: Vec<&str> = row.split('\t').collect();
        let (len, cap): (u32, u32) = (f[0].parse().unwrap(), f[1].parse().unwrap());
        assert_eq!(cap, len.min(96), "{row}");
        assert!(f[3].is_empty(), "malformed frame: {row}");
        if len > 96 {
            cut += 1;
            assert!(!f[2].is_empty(), "a cut frame not marked short: {row}");
        } else {
            whole += 1;
            assert!(f[2].is_empty(), "a whole frame marked short: {row}");
        }
    }
    assert!(cut >= 4 && whole >= 4, "{cut} cut frames, {whole} whole");
    let text = tshark(&pcap, &["-V"]);
    assert_eq!(
        text.matches("Packet size limited during capture").count(),
        cut,
        "one mark per cut frame"
    );
}
