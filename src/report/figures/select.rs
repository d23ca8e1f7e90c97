//! What to draw and how: a time window, connections, hosts, file formats, width and which
//! figures. `timewait plot DIR` reads these from its arguments (`--from`, `--to`, `--conn`,
//! `--hosts`, `--format`, `--width`, `--only`) and a scenario from its `[figures]` table, both
//! through the parsers here, so the two accept the same values and draw the same bytes.
//!
//! A selection narrows the model before any figure is derived from it
//! ([`FigureData::select`]):
//! - `from`/`to`: packets whose every hop lies in the window (a packet that started earlier or
//!   ended later is left out whole, never drawn cut); network changes, state changes and
//!   socket counts within it; the time axes span the window.
//! - `conn`: packets of those connections and of their peers (the other end of the same
//!   connection), their sockets, their sequence charts.
//! - `hosts`: packets sent or received by one of the hosts, their sockets, their counts.

use std::collections::BTreeSet;
use std::fmt;

use super::model::{FigureData, HopKind};
use crate::report::plot::Formats;

/// The figures of a run, by file name.
pub const FIGURE_NAMES: [&str; 5] = ["ladder", "timeseq", "states", "socket_counts", "cwnd"];

/// Narrowest and widest figure, in pixels.
pub const WIDTH_RANGE: (u32, u32) = (300, 4000);

/// How figures are selected and written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FigureOptions {
    /// Only what happened at or after this time (ns).
    pub from: Option<u64>,
    /// Only what happened at or before this time (ns).
    pub to: Option<u64>,
    /// Only these connections (names as in connections.csv, `client#2`) and their peers.
    pub conns: Vec<String>,
    /// Only these hosts.
    pub hosts: Vec<String>,
    /// The file formats (default SVG, PNG and PDF).
    pub formats: Formats,
    /// Figure width in pixels (default the style's, 800).
    pub width: Option<u32>,
    /// Only these figures ([`FIGURE_NAMES`]); `None` draws all.
    pub only: Option<BTreeSet<String>>,
}

impl FigureOptions {
    /// True if nothing narrows the data (formats, width and `only` aside).
    pub fn selects_all(&self) -> bool {
        self.from.is_none() && self.to.is_none() && self.conns.is_empty() && self.hosts.is_empty()
    }

    /// Whether figure `name` is to be drawn.
    pub fn wants(&self, name: &str) -> bool {
        self.only.as_ref().is_none_or(|o| o.contains(name))
    }

    /// The time window in seconds, when one end is given (the other end `None`).
    pub fn window_secs(&self) -> Option<(Option<f64>, Option<f64>)> {
        (self.from.is_some() || self.to.is_some()).then(|| {
            (
                self.from.map(|t| t as f64 / 1e9),
                self.to.map(|t| t as f64 / 1e9),
            )
        })
    }

    /// Checks the options together: the window is not empty.
    pub fn check(&self) -> Result<(), String> {
        if let (Some(a), Some(b)) = (self.from, self.to)
            && a >= b
        {
            return Err(format!(
                "the window is empty: from ({}) must be before to ({})",
                secs_text(a),
                secs_text(b)
            ));
        }
        Ok(())
    }

    /// Words for a figure's subtitle saying what was selected ("1.0-3.0 s; connection
    /// client#2"), empty when nothing was.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        match (self.from, self.to) {
            (Some(a), Some(b)) => parts.push(format!("{}\u{2013}{} s", secs_text(a), secs_text(b))),
            (Some(a), None) => parts.push(format!("from {} s", secs_text(a))),
            (None, Some(b)) => parts.push(format!("until {} s", secs_text(b))),
            (None, None) => {}
        }
        if !self.conns.is_empty() {
            let word = if self.conns.len() == 1 {
                "connection"
            } else {
                "connections"
            };
            parts.push(format!("{word} {}", self.conns.join(", ")));
        }
        if !self.hosts.is_empty() {
            let word = if self.hosts.len() == 1 {
                "host"
            } else {
                "hosts"
            };
            parts.push(format!("{word} {}", self.hosts.join(", ")));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("Selected: {}", parts.join("; "))
        }
    }
}

/// Seconds for messages: "1.5", "0.000250".
fn secs_text(ns: u64) -> String {
    let s = ns as f64 / 1e9;
    let text = format!("{s:.9}");
    let text = text.trim_end_matches('0');
    text.strip_suffix('.').unwrap_or(text).to_string()
}

/// A time: seconds as a plain number (`1.5`), or a number and a unit (`1500ms`, `2s`, `1min`).
pub fn parse_time(s: &str) -> Result<u64, String> {
    let t = s.trim();
    if let Ok(v) = t.parse::<f64>() {
        return secs_to_ns(v).ok_or_else(|| {
            format!("invalid time `{s}`: expected seconds at or after 0, e.g. 1.5 or \"1500ms\"")
        });
    }
    t.parse::<crate::sim::Duration>()
        .map(|d| d.as_nanos())
        .map_err(|e| format!("{e} (a plain number is seconds)"))
}

/// Seconds as nanoseconds, for finite values from 0 up to about 584 years.
pub fn secs_to_ns(v: f64) -> Option<u64> {
    (0.0..1.8e10).contains(&v).then(|| (v * 1e9).round() as u64)
}

/// A figure width in pixels, within [`WIDTH_RANGE`].
pub fn parse_width(s: &str) -> Result<u32, String> {
    let v: i64 = s
        .trim()
        .parse()
        .map_err(|_| format!("invalid width `{s}`: expected a whole number of pixels"))?;
    check_width(v)
}

/// A width within [`WIDTH_RANGE`].
pub fn check_width(v: i64) -> Result<u32, String> {
    let (lo, hi) = WIDTH_RANGE;
    if v < lo as i64 || v > hi as i64 {
        return Err(format!(
            "width {v} px is out of range: figures are {lo} to {hi} px wide"
        ));
    }
    Ok(v as u32)
}

/// Figure names for `only`: each one of [`FIGURE_NAMES`].
pub fn parse_only<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Result<BTreeSet<String>, String> {
    let mut out = BTreeSet::new();
    for n in names {
        let n = n.trim();
        if n.is_empty() {
            continue;
        }
        if !FIGURE_NAMES.contains(&n) {
            let hint = match crate::scenario::nearest(n, FIGURE_NAMES.iter().copied()) {
                Some(k) => format!(" (did you mean `{k}`?)"),
                None => String::new(),
            };
            return Err(format!(
                "unknown figure `{n}`, expected one of {}{hint}",
                FIGURE_NAMES.join(", ")
            ));
        }
        out.insert(n.to_string());
    }
    if out.is_empty() {
        return Err(format!(
            "no figure named, expected one or more of {}",
            FIGURE_NAMES.join(", ")
        ));
    }
    Ok(out)
}

/// A connection name as connections.csv writes it: `HOST#N`, N from 1.
pub fn check_conn(s: &str) -> Result<(&str, u32), String> {
    let bad = || {
        format!("invalid connection `{s}`: expected HOST#N as in connections.csv, e.g. client#2")
    };
    let (host, n) = s.trim().rsplit_once('#').ok_or_else(bad)?;
    let n: u32 = n.parse().map_err(|_| bad())?;
    if host.is_empty() || n == 0 {
        return Err(bad());
    }
    Ok((host, n))
}

/// Splits a comma-separated list, dropping empty items.
pub fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

/// Why a selection does not fit a run's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectError(pub String);

impl fmt::Display for SelectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FigureData {
    /// The part of the model `opts` selects (see the module's notes); the whole model when it
    /// selects everything. Names that the data does not hold are an error naming them.
    pub fn select(&self, opts: &FigureOptions) -> Result<FigureData, SelectError> {
        if opts.selects_all() {
            return Ok(self.clone());
        }
        for h in &opts.hosts {
            let known = self.nodes.contains(h)
                || self.connections.iter().any(|c| &c.host == h)
                || self.counts.iter().any(|c| &c.0 == h);
            if !known {
                let names: Vec<&str> = self.nodes.iter().map(String::as_str).collect();
                return Err(SelectError(format!(
                    "no host `{h}` in this run (its nodes: {})",
                    names.join(", ")
                )));
            }
        }
        // The connections asked for, and their peers: the other end of each.
        let mut conns: BTreeSet<String> = BTreeSet::new();
        for c in &opts.conns {
            let Some(row) = self.connections.iter().find(|r| &r.conn == c) else {
                let some: Vec<&str> = self
                    .connections
                    .iter()
                    .take(6)
                    .map(|r| r.conn.as_str())
                    .collect();
                let more = if self.connections.len() > 6 {
                    ", ..."
                } else {
                    ""
                };
                return Err(SelectError(format!(
                    "no connection `{c}` in connections.csv (it has {}{more})",
                    if some.is_empty() {
                        "none".to_string()
                    } else {
                        some.join(", ")
                    }
                )));
            };
            conns.insert(c.clone());
            if let Some(peer) = self.connections.iter().find(|p| {
                p.local == row.remote
                    && p.remote == row.local
                    && p.opened <= row.released
                    && row.opened <= p.released
            }) {
                conns.insert(peer.conn.clone());
            }
        }
        let from = opts.from.unwrap_or(0);
        let to = opts.to.unwrap_or(u64::MAX);
        let in_window = |t: u64| t >= from && t <= to;
        let hosts: BTreeSet<&str> = opts.hosts.iter().map(String::as_str).collect();
        let host_ok = |h: &str| hosts.is_empty() || hosts.contains(h);
        let conn_ok = |c: &str| conns.is_empty() || conns.contains(c);

        // Packets: whole, by id.
        let mut by_id: std::collections::BTreeMap<u64, Vec<usize>> = Default::default();
        for (i, r) in self.packets.iter().enumerate() {
            by_id.entry(r.packet).or_default().push(i);
        }
        let mut keep = vec![false; self.packets.len()];
        for rows in by_id.values() {
            let all_in = rows.iter().all(|&i| in_window(self.packets[i].time));
            let first = &self.packets[rows[0]];
            let conn_in = conns.is_empty()
                || first
                    .conn
                    .and_then(|c| self.conn_names.get(c as usize))
                    .is_some_and(|n| conns.contains(n));
            let host_in = hosts.is_empty()
                || rows.iter().any(|&i| {
                    let r = &self.packets[i];
                    matches!(r.kind, HopKind::Send | HopKind::Deliver)
                        && hosts.contains(self.nodes[r.node as usize].as_str())
                });
            if all_in && conn_in && host_in {
                for &i in rows {
                    keep[i] = true;
                }
            }
        }
        let mut out = self.clone();
        out.packets = self
            .packets
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(r, _)| r.clone())
            .collect();
        out.network.retain(|r| in_window(r.time));
        // Connections of the selected hosts and names (their peers too, for the labels).
        let host_of = |conn: &str| conn.rsplit_once('#').map_or(conn, |(h, _)| h).to_string();
        out.connections
            .retain(|c| conn_ok(&c.conn) && (host_ok(&c.host) || hosts.is_empty()));
        if !hosts.is_empty() {
            // A host's connection keeps its peer's row: the peer's segments are labelled
            // relative to its ISN.
            let mine: Vec<(std::net::SocketAddrV4, std::net::SocketAddrV4)> = self
                .connections
                .iter()
                .filter(|c| hosts.contains(c.host.as_str()))
                .map(|c| (c.remote, c.local))
                .collect();
            out.connections = self
                .connections
                .iter()
                .filter(|c| conn_ok(&c.conn))
                .filter(|c| hosts.contains(c.host.as_str()) || mine.contains(&(c.local, c.remote)))
                .cloned()
                .collect();
        }
        if !hosts.is_empty() || !conns.is_empty() {
            // Addresses are named by the hosts of the connections kept.
            out.owners.clear();
            for c in &out.connections {
                out.owners
                    .entry(*c.local.ip())
                    .or_insert_with(|| c.host.clone());
            }
        }
        out.sockets = self
            .sockets
            .iter()
            .filter(|s| conn_ok(&s.conn) && host_ok(&host_of(&s.conn)))
            .filter_map(|s| {
                // The state held when the window opens, then the changes inside it.
                let mut s = s.clone();
                let before = s.changes.iter().rposition(|c| c.0 < from);
                let mut changes: Vec<(u64, String)> = Vec::new();
                if let Some(b) = before {
                    let state = &s.changes[b].1;
                    if state != "CLOSED" {
                        changes.push((from, state.clone()));
                    }
                }
                changes.extend(s.changes.iter().filter(|c| in_window(c.0)).cloned());
                if let Some(first_after) = s.changes.iter().find(|c| c.0 > to)
                    && changes.last().is_some_and(|l| l.1 != "CLOSED")
                {
                    // Held past the window: cut at its end.
                    changes.push((to, first_after.1.clone()));
                    changes.last_mut().expect("pushed").1 = "CLOSED".into();
                }
                s.changes = changes;
                (!s.changes.is_empty()).then_some(s)
            })
            .collect();
        out.socket_count = out.sockets.len();
        out.narrow_counts(&host_ok, from, to);
        Ok(out)
    }
}

/// A step line (each count holds until the next point) cut to `from..=to`: the count held at
/// `from`, then the points inside.
pub(super) fn clip_steps(line: &[(u64, u64)], from: u64, to: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let start = line.partition_point(|p| p.0 < from);
    if start > 0 && line.get(start).is_none_or(|p| p.0 > from) {
        out.push((from, line[start - 1].1));
    }
    out.extend(line[start..].iter().take_while(|p| p.0 <= to).copied());
    out
}
