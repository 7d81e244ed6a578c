//! Statistics over the replicates of a point: mean, sample standard deviation and a 95%
//! confidence interval for the mean from Student's t distribution.
//!
//! For n replicates x₁…xₙ: mean x̄ = Σxᵢ/n; s = √(Σ(xᵢ − x̄)²/(n − 1)); the interval is
//! x̄ ± t₀.₉₇₅,ₙ₋₁ · s/√n. With few replicates t is much larger than the normal 1.96 (12.71 for
//! n = 2, 4.30 for n = 3, 2.26 for n = 10), so the interval is honest about how little a handful
//! of seeds tells. It assumes the replicates are independent draws of a roughly normal quantity;
//! with one replicate there is no spread to measure and the sd and interval are left empty.

/// Two-sided 95% quantiles of Student's t, t₀.₉₇₅ for 1 to 30 degrees of freedom (Abramowitz &
/// Stegun, table 26.10).
const T975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
    2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/// t₀.₉₇₅ with `df` degrees of freedom: the table up to 30, then the Cornish–Fisher expansion
/// in 1/df around the normal quantile (A&S 26.7.5), within 0.001 of the exact value there.
pub fn t_975(df: usize) -> f64 {
    if df == 0 {
        return f64::NAN;
    }
    if df <= T975.len() {
        return T975[df - 1];
    }
    let z: f64 = 1.959_963_984_540_054;
    let v = df as f64;
    let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
    z + (z3 + z) / (4.0 * v)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * v * v * v)
}

/// The summary of one metric over a point's replicates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n − 1 in the denominator); `None` below 2 replicates.
    pub sd: Option<f64>,
    /// The 95% confidence interval of the mean; `None` below 2 replicates.
    pub ci95: Option<(f64, f64)>,
}

impl Stats {
    /// `None` for no values. Sums run in the given order, so equal inputs give equal bits.
    pub fn of(xs: &[f64]) -> Option<Stats> {
        let n = xs.len();
        if n == 0 {
            return None;
        }
        let mean = xs.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Some(Stats { n, mean, sd: None, ci95: None });
        }
        let ss: f64 = xs.iter().map(|x| (x - mean) * (x - mean)).sum();
        let sd = (ss / (n - 1) as f64).sqrt();
        let half = t_975(n - 1) * sd / (n as f64).sqrt();
        Some(Stats { n, mean, sd: Some(sd), ci95: Some((mean - half, mean + half)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_sd_and_interval_by_hand() {
        // x = 1, 2, 3, 4: mean 2.5, s² = (2.25 + 0.25 + 0.25 + 2.25)/3 = 5/3, s = 1.29099,
        // half-width = 3.182 · 1.29099 / 2 = 2.05396.
        let s = Stats::of(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(s.n, 4);
        assert!((s.mean - 2.5).abs() < 1e-12);
        assert!((s.sd.unwrap() - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        let (lo, hi) = s.ci95.unwrap();
        assert!((hi - 2.5 - 2.053_964).abs() < 1e-5, "{hi}");
        assert!((2.5 - lo - 2.053_964).abs() < 1e-5, "{lo}");
    }

    #[test]
    fn one_replicate_has_no_spread_and_none_has_no_stats() {
        let s = Stats::of(&[7.0]).unwrap();
        assert_eq!((s.mean, s.sd, s.ci95), (7.0, None, None));
        assert!(Stats::of(&[]).is_none());
        let s = Stats::of(&[3.0, 3.0, 3.0]).unwrap();
        assert_eq!(s.ci95, Some((3.0, 3.0)));
    }

    #[test]
    fn t_quantiles_match_the_table_and_approach_the_normal() {
        assert_eq!(t_975(1), 12.706);
        assert_eq!(t_975(30), 2.042);
        // Exact values: t(40) = 2.0211, t(60) = 2.0003, t(120) = 1.9799.
        assert!((t_975(40) - 2.0211).abs() < 1e-3, "{}", t_975(40));
        assert!((t_975(60) - 2.0003).abs() < 1e-3, "{}", t_975(60));
        assert!((t_975(120) - 1.9799).abs() < 1e-3, "{}", t_975(120));
        assert!((t_975(1_000_000) - 1.96).abs() < 1e-3);
        // The expansion continues the table without a jump.
        assert!((t_975(31) - 2.0395).abs() < 1e-3, "{}", t_975(31));
        assert!(t_975(0).is_nan());
    }
}
