//! Field values written as humans write them ("30s", "100Mbps", "10.0.1.0/24"), checked while
//! parsing so errors carry the value's own line and column.

use std::fmt;
use std::marker::PhantomData;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::net::{Bandwidth, Prefix};
use crate::sim::Duration;
use crate::tcp::TimeWaitLen;

/// Deserializes `T` from a string through `FromStr`, reporting its message as a serde error.
struct FromStrVisitor<T>(&'static str, PhantomData<T>);

impl<T> Visitor<'_> for FromStrVisitor<T>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(|e| E::custom(e))
    }
}

macro_rules! string_value {
    ($(#[$doc:meta])* $name:ident($inner:ty), $expecting:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $name(pub $inner);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_str(FromStrVisitor::<$inner>($expecting, PhantomData)).map($name)
            }
        }
    };
}

string_value!(
    /// A duration such as "30s" or "1.5ms".
    Dur(Duration),
    "a duration string such as \"30s\" or \"1.5ms\""
);
string_value!(
    /// A bandwidth such as "100Mbps".
    Rate(Bandwidth),
    "a bandwidth string such as \"100Mbps\""
);
string_value!(
    /// An IPv4 address such as "10.0.0.1".
    Addr(Ipv4Addr),
    "an IPv4 address string such as \"10.0.0.1\""
);
string_value!(
    /// A prefix such as "10.0.1.0/24".
    Net(Prefix),
    "a prefix string such as \"10.0.1.0/24\""
);

/// A duration that must be above zero.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PositiveDur(pub Duration);

impl<'de> Deserialize<'de> for PositiveDur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Dur(v) = Dur::deserialize(d)?;
        if v.is_zero() {
            return Err(de::Error::custom("must be longer than zero"));
        }
        Ok(PositiveDur(v))
    }
}

/// `[output] socket_counts`: `true` or `false`; a duration (the sampling interval of older
/// timewait) still reads as on, `"0s"` as off, since rows now follow changes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CountsSetting(pub bool);

impl CountsSetting {
    /// Whether `socket_counts.csv` is written.
    pub fn on(self) -> bool {
        self.0
    }
}

impl<'de> Deserialize<'de> for CountsSetting {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = CountsSetting;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "true or false (a duration such as \"1s\" also means true, \"0s\" false)",
                )
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<CountsSetting, E> {
                Ok(CountsSetting(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CountsSetting, E> {
                let d: Duration = v.parse().map_err(|e| {
                    E::custom(format!(
                        "{e}; socket_counts is true or false (rows follow each change, so an interval is no longer needed)"
                    ))
                })?;
                Ok(CountsSetting(!d.is_zero()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A probability in [0, 1].
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Probability(pub f64);

impl<'de> Deserialize<'de> for Probability {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Probability;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a probability between 0 and 1, such as 0.01")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Probability, E> {
                if (0.0..=1.0).contains(&v) {
                    Ok(Probability(v))
                } else {
                    Err(E::custom(format!(
                        "{v} is not a probability between 0 and 1"
                    )))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Probability, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Probability, E> {
                self.visit_f64(v as f64)
            }
        }
        d.deserialize_any(V)
    }
}

/// A TTL between 1 and 255.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ttl(pub u8);

impl<'de> Deserialize<'de> for Ttl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = i64::deserialize(d)?;
        if (1..=255).contains(&v) {
            Ok(Ttl(v as u8))
        } else {
            Err(de::Error::custom(format!("TTL {v} is outside 1 to 255")))
        }
    }
}

/// A socket address such as "10.0.0.2:80".
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Endpoint(pub std::net::SocketAddrV4);

impl<'de> Deserialize<'de> for Endpoint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(FromStrVisitor::<std::net::SocketAddrV4>(
            "an address and port such as \"10.0.0.2:80\"",
            PhantomData,
        ))
        .map(Endpoint)
    }
}

/// A byte count: an integer, or a string with a unit ("64KB", "1.5MB", "2MiB").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bytes(pub u64);

impl FromStr for Bytes {
    type Err = String;
    fn from_str(s: &str) -> Result<Bytes, String> {
        let t = s.trim();
        for (suffix, unit) in [
            ("GiB", 1u64 << 30),
            ("MiB", 1 << 20),
            ("KiB", 1 << 10),
            ("GB", 1_000_000_000),
            ("MB", 1_000_000),
            ("KB", 1_000),
            ("kB", 1_000),
            ("B", 1),
        ] {
            if let Some(n) = t.strip_suffix(suffix) {
                return crate::sim::parse_scaled_decimal(n.trim_end(), unit, suffix)
                    .map(Bytes)
                    .map_err(|e| format!("invalid size \"{s}\": {e}"));
            }
        }
        Err(format!(
            "invalid size \"{s}\": expected a number of bytes or a unit (B, KB, MB, GB, KiB, MiB, GiB), e.g. \"64KB\""
        ))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a byte count such as 1000 or \"64KB\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Bytes, E> {
                Ok(Bytes(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Bytes, E> {
                u64::try_from(v)
                    .map(Bytes)
                    .map_err(|_| E::custom(format!("{v} is negative")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Bytes, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl FromStr for TimeWaitLen {
    type Err = String;
    fn from_str(s: &str) -> Result<TimeWaitLen, String> {
        let t = s.trim();
        if let Some(n) = t.strip_suffix("msl") {
            // "msl" alone is one MSL, as "s" would be read "1s" by a person.
            let n = match n.trim_end() {
                "" => "1",
                n => n,
            };
            return crate::sim::parse_scaled_decimal(n, 1000, "msl")
                .map(TimeWaitLen::MslMillis)
                .map_err(|e| format!("invalid time_wait \"{s}\": {e}"));
        }
        t.parse::<crate::sim::Duration>()
            .map(TimeWaitLen::Fixed)
            .map_err(|_| {
                format!("invalid time_wait \"{s}\": expected a duration (\"60s\", \"0s\") or a multiple of msl (\"2msl\")")
            })
    }
}

impl<'de> Deserialize<'de> for TimeWaitLen {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(FromStrVisitor::<TimeWaitLen>(
            "a duration or a multiple of msl, such as \"2msl\"",
            PhantomData,
        ))
    }
}

/// `isn = "rfc793-clock" | "rfc6528" | "linux" | "random"` or `isn = { fixed = 1000 }`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Isn(pub crate::tcp::IsnPolicy);

/// Names `isn` accepts as a string.
pub const ISN_NAMES: &[&str] = &["rfc793-clock", "rfc6528", "linux", "random"];

impl<'de> Deserialize<'de> for Isn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use crate::tcp::IsnPolicy;
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Isn;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "one of \"rfc793-clock\", \"rfc6528\", \"linux\", \"random\", or { fixed = N }",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Isn, E> {
                Ok(Isn(match v {
                    "rfc793-clock" => IsnPolicy::Rfc793Clock,
                    "rfc6528" => IsnPolicy::Rfc6528,
                    "linux" => IsnPolicy::Linux,
                    "random" => IsnPolicy::Random,
                    other => return Err(E::unknown_variant(other, ISN_NAMES)),
                }))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Isn, A::Error> {
                let mut fixed = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key != "fixed" {
                        return Err(de::Error::unknown_field(&key, &["fixed"]));
                    }
                    fixed = Some(map.next_value::<u32>()?);
                }
                fixed
                    .map(|n| Isn(IsnPolicy::Fixed(n)))
                    .ok_or_else(|| de::Error::missing_field("fixed"))
            }
        }
        d.deserialize_any(V)
    }
}

/// `accept_delay = "0s" | "30s" | "never"`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AcceptAfter(pub crate::world::apps::AcceptDelay);

impl FromStr for AcceptAfter {
    type Err = String;
    fn from_str(s: &str) -> Result<AcceptAfter, String> {
        use crate::world::apps::AcceptDelay;
        if s.trim() == "never" {
            return Ok(AcceptAfter(AcceptDelay::Never));
        }
        s.parse::<crate::sim::Duration>()
            .map(|d| AcceptAfter(AcceptDelay::After(d)))
            .map_err(|_| format!("invalid accept_delay \"{s}\": expected a duration or \"never\""))
    }
}

impl<'de> Deserialize<'de> for AcceptAfter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(FromStrVisitor::<AcceptAfter>(
            "a duration or \"never\"",
            PhantomData,
        ))
    }
}

/// `url = "http://10.0.1.2:5000/myget"`: where an HTTP client connects and what it asks for.
#[derive(Clone, Debug, PartialEq)]
pub struct Url {
    /// Server address and port (80 if not written).
    pub server: std::net::SocketAddrV4,
    /// Path, from the first `/`.
    pub path: String,
}

impl FromStr for Url {
    type Err = String;
    fn from_str(s: &str) -> Result<Url, String> {
        let bad = || {
            format!("invalid url \"{s}\": expected http://ADDRESS[:PORT]/PATH with an IPv4 address")
        };
        let rest = s.trim().strip_prefix("http://").ok_or_else(bad)?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let server = match authority.parse::<std::net::SocketAddrV4>() {
            Ok(a) => a,
            Err(_) => std::net::SocketAddrV4::new(authority.parse().map_err(|_| bad())?, 80),
        };
        Ok(Url {
            server,
            path: path.to_string(),
        })
    }
}

impl<'de> Deserialize<'de> for Url {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(FromStrVisitor::<Url>(
            "a url such as \"http://10.0.1.2:5000/myget\"",
            PhantomData,
        ))
    }
}
