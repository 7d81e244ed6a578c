//! Request arrivals: when each request of a workload reaches the load balancer.
//!
//! An [`ArrivalProcess`] describes a stream of requests in requests per second over simulated
//! time; an [`Arrivals`] is one such stream in progress, asked for one arrival time at a time by
//! the world, which schedules the next request event from it. Times are [`SimTime`] milliseconds.
//!
//! # The processes
//!
//! With λ a rate in requests per second and times in seconds:
//!
//! - **constant**: deterministic, evenly spaced: the k-th arrival after `start` is at
//!   `start + k/λ` (k = 1, 2, ...), so (start, start + T] holds exactly ⌊λT⌋ arrivals.
//! - **poisson**: a (non-homogeneous) Poisson process with intensity λ(t) given by a
//!   [`RatePattern`]: the count in (a, b] is Poisson with mean Λ(a, b) = ∫ₐᵇ λ(t) dt, independent
//!   of every other disjoint interval.
//!   - `Constant`: λ(t) = rate.
//!   - `Diurnal`: λ(t) = max(0, mean + amplitude · sin(2π (t − phase) / period)): the rate rises
//!     through the mean at `phase` and peaks a quarter period later; with amplitude > mean it is
//!     zero for part of each period. [`DEFAULT_DIURNAL_PERIOD`] is a day.
//!   - `Step`: λ(t) = `initial` before the first change, then the rate of the latest change at or
//!     before t (of several changes at one time, the last listed wins).
//!   - `Spike`: λ(t) = base + height · 1[at ≤ t < at + length].
//!   - `Piecewise`: linear between consecutive points (tᵢ, rᵢ); r₀ before the first point, the
//!     last rate after the last. At a repeated time the rate jumps to the later point's.
//!   - `Trace`: λ(t) = scale · rᵢ for tᵢ ≤ τ < tᵢ₊₁, held until the next point, and 0 before
//!     the first point. Without a period, τ = t and the last rate is held until the trace's
//!     length L = tₙ + (tₙ − tₘ), tₘ the last time before tₙ (the trace's own spacing; see
//!     [`TraceData::length`]), after which the stream ends. With a period P, τ = t mod P: the
//!     trace [0, P) repeats forever, each repetition at rate 0 again until t₀.
//! - **timestamps**: a replay of recorded request times. With a period P, the k-th repetition
//!   replays every time t as k·P + t. The scale s multiplies the rate: every record gives ⌊s⌋
//!   arrivals at its time, plus one more with probability s − ⌊s⌋, independently per record (a
//!   Bernoulli thinning for s < 1, a random duplication above 1), drawn from the arrivals stream
//!   as geometric gaps between the records that get the extra copy, so a small scale costs one
//!   draw per arrival rather than per record. A whole-number scale is exact and draws nothing.
//!   Copies share the record's millisecond.
//!
//! # How Poisson arrivals are drawn
//!
//! Each pattern is compiled once into a table of pieces: intervals on which λ is bounded by a
//! constant M (the maximum of λ over the piece), flagged *flat* when λ = M throughout. The
//! generator carries a unit-exponential amount of "work" E and spends it at rate M per second
//! across pieces (E −= M · Δt at each piece boundary), which inverts the integrated bound exactly;
//! where E runs out lies a candidate of a Poisson process of intensity M(t). On a flat piece the
//! candidate is an arrival; elsewhere it is kept with probability λ(x)/M (Lewis–Shedler thinning),
//! which makes the kept points exactly the process of intensity λ. A piece with M = 0 is crossed
//! without drawing anything, a periodic pattern (diurnal, looping trace) skips ⌊E/Λ_P⌋ whole
//! periods at once (Λ_P the bound's mass over one period), and the stream ends when the rate is
//! zero from some point on, so long stretches of zero or near-zero rate cost O(1). Diurnal pieces
//! are 1/48 of a period, where the rate varies by at most 13 % of the amplitude, so thinning
//! rejects few candidates. Each piece also carries a floor m ≤ λ (the minimum over the piece, less
//! a hair for float rounding): a candidate whose uniform u has u · M < m is kept without
//! evaluating λ (a squeeze), which on a diurnal piece spares the sine for all but the few
//! candidates near the bound, and keeps exactly the same ones.
//!
//! Positions are kept as f64 milliseconds (exact integers at piece boundaries, so nothing
//! drifts over a year) and rounded to the nearest millisecond only when returned; the returned
//! times are therefore non-decreasing rather than strictly increasing, and above ~1000 requests
//! per second several arrivals share a millisecond, as they would in reality.
//!
//! # Determinism
//!
//! Every draw comes from the stream the caller passes (one per workload, e.g.
//! `indexed_stream("arrivals", i)`), and how many are drawn depends only on that stream's
//! values, so the same seed gives the same arrival times. Nothing is allocated per arrival.

use std::f64::consts::TAU;
use std::fmt;

use rand::RngExt;
use rand_distr::Exp1;

use crate::engine::{HOUR, SimRng, SimTime, format_seconds};

/// The period a diurnal pattern gets when the scenario gives none.
pub const DEFAULT_DIURNAL_PERIOD: SimTime = 24 * HOUR;

/// A stream ends at 2^53 ms (about 285,000 years): beyond it an f64 no longer resolves a
/// millisecond, and no scenario runs that long.
const MAX_MS: f64 = 9_007_199_254_740_992.0;

/// Pieces per period of a diurnal pattern's bound (half an hour for a day).
const DIURNAL_PIECES: u64 = 48;

/// The largest time a trace file may hold, in seconds (where streams end anyway).
const MAX_TRACE_SECONDS: f64 = MAX_MS / 1000.0;

/// A request rate over time, in requests per second. See the module documentation for the
/// formula of each.
#[derive(Clone, Debug, PartialEq)]
pub enum RatePattern {
    Constant {
        rate: f64,
    },
    Diurnal {
        mean: f64,
        amplitude: f64,
        period: SimTime,
        phase: SimTime,
    },
    Step {
        initial: f64,
        changes: Vec<(SimTime, f64)>,
    },
    Spike {
        base: f64,
        at: SimTime,
        height: f64,
        length: SimTime,
    },
    Piecewise {
        points: Vec<(SimTime, f64)>,
    },
    /// `period: None` plays the trace once, up to its [length](TraceData::length); `Some(p)`
    /// loops it with period p, which must exceed the last point's time.
    Trace {
        points: Vec<(SimTime, f64)>,
        scale: f64,
        period: Option<SimTime>,
    },
}

/// How the requests of one workload arrive.
#[derive(Clone, Debug, PartialEq)]
pub enum ArrivalProcess {
    /// Evenly spaced, `rate` per second.
    Constant {
        rate: f64,
    },
    Poisson(RatePattern),
    /// A replay of recorded request times; `period: Some(p)` loops it (p above the last time).
    Timestamps {
        times: Vec<SimTime>,
        scale: f64,
        period: Option<SimTime>,
    },
}

/// The contents of a trace file.
#[derive(Clone, Debug, PartialEq)]
pub enum TraceData {
    /// `time_s,rate`: (time, requests per second) points.
    Rates(Vec<(SimTime, f64)>),
    /// `time_s`: one recorded request per row.
    Timestamps(Vec<SimTime>),
}

/// A problem in a trace file, at a 1-based line and column (for "trace.csv:3:4: ...").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl RatePattern {
    /// Requests per second at time t.
    pub fn rate_at(&self, t: SimTime) -> f64 {
        match self {
            RatePattern::Constant { rate } => *rate,
            RatePattern::Diurnal { mean, amplitude, period, phase } => {
                if *period == 0 {
                    return mean.max(0.0);
                }
                let offset = offset_in_period(t, *phase, *period);
                sine_rate(*mean, *amplitude, offset as f64 / *period as f64)
            }
            RatePattern::Step { initial, changes } => match changes.partition_point(|c| c.0 <= t) {
                0 => *initial,
                i => changes[i - 1].1,
            },
            RatePattern::Spike { base, at, height, length } => {
                if *at <= t && t < at.saturating_add(*length) {
                    base + height
                } else {
                    *base
                }
            }
            RatePattern::Piecewise { points } => {
                let i = points.partition_point(|p| p.0 <= t);
                match (i.checked_sub(1).map(|k| points[k]), points.get(i).copied()) {
                    (Some(a), Some(b)) => lerp(a, b, t as f64),
                    (None, Some(first)) => first.1,
                    (Some(last), None) => last.1,
                    (None, None) => 0.0,
                }
            }
            RatePattern::Trace { points, scale, period } => {
                let local = match *period {
                    Some(p) if p > 0 => t % p,
                    _ => {
                        if trace_length(points.iter().map(|p| p.0)).is_some_and(|length| t >= length) {
                            return 0.0;
                        }
                        t
                    }
                };
                match points.partition_point(|p| p.0 <= local) {
                    0 => 0.0,
                    i => points[i - 1].1 * scale,
                }
            }
        }
    }

    /// Checks the parameters (non-negative, finite, sorted times, ...) with a plain message naming the field.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            RatePattern::Constant { rate } => check_rate("rate", *rate),
            RatePattern::Diurnal { mean, amplitude, period, .. } => {
                check_rate("mean", *mean)?;
                check_rate("amplitude", *amplitude)?;
                check_rate("mean + amplitude", mean + amplitude)?;
                if *period == 0 {
                    return Err("period must be longer than zero".into());
                }
                Ok(())
            }
            RatePattern::Step { initial, changes } => {
                check_rate("initial", *initial)?;
                check_points("changes", changes, 1.0)
            }
            RatePattern::Spike { base, height, .. } => {
                check_rate("base", *base)?;
                check_rate("height", *height)?;
                check_rate("base + height", base + height)
            }
            RatePattern::Piecewise { points } => {
                if points.is_empty() {
                    return Err("points must hold at least one (time, rate) point".into());
                }
                check_points("points", points, 1.0)
            }
            RatePattern::Trace { points, scale, period } => {
                check_scale(*scale)?;
                if points.is_empty() {
                    return Err("points must hold at least one (time, rate) point".into());
                }
                check_points("points", points, *scale)?;
                let times = points.iter().map(|p| p.0);
                check_period(*period, times.clone(), "point")?;
                if period.is_none() && trace_length(times).is_none() {
                    return Err("points: a trace whose points all have one time has no length to play; \
                                give it a period"
                        .into());
                }
                Ok(())
            }
        }
    }
}

impl ArrivalProcess {
    /// The requests expected in `[from, to)`: the rate at the middle of the window times its
    /// length (exact for the piecewise-constant patterns at one-second windows, within a
    /// fraction of a request for the smooth ones), or the recorded times in it, for the fluid
    /// fidelity.
    pub fn expected_arrivals(&self, from: SimTime, to: SimTime) -> f64 {
        if to <= from {
            return 0.0;
        }
        let seconds = (to - from) as f64 / 1000.0;
        match self {
            ArrivalProcess::Constant { rate } => rate * seconds,
            ArrivalProcess::Poisson(pattern) => pattern.rate_at(from + (to - from) / 2) * seconds,
            ArrivalProcess::Timestamps { times, scale, period } => {
                let count = |a: SimTime, b: SimTime| {
                    (times.partition_point(|&t| t < b) - times.partition_point(|&t| t < a)) as f64
                };
                let n = match *period {
                    Some(p) if p > 0 => {
                        let (a, b) = (from % p, from % p + (to - from));
                        if b <= p { count(a, b) } else { count(a, p) + count(0, b - p) }
                    }
                    _ => count(from, to),
                };
                n * scale
            }
        }
    }

    /// [`ArrivalProcess::expected_arrivals`] of the next of a run of windows of one width, each
    /// starting where the last ended, as the fluid fidelity asks second after second.
    ///
    /// A diurnal rate's sine then turns by the same angle each window: `stepper` turns the
    /// last window's sine and cosine by it (the angle-addition formulas) instead of working
    /// the sine out anew, and does work it out anew every [`SineStepper::TURNS`] windows, at a
    /// window that is not next to the last, and where the period wraps, so that the rounding
    /// of the turns (a few units in the last place each) never adds up to more than about
    /// 10⁻¹⁴ of the amplitude.
    #[inline]
    pub fn expected_arrivals_stepping(&self, from: SimTime, to: SimTime, stepper: &mut SineStepper) -> f64 {
        let ArrivalProcess::Poisson(RatePattern::Diurnal { mean, amplitude, period, phase }) = self else {
            return self.expected_arrivals(from, to);
        };
        let width = to.wrapping_sub(from);
        // The next window of a run: the stepper was set by this diurnal rate, so its period is
        // not zero, and the middle of this window is the last one's plus the width, short of
        // the wrap.
        if let Some(x) = stepper.0.as_mut()
            && x.to == from
            && x.width == width
            && x.left > 0
            && x.offset + width < *period
        {
            (x.sin, x.cos) = (x.sin * x.cos_turn + x.cos * x.sin_turn, x.cos * x.cos_turn - x.sin * x.sin_turn);
            x.left -= 1;
            x.offset += width;
            x.to = to;
            return (mean + amplitude * x.sin).max(0.0) * (width as f64 / 1000.0);
        }
        if to <= from || *period == 0 {
            return self.expected_arrivals(from, to);
        }
        let offset = offset_in_period(from + width / 2, *phase, *period);
        // As `sine_rate` works it out, so that the first window of a run is the same.
        let angle = TAU * (offset as f64 / *period as f64);
        let turn = TAU * (width as f64 / *period as f64);
        let (sin, cos) = angle.sin_cos();
        let (sin_turn, cos_turn) = turn.sin_cos();
        stepper.0 = Some(SineStep { to, width, offset, sin, cos, sin_turn, cos_turn, left: SineStepper::TURNS });
        (mean + amplitude * sin).max(0.0) * (width as f64 / 1000.0)
    }

    /// Checks the parameters, with a plain message naming the field.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            ArrivalProcess::Constant { rate } => check_rate("rate", *rate),
            ArrivalProcess::Poisson(pattern) => pattern.validate(),
            ArrivalProcess::Timestamps { times, scale, period } => {
                check_scale(*scale)?;
                if times.is_empty() {
                    return Err("times must hold at least one request time".into());
                }
                if let Some(i) = (1..times.len()).find(|&i| times[i] < times[i - 1]) {
                    return Err(format!(
                        "times[{i}] ({} s) is before times[{}] ({} s): times must not decrease",
                        format_seconds(times[i]),
                        i - 1,
                        format_seconds(times[i - 1])
                    ));
                }
                check_period(*period, times.iter().copied(), "request time")
            }
        }
    }
}

impl TraceData {
    /// How long the trace lasts when played once: the last time plus the spacing before it (the
    /// gap from the last time to the one before it), so the last row counts for as long as the
    /// rows before it did. This is also the natural period for looping it. None when every row
    /// has the same time.
    pub fn length(&self) -> Option<SimTime> {
        match self {
            TraceData::Rates(points) => trace_length(points.iter().map(|p| p.0)),
            TraceData::Timestamps(times) => trace_length(times.iter().copied()),
        }
    }
}

impl fmt::Display for TraceError {
    /// `line:column: message`; the caller puts the file name in front.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for TraceError {}

fn check_rate(name: &str, v: f64) -> Result<(), String> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(format!("{name} must be a finite number of requests per second, zero or more; got {v}"))
    }
}

fn check_scale(scale: f64) -> Result<(), String> {
    if scale.is_finite() && scale >= 0.0 {
        Ok(())
    } else {
        Err(format!("scale must be a finite number, zero or more; got {scale}"))
    }
}

/// Rates finite and non-negative once scaled, times non-decreasing.
fn check_points(name: &str, points: &[(SimTime, f64)], scale: f64) -> Result<(), String> {
    for (i, &(t, r)) in points.iter().enumerate() {
        check_rate(&format!("{name}[{i}].rate"), r)?;
        if !(r * scale).is_finite() {
            return Err(format!("{name}[{i}].rate ({r}) times the scale ({scale}) is too large"));
        }
        if i > 0 && t < points[i - 1].0 {
            return Err(format!(
                "{name}[{i}].time ({} s) is before {name}[{}].time ({} s): times must not decrease",
                format_seconds(t),
                i - 1,
                format_seconds(points[i - 1].0)
            ));
        }
    }
    Ok(())
}

fn check_period(period: Option<SimTime>, times: impl Iterator<Item = SimTime>, what: &str) -> Result<(), String> {
    let Some(period) = period else { return Ok(()) };
    let last = times.max().unwrap_or(0);
    if period == 0 {
        Err("period must be longer than zero".into())
    } else if period <= last {
        Err(format!(
            "period ({} s) must be longer than the last {what}'s time ({} s)",
            format_seconds(period),
            format_seconds(last)
        ))
    } else {
        Ok(())
    }
}

/// See [`TraceData::length`]; `times` in non-decreasing order.
fn trace_length(mut times: impl DoubleEndedIterator<Item = SimTime>) -> Option<SimTime> {
    let last = times.next_back()?;
    let before = times.rev().find(|&t| t < last)?;
    Some(last.saturating_add(last - before))
}

/// Where a diurnal rate's sine stood at the end of the last window (see
/// [`ArrivalProcess::expected_arrivals_stepping`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct SineStepper(Option<SineStep>);

impl SineStepper {
    /// Windows turned from one worked out anew before the next is worked out anew.
    const TURNS: u32 = 60;
}

#[derive(Clone, Copy, Debug)]
struct SineStep {
    /// The last window's end and width, and its middle's offset in the period.
    to: SimTime,
    width: SimTime,
    offset: SimTime,
    sin: f64,
    cos: f64,
    /// The sine and cosine of the angle a window turns by.
    sin_turn: f64,
    cos_turn: f64,
    /// Turns left before the sine is worked out anew.
    left: u32,
}

/// max(0, mean + amplitude · sin 2π·turns), `turns` the phase as a fraction of the period.
fn sine_rate(mean: f64, amplitude: f64, turns: f64) -> f64 {
    (mean + amplitude * (TAU * turns).sin()).max(0.0)
}

fn lerp(a: (SimTime, f64), b: (SimTime, f64), x: f64) -> f64 {
    a.1 + (b.1 - a.1) * (x - a.0 as f64) / (b.0 as f64 - a.0 as f64)
}

/// How the rate behaves on one piece of a [`Table`], for thinning.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// Equal to the piece's bound throughout: every candidate is an arrival.
    Flat,
    /// From `from` at `start` to `to` at `end` (absolute ms; only non-periodic patterns have these).
    Linear { start: f64, end: f64, from: f64, to: f64 },
    /// The diurnal sinusoid.
    Sine { mean: f64, amplitude: f64, phase: f64, period: f64 },
}

impl Shape {
    fn rate(&self, x: f64) -> f64 {
        match *self {
            Shape::Flat => f64::INFINITY,
            Shape::Linear { start, end, from, to } => from + (to - from) * (x - start) / (end - start),
            Shape::Sine { mean, amplitude, phase, period } => {
                sine_rate(mean, amplitude, (x - phase).rem_euclid(period) / period)
            }
        }
    }
}

/// A piece of a [`Table`]: from `start` (ms, local to the period if any) to the next piece's.
#[derive(Clone, Copy, Debug)]
struct Piece {
    start: SimTime,
    /// Requests per second, at least the rate anywhere on the piece.
    bound: f64,
    /// Requests per second, at most the rate anywhere on the piece as computed at any point.
    floor: f64,
    shape: Shape,
}

impl Piece {
    fn flat(start: SimTime, rate: f64) -> Piece {
        Piece { start, bound: rate, floor: rate, shape: Shape::Flat }
    }
}

/// `rate` lowered by far more than the rounding of a rate computed from terms of magnitude
/// `scale`, so that it is at most the computed rate wherever the exact one is at least `rate`.
fn floor_below(rate: f64, scale: f64) -> f64 {
    (rate - 1e-9 * scale).max(0.0)
}

/// A rate pattern compiled for generation: pieces in order of start, the first at 0, the last
/// running to infinity (or, with a period, to the period's end).
#[derive(Clone, Debug)]
struct Table {
    pieces: Vec<Piece>,
    period: Option<f64>,
    /// Expected candidates over one period (∫ bound dt, t in seconds); periodic tables only.
    period_mass: f64,
}

/// The piece containing a position, in absolute milliseconds.
#[derive(Clone, Copy, Debug)]
struct Window {
    end: f64,
    bound: f64,
    floor: f64,
    shape: Shape,
    /// The position is exactly the start of a period, where whole periods may be skipped.
    period_start: bool,
}

impl Window {
    /// Contains nothing, so the next position looks its window up.
    const NONE: Window =
        Window { end: f64::NEG_INFINITY, bound: 0.0, floor: 0.0, shape: Shape::Flat, period_start: false };
}

impl Table {
    fn new(pattern: &RatePattern) -> Table {
        let mut period = None;
        let pieces = match pattern {
            RatePattern::Constant { rate } => vec![Piece::flat(0, *rate)],
            RatePattern::Diurnal { mean, amplitude, period: p, phase } => {
                period = Some(*p);
                diurnal_pieces(*mean, *amplitude, *p, *phase)
            }
            RatePattern::Step { initial, changes } => std::iter::once(Piece::flat(0, *initial))
                .chain(changes.iter().map(|&(t, r)| Piece::flat(t, r)))
                .collect(),
            RatePattern::Spike { base, at, height, length } => vec![
                Piece::flat(0, *base),
                Piece::flat(*at, base + height),
                Piece::flat(at.saturating_add(*length), *base),
            ],
            RatePattern::Piecewise { points } => {
                let mut pieces = Vec::with_capacity(points.len() + 1);
                if points.first().is_some_and(|p| p.0 > 0) {
                    pieces.push(Piece::flat(0, points[0].1));
                }
                for pair in points.windows(2) {
                    let (a, b) = (pair[0], pair[1]);
                    if a.0 < b.0 {
                        let shape = if a.1 == b.1 {
                            Shape::Flat
                        } else {
                            Shape::Linear { start: a.0 as f64, end: b.0 as f64, from: a.1, to: b.1 }
                        };
                        let floor = floor_below(a.1.min(b.1), a.1.abs() + b.1.abs());
                        pieces.push(Piece { start: a.0, bound: a.1.max(b.1), floor, shape });
                    }
                }
                if let Some(&(t, r)) = points.last() {
                    pieces.push(Piece::flat(t, r));
                }
                pieces
            }
            RatePattern::Trace { points, scale, period: p } => {
                period = *p;
                let mut pieces = Vec::with_capacity(points.len() + 2);
                if points.first().is_none_or(|p| p.0 > 0) {
                    pieces.push(Piece::flat(0, 0.0));
                }
                pieces.extend(points.iter().map(|&(t, r)| Piece::flat(t, r * scale)));
                if p.is_none() {
                    let end = trace_length(points.iter().map(|p| p.0)).unwrap_or(0);
                    pieces.push(Piece::flat(end, 0.0));
                }
                pieces
            }
        };
        let period_mass = period.map_or(0.0, |p| {
            let ends = pieces.iter().skip(1).map(|q| q.start.min(p)).chain(std::iter::once(p));
            pieces.iter().zip(ends).map(|(q, end)| q.bound * end.saturating_sub(q.start) as f64 / 1000.0).sum()
        });
        Table { pieces, period: period.map(|p| p as f64), period_mass }
    }

    /// The piece holding position x (ms, x ≥ 0). `hint` remembers the last piece so that a
    /// position moving forward finds its piece in O(1).
    fn window(&self, x: f64, hint: &mut usize) -> Window {
        let (base, local) = match self.period {
            Some(p) => {
                let mut k = (x / p).floor();
                if k * p > x {
                    k -= 1.0;
                } else if (k + 1.0) * p <= x {
                    k += 1.0;
                }
                // Exact: k·p ≤ x < 2·k·p for k ≥ 1 (Sterbenz), and x itself for k = 0.
                (k * p, x - k * p)
            }
            None => (0.0, x),
        };
        let i = seek(&self.pieces, local, hint).max(1);
        let piece = self.pieces[i - 1];
        let end = match (self.pieces.get(i), self.period) {
            (Some(next), _) => base + next.start as f64,
            (None, Some(p)) => base + p,
            (None, None) => f64::INFINITY,
        };
        Window {
            end,
            bound: piece.bound,
            floor: piece.floor,
            shape: piece.shape,
            period_start: self.period.is_some() && local == 0.0,
        }
    }
}

/// The number of pieces starting at or before `local`: forward from `hint` in O(1) for the usual
/// small step, by binary search after a jump.
fn seek(pieces: &[Piece], local: f64, hint: &mut usize) -> usize {
    let started = |p: &Piece| p.start as f64 <= local;
    let h = (*hint).min(pieces.len());
    let i = if h > 0 && !started(&pieces[h - 1]) {
        pieces[..h].partition_point(started)
    } else if h == pieces.len() || !started(&pieces[h]) {
        h
    } else if h + 1 == pieces.len() || !started(&pieces[h + 1]) {
        h + 1
    } else {
        h + pieces[h..].partition_point(started)
    };
    *hint = i;
    i
}

/// One piece per 1/48 of the period, on whole milliseconds so that piece boundaries are exact,
/// each bounded by the sinusoid's exact maximum over it and floored by its minimum.
fn diurnal_pieces(mean: f64, amplitude: f64, period: SimTime, phase: SimTime) -> Vec<Piece> {
    let boundary = |j: u64| (u128::from(j) * u128::from(period) / u128::from(DIURNAL_PIECES)) as SimTime;
    let phase = phase % period.max(1);
    let p = period as f64;
    let shape = Shape::Sine { mean, amplitude, phase: phase as f64, period: p };
    (0..DIURNAL_PIECES)
        .filter(|&j| boundary(j) < boundary(j + 1))
        .map(|j| {
            let (a, b) = (boundary(j), boundary(j + 1));
            let from = (i128::from(a) - i128::from(phase)).rem_euclid(i128::from(period)) as f64 / p;
            let span = (b - a) as f64 / p;
            // The peak of sin is at a quarter turn; is one inside [from, from + span]?
            let to_peak = (0.25 - from).rem_euclid(1.0);
            let sin_max = if to_peak <= span { 1.0 } else { (TAU * from).sin().max((TAU * (from + span)).sin()) };
            let bound = (mean + amplitude * sin_max).max(0.0);
            let to_trough = (0.75 - from).rem_euclid(1.0);
            let sin_min = if to_trough <= span { -1.0 } else { (TAU * from).sin().min((TAU * (from + span)).sin()) };
            let floor = floor_below(mean + amplitude * sin_min, mean.abs() + amplitude.abs());
            Piece { start: a, bound, floor, shape: if amplitude == 0.0 { Shape::Flat } else { shape } }
        })
        .collect()
}

/// The state of one arrival stream.
#[derive(Clone, Debug)]
pub struct Arrivals {
    state: State,
}

#[derive(Clone, Debug)]
enum State {
    Ended,
    Even { start: f64, rate: f64, count: u64 },
    Poisson(Poisson),
    Replay(Replay),
}

#[derive(Clone, Debug)]
struct Poisson {
    table: Table,
    /// The last candidate, or the start: continuous milliseconds.
    x: f64,
    window: Window,
    hint: usize,
}

#[derive(Clone, Debug)]
struct Replay {
    times: Vec<SimTime>,
    period: Option<SimTime>,
    /// ⌊scale⌋ copies of every record...
    whole: u64,
    /// ...and one more with this probability.
    fraction: f64,
    /// The next record to replay, counted over all repetitions (repetition × times.len() + index).
    record: u64,
    /// The next record that gets the extra copy, once drawn.
    next_extra: Option<u64>,
    copies_left: u64,
    current: SimTime,
}

impl Arrivals {
    /// A stream starting at time 0. An invalid process (see [`ArrivalProcess::validate`], which
    /// the scenario layer calls first) gives no arrivals rather than a panic.
    pub fn new(process: ArrivalProcess) -> Arrivals {
        Arrivals::starting_at(process, 0)
    }

    /// A stream whose first arrival is at or after `start`. Rate patterns and timestamps keep
    /// their absolute times: the stream is the process restricted to t ≥ start.
    pub fn starting_at(process: ArrivalProcess, start: SimTime) -> Arrivals {
        if process.validate().is_err() {
            return Arrivals { state: State::Ended };
        }
        let state = match process {
            ArrivalProcess::Constant { rate } if rate > 0.0 => State::Even { start: start as f64, rate, count: 0 },
            ArrivalProcess::Constant { .. } => State::Ended,
            ArrivalProcess::Poisson(pattern) => {
                let table = Table::new(&pattern);
                if table.period.is_some() && table.period_mass <= 0.0 {
                    State::Ended
                } else {
                    State::Poisson(Poisson { table, x: start as f64, window: Window::NONE, hint: 0 })
                }
            }
            ArrivalProcess::Timestamps { scale, .. } if scale <= 0.0 => State::Ended,
            ArrivalProcess::Timestamps { times, scale, period } => {
                let n = times.len() as u64;
                let record = match period {
                    Some(p) => {
                        let lap = start / p;
                        let index = times.partition_point(|&t| t < start - lap * p) as u64;
                        lap.saturating_mul(n).saturating_add(index)
                    }
                    None => times.partition_point(|&t| t < start) as u64,
                };
                State::Replay(Replay {
                    times,
                    period,
                    whole: scale.floor() as u64,
                    fraction: scale - scale.floor(),
                    record,
                    next_extra: None,
                    copies_left: 0,
                    current: 0,
                })
            }
        };
        Arrivals { state }
    }

    /// The time of the next arrival: at or after the previous one returned (at or after the
    /// start for the first), or None once the stream has ended (a trace or replay that does not
    /// loop, or a rate that stays zero from some point on); once None, always None.
    ///
    /// The continuous arrival times strictly increase, but rounded to milliseconds two arrivals
    /// can share one: at rates above about 1000 per second, and for every copy of a replayed
    /// timestamp. Returning a later millisecond instead would cap the rate at 1000 per second.
    pub fn next(&mut self, rng: &mut SimRng) -> Option<SimTime> {
        let t = match &mut self.state {
            State::Ended => None,
            State::Even { start, rate, count } => {
                *count += 1;
                // From the count, not by adding intervals, so rounding never accumulates.
                let x = *start + *count as f64 * 1000.0 / *rate;
                (x < MAX_MS).then(|| crate::engine::round_ms(x))
            }
            State::Poisson(p) => p.next(rng).map(crate::engine::round_ms),
            State::Replay(r) => r.next(rng),
        };
        if t.is_none() {
            self.state = State::Ended;
        }
        t
    }
}

impl Poisson {
    fn next(&mut self, rng: &mut SimRng) -> Option<f64> {
        loop {
            let mut work: f64 = rng.sample(Exp1);
            loop {
                if self.x >= MAX_MS {
                    return None;
                }
                if self.x >= self.window.end {
                    self.window = self.table.window(self.x, &mut self.hint);
                    if self.window.period_start && work >= self.table.period_mass {
                        let period = self.table.period?;
                        let laps = (work / self.table.period_mass).floor();
                        work = (work - laps * self.table.period_mass).max(0.0);
                        self.x += laps * period;
                        self.window = Window::NONE;
                        continue;
                    }
                    if self.x >= self.window.end {
                        return None;
                    }
                }
                let w = self.window;
                if w.bound <= 0.0 {
                    if w.end == f64::INFINITY {
                        return None;
                    }
                    self.x = w.end;
                    continue;
                }
                let candidate = self.x + work * 1000.0 / w.bound;
                if candidate < w.end {
                    self.x = candidate;
                    break;
                }
                work = (work - (w.end - self.x) * w.bound / 1000.0).max(0.0);
                self.x = w.end;
            }
            let w = self.window;
            if matches!(w.shape, Shape::Flat) || {
                let u = rng.random::<f64>() * w.bound;
                u < w.floor || u < w.shape.rate(self.x)
            } {
                return Some(self.x);
            }
        }
    }
}

impl Replay {
    fn next(&mut self, rng: &mut SimRng) -> Option<SimTime> {
        loop {
            if self.copies_left > 0 {
                self.copies_left -= 1;
                return Some(self.current);
            }
            let next_extra = match self.next_extra {
                Some(e) => e,
                None => {
                    let e = self.record.saturating_add(self.records_until_extra(rng));
                    self.next_extra = Some(e);
                    e
                }
            };
            if self.whole == 0 {
                // Records without a copy are skipped in one step, so a small scale costs O(1)
                // per arrival rather than per record.
                self.record = self.record.max(next_extra);
            }
            let n = self.times.len() as u64;
            let (lap, index) = (self.record / n, (self.record % n) as usize);
            let offset = match self.period {
                Some(p) => lap.checked_mul(p)?,
                None if lap == 0 => 0,
                None => return None,
            };
            self.current = self.times[index].checked_add(offset)?;
            if self.current as f64 >= MAX_MS {
                return None;
            }
            self.copies_left = self.whole;
            if self.record == next_extra {
                self.copies_left += 1;
                self.next_extra = None;
            }
            self.record = self.record.saturating_add(1);
        }
    }

    /// How many records pass before the next one with an extra copy: geometric with success
    /// probability `fraction`, by inversion (P(G ≥ k) = (1 − f)^k), which is the same as one
    /// Bernoulli(f) draw per record but costs one draw per extra copy. Never, without a fraction.
    fn records_until_extra(&self, rng: &mut SimRng) -> u64 {
        if self.fraction <= 0.0 {
            return u64::MAX;
        }
        let u = 1.0 - rng.random::<f64>();
        (u.ln() / (-self.fraction).ln_1p()).floor() as u64
    }
}

/// The header lines a trace file may start with, for messages.
const EXPECTED_HEADER: &str = "`time_s,rate` (a rate trace) or `time_s` (request timestamps)";

/// Parses a trace CSV (`time_s,rate` with a header line, or a single `time_s` column for timestamps).
///
/// Times are seconds (decimals allowed), rounded to the nearest millisecond; they must be
/// finite, zero or more and non-decreasing. Rates must be finite and zero or more. Blank lines
/// and lines starting with `#` are skipped, fields may be padded with spaces, and CRLF line ends
/// and a UTF-8 byte-order mark are accepted. Columns count characters, starting at 1.
pub fn parse_trace_csv(text: &str) -> Result<TraceData, TraceError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = text.split('\n').enumerate().filter_map(|(i, raw)| {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let content = line.trim();
        (!content.is_empty() && !content.starts_with('#')).then_some((i + 1, line))
    });
    let Some((header_line, header)) = rows.next() else {
        return Err(TraceError::at(1, 1, format!("the trace is empty: expected a header line, {EXPECTED_HEADER}")));
    };
    let with_rates = parse_header(header_line, header)?;
    let mut rates = Vec::new();
    let mut stamps = Vec::new();
    let mut previous: Option<f64> = None;
    for (line, text) in rows {
        let mut fields = Fields::new(text);
        let Some((column, field)) = fields.next() else { continue };
        let seconds = parse_number(line, column, field, "time_s")?;
        if seconds < 0.0 {
            return Err(TraceError::at(line, column, format!("time_s must be zero or more, got {seconds}")));
        }
        if seconds > MAX_TRACE_SECONDS {
            return Err(TraceError::at(line, column, format!("time_s must be at most {MAX_TRACE_SECONDS} s")));
        }
        if let Some(before) = previous.filter(|&before| seconds < before) {
            return Err(TraceError::at(
                line,
                column,
                format!("time_s {seconds} is before the previous row's {before}: times must not decrease"),
            ));
        }
        previous = Some(seconds);
        let time = (seconds * 1000.0).round() as SimTime;
        let width = if with_rates { 2 } else { 1 };
        if with_rates {
            let Some((column, field)) = fields.next() else {
                return Err(TraceError::at(
                    line,
                    text.chars().count() + 1,
                    "expected 2 fields, `time_s,rate`, but the row has 1: the rate is missing".into(),
                ));
            };
            let rate = parse_number(line, column, field, "rate")?;
            if rate < 0.0 {
                return Err(TraceError::at(line, column, format!("rate must be zero or more, got {rate}")));
            }
            rates.push((time, rate));
        } else {
            stamps.push(time);
        }
        if let Some((column, _)) = fields.next() {
            let found = width + 1 + fields.count();
            let expected = if with_rates { "2 fields, `time_s,rate`" } else { "1 field, `time_s`" };
            return Err(TraceError::at(line, column, format!("expected {expected}, but the row has {found}")));
        }
    }
    if rates.is_empty() && stamps.is_empty() {
        return Err(TraceError::at(header_line, 1, "the trace has a header but no rows".into()));
    }
    Ok(if with_rates { TraceData::Rates(rates) } else { TraceData::Timestamps(stamps) })
}

impl TraceError {
    fn at(line: usize, column: usize, message: String) -> TraceError {
        TraceError { line, column, message }
    }
}

/// Whether the header announces a rate trace (true) or timestamps (false).
fn parse_header(line: usize, text: &str) -> Result<bool, TraceError> {
    let mut fields = Fields::new(text);
    let mut names = [(0, ""); 3];
    let mut count = 0;
    for (slot, field) in names.iter_mut().zip(&mut fields) {
        *slot = field;
        count += 1;
    }
    let column = match (count, names[0].1, names[1].1) {
        (2, "time_s", "rate") => return Ok(true),
        (1, "time_s", _) => return Ok(false),
        (_, "time_s", "rate") => names[2].0,
        (_, "time_s", _) => names[1].0,
        _ => names[0].0,
    };
    Err(TraceError::at(line, column, format!("expected the header {EXPECTED_HEADER}, found `{}`", clip(text.trim()))))
}

fn parse_number(line: usize, column: usize, field: &str, name: &str) -> Result<f64, TraceError> {
    if field.is_empty() {
        return Err(TraceError::at(line, column, format!("{name} is empty: expected a number")));
    }
    match field.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(v) => Err(TraceError::at(line, column, format!("{name} must be a finite number, got {v}"))),
        Err(_) => Err(TraceError::at(line, column, format!("{name}: `{}` is not a number", clip(field)))),
    }
}

/// At most 40 characters of a field, for messages about arbitrary files.
fn clip(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}

/// The comma-separated fields of a line, trimmed, each with the column where its text starts.
struct Fields<'a> {
    rest: Option<&'a str>,
    column: usize,
}

impl<'a> Fields<'a> {
    fn new(line: &'a str) -> Self {
        Fields { rest: Some(line), column: 1 }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<(usize, &'a str)> {
        let rest = self.rest?;
        let (raw, tail) = match rest.find(',') {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let column = self.column + raw.chars().take_while(|c| c.is_whitespace()).count();
        self.column += raw.chars().count() + 1;
        self.rest = tail;
        Some((column, raw.trim()))
    }
}

/// A stream of HTTP requests sent through the load balancer to a target group.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    pub name: String,
    /// Index into the scenario's target groups.
    pub target_group: usize,
    pub arrivals: ArrivalProcess,
    /// CPU time one request costs on one vCPU, ms.
    pub service_time: crate::engine::Distribution,
    /// Memory a request holds while in flight, MiB.
    pub memory_per_request: f64,
    /// The ALB idle timeout: a request unanswered this long gets a 504.
    pub timeout: SimTime,
    /// Requests arrive from this instant on: the service can be up before its traffic.
    pub start: SimTime,
}

/// How requests are simulated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fidelity {
    /// Every request is an event: arrival, queueing, service, answer.
    #[default]
    Request,
    /// Arrivals are integrated second by second, and each task's utilization and latency come
    /// from its offered load by queueing formulas; the control loops stay event by event.
    Fluid,
}

/// A latency objective: the given percentile of each minute's response times at or below the
/// threshold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatencySlo {
    pub percentile: f64,
    pub threshold: SimTime,
}

/// `(t - phase) mod period`, in `0..period`: integer arithmetic keeps the phase exact however
/// far into the run `t` is, and in `u64` it takes two hardware divisions where the signed
/// 128-bit remainder takes a library call (the fluid fidelity asks once per workload and second).
fn offset_in_period(t: SimTime, phase: SimTime, period: SimTime) -> SimTime {
    let (t, phase) = (t % period, phase % period);
    if t >= phase { t - phase } else { period - (phase - t) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Second after second, the turned sine gives the rate worked out anew, within 10⁻¹²
    /// requests; it is worked out anew (and so equal) at a run's first window, after a gap, at
    /// a window of another width and where the period wraps.
    #[test]
    fn stepped_arrivals_follow_the_sine() {
        let diurnal = |period: SimTime, phase: SimTime| {
            ArrivalProcess::Poisson(RatePattern::Diurnal { mean: 100.0, amplitude: 50.0, period, phase })
        };
        for (period, phase) in [(24 * HOUR, 0), (24 * HOUR, 72 * MINUTE), (HOUR, 17 * SECOND), (90 * SECOND, 0)] {
            let arrivals = diurnal(period, phase);
            let mut stepper = SineStepper::default();
            let mut from = 0;
            let mut worst: f64 = 0.0;
            while from < 2 * period {
                // A jump now and then, and a window of half a second once.
                let gap = if from % (7 * MINUTE) == 3 * SECOND { 5 * SECOND } else { 0 };
                let from_here = from + gap;
                let width = if from == 11 * SECOND { SECOND / 2 } else { SECOND };
                let stepped = arrivals.expected_arrivals_stepping(from_here, from_here + width, &mut stepper);
                let exact = arrivals.expected_arrivals(from_here, from_here + width);
                let fresh = stepper.0.is_some_and(|x| x.left == SineStepper::TURNS);
                if fresh {
                    assert_eq!(stepped, exact, "worked out anew at {from_here} ms");
                }
                worst = worst.max((stepped - exact).abs());
                from = from_here + width;
            }
            assert!(worst < 1e-12, "period {period}: {worst} requests apart");
        }
        // Other patterns are asked as they are.
        let constant = ArrivalProcess::Constant { rate: 3.0 };
        assert_eq!(constant.expected_arrivals_stepping(0, 1000, &mut SineStepper::default()), 3.0);
    }

    #[test]
    fn the_offset_in_the_period_is_the_euclidean_remainder() {
        let period = 24 * HOUR;
        let cases = [0, 1, period - 1, period, period + 1, 5 * period + 17, u64::MAX / 2, u64::MAX];
        for t in cases {
            for phase in [0, 1, 3 * HOUR, period - 1, period, 2 * period + 5, u64::MAX] {
                let expected = (i128::from(t) - i128::from(phase)).rem_euclid(i128::from(period));
                assert_eq!(i128::from(offset_in_period(t, phase, period)), expected, "t {t}, phase {phase}");
            }
        }
        // An hour before the phase is 23 hours into the period.
        assert_eq!(offset_in_period(2 * HOUR, 3 * HOUR, period), 23 * HOUR);
    }
    use crate::engine::{MINUTE, RngStreams, SECOND};

    fn rng(seed: u64) -> SimRng {
        RngStreams::new(seed).indexed_stream("arrivals", 0)
    }

    /// The arrivals before `end`, and whether the stream ended (None) before reaching it.
    fn arrivals_until(process: ArrivalProcess, end: SimTime, seed: u64) -> (Vec<SimTime>, bool) {
        let mut arrivals = Arrivals::new(process);
        let mut rng = rng(seed);
        let mut times = Vec::new();
        loop {
            match arrivals.next(&mut rng) {
                Some(t) if t < end => times.push(t),
                Some(_) => return (times, false),
                None => return (times, true),
            }
        }
    }

    /// (count − Λ)/√Λ: a Poisson count's deviation in standard deviations.
    fn z_score(count: usize, expected: f64) -> f64 {
        (count as f64 - expected) / expected.sqrt()
    }

    /// ∫ rate(t) dt over [from, to] seconds, composite Simpson with `steps` (even) intervals.
    fn simpson(rate: impl Fn(f64) -> f64, from: f64, to: f64, steps: usize) -> f64 {
        let h = (to - from) / steps as f64;
        let inner: f64 = (1..steps).map(|i| rate(from + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 }).sum();
        (rate(from) + inner + rate(to)) * h / 3.0
    }

    #[test]
    fn poisson_counts_match_the_integrated_rate_within_three_sigma() {
        let clipped = |t: f64| (5.0 + 10.0 * (TAU * (t - 600.0) / 3600.0).sin()).max(0.0);
        let cases: Vec<(&str, RatePattern, SimTime, f64)> = vec![
            ("constant", RatePattern::Constant { rate: 40.0 }, 4 * HOUR, 40.0 * 4.0 * 3600.0),
            (
                "diurnal",
                RatePattern::Diurnal { mean: 10.0, amplitude: 8.0, period: 24 * HOUR, phase: 5 * HOUR },
                24 * HOUR,
                10.0 * 86_400.0,
            ),
            (
                "diurnal clipped at 0",
                RatePattern::Diurnal { mean: 5.0, amplitude: 10.0, period: HOUR, phase: 10 * MINUTE },
                10 * HOUR,
                10.0 * simpson(clipped, 0.0, 3600.0, 36_000),
            ),
            (
                "step",
                RatePattern::Step { initial: 5.0, changes: vec![(HOUR, 50.0), (2 * HOUR, 0.0), (3 * HOUR, 20.0)] },
                4 * HOUR,
                (5.0 + 50.0 + 0.0 + 20.0) * 3600.0,
            ),
            (
                "spike",
                RatePattern::Spike { base: 10.0, at: HOUR, height: 90.0, length: 10 * MINUTE },
                3 * HOUR,
                10.0 * 3.0 * 3600.0 + 90.0 * 600.0,
            ),
            (
                "piecewise",
                RatePattern::Piecewise { points: vec![(0, 0.0), (HOUR, 60.0), (2 * HOUR, 60.0), (3 * HOUR, 0.0)] },
                4 * HOUR,
                (30.0 + 60.0 + 30.0) * 3600.0,
            ),
        ];
        for (seed, (name, pattern, window, expected)) in cases.into_iter().enumerate() {
            let (times, _) = arrivals_until(ArrivalProcess::Poisson(pattern), window, seed as u64 + 1);
            let z = z_score(times.len(), expected);
            eprintln!("{name}: {} arrivals, expected {expected:.0}, z = {z:+.2}", times.len());
            assert!(z.abs() < 3.0, "{name}: {} arrivals, expected {expected}, z = {z}", times.len());
        }
    }

    #[test]
    fn zero_rate_stretches_have_no_arrivals_and_a_rate_zero_forever_ends_the_stream() {
        let step = RatePattern::Step { initial: 5.0, changes: vec![(HOUR, 0.0), (2 * HOUR, 20.0), (3 * HOUR, 0.0)] };
        let (times, ended) = arrivals_until(ArrivalProcess::Poisson(step), SimTime::MAX, 4);
        assert!(ended);
        assert!(times.iter().all(|&t| t <= HOUR || (2 * HOUR..=3 * HOUR).contains(&t)));
        let piecewise = RatePattern::Piecewise { points: vec![(0, 10.0), (HOUR, 0.0)] };
        let (times, ended) = arrivals_until(ArrivalProcess::Poisson(piecewise), SimTime::MAX, 4);
        assert!(ended && times.iter().all(|&t| t <= HOUR));
        for silent in [
            RatePattern::Constant { rate: 0.0 },
            RatePattern::Diurnal { mean: 0.0, amplitude: 0.0, period: HOUR, phase: 0 },
            RatePattern::Trace { points: vec![(0, 0.0), (MINUTE, 0.0)], scale: 1.0, period: Some(2 * MINUTE) },
            RatePattern::Trace { points: vec![(0, 10.0)], scale: 0.0, period: Some(MINUTE) },
        ] {
            assert_eq!(Arrivals::new(ArrivalProcess::Poisson(silent.clone())).next(&mut rng(1)), None, "{silent:?}");
        }
    }

    #[test]
    fn diurnal_arrivals_fall_only_where_the_clipped_rate_is_positive() {
        // mean 0: the rate is positive on (0, 12 h) of each day and zero on (12 h, 24 h).
        let pattern = RatePattern::Diurnal { mean: 0.0, amplitude: 10.0, period: 24 * HOUR, phase: 0 };
        let (times, _) = arrivals_until(ArrivalProcess::Poisson(pattern), 10 * 24 * HOUR, 8);
        assert!(times.len() > 1_000_000);
        assert!(times.iter().all(|&t| t % (24 * HOUR) <= 12 * HOUR));
    }

    #[test]
    fn diurnal_hourly_counts_follow_the_sinusoid_within_four_sigma() {
        // 24 comparisons at 4σ: a correct generator fails one with probability about 0.15 %.
        let (mean, amplitude, phase) = (10.0, 8.0, 6.0 * 3600.0);
        let pattern = RatePattern::Diurnal { mean, amplitude, period: 24 * HOUR, phase: (phase * 1000.0) as SimTime };
        let (times, _) = arrivals_until(ArrivalProcess::Poisson(pattern), 24 * HOUR, 11);
        let mut counts = [0usize; 24];
        for t in times {
            counts[(t / HOUR) as usize] += 1;
        }
        let w = TAU / 86_400.0;
        let mut worst: f64 = 0.0;
        for (h, &count) in counts.iter().enumerate() {
            let (a, b) = (h as f64 * 3600.0, (h + 1) as f64 * 3600.0);
            let expected = mean * 3600.0 + amplitude / w * ((w * (a - phase)).cos() - (w * (b - phase)).cos());
            let z = z_score(count, expected);
            worst = worst.max(z.abs());
            assert!(z.abs() < 4.0, "hour {h}: {count} arrivals, expected {expected:.0}, z = {z:.2}");
        }
        eprintln!("diurnal hours: counts {counts:?}, largest |z| = {worst:.2}");
        assert!(counts[12] > 2 * counts[0], "the peak at 12 h is {} against {} at 0 h", counts[12], counts[0]);
    }

    #[test]
    fn constant_rate_poisson_interarrivals_are_exponential() {
        // λ = 5/s, n = 200,000 gaps of mean 200 ms. Standard errors: mean 0.22 %, CV ≈ √(2/n) =
        // 0.0032, P(gap > mean) ≈ 0.0011; the tolerances are 1 %, 0.015 and 0.005 (about 4.5 SE).
        let mut arrivals = Arrivals::new(ArrivalProcess::Poisson(RatePattern::Constant { rate: 5.0 }));
        let mut rng = rng(21);
        let mut previous = 0;
        let gaps: Vec<f64> = (0..200_000)
            .map(|_| {
                let t = arrivals.next(&mut rng).unwrap();
                let gap = (t - previous) as f64;
                previous = t;
                gap
            })
            .collect();
        let n = gaps.len() as f64;
        let mean = gaps.iter().sum::<f64>() / n;
        let sd = (gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let above_mean = gaps.iter().filter(|&&g| g > 200.0).count() as f64 / n;
        eprintln!("interarrivals: mean {mean:.2} ms, CV {:.4}, P(gap > 200 ms) {above_mean:.4}", sd / mean);
        assert!((mean / 200.0 - 1.0).abs() < 0.01, "mean gap {mean} ms");
        assert!((sd / mean - 1.0).abs() < 0.015, "coefficient of variation {}", sd / mean);
        assert!((above_mean - (-1.0f64).exp()).abs() < 0.005, "P(gap > mean) = {above_mean}");
    }

    #[test]
    fn constant_process_is_exactly_evenly_spaced_without_drift() {
        let (times, _) = arrivals_until(ArrivalProcess::Constant { rate: 4.0 }, HOUR + 1, 1);
        assert_eq!(times.len(), 4 * 3600);
        assert!(times.iter().enumerate().all(|(k, &t)| t == 250 * (k as SimTime + 1)));
        // 1/3 s is not a whole number of milliseconds: each time is the exact one rounded.
        let mut arrivals = Arrivals::new(ArrivalProcess::Constant { rate: 3.0 });
        for k in 1..=3_000_000u64 {
            assert_eq!(arrivals.next(&mut rng(1)), Some(((k as f64) * 1000.0 / 3.0).round() as SimTime));
        }
        assert_eq!(arrivals.next(&mut rng(1)), Some(1_000_000_333));
    }

    fn hourly_trace(period: Option<SimTime>) -> RatePattern {
        RatePattern::Trace { points: vec![(0, 10.0), (MINUTE, 0.0), (2 * MINUTE, 30.0)], scale: 1.0, period }
    }

    #[test]
    fn trace_rates_are_held_scaled_and_looped() {
        let once = hourly_trace(None);
        let rates: Vec<f64> = [0, 59_999, 60_000, 119_999, 120_000, 179_999, 180_000, 10 * HOUR]
            .iter()
            .map(|&t| once.rate_at(t))
            .collect();
        assert_eq!(rates, [10.0, 10.0, 0.0, 0.0, 30.0, 30.0, 0.0, 0.0]);
        let looped = hourly_trace(Some(3 * MINUTE));
        assert_eq!(looped.rate_at(180_000 + 130_000), 30.0);
        assert_eq!(looped.rate_at(1000 * 180_000 + 5), 10.0);
        let late = RatePattern::Trace { points: vec![(MINUTE, 7.0), (2 * MINUTE, 8.0)], scale: 0.5, period: None };
        assert_eq!((late.rate_at(0), late.rate_at(MINUTE), late.rate_at(3 * MINUTE - 1)), (0.0, 3.5, 4.0));
        assert_eq!(TraceData::Rates(vec![(0, 1.0), (MINUTE, 1.0), (2 * MINUTE, 1.0)]).length(), Some(3 * MINUTE));
        assert_eq!(TraceData::Timestamps(vec![5, 5]).length(), None);
    }

    #[test]
    fn a_trace_replays_its_rates_once_then_ends() {
        let (times, ended) = arrivals_until(ArrivalProcess::Poisson(hourly_trace(None)), SimTime::MAX, 3);
        assert!(ended, "a non-looping trace ends after its length");
        assert!(times.iter().all(|&t| t <= 3 * MINUTE));
        assert!(!times.iter().any(|&t| (MINUTE + 1..2 * MINUTE).contains(&t)));
        let first = times.iter().filter(|&&t| t < MINUTE).count();
        let last = times.iter().filter(|&&t| t >= 2 * MINUTE).count();
        eprintln!("trace once: {first} (expected 600), {last} (expected 1800)");
        assert!(z_score(first, 600.0).abs() < 3.0 && z_score(last, 1800.0).abs() < 3.0);
    }

    #[test]
    fn a_looping_trace_replays_its_rates_every_period() {
        // 200 laps of 3 minutes: per-segment counts within 3σ of 120,000, 0 and 360,000.
        let (times, ended) = arrivals_until(ArrivalProcess::Poisson(hourly_trace(Some(3 * MINUTE))), 600 * MINUTE, 5);
        assert!(!ended);
        let mut segments = [0usize; 3];
        for t in times {
            segments[((t % (3 * MINUTE)) / MINUTE) as usize] += 1;
        }
        eprintln!("looping trace segments {segments:?}, expected [120000, 0, 360000]");
        // A time rounded up to the minute boundary lands in the next segment: allow those few.
        assert!(segments[1] <= 5, "{} arrivals where the trace's rate is 0", segments[1]);
        assert!(z_score(segments[0], 120_000.0).abs() < 3.0 && z_score(segments[2], 360_000.0).abs() < 3.0);
    }

    #[test]
    fn a_tiny_rate_over_many_periods_costs_no_time() {
        // About 10^12 periods of 1 s before the first arrival: skipped by period, not walked.
        let pattern = RatePattern::Trace { points: vec![(0, 1e-12)], scale: 1.0, period: Some(SECOND) };
        let t = Arrivals::new(ArrivalProcess::Poisson(pattern)).next(&mut rng(2)).unwrap();
        assert!(t > 1_000_000 * SECOND, "first arrival at {t} ms");
        let diurnal = RatePattern::Diurnal { mean: 1e-12, amplitude: 1e-12, period: SECOND, phase: 0 };
        assert!(Arrivals::new(ArrivalProcess::Poisson(diurnal)).next(&mut rng(2)).unwrap() > 1_000_000 * SECOND);
        let late = RatePattern::Step { initial: 0.0, changes: vec![(300 * 24 * HOUR, 1.0)] };
        let t = Arrivals::new(ArrivalProcess::Poisson(late)).next(&mut rng(2)).unwrap();
        assert!(t >= 300 * 24 * HOUR);
    }

    #[test]
    fn the_same_stream_gives_the_same_arrivals() {
        let process =
            ArrivalProcess::Poisson(RatePattern::Diurnal { mean: 50.0, amplitude: 50.0, period: HOUR, phase: 0 });
        let a = arrivals_until(process.clone(), 2 * HOUR, 7).0;
        assert_eq!(a, arrivals_until(process.clone(), 2 * HOUR, 7).0);
        assert_ne!(a, arrivals_until(process, 2 * HOUR, 8).0);
        assert!(a.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn starting_later_gives_only_arrivals_from_then() {
        let mut even = Arrivals::starting_at(ArrivalProcess::Constant { rate: 4.0 }, 1000);
        assert_eq!(even.next(&mut rng(1)), Some(1250));
        let replay =
            ArrivalProcess::Timestamps { times: vec![0, 1500, 1500, 2000, 3250], scale: 1.0, period: Some(4000) };
        let mut from_9s = Arrivals::starting_at(replay, 9000);
        let first: Vec<_> = (0..5).map(|_| from_9s.next(&mut rng(1)).unwrap()).collect();
        assert_eq!(first, [9500, 9500, 10_000, 11_250, 12_000]);
        let mut poisson = Arrivals::starting_at(ArrivalProcess::Poisson(RatePattern::Constant { rate: 100.0 }), HOUR);
        let t = poisson.next(&mut rng(1)).unwrap();
        assert!((HOUR..HOUR + 1000).contains(&t));
    }

    #[test]
    fn timestamps_replay_exactly_and_loop() {
        let times = vec![0, 1500, 1500, 2000, 3250];
        let (once, ended) = arrivals_until(
            ArrivalProcess::Timestamps { times: times.clone(), scale: 1.0, period: None },
            SimTime::MAX,
            1,
        );
        assert!(ended);
        assert_eq!(once, times);
        let looped = arrivals_until(
            ArrivalProcess::Timestamps { times: times.clone(), scale: 1.0, period: Some(4000) },
            12_000,
            1,
        )
        .0;
        let expected: Vec<SimTime> = (0..3).flat_map(|k| times.iter().map(move |t| t + 4000 * k)).collect();
        assert_eq!(looped, expected);
    }

    #[test]
    fn timestamp_scale_two_doubles_every_record_and_fractions_thin_within_three_sigma() {
        let times = vec![0, 1500, 1500, 2000, 3250];
        let doubled = arrivals_until(
            ArrivalProcess::Timestamps { times: times.clone(), scale: 2.0, period: None },
            SimTime::MAX,
            1,
        )
        .0;
        assert_eq!(doubled, [0, 0, 1500, 1500, 1500, 1500, 2000, 2000, 3250, 3250]);
        // 20,000 laps of 5 records: 100,000 records, each kept with probability 0.5 (binomial
        // sd 158) or given a third copy with probability 0.5.
        let records = 100_000.0;
        let end = 20_000 * 4000;
        let half =
            arrivals_until(ArrivalProcess::Timestamps { times: times.clone(), scale: 0.5, period: Some(4000) }, end, 9)
                .0;
        let z_half = (half.len() as f64 - records * 0.5) / (records * 0.25f64).sqrt();
        let more = arrivals_until(ArrivalProcess::Timestamps { times, scale: 2.5, period: Some(4000) }, end, 9).0;
        let z_more = (more.len() as f64 - records * 2.5) / (records * 0.25f64).sqrt();
        eprintln!(
            "timestamps: scale 0.5 gave {}, z = {z_half:+.2}; scale 2.5 gave {}, z = {z_more:+.2}",
            half.len(),
            more.len()
        );
        assert!(z_half.abs() < 3.0 && z_more.abs() < 3.0);
        // Every record of the 2.5 replay appears 2 or 3 times (times 1500 hold two records).
        let at_zero = more.chunk_by(|a, b| a == b).filter(|run| run[0] % 4000 == 0).map(|run| run.len());
        assert!(at_zero.clone().all(|n| n == 2 || n == 3) && at_zero.count() == 20_000);
    }

    #[test]
    fn windows_bound_and_floor_the_rate_and_flat_pieces_equal_it() {
        let patterns = [
            RatePattern::Constant { rate: 3.0 },
            RatePattern::Diurnal { mean: 4.0, amplitude: 6.0, period: 1001, phase: 250 },
            RatePattern::Diurnal { mean: 4.0, amplitude: 2.0, period: 24 * HOUR, phase: 7 * HOUR + 3 },
            RatePattern::Diurnal { mean: 4.0, amplitude: 2.0, period: 7, phase: 3 },
            RatePattern::Diurnal { mean: 100.0, amplitude: 50.0, period: 24 * HOUR, phase: 72 * MINUTE },
            RatePattern::Step { initial: 1.0, changes: vec![(100, 2.0), (100, 5.0), (300, 0.0)] },
            RatePattern::Spike { base: 1.0, at: 0, height: 4.0, length: 50 },
            RatePattern::Piecewise { points: vec![(50, 1.0), (100, 9.0), (100, 2.0), (200, 2.0), (400, 0.0)] },
            RatePattern::Trace { points: vec![(10, 1.0), (20, 3.0), (20, 4.0), (90, 0.5)], scale: 2.0, period: None },
            RatePattern::Trace { points: vec![(10, 1.0), (20, 3.0), (90, 0.5)], scale: 2.0, period: Some(97) },
        ];
        let mut draw = rng(5);
        for pattern in &patterns {
            let table = Table::new(pattern);
            let mut hint = 0;
            for _ in 0..20_000 {
                let t: SimTime = draw.random_range(0..200_000_000);
                let w = table.window(t as f64, &mut hint);
                let rate = pattern.rate_at(t);
                assert!(w.end > t as f64, "{pattern:?} at {t}: window ends at {}", w.end);
                assert!(w.bound >= rate - 1e-9, "{pattern:?} at {t}: bound {} below rate {rate}", w.bound);
                let model = if matches!(w.shape, Shape::Flat) { w.bound } else { w.shape.rate(t as f64) };
                // The squeeze keeps only what thinning keeps: the floor is never above the rate
                // as thinning computes it.
                assert!(w.floor <= model, "{pattern:?} at {t}: floor {} above rate {model}", w.floor);
                let x = t as f64 + draw.random::<f64>();
                let w = table.window(x, &mut hint);
                if !matches!(w.shape, Shape::Flat) {
                    assert!(w.floor <= w.shape.rate(x), "{pattern:?} at {x}: floor {} above the rate", w.floor);
                }
                assert!((model - rate).abs() < 1e-9, "{pattern:?} at {t}: piece says {model}, rate_at {rate}");
            }
        }
    }

    #[test]
    fn invalid_parameters_are_refused_by_name_and_give_no_arrivals() {
        let cases = [
            (RatePattern::Constant { rate: -1.0 }, "rate"),
            (RatePattern::Constant { rate: f64::NAN }, "rate"),
            (RatePattern::Diurnal { mean: 1.0, amplitude: -2.0, period: HOUR, phase: 0 }, "amplitude"),
            (RatePattern::Diurnal { mean: 1.0, amplitude: 1.0, period: 0, phase: 0 }, "period"),
            (RatePattern::Step { initial: 1.0, changes: vec![(20, 1.0), (10, 1.0)] }, "changes[1].time"),
            (RatePattern::Spike { base: 1.0, at: 0, height: f64::INFINITY, length: 1 }, "height"),
            (RatePattern::Piecewise { points: vec![] }, "points"),
            (RatePattern::Piecewise { points: vec![(0, 1.0), (5, -1.0)] }, "points[1].rate"),
            (RatePattern::Trace { points: vec![(0, 1.0)], scale: 1.0, period: None }, "period"),
            (RatePattern::Trace { points: vec![(0, 1.0), (60, 1.0)], scale: -1.0, period: None }, "scale"),
            (RatePattern::Trace { points: vec![(0, 1.0), (60, 1.0)], scale: 1.0, period: Some(60) }, "period"),
        ];
        for (pattern, field) in cases {
            let message = pattern.validate().expect_err(field);
            assert!(message.starts_with(field) || message.contains(field), "{message}");
            assert_eq!(Arrivals::new(ArrivalProcess::Poisson(pattern)).next(&mut rng(1)), None);
        }
        let bad_replay = ArrivalProcess::Timestamps { times: vec![5, 3], scale: 1.0, period: None };
        assert!(bad_replay.validate().unwrap_err().contains("times[1]"));
        assert!(ArrivalProcess::Timestamps { times: vec![], scale: 1.0, period: None }.validate().is_err());
        assert!(ArrivalProcess::Constant { rate: f64::INFINITY }.validate().is_err());
        assert!(RatePattern::Diurnal { mean: 0.0, amplitude: 5.0, period: HOUR, phase: 0 }.validate().is_ok());
    }

    fn error(text: &str) -> (usize, usize, String) {
        let e = parse_trace_csv(text).expect_err(text);
        (e.line, e.column, e.message)
    }

    /// The line and column of the error `text` gives.
    fn at(text: &str) -> (usize, usize) {
        let (line, column, _) = error(text);
        (line, column)
    }

    #[test]
    fn trace_files_parse_with_comments_blank_lines_and_crlf() {
        let text =
            "\u{feff}# requests per second\r\ntime_s, rate\r\n\r\n0,10\r\n  60.5 ,  0\r\n# pause\r\n120,2.5e1\r\n";
        assert_eq!(parse_trace_csv(text), Ok(TraceData::Rates(vec![(0, 10.0), (60_500, 0.0), (120_000, 25.0)])));
        let stamps = "time_s\n0.0005\n1.25\n1.25\n3600\n";
        assert_eq!(parse_trace_csv(stamps), Ok(TraceData::Timestamps(vec![1, 1250, 1250, 3_600_000])));
    }

    #[test]
    fn trace_file_errors_give_line_and_column() {
        let (line, column, message) = error("time_s,rate\n0,10\n60,abc\n");
        assert_eq!((line, column), (3, 4));
        assert!(message.contains("`abc` is not a number"), "{message}");
        assert_eq!(at(""), (1, 1));
        assert!(error("\n# only a comment\n").2.contains("empty"));
        let (line, column, message) = error("# c\ntime,rate\n0,1\n");
        assert_eq!((line, column), (2, 1));
        assert!(message.contains("`time_s,rate`"), "{message}");
        assert_eq!(at("time_s,rates\n"), (1, 8));
        assert_eq!(at("time_s,rate,x\n"), (1, 13));
        assert!(error("time_s,rate\n").2.contains("no rows"));
        let (line, column, message) = error("time_s,rate\n0,10\n\n5,1,7\n");
        assert_eq!((line, column), (4, 5));
        assert!(message.contains("has 3"), "{message}");
        let (line, column, message) = error("time_s,rate\n0,10\n5\n");
        assert_eq!((line, column), (3, 2));
        assert!(message.contains("missing"), "{message}");
        assert_eq!(at("time_s\n1\n2,3\n"), (3, 3));
    }

    #[test]
    fn trace_file_values_are_checked() {
        let (line, column, message) = error("time_s,rate\n60,1\n30,1\n");
        assert_eq!((line, column), (3, 1));
        assert!(message.contains("must not decrease"), "{message}");
        assert_eq!(at("time_s,rate\n0, -1\n"), (2, 4));
        assert_eq!(at("time_s,rate\n-1,1\n"), (2, 1));
        assert_eq!(at("time_s,rate\ninf,1\n"), (2, 1));
        assert_eq!(at("time_s,rate\n0,NaN\n"), (2, 3));
        assert_eq!(at("time_s,rate\n0,\n"), (2, 3));
        assert_eq!(at("time_s,rate\n1e300,1\n"), (2, 1));
        assert_eq!(at("time_s\n\u{e9}t\u{e9}\n"), (2, 1));
        assert_eq!(at("time_s,rate\n1, 2\u{e9}\n"), (2, 4));
    }

    #[test]
    fn the_trace_parser_never_panics_on_random_input() {
        const PIECES: [&str; 16] =
            ["time_s", "rate", ",", "\n", "\r\n", "#", " ", "0", "60", "1.5", "-", "e9", "abc", "\u{e9}", "nan", "."];
        let mut draw = rng(13);
        for _ in 0..20_000 {
            let mut text = String::new();
            if draw.random_bool(0.7) {
                text.push_str(if draw.random_bool(0.5) { "time_s,rate\n" } else { "time_s\n" });
            }
            for _ in 0..draw.random_range(0..30) {
                text.push_str(PIECES[draw.random_range(0..PIECES.len())]);
            }
            let lines: Vec<&str> = text.split('\n').collect();
            if let Err(e) = parse_trace_csv(&text) {
                assert!(e.line >= 1 && e.line <= lines.len(), "{text:?}: line {}", e.line);
                let width = lines[e.line - 1].trim_end_matches('\r').chars().count();
                assert!(e.column >= 1 && e.column <= width + 1, "{text:?}: {e}");
            }
        }
    }
}
