//! The bundled scenarios, compiled into the binary (see `build.rs`): each `scenarios/NAME.toml`
//! is available by `NAME` from any folder.

/// Every bundled scenario as `(name, text)`, sorted by name.
pub const BUNDLED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/bundled.rs"));

/// The text of the bundled scenario `name`.
pub fn get(name: &str) -> Option<&'static str> {
    BUNDLED.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// A bundled scenario's one-line title: its first comment line.
pub fn title(text: &str) -> &str {
    text.lines()
        .find_map(|l| l.strip_prefix('#').map(str::trim))
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_scenarios_is_bundled_with_its_bytes() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
        let mut on_disk: Vec<(String, String)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .map(|p| {
                let name = p.file_stem().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read_to_string(&p).unwrap())
            })
            .collect();
        on_disk.sort();
        let bundled: Vec<(String, String)> = BUNDLED
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        assert_eq!(bundled, on_disk);
        assert!(get("routing_loop").is_some_and(|t| title(t).contains("routing loop")));
        assert!(get("no_such_scenario").is_none());
    }
}
