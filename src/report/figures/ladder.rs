//! The `ladder` figure: a packet sequence chart, one lane per node, time running down.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::model::{ConnRow, HopKind, Index, PacketRow};
use super::{LADDER_HOPS, LADDER_LEAD, LADDER_LOST, LADDER_PANELS, PAGE_ASPECT, Stack, secs};
use crate::report::plot::{Arrow, Ladder, Mark, Rule, Segment, Stub};

/// tcpdump-like text for a packet: "#4 P. 1:1001(1000) ack 1", sequence numbers relative to
/// the sending connection's ISN when it is known.
fn packet_label(row: &PacketRow, conn: Option<&ConnRow>) -> String {
    let id = row.packet;
    let Some(flags) = row.flags else {
        return match row.seq {
            Some(seq) => format!("#{id} datagram {seq} ({} B)", row.len),
            None => format!("#{id} ICMP time exceeded"),
        };
    };
    let seq = row.seq.unwrap_or(0) as u32;
    let rel_seq = conn.map_or(seq, |c| seq.wrapping_sub(c.iss));
    let mut s = format!("#{id} {flags}");
    if flags.syn() || flags.fin() || flags.rst() || row.len > 0 {
        s.push_str(&format!(
            " {rel_seq}:{}({})",
            rel_seq.wrapping_add(row.len),
            row.len
        ));
    }
    if let Some(ack) = row.ack {
        let rel = match conn.and_then(|c| c.irs) {
            Some(irs) => ack.wrapping_sub(irs),
            None => ack,
        };
        s.push_str(&format!(" ack {rel}"));
    }
    s
}

/// Hop budgets tried, largest first, until the ladder keeps a page's shape (see
/// [`Stack::layout`]); below the last, too little of the story would be left.
const BUDGETS: [usize; 4] = [LADDER_HOPS, 200, 150, 100];

/// Width in pixels a ladder is laid out for when its packets are chosen (the default style's).
const LAYOUT_WIDTH: u32 = 800;

/// A panel taller than this, when the ladder needs two columns, is split at the breaks in its
/// time axis, so that the columns come out even.
const SPLIT_PX: u32 = (PAGE_ASPECT * LAYOUT_WIDTH as f64 / 2.0) as u32;

/// The ladder that tells most of the story within a page's shape: the most hops that fit one
/// column as wide as asked; else one column made wider; else two columns, tall panels split.
pub(super) fn ladder(a: &Index<'_>, note: &str) -> Option<Stack<Ladder>> {
    let picks = Picks::new(a)?;
    let mut last = None;
    for pass in 0..3 {
        for budget in BUDGETS {
            let l = ladder_within(a, &picks, note, budget, pass == 2);
            let layout = l.layout(LAYOUT_WIDTH, 0);
            let fits = match pass {
                0 => layout.columns.len() == 1 && layout.width == LAYOUT_WIDTH,
                1 => layout.columns.len() == 1,
                _ => layout.width == LAYOUT_WIDTH,
            };
            if fits {
                return Some(l);
            }
            last = Some(l);
        }
    }
    last
}

/// What the ladder may draw, worked out once for every budget tried.
struct Picks {
    /// Packets with at least one hop, in id order.
    ids: Vec<u64>,
    /// The lost duplicates, always drawn whole.
    lost: Vec<u64>,
    /// The notable packets of each kind (see [`notable_packets`]).
    notable: [Vec<u64>; NOTABLE.len()],
}

impl Picks {
    fn new(a: &Index<'_>) -> Option<Picks> {
        let ids: Vec<u64> = a
            .packets
            .iter()
            .filter(|(_, rows)| rows.len() >= 2)
            .map(|(id, _)| *id)
            .collect();
        if ids.is_empty() {
            return None;
        }
        let lost: Vec<u64> = a
            .lost_ids()
            .into_iter()
            .filter(|id| a.packets.contains_key(id))
            .take(LADDER_LOST)
            .collect();
        let notable = notable_packets(a, &ids);
        Some(Picks { ids, lost, notable })
    }
}

/// Height of a panel with `labels` labels: room for each in the label column.
fn panel_height(labels: usize) -> u32 {
    (220 + 20 * labels as u32).max(300)
}

/// The ladder of at most `budget` hops; with `split`, a panel taller than [`SPLIT_PX`] with
/// breaks in its time axis becomes a panel per stretch between them.
fn ladder_within(
    a: &Index<'_>,
    picks: &Picks,
    note: &str,
    budget: usize,
    split: bool,
) -> Stack<Ladder> {
    let d = a.d;
    let Picks { ids, lost, notable } = picks;
    let hops = |id: &u64| a.packets[id].len() - 1;
    // The lost duplicates drawn cost nothing: they are always drawn, whole.
    let cost = |id: &u64| if lost.contains(id) { 0 } else { hops(id) };
    let mut picked: BTreeSet<u64> = lost.iter().copied().collect();
    let whole = ids.iter().map(cost).sum::<usize>() <= budget;
    if whole {
        picked.extend(ids);
    } else {
        // Each kind of notable packet in turn, its earliest first, while the hops allow.
        let mut used = 0;
        let mut cursor = [0usize; NOTABLE.len()];
        let mut round = 0;
        while (0..NOTABLE.len()).any(|k| cursor[k] < notable[k].len()) {
            for k in 0..NOTABLE.len() {
                if let Some(id) = notable[k].get(cursor[k]) {
                    cursor[k] += 1;
                    if !picked.contains(id) && used + cost(id) <= budget {
                        used += cost(id);
                        picked.insert(*id);
                    }
                }
            }
            // After one of each kind, the packets just before the earliest: how it began.
            if round == 0 {
                let first = picked
                    .first()
                    .map_or(0, |f| ids.partition_point(|id| id < f));
                for id in &ids[first.saturating_sub(LADDER_LEAD)..first] {
                    if used + cost(id) <= budget {
                        used += cost(id);
                        picked.insert(*id);
                    }
                }
            }
            round += 1;
        }
        // Then the story after them, in send order, while the hops allow (from the first
        // packet when nothing is notable).
        let first = picked
            .first()
            .map_or(0, |f| ids.partition_point(|id| id < f));
        for id in &ids[first..] {
            if picked.contains(id) {
                continue;
            }
            if used + cost(id) > budget {
                break;
            }
            used += cost(id);
            picked.insert(*id);
        }
    }
    let shown: Vec<u64> = picked.into_iter().collect();
    let subtitle = notable_subtitle(notable, &shown);

    // Lanes: the hosts that open connections (a SYN drawn), else the one host that sends
    // data, else those that spoke first; then routers; then the other hosts (the ones that
    // answer), each in order of appearance, so arrows run along the path.
    let mut first_seen: Vec<(usize, u32)> = Vec::new();
    let mut seen = vec![false; d.nodes.len()];
    for id in &shown {
        for &i in &a.packets[id] {
            let n = d.packets[i].node;
            if !seen[n as usize] {
                seen[n as usize] = true;
                first_seen.push((i, n));
            }
        }
    }
    first_seen.sort_unstable();
    let senders = |carries: &dyn Fn(&PacketRow) -> bool| -> BTreeSet<u32> {
        shown
            .iter()
            .map(|id| &d.packets[a.packets[id][0]])
            .filter(|r| r.kind == HopKind::Send && carries(r))
            .map(|r| r.node)
            .collect()
    };
    let mut openers = senders(&|r| r.flags.is_some_and(|f| f.syn() && !f.ack()));
    if openers.is_empty() {
        openers = senders(&|r| r.len > 0);
        if openers.len() > 1 {
            openers.clear();
        }
    }
    let group = |&(i, n): &(usize, u32)| {
        if a.routers[n as usize] {
            1
        } else if openers.contains(&n) || (openers.is_empty() && d.packets[i].kind == HopKind::Send)
        {
            0
        } else {
            2
        }
    };
    let mut lanes: Vec<u32> = Vec::new();
    for g in 0..3 {
        lanes.extend(first_seen.iter().filter(|e| group(e) == g).map(|e| e.1));
    }
    let lane_of = |n: u32| lanes.iter().position(|&l| l == n).unwrap_or(0);

    let mut arrows = Vec::new();
    // The packet of each arrow.
    let mut owners: Vec<u64> = Vec::new();
    let mut deaths = Vec::new();
    let mut stubs: Vec<Stub> = Vec::new();
    // Which node owns an address: the one packets to it are delivered to.
    let mut owner: BTreeMap<std::net::Ipv4Addr, u32> = BTreeMap::new();
    for r in &d.packets {
        if r.kind == HopKind::Deliver {
            owner.entry(r.dst).or_insert(r.node);
        }
    }
    // A dropped packet's stub slopes like a typical hop: the median one's duration.
    let mut durations: Vec<u64> = shown
        .iter()
        .flat_map(|id| a.packets[id].windows(2))
        .map(|w| (&d.packets[w[0]], &d.packets[w[1]]))
        .filter(|(p, q)| p.node != q.node)
        .map(|(p, q)| q.time - p.time)
        .collect();
    durations.sort_unstable();
    let hop_time = durations
        .get(durations.len() / 2)
        .map_or(1e-3, |&t| secs(t));
    // Address pairs (either way round) that the packets shown carry more than one
    // connection between.
    let pair = |r: &PacketRow| (r.src.min(r.dst), r.src.max(r.dst));
    let mut tuples: BTreeMap<_, BTreeSet<(u16, u16)>> = BTreeMap::new();
    for id in &shown {
        let first = &d.packets[a.packets[id][0]];
        if let (Some((sp, dp)), Some(_)) = (first.ports, first.flags) {
            let ports = if first.src <= first.dst {
                (sp, dp)
            } else {
                (dp, sp)
            };
            tuples.entry(pair(first)).or_default().insert(ports);
        }
    }
    let shared: BTreeSet<_> = tuples
        .into_iter()
        .filter(|(_, p)| p.len() > 1)
        .map(|(k, _)| k)
        .collect();
    for id in &shown {
        let rows = &a.packets[id];
        let highlight = lost.contains(id);
        let first = &d.packets[rows[0]];
        let conn = a.sender(first).or_else(|| a.numbering(first));
        let mut label = packet_label(first, conn);
        // Two hosts talking over several connections: the ports say whose packet it is.
        if let (Some((sport, dport)), true) = (first.ports, shared.contains(&pair(first)))
            && let Some((num, rest)) = label.split_once(' ')
        {
            label = format!("{num} {sport} > {dport}: {rest}");
        }
        if notable[3].binary_search(id).is_ok() {
            label.push_str(" (retransmission)");
        }
        if let Some(o) = first.copy_of {
            label.push_str(&format!(" (copy of #{o})"));
        }
        let mut labelled = false;
        for w in rows.windows(2) {
            let (p, q) = (&d.packets[w[0]], &d.packets[w[1]]);
            if p.node == q.node {
                continue;
            }
            let text = if !labelled {
                labelled = true;
                label.clone()
            } else {
                String::new()
            };
            owners.push(*id);
            arrows.push(Arrow {
                from: lane_of(p.node),
                to: lane_of(q.node),
                sent: secs(p.time),
                arrived: secs(q.time),
                label: text,
                highlight,
            });
        }
        for &i in rows {
            let r = &d.packets[i];
            if r.kind == HopKind::TtlExpired {
                deaths.push(Mark {
                    lane: lane_of(r.node),
                    time: secs(r.time),
                    label: format!("#{}", r.packet),
                });
            }
        }
        // A drop: on its way out of a node (the row before it is there too) a stub toward
        // where it was heading, else an X where it arrived; either names the cause.
        let last = &d.packets[rows[rows.len() - 1]];
        if last.kind == HopKind::Drop {
            let why = last.reason.as_deref().unwrap_or("dropped");
            let text = if labelled {
                format!("#{id} dropped: {why}")
            } else {
                format!("{label} dropped: {why}")
            };
            let leaving = rows.len() >= 2 && d.packets[rows[rows.len() - 2]].node == last.node;
            let lane = lane_of(last.node);
            if leaving {
                let goal = owner.get(&last.dst).map_or(lanes.len(), |&n| lane_of(n));
                let toward = if goal < lane || lane + 1 >= lanes.len() {
                    lane.saturating_sub(1)
                } else {
                    lane + 1
                };
                stubs.push(Stub {
                    from: lane,
                    toward,
                    sent: secs(last.time),
                    ended: secs(last.time) + 0.4 * hop_time,
                    label: text,
                });
            } else {
                deaths.push(Mark {
                    lane,
                    time: secs(last.time),
                    label: text,
                });
            }
        }
    }
    // Changes to the network while the packets shown were about.
    let (first_t, last_t) = arrows
        .iter()
        .flat_map(|a| [a.sent, a.arrived])
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), t| {
            (lo.min(t), hi.max(t))
        });
    let rules: Vec<Rule> = d
        .network
        .iter()
        .filter(|r| secs(r.time) >= first_t && secs(r.time) <= last_t)
        .map(|r| {
            let node = &d.nodes[r.node as usize];
            Rule {
                time: secs(r.time),
                label: match r.kind.as_str() {
                    "route_change" => format!("{node} routes {}", r.note),
                    "link_down" => format!("link {} down", r.note),
                    "link_up" => format!("link {} up", r.note),
                    other => format!("{node}: {other} {}", r.note),
                },
            }
        })
        .collect();

    let total = ids.len();
    let mut title = if whole {
        format!("Packet sequence: all {total} packets")
    } else {
        format!(
            "Packet sequence: {} of {total} packets (at most {budget} hops)",
            shown.len()
        )
    };
    // Stubs and network changes keep their stretch of time as a TTL death does.
    let points: Vec<Mark> = deaths
        .iter()
        .cloned()
        .chain(stubs.iter().flat_map(|s| {
            [s.sent, s.ended].map(|time| Mark {
                time,
                ..Mark::default()
            })
        }))
        .chain(rules.iter().map(|r| Mark {
            time: r.time,
            ..Mark::default()
        }))
        .collect();
    let pieces = time_pieces(&arrows, &points);
    let pieces_cut = pieces.len();
    if pieces.len() > 1 {
        title.push_str(", idle time cut out");
    }

    let lane_names: Vec<String> = lanes.iter().map(|&n| d.nodes[n as usize].clone()).collect();
    let state_notes = state_notes(a, &shown, &lane_names, &owner);
    let highlight_label = lost_legend(a, lost);
    let mut panels = Vec::new();
    let mut heights = Vec::new();
    let mut work: VecDeque<((f64, f64), bool)> = pieces.into_iter().map(|p| (p, split)).collect();
    while let Some(((t0, t1), splittable)) = work.pop_front() {
        let inside = |t: f64| t >= t0 && t <= t1;
        let mut own: Vec<u64> = Vec::new();
        let mut piece: Vec<Arrow> = Vec::new();
        for (arrow, o) in arrows.iter().zip(&owners) {
            // A lost duplicate's long hop may leave in one panel and arrive in another.
            if arrow.sent.min(arrow.arrived) <= t1 && arrow.sent.max(arrow.arrived) >= t0 {
                piece.push(arrow.clone());
                own.push(*o);
            }
        }
        hide_under_highlight(&mut piece, &mut own);
        label_in_the_open(&mut piece, &own);
        // Room above: a lost duplicate arriving from an earlier panel gets a stub long
        // enough to see and to label (one leaving for a later panel shows where it leaves).
        let span = (t1 - t0).max(1e-4);
        let arriving = piece
            .iter()
            .any(|a| a.highlight && a.sent.min(a.arrived) < t0);
        let window = (
            t0 - span * if arriving { 0.25 } else { 0.03 },
            t1 + span * 0.03,
        );
        let piece_stubs: Vec<Stub> = stubs
            .iter()
            .filter(|s| inside(s.sent) && inside(s.ended))
            .cloned()
            .collect();
        let piece_rules: Vec<Rule> = rules.iter().filter(|r| inside(r.time)).cloned().collect();
        let piece_deaths: Vec<Mark> = deaths.iter().filter(|m| inside(m.time)).cloned().collect();
        let piece_states: Vec<Mark> = state_notes
            .iter()
            .filter(|n| inside(n.0.time))
            .map(|(m, _, next)| {
                // A state held past the panel says when it ends, since that is not drawn.
                let mut m = m.clone();
                let tw = m.label.starts_with("TIME_WAIT");
                match next {
                    Some(end) if *end > t1 => m.label.push_str(&format!(" until {end:.3} s")),
                    None if tw => m.label.push_str(" to the end of the run"),
                    _ => {}
                }
                m
            })
            .collect();
        let labelled = piece.iter().filter(|a| !a.label.is_empty()).count()
            + piece_stubs.len()
            + piece_rules.len()
            + piece_deaths.len()
            + piece_states.len();
        // Room for every label: about 22 px each, so the label column never runs out.
        let height = panel_height(labelled);
        // Where a burst would get too few pixels to its labels, idle stretches inside the
        // panel are cut out too, each with a break of its own.
        let mut label_times: Vec<f64> = piece
            .iter()
            .filter(|a| !a.label.is_empty())
            .map(|a| ((a.sent + a.arrived) / 2.0).clamp(t0, t1))
            .chain(piece_stubs.iter().map(|s| s.sent))
            .chain(piece_rules.iter().map(|r| r.time))
            .chain(piece_deaths.iter().map(|m| m.time))
            .chain(piece_states.iter().map(|m| m.time))
            .collect();
        label_times.sort_by(f64::total_cmp);
        // Every hop keeps its stretch busy here, a lost duplicate's too: a break inside a
        // panel never cuts through a packet on its way.
        let busy_spans: Vec<(f64, f64)> = piece
            .iter()
            .map(|a| (a.sent.min(a.arrived), a.sent.max(a.arrived)))
            .chain(piece_stubs.iter().map(|s| (s.sent, s.ended)))
            .chain(label_times.iter().map(|&t| (t, t)))
            .map(|(lo, hi)| (lo.max(t0), hi.min(t1)))
            .filter(|(lo, hi)| lo <= hi)
            .collect();
        let mut segments = segments(&busy_spans, &label_times, (t0, t1), height);
        if splittable
            && segments.len() > 1
            && height + BREAK_ROWS * (segments.len() - 1) as u32 > SPLIT_PX
        {
            // Each stretch between the breaks becomes a panel of its own, in order.
            for s in segments.iter().rev() {
                work.push_front(((s.t0.max(t0), s.t1.min(t1)), false));
            }
            continue;
        }
        let window = match (segments.first_mut(), arriving) {
            (Some(first), true) => {
                first.t0 -= (first.t1 - first.t0).max(1e-4) * 0.25;
                (first.t0, segments[segments.len() - 1].t1)
            }
            (Some(first), false) => (first.t0, segments[segments.len() - 1].t1),
            (None, _) => window,
        };
        heights.push(height + BREAK_ROWS * segments.len().saturating_sub(1) as u32);
        panels.push(Ladder {
            title: String::new(),
            lanes: lane_names.clone(),
            arrows: piece,
            deaths: piece_deaths,
            stubs: piece_stubs,
            rules: piece_rules,
            window: Some(window),
            highlight_label: highlight_label.clone(),
            states: piece_states,
            segments,
        });
    }
    // Breaks inside a panel cut idle time out as well.
    if pieces_cut == 1 && (panels.len() > 1 || panels.iter().any(|p| p.segments.len() > 1)) {
        title.push_str(", idle time cut out");
    }
    title.push_str(note);
    Stack {
        title,
        subtitle,
        panels,
        panel_height: 400,
        heights,
    }
}

/// State notes at most in a ladder: beyond, the connections opened last lose theirs.
const MAX_STATE_NOTES: usize = 40;

/// A state note and the socket it belongs to (index into `sockets`), with the time of that
/// socket's next change, if any.
type StateNote = (Mark, usize, Option<f64>);

/// The TCP state changes of the sockets whose connection has a packet in the ladder, on
/// their host's lane, in time order: "FIN_WAIT_1" when the lane holds one of them, else with
/// what tells its connection apart, as the packets show it: the peer's lane ("LAST_ACK
/// (with client_tw)") when the lane's sockets talk to different nodes, the port that differs
/// (":49529", found in the packet labels' "49529 > 5000") between sockets with the same peer,
/// and the connection's name ("client#2") for incarnations of one 4-tuple. CLOSED is written
/// only when it ends TIME_WAIT (a socket released from any other state just stops having
/// notes). `owner` names the node that owns an address.
fn state_notes(
    a: &Index<'_>,
    shown: &[u64],
    lanes: &[String],
    owner: &BTreeMap<std::net::Ipv4Addr, u32>,
) -> Vec<StateNote> {
    let d = a.d;
    let drawn: BTreeSet<&str> = shown
        .iter()
        .filter_map(|id| d.packets[a.packets[id][0]].conn)
        .filter_map(|c| d.conn_names.get(c as usize))
        .map(String::as_str)
        .collect();
    let host_of = |conn: &str| conn.rsplit_once('#').map_or(conn, |(h, _)| h).to_string();
    let mut per_host: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (k, s) in d.sockets.iter().enumerate() {
        if drawn.contains(s.conn.as_str()) {
            per_host.entry(host_of(&s.conn)).or_default().push(k);
        }
    }
    let peer_name = |ip: std::net::Ipv4Addr| {
        owner
            .get(&ip)
            .and_then(|&n| d.nodes.get(n as usize))
            .cloned()
            .unwrap_or_else(|| ip.to_string())
    };
    // What tells socket `k` apart from the other drawn sockets of its host.
    let tag =
        |k: usize, host: &str| -> Option<String> {
            let mine = &d.sockets[k];
            let others: Vec<_> = per_host
                .get(host)
                .into_iter()
                .flatten()
                .map(|&j| &d.sockets[j])
                .filter(|o| o.conn != mine.conn)
                .collect();
            if others.is_empty() {
                return None;
            }
            let mut parts = Vec::new();
            if others.iter().any(|o| o.remote.ip() != mine.remote.ip()) {
                parts.push(format!("with {}", peer_name(*mine.remote.ip())));
            }
            let same_peer: Vec<_> = others
                .iter()
                .filter(|o| o.remote.ip() == mine.remote.ip())
                .collect();
            if same_peer.iter().any(|o| {
                (o.local.port(), o.remote.port()) != (mine.local.port(), mine.remote.port())
            }) {
                // The port that differs: the local one if any socket to this peer has another.
                let local_differs = same_peer
                    .iter()
                    .any(|o| o.local.port() != mine.local.port());
                let port = if local_differs {
                    mine.local.port()
                } else {
                    mine.remote.port()
                };
                parts.push(format!(":{port}"));
            }
            if same_peer.iter().any(|o| {
                (o.local.port(), o.remote.port()) == (mine.local.port(), mine.remote.port())
            }) {
                parts.push(mine.conn.clone());
            }
            Some(parts.join(" "))
        };
    let mut notes: Vec<StateNote> = Vec::new();
    for (k, s) in d.sockets.iter().enumerate() {
        if !drawn.contains(s.conn.as_str()) {
            continue;
        }
        let host = host_of(&s.conn);
        let Some(lane) = lanes.iter().position(|l| *l == host) else {
            continue;
        };
        let tag = tag(k, &host);
        for (j, (t, state)) in s.changes.iter().enumerate() {
            let after_tw = j > 0 && s.changes[j - 1].1 == "TIME_WAIT";
            if state == "CLOSED" && !after_tw {
                continue;
            }
            let label = match &tag {
                Some(tag) => format!("{state} ({tag})"),
                None => state.clone(),
            };
            let next = s.changes.get(j + 1).map(|c| secs(c.0));
            notes.push((
                Mark {
                    lane,
                    time: secs(*t),
                    label,
                },
                k,
                next,
            ));
        }
    }
    // The first connections' notes when there are too many: a close told once is enough.
    if notes.len() > MAX_STATE_NOTES {
        let mut keep: BTreeSet<usize> = BTreeSet::new();
        let mut count = 0;
        for n in &notes {
            if !keep.contains(&n.1) {
                let of_it = notes.iter().filter(|m| m.1 == n.1).count();
                if count + of_it > MAX_STATE_NOTES {
                    continue;
                }
                count += of_it;
                keep.insert(n.1);
            }
        }
        notes.retain(|n| keep.contains(&n.1));
    }
    notes.sort_by(|x, y| x.0.time.total_cmp(&y.0.time));
    notes
}

/// The time spans the ladder shows: the whole activity, cut at idle stretches (no packet in
/// flight) longer than a fifth of the span they are in, longest first, into at most
/// [`LADDER_PANELS`] pieces, so a burst long after another does not squash both into lines.
fn time_pieces(arrows: &[Arrow], deaths: &[Mark]) -> Vec<(f64, f64)> {
    // A highlighted hop in flight does not keep a stretch busy (its ends do): a lost
    // duplicate held for seconds is the kind of gap worth cutting out.
    let spans: Vec<(f64, f64)> = arrows
        .iter()
        .flat_map(|a| {
            let (lo, hi) = (a.sent.min(a.arrived), a.sent.max(a.arrived));
            if a.highlight {
                vec![(lo, lo), (hi, hi)]
            } else {
                vec![(lo, hi)]
            }
        })
        .chain(deaths.iter().map(|m| (m.time, m.time)))
        .collect();
    let busy = merged(spans);
    if busy.is_empty() {
        return Vec::new();
    }
    // Pieces as ranges of `busy`; cut the piece with the relatively longest hole each time.
    let mut pieces: Vec<(usize, usize)> = vec![(0, busy.len())];
    while pieces.len() < LADDER_PANELS {
        let best = pieces
            .iter()
            .enumerate()
            .filter_map(|(p, &(a, b))| {
                let span = busy[b - 1].1 - busy[a].0;
                (a + 1..b)
                    .map(|i| ((busy[i].0 - busy[i - 1].1) / span, i))
                    .filter(|h| h.0 > 0.2)
                    .max_by(|x, y| x.0.total_cmp(&y.0).then(y.1.cmp(&x.1)))
                    .map(|(r, i)| (r, p, i))
            })
            .max_by(|x, y| x.0.total_cmp(&y.0).then(y.1.cmp(&x.1)));
        let Some((_, p, i)) = best else { break };
        let (a, b) = pieces[p];
        pieces[p] = (a, i);
        pieces.insert(p + 1, (i, b));
    }
    pieces
        .into_iter()
        .map(|(a, b)| (busy[a].0, busy[b - 1].1))
        .collect()
}

/// The finite spans of `spans` merged where they overlap or touch, in time order.
fn merged(mut spans: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    spans.retain(|s| s.0.is_finite() && s.1.is_finite());
    spans.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (s, e) in spans {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// Pixel rows a break in a panel's time axis takes (as the plot draws it).
const BREAK_ROWS: u32 = 26;

/// Idle stretches cut out of one panel at most.
const MAX_CUTS: usize = 12;

/// Labels closer than this many pixels apart on average, over [`CROWD`] labels in a row,
/// are crowded: they would be pushed into the leader column.
const CROWD_PX: f64 = 12.0;

/// See [`CROWD_PX`].
const CROWD: usize = 5;

/// An idle stretch beside crowded labels is cut when it is this many times as long as the
/// time they fall in: less would give them little more room.
const CUT_RATIO: f64 = 10.0;

/// The segments a panel over `(t0, t1)`, `height` pixels tall, is drawn in: none (one scale)
/// when no [`CROWD`] labels in a row (at `label_times`, sorted) would be crowded; else the
/// busy stretches (`busy`: spans when something is drawn) grouped between the idle stretches
/// cut out, each cut beside the most crowded labels, until none is crowded or no idle
/// stretch beside them is [`CUT_RATIO`] times longer than they are. Each segment's share of the height is its share of the labels (one more each), so a burst
/// of milliseconds gets as much room per label as seconds of retransmissions.
fn segments(
    busy: &[(f64, f64)],
    label_times: &[f64],
    (t0, t1): (f64, f64),
    height: u32,
) -> Vec<Segment> {
    let runs = merged(busy.to_vec());
    if runs.len() < 2 || label_times.len() < CROWD {
        return Vec::new();
    }
    // Rows for the data (title, legend and lane names aside).
    let rows = (height as f64 - 120.0).max(100.0);
    let labels_in = |lo: f64, hi: f64| {
        label_times.partition_point(|&t| t <= hi) - label_times.partition_point(|&t| t < lo)
    };
    // Segments as ranges of `runs`. In each, the CROWD labels in a row that fall in the
    // fewest pixels at its scale, when fewer than they need: (pixels short, first, last).
    let crowd = |segs: &[(usize, usize)], k: usize| -> Option<(f64, f64, f64)> {
        let weight = |&(a, b): &(usize, usize)| labels_in(runs[a].0, runs[b - 1].1) as f64 + 1.0;
        let total: f64 = segs.iter().map(weight).sum();
        let room = rows - (BREAK_ROWS as f64) * (segs.len() - 1) as f64;
        let (a, b) = segs[k];
        let (lo, hi) = (runs[a].0, runs[b - 1].1);
        let px_per_s = room * weight(&segs[k]) / total / (hi - lo).max(1e-9);
        let ts: Vec<f64> = label_times
            .iter()
            .copied()
            .filter(|&t| t >= lo && t <= hi)
            .collect();
        ts.windows(CROWD)
            .map(|w| (w[CROWD - 1] - w[0], w[0], w[CROWD - 1]))
            .min_by(|x, y| x.0.total_cmp(&y.0))
            .map(|(d, first, last)| (CROWD_PX * (CROWD - 1) as f64 - d * px_per_s, first, last))
            .filter(|c| c.0 > 0.0)
    };
    // The most crowded segment is cut at the idle stretch just before or just after its
    // crowd, the longer, when that is longer than the crowd itself: the crowd gets a scale
    // of its own. A segment whose crowd has no such neighbour is left as it is.
    let mut segs: Vec<(usize, usize)> = vec![(0, runs.len())];
    let mut stuck: Vec<(f64, f64)> = Vec::new();
    while segs.len() <= MAX_CUTS {
        let worst = (0..segs.len())
            .filter(|&k| !stuck.contains(&(runs[segs[k].0].0, runs[segs[k].1 - 1].1)))
            .filter_map(|k| crowd(&segs, k).map(|c| (c, k)))
            .max_by(|x, y| x.0.0.total_cmp(&y.0.0));
        let Some(((_, first, last), k)) = worst else {
            break;
        };
        let (a, b) = segs[k];
        let gap = |i: usize| runs[i].0 - runs[i - 1].1;
        let before = (a + 1..b).rev().find(|&i| runs[i].0 <= first);
        let after = (a + 1..b).find(|&i| runs[i - 1].1 >= last);
        let cut = [before, after]
            .into_iter()
            .flatten()
            .filter(|&i| gap(i) > CUT_RATIO * (last - first).max(1e-9))
            .max_by(|&x, &y| gap(x).total_cmp(&gap(y)));
        match cut {
            Some(i) => {
                segs[k] = (a, i);
                segs.insert(k + 1, (i, b));
            }
            None => stuck.push((runs[a].0, runs[b - 1].1)),
        }
    }
    if segs.len() < 2 {
        return Vec::new();
    }
    // Each segment padded a little, within the idle time on either side.
    let bounds: Vec<(f64, f64)> = segs
        .iter()
        .map(|&(a, b)| (runs[a].0, runs[b - 1].1))
        .collect();
    (0..bounds.len())
        .map(|k| {
            let (lo, hi) = bounds[k];
            let before = if k == 0 {
                lo - t0
            } else {
                lo - bounds[k - 1].1
            };
            let after = if k + 1 == bounds.len() {
                t1 - hi
            } else {
                bounds[k + 1].0 - hi
            };
            let gap = |g: f64| if g > 0.0 { g } else { f64::INFINITY };
            let near = gap(before).min(gap(after));
            // Its own length sets the margin; a lone moment borrows a little of the idle
            // time beside it.
            // About 14 of the segment's rows (some 20 a label), so nothing drawn at its
            // ends touches a break.
            let labels = labels_in(lo, hi) as f64 + 1.0;
            let pad = ((hi - lo) * (0.7 / labels).clamp(0.04, 0.2))
                .max(if near.is_finite() { near * 0.002 } else { 1e-4 })
                .min(if near.is_finite() { near * 0.3 } else { 1e-4 });
            Segment {
                t0: lo - pad,
                t1: hi + pad,
                weight: labels_in(lo, hi) as f64 + 1.0,
            }
        })
        .collect()
}

/// Leaves out plain hops drawn exactly under a highlighted one (same lanes, both ends within
/// 0.25 % of the time span, about two pixels): they cannot be seen, and their middles would
/// keep the highlighted packet's label off its own arrows. A pure ACK caught in the same loop
/// as the lost duplicate travels with it like this.
fn hide_under_highlight(arrows: &mut Vec<Arrow>, owners: &mut Vec<u64>) {
    let times = arrows.iter().flat_map(|a| [a.sent, a.arrived]);
    let (lo, hi) = times.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), t| {
        (lo.min(t), hi.max(t))
    });
    let tol = (hi - lo) * 0.0025;
    let hl: Vec<(usize, usize, f64, f64)> = arrows
        .iter()
        .filter(|a| a.highlight)
        .map(|a| (a.from, a.to, a.sent, a.arrived))
        .collect();
    // A labelled hop stays: its label is the packet's only one.
    let hidden = |a: &Arrow| {
        !a.highlight
            && a.label.is_empty()
            && hl.iter().any(|h| {
                h.0 == a.from
                    && h.1 == a.to
                    && (h.2 - a.sent).abs() <= tol
                    && (h.3 - a.arrived).abs() <= tol
            })
    };
    let keep: Vec<bool> = arrows.iter().map(|a| !hidden(a)).collect();
    let mut k = keep.iter();
    arrows.retain(|_| *k.next().unwrap_or(&true));
    let mut k = keep.iter();
    owners.retain(|_| *k.next().unwrap_or(&true));
}

/// Labels each highlighted packet a second time, on its hop farthest in time from the middle
/// of any other arrow across the same lanes: its first hop is often crowded (the sender's
/// other segments leave with it, the peer's answers arrive then), and the label placer skips
/// a label that would cover another arrow's middle.
fn label_in_the_open(arrows: &mut [Arrow], owners: &[u64]) {
    let mid = |a: &Arrow| (a.sent + a.arrived) / 2.0;
    let span = |a: &Arrow| (a.from.min(a.to), a.from.max(a.to));
    let mut best: BTreeMap<u64, (f64, usize)> = BTreeMap::new();
    for (i, h) in arrows.iter().enumerate() {
        if !h.highlight {
            continue;
        }
        let (lo, hi) = span(h);
        let gap = arrows
            .iter()
            .enumerate()
            .filter(|&(j, a)| j != i && span(a).0 <= hi && span(a).1 >= lo)
            .map(|(_, a)| (mid(a) - mid(h)).abs())
            .fold(f64::INFINITY, f64::min);
        let e = best.entry(owners[i]).or_insert((gap, i));
        if gap > e.0 {
            *e = (gap, i);
        }
    }
    for (id, (_, i)) in best {
        if arrows[i].label.is_empty()
            && let Some(label) = arrows
                .iter()
                .zip(owners)
                .find(|(a, o)| **o == id && !a.label.is_empty())
                .map(|(a, _)| a.label.clone())
        {
            arrows[i].label = label;
        }
    }
}

/// The legend's words for the highlighted packets: "lost duplicate #4, 4.826 s in the
/// network" (the time from its first sending to its delivery).
fn lost_legend(a: &Index<'_>, lost: &[u64]) -> String {
    let lived = |id: u64| {
        let rows = &a.packets[&id];
        let last = &a.d.packets[*rows.last()?];
        let first = a.origin(id)?;
        (last.kind == HopKind::Deliver).then(|| secs(last.time - first.time.min(last.time)))
    };
    match lost {
        [one] => match lived(*one) {
            Some(t) => format!("lost duplicate #{one}, {t:.3} s in the network"),
            None => format!("lost duplicate #{one}"),
        },
        _ => {
            let ids: Vec<String> = lost.iter().map(|l| format!("#{l}")).collect();
            format!("lost duplicates {}", ids.join(", "))
        }
    }
}

/// Kinds of packet a ladder is drawn for, in the order its window takes them.
const NOTABLE: [(&str, &str); 6] = [
    ("lost duplicate", "lost duplicates"),
    ("drop", "drops"),
    ("RST", "RSTs"),
    ("retransmission", "retransmissions"),
    ("TTL expiry", "TTL expiries"),
    ("delivery out of a loop", "deliveries out of a loop"),
];

/// Packet ids of each [`NOTABLE`] kind, in send order: lost duplicates; packets dropped
/// (loss, queue, fault, no route, ...); RSTs; segments whose sequence number their
/// incarnation had sent before; TTL expiries; and packets delivered after a router had sent
/// them on twice (out of a loop).
fn notable_packets(a: &Index<'_>, ids: &[u64]) -> [Vec<u64>; NOTABLE.len()] {
    let d = a.d;
    let mut out: [Vec<u64>; NOTABLE.len()] = Default::default();
    out[0] = a.lost_ids();
    let mut sent: BTreeSet<(u32, u64)> = BTreeSet::new();
    for id in ids {
        let rows = &a.packets[id];
        let (first, last) = (&d.packets[rows[0]], &d.packets[rows[rows.len() - 1]]);
        if last.kind == HopKind::Drop {
            out[1].push(*id);
        }
        if let Some(f) = first.flags {
            if f.rst() {
                out[2].push(*id);
            }
            let occupies = first.len > 0 || f.syn() || f.fin();
            if let (HopKind::Send, Some(c), Some(seq), true) =
                (first.kind, first.conn, first.seq, occupies)
                && !sent.insert((c, seq))
            {
                out[3].push(*id);
            }
        }
        if rows
            .iter()
            .any(|&i| d.packets[i].kind == HopKind::TtlExpired)
        {
            out[4].push(*id);
        }
        // Delivered after a router sent it on twice: it went round a loop and got out.
        let mut routers: Vec<u32> = rows
            .iter()
            .map(|&i| &d.packets[i])
            .filter(|r| r.kind == HopKind::Forward)
            .map(|r| r.node)
            .collect();
        let forwards = routers.len();
        routers.sort_unstable();
        routers.dedup();
        if last.kind == HopKind::Deliver && routers.len() < forwards {
            out[5].push(*id);
        }
    }
    out
}

/// The ladder's subtitle: what it was drawn for, "2 drops (#17, #18); 1 RST (#22)", saying
/// how many of each kind are shown when not all are.
fn notable_subtitle(notable: &[Vec<u64>; NOTABLE.len()], shown: &[u64]) -> String {
    let mut parts = Vec::new();
    for (k, ids) in notable.iter().enumerate() {
        if ids.is_empty() {
            continue;
        }
        let drawn: Vec<u64> = ids
            .iter()
            .copied()
            .filter(|id| shown.binary_search(id).is_ok())
            .collect();
        let name = if ids.len() == 1 {
            NOTABLE[k].0
        } else {
            NOTABLE[k].1
        };
        let mut list: Vec<String> = drawn.iter().take(3).map(|id| format!("#{id}")).collect();
        if drawn.len() > 3 {
            list.push("\u{2026}".to_string());
        }
        let count = if drawn.len() == ids.len() {
            format!("{} {name}", ids.len())
        } else {
            format!("{} {name}, {} drawn", ids.len(), drawn.len())
        };
        parts.push(if list.is_empty() {
            count
        } else {
            format!("{count} ({})", list.join(", "))
        });
    }
    if parts.is_empty() {
        "Nothing notable: no lost duplicate, drop, RST, retransmission or TTL expiry".to_string()
    } else {
        format!("Drawn for: {}", parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn labels_read_like_tcpdump() {
        let row = PacketRow {
            time: 0,
            kind: HopKind::Send,
            node: 0,
            packet: 4,
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: Ipv4Addr::new(10, 0, 1, 2),
            ttl: 64,
            flags: Some("P.".parse().unwrap()),
            seq: Some(1001),
            ack: Some(5001),
            len: 1000,
            ports: Some((5555, 80)),
            conn: Some(0),
            timestamps: None,
            hops: 0,
            copy_of: None,
            reason: None,
        };
        let conn = ConnRow {
            host: "client".into(),
            conn: "client#1".into(),
            incarnation: 1,
            local: "10.0.0.1:5555".parse().unwrap(),
            remote: "10.0.1.2:80".parse().unwrap(),
            iss: 1000,
            irs: Some(5000),
            opened: 0,
            released: 1,
            written: 1000,
            delivered: 0,
            corrupted: 0,
        };
        assert_eq!(packet_label(&row, Some(&conn)), "#4 P. 1:1001(1000) ack 1");
        assert_eq!(packet_label(&row, None), "#4 P. 1001:2001(1000) ack 5001");
        let ack = PacketRow {
            flags: Some(".".parse().unwrap()),
            len: 0,
            ..row.clone()
        };
        assert_eq!(packet_label(&ack, Some(&conn)), "#4 . ack 1");
        let udp = PacketRow {
            flags: None,
            seq: Some(7),
            ack: None,
            len: 100,
            ..row
        };
        assert_eq!(packet_label(&udp, None), "#4 datagram 7 (100 B)");
    }

    /// A 4 ms burst of 25 packets, then one packet a second or more apart over 15 s: the
    /// burst gets a segment of its own and its share of the height by its labels.
    #[test]
    fn a_burst_among_seconds_of_retransmissions_gets_its_own_segment() {
        let mut busy: Vec<(f64, f64)> = (0..25)
            .map(|k| (1.0 + k as f64 * 0.00016, 1.0 + k as f64 * 0.00016 + 0.001))
            .collect();
        let mut labels: Vec<f64> = busy.iter().map(|s| (s.0 + s.1) / 2.0).collect();
        for t in [1.2, 1.6, 2.0, 3.0, 5.0, 9.0, 13.0, 16.0] {
            busy.push((t, t + 0.001));
            labels.push(t + 0.0005);
        }
        let segs = segments(&busy, &labels, (1.0, 16.001), panel_height(labels.len()));
        assert!(segs.len() >= 2, "{segs:?}");
        let first = segs[0];
        assert!(
            first.t0 <= 1.0 && first.t1 > 1.005 && first.t1 < 1.1,
            "{first:?}"
        );
        assert_eq!(first.weight, 26.0);
        // In time order, apart, every labelled moment inside one.
        assert!(segs.windows(2).all(|w| w[0].t1 < w[1].t0), "{segs:?}");
        for t in &labels {
            assert!(
                segs.iter().any(|s| s.t0 <= *t && *t <= s.t1),
                "{t} is cut out"
            );
        }
        // The burst's labels get rows enough apart at its own scale.
        let total: f64 = segs.iter().map(|s| s.weight).sum();
        let rows = panel_height(labels.len()) as f64 * first.weight / total;
        assert!(
            rows / (first.t1 - first.t0) * 0.00016 * 4.0 > 30.0,
            "{segs:?}"
        );
    }

    #[test]
    fn evenly_spread_packets_keep_one_scale() {
        let busy: Vec<(f64, f64)> = (0..30)
            .map(|k| (k as f64 * 0.01, k as f64 * 0.01 + 0.008))
            .collect();
        let labels: Vec<f64> = busy.iter().map(|s| s.0 + 0.004).collect();
        assert!(segments(&busy, &labels, (0.0, 0.3), panel_height(30)).is_empty());
        // Crowded, but with no idle time beside the crowd worth cutting: one scale too.
        let packed: Vec<(f64, f64)> = (0..30).map(|k| (k as f64 * 1e-4, 0.3)).collect();
        let labels: Vec<f64> = (0..30).map(|k| k as f64 * 1e-4).collect();
        assert!(segments(&packed, &labels, (0.0, 0.3), 400).is_empty());
    }
}
