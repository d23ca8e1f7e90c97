//! The sweep's headline figure: the proportion of runs with a corrupted stream against the x
//! parameter, one line per value of the other parameters, with 95 % Wilson intervals as error
//! bars.
//!
//! Series stay apart where their values meet: each has its own colour and marker shape, and
//! the error bars and markers of different lines are nudged a few pixels sideways. Series with
//! the same values at every point share one line drawn in turns (dashes and markers of each
//! colour in turn), their bars drawn once, and the subtitle names them: "rfc793-clock =
//! rfc6528, at every point".

use super::metric::{Kind, Metric};
use super::plan::Plan;
use super::table::SummaryRow;
use crate::report::plot::{LineChart, Series};
use crate::report::plural;

/// The figure for `rows` (one per grid point, in grid order): the first chosen metric's, or
/// without chosen metrics the proportion of runs with a corrupted stream.
pub fn chart(plan: &Plan, rows: &[SummaryRow]) -> LineChart {
    match plan.spec.metrics.as_deref().and_then(|m| m.first()) {
        Some(m) => metric_chart(plan, rows, 0, m),
        None => {
            let seeds = plan.spec.seeds.len();
            series_chart(
                plan,
                rows,
                |r| Some((r.proportion, r.wilson.0, r.wilson.1)),
                Labels {
                    title: format!(
                        "Runs with a corrupted stream ({seeds} seed{} per point, 95% Wilson intervals)",
                        plural(seeds as u64)
                    ),
                    single: "runs with a corrupted stream".into(),
                    y_label: "P(corrupted stream)".into(),
                    y_range: Some((0.0, 1.0)),
                },
            )
        }
    }
}

/// Every figure of a sweep: (file stem, chart); `sweep` first, then `sweep_<metric>` for each
/// chosen metric after the first.
pub fn charts(plan: &Plan, rows: &[SummaryRow]) -> Vec<(String, LineChart)> {
    let mut out = vec![("sweep".to_string(), chart(plan, rows))];
    for (i, m) in plan.spec.metrics.iter().flatten().enumerate().skip(1) {
        out.push((m.file_stem(), metric_chart(plan, rows, i, m)));
    }
    out
}

/// The figure of chosen metric `i`.
fn metric_chart(plan: &Plan, rows: &[SummaryRow], i: usize, m: &Metric) -> LineChart {
    let seeds = plan.spec.seeds.len();
    let (what, y_label) = m.describe();
    let interval = if m.is_proportion() {
        "95% Wilson intervals"
    } else {
        "mean, 95% t intervals"
    };
    series_chart(
        plan,
        rows,
        |r| {
            let s = r.metrics.get(i)?;
            s.value.is_finite().then_some((s.value, s.lo, s.hi))
        },
        Labels {
            title: format!(
                "{what} ({seeds} seed{} per point, {interval})",
                plural(seeds as u64)
            ),
            // Alone, the line needs no legend: the title and the y label name it.
            single: String::new(),
            y_label: plan
                .spec
                .y_labels
                .iter()
                .find(|(name, _)| *name == m.name)
                .map_or_else(|| statistic_label(m, &what, &y_label), |(_, l)| l.clone()),
            y_range: m.is_proportion().then_some((0.0, 1.0)),
        },
    )
}

/// The y axis's words, naming the statistic drawn: "P(corrupted stream)" for a proportion,
/// "mean corrupted bytes" or "mean lost duplicates (segments)" for a mean of a count.
fn statistic_label(m: &Metric, what: &str, unit: &str) -> String {
    if m.is_proportion() {
        return "P(corrupted stream)".into();
    }
    let what = what.strip_suffix(" per run").unwrap_or(what);
    // "Corrupted bytes" reads "corrupted bytes"; "TIME_WAIT" and "curl" stay as they are.
    let mut chars = what.chars();
    let lower = match (chars.next(), chars.next()) {
        (Some(a), Some(b)) if a.is_uppercase() && b.is_lowercase() => {
            a.to_lowercase().chain(what.chars().skip(1)).collect()
        }
        _ => what.to_string(),
    };
    let unit = if unit == "seconds" { "s" } else { unit };
    // As a word: "s" is in "longest" but names no unit there.
    let named = lower
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .any(|w| w == unit);
    if named || unit.is_empty() {
        format!("mean {lower}")
    } else {
        format!("mean {lower} ({unit})")
    }
}

/// A figure's words.
struct Labels {
    title: String,
    /// The line's name when nothing else is swept.
    single: String,
    y_label: String,
    y_range: Option<(f64, f64)>,
}

/// One line per combination of the parameters other than x, through `value(row)` = (y, lo,
/// hi); the interval is drawn as a band where it exists.
fn series_chart(
    plan: &Plan,
    rows: &[SummaryRow],
    value: impl Fn(&SummaryRow) -> Option<(f64, f64, f64)>,
    labels: Labels,
) -> LineChart {
    let params = &plan.spec.parameters;
    let others: Vec<usize> = (0..params.len())
        .filter(|&i| Some(i) != plan.spec.x)
        .collect();
    // A parameter is named by its last path segment unless another one shares it.
    let short = |i: usize| -> String {
        let path = params[i].path.as_str();
        let last = path.rsplit('.').next().unwrap_or(path);
        let shared = params
            .iter()
            .filter(|p| p.path.rsplit('.').next() == Some(last))
            .count()
            > 1;
        if shared {
            path.to_string()
        } else {
            last.to_string()
        }
    };

    // Series in order of first appearance in the grid: the file's order of values.
    let mut keys: Vec<Vec<usize>> = Vec::new();
    let mut members: Vec<Vec<&SummaryRow>> = Vec::new();
    for row in rows {
        let Some(pt) = plan.points.get(row.grid) else {
            continue;
        };
        let key: Vec<usize> = others.iter().map(|&i| pt.values[i]).collect();
        match keys.iter().position(|k| *k == key) {
            Some(s) => members[s].push(row),
            None => {
                keys.push(key);
                members.push(vec![row]);
            }
        }
    }
    let mut series: Vec<Series> = keys
        .iter()
        .zip(members)
        .map(|(key, mut rows)| {
            rows.sort_by(|a, b| a.x.total_cmp(&b.x));
            let name = if others.is_empty() {
                labels.single.clone()
            } else {
                others
                    .iter()
                    .zip(key)
                    .map(|(&i, &v)| format!("{} = {}", short(i), params[i].label(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let values: Vec<(f64, (f64, f64, f64))> = rows
                .iter()
                .filter_map(|r| value(r).map(|v| (r.x, v)))
                .collect();
            let points = values.iter().map(|(x, (y, _, _))| (*x, *y)).collect();
            let band: Vec<(f64, f64, f64)> = values
                .iter()
                .filter(|(_, (_, lo, hi))| lo.is_finite() && hi.is_finite())
                .map(|(x, (_, lo, hi))| (*x, *lo, *hi))
                .collect();
            let s = Series::new(name, points).with_markers();
            if band.is_empty() {
                s
            } else {
                s.with_band(band)
            }
        })
        .collect();
    // Series with the same values (and intervals) at every point share one line, drawn in
    // turns so each stays visible, and the subtitle names them.
    let groups = coinciding(&series);
    let mut notes = Vec::new();
    for g in &groups {
        let of = g.len();
        for (slot, &i) in g.iter().enumerate() {
            series[i] = std::mem::take(&mut series[i]).sharing(g[0], slot, of);
        }
        let names: Vec<&str> = g
            .iter()
            .map(|&i| {
                let name = series[i].name.as_str();
                // One parameter: its values alone, the parameter named once before them.
                if others.len() == 1 {
                    name.split_once(" = ").map_or(name, |x| x.1)
                } else {
                    name
                }
            })
            .collect();
        notes.push(names.join(" = "));
    }
    let subtitle = if notes.is_empty() {
        String::new()
    } else {
        let of = if others.len() == 1 {
            format!(" ({})", short(others[0]))
        } else {
            String::new()
        };
        let all = groups.len() == 1 && groups[0].len() == series.len();
        format!(
            "{}{of}: {}, at every point (one line in alternating colours)",
            if all {
                "All series coincide"
            } else {
                "Series that coincide"
            },
            notes.join("; ")
        )
    };
    let mut vlines = Vec::new();
    if plan.x_is_time_wait {
        vlines.push((1.0, "MSL".to_string()));
        vlines.push((2.0, "2 x MSL".to_string()));
        if let Some((secs, msl)) = longest_lifetime(plan, rows) {
            let x = secs / msl;
            vlines.push((
                x,
                format!("longest old segment lifetime {secs:.3} s = {x:.2} MSL"),
            ));
        }
    }
    LineChart {
        title: labels.title,
        subtitle,
        x_label: plan.x_label.clone(),
        y_label: labels.y_label,
        series,
        x_range: None,
        y_range: labels.y_range,
        vlines,
        hlines: Vec::new(),
        error_bars: true,
    }
}

/// Groups (of indices, in order) of two or more series with the same points and the same
/// intervals, each non-empty.
fn coinciding(series: &[Series]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut taken = vec![false; series.len()];
    for i in 0..series.len() {
        if taken[i] || series[i].points.is_empty() {
            continue;
        }
        let same: Vec<usize> = (i..series.len())
            .filter(|&j| {
                !taken[j]
                    && series[j].points == series[i].points
                    && series[j].band == series[i].band
            })
            .collect();
        if same.len() > 1 {
            for &j in &same {
                taken[j] = true;
            }
            groups.push(same);
        }
    }
    groups
}

/// With a `duplicate_lifetime_max` metric: the longest lifetime of a lost duplicate over every
/// run (seconds) and the MSL that TIME_WAIT is counted in (seconds), for a mark on the axis.
fn longest_lifetime(plan: &Plan, rows: &[SummaryRow]) -> Option<(f64, f64)> {
    let i = plan
        .spec
        .metrics
        .iter()
        .flatten()
        .position(|m| m.kind == Kind::DuplicateLifetimeMax)?;
    let secs = rows
        .iter()
        .filter_map(|r| r.metrics.get(i).map(|s| s.max))
        .filter(|v| v.is_finite())
        .fold(f64::NAN, f64::max);
    let msl = plan
        .points
        .first()?
        .scenario
        .config
        .nodes
        .iter()
        .find(|n| n.kind == crate::net::NodeKind::Host)?
        .tcp
        .msl
        .as_secs_f64();
    (secs.is_finite() && msl > 0.0).then_some((secs, msl))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_coincide_only_with_the_same_points_and_intervals() {
        let s = |y: f64, hi: f64| {
            Series::new("s", vec![(0.0, y), (1.0, y)])
                .with_band(vec![(0.0, 0.0, hi), (1.0, 0.0, hi)])
        };
        let series = vec![
            s(1.0, 1.0),
            s(0.0, 0.1),
            s(1.0, 1.0),
            s(0.0, 0.1),
            // The same means, a wider interval: drawn apart.
            s(0.0, 0.2),
            Series::new("empty", vec![]),
            Series::new("empty too", vec![]),
        ];
        assert_eq!(coinciding(&series), vec![vec![0, 2], vec![1, 3]]);
        assert!(coinciding(&series[..2]).is_empty());
    }

    #[test]
    fn the_y_label_names_the_unit_unless_the_words_already_do() {
        let label = |name: &str| {
            let m = Metric::parse(name, &[]).unwrap();
            let (what, unit) = m.describe();
            statistic_label(&m, &what, &unit)
        };
        assert_eq!(label("corrupted"), "P(corrupted stream)");
        assert_eq!(label("corrupted_bytes"), "mean corrupted bytes");
        // "s" is in "longest", yet the axis still needs its unit.
        assert_eq!(
            label("duplicate_lifetime_max"),
            "mean longest lost-duplicate lifetime (s)"
        );
    }
}
