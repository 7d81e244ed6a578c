//! Probability distributions for latencies and sizes, sampled from a named stream.
//!
//! Parameters are in the unit of the quantity they describe (milliseconds for durations).
//! Constructors check their parameters and return a message on nonsense, so the scenario layer
//! can report it against the key that held it.

use rand::RngExt;
use rand_distr::Distribution as _;

use super::rng::SimRng;
use super::time::SimTime;

/// The 99th percentile of the standard normal distribution.
const Z99: f64 = 2.326_347_874_040_840_8;

#[derive(Clone, Debug, PartialEq)]
pub enum Distribution {
    Fixed(f64),
    Uniform {
        min: f64,
        max: f64,
    },
    Exponential {
        mean: f64,
    },
    /// ln X ~ N(mu, sigma²).
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    Gamma {
        shape: f64,
        scale: f64,
    },
    /// Normal, truncated below at zero by redrawing.
    Normal {
        mean: f64,
        sd: f64,
    },
}

fn positive(name: &str, v: f64) -> Result<f64, String> {
    if v.is_finite() && v > 0.0 { Ok(v) } else { Err(format!("{name} must be a positive number, got {v}")) }
}

fn non_negative(name: &str, v: f64) -> Result<f64, String> {
    if v.is_finite() && v >= 0.0 { Ok(v) } else { Err(format!("{name} must be zero or more, got {v}")) }
}

impl Distribution {
    pub fn fixed(value: f64) -> Result<Self, String> {
        Ok(Distribution::Fixed(non_negative("value", value)?))
    }

    pub fn uniform(min: f64, max: f64) -> Result<Self, String> {
        let min = non_negative("min", min)?;
        let max = non_negative("max", max)?;
        if max < min {
            return Err(format!("max ({max}) must not be below min ({min})"));
        }
        Ok(Distribution::Uniform { min, max })
    }

    pub fn exponential(mean: f64) -> Result<Self, String> {
        Ok(Distribution::Exponential { mean: positive("mean", mean)? })
    }

    /// A log-normal with the given mean and shape parameter sigma.
    pub fn lognormal_mean_sigma(mean: f64, sigma: f64) -> Result<Self, String> {
        let mean = positive("mean", mean)?;
        let sigma = non_negative("sigma", sigma)?;
        Ok(Distribution::LogNormal { mu: mean.ln() - sigma * sigma / 2.0, sigma })
    }

    /// A log-normal with the given mean and 99th percentile.
    ///
    /// mean = exp(mu + sigma²/2) and p99 = exp(mu + z·sigma) with z the normal 99th percentile,
    /// so sigma solves sigma²/2 − z·sigma + ln(p99/mean) = 0; the smaller root is the one with a
    /// finite mode. A solution exists only when mean < p99 ≤ mean·exp(z²/2) (about 15×).
    pub fn lognormal_mean_p99(mean: f64, p99: f64) -> Result<Self, String> {
        let mean = positive("mean", mean)?;
        let p99 = positive("p99", p99)?;
        if p99 <= mean {
            return Err(format!("p99 ({p99}) must be above the mean ({mean}) for a log-normal"));
        }
        let gap = (p99 / mean).ln();
        let disc = Z99 * Z99 - 2.0 * gap;
        if disc < 0.0 {
            let limit = mean * (Z99 * Z99 / 2.0).exp();
            return Err(format!(
                "no log-normal has mean {mean} and p99 {p99}: p99 can be at most {limit:.1} (about 15 × the mean)"
            ));
        }
        let sigma = Z99 - disc.sqrt();
        Self::lognormal_mean_sigma(mean, sigma)
    }

    /// A gamma with the given mean and shape k (coefficient of variation 1/√k).
    pub fn gamma(mean: f64, shape: f64) -> Result<Self, String> {
        let mean = positive("mean", mean)?;
        let shape = positive("shape", shape)?;
        Ok(Distribution::Gamma { shape, scale: mean / shape })
    }

    pub fn normal(mean: f64, sd: f64) -> Result<Self, String> {
        let mean = non_negative("mean", mean)?;
        let sd = non_negative("sd", sd)?;
        Ok(Distribution::Normal { mean, sd })
    }

    /// The distribution's mean (of the untruncated form for `Normal`).
    pub fn mean(&self) -> f64 {
        match *self {
            Distribution::Fixed(v) => v,
            Distribution::Uniform { min, max } => (min + max) / 2.0,
            Distribution::Exponential { mean } => mean,
            Distribution::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Distribution::Gamma { shape, scale } => shape * scale,
            Distribution::Normal { mean, .. } => mean,
        }
    }

    /// A sample; never negative. A fixed value draws nothing from `rng`.
    pub fn sample(&self, rng: &mut SimRng) -> f64 {
        let x = match *self {
            Distribution::Fixed(v) => v,
            Distribution::Uniform { min, max } => {
                if max > min {
                    rng.random_range(min..max)
                } else {
                    min
                }
            }
            Distribution::Exponential { mean } => {
                rand_distr::Exp::new(1.0 / mean).map(|d| d.sample(rng)).unwrap_or(mean)
            }
            Distribution::LogNormal { mu, sigma } => {
                rand_distr::LogNormal::new(mu, sigma).map(|d| d.sample(rng)).unwrap_or_else(|_| mu.exp())
            }
            Distribution::Gamma { shape, scale } => {
                rand_distr::Gamma::new(shape, scale).map(|d| d.sample(rng)).unwrap_or(shape * scale)
            }
            Distribution::Normal { mean, sd } => match rand_distr::Normal::new(mean, sd) {
                Ok(d) => (0..64).map(|_| d.sample(rng)).find(|&x| x >= 0.0).unwrap_or(mean),
                Err(_) => mean,
            },
        };
        x.max(0.0)
    }

    /// A sample rounded to whole milliseconds, for distributions of durations.
    pub fn sample_duration(&self, rng: &mut SimRng) -> SimTime {
        let x = self.sample(rng);
        super::time::round_ms(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStreams;

    fn sample_mean(d: &Distribution, n: usize) -> f64 {
        let mut rng = RngStreams::new(3).stream("dist");
        (0..n).map(|_| d.sample(&mut rng)).sum::<f64>() / n as f64
    }

    #[test]
    fn fixed_draws_nothing() {
        let mut rng = RngStreams::new(1).stream("x");
        let mut reference = RngStreams::new(1).stream("x");
        assert_eq!(Distribution::Fixed(5.0).sample(&mut rng), 5.0);
        assert_eq!(rng.random::<u64>(), reference.random::<u64>());
    }

    #[test]
    fn sample_means_match_within_two_percent() {
        // 200,000 draws: the standard error of the mean is under 0.5% for these shapes.
        let cases = [
            Distribution::uniform(40.0, 80.0).unwrap(),
            Distribution::exponential(100.0).unwrap(),
            Distribution::lognormal_mean_sigma(100.0, 0.5).unwrap(),
            Distribution::gamma(100.0, 2.0).unwrap(),
        ];
        for d in &cases {
            let m = sample_mean(d, 200_000);
            assert!((m / d.mean() - 1.0).abs() < 0.02, "{d:?}: sample mean {m}, expected {}", d.mean());
        }
    }

    #[test]
    fn lognormal_from_mean_and_p99_has_that_p99() {
        let d = Distribution::lognormal_mean_p99(100.0, 500.0).unwrap();
        let Distribution::LogNormal { mu, sigma } = d else { panic!() };
        assert!(((mu + sigma * sigma / 2.0).exp() - 100.0).abs() < 1e-9);
        assert!(((mu + Z99 * sigma).exp() - 500.0).abs() < 1e-6);
        let mut rng = RngStreams::new(9).stream("p99");
        let mut xs: Vec<f64> = (0..100_000).map(|_| d.sample(&mut rng)).collect();
        xs.sort_by(f64::total_cmp);
        let p99 = xs[99_000];
        assert!((p99 / 500.0 - 1.0).abs() < 0.05, "empirical p99 {p99}");
    }

    #[test]
    fn impossible_parameters_are_refused() {
        assert!(Distribution::uniform(5.0, 1.0).is_err());
        assert!(Distribution::exponential(0.0).is_err());
        assert!(Distribution::lognormal_mean_p99(100.0, 90.0).is_err());
        assert!(Distribution::lognormal_mean_p99(100.0, 5000.0).is_err());
        assert!(Distribution::fixed(-1.0).is_err());
    }
}
