//! The sweep's headline figure: the proportion of runs with a corrupted stream against the x
//! parameter, one line per value of the other parameters, with 95 % Wilson bands.

use super::plan::Plan;
use super::table::SummaryRow;
use crate::report::plot::{LineChart, Series};
use crate::report::plural;

/// The figure for `rows` (one per grid point, in grid order).
pub fn chart(plan: &Plan, rows: &[SummaryRow]) -> LineChart {
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
                "runs with a corrupted stream".to_string()
            } else {
                others
                    .iter()
                    .zip(key)
                    .map(|(&i, &v)| format!("{} = {}", short(i), params[i].label(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let points = rows.iter().map(|r| (r.x, r.proportion)).collect();
            let band = rows.iter().map(|r| (r.x, r.wilson.0, r.wilson.1)).collect();
            Series::new(name, points).with_markers().with_band(band)
        })
        .collect();
    // A line that coincides with an earlier one is dashed, so both stay visible.
    for i in 1..series.len() {
        if series[..i].iter().any(|s| s.points == series[i].points) {
            series[i] = std::mem::take(&mut series[i]).dashed();
        }
    }
    let seeds = plan.spec.seeds.len();
    let mut vlines = Vec::new();
    if plan.x_is_time_wait {
        vlines.push((1.0, "MSL".to_string()));
        vlines.push((2.0, "2 x MSL".to_string()));
    }
    LineChart {
        title: format!(
            "Runs with a corrupted stream ({seeds} seed{} per point, 95% Wilson bands)",
            plural(seeds as u64)
        ),
        x_label: plan.x_label.clone(),
        y_label: "proportion of runs".into(),
        series,
        x_range: None,
        y_range: Some((0.0, 1.0)),
        vlines,
    }
}
