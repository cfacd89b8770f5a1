//! The M/M/c queue an origin with limited concurrency is modelled as:
//! Poisson arrivals at rate λ, `c` servers, exponential service at rate μ
//! each. The coordinator evaluates it per origin and epoch from the global
//! fetch rate of the previous epoch; regions sample each fetch's wait.

/// Waiting in an M/M/c queue in steady state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MmcWait {
    /// Utilisation λ / (c μ).
    pub utilisation: f64,
    /// Probability that an arrival waits (Erlang C).
    pub p_wait: f64,
    /// Mean wait of an arrival that waits, seconds: 1 / (c μ − λ).
    pub mean_wait_if_waiting_secs: f64,
}

impl MmcWait {
    /// Mean wait over all arrivals, seconds.
    pub fn mean_wait_secs(&self) -> f64 {
        self.p_wait * self.mean_wait_if_waiting_secs
    }
}

/// Steady-state waiting of an M/M/c queue with arrival rate `lambda` and
/// per-server service rate `mu` (both per second), or None when it has no
/// steady state (utilisation >= 1, or bad parameters).
pub fn mmc_wait(servers: u32, lambda: f64, mu: f64) -> Option<MmcWait> {
    let valid = servers != 0 && lambda >= 0.0 && mu > 0.0 && lambda.is_finite() && mu.is_finite();
    if !valid {
        return None;
    }
    let c = f64::from(servers);
    let a = lambda / mu;
    let rho = a / c;
    if rho >= 1.0 {
        return None;
    }
    // Erlang B by its stable recurrence, then Erlang C from it.
    let mut b = 1.0;
    for k in 1..=servers {
        b = a * b / (f64::from(k) + a * b);
    }
    let p_wait = b / (1.0 - rho * (1.0 - b));
    Some(MmcWait {
        utilisation: rho,
        p_wait,
        mean_wait_if_waiting_secs: 1.0 / (c * mu - lambda),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg64Mcg;

    /// Mean wait of `n` arrivals in a simulated M/M/c queue (FIFO).
    fn simulate(servers: usize, lambda: f64, mu: f64, n: usize, seed: u64) -> (f64, f64) {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let exp = |rng: &mut Pcg64Mcg, rate: f64| -(1.0 - rng.random::<f64>()).ln() / rate;
        // Time each server becomes free.
        let mut free = vec![0.0f64; servers];
        let (mut t, mut total_wait, mut waited) = (0.0, 0.0, 0usize);
        for _ in 0..n {
            t += exp(&mut rng, lambda);
            let (i, &soonest) = free
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.total_cmp(b.1))
                .unwrap();
            let start = soonest.max(t);
            if start > t {
                waited += 1;
            }
            total_wait += start - t;
            free[i] = start + exp(&mut rng, mu);
        }
        (total_wait / n as f64, waited as f64 / n as f64)
    }

    #[test]
    fn single_server_matches_m_m_1() {
        // M/M/1: P(wait) = ρ, W_q = ρ / (μ − λ).
        let w = mmc_wait(1, 8.0, 10.0).unwrap();
        assert!((w.p_wait - 0.8).abs() < 1e-12);
        assert!((w.mean_wait_secs() - 0.8 / 2.0).abs() < 1e-12);
    }

    #[test]
    fn erlang_c_matches_a_textbook_value() {
        // c = 2, a = λ/μ = 1: C = 1/3, W_q = C / (cμ − λ).
        let w = mmc_wait(2, 1.0, 1.0).unwrap();
        assert!((w.p_wait - 1.0 / 3.0).abs() < 1e-12, "{}", w.p_wait);
        assert!((w.mean_wait_secs() - (1.0 / 3.0) / 1.0).abs() < 1e-12);
    }

    #[test]
    fn the_closed_form_agrees_with_a_simulated_queue() {
        for (c, lambda, mu) in [(4usize, 30.0, 10.0), (16, 150.0, 10.0), (32, 280.0, 10.0)] {
            let w = mmc_wait(c as u32, lambda, mu).unwrap();
            let (sim_wait, sim_p) = simulate(c, lambda, mu, 400_000, 7);
            assert!(
                (sim_wait - w.mean_wait_secs()).abs() < 0.06 * w.mean_wait_secs() + 1e-4,
                "c={c}: simulated {sim_wait}, closed form {}",
                w.mean_wait_secs()
            );
            assert!(
                (sim_p - w.p_wait).abs() < 0.02,
                "c={c}: {sim_p} vs {}",
                w.p_wait
            );
        }
    }

    #[test]
    fn waits_grow_without_bound_as_utilisation_nears_one() {
        let mut last = 0.0;
        for rho in [0.5, 0.8, 0.9, 0.95, 0.99] {
            let w = mmc_wait(10, rho * 100.0, 10.0).unwrap();
            assert!(w.mean_wait_secs() > last);
            last = w.mean_wait_secs();
        }
        assert!(
            mmc_wait(10, 100.0, 10.0).is_none(),
            "no steady state at ρ = 1"
        );
    }
}
