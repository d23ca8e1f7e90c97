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
