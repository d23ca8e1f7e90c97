//! Simulated time: integer nanoseconds, never floats, so every run is exact and repeatable.

use std::fmt;
use std::ops::{Add, AddAssign, Mul, Sub};
use std::str::FromStr;

/// An instant of simulated time, in nanoseconds since the start of the run.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
pub struct SimTime(u64);

/// A span of simulated time, in nanoseconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
pub struct Duration(u64);

const NANOS_PER_SEC: u64 = 1_000_000_000;

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// Later than any event; used for "never".
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// The instant `nanos` nanoseconds after the start.
    pub const fn from_nanos(nanos: u64) -> SimTime {
        SimTime(nanos)
    }

    /// Nanoseconds since the start.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Time since the start, as a [`Duration`].
    pub const fn since_start(self) -> Duration {
        Duration(self.0)
    }

    /// Seconds since the start, for plotting and summaries only (never for simulation logic).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// `self - earlier`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> Duration {
        Duration(self.0.saturating_sub(earlier.0))
    }

    /// Rounded to the nearest multiple of `unit` (for human-facing text, never for logic).
    pub fn round_to(self, unit: Duration) -> SimTime {
        SimTime(self.since_start().round_to(unit).as_nanos())
    }

    /// Seconds with nine decimals ("3.200000000"): the fixed-width form used in CSV files.
    pub fn csv(self) -> String {
        format!("{}.{:09}", self.0 / NANOS_PER_SEC, self.0 % NANOS_PER_SEC)
    }
}

impl Add<Duration> for SimTime {
    type Output = SimTime;
    fn add(self, d: Duration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<Duration> for SimTime {
    fn add_assign(&mut self, d: Duration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Sub<SimTime> for SimTime {
    type Output = Duration;
    /// Elapsed time; saturates at zero rather than wrapping.
    fn sub(self, earlier: SimTime) -> Duration {
        self.saturating_since(earlier)
    }
}

impl fmt::Display for SimTime {
    /// Seconds with at least millisecond precision and no trailing noise: "1.500s", "3.2000015s".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0 / NANOS_PER_SEC;
        let frac = self.0 % NANOS_PER_SEC;
        let mut digits = format!("{frac:09}");
        while digits.len() > 3 && digits.ends_with('0') {
            digits.pop();
        }
        write!(f, "{secs}.{digits}s")
    }
}

impl Duration {
    /// No time at all.
    pub const ZERO: Duration = Duration(0);
    /// Longer than any run; used for "never".
    pub const MAX: Duration = Duration(u64::MAX);

    /// `n` nanoseconds.
    pub const fn from_nanos(n: u64) -> Duration {
        Duration(n)
    }
    /// `n` microseconds.
    pub const fn from_micros(n: u64) -> Duration {
        Duration(n * 1_000)
    }
    /// `n` milliseconds.
    pub const fn from_millis(n: u64) -> Duration {
        Duration(n * 1_000_000)
    }
    /// `n` seconds.
    pub const fn from_secs(n: u64) -> Duration {
        Duration(n * NANOS_PER_SEC)
    }
    /// Nanoseconds.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// Whole seconds, rounded down.
    pub const fn as_secs(self) -> u64 {
        self.0 / NANOS_PER_SEC
    }
    /// Whole milliseconds, rounded down.
    pub const fn as_millis(self) -> u64 {
        self.0 / 1_000_000
    }
    /// Seconds as a float, for plotting and summaries only.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
    /// True for the zero duration.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
    /// `self * k`, saturating at [`Duration::MAX`].
    pub const fn saturating_mul(self, k: u64) -> Duration {
        Duration(self.0.saturating_mul(k))
    }
    /// Rounded to the nearest multiple of `unit` (for human-facing text, never for logic).
    pub const fn round_to(self, unit: Duration) -> Duration {
        if unit.0 == 0 {
            return self;
        }
        Duration((self.0 + unit.0 / 2) / unit.0 * unit.0)
    }

    /// `self - other`, or zero.
    pub const fn saturating_sub(self, other: Duration) -> Duration {
        Duration(self.0.saturating_sub(other.0))
    }
}

impl Add for Duration {
    type Output = Duration;
    fn add(self, d: Duration) -> Duration {
        Duration(self.0.saturating_add(d.0))
    }
}

impl AddAssign for Duration {
    fn add_assign(&mut self, d: Duration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Mul<u64> for Duration {
    type Output = Duration;
    fn mul(self, k: u64) -> Duration {
        self.saturating_mul(k)
    }
}

/// Units accepted when parsing a duration, longest suffix first so "ms" is not read as "m" + "s".
const UNITS: &[(&str, u64)] = &[
    ("min", 60 * NANOS_PER_SEC),
    ("ms", 1_000_000),
    ("us", 1_000),
    ("µs", 1_000),
    ("ns", 1),
    ("h", 3600 * NANOS_PER_SEC),
    ("s", NANOS_PER_SEC),
];

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseDurationError(pub String);

impl fmt::Display for ParseDurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseDurationError {}

/// Parses a non-negative decimal ("1.5", "1e18", "2.5E-3") scaled by `unit` nanoseconds (or
/// bits, bytes: whatever `unit` counts), exactly (no floats). `suffix` names the unit in the
/// "too large" message, which gives the largest value a u64 count can hold.
pub(crate) fn parse_scaled_decimal(number: &str, unit: u64, suffix: &str) -> Result<u64, String> {
    let (mantissa, exponent) = match number.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (number, None),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_ok = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits_ok(e)
    });
    if (int_part.is_empty() && frac_part.is_empty())
        || !digits_ok(int_part)
        || !digits_ok(frac_part)
        || !exponent_ok
    {
        return Err(format!("`{number}` is not a non-negative number"));
    }
    let too_large = || {
        let (whole, rest) = (u64::MAX / unit, u64::MAX % unit);
        let max = if rest == 0 {
            whole.to_string()
        } else {
            let width = unit.ilog10() as usize;
            let frac = format!("{rest:0width$}");
            let frac = frac.trim_end_matches('0');
            // A unit that is not a power of ten (min, h, KiB) cannot be cut to decimals exactly.
            if 10u64.pow(width as u32) == unit {
                format!("{whole}.{frac}")
            } else {
                whole.to_string()
            }
        };
        format!("`{number}` is too large: the largest value is {max}{suffix}")
    };
    // The value is digits x 10^scale, with the digits' zeros on either side dropped.
    let all: String = format!("{int_part}{frac_part}");
    let significant = all.trim_start_matches('0');
    if significant.is_empty() {
        return Ok(0);
    }
    let trimmed = significant.trim_end_matches('0');
    let exp: i64 = match exponent {
        // Longer exponents are absurd either way: far too large, or far below one unit.
        Some(e) => e.parse::<i64>().unwrap_or(if e.starts_with('-') {
            i64::MIN / 2
        } else {
            i64::MAX / 2
        }),
        None => 0,
    };
    let scale = exp
        .saturating_sub(frac_part.len() as i64)
        .saturating_add((significant.len() - trimmed.len()) as i64);
    if trimmed.len() > 38 {
        return Err(if scale >= 0 {
            too_large()
        } else {
            format!("`{number}` has more than 38 significant digits")
        });
    }
    let digits: u128 = trimmed.parse().map_err(|_| too_large())?;
    let total = if scale >= 0 {
        u32::try_from(scale)
            .ok()
            .and_then(|s| 10u128.checked_pow(s))
            .and_then(|p| digits.checked_mul(p))
            .and_then(|d| d.checked_mul(unit as u128))
            .ok_or_else(too_large)?
    } else {
        let scaled = digits.checked_mul(unit as u128).ok_or_else(too_large)?;
        let divisor = u32::try_from(-scale)
            .ok()
            .and_then(|s| 10u128.checked_pow(s))
            .filter(|d| scaled % d == 0)
            .ok_or_else(|| format!("`{number}` is finer than the unit allows"))?;
        scaled / divisor
    };
    u64::try_from(total).map_err(|_| too_large())
}

impl FromStr for Duration {
    type Err = ParseDurationError;

    /// Parses "30s", "1.5ms", "2min", "250us", "1h", "0".
    fn from_str(s: &str) -> Result<Duration, ParseDurationError> {
        let t = s.trim();
        if t == "0" {
            return Ok(Duration::ZERO);
        }
        for (suffix, unit) in UNITS {
            if let Some(number) = t.strip_suffix(suffix) {
                return parse_scaled_decimal(number.trim_end(), *unit, suffix)
                    .map(Duration)
                    .map_err(|e| ParseDurationError(format!("invalid duration \"{s}\": {e}")));
            }
        }
        Err(ParseDurationError(format!(
            "invalid duration \"{s}\": expected a number and a unit (ns, us, ms, s, min, h), e.g. \"30s\" or \"1.5ms\""
        )))
    }
}

impl fmt::Display for Duration {
    /// The largest unit that keeps the value readable: "120us", "1.5ms", "30s".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        let (unit, name) = if n >= NANOS_PER_SEC {
            (NANOS_PER_SEC, "s")
        } else if n >= 1_000_000 {
            (1_000_000, "ms")
        } else if n >= 1_000 {
            (1_000, "us")
        } else {
            return write!(f, "{n}ns");
        };
        let whole = n / unit;
        let frac = n % unit;
        if frac == 0 {
            return write!(f, "{whole}{name}");
        }
        let width = unit.ilog10() as usize;
        let mut digits = format!("{frac:0width$}");
        while digits.ends_with('0') {
            digits.pop();
        }
        write!(f, "{whole}.{digits}{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_human_units_exactly() {
        assert_eq!("30s".parse::<Duration>().unwrap(), Duration::from_secs(30));
        assert_eq!(
            "1.5ms".parse::<Duration>().unwrap(),
            Duration::from_micros(1500)
        );
        assert_eq!(
            "2min".parse::<Duration>().unwrap(),
            Duration::from_secs(120)
        );
        assert_eq!(
            "120us".parse::<Duration>().unwrap(),
            Duration::from_micros(120)
        );
        assert_eq!("1h".parse::<Duration>().unwrap(), Duration::from_secs(3600));
        assert_eq!("0".parse::<Duration>().unwrap(), Duration::ZERO);
        assert_eq!(
            "0.000000001s".parse::<Duration>().unwrap(),
            Duration::from_nanos(1)
        );
    }

    #[test]
    fn rejects_missing_units_negatives_and_sub_nanosecond_precision() {
        assert!("30".parse::<Duration>().is_err());
        assert!("-1s".parse::<Duration>().is_err());
        assert!("1.5ns".parse::<Duration>().is_err());
        assert!("s".parse::<Duration>().is_err());
        assert!("99999999999999h".parse::<Duration>().is_err());
    }

    #[test]
    fn display_round_trips() {
        for s in ["120us", "1.5ms", "30s", "0.25s", "7ns"] {
            let d: Duration = s.parse().unwrap();
            assert_eq!(d.to_string().parse::<Duration>().unwrap(), d);
        }
        assert_eq!(Duration::from_micros(1500).to_string(), "1.5ms");
        assert_eq!(SimTime::from_nanos(1_500_000_000).to_string(), "1.500s");
        assert_eq!(SimTime::from_nanos(3_200_001_500).csv(), "3.200001500");
    }
}
