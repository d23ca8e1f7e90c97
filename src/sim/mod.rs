//! The engine: simulated time, the event queue and seeded randomness. It knows nothing of
//! packets or TCP.

mod queue;
mod rng;
mod time;

pub use queue::{Alarm, EventQueue, Ticket, TimerId};
pub use rng::{SimRng, component_key, component_rng};
pub(crate) use time::parse_scaled_decimal;
pub use time::{Duration, ParseDurationError, SimTime};
