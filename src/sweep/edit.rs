//! Setting a dotted parameter path in a parsed scenario document: `tcp.time_wait`,
//! `host.client.tcp.isn` (the `[[host]]` named "client"), `link.2.delay` (the third `[[link]]`).

use crate::report::plural;
use crate::scenario::nearest;

/// Top-level arrays of tables; a path selects one element by index or by its `name`.
const ARRAYS: [&str; 7] = [
    "host",
    "router",
    "link",
    "route_change",
    "link_change",
    "fault",
    "app",
];

/// Sets `path` to `value` in `doc`, creating missing tables (`tcp` in `tcp.isn`) on the way.
/// `host[client]` and `link[0]` are read as `host.client` and `link.0`.
/// The scenario parser checks the result; this only resolves the path.
pub fn set(doc: &mut toml::Table, path: &str, value: toml::Value) -> Result<(), String> {
    let path = super::set::normalize(path)?;
    let segments: Vec<&str> = path.split('.').collect();
    set_in(doc, &segments, 0, value)
}

fn set_in(
    table: &mut toml::Table,
    segs: &[&str],
    at: usize,
    value: toml::Value,
) -> Result<(), String> {
    let Some(&key) = segs.get(at) else {
        return Err("empty path".into());
    };
    let done = segs[..=at].join(".");
    if at + 1 == segs.len() {
        if table.get(key).is_some_and(|v| v.is_array()) && ARRAYS.contains(&key) {
            return Err(format!(
                "`{done}` is the whole list of [[{key}]] tables; name one and a field, e.g. `{key}.0.<field>`"
            ));
        }
        table.insert(key.to_string(), value);
        return Ok(());
    }
    if !table.contains_key(key) {
        if at == 0 && ARRAYS.contains(&key) {
            return Err(format!("the scenario has no [[{key}]] tables"));
        }
        table.insert(key.to_string(), toml::Value::Table(toml::Table::new()));
    }
    match table.get_mut(key) {
        Some(toml::Value::Table(t)) => set_in(t, segs, at + 1, value),
        Some(toml::Value::Array(items)) => {
            let selector = segs[at + 1];
            let i = select(items, key, selector, &done)?;
            if at + 2 == segs.len() {
                return Err(format!(
                    "`{done}.{selector}` is a whole [[{key}]] table; add the field to set, e.g. `{done}.{selector}.<field>`"
                ));
            }
            match items.get_mut(i) {
                Some(toml::Value::Table(t)) => set_in(t, segs, at + 2, value),
                _ => Err(format!("`{done}.{selector}` is not a table")),
            }
        }
        Some(other) => Err(format!(
            "`{done}` is {}, not a table, so `{}` cannot be set",
            kind(other),
            segs.join(".")
        )),
        None => Err(format!("`{done}` is missing")),
    }
}

/// The element of an array of tables named by `selector`: an index from 0, or a `name`.
fn select(items: &[toml::Value], key: &str, selector: &str, done: &str) -> Result<usize, String> {
    if let Ok(i) = selector.parse::<usize>() {
        return if i < items.len() {
            Ok(i)
        } else {
            Err(format!(
                "`{done}.{i}`: the scenario has {} [[{key}]] table{}, numbered from 0 to {}",
                items.len(),
                plural(items.len() as u64),
                items.len().saturating_sub(1)
            ))
        };
    }
    let names: Vec<&str> = items
        .iter()
        .filter_map(|v| v.get("name").and_then(|n| n.as_str()))
        .collect();
    if let Some(i) = items
        .iter()
        .position(|v| v.get("name").and_then(|n| n.as_str()) == Some(selector))
    {
        return Ok(i);
    }
    if names.is_empty() {
        return Err(format!(
            "`{done}.{selector}`: [[{key}]] tables have no names; select one by its number from 0, e.g. `{done}.0`"
        ));
    }
    let hint = nearest(selector, names.iter().copied())
        .map(|n| format!(" (did you mean `{n}`?)"))
        .unwrap_or_default();
    Err(format!(
        "`{done}.{selector}`: no [[{key}]] named `{selector}`; the names are {}{hint}",
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

fn kind(v: &toml::Value) -> &'static str {
    match v {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a number",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a date",
        toml::Value::Array(_) => "a list",
        toml::Value::Table(_) => "a table",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> toml::Table {
        toml::from_str(
            "[tcp]\nmsl = \"1s\"\n[[host]]\nname = \"client\"\n[[host]]\nname = \"server\"\n[[link]]\ndelay = \"1ms\"\n[[link]]\ndelay = \"2ms\"\n",
        )
        .unwrap()
    }

    fn s(v: &str) -> toml::Value {
        toml::Value::String(v.into())
    }

    #[test]
    fn paths_reach_tables_named_hosts_and_numbered_links() {
        let mut d = doc();
        set(&mut d, "tcp.time_wait", s("2msl")).unwrap();
        set(&mut d, "host.server.tcp.isn", s("random")).unwrap();
        set(&mut d, "link.1.delay", s("5ms")).unwrap();
        set(&mut d, "simulation.duration", s("9s")).unwrap();
        assert_eq!(d["tcp"]["time_wait"].as_str(), Some("2msl"));
        assert_eq!(d["host"][1]["tcp"]["isn"].as_str(), Some("random"));
        assert!(d["host"][0].get("tcp").is_none());
        assert_eq!(d["link"][1]["delay"].as_str(), Some("5ms"));
        assert_eq!(d["link"][0]["delay"].as_str(), Some("1ms"));
        assert_eq!(d["simulation"]["duration"].as_str(), Some("9s"));
    }

    #[test]
    fn bad_paths_say_what_exists() {
        let mut d = doc();
        let e = set(&mut d, "host.clinet.tcp.isn", s("x")).unwrap_err();
        assert!(e.contains("did you mean `client`"), "{e}");
        let e = set(&mut d, "link.2.delay", s("x")).unwrap_err();
        assert!(e.contains("numbered from 0 to 1"), "{e}");
        let e = set(&mut d, "link.a.delay", s("x")).unwrap_err();
        assert!(e.contains("no names"), "{e}");
        let e = set(&mut d, "tcp.msl.x", s("x")).unwrap_err();
        assert!(e.contains("is a string, not a table"), "{e}");
        let e = set(&mut d, "router.0.name", s("x")).unwrap_err();
        assert!(e.contains("no [[router]]"), "{e}");
        let e = set(&mut d, "host.client", s("x")).unwrap_err();
        assert!(e.contains("whole [[host]] table"), "{e}");
        let e = set(&mut d, "link", s("x")).unwrap_err();
        assert!(e.contains("whole list"), "{e}");
    }
}
