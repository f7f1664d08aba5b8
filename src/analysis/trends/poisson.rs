//! Poisson log-linear trend: `y_k ~ Poisson(μ_k)`, `log μ_k = log e_k + β₀ + β₁(t_k − t̄)`,
//! fitted by iteratively reweighted least squares (Newton's method; for the
//! canonical log link it is the same as Fisher scoring; McCullagh & Nelder
//! 1989, *Generalized Linear Models*, §2.5), with step halving whenever the
//! log-likelihood would fall.
//!
//! - `e_k` is the exposure (population, or 1); `t` is centred on its mean
//!   `t̄`, so `β₀` is the log rate per unit of exposure at the middle of the
//!   series and the two estimates are nearly uncorrelated.
//! - `exp(β₁)` is the rate ratio per unit of `t` (per year when `t` is in years).
//! - The covariance is the inverse Fisher information `(XᵀWX)⁻¹`, `W = diag(μ)`.
//!   The Wald `z = β₁/se(β₁)` and its two-sided p-value assume Poisson
//!   variance; `dispersion` is the Pearson `χ²/(n − 2)`, and the quasi-Poisson
//!   versions scale the covariance by `max(1, dispersion)`.
//! - The maximum-likelihood estimate does not exist when every count is 0, or
//!   when the counts pile up at one end so that the slope runs off to ±∞; the
//!   fit then returns `None` (a change of more than e^40 across the series is
//!   treated as running off).

use serde::Serialize;

use super::normal::two_sided_p;

/// A fitted Poisson log-linear trend.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PoissonTrend {
    /// Log rate per unit of exposure at `t = t_centre`.
    pub intercept: f64,
    /// Change in the log rate per unit of `t`.
    pub slope: f64,
    /// The mean of `t` (where the intercept applies).
    pub t_centre: f64,
    /// Covariance of (intercept, slope) from the Fisher information.
    pub cov: [[f64; 2]; 2],
    /// Pearson χ² / (n − 2); `None` for two points.
    pub dispersion: Option<f64>,
    /// Residual deviance `2 Σ [y ln(y/μ) − (y − μ)]`.
    pub deviance: f64,
    pub n: usize,
    pub iterations: usize,
}

impl PoissonTrend {
    /// Rate ratio per unit of `t`: `exp(slope)`.
    pub fn rate_ratio(&self) -> f64 {
        self.slope.exp()
    }

    /// Wald z of the slope (Poisson variance).
    pub fn z(&self) -> f64 {
        self.slope / self.cov[1][1].sqrt()
    }

    /// Two-sided p-value of the slope (Poisson variance).
    pub fn p(&self) -> f64 {
        two_sided_p(self.z())
    }

    /// `max(1, dispersion)`: the quasi-Poisson scale.
    pub fn scale(&self) -> f64 {
        self.dispersion.unwrap_or(1.0).max(1.0)
    }

    /// Wald z of the slope with the quasi-Poisson scale.
    pub fn z_quasi(&self) -> f64 {
        self.z() / self.scale().sqrt()
    }

    /// Two-sided p-value of the slope with the quasi-Poisson scale.
    pub fn p_quasi(&self) -> f64 {
        two_sided_p(self.z_quasi())
    }

    /// Linear predictor (log mean per unit of exposure) at `t`.
    pub fn log_rate(&self, t: f64) -> f64 {
        self.intercept + self.slope * (t - self.t_centre)
    }

    /// Variance of the linear predictor at `t` (Poisson covariance).
    pub fn log_rate_variance(&self, t: f64) -> f64 {
        let s = t - self.t_centre;
        self.cov[0][0] + 2.0 * s * self.cov[0][1] + s * s * self.cov[1][1]
    }
}

fn log_likelihood(y: &[f64], eta: impl Fn(usize) -> f64) -> f64 {
    y.iter()
        .enumerate()
        .map(|(k, &yk)| {
            let e = eta(k);
            yk * e - e.exp()
        })
        .sum()
}

/// Fit the trend to counts `y` at times `t`, with optional exposures
/// (positive; 1 when `None`). `None` where the estimate does not exist (see
/// the module notes), for fewer than 2 points, or for bad input (negative or
/// non-finite counts, times all equal, lengths that differ).
pub fn fit_poisson_trend(y: &[f64], t: &[f64], exposure: Option<&[f64]>) -> Option<PoissonTrend> {
    let n = y.len();
    if n < 2 || t.len() != n || exposure.is_some_and(|e| e.len() != n) {
        return None;
    }
    if y.iter().any(|v| !(v.is_finite() && *v >= 0.0)) || t.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let offset: Vec<f64> = match exposure {
        Some(e) => {
            if e.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
                return None;
            }
            e.iter().map(|v| v.ln()).collect()
        }
        None => vec![0.0; n],
    };
    let total: f64 = y.iter().sum();
    if total <= 0.0 {
        return None;
    }
    let t_centre = t.iter().sum::<f64>() / n as f64;
    let s: Vec<f64> = t.iter().map(|v| v - t_centre).collect();
    let range = s.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if range == 0.0 {
        return None;
    }
    let exposure_total: f64 = offset.iter().map(|o| o.exp()).sum();
    let mut b = [(total / exposure_total).ln(), 0.0];
    let eta = |b: &[f64; 2], k: usize| offset[k] + b[0] + b[1] * s[k];
    let mut ll = log_likelihood(y, |k| eta(&b, k));
    let mut iterations = 0;
    let info = |b: &[f64; 2]| {
        let (mut i00, mut i01, mut i11, mut u0, mut u1) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for k in 0..n {
            let mu = eta(b, k).exp();
            i00 += mu;
            i01 += s[k] * mu;
            i11 += s[k] * s[k] * mu;
            u0 += y[k] - mu;
            u1 += s[k] * (y[k] - mu);
        }
        ([[i00, i01], [i01, i11]], [u0, u1])
    };
    let mut converged = false;
    while iterations < 200 {
        iterations += 1;
        let (i, u) = info(&b);
        let det = i[0][0] * i[1][1] - i[0][1] * i[0][1];
        if !(det.is_finite() && det > 0.0) {
            return None;
        }
        let step = [
            (i[1][1] * u[0] - i[0][1] * u[1]) / det,
            (i[0][0] * u[1] - i[0][1] * u[0]) / det,
        ];
        let mut scale = 1.0;
        let mut next = [b[0] + step[0], b[1] + step[1]];
        let mut next_ll = log_likelihood(y, |k| eta(&next, k));
        let mut halvings = 0;
        while !(next_ll.is_finite() && next_ll >= ll - 1e-12 * ll.abs().max(1.0)) && halvings < 40 {
            scale /= 2.0;
            next = [b[0] + scale * step[0], b[1] + scale * step[1]];
            next_ll = log_likelihood(y, |k| eta(&next, k));
            halvings += 1;
        }
        let moved = (next[0] - b[0]).abs() + (next[1] - b[1]).abs() * range;
        b = next;
        ll = next_ll;
        if b[1].abs() * range * 2.0 > 40.0 {
            return None;
        }
        if moved < 1e-11 {
            converged = true;
            break;
        }
    }
    if !converged {
        return None;
    }
    let (i, _) = info(&b);
    let det = i[0][0] * i[1][1] - i[0][1] * i[0][1];
    if !(det.is_finite() && det > 0.0) {
        return None;
    }
    let cov = [
        [i[1][1] / det, -i[0][1] / det],
        [-i[0][1] / det, i[0][0] / det],
    ];
    let (mut pearson, mut deviance) = (0.0, 0.0);
    for (k, &yk) in y.iter().enumerate() {
        let mu = eta(&b, k).exp();
        pearson += (yk - mu).powi(2) / mu;
        deviance += if yk > 0.0 { yk * (yk / mu).ln() } else { 0.0 } - (yk - mu);
    }
    Some(PoissonTrend {
        intercept: b[0],
        slope: b[1],
        t_centre,
        cov,
        dispersion: (n > 2).then(|| pearson / (n - 2) as f64),
        deviance: 2.0 * deviance,
        n,
        iterations,
    })
}

/// Fit a constant rate (no trend): the intercept is `ln(Σy/Σe)`, with
/// variance `1/Σy`; the slope is 0 with no variance. `None` when every count is 0.
pub fn fit_poisson_level(y: &[f64], exposure: Option<&[f64]>) -> Option<PoissonTrend> {
    let n = y.len();
    if n == 0 || exposure.is_some_and(|e| e.len() != n) {
        return None;
    }
    if y.iter().any(|v| !(v.is_finite() && *v >= 0.0)) {
        return None;
    }
    let total: f64 = y.iter().sum();
    let e_total: f64 = match exposure {
        Some(e) => e.iter().sum(),
        None => n as f64,
    };
    if total <= 0.0 || e_total.is_nan() || e_total <= 0.0 {
        return None;
    }
    let rate = total / e_total;
    let (mut pearson, mut deviance) = (0.0, 0.0);
    for k in 0..n {
        let mu = rate * exposure.map_or(1.0, |e| e[k]);
        pearson += (y[k] - mu).powi(2) / mu;
        deviance += if y[k] > 0.0 {
            y[k] * (y[k] / mu).ln()
        } else {
            0.0
        } - (y[k] - mu);
    }
    Some(PoissonTrend {
        intercept: rate.ln(),
        slope: 0.0,
        t_centre: 0.0,
        cov: [[1.0 / total, 0.0], [0.0, 0.0]],
        dispersion: (n > 1).then(|| pearson / (n - 1) as f64),
        deviance: 2.0 * deviance,
        n,
        iterations: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two points have a closed form: the fit passes through both counts, so
    /// slope = ln(y₁/y₀) per unit of t, and Var(slope) = 1/y₀ + 1/y₁.
    #[test]
    fn two_points_by_hand() {
        let f = fit_poisson_trend(&[20.0, 30.0], &[0.0, 1.0], None).expect("fit");
        assert!((f.slope - 1.5f64.ln()).abs() < 1e-12);
        assert!((f.cov[1][1] - (1.0 / 20.0 + 1.0 / 30.0)).abs() < 1e-12);
        // Intercept at t̄ = 0.5: the geometric mean of the counts.
        assert!((f.intercept - (600.0f64).sqrt().ln()).abs() < 1e-12);
        assert!(f.deviance.abs() < 1e-9);
        assert!((f.rate_ratio() - 1.5).abs() < 1e-12);
    }

    /// The estimate solves the score equations, and its covariance is the
    /// inverse of the numerical Hessian of the log-likelihood.
    #[test]
    fn score_is_zero_and_covariance_is_the_inverse_hessian() {
        let y = [12.0, 9.0, 15.0, 14.0, 20.0, 18.0, 25.0, 22.0];
        let t: Vec<f64> = (0..8).map(|k| k as f64 / 4.0).collect();
        let e = [1.0, 1.1, 1.0, 0.9, 1.2, 1.0, 1.1, 1.0];
        let f = fit_poisson_trend(&y, &t, Some(&e)).expect("fit");
        let ll = |b0: f64, b1: f64| -> f64 {
            (0..8)
                .map(|k| {
                    let eta = e[k].ln() + b0 + b1 * (t[k] - f.t_centre);
                    y[k] * eta - eta.exp()
                })
                .sum()
        };
        let h = 1e-4;
        let g0 = (ll(f.intercept + h, f.slope) - ll(f.intercept - h, f.slope)) / (2.0 * h);
        let g1 = (ll(f.intercept, f.slope + h) - ll(f.intercept, f.slope - h)) / (2.0 * h);
        assert!(g0.abs() < 1e-6 && g1.abs() < 1e-6, "{g0} {g1}");
        let d2 = |a: (f64, f64), b: (f64, f64)| {
            (ll(f.intercept + a.0 + b.0, f.slope + a.1 + b.1)
                - ll(f.intercept + a.0 - b.0, f.slope + a.1 - b.1)
                - ll(f.intercept - a.0 + b.0, f.slope - a.1 + b.1)
                + ll(f.intercept - a.0 - b.0, f.slope - a.1 - b.1))
                / (4.0 * h * h)
        };
        let h00 = -d2((h, 0.0), (h, 0.0));
        let h01 = -d2((h, 0.0), (0.0, h));
        let h11 = -d2((0.0, h), (0.0, h));
        let det = h00 * h11 - h01 * h01;
        assert!((f.cov[1][1] - h00 / det).abs() < 1e-5 * f.cov[1][1]);
        assert!((f.cov[0][0] - h11 / det).abs() < 1e-5 * f.cov[0][0]);
    }

    #[test]
    fn no_estimate_for_zeros_or_a_runaway_slope() {
        assert!(fit_poisson_trend(&[0.0, 0.0, 0.0], &[0.0, 1.0, 2.0], None).is_none());
        assert!(fit_poisson_trend(&[0.0, 0.0, 0.0, 5.0], &[0.0, 1.0, 2.0, 3.0], None).is_none());
        assert!(fit_poisson_trend(&[1.0, 2.0], &[1.0, 1.0], None).is_none());
        // Zeros in the middle are fine.
        assert!(fit_poisson_trend(&[3.0, 0.0, 4.0], &[0.0, 1.0, 2.0], None).is_some());
        let lvl = fit_poisson_level(&[2.0, 4.0, 6.0], None).expect("level");
        assert!((lvl.intercept - 4.0f64.ln()).abs() < 1e-15);
        assert!((lvl.cov[0][0] - 1.0 / 12.0).abs() < 1e-15);
    }
}
