//! Charts as SVG, drawn with plotters (SVG backend only: the text is SVG `<text>` that the viewer
//! renders, so building needs no font library). Each chart has a title and axes with units, to
//! read without the CSV. Pure: every function returns `(file name, SVG text)` pairs and
//! [`super::write_charts`] writes them.
//!
//! For a run ([`run_charts`]): tasks and instances over time with scaling, instance and
//! placement events marked; CPU utilization; request rate and 5xx errors; p50/p95/p99 latency
//! with the SLO threshold; cumulative cost. A chart whose columns the run does not have, or
//! whose series are all zero (no traffic), is left out.
//!
//! For a sweep ([`sweep_charts`]): each metric's mean with its 95% confidence band against one
//! parameter, one line per value of a second, one panel per combination of the others; a heatmap
//! of the objective and constrained metrics over two parameters; and the Pareto front.

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;

use crate::engine::{MINUTE, SimTime};
use crate::record::{EventKind, RunResult, ServiceSample};
use crate::sweep::SweepSpec;
use crate::sweep::aggregate::PointAggregate;
use crate::sweep::objective::Direction;

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Drawn = Result<(), String>;

const FONT: &str = "sans-serif";
const WIDTH: u32 = 960;
/// Most panels in one chart; a sweep with more combinations shows the first ones and says so.
const MAX_PANELS: usize = 12;

/// Tableau 10: distinct, readable on white.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// What a run's charts know beyond its result.
#[derive(Clone, Debug, Default)]
pub struct RunContext {
    /// The SLO: latency percentile and threshold, ms.
    pub slo: Option<(f64, f64)>,
}

impl RunContext {
    pub fn from_scenario(s: Option<&crate::Scenario>) -> RunContext {
        RunContext { slo: s.and_then(|s| s.slo.as_ref()).map(|slo| (slo.percentile, slo.threshold as f64)) }
    }
}

/// Renders a chart of `w`×`h` into an SVG string.
fn svg(w: u32, h: u32, draw: impl FnOnce(&Area<'_>) -> Drawn) -> Result<String, String> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(&root)?;
        root.present().map_err(err)?;
    }
    Ok(buf)
}

/// The unit of a metric, from its name.
pub fn unit(metric: &str) -> &'static str {
    if metric.ends_with("_ms") {
        "ms"
    } else if metric.ends_with("_pct") {
        "%"
    } else if metric == "cost_per_million_requests" {
        "USD per million requests"
    } else if metric.ends_with("_usd") {
        "USD"
    } else if metric == "error_rate" {
        "fraction of requests"
    } else if metric.ends_with("_minutes") {
        "task-minutes"
    } else {
        "count"
    }
}

fn padded(lo: f64, hi: f64, from_zero: bool) -> std::ops::Range<f64> {
    let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    if from_zero && lo >= 0.0 {
        lo = 0.0;
    }
    if hi - lo < 1e-9 {
        hi = lo + lo.abs().max(1.0) * 0.1;
        if !from_zero {
            lo -= lo.abs().max(1.0) * 0.1;
        }
    }
    let pad = (hi - lo) * 0.08;
    (if from_zero && lo >= 0.0 { lo } else { lo - pad })..hi + pad
}

/// The share of a chart's height to keep free above the data for a legend of `entries` lines.
fn legend_room(entries: usize) -> f64 {
    (0.08 + 0.075 * entries as f64).min(0.6)
}

/// Short text for a number on an axis or in a cell.
fn short(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if a >= 1e4 {
        format!("{:.1}k", x / 1e3)
    } else if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 1.0 {
        format!("{x:.2}").trim_end_matches('0').trim_end_matches('.').to_string()
    } else if a >= 0.001 {
        format!("{x:.4}").trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{x:.1e}")
    }
}

// ---------------------------------------------------------------------------------------------
// Run charts

/// A column of one service over time: (minute or hour, value).
fn series(r: &RunResult, service: usize, column: &str, scale: f64) -> Vec<(f64, f64)> {
    let Some(k) = ServiceSample::column_index(column) else { return Vec::new() };
    r.timeseries
        .iter()
        .filter(|s| s.service == service)
        .map(|s| (s.time as f64 / scale, s.values()[k].as_f64()))
        .collect()
}

fn has_column(c: &str) -> bool {
    ServiceSample::COLUMNS.contains(&c)
}

/// The time axis: minutes, or hours for runs over six hours.
fn time_axis(r: &RunResult) -> (f64, &'static str, f64) {
    let end = r.timeseries.iter().map(|s| s.time).max().unwrap_or(MINUTE).max(MINUTE);
    let hour: SimTime = 60 * MINUTE;
    if end > 6 * hour {
        (hour as f64, "time (h)", end as f64 / hour as f64)
    } else {
        (MINUTE as f64, "time (min)", end as f64 / MINUTE as f64)
    }
}

/// One line of a chart.
struct Line {
    label: String,
    points: Vec<(f64, f64)>,
    color: RGBColor,
    dashed: bool,
    width: u32,
}

/// Event markers drawn along the top of a time chart.
struct Marks {
    label: &'static str,
    times: Vec<f64>,
    color: RGBColor,
}

/// A time chart in `area`: lines, optional horizontal threshold, event marks.
#[allow(clippy::too_many_arguments)]
fn time_panel(
    area: &Area<'_>,
    title: &str,
    x_desc: &str,
    x_end: f64,
    y_desc: &str,
    lines: &[Line],
    threshold: Option<(f64, String)>,
    marks: &[Marks],
) -> Drawn {
    let ys = lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)).chain(threshold.iter().map(|t| t.0));
    let hi = ys.fold(0.0f64, f64::max);
    // Head room above the data for the legend in the upper left corner.
    let entries = lines.len() + usize::from(threshold.is_some()) + marks.iter().filter(|m| !m.times.is_empty()).count();
    let y = padded(0.0, hi / (1.0 - legend_room(entries)), true);
    let counts = y_desc.contains("(count)");
    let top = y.end;
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 17))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..x_end.max(1e-9), y)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&|v| short(*v))
        .y_label_formatter(&|v| if counts && v.fract() != 0.0 { String::new() } else { short(*v) })
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .light_line_style(RGBColor(246, 246, 246))
        .draw()
        .map_err(err)?;
    for l in lines {
        let style = l.color.stroke_width(l.width);
        if l.dashed {
            chart
                .draw_series(DashedLineSeries::new(l.points.iter().copied(), 6, 4, style))
                .map_err(err)?
                .label(l.label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        } else {
            chart
                .draw_series(LineSeries::new(l.points.iter().copied(), style))
                .map_err(err)?
                .label(l.label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        }
    }
    if let Some((v, label)) = threshold {
        let style = RED.stroke_width(2);
        chart
            .draw_series(DashedLineSeries::new([(0.0, v), (x_end, v)], 8, 5, style))
            .map_err(err)?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
    }
    for (k, m) in marks.iter().enumerate() {
        if m.times.is_empty() {
            continue;
        }
        let y = top * (0.97 - 0.05 * k as f64);
        let c = m.color;
        chart
            .draw_series(m.times.iter().map(|&t| TriangleMarker::new((t, y), 5, c.filled())))
            .map_err(err)?
            .label(format!("{} ({})", m.label, m.times.len()))
            .legend(move |(x, y)| TriangleMarker::new((x + 9, y), 5, c.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .draw()
        .map_err(err)
}

/// Splits `root` under a title into one row per panel.
fn panels<'a>(root: &Area<'a>, title: &str, n: usize) -> Result<Vec<Area<'a>>, String> {
    let body = root.titled(title, (FONT, 21)).map_err(err)?;
    Ok(body.split_evenly((n.max(1), 1)))
}

fn event_times(r: &RunResult, kinds: &[EventKind], service: Option<&str>, scale: f64) -> Vec<f64> {
    r.events
        .iter()
        .filter(|e| kinds.contains(&e.kind) && service.is_none_or(|s| e.service.is_empty() || e.service == s))
        .map(|e| e.time as f64 / scale)
        .collect()
}

/// A run's charts; see the module documentation.
pub fn run_charts(r: &RunResult, cx: &RunContext) -> Vec<(String, String)> {
    let mut out: Vec<(String, Result<String, String>)> = Vec::new();
    if r.timeseries.is_empty() {
        return Vec::new();
    }
    let (scale, x_desc, x_end) = time_axis(r);
    let services: Vec<usize> = (0..r.services.len()).collect();
    let shown = &services[..services.len().min(MAX_PANELS)];
    let any = |c: &str| has_column(c) && r.timeseries.iter().any(|s| s.column(c).is_some_and(|v| v.as_f64() != 0.0));
    let panel_height = |n: usize| (330 * n as u32 + 40).max(380);

    // Tasks and instances.
    let tasks = svg(WIDTH, panel_height(shown.len()), |root| {
        let areas = panels(root, "Tasks and container instances over time", shown.len())?;
        for (&s, area) in shown.iter().zip(&areas) {
            let name = &r.services[s];
            let mut lines = Vec::new();
            // Desired last, dashed, so that it shows on top of running.
            for (c, k) in [("running", 1), ("pending", 2), ("desired", 0)] {
                if has_column(c) {
                    lines.push(Line {
                        label: c.into(),
                        points: series(r, s, c, scale),
                        color: color(k),
                        dashed: c == "desired",
                        width: 2,
                    });
                }
            }
            if has_column("instances") {
                lines.push(Line {
                    label: "instances (cluster)".into(),
                    points: series(r, s, "instances", scale),
                    color: RGBColor(60, 60, 60),
                    dashed: false,
                    width: 1,
                });
            }
            let marks = [
                Marks {
                    label: "desired count changed",
                    times: event_times(r, &[EventKind::DesiredCountChanged], Some(name), scale),
                    color: color(2),
                },
                Marks {
                    label: "instance launched/drained/terminated",
                    times: event_times(
                        r,
                        &[
                            EventKind::InstanceLaunched,
                            EventKind::InstanceDraining,
                            EventKind::InstanceTerminated,
                            EventKind::InstanceActivated,
                        ],
                        None,
                        scale,
                    )
                    .into_iter()
                    .filter(|&t| t > 0.0)
                    .collect(),
                    color: color(4),
                },
                Marks {
                    label: "placement failed",
                    times: event_times(r, &[EventKind::PlacementFailed], Some(name), scale),
                    color: color(3),
                },
            ];
            time_panel(
                area,
                &format!("service {name}"),
                x_desc,
                x_end,
                "tasks / instances (count)",
                &lines,
                None,
                &marks,
            )?;
        }
        Ok(())
    });
    out.push(("tasks.svg".to_string(), tasks));

    let per_service = |column: &str, title: &str, y_desc: &str, extra: Option<(&str, &str)>| {
        svg(WIDTH, 460, |root| {
            let mut lines = Vec::new();
            for &s in shown {
                let name = &r.services[s];
                lines.push(Line {
                    label: name.clone(),
                    points: series(r, s, column, scale),
                    color: color(s),
                    dashed: false,
                    width: 2,
                });
                if let Some((c, label)) = extra
                    && has_column(c)
                {
                    lines.push(Line {
                        label: format!("{name} {label}"),
                        points: series(r, s, c, scale),
                        color: color(s),
                        dashed: true,
                        width: 1,
                    });
                }
            }
            let area = root.titled(title, (FONT, 21)).map_err(err)?;
            time_panel(&area, "", x_desc, x_end, y_desc, &lines, None, &[])
        })
    };
    if any("cpu_util_pct") {
        out.push((
            "cpu.svg".to_string(),
            per_service(
                "cpu_util_pct",
                "CPU utilization per service (ECS CPUUtilization; dashed: CPU reserved in the cluster)",
                "% of the tasks' reserved CPU",
                Some(("cpu_reserved_pct", "reserved % of cluster")),
            ),
        ));
    }
    if any("rps") {
        out.push((
            "requests.svg".to_string(),
            svg(WIDTH, 460, |root| {
                let mut lines = Vec::new();
                for &s in shown {
                    let name = &r.services[s];
                    lines.push(Line {
                        label: format!("{name} requests/s"),
                        points: series(r, s, "rps", scale),
                        color: color(s),
                        dashed: false,
                        width: 2,
                    });
                    if any("errors_5xx") {
                        let errors =
                            series(r, s, "errors_5xx", scale).into_iter().map(|(t, e)| (t, e / 60.0)).collect();
                        lines.push(Line {
                            label: format!("{name} 5xx/s"),
                            points: errors,
                            color: color(3),
                            dashed: true,
                            width: 2,
                        });
                    }
                }
                let area = root.titled("Request rate and 5xx errors through the ALB", (FONT, 21)).map_err(err)?;
                time_panel(&area, "", x_desc, x_end, "requests per second", &lines, None, &[])
            }),
        ));
    }
    if any("p99_ms") {
        out.push((
            "latency.svg".to_string(),
            svg(WIDTH, panel_height(shown.len()), |root| {
                let areas = panels(root, "Response time percentiles per minute", shown.len())?;
                for (&s, area) in shown.iter().zip(&areas) {
                    let lines: Vec<Line> = ["p50_ms", "p95_ms", "p99_ms"]
                        .into_iter()
                        .enumerate()
                        .filter(|(_, c)| has_column(c))
                        .map(|(k, c)| Line {
                            label: c.trim_end_matches("_ms").to_string(),
                            points: series(r, s, c, scale),
                            color: color(k),
                            dashed: false,
                            width: 2,
                        })
                        .collect();
                    let slo = cx.slo.map(|(p, t)| (t, format!("SLO: p{} ≤ {} ms", short(p), short(t))));
                    time_panel(area, &format!("service {}", r.services[s]), x_desc, x_end, "ms", &lines, slo, &[])?;
                }
                Ok(())
            }),
        ));
    }
    if any("cumulative_cost_usd") {
        out.push((
            "cost.svg".to_string(),
            svg(WIDTH, 460, |root| {
                let mut lines = Vec::new();
                let mut total: Vec<(f64, f64)> = Vec::new();
                for &s in &services {
                    let pts = series(r, s, "cumulative_cost_usd", scale);
                    if total.is_empty() {
                        total = pts.clone();
                    } else {
                        for (t, p) in total.iter_mut().zip(&pts) {
                            t.1 += p.1;
                        }
                    }
                    if services.len() > 1 && s < MAX_PANELS {
                        lines.push(Line {
                            label: r.services[s].clone(),
                            points: pts,
                            color: color(s),
                            dashed: true,
                            width: 1,
                        });
                    }
                }
                lines.insert(
                    0,
                    Line {
                        label: "cluster total".into(),
                        points: total,
                        color: RGBColor(30, 30, 30),
                        dashed: false,
                        width: 2,
                    },
                );
                let area = root.titled("Cumulative EC2 cost", (FONT, 21)).map_err(err)?;
                time_panel(&area, "", x_desc, x_end, "USD", &lines, None, &[])
            }),
        ));
    }
    out.into_iter().filter_map(|(n, s)| s.ok().map(|s| (n, s))).collect()
}

// ---------------------------------------------------------------------------------------------
// Sweep charts

/// A float axis whose ticks sit exactly at the parameter's values (plotters' own
/// `with_key_points` cannot take a custom label formatter).
#[derive(Clone)]
struct KeyAxis {
    range: std::ops::Range<f64>,
    keys: Vec<f64>,
}

impl KeyAxis {
    fn new(range: std::ops::Range<f64>, keys: Vec<f64>) -> KeyAxis {
        KeyAxis { range, keys }
    }
}

impl Ranged for KeyAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        let f = if span > 0.0 { (v - self.range.start) / span } else { 0.5 };
        limit.0 + (f * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        let max = hint.max_num_points().max(1);
        let step = self.keys.len().div_ceil(max).max(1);
        self.keys.iter().step_by(step).copied().collect()
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.range.clone()
    }
}

/// How the sweep's axes map onto a chart: x, lines, panels (indices into `grid.axes`).
struct Layout {
    x: usize,
    lines: Option<usize>,
    panels: Vec<usize>,
}

fn layout(spec: &SweepSpec) -> Option<Layout> {
    let axes = &spec.grid.axes;
    if axes.is_empty() {
        return None;
    }
    let axis_of = |name: &str| axes.iter().position(|a| a.parameters.iter().any(|p| p.name == name));
    let numeric = |i: usize| axes[i].parameters[0].values.iter().all(|v| v.number.is_some());
    let x = spec
        .charts
        .x
        .as_deref()
        .and_then(axis_of)
        .or_else(|| (0..axes.len()).find(|&i| numeric(i) && axes[i].len() > 1))
        .unwrap_or(0);
    let lines = spec
        .charts
        .lines
        .as_deref()
        .and_then(axis_of)
        .filter(|&l| l != x)
        .or_else(|| (0..axes.len()).find(|&i| i != x));
    let panels = (0..axes.len()).filter(|&i| i != x && Some(i) != lines).collect();
    Some(Layout { x, lines, panels })
}

/// The x position of each value of an axis: the number (its log for a log range) when numeric,
/// else the index.
fn positions(spec: &SweepSpec, axis: usize) -> (Vec<f64>, bool) {
    let p = &spec.grid.axes[axis].parameters[0];
    if p.values.iter().all(|v| v.number.is_some()) && p.values.len() > 1 {
        let xs =
            p.values.iter().map(|v| v.number.unwrap_or(0.0)).map(|x| if p.log_scale { x.ln() } else { x }).collect();
        (xs, true)
    } else {
        ((0..p.values.len()).map(|i| i as f64).collect(), false)
    }
}

/// The combinations of the panel axes: each a list of (axis, position).
fn panel_combos(spec: &SweepSpec, panel_axes: &[usize]) -> Vec<Vec<(usize, usize)>> {
    let mut combos: Vec<Vec<(usize, usize)>> = vec![vec![]];
    for &a in panel_axes {
        let n = spec.grid.axes[a].len();
        combos = combos.into_iter().flat_map(|c| (0..n).map(move |i| [c.clone(), vec![(a, i)]].concat())).collect();
    }
    combos
}

fn combo_title(spec: &SweepSpec, combo: &[(usize, usize)]) -> String {
    combo
        .iter()
        .map(|&(a, i)| format!("{} = {}", spec.grid.axes[a].name(), spec.grid.axes[a].label(i)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The point at the given position on every axis.
fn point_at(spec: &SweepSpec, coords: &[usize]) -> usize {
    coords.iter().zip(&spec.grid.axes).fold(0, |p, (&i, a)| p * a.len() + i)
}

fn metric_index(spec: &SweepSpec, m: &str) -> Option<usize> {
    spec.metrics.iter().position(|x| x == m)
}

/// A sweep's charts; see the module documentation. Empty for a sweep without parameters.
pub fn sweep_charts(spec: &SweepSpec, points: &[PointAggregate]) -> Vec<(String, String)> {
    let Some(lay) = layout(spec) else { return Vec::new() };
    let mut out = Vec::new();
    for (m, metric) in spec.metrics.iter().enumerate() {
        if let Ok(s) = metric_chart(spec, points, &lay, m) {
            out.push((format!("{metric}.svg"), s));
        }
    }
    if let Some(lines) = lay.lines {
        let mut heat: Vec<&String> =
            spec.objective.iter().map(|o| &o.metric).chain(spec.constraints.iter().map(|c| &c.metric)).collect();
        if heat.is_empty() {
            heat = spec.metrics.iter().collect();
        }
        heat.dedup();
        let mut seen = Vec::new();
        for metric in heat {
            if seen.contains(&metric) {
                continue;
            }
            seen.push(metric);
            if let Some(m) = metric_index(spec, metric)
                && let Ok(s) = heatmap(spec, points, &lay, lines, m)
            {
                out.push((format!("heatmap-{metric}.svg"), s));
            }
        }
    }
    if spec.pareto.is_some()
        && let Ok(s) = pareto_chart(spec, points)
    {
        out.push(("pareto.svg".to_string(), s));
    }
    out
}

fn metric_chart(spec: &SweepSpec, points: &[PointAggregate], lay: &Layout, m: usize) -> Result<String, String> {
    let metric = &spec.metrics[m];
    let combos = panel_combos(spec, &lay.panels);
    let shown = &combos[..combos.len().min(MAX_PANELS)];
    let cols = if shown.len() > 1 { 2 } else { 1 };
    let rows = shown.len().div_ceil(cols);
    let (xs, numeric) = positions(spec, lay.x);
    let x_axis = &spec.grid.axes[lay.x];
    let log = numeric && x_axis.parameters[0].log_scale;
    let constraint = spec.constraints.iter().find(|c| c.metric == *metric);
    let nlines = lay.lines.map_or(1, |l| spec.grid.axes[l].len());
    let all_stats: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|p| p.stats[m])
        .flat_map(|s| {
            let (lo, hi) = s.ci95.unwrap_or((s.mean, s.mean));
            [(lo, hi)]
        })
        .collect();
    let lo = all_stats.iter().map(|s| s.0).chain(constraint.map(|c| c.value)).fold(f64::INFINITY, f64::min);
    let hi = all_stats.iter().map(|s| s.1).chain(constraint.map(|c| c.value)).fold(f64::NEG_INFINITY, f64::max);
    let entries = nlines + 1 + usize::from(constraint.is_some());
    let hi = hi + (hi - lo.min(0.0)).max(1e-9) * legend_room(entries) / (1.0 - legend_room(entries));
    let y_range = padded(lo, hi, lo >= 0.0);
    let (x_lo, x_hi) =
        (xs.iter().copied().fold(f64::INFINITY, f64::min), xs.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    let x_pad = if numeric { ((x_hi - x_lo) * 0.05).max(1e-9) } else { 0.5 };
    let labels: Vec<String> = (0..x_axis.len()).map(|i| x_axis.label(i)).collect();
    let reps = spec.replicates;
    let mut title = format!("{metric}: mean and 95% CI over {reps} replicate{}", if reps == 1 { "" } else { "s" });
    if combos.len() > shown.len() {
        title.push_str(&format!(" (first {} of {} panels)", shown.len(), combos.len()));
    }
    let height = (380 * rows as u32 + 60).max(460);
    svg(WIDTH, height, |root| {
        let body = root.margin(0, 26, 0, 0).titled(&title, (FONT, 21)).map_err(err)?;
        let areas = body.split_evenly((rows, cols));
        for (combo, area) in shown.iter().zip(&areas) {
            let key_points = xs.clone();
            let label_of = |v: &f64| -> String {
                xs.iter()
                    .position(|x| (x - v).abs() < 1e-9 * x.abs().max(1.0))
                    .map(|i| labels[i].clone())
                    .unwrap_or_default()
            };
            let mut chart = ChartBuilder::on(area)
                .caption(combo_title(spec, combo), (FONT, 15))
                .margin(12)
                .x_label_area_size(44)
                .y_label_area_size(70)
                .build_cartesian_2d(KeyAxis::new((x_lo - x_pad)..(x_hi + x_pad), key_points), y_range.clone())
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc(format!("{}{}", x_axis.name(), if log { " (log scale)" } else { "" }))
                .y_desc(format!("{metric} ({})", unit(metric)))
                .x_label_formatter(&label_of)
                .y_label_formatter(&|v| short(*v))
                .label_style((FONT, 14))
                .axis_desc_style((FONT, 15))
                .light_line_style(RGBColor(246, 246, 246))
                .draw()
                .map_err(err)?;
            for li in 0..nlines {
                let c = color(li);
                let mut mean = Vec::new();
                let mut band_lo = Vec::new();
                let mut band_hi = Vec::new();
                let mut feasible = Vec::new();
                let mut infeasible = Vec::new();
                let mut best = None;
                for (xi, &x) in xs.iter().enumerate() {
                    let mut coords = vec![0; spec.grid.axes.len()];
                    coords[lay.x] = xi;
                    if let Some(l) = lay.lines {
                        coords[l] = li;
                    }
                    for &(a, i) in combo {
                        coords[a] = i;
                    }
                    let p = &points[point_at(spec, &coords)];
                    let Some(s) = p.stats[m] else { continue };
                    mean.push((x, s.mean));
                    let (lo, hi) = s.ci95.unwrap_or((s.mean, s.mean));
                    band_lo.push((x, lo));
                    band_hi.push((x, hi));
                    if p.feasible {
                        feasible.push((x, s.mean))
                    } else {
                        infeasible.push((x, s.mean))
                    }
                    if p.best {
                        best = Some((x, s.mean));
                    }
                }
                if mean.is_empty() {
                    continue;
                }
                let band: Vec<(f64, f64)> = band_lo.iter().copied().chain(band_hi.iter().rev().copied()).collect();
                chart.draw_series(std::iter::once(Polygon::new(band, c.mix(0.15).filled()))).map_err(err)?;
                let label = lay.lines.map_or_else(
                    || "mean".to_string(),
                    |l| {
                        let a = &spec.grid.axes[l];
                        format!("{} = {}", a.name(), a.label(li))
                    },
                );
                let style = c.stroke_width(2);
                chart
                    .draw_series(LineSeries::new(mean, style))
                    .map_err(err)?
                    .label(label)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
                chart.draw_series(feasible.iter().map(|&p| Circle::new(p, 4, c.filled()))).map_err(err)?;
                chart.draw_series(infeasible.iter().map(|&p| Circle::new(p, 4, c.stroke_width(1)))).map_err(err)?;
                if let Some(b) = best {
                    chart
                        .draw_series(std::iter::once(Circle::new(b, 9, BLACK.stroke_width(2))))
                        .map_err(err)?
                        .label("best plan")
                        .legend(|(x, y)| Circle::new((x + 9, y), 5, BLACK.stroke_width(2)));
                }
            }
            if let Some(c) = constraint {
                let style = RED.stroke_width(2);
                chart
                    .draw_series(DashedLineSeries::new([(x_lo - x_pad, c.value), (x_hi + x_pad, c.value)], 8, 5, style))
                    .map_err(err)?
                    .label(format!("constraint {c}"))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .label_font((FONT, 13))
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(180, 180, 180))
                .draw()
                .map_err(err)?;
        }
        let note =
            "filled dots: feasible points (every replicate meets the constraints); hollow: not feasible; band: 95% CI";
        root.draw(&Text::new(note, (12, height as i32 - 16), (FONT, 14).into_font().color(&RGBColor(90, 90, 90))))
            .map_err(err)
    })
}

/// Viridis, sampled at 5 stops and interpolated.
fn viridis(t: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] =
        [(68.0, 1.0, 84.0), (59.0, 82.0, 139.0), (33.0, 145.0, 140.0), (94.0, 201.0, 98.0), (253.0, 231.0, 37.0)];
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 } * 4.0;
    let i = (t.floor() as usize).min(3);
    let f = t - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |x: f64, y: f64| (x + (y - x) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

fn heatmap(
    spec: &SweepSpec,
    points: &[PointAggregate],
    lay: &Layout,
    lines: usize,
    m: usize,
) -> Result<String, String> {
    let metric = &spec.metrics[m];
    let combos = panel_combos(spec, &lay.panels);
    let shown = &combos[..combos.len().min(MAX_PANELS)];
    let cols = if shown.len() > 1 { 2 } else { 1 };
    let rows = shown.len().div_ceil(cols);
    let (xa, ya) = (&spec.grid.axes[lay.x], &spec.grid.axes[lines]);
    let (nx, ny) = (xa.len(), ya.len());
    let means: Vec<f64> = points.iter().filter_map(|p| p.stats[m].map(|s| s.mean)).collect();
    let lo = means.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = means.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let direction = spec
        .objective
        .iter()
        .filter(|o| o.metric == *metric)
        .map(|o| o.direction)
        .chain(spec.constraints.iter().filter(|c| c.metric == *metric).filter_map(|c| c.better()))
        .next()
        .unwrap_or(Direction::Minimize);
    let mut title = format!("{metric} ({}), mean over replicates", unit(metric));
    if combos.len() > shown.len() {
        title.push_str(&format!(" (first {} of {} panels)", shown.len(), combos.len()));
    }
    let height = (60 + rows as u32 * (70 + 44 * ny as u32).max(300)).max(360);
    svg(WIDTH, height, |root| {
        let body = root.margin(0, 26, 0, 0).titled(&title, (FONT, 21)).map_err(err)?;
        let areas = body.split_evenly((rows, cols));
        for (combo, area) in shown.iter().zip(&areas) {
            let xl: Vec<String> = (0..nx).map(|i| xa.label(i)).collect();
            let yl: Vec<String> = (0..ny).map(|i| ya.label(i)).collect();
            let xf = |v: &f64| xl.get(v.round() as usize).cloned().unwrap_or_default();
            let yf = |v: &f64| yl.get(v.round() as usize).cloned().unwrap_or_default();
            let mut chart = ChartBuilder::on(area)
                .caption(combo_title(spec, combo), (FONT, 15))
                .margin(12)
                .x_label_area_size(44)
                .y_label_area_size(90)
                .build_cartesian_2d(
                    KeyAxis::new(-0.5..nx as f64 - 0.5, (0..nx).map(|i| i as f64).collect()),
                    KeyAxis::new(-0.5..ny as f64 - 0.5, (0..ny).map(|i| i as f64).collect()),
                )
                .map_err(err)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc(xa.name())
                .y_desc(ya.name())
                .x_label_formatter(&xf)
                .y_label_formatter(&yf)
                .label_style((FONT, 14))
                .axis_desc_style((FONT, 15))
                .draw()
                .map_err(err)?;
            for xi in 0..nx {
                for yi in 0..ny {
                    let mut coords = vec![0; spec.grid.axes.len()];
                    coords[lay.x] = xi;
                    coords[lines] = yi;
                    for &(a, i) in combo {
                        coords[a] = i;
                    }
                    let p = &points[point_at(spec, &coords)];
                    let (x, y) = (xi as f64, yi as f64);
                    let cell = [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)];
                    let Some(s) = p.stats[m] else {
                        chart
                            .draw_series(std::iter::once(Rectangle::new(cell, RGBColor(220, 220, 220).filled())))
                            .map_err(err)?;
                        chart
                            .draw_series(std::iter::once(Text::new("failed", (x - 0.2, y), (FONT, 14))))
                            .map_err(err)?;
                        continue;
                    };
                    // Dark is better, so the eye goes to the good cells.
                    let t = if hi > lo { (s.mean - lo) / (hi - lo) } else { 0.5 };
                    let t = if direction == Direction::Minimize { t } else { 1.0 - t };
                    let fill = viridis(1.0 - t);
                    chart.draw_series(std::iter::once(Rectangle::new(cell, fill.filled()))).map_err(err)?;
                    let inner = [(x - 0.46, y - 0.42), (x + 0.46, y + 0.42)];
                    if p.feasible {
                        chart
                            .draw_series(std::iter::once(Rectangle::new(inner, WHITE.stroke_width(2))))
                            .map_err(err)?;
                    }
                    let text_color = if (1.0 - t) > 0.6 { BLACK } else { WHITE };
                    let mut label = short(s.mean);
                    if p.best {
                        label = format!("★ {label}");
                    }
                    let style = (FONT, 15).into_font().color(&text_color);
                    chart.draw_series(std::iter::once(Text::new(label, (x - 0.3, y + 0.1), style))).map_err(err)?;
                }
            }
        }
        let note = "framed: feasible point (every replicate meets the constraints); ★ best plan; darker is worse for this metric";
        root.draw(&Text::new(note, (12, height as i32 - 16), (FONT, 14).into_font().color(&RGBColor(90, 90, 90))))
            .map_err(err)
    })
}

fn pareto_chart(spec: &SweepSpec, points: &[PointAggregate]) -> Result<String, String> {
    let Some([(a, _), (b, _)]) = &spec.pareto else { return Err("no front".into()) };
    let (ia, ib) = (metric_index(spec, a).ok_or("metric")?, metric_index(spec, b).ok_or("metric")?);
    let xy: Vec<(usize, f64, f64)> =
        points.iter().filter_map(|p| Some((p.point, p.stats[ia]?.mean, p.stats[ib]?.mean))).collect();
    if xy.is_empty() {
        return Err("no points".into());
    }
    let cons = |m: &str| spec.constraints.iter().filter(|c| c.metric == m).map(|c| c.value).collect::<Vec<_>>();
    let (ca, cb) = (cons(a), cons(b));
    let xr = padded(
        xy.iter().map(|p| p.1).chain(ca.iter().copied()).fold(f64::INFINITY, f64::min),
        xy.iter().map(|p| p.1).chain(ca.iter().copied()).fold(f64::NEG_INFINITY, f64::max),
        false,
    );
    let yr = padded(
        xy.iter().map(|p| p.2).chain(cb.iter().copied()).fold(f64::INFINITY, f64::min),
        xy.iter().map(|p| p.2).chain(cb.iter().copied()).fold(f64::NEG_INFINITY, f64::max),
        false,
    );
    let mut front: Vec<(usize, f64, f64)> = xy.iter().copied().filter(|p| points[p.0].pareto).collect();
    front.sort_by(|p, q| p.1.total_cmp(&q.1).then(p.2.total_cmp(&q.2)));
    svg(WIDTH, 620, |root| {
        let body =
            root.titled(&format!("Pareto front: {a} against {b} (means over replicates)"), (FONT, 21)).map_err(err)?;
        let mut chart = ChartBuilder::on(&body)
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d(xr.clone(), yr.clone())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(format!("{a} ({})", unit(a)))
            .y_desc(format!("{b} ({})", unit(b)))
            .x_label_formatter(&|v| short(*v))
            .y_label_formatter(&|v| short(*v))
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .light_line_style(RGBColor(246, 246, 246))
            .draw()
            .map_err(err)?;
        let grey = RGBColor(150, 150, 150);
        chart
            .draw_series(
                xy.iter().filter(|p| !points[p.0].feasible).map(|p| Circle::new((p.1, p.2), 4, grey.stroke_width(1))),
            )
            .map_err(err)?
            .label("not feasible")
            .legend(move |(x, y)| Circle::new((x + 9, y), 4, grey.stroke_width(1)));
        let blue = color(0);
        chart
            .draw_series(xy.iter().filter(|p| points[p.0].feasible).map(|p| Circle::new((p.1, p.2), 4, blue.filled())))
            .map_err(err)?
            .label("feasible")
            .legend(move |(x, y)| Circle::new((x + 9, y), 4, blue.filled()));
        let red = color(3).stroke_width(2);
        chart
            .draw_series(LineSeries::new(front.iter().map(|p| (p.1, p.2)), red))
            .map_err(err)?
            .label("Pareto front")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], red));
        for p in &front {
            let label = format!("#{}", p.0);
            chart
                .draw_series(std::iter::once(Text::new(
                    label,
                    (p.1, p.2),
                    (FONT, 12).into_font().color(&RGBColor(70, 70, 70)),
                )))
                .map_err(err)?;
        }
        if let Some(best) = points.iter().find(|p| p.best)
            && let Some(&(_, x, y)) = xy.iter().find(|q| q.0 == best.point)
        {
            chart
                .draw_series(std::iter::once(Circle::new((x, y), 10, BLACK.stroke_width(2))))
                .map_err(err)?
                .label("best plan")
                .legend(|(x, y)| Circle::new((x + 9, y), 5, BLACK.stroke_width(2)));
        }
        let dashed = RED.stroke_width(1);
        for v in &ca {
            chart.draw_series(DashedLineSeries::new([(*v, yr.start), (*v, yr.end)], 6, 4, dashed)).map_err(err)?;
        }
        for v in &cb {
            chart.draw_series(DashedLineSeries::new([(xr.start, *v), (xr.end, *v)], 6, 4, dashed)).map_err(err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .draw()
            .map_err(err)?;
        let note = "#N: point N of aggregate.csv; dashed red: constraints";
        root.draw(&Text::new(note, (12, 600), (FONT, 14).into_font().color(&RGBColor(90, 90, 90)))).map_err(err)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_come_from_the_metric_name() {
        assert_eq!(unit("p99_ms"), "ms");
        assert_eq!(unit("cpu_util_pct"), "%");
        assert_eq!(unit("cost_usd"), "USD");
        assert_eq!(unit("cost_per_million_requests"), "USD per million requests");
        assert_eq!(unit("running"), "count");
    }

    #[test]
    fn numbers_print_short() {
        assert_eq!(short(0.0), "0");
        assert_eq!(short(1234567.0), "1.23M");
        assert_eq!(short(25000.0), "25.0k");
        assert_eq!(short(250.0), "250");
        assert_eq!(short(2.5), "2.5");
        assert_eq!(short(0.0125), "0.0125");
    }

    #[test]
    fn viridis_runs_dark_to_bright() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(f64::NAN), RGBColor(68, 1, 84));
    }
}
