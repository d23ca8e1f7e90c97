//! `[tcp]` and a host's `tcp = {...}`: the TOML schema, the merge into a [`TcpConfig`] with its
//! range checks, and the settings table, all generated from the one declaration of each setting
//! in [`crate::tcp`] (`tcp_settings!`).

use std::fmt::Write as _;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::error::ScenarioError;
use super::values::{Dur, Isn, PositiveDur};
use crate::sim::Duration;
use crate::tcp::{
    self, Congestion, IsnPolicy, MAX_BUFFER_BYTES, SETTINGS, SynInTimeWait, TcpConfig, TimeWaitLen,
    TimerPreset, setting_range, tcp_settings,
};

/// How a setting's value is written in TOML: `Toml` is read (with its own located errors),
/// then turned into the value.
pub(super) trait TomlSetting: Sized {
    /// What serde reads.
    type Toml: for<'de> Deserialize<'de> + Clone + std::fmt::Debug;
    /// The value, or why the TOML value is not one.
    fn from_toml(t: Self::Toml) -> Result<Self, String>;
    /// The value as an integer, for a declared range.
    fn count(&self) -> Option<u64> {
        None
    }
}

/// Settings TOML writes as themselves.
macro_rules! as_written {
    ($($t:ty),*) => {$(
        impl TomlSetting for $t {
            type Toml = $t;
            fn from_toml(t: $t) -> Result<$t, String> {
                Ok(t)
            }
        }
    )*};
}
as_written!(bool, TimeWaitLen, Dur);

impl TomlSetting for u32 {
    type Toml = u32;
    fn from_toml(t: u32) -> Result<u32, String> {
        Ok(t)
    }
    fn count(&self) -> Option<u64> {
        Some(u64::from(*self))
    }
}

impl TomlSetting for u16 {
    type Toml = u16;
    fn from_toml(t: u16) -> Result<u16, String> {
        Ok(t)
    }
    fn count(&self) -> Option<u64> {
        Some(u64::from(*self))
    }
}

/// A duration setting is above zero unless it is read as a `Dur` (`invalid_ratelimit`).
impl TomlSetting for Duration {
    type Toml = PositiveDur;
    fn from_toml(t: PositiveDur) -> Result<Duration, String> {
        Ok(t.0)
    }
}

impl TomlSetting for IsnPolicy {
    type Toml = Isn;
    fn from_toml(t: Isn) -> Result<IsnPolicy, String> {
        Ok(t.0)
    }
}

/// A port range, `[first, last]`.
impl TomlSetting for (u16, u16) {
    type Toml = [u16; 2];
    fn from_toml([lo, hi]: [u16; 2]) -> Result<(u16, u16), String> {
        if lo == 0 || lo > hi {
            return Err(format!(
                "[{lo}, {hi}] is not a range of ports: it needs 1 <= first <= last"
            ));
        }
        Ok((lo, hi))
    }
}

/// `syn_in_time_wait = ...`
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(super) enum SynInTimeWaitName {
    Rfc9293,
    Rfc1122,
    Linux,
    Rfc6191,
}

impl TomlSetting for SynInTimeWait {
    type Toml = SynInTimeWaitName;
    fn from_toml(t: SynInTimeWaitName) -> Result<SynInTimeWait, String> {
        Ok(match t {
            SynInTimeWaitName::Rfc9293 => SynInTimeWait::Rfc9293,
            SynInTimeWaitName::Rfc1122 => SynInTimeWait::Rfc1122,
            SynInTimeWaitName::Linux => SynInTimeWait::Linux,
            SynInTimeWaitName::Rfc6191 => SynInTimeWait::Rfc6191,
        })
    }
}

/// `timers = "linux" | "rfc6298"`
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(super) enum TimerPresetName {
    Linux,
    Rfc6298,
}

impl TomlSetting for TimerPreset {
    type Toml = TimerPresetName;
    fn from_toml(t: TimerPresetName) -> Result<TimerPreset, String> {
        Ok(match t {
            TimerPresetName::Linux => TimerPreset::Linux,
            TimerPresetName::Rfc6298 => TimerPreset::Rfc6298,
        })
    }
}

/// `congestion = "cubic" | "newreno" | "reno" | "none"`
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(super) enum CongestionName {
    Cubic,
    NewReno,
    Reno,
    None,
}

impl TomlSetting for Congestion {
    type Toml = CongestionName;
    fn from_toml(t: CongestionName) -> Result<Congestion, String> {
        Ok(match t {
            CongestionName::Cubic => Congestion::Cubic,
            CongestionName::NewReno => Congestion::NewReno,
            CongestionName::Reno => Congestion::Reno,
            CongestionName::None => Congestion::None,
        })
    }
}

/// The TOML type of a setting: its own, or the one its `read` clause names.
macro_rules! toml_type {
    ($ty:ty) => {
        <$ty as TomlSetting>::Toml
    };
    ($ty:ty, $read:ty) => {
        <$read as TomlSetting>::Toml
    };
}

/// A setting's value from its TOML value, through its `read` clause if it has one.
macro_rules! read {
    ($toml:expr, $ty:ty) => {
        <$ty as TomlSetting>::from_toml($toml)
    };
    ($toml:expr, $ty:ty, $read:ty => |$v:ident| $conv:expr) => {
        <$read as TomlSetting>::from_toml($toml).map(|$v| $conv)
    };
}

/// Turns the declarations into [`TcpSection`] and [`tcp_config`].
macro_rules! section_and_merge {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident: $ty:ty = $default:expr,
        $(read $read:ty => |$v:ident| $conv:expr,)?
        written $written:literal, default $shown:literal,
        $(unit $unit:literal,)?
        $(range $lo:literal ..= $hi:expr, $why:literal,)?
        cite $cite:literal;
    )*) => {
        /// `[tcp]` and `[[host]] tcp = {...}`: every field optional; a host's values override
        /// `[tcp]`.
        #[derive(Deserialize, Debug, Default, Clone)]
        #[serde(deny_unknown_fields)]
        pub struct TcpSection {
            $(
                $(#[doc = $doc])*
                pub(super) $name: Option<Spanned<toml_type!($ty $(, $read)?)>>,
            )*
        }

        /// A host's TCP settings: its own `tcp = {...}` over `[tcp]` over the defaults. Errors
        /// name the table the value came from (`{path}.tcp.mss` or `tcp.mss`).
        pub(super) fn tcp_config(
            file: &str,
            source: &str,
            base: &TcpSection,
            host: &TcpSection,
            path: &str,
        ) -> Result<TcpConfig, ScenarioError> {
            let error = |span: Range<usize>, name: &str, own: bool, message: String| {
                ScenarioError::at(file, source, Some(span), field(path, name, own), message)
            };
            // In declaration order, so a default may use the settings above it.
            $(
                let $name: $ty = match (&host.$name, &base.$name) {
                    (None, None) => $default,
                    (Some(v), _) | (None, Some(v)) => {
                        let own = host.$name.is_some();
                        let at = |m| error(v.span(), stringify!($name), own, m);
                        let value = read!(v.get_ref().clone(), $ty $(, $read => |$v| $conv)?)
                            .map_err(at)?;
                        check_range(
                            value.count(),
                            setting_range!($($lo, $hi, $why)?),
                            concat!($($unit)?),
                        )
                        .map_err(at)?;
                        value
                    }
                };
            )*
            let c = TcpConfig { $($name),* };
            if c.rto_min > c.rto_max {
                // Blame the bound the user wrote (the other may come from the `timers` preset),
                // and a host's own value before the shared one.
                let (span, name, own) = match (&host.rto_min, &host.rto_max) {
                    (Some(v), _) => (v.span(), "rto_min", true),
                    (None, Some(v)) => (v.span(), "rto_max", true),
                    (None, None) => match (&base.rto_min, &base.rto_max) {
                        (Some(v), _) => (v.span(), "rto_min", false),
                        (None, Some(v)) => (v.span(), "rto_max", false),
                        (None, None) => (0..0, "timers", host.timers.is_some()),
                    },
                };
                return Err(error(
                    span,
                    name,
                    own,
                    format!("rto_min {} is above rto_max {}", c.rto_min, c.rto_max),
                ));
            }
            // Linux counts RTTs in us: a jiffy must be a whole number of them.
            if 1_000_000 % c.hz != 0
                && let Some((v, own)) = host.hz.as_ref().map(|v| (v, true)).or(base.hz.as_ref().map(|v| (v, false)))
            {
                return Err(error(
                    v.span(),
                    "hz",
                    own,
                    format!("{} does not divide 1000000 (use 100, 250 or 1000)", c.hz),
                ));
            }
            Ok(c)
        }
    };
}

tcp_settings!(section_and_merge);

/// The field an error names: a host's own `tcp` table or the shared `[tcp]`.
fn field(path: &str, name: &str, own: bool) -> String {
    if own {
        format!("{path}.tcp.{name}")
    } else {
        format!("tcp.{name}")
    }
}

/// Refuses an integer outside its setting's declared range.
fn check_range(value: Option<u64>, range: Option<tcp::Bounds>, unit: &str) -> Result<(), String> {
    let (Some(v), Some(r)) = (value, range) else {
        return Ok(());
    };
    if v < r.min {
        return Err(format!("must be at least {}", r.min));
    }
    if v > r.max {
        let mib = if unit == "bytes" && r.max % (1 << 20) == 0 {
            format!(" ({} MiB)", r.max >> 20)
        } else {
            String::new()
        };
        return Err(format!(
            "{v} {unit} is too large: {}, so it may be at most {} {unit}{mib}",
            r.why, r.max
        ));
    }
    Ok(())
}

/// Marks around the README's `[tcp]` settings table, which [`settings_markdown`] prints.
pub const README_MARKS: (&str, &str) = ("<!-- settings:tcp:begin -->", "<!-- settings:tcp:end -->");

/// The `[tcp]` settings as the README's Markdown table (`timewait settings --markdown`).
pub fn settings_markdown() -> String {
    let mut out =
        String::from("| field | type | default | source | meaning |\n|---|---|---|---|---|\n");
    for s in SETTINGS {
        let unit = match s.unit {
            "" => String::new(),
            u => format!(", in {u}"),
        };
        let _ = writeln!(
            out,
            "| `{}` | {}{unit} | `{}` | {} | {} |",
            s.name, s.written, s.default, s.cite, s.doc
        );
    }
    out
}

/// The `[tcp]` settings as a TOML table of their defaults, each with its source
/// (`timewait settings`): a starting point to copy into a scenario.
pub fn settings_toml() -> String {
    let width = SETTINGS
        .iter()
        .map(|s| s.name.len() + s.default.len() + 3)
        .max()
        .unwrap_or(0);
    let mut out = String::from("[tcp]\n");
    for s in SETTINGS {
        let line = format!("{} = {}", s.name, s.default);
        let _ = writeln!(out, "{line:width$}  # {}", s.cite);
    }
    out
}
