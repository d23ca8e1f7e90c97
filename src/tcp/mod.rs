//! TCP per RFC 9293: sequence arithmetic, the connection state machine, the host stack with
//! listeners, ephemeral ports and TIME_WAIT. Knows nothing of links or files: every call
//! returns what to send, what to tell applications, and what to log, in an [`Output`].

mod ack;
mod config;
mod congestion;
mod isn;
mod payload;
mod reassembly;
mod rto;
mod rtt;
mod sack;
mod segment;
mod seq;
mod socket;
mod stack;
mod state;
mod time_wait;
mod timers;
mod wakeup;

pub use config::{
    Bounds, IsnPolicy, MAX_BUFFER_BYTES, SETTINGS, Setting, SynInTimeWait, TcpConfig, TimeWaitLen,
    TimerPreset,
};
pub(crate) use config::{setting_range, tcp_settings};
pub use congestion::{Congestion, CongestionControl, Phase, Reaction};
pub use isn::IsnGenerator;
pub use payload::{Payload, PayloadQueue};
pub use rto::RtoEstimator;
pub use segment::{ConnId, Flags, MAX_SACK_BLOCKS, SackBlocks, Segment, Tag, Timestamps};
pub use seq::SeqNum;
pub use socket::Socket;
pub use stack::{ConnectError, Listener, SocketHandle, Stack, TW_SKIPPED_FULL, TW_SKIPPED_ZERO};
pub use state::{
    ConnError, ConnRecord, Corruption, FourTuple, ListenDropKind, NetstatRow, Outgoing, Output,
    Probe, SocketEvent, SocketTimer, State, TcpLog, TimerKind, Transition,
};
pub use time_wait::{ReopenIss, TimeWait, TimeWaitTable, TwVerdict};
pub use wakeup::{Wakeup, Wakeups};
