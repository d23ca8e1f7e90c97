//! Cross-reference checks (names, neighbours, addresses) and the translation to a
//! [`WorldConfig`].

use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::Ipv4Addr;
use std::ops::Range;

use toml::Spanned;

use super::error::{Location, ScenarioError, Warning, nearest};
use super::schema::{
    self, FaultSection, FiguresSection, HostSection, LinkChangeSection, LinkSection, LinkState,
    OutputSection, RouteChangeSection, RouteSection, RouterSection, TcpSection, TimeValue,
    TtlModeName,
};
use super::tcp::tcp_config;
use super::values::Bytes;
use super::{AppSection, OutputOptions, Scenario, SpannedApp};
use crate::net::{Fault, FaultAction, LinkId, LinkParams, NodeId, NodeKind, Prefix, TtlMode};
use crate::report::figures::FigureOptions;
use crate::report::plot::Formats;
use crate::sim::{Duration, SimTime};
use crate::tcp::Flags;
use crate::world::apps::{
    AcceptDelay, AppSpec, DatagramSpec, Handler, HttpClientSpec, HttpServerSpec, OnTimeout,
    ReceiverSpec, SenderSpec,
};
use crate::world::{
    AppConfig, LinkChange, LinkConfig, NodeConfig, Observe, RouteChange, RouteTarget, WorldConfig,
};

/// Words a route's `via` may use instead of a neighbour's name.
const VIA_DROP: &str = "drop";
const VIA_NONE: &str = "none";

struct Ctx<'a> {
    file: &'a str,
    source: &'a str,
    names: BTreeMap<String, NodeId>,
    nodes: Vec<NodeConfig>,
    links: Vec<LinkConfig>,
    /// Per node, its neighbours.
    neighbours: Vec<Vec<NodeId>>,
    /// Every (node, neighbour) pair, both ways round: a lookup that stays fast on a router
    /// with thousands of links.
    adjacent: HashSet<(NodeId, NodeId)>,
    /// Per node, its t = 0 routes by prefix, built once for the reachability warnings so each
    /// lookup costs 33 probes whatever the table's size.
    by_prefix: OnceCell<Vec<HashMap<Prefix, RouteTarget>>>,
}

impl Ctx<'_> {
    fn error(
        &self,
        span: Range<usize>,
        field: impl Into<String>,
        msg: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError::at(self.file, self.source, Some(span), field, msg)
    }

    fn line_of(&self, span: &Range<usize>) -> usize {
        Location::at(self.file, self.source, span.start).line
    }

    /// Resolves a node name, suggesting the nearest one on a typo.
    fn node(&self, name: &Spanned<String>, field: &str) -> Result<NodeId, ScenarioError> {
        if let Some(id) = self.names.get(name.get_ref()) {
            return Ok(*id);
        }
        let hint = match nearest(name.get_ref(), self.names.keys().map(String::as_str)) {
            Some(n) => format!(" (did you mean `{n}`?)"),
            None => format!(
                " (nodes are: {})",
                self.names.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        };
        Err(self.error(
            name.span(),
            field,
            format!("unknown node `{}`{hint}", name.get_ref()),
        ))
    }

    fn name(&self, id: NodeId) -> &str {
        &self.nodes[id.0 as usize].name
    }

    /// Resolves `via`: a neighbour of `from`, "drop", or (if allowed) "none".
    fn via(
        &self,
        from: NodeId,
        via: &Spanned<String>,
        field: &str,
        allow_none: bool,
    ) -> Result<RouteTarget, ScenarioError> {
        match via.get_ref().as_str() {
            VIA_DROP => return Ok(RouteTarget::Drop),
            VIA_NONE if allow_none => return Ok(RouteTarget::Remove),
            _ => {}
        }
        let to = self.node(via, field)?;
        if !self.adjacent.contains(&(from, to)) {
            let around: Vec<&str> = self.neighbours[from.0 as usize]
                .iter()
                .map(|n| self.name(*n))
                .collect();
            return Err(self.error(
                via.span(),
                field,
                format!(
                    "`{}` is not a neighbour of `{}`; its links go to: {}",
                    via.get_ref(),
                    self.name(from),
                    if around.is_empty() {
                        "nothing".to_string()
                    } else {
                        around.join(", ")
                    }
                ),
            ));
        }
        Ok(RouteTarget::Via(to))
    }

    /// The link joining two named nodes, in either order (`field` names the pair).
    fn link_between(
        &self,
        ends: &Spanned<[Spanned<String>; 2]>,
        field: &str,
    ) -> Result<usize, ScenarioError> {
        let [a, b] = ends.get_ref();
        let ea = self.node(a, &format!("{field}[0]"))?;
        let eb = self.node(b, &format!("{field}[1]"))?;
        self.links
            .iter()
            .position(|l| l.ends == [ea, eb] || l.ends == [eb, ea])
            .ok_or_else(|| {
                self.error(
                    ends.span(),
                    field,
                    format!("no link joins `{}` and `{}`", a.get_ref(), b.get_ref()),
                )
            })
    }

    fn routes(
        &self,
        from: NodeId,
        routes: &[RouteSection],
        path: &str,
    ) -> Result<Vec<(Prefix, RouteTarget)>, ScenarioError> {
        let mut out: Vec<(Prefix, RouteTarget)> = Vec::new();
        let mut seen: HashSet<Prefix> = HashSet::new();
        for (i, r) in routes.iter().enumerate() {
            let field = format!("{path}.routes[{i}]");
            if i == MAX_ROUTES {
                return Err(self.error(
                    r.dest.span(),
                    format!("{field}.dest"),
                    format!(
                        "{} routes: a node may have at most {MAX_ROUTES}",
                        routes.len()
                    ),
                ));
            }
            let prefix = r.dest.get_ref().0;
            if !seen.insert(prefix) {
                return Err(self.error(
                    r.dest.span(),
                    format!("{field}.dest"),
                    format!("a second route for {prefix}; each destination may appear once"),
                ));
            }
            out.push((
                prefix,
                self.via(from, &r.via, &format!("{field}.via"), false)?,
            ));
        }
        Ok(out)
    }
}

pub(crate) fn build(
    name: &str,
    file: &str,
    source: &str,
    doc: schema::File,
    apps: Vec<SpannedApp>,
) -> Result<Scenario, ScenarioError> {
    let mut cx = Ctx {
        file,
        source,
        names: BTreeMap::new(),
        nodes: Vec::new(),
        links: Vec::new(),
        neighbours: Vec::new(),
        adjacent: HashSet::new(),
        by_prefix: OnceCell::new(),
    };
    nodes(&mut cx, &doc.host, &doc.router)?;
    links(&mut cx, &doc.link)?;
    let mut warnings = hosts(&mut cx, &doc.host, &doc.tcp)?;
    routers(&mut cx, &doc.router)?;
    let route_changes = route_changes(&cx, &doc.route_change)?;
    let link_changes = link_changes(&cx, &doc.link_change)?;
    let faults = faults(&cx, &doc.fault)?;
    let app_configs = app_configs(&cx, &apps, &mut warnings)?;
    let figures = figure_options(&cx, &doc.figures)?;
    let pcap_hosts = doc
        .output
        .pcap_hosts
        .iter()
        .map(|h| cx.node(h, "output.pcap_hosts"))
        .collect::<Result<Vec<_>, _>>()?;
    let sim = &doc.simulation;
    Ok(Scenario {
        name: name.to_string(),
        file: file.to_string(),
        source: source.to_string(),
        duration: sim.duration.0,
        config: WorldConfig {
            seed: sim.seed,
            ttl_mode: match sim.ttl_mode {
                TtlModeName::Hops => TtlMode::Hops,
                TtlModeName::Seconds => TtlMode::Seconds,
            },
            default_ttl: sim.default_ttl.0,
            nodes: cx.nodes,
            links: cx.links,
            route_changes,
            link_changes,
            faults,
            observe: observe(&doc.output, &app_configs),
            apps: app_configs,
        },
        warnings,
        output: OutputOptions {
            events: doc.output.events,
            states: doc.output.states,
            connections: doc.output.connections,
            pcap: doc.output.pcap,
            pcap_snaplen: doc.output.pcap_snaplen,
            pcap_hosts,
            netstat: true,
            netstat_style: doc.output.netstat_style,
            socket_counts: true,
            tcp_probe: doc.output.tcp_probe,
            compress: doc.output.compress,
            figures: doc.output.figures,
        },
        figures,
    })
}

/// `[figures]`: the options `timewait plot` takes, checked where they are written.
fn figure_options(cx: &Ctx<'_>, f: &FiguresSection) -> Result<FigureOptions, ScenarioError> {
    use crate::report::figures::select;
    let mut o = FigureOptions::default();
    let time = |v: &Spanned<TimeValue>, field: &str| {
        let t = match v.get_ref() {
            TimeValue::Int(i) => select::secs_to_ns(*i as f64)
                .ok_or_else(|| format!("invalid time {i}: expected seconds at or after 0")),
            TimeValue::Float(x) => select::secs_to_ns(*x)
                .ok_or_else(|| format!("invalid time {x}: expected seconds at or after 0")),
            TimeValue::Text(s) => select::parse_time(s),
        };
        t.map_err(|m| cx.error(v.span(), field, m))
    };
    if let Some(v) = &f.from {
        o.from = Some(time(v, "figures.from")?);
    }
    if let Some(v) = &f.to {
        o.to = Some(time(v, "figures.to")?);
    }
    if let (Some(a), Some(b)) = (&f.from, &f.to) {
        o.check()
            .map_err(|m| cx.error(a.span().start..b.span().end, "figures.to", m))?;
    }
    if let Some(v) = &f.conn {
        for c in v.get_ref().items() {
            let (host, _) =
                select::check_conn(&c).map_err(|m| cx.error(v.span(), "figures.conn", m))?;
            if !cx.names.contains_key(host) {
                return Err(cx.error(
                    v.span(),
                    "figures.conn",
                    format!("connection `{c}`: no host named `{host}` in this scenario"),
                ));
            }
            o.conns.push(c);
        }
    }
    if let Some(v) = &f.hosts {
        for h in v.get_ref().items() {
            if !cx.names.contains_key(&h) {
                let hint = match crate::scenario::nearest(&h, cx.names.keys().map(String::as_str)) {
                    Some(k) => format!(" (did you mean `{k}`?)"),
                    None => String::new(),
                };
                return Err(cx.error(
                    v.span(),
                    "figures.hosts",
                    format!("no host or router named `{h}` in this scenario{hint}"),
                ));
            }
            o.hosts.push(h);
        }
    }
    if let Some(v) = &f.format {
        o.formats = Formats::parse(&v.get_ref().items().join(","))
            .map_err(|m| cx.error(v.span(), "figures.format", m))?;
    }
    if let Some(v) = &f.width {
        o.width = Some(
            select::check_width(*v.get_ref())
                .map_err(|m| cx.error(v.span(), "figures.width", m))?,
        );
    }
    if let Some(v) = &f.only {
        let items = v.get_ref().items();
        o.only = Some(
            select::parse_only(items.iter().map(String::as_str))
                .map_err(|m| cx.error(v.span(), "figures.only", m))?,
        );
    }
    Ok(o)
}

/// `[[host]]` and `[[router]]`: each node's name and address, neither used twice.
fn nodes(
    cx: &mut Ctx<'_>,
    hosts: &[HostSection],
    routers: &[RouterSection],
) -> Result<(), ScenarioError> {
    let mut spans: Vec<Range<usize>> = Vec::new();
    let mut addrs: BTreeMap<Ipv4Addr, Range<usize>> = BTreeMap::new();
    let declared = hosts
        .iter()
        .enumerate()
        .map(|(i, h)| (format!("host[{i}]"), &h.name, NodeKind::Host, Some(&h.addr)))
        .chain(routers.iter().enumerate().map(|(i, r)| {
            (
                format!("router[{i}]"),
                &r.name,
                NodeKind::Router,
                r.addr.as_ref(),
            )
        }));
    for (path, node_name, kind, addr) in declared {
        let n = node_name.get_ref();
        if n.is_empty() || n == VIA_DROP || n == VIA_NONE {
            return Err(cx.error(
                node_name.span(),
                format!("{path}.name"),
                format!("`{n}` cannot name a node (\"drop\" and \"none\" are reserved for routes)"),
            ));
        }
        if let Some(first) = cx.names.get(n) {
            let line = cx.line_of(&spans[first.0 as usize]);
            return Err(cx.error(
                node_name.span(),
                format!("{path}.name"),
                format!("duplicate node name `{n}` (first defined at line {line})"),
            ));
        }
        let mut owned = Vec::new();
        if let Some(a) = addr {
            let ip = a.get_ref().0;
            if let Some(first) = addrs.get(&ip) {
                let line = cx.line_of(first);
                return Err(cx.error(
                    a.span(),
                    format!("{path}.addr"),
                    format!("duplicate address {ip} (first used at line {line})"),
                ));
            }
            addrs.insert(ip, a.span());
            owned.push(ip);
        }
        let id = NodeId(cx.nodes.len() as u32);
        cx.names.insert(n.clone(), id);
        spans.push(node_name.span());
        cx.nodes.push(NodeConfig {
            name: n.clone(),
            kind,
            addrs: owned,
            routes: Vec::new(),
            icmp_time_exceeded: false,
            tcp: Default::default(),
        });
        cx.neighbours.push(Vec::new());
    }
    Ok(())
}

/// `[[link]]`: at most one link between two distinct nodes.
fn links(cx: &mut Ctx<'_>, sections: &[LinkSection]) -> Result<(), ScenarioError> {
    for (i, l) in sections.iter().enumerate() {
        let path = format!("link[{i}]");
        let [a, b] = l.ends.get_ref();
        let ea = cx.node(a, &format!("{path}.ends[0]"))?;
        let eb = cx.node(b, &format!("{path}.ends[1]"))?;
        if ea == eb {
            return Err(cx.error(
                l.ends.span(),
                format!("{path}.ends"),
                format!("a link cannot join `{}` to itself", a.get_ref()),
            ));
        }
        if cx.adjacent.contains(&(ea, eb)) {
            return Err(cx.error(
                l.ends.span(),
                format!("{path}.ends"),
                format!(
                    "a second link between `{}` and `{}`; routes name neighbours, so at most one link may join two nodes",
                    a.get_ref(),
                    b.get_ref()
                ),
            ));
        }
        cx.neighbours[ea.0 as usize].push(eb);
        cx.neighbours[eb.0 as usize].push(ea);
        cx.adjacent.insert((ea, eb));
        cx.adjacent.insert((eb, ea));
        cx.links.push(LinkConfig {
            ends: [ea, eb],
            params: LinkParams {
                delay: l.delay.0,
                bandwidth: l.bandwidth.map(|r| r.0),
                queue_limit: l.queue,
                loss: l.loss.0,
                duplicate: l.duplicate.0,
                jitter: l.jitter.map_or(Duration::ZERO, |j| j.0),
                reorder: l.reorder,
            },
        });
    }
    Ok(())
}

/// Each `[[host]]`'s routes at t = 0 and TCP settings; returns the warnings for a `tw_reuse`
/// that has no effect.
fn hosts(
    cx: &mut Ctx<'_>,
    hosts: &[HostSection],
    shared: &TcpSection,
) -> Result<Vec<Warning>, ScenarioError> {
    // tw_reuse warnings by field written: (field, position, hosts it leaves without effect).
    let mut early_warnings: Vec<(String, usize, Vec<String>)> = Vec::new();
    for (i, h) in hosts.iter().enumerate() {
        let id = cx.names[h.name.get_ref()];
        let path = format!("host[{i}]");
        let tcp = tcp_config(cx.file, cx.source, shared, &h.tcp, &path)?;
        if tcp.tw_reuse && !tcp.timestamps {
            // Linux accepts the sysctl too, but it only takes over TIME_WAITs with timestamps.
            let (at, field) = match (&h.tcp.tw_reuse, &shared.tw_reuse) {
                (Some(v), _) => (v.span().start, format!("{path}.tcp.tw_reuse")),
                (None, v) => (
                    v.as_ref().map_or(0, |v| v.span().start),
                    "tcp.tw_reuse".into(),
                ),
            };
            // One warning per field written, naming every host it leaves without effect.
            let host = format!("`{}`", h.name.get_ref());
            match early_warnings.iter_mut().find(|w| w.0 == field) {
                Some((_, _, hosts)) => hosts.push(host),
                None => early_warnings.push((field, at, vec![host])),
            }
        }
        cx.nodes[id.0 as usize].tcp = tcp;
        let routes = if h.routes.is_empty() {
            match cx.neighbours[id.0 as usize].as_slice() {
                [only] => vec![(
                    Prefix::new(Ipv4Addr::UNSPECIFIED, 0),
                    RouteTarget::Via(*only),
                )],
                [] => {
                    return Err(cx.error(
                        h.name.span(),
                        format!("{path}.name"),
                        format!(
                            "host `{}` has no link; add a [[link]] with it as an end",
                            h.name.get_ref()
                        ),
                    ));
                }
                _ => {
                    return Err(cx.error(
                        h.name.span(),
                        format!("{path}.routes"),
                        format!(
                            "host `{}` has several links, so it needs `routes` to choose between them",
                            h.name.get_ref()
                        ),
                    ));
                }
            }
        } else {
            cx.routes(id, &h.routes, &path)?
        };
        cx.nodes[id.0 as usize].routes = routes;
    }
    Ok(early_warnings
        .into_iter()
        .map(|(field, at, hosts)| Warning {
            location: Location::at(cx.file, cx.source, at),
            field,
            message: format!(
                "tw_reuse has no effect on {} without `timestamps = true`: only a TIME_WAIT whose last timestamp is 1 s old is taken over",
                hosts.join(", ")
            ),
        })
        .collect())
}

/// Each `[[router]]`'s routes at t = 0 and ICMP time-exceeded.
fn routers(cx: &mut Ctx<'_>, routers: &[RouterSection]) -> Result<(), ScenarioError> {
    for (i, r) in routers.iter().enumerate() {
        let id = cx.names[r.name.get_ref()];
        let path = format!("router[{i}]");
        cx.nodes[id.0 as usize].routes = cx.routes(id, &r.routes, &path)?;
        if let Some(icmp) = r.icmp_time_exceeded.as_ref().filter(|v| *v.get_ref()) {
            if r.addr.is_none() {
                return Err(cx.error(
                    icmp.span(),
                    format!("{path}.icmp_time_exceeded"),
                    "a router needs an `addr` to send ICMP time-exceeded from",
                ));
            }
            cx.nodes[id.0 as usize].icmp_time_exceeded = true;
        }
    }
    Ok(())
}

/// `[[route_change]]`: a node's table changing during the run.
fn route_changes(
    cx: &Ctx<'_>,
    sections: &[RouteChangeSection],
) -> Result<Vec<RouteChange>, ScenarioError> {
    let mut route_changes = Vec::new();
    for (i, c) in sections.iter().enumerate() {
        let path = format!("route_change[{i}]");
        let node = cx.node(&c.router, &format!("{path}.router"))?;
        let target = cx.via(node, &c.via, &format!("{path}.via"), true)?;
        route_changes.push(RouteChange {
            at: c.at.0,
            node,
            prefix: c.dest.get_ref().0,
            target,
        });
    }
    Ok(route_changes)
}

/// `[[link_change]]`: an existing link going down or up during the run.
fn link_changes(
    cx: &Ctx<'_>,
    sections: &[LinkChangeSection],
) -> Result<Vec<LinkChange>, ScenarioError> {
    let mut link_changes = Vec::new();
    for (i, c) in sections.iter().enumerate() {
        let path = format!("link_change[{i}]");
        let link = cx.link_between(&c.ends, &format!("{path}.ends"))?;
        link_changes.push(LinkChange {
            at: c.at.0,
            link: LinkId(link as u32),
            up: c.state == LinkState::Up,
        });
    }
    Ok(link_changes)
}

/// `[[fault]]`: packets chosen on an existing link, dropped, delayed or duplicated.
fn faults(cx: &Ctx<'_>, sections: &[FaultSection]) -> Result<Vec<Fault>, ScenarioError> {
    let mut faults = Vec::new();
    for (i, f) in sections.iter().enumerate() {
        let path = format!("fault[{i}]");
        let link = cx.link_between(&f.link, &format!("{path}.link"))?;
        let ends = cx.links[link].ends;
        let side = match &f.from {
            None => None,
            Some(from) => {
                let n = cx.node(from, &format!("{path}.from"))?;
                match ends.iter().position(|e| *e == n) {
                    Some(side) => Some(side as u8),
                    None => {
                        return Err(cx.error(
                            from.span(),
                            format!("{path}.from"),
                            format!("`{}` is not an end of this link", from.get_ref()),
                        ));
                    }
                }
            }
        };
        let flags = match &f.flags {
            None => None,
            Some(text) => Some(
                text.get_ref()
                    .parse::<Flags>()
                    .map_err(|e| cx.error(text.span(), format!("{path}.flags"), e))?
                    .bits(),
            ),
        };
        let action = match (f.action, f.delay) {
            (schema::FaultActionName::Drop, None) => FaultAction::Drop,
            (schema::FaultActionName::Delay, Some(d)) => FaultAction::Delay(d.0),
            (schema::FaultActionName::Duplicate, Some(d)) => FaultAction::Duplicate(d.0),
            (schema::FaultActionName::Drop, Some(_)) => {
                return Err(cx.error(
                    f.link.span(),
                    format!("{path}.delay"),
                    "`delay` goes with action = \"delay\" or \"duplicate\", not \"drop\"",
                ));
            }
            (_, None) => {
                return Err(cx.error(
                    f.link.span(),
                    format!("{path}.delay"),
                    "action \"delay\" and \"duplicate\" need a `delay`",
                ));
            }
        };
        faults.push(Fault {
            action,
            link: LinkId(link as u32),
            side,
            after: SimTime::ZERO + f.after.map_or(Duration::ZERO, |d| d.0),
            until: f.until.map_or(SimTime::MAX, |d| SimTime::ZERO + d.0),
            flags,
            len: f.len,
            skip: f.skip,
            count: f.count,
        });
    }
    Ok(faults)
}

/// `[[app]]`: each application on a host, with warnings for peers it cannot reach at t = 0.
fn app_configs(
    cx: &Ctx<'_>,
    apps: &[SpannedApp],
    warnings: &mut Vec<Warning>,
) -> Result<Vec<AppConfig>, ScenarioError> {
    let mut app_configs = Vec::new();
    for app in apps {
        let path = format!("app[{}]", app.index);
        match &app.section {
            AppSection::Datagram(d) => {
                let host = host_of(cx, &d.host, &format!("{path}.host"))?;
                if d.count > 1 && d.interval.is_none() {
                    return Err(cx.error(
                        app.span.clone(),
                        format!("{path}.interval"),
                        "sending more than one datagram needs an `interval`",
                    ));
                }
                let to = d.to.get_ref().0;
                let field = format!("{path}.to");
                route_warnings(cx, host, to, false, d.to.span().start, &field, warnings);
                app_configs.push(AppConfig {
                    host,
                    spec: AppSpec::Datagram(DatagramSpec {
                        to,
                        port: d.port,
                        src_port: d.src_port,
                        start: d.start.map_or(Duration::ZERO, |s| s.0),
                        interval: d.interval.map_or(Duration::from_secs(1), |i| i.0),
                        count: d.count,
                        size: d.size,
                        ttl: d.ttl.map(|t| t.0),
                    }),
                });
            }
            AppSection::Sender(d) => {
                let host = host_of(cx, &d.host, &format!("{path}.host"))?;
                let to = d.to.get_ref().0;
                if d.connections > 1 && d.interval.is_none() {
                    return Err(cx.error(
                        app.span.clone(),
                        format!("{path}.interval"),
                        "more than one connection needs an `interval` between their starts",
                    ));
                }
                let field = format!("{path}.to");
                let at = d.to.span().start;
                route_warnings(cx, host, *to.ip(), true, at, &field, warnings);
                app_configs.push(AppConfig {
                    host,
                    spec: AppSpec::Sender(SenderSpec {
                        to,
                        bytes: d.bytes.0,
                        start: d.start.map_or(Duration::ZERO, |s| s.0),
                        connections: d.connections,
                        interval: d.interval.map_or(Duration::from_secs(1), |i| i.0),
                        src_port: d.src_port,
                        retry: d.retry.map_or(Duration::from_secs(1), |r| r.0),
                        delay: d.delay.map_or(Duration::ZERO, |x| x.0),
                        hold: d.hold.map_or(Duration::ZERO, |x| x.0),
                        close_at: d.close_at.map(|x| x.0),
                        half_close: d.half_close,
                    }),
                });
            }
            AppSection::HttpServer(d) => {
                let host = host_of(cx, &d.host, &format!("{path}.host"))?;
                for (j, h) in d.handlers.iter().enumerate() {
                    if let Some(b) = &h.body {
                        check_body(cx, b, &format!("{path}.handlers[{j}].body"))?;
                    }
                }
                app_configs.push(AppConfig {
                    host,
                    spec: AppSpec::HttpServer(HttpServerSpec {
                        port: d.port,
                        backlog: d.backlog,
                        accept_delay: d
                            .accept_delay
                            .map_or(AcceptDelay::After(Duration::ZERO), |a| a.0),
                        handlers: d
                            .handlers
                            .iter()
                            .map(|h| Handler {
                                path: h.path.clone(),
                                delay: h.delay.map_or(Duration::ZERO, |x| x.0),
                                body: h.body.as_ref().map_or(11, |b| b.get_ref().0),
                            })
                            .collect(),
                        close_after_response: d.close_after_response.unwrap_or(true),
                        idle_timeout: d.idle_timeout.map_or(Duration::from_secs(5), |x| x.0),
                    }),
                });
            }
            AppSection::HttpClient(d, churn) => {
                let host = host_of(cx, &d.host, &format!("{path}.host"))?;
                if let Some(b) = &d.request_body {
                    check_body(cx, b, &format!("{path}.request_body"))?;
                }
                let url = d.url.get_ref();
                let interval = match (&d.rate, d.interval) {
                    (Some(_), Some(_)) => {
                        return Err(cx.error(
                            app.span.clone(),
                            format!("{path}.rate"),
                            "give either `rate` or `interval`, not both",
                        ));
                    }
                    (Some(r), None) => {
                        let rate = *r.get_ref();
                        if !(rate > 0.0 && rate <= 1e9) {
                            return Err(cx.error(
                                r.span(),
                                format!("{path}.rate"),
                                format!("{rate} is not a rate of requests per second above zero"),
                            ));
                        }
                        Duration::from_nanos((1e9 / rate).round() as u64)
                    }
                    (None, Some(i)) => i.0,
                    (None, None) => Duration::from_secs(1),
                };
                let requests = match (d.requests, d.duration) {
                    (Some(_), Some(_)) => {
                        return Err(cx.error(
                            app.span.clone(),
                            format!("{path}.duration"),
                            "give either `requests` or `duration`, not both",
                        ));
                    }
                    (Some(n), None) => n,
                    // One request per start time in [0, duration); a rate counts from the exact
                    // rate, so 300/s for 120 s is 36,000 despite the ns-rounded interval.
                    (None, Some(t)) => match &d.rate {
                        Some(r) => {
                            let exact = t.0.as_secs_f64() * *r.get_ref();
                            if (exact - exact.round()).abs() < 1e-6 {
                                exact.round() as u64
                            } else {
                                exact.ceil() as u64
                            }
                        }
                        None => t.0.as_nanos().div_ceil(interval.as_nanos().max(1)),
                    },
                    (None, None) => match &d.rate {
                        Some(r) => {
                            return Err(cx.error(
                                r.span(),
                                format!("{path}.rate"),
                                "a `rate` needs `duration` (how long it runs) or `requests`",
                            ));
                        }
                        None => 1,
                    },
                };
                let (field, at) = (format!("{path}.url"), d.url.span().start);
                let server = *url.server.ip();
                route_warnings(cx, host, server, true, at, &field, warnings);
                app_configs.push(AppConfig {
                    host,
                    spec: AppSpec::HttpClient(HttpClientSpec {
                        server: url.server,
                        path: url.path.clone(),
                        start: d.start.map_or(Duration::ZERO, |x| x.0),
                        requests,
                        interval,
                        connect_timeout: d.connect_timeout.map(|x| x.0),
                        max_time: d.max_time.map(|x| x.0),
                        on_timeout: match d.on_timeout {
                            Some(schema::OnTimeoutName::Abort) => OnTimeout::Abort,
                            _ => OnTimeout::Close,
                        },
                        src_port: d.src_port,
                        request_body: d.request_body.as_ref().map_or(0, |b| b.get_ref().0),
                        verbose: d.verbose.unwrap_or(!*churn),
                    }),
                });
            }
            AppSection::Receiver(d) => {
                let host = host_of(cx, &d.host, &format!("{path}.host"))?;
                app_configs.push(AppConfig {
                    host,
                    spec: AppSpec::Receiver(ReceiverSpec {
                        port: d.port,
                        backlog: d.backlog,
                        close_at: d.close_at.map(|x| x.0),
                        reply: d.reply.map_or(0, |b| b.0),
                    }),
                });
            }
        }
    }
    Ok(app_configs)
}

/// `[output]`'s tables of sockets; `socket_counts` is on when any app uses TCP.
fn observe(output: &OutputSection, apps: &[AppConfig]) -> Observe {
    Observe {
        netstat_at: output.netstat_at.iter().map(|d| d.0).collect(),
        netstat_on_change: output.netstat_on_change,
        counts: match output.socket_counts {
            Some(c) => c.on(),
            None => apps.iter().any(|a| !matches!(a.spec, AppSpec::Datagram(_))),
        },
        tcp_probe: output.tcp_probe,
    }
}

/// Most routes one node's table may start with: the simulator's routing table keeps them in a
/// sorted list, so building it costs the square of this.
pub const MAX_ROUTES: usize = 10_000;

/// Largest HTTP body (response or request): each is built whole in memory when the world is
/// built and written with one `send()`, so it is bounded rather than produced lazily.
pub const MAX_BODY_BYTES: u64 = 64 << 20;

/// Refuses a body larger than [`MAX_BODY_BYTES`].
fn check_body(cx: &Ctx<'_>, body: &Spanned<Bytes>, field: &str) -> Result<(), ScenarioError> {
    let n = body.get_ref().0;
    if n > MAX_BODY_BYTES {
        return Err(cx.error(
            body.span(),
            field,
            format!(
                "{n} bytes is too large: an HTTP body is held whole in memory, so it may be at most {MAX_BODY_BYTES} bytes (64 MiB)"
            ),
        ));
    }
    Ok(())
}

/// Resolves an app's host, which must be a host and not a router.
fn host_of(cx: &Ctx<'_>, name: &Spanned<String>, field: &str) -> Result<NodeId, ScenarioError> {
    let id = cx.node(name, field)?;
    if cx.nodes[id.0 as usize].kind != NodeKind::Host {
        return Err(cx.error(
            name.span(),
            field,
            format!(
                "`{}` is a router; applications run on hosts",
                name.get_ref()
            ),
        ));
    }
    Ok(id)
}

/// Warns (at byte `at`, field `field`) when an app on `host` cannot reach `dst` over the t = 0
/// routes, and, for TCP (`both_ways`), when the peer's replies cannot come back: a connection
/// needs both directions, and a missing return route otherwise shows only as timeouts.
fn route_warnings(
    cx: &Ctx<'_>,
    host: NodeId,
    dst: Ipv4Addr,
    both_ways: bool,
    at: usize,
    field: &str,
    warnings: &mut Vec<Warning>,
) {
    let mut warn = |message: String| {
        warnings.push(Warning {
            location: Location::at(cx.file, cx.source, at),
            field: field.to_string(),
            message,
        });
    };
    if let Some(problem) = reachability(cx, host, dst) {
        warn(format!("at t = 0, {problem}"));
        return;
    }
    let peer = cx.nodes.iter().position(|n| n.addrs.contains(&dst));
    let src = cx.nodes[host.0 as usize].addrs.first().copied();
    if let (true, Some(peer), Some(src)) = (both_ways, peer, src)
        && peer != host.0 as usize
        && let Some(problem) = reachability(cx, NodeId(peer as u32), src)
    {
        warn(format!(
            "at t = 0, replies from `{}` cannot come back: {problem}",
            cx.nodes[peer].name
        ));
    }
}

/// Follows the t = 0 tables from `from` towards `dst`; describes the problem if it never arrives.
fn reachability(cx: &Ctx<'_>, from: NodeId, dst: Ipv4Addr) -> Option<String> {
    let tables = cx.by_prefix.get_or_init(|| {
        cx.nodes
            .iter()
            .map(|n| n.routes.iter().copied().collect())
            .collect()
    });
    let mut path = vec![from];
    let mut visited: HashSet<NodeId> = HashSet::from([from]);
    let mut at = from;
    loop {
        let node = &cx.nodes[at.0 as usize];
        if node.addrs.contains(&dst) {
            return None;
        }
        if node.kind == NodeKind::Host && at != from {
            return Some(format!(
                "packets for {dst} reach host `{}`, which does not forward",
                node.name
            ));
        }
        // Longest prefix match: the longest of the 33 prefixes of `dst` the node has a route for.
        let table = &tables[at.0 as usize];
        let best = (0..=32u8)
            .rev()
            .find_map(|len| table.get(&Prefix::new(dst, len)).copied());
        let next = match best {
            None | Some(RouteTarget::Remove) => {
                return Some(format!("`{}` has no route to {dst}", node.name));
            }
            Some(RouteTarget::Drop) => {
                return Some(format!("`{}` drops packets for {dst}", node.name));
            }
            Some(RouteTarget::Via(n)) => n,
        };
        if !visited.insert(next)
            && let Some(start) = path.iter().position(|n| *n == next)
        {
            let cycle: Vec<&str> = path[start..]
                .iter()
                .chain(std::iter::once(&next))
                .map(|n| cx.name(*n))
                .collect();
            return Some(format!("packets for {dst} loop: {}", cycle.join(" -> ")));
        }
        path.push(next);
        at = next;
    }
}
