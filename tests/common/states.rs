//! Per-state fixtures (smoltcp's `socket_time_wait()` style): each function drives the real
//! stacks of a [`Net`] until one connection sits in the state it names, freezing segments in
//! flight with faults where it must, and asserts on arrival that the state is the one named.
//! The client is 10.0.0.1, the server 10.0.0.2:80; one-way delay [`D`]. A frozen state lasts
//! until the lost segment's retransmission (at least `rto_min` away), far beyond the few
//! milliseconds a test needs.

use timewait::net::Fault;
use timewait::tcp::{
    ConnId, Flags, FourTuple, Segment, SeqNum, Socket, SocketHandle, State, TcpConfig,
};

use super::pair::*;

/// One connection frozen in a state, seen from `host`.
pub struct Fixture {
    pub net: Net,
    /// The host whose connection is in the named state.
    pub host: usize,
    /// Its 4-tuple from that host's side.
    pub tuple: FourTuple,
    /// Its incarnation.
    pub conn: ConnId,
    /// Its application's handle, if one was handed out.
    pub h: Option<SocketHandle>,
    /// The other host's handle for the same connection, if it has one.
    pub peer: Option<SocketHandle>,
}

impl Net {
    /// The live socket of `tuple` on `host`.
    pub fn find(&self, host: usize, tuple: &FourTuple) -> Option<&Socket> {
        self.stacks[host].sockets().find(|s| s.tuple == *tuple)
    }

    /// The state of `tuple` on `host`: a TIME_WAIT record, a live socket's state, or CLOSED.
    pub fn state_of(&self, host: usize, tuple: &FourTuple) -> State {
        if self.stacks[host].time_wait().get(tuple).is_some() {
            return State::TimeWait;
        }
        self.find(host, tuple).map_or(State::Closed, |s| s.state)
    }
}

impl Fixture {
    /// Checks that the connection is in `want`, and (if CLOSED) that it got there through the
    /// log rather than never existing.
    fn arrived(self, want: State) -> Fixture {
        assert_eq!(self.state(), want, "the fixture reaches {want:?}");
        if want == State::Closed {
            let last = self.net.transitions(self.host, self.conn).pop();
            assert_eq!(last.map(|tr| tr.2), Some(State::Closed), "logged as CLOSED");
        }
        self
    }

    fn take(net: Net, host: usize, h: SocketHandle, peer: Option<SocketHandle>) -> Fixture {
        let s = net.sock(host, h);
        let (tuple, conn) = (s.tuple, s.conn);
        Fixture {
            net,
            host,
            tuple,
            conn,
            h: Some(h),
            peer,
        }
    }

    pub fn state(&self) -> State {
        self.net.state_of(self.host, &self.tuple)
    }

    /// The live socket.
    pub fn sock(&self) -> &Socket {
        self.net
            .find(self.host, &self.tuple)
            .expect("a live socket")
    }

    /// A segment from the peer of this connection (ports swapped, window open).
    pub fn peer_seg(&self, seq: SeqNum, ack: SeqNum, flags: Flags, payload: Vec<u8>) -> Segment {
        Segment {
            src_port: self.tuple.remote.port(),
            dst_port: self.tuple.local.port(),
            seq,
            ack,
            flags,
            window: 65_535,
            payload: payload.into(),
            ..Segment::default()
        }
    }

    /// Hands `seg` to this host 1 ms from now; what it sent at that instant.
    pub fn poke(&mut self, seg: Segment) -> Vec<Segment> {
        self.net.poke(self.host, seg)
    }
}

/// Only segments with exactly `flags` and no payload, from `from`, `count` of them.
fn bare(from: usize, flags: Flags, count: u32) -> Fault {
    Fault {
        flags: Some(flags.bits()),
        len: Some(0),
        count,
        ..drop_from(from)
    }
}

/// Connected, then the client closes and the server acknowledges its FIN: (net, client,
/// server) with the client in FIN_WAIT_2 (after `shutdown`, so it may still read) and the
/// server in CLOSE_WAIT.
fn half_closed(cfg: &TcpConfig) -> (Net, SocketHandle, SocketHandle) {
    let mut net = Net::pair(cfg);
    let (ch, sh) = net.open(None);
    net.shutdown(C, ch);
    net.run_for(D * 2 + super::fin_ack_delay(cfg));
    (net, ch, sh)
}

/// The client shuts down, the server acknowledges, then both close: the client (the active
/// closer) ends in TIME_WAIT, the server CLOSED once the client's last ACK arrives.
fn close_in_turn(net: &mut Net, ch: SocketHandle, sh: SocketHandle) {
    net.shutdown(C, ch);
    net.run_for(D * 2);
    net.close(C, ch);
    net.close(S, sh);
    net.run_for(D * 2);
}

/// CLOSED after a completed close: the client, the active closer, once its TIME_WAIT has run
/// out (its ephemeral port has no listener, so nothing but CLOSED answers for it).
pub fn socket_closed(cfg: &TcpConfig) -> Fixture {
    let mut net = Net::pair(cfg);
    let (ch, sh) = net.open(None);
    let mut fx = Fixture::take(net, C, ch, None);
    close_in_turn(&mut fx.net, ch, sh);
    fx.net.run_for(cfg.time_wait);
    let fx = fx.arrived(State::Closed);
    let (_, why) = fx.net.time_wait_end(C, fx.conn).expect("TIME_WAIT ended");
    assert_eq!(why, "2MSL expired");
    fx
}

/// CLOSED after a reset: the client, whose server aborted.
pub fn socket_closed_by_reset(cfg: &TcpConfig) -> Fixture {
    let mut net = Net::pair(cfg);
    let (ch, sh) = net.open(None);
    let mut fx = Fixture::take(net, C, ch, None);
    fx.net.call(S, |s, now, out| s.abort(now, sh, out));
    fx.net.run_for(D * 2);
    let fx = fx.arrived(State::Closed);
    let last = fx.net.transitions(C, fx.conn).pop().expect("a transition");
    assert_eq!(last.1, State::Established, "straight from ESTABLISHED");
    fx
}

/// LISTEN: the server listens on port 80 (backlog 128); (net, listener id).
pub fn socket_listen(cfg: &TcpConfig) -> (Net, u32) {
    let mut net = Net::pair(cfg);
    let lid = net.listen(128);
    let rows = net.stacks[S].netstat(net.now);
    assert!(
        rows.iter()
            .any(|r| r.local == server_addr() && r.state == State::Listen),
        "the fixture reaches LISTEN: {rows:?}"
    );
    (net, lid)
}

/// SYN_SENT: the client connected; its SYN is lost (the retransmission is due after
/// `rto_initial`).
pub fn socket_syn_sent(cfg: &TcpConfig) -> Fixture {
    let mut net = Net::pair(cfg);
    net.listen(128);
    net.fault(bare(C, Flags::SYN, 1));
    let ch = net.connect(None).expect("connect");
    net.run_for(D * 2);
    Fixture::take(net, C, ch, None).arrived(State::SynSent)
}

/// SYN_RCVD: the server's child of a passive open; the handshake's final ACK is lost, so the
/// client is ESTABLISHED and the server waits (its SYN-ACK is retransmitted after
/// `rto_initial`). The child has no handle: it is not accepted yet.
pub fn socket_syn_received(cfg: &TcpConfig) -> Fixture {
    let mut net = Net::pair(cfg);
    net.listen(128);
    net.fault(bare(C, Flags::ACK, 1));
    let ch = net.connect(None).expect("connect");
    net.run_for(D * 3);
    let client = net.sock(C, ch);
    assert_eq!(client.state, State::Established);
    let tuple = FourTuple {
        local: client.tuple.remote,
        remote: client.tuple.local,
    };
    let conn = net.find(S, &tuple).expect("the server's child").conn;
    Fixture {
        net,
        host: S,
        tuple,
        conn,
        h: None,
        peer: Some(ch),
    }
    .arrived(State::SynReceived)
}

/// ESTABLISHED: the client of a completed handshake.
pub fn socket_established(cfg: &TcpConfig) -> Fixture {
    let mut net = Net::pair(cfg);
    let (ch, sh) = net.open(None);
    Fixture::take(net, C, ch, Some(sh)).arrived(State::Established)
}

/// FIN_WAIT_1: the client closed; its FIN is lost (retransmitted after its RTO).
pub fn socket_fin_wait_1(cfg: &TcpConfig) -> Fixture {
    let mut net = Net::pair(cfg);
    let (ch, sh) = net.open(None);
    net.fault(bare(C, Flags::FIN | Flags::ACK, 1));
    net.close(C, ch);
    net.run_for(D * 2);
    Fixture::take(net, C, ch, Some(sh)).arrived(State::FinWait1)
}

/// FIN_WAIT_2: the client shut down its sending side and the server acknowledged the FIN.
pub fn socket_fin_wait_2(cfg: &TcpConfig) -> Fixture {
    let (net, ch, sh) = half_closed(cfg);
    Fixture::take(net, C, ch, Some(sh)).arrived(State::FinWait2)
}

/// CLOSE_WAIT: the server, after the client's FIN.
pub fn socket_close_wait(cfg: &TcpConfig) -> Fixture {
    let (net, ch, sh) = half_closed(cfg);
    Fixture::take(net, S, sh, Some(ch)).arrived(State::CloseWait)
}

/// CLOSING: both close at once, the FINs cross; the server's ACK of the client's FIN is lost,
/// so the client stays in CLOSING (the server goes on to TIME_WAIT).
pub fn socket_closing(cfg: &TcpConfig) -> Fixture {
    let mut net = Net::pair(cfg);
    let (ch, sh) = net.open(None);
    net.fault(bare(S, Flags::ACK, 1));
    net.close(C, ch);
    net.close(S, sh);
    net.run_for(D * 2);
    Fixture::take(net, C, ch, Some(sh)).arrived(State::Closing)
}

/// LAST_ACK: the server closed from CLOSE_WAIT; the client's last ACK is lost (the server
/// retransmits its FIN after its RTO).
pub fn socket_last_ack(cfg: &TcpConfig) -> Fixture {
    let (mut net, ch, sh) = half_closed(cfg);
    net.close(C, ch);
    net.fault(bare(C, Flags::ACK, 1));
    net.close(S, sh);
    net.run_for(D * 2);
    Fixture::take(net, S, sh, None).arrived(State::LastAck)
}

/// TIME_WAIT: the client, the active closer, after the server's FIN (the server is CLOSED).
pub fn socket_time_wait(cfg: &TcpConfig) -> Fixture {
    let mut net = Net::pair(cfg);
    let (ch, sh) = net.open(None);
    let mut fx = Fixture::take(net, C, ch, Some(sh));
    close_in_turn(&mut fx.net, ch, sh);
    fx.arrived(State::TimeWait)
}
