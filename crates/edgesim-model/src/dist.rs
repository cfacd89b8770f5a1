//! Continuous distributions for service times and object sizes.

use rand::Rng;
use rand_distr::{Distribution, Exp, Pareto, StandardNormal};

/// The standard normal quantile of 0.99: turns a (p50, p99) pair into a
/// log-normal's sigma.
const Z99: f64 = 2.326_347_874_040_841;

/// A distribution of non-negative values (milliseconds or bytes; the
/// caller knows which).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dist {
    /// Always the same value.
    Fixed(f64),
    /// Log-normal given by its median and 99th percentile.
    LogNormal {
        /// Median.
        p50: f64,
        /// 99th percentile (>= p50).
        p99: f64,
    },
    /// Pareto (type I) with scale `min` and tail index `alpha`, optionally
    /// truncated at `max` by clamping.
    Pareto {
        /// Smallest value (scale).
        min: f64,
        /// Tail index (> 0); smaller means heavier tail.
        alpha: f64,
        /// Upper clamp.
        max: Option<f64>,
    },
    /// Exponential with the given mean.
    Exponential {
        /// Mean.
        mean: f64,
    },
    /// Uniform in [min, max].
    Uniform {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
}

impl Dist {
    /// Checks the parameters; the message names the offending one.
    pub fn check(&self) -> Result<(), String> {
        let finite_non_negative = |name: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(format!("{name} must be a finite number >= 0, got {v}"))
            }
        };
        match *self {
            Dist::Fixed(v) => finite_non_negative("value", v),
            Dist::LogNormal { p50, p99 } => {
                finite_non_negative("p50", p50)?;
                finite_non_negative("p99", p99)?;
                if p50 <= 0.0 {
                    return Err("p50 must be > 0".into());
                }
                if p99 < p50 {
                    return Err(format!("p99 ({p99}) must be >= p50 ({p50})"));
                }
                Ok(())
            }
            Dist::Pareto { min, alpha, max } => {
                finite_non_negative("min", min)?;
                if min <= 0.0 {
                    return Err("min must be > 0".into());
                }
                if !(alpha.is_finite() && alpha > 0.0) {
                    return Err(format!("alpha must be > 0, got {alpha}"));
                }
                if let Some(max) = max {
                    finite_non_negative("max", max)?;
                    if max < min {
                        return Err(format!("max ({max}) must be >= min ({min})"));
                    }
                }
                Ok(())
            }
            Dist::Exponential { mean } => finite_non_negative("mean", mean),
            Dist::Uniform { min, max } => {
                finite_non_negative("min", min)?;
                finite_non_negative("max", max)?;
                if max < min {
                    return Err(format!("max ({max}) must be >= min ({min})"));
                }
                Ok(())
            }
        }
    }

    /// Draws one value. Parameters must have passed [`Dist::check`].
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match *self {
            Dist::Fixed(v) => v,
            Dist::LogNormal { p50, p99 } => {
                let sigma = (p99 / p50).ln() / Z99;
                if sigma == 0.0 {
                    return p50;
                }
                let z: f64 = StandardNormal.sample(rng);
                p50 * (sigma * z).exp()
            }
            Dist::Pareto { min, alpha, max } => {
                let v = Pareto::new(min, alpha)
                    .expect("checked parameters")
                    .sample(rng);
                max.map_or(v, |m| v.min(m))
            }
            Dist::Exponential { mean } => {
                if mean == 0.0 {
                    return 0.0;
                }
                Exp::new(1.0 / mean)
                    .expect("checked parameters")
                    .sample(rng)
            }
            Dist::Uniform { min, max } => {
                if max == min {
                    min
                } else {
                    rng.random_range(min..=max)
                }
            }
        }
    }

    /// The distribution's median, for planning and display.
    pub fn median(&self) -> f64 {
        match *self {
            Dist::Fixed(v) => v,
            Dist::LogNormal { p50, .. } => p50,
            Dist::Pareto { min, alpha, max } => {
                let m = min * 2f64.powf(1.0 / alpha);
                max.map_or(m, |x| m.min(x))
            }
            Dist::Exponential { mean } => mean * std::f64::consts::LN_2,
            Dist::Uniform { min, max } => (min + max) / 2.0,
        }
    }

    /// The distribution's mean (of the clamped variable where clamped;
    /// Pareto with alpha <= 1 reports its median, its mean being infinite).
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Fixed(v) => v,
            Dist::LogNormal { p50, p99 } => {
                let sigma = (p99 / p50).ln() / Z99;
                p50 * (sigma * sigma / 2.0).exp()
            }
            Dist::Pareto { min, alpha, max } => {
                if alpha <= 1.0 {
                    self.median()
                } else {
                    let m = alpha * min / (alpha - 1.0);
                    max.map_or(m, |x| m.min(x))
                }
            }
            Dist::Exponential { mean } => mean,
            Dist::Uniform { min, max } => (min + max) / 2.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_pcg::Pcg64Mcg;

    fn quantile(dist: Dist, q: f64) -> f64 {
        let mut rng = Pcg64Mcg::seed_from_u64(7);
        let mut v: Vec<f64> = (0..200_000).map(|_| dist.sample(&mut rng)).collect();
        v.sort_by(f64::total_cmp);
        v[(q * v.len() as f64) as usize]
    }

    #[test]
    fn lognormal_hits_its_percentiles() {
        let d = Dist::LogNormal {
            p50: 20.0,
            p99: 120.0,
        };
        assert!((quantile(d, 0.5) / 20.0 - 1.0).abs() < 0.02);
        assert!((quantile(d, 0.99) / 120.0 - 1.0).abs() < 0.05);
    }

    #[test]
    fn pareto_respects_min_and_clamp() {
        let d = Dist::Pareto {
            min: 1000.0,
            alpha: 1.2,
            max: Some(1e6),
        };
        assert!(quantile(d, 0.0) >= 1000.0);
        assert!(quantile(d, 0.99999) <= 1e6);
        assert!((quantile(d, 0.5) / d.median() - 1.0).abs() < 0.03);
    }

    #[test]
    fn check_names_the_bad_parameter() {
        assert_eq!(
            Dist::LogNormal {
                p50: 10.0,
                p99: 5.0
            }
            .check()
            .unwrap_err(),
            "p99 (5) must be >= p50 (10)"
        );
        assert!(Dist::Fixed(-1.0).check().unwrap_err().starts_with("value"));
        assert!(
            Dist::Pareto {
                min: 1.0,
                alpha: 0.0,
                max: None
            }
            .check()
            .is_err()
        );
    }

    #[test]
    fn means_match_samples() {
        for d in [
            Dist::Exponential { mean: 5.0 },
            Dist::Uniform { min: 2.0, max: 4.0 },
            Dist::LogNormal {
                p50: 10.0,
                p99: 40.0,
            },
        ] {
            let mut rng = Pcg64Mcg::seed_from_u64(1);
            let n = 200_000;
            let m: f64 = (0..n).map(|_| d.sample(&mut rng)).sum::<f64>() / n as f64;
            assert!((m / d.mean() - 1.0).abs() < 0.02, "{d:?}: {m}");
        }
    }
}
