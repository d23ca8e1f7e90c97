//! TCP: the segment format, sequence arithmetic and the connection model. Knows nothing of links
//! or files.

mod segment;
mod seq;

pub use segment::{ConnId, Flags, Segment, Tag, Timestamps};
pub use seq::SeqNum;
