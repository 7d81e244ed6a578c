//! What a sweep varies: parameters (a scenario key path and the values it takes), grouped into
//! axes, and the grid of points their cartesian product spans.
//!
//! A parameter's values come from a list, a linear range (`step` or `count`) or a logarithmic
//! range (`count` points, evenly spaced in log). Zipped parameters share one axis: they move
//! together, the i-th value of each at the i-th position. Points are numbered in row-major order:
//! the first axis changes slowest, like nested loops written in the order of the file.

/// One value of a parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamValue {
    /// The value as a TOML literal, as `--set` takes it: `8`, `0.5`, `"m5.large"`, `[1, 2]`.
    pub toml: String,
    /// The value as CSV cells, charts and the report show it: `8`, `0.5`, `m5.large`.
    pub label: String,
    /// The value as a number, when it is one (charts use it for a numeric axis).
    pub number: Option<f64>,
}

impl ParamValue {
    /// A value from a TOML value of the sweep file.
    pub fn from_toml(v: &toml::Value) -> ParamValue {
        match v {
            toml::Value::String(s) => {
                ParamValue { toml: toml::Value::String(s.clone()).to_string(), label: s.clone(), number: None }
            }
            toml::Value::Integer(i) => {
                ParamValue { toml: i.to_string(), label: i.to_string(), number: Some(*i as f64) }
            }
            toml::Value::Float(x) => ParamValue::float(*x),
            other => {
                let text = other.to_string();
                ParamValue { toml: text.clone(), label: text, number: None }
            }
        }
    }

    pub fn integer(i: i64) -> ParamValue {
        ParamValue { toml: i.to_string(), label: i.to_string(), number: Some(i as f64) }
    }

    pub fn float(x: f64) -> ParamValue {
        // Rust prints the shortest text that reads back as the same f64; TOML needs a `.0` on
        // whole numbers to keep them floats.
        let mut toml = format!("{x}");
        if !toml.contains(['.', 'e', 'E', 'n', 'N']) {
            toml.push_str(".0");
        }
        ParamValue { label: format!("{x}"), toml, number: Some(x) }
    }
}

/// One varied setting.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    /// The column name in `runs.csv` and `aggregate.csv`.
    pub name: String,
    /// The scenario key path, as `--set` takes it.
    pub path: String,
    pub values: Vec<ParamValue>,
    /// Whether the values came from a logarithmic range (charts then use a log axis).
    pub log_scale: bool,
}

/// Parameters that move together (one, or several zipped), all with the same number of values.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub parameters: Vec<Parameter>,
}

impl Axis {
    pub fn len(&self) -> usize {
        self.parameters.first().map_or(0, |p| p.values.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How position `i` of the axis reads: the labels of its parameters joined by `/`.
    pub fn label(&self, i: usize) -> String {
        self.parameters.iter().map(|p| p.values[i].label.as_str()).collect::<Vec<_>>().join("/")
    }

    /// The axis's name: its parameters' names joined by `/`.
    pub fn name(&self) -> String {
        self.parameters.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join("/")
    }
}

/// The grid: the cartesian product of the axes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Grid {
    pub axes: Vec<Axis>,
}

impl Grid {
    /// Number of points (1 for a sweep with no parameters: the base scenario alone); saturates
    /// rather than overflow, so a huge grid is refused, not wrapped.
    pub fn points(&self) -> usize {
        self.axes.iter().map(Axis::len).fold(1, usize::saturating_mul)
    }

    /// The position on each axis of point `p` (row-major: the first axis changes slowest).
    pub fn coordinates(&self, mut p: usize) -> Vec<usize> {
        let mut out = vec![0; self.axes.len()];
        for (k, axis) in self.axes.iter().enumerate().rev() {
            let n = axis.len().max(1);
            out[k] = p % n;
            p /= n;
        }
        out
    }

    /// All parameters in column order (axis by axis, zipped ones side by side).
    pub fn parameters(&self) -> impl Iterator<Item = &Parameter> {
        self.axes.iter().flat_map(|a| a.parameters.iter())
    }

    /// The value of every parameter at point `p`, in column order.
    pub fn values(&self, p: usize) -> Vec<&ParamValue> {
        let at = self.coordinates(p);
        self.axes.iter().zip(at).flat_map(|(a, i)| a.parameters.iter().map(move |q| &q.values[i])).collect()
    }

    /// The `--set` overrides of point `p`.
    pub fn overrides(&self, p: usize) -> Vec<String> {
        let at = self.coordinates(p);
        self.axes
            .iter()
            .zip(at)
            .flat_map(|(a, i)| a.parameters.iter().map(move |q| format!("{}={}", q.path, q.values[i].toml)))
            .collect()
    }
}

/// The most values one range may produce.
pub const MAX_RANGE_VALUES: usize = 100_000;

/// A range as the sweep file gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct RangeSpec {
    pub from: f64,
    pub to: f64,
    /// Both ends are TOML integers: the values are integers too.
    pub integers: bool,
    pub step: Option<f64>,
    pub count: Option<usize>,
    pub log: bool,
}

/// Expands a range into its values, both ends included. Errors are messages for the sweep file.
///
/// - linear with `step`: `from, from + step, ...` up to `to` (each value computed as
///   `from + i·step`, not by repeated addition, so no error accumulates);
/// - linear with `count`: `count` values evenly spaced from `from` to `to`;
/// - log with `count`: `from · (to/from)^(i/(count-1))`.
///
/// Integer ends give integer values, rounded to the nearest; a range whose rounding makes two
/// values equal is refused. Fractional values are rounded to 10 significant digits so that
/// `0.1 + 2·0.1` reads `0.3`.
pub fn expand_range(r: &RangeSpec) -> Result<Vec<ParamValue>, String> {
    if !r.from.is_finite() || !r.to.is_finite() {
        return Err("`from` and `to` must be finite numbers".into());
    }
    let raw: Vec<f64> = match (r.log, r.step, r.count) {
        (_, Some(_), Some(_)) => return Err("give `step` or `count`, not both".into()),
        (true, Some(_), None) => {
            return Err("a log range takes `count` (points evenly spaced in log), not `step`".into());
        }
        (_, None, None) => return Err("a range needs `step` (linear) or `count`".into()),
        (false, Some(step), None) => {
            if !step.is_finite() || step == 0.0 {
                return Err("`step` must be a non-zero number".into());
            }
            if (r.to - r.from) * step < 0.0 {
                return Err(format!("a step of {step} never goes from {} to {}", r.from, r.to));
            }
            let n = ((r.to - r.from) / step + 1e-9).floor() + 1.0;
            if n > MAX_RANGE_VALUES as f64 {
                return Err(format!("the range has {n} values, more than {MAX_RANGE_VALUES}"));
            }
            (0..n as usize).map(|i| r.from + i as f64 * step).collect()
        }
        (log, None, Some(count)) => {
            if count == 0 || count > MAX_RANGE_VALUES {
                return Err(format!("`count` must be between 1 and {MAX_RANGE_VALUES}"));
            }
            if count == 1 && r.from != r.to {
                return Err("a range of 1 value needs `from` equal to `to`; use `values = [...]`".into());
            }
            if log && (r.from <= 0.0 || r.to <= 0.0) {
                return Err("a log range needs `from` and `to` above 0".into());
            }
            let last = (count.max(2) - 1) as f64;
            (0..count)
                .map(|i| {
                    let f = i as f64 / last;
                    if i + 1 == count {
                        r.to
                    } else if log {
                        r.from * (r.to / r.from).powf(f)
                    } else {
                        r.from + (r.to - r.from) * f
                    }
                })
                .collect()
        }
    };
    if r.integers {
        let ints: Vec<i64> = raw.iter().map(|x| x.round() as i64).collect();
        for w in ints.windows(2) {
            if w[0] == w[1] {
                return Err(format!(
                    "rounded to integers the range gives {} twice; use fewer points, or write `from` as a float (e.g. {}.0) for fractional values",
                    w[0], r.from
                ));
            }
        }
        Ok(ints.into_iter().map(ParamValue::integer).collect())
    } else {
        Ok(raw.into_iter().map(|x| ParamValue::float(round_significant(x, 10))).collect())
    }
}

/// `x` rounded to `digits` significant digits (through decimal text, so the result is the f64
/// nearest to the rounded decimal).
pub fn round_significant(x: f64, digits: usize) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    format!("{:.*e}", digits.saturating_sub(1), x).parse().unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(v: &[ParamValue]) -> Vec<String> {
        v.iter().map(|x| x.label.clone()).collect()
    }

    fn range(from: f64, to: f64, integers: bool, step: Option<f64>, count: Option<usize>, log: bool) -> RangeSpec {
        RangeSpec { from, to, integers, step, count, log }
    }

    #[test]
    fn linear_ranges_by_step_include_both_ends() {
        let v = expand_range(&range(2.0, 8.0, true, Some(2.0), None, false)).unwrap();
        assert_eq!(labels(&v), ["2", "4", "6", "8"]);
        assert_eq!(v[0].toml, "2");
        let v = expand_range(&range(0.1, 0.5, false, Some(0.1), None, false)).unwrap();
        assert_eq!(labels(&v), ["0.1", "0.2", "0.3", "0.4", "0.5"]);
        // A step that does not land on `to` stops before it.
        let v = expand_range(&range(1.0, 10.0, true, Some(4.0), None, false)).unwrap();
        assert_eq!(labels(&v), ["1", "5", "9"]);
        // Downwards with a negative step.
        let v = expand_range(&range(8.0, 2.0, true, Some(-3.0), None, false)).unwrap();
        assert_eq!(labels(&v), ["8", "5", "2"]);
    }

    #[test]
    fn linear_ranges_by_count_are_evenly_spaced() {
        let v = expand_range(&range(0.0, 1.0, false, None, Some(5), false)).unwrap();
        assert_eq!(labels(&v), ["0", "0.25", "0.5", "0.75", "1"]);
        // Floats stay floats in TOML, so `--set` keeps their type.
        assert_eq!(v[0].toml, "0.0");
        assert_eq!(v[4].toml, "1.0");
    }

    #[test]
    fn log_ranges_are_geometric() {
        let v = expand_range(&range(50.0, 800.0, true, None, Some(5), true)).unwrap();
        assert_eq!(labels(&v), ["50", "100", "200", "400", "800"]);
        let v = expand_range(&range(0.001, 1.0, false, None, Some(4), true)).unwrap();
        assert_eq!(labels(&v), ["0.001", "0.01", "0.1", "1"]);
    }

    #[test]
    fn bad_ranges_are_explained() {
        let e = |r: RangeSpec| expand_range(&r).unwrap_err();
        assert!(e(range(1.0, 4.0, true, None, Some(8), true)).contains("twice"));
        assert!(e(range(0.0, 4.0, false, None, Some(3), true)).contains("above 0"));
        assert!(e(range(1.0, 4.0, false, Some(0.0), None, false)).contains("non-zero"));
        assert!(e(range(1.0, 4.0, false, Some(-1.0), None, false)).contains("never goes"));
        assert!(e(range(1.0, 4.0, false, None, None, false)).contains("needs"));
        assert!(e(range(1.0, 4.0, false, Some(1.0), Some(2), false)).contains("not both"));
        assert!(e(range(1.0, 4.0, false, Some(1.0), None, true)).contains("count"));
        assert!(e(range(0.0, 1e9, false, Some(1.0), None, false)).contains("more than"));
    }

    #[test]
    fn toml_values_keep_their_type_for_set() {
        let v = ParamValue::from_toml(&toml::Value::String("m5.large".into()));
        assert_eq!((v.toml.as_str(), v.label.as_str(), v.number), ("\"m5.large\"", "m5.large", None));
        let v = ParamValue::from_toml(&toml::Value::Integer(8));
        assert_eq!((v.toml.as_str(), v.number), ("8", Some(8.0)));
        let v = ParamValue::from_toml(&toml::Value::Float(2.0));
        assert_eq!(v.toml, "2.0");
        let v = ParamValue::from_toml(&toml::Value::Boolean(true));
        assert_eq!(v.toml, "true");
    }

    fn axis(name: &str, values: &[i64]) -> Axis {
        Axis {
            parameters: vec![Parameter {
                name: name.into(),
                path: format!("x.{name}"),
                values: values.iter().map(|&v| ParamValue::integer(v)).collect(),
                log_scale: false,
            }],
        }
    }

    #[test]
    fn the_grid_is_row_major_with_zipped_axes_moving_together() {
        let mut zipped = axis("a", &[1, 2]);
        zipped.parameters.push(axis("b", &[10, 20]).parameters.remove(0));
        let grid = Grid { axes: vec![zipped, axis("c", &[7, 8, 9])] };
        assert_eq!(grid.points(), 6);
        assert_eq!(grid.coordinates(0), [0, 0]);
        assert_eq!(grid.coordinates(4), [1, 1]);
        let labels: Vec<Vec<String>> =
            (0..6).map(|p| grid.values(p).iter().map(|v| v.label.clone()).collect()).collect();
        assert_eq!(labels[0], ["1", "10", "7"]);
        assert_eq!(labels[2], ["1", "10", "9"]);
        assert_eq!(labels[3], ["2", "20", "7"]);
        assert_eq!(grid.overrides(5), ["x.a=2", "x.b=20", "x.c=9"]);
        assert_eq!(grid.axes[0].label(1), "2/20");
        assert_eq!(Grid::default().points(), 1);
    }
}
