//! The `[tcp]` settings' declarations: the README shows them as generated, each documented
//! default is the real one, and `--set tcp.NAME=VALUE` reaches every setting.

use timewait::scenario::{self, README_MARKS, settings_markdown, settings_toml};
use timewait::sweep::set::{Override, apply_to_text};
use timewait::tcp::{SETTINGS, TcpConfig};

mod common;

/// Two hosts and a link, with no `[tcp]` table.
fn bare() -> String {
    format!("[simulation]\nduration = \"1s\"\n{}", common::TWO_HOSTS)
}

/// Host `a`'s TCP settings in scenario text.
fn tcp_of(text: &str) -> TcpConfig {
    let s = scenario::parse("t", "t.toml", text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    s.config.nodes[0].tcp.clone()
}

#[test]
fn the_readme_settings_table_is_the_generated_one() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let (begin, end) = README_MARKS;
    let start = readme.find(begin).expect("README has the begin mark") + begin.len();
    let stop = readme.find(end).expect("README has the end mark");
    assert!(
        readme[start..stop].trim() == settings_markdown().trim(),
        "README.md's [tcp] table differs from the settings' declarations; regenerate the text \
         between {begin} and {end} with `timewait settings --markdown`"
    );
}

#[test]
fn every_documented_default_is_the_real_default() {
    assert_eq!(
        tcp_of(&format!("{}\n{}", bare(), settings_toml())),
        TcpConfig::default()
    );
    assert_eq!(tcp_of(&bare()), TcpConfig::default());
}

#[test]
fn set_reaches_every_setting() {
    for s in SETTINGS {
        // Each setting's default, written through --set, leaves the defaults as they were.
        let set: Override = format!("tcp.{}={}", s.name, s.default).parse().unwrap();
        let text = apply_to_text("t", "t.toml", &bare(), std::slice::from_ref(&set))
            .unwrap_or_else(|e| panic!("--set {set}: {e}"));
        assert_eq!(tcp_of(&text), TcpConfig::default(), "--set {set}");
        // And a value out of its range is refused, naming the setting.
        if let Some(r) = s.range {
            let set: Override = format!("tcp.{}={}", s.name, r.min - 1).parse().unwrap();
            let e = apply_to_text("t", "t.toml", &bare(), std::slice::from_ref(&set)).unwrap_err();
            assert_eq!(e.field, format!("tcp.{}", s.name), "{e}");
        }
    }
    let set: Override = "tcp.snd_buf=2000".parse().unwrap();
    let text = apply_to_text("t", "t.toml", &bare(), &[set]).unwrap();
    assert_eq!(tcp_of(&text).snd_buf, 2000);
}
