//! The Mann-Kendall trend test and Sen's slope for an equally spaced series.
//!
//! **Mann-Kendall** (Mann 1945; Kendall 1975; as set out in Gilbert 1987,
//! *Statistical Methods for Environmental Pollution Monitoring*, §16.4):
//! - `S = Σ_{i<j} sign(x_j − x_i)`;
//! - `Var(S) = [n(n−1)(2n+5) − Σ_p t_p(t_p−1)(2t_p+5)] / 18`, where `t_p` is
//!   the size of the p-th group of tied values (the tie correction);
//! - `Z = (S − 1)/√Var(S)` when `S > 0`, `(S + 1)/√Var(S)` when `S < 0`,
//!   0 when `S = 0` (the continuity correction);
//! - the two-sided p-value `2·(1 − Φ(|Z|))` from the normal approximation;
//! - Kendall's `τ = S / (n(n−1)/2)`.
//!
//! **Sen's slope** (Sen 1968): the median of the `N = n(n−1)/2` pairwise
//! slopes `(x_j − x_i)/(j − i)`, `i < j`, in units of the series per step.
//! Its confidence interval (Gilbert 1987, §16.5.2): with
//! `C = z_{1−α/2}·√Var(S)`, `M₁ = (N − C)/2` and `M₂ = (N + C)/2`, the
//! limits are the M₁-th and (M₂+1)-th smallest slopes (1-based, linear
//! interpolation between neighbours where the ranks are not whole).

use serde::Serialize;

use super::normal::{normal_quantile, two_sided_p};

/// The result of a Mann-Kendall test.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct MannKendall {
    /// Length of the series.
    pub n: usize,
    /// The statistic S.
    pub s: i64,
    /// Var(S) with the tie correction.
    pub var_s: f64,
    /// Z with the continuity correction.
    pub z: f64,
    /// Two-sided p-value (normal approximation).
    pub p: f64,
    /// Kendall's tau-a, S / (n(n−1)/2).
    pub tau: f64,
}

/// Sen's slope with its confidence interval, per step of the series.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SenSlope {
    pub slope: f64,
    /// Lower and upper confidence limits (`None` when the series is too short
    /// or too tied for the interval to fall inside the slopes).
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

/// Mann-Kendall test of a series (time order, equally spaced). `None` for
/// fewer than 3 values, a non-finite value, or when Var(S) is 0 (every value tied).
pub fn mann_kendall(x: &[f64]) -> Option<MannKendall> {
    let n = x.len();
    if n < 3 || x.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let mut s: i64 = 0;
    for i in 0..n {
        for j in i + 1..n {
            s += match x[j].partial_cmp(&x[i]) {
                Some(std::cmp::Ordering::Greater) => 1,
                Some(std::cmp::Ordering::Less) => -1,
                _ => 0,
            };
        }
    }
    let var_s = mann_kendall_variance(x);
    if var_s <= 0.0 {
        return None;
    }
    let sd = var_s.sqrt();
    let z = match s {
        s if s > 0 => (s - 1) as f64 / sd,
        s if s < 0 => (s + 1) as f64 / sd,
        _ => 0.0,
    };
    let pairs = (n * (n - 1) / 2) as f64;
    Some(MannKendall {
        n,
        s,
        var_s,
        z,
        p: two_sided_p(z),
        tau: s as f64 / pairs,
    })
}

/// Var(S) of the Mann-Kendall statistic with the tie correction.
pub fn mann_kendall_variance(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mut sorted: Vec<f64> = x.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut ties = 0.0;
    let mut k = 0;
    while k < sorted.len() {
        let mut e = k + 1;
        while e < sorted.len() && sorted[e] == sorted[k] {
            e += 1;
        }
        let t = (e - k) as f64;
        ties += t * (t - 1.0) * (2.0 * t + 5.0);
        k = e;
    }
    (n * (n - 1.0) * (2.0 * n + 5.0) - ties) / 18.0
}

/// Sen's slope (per step) with a `confidence` (e.g. 0.95) interval; `None`
/// for fewer than 2 values or a non-finite value.
pub fn sens_slope(x: &[f64], confidence: f64) -> Option<SenSlope> {
    let n = x.len();
    if n < 2 || x.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let mut slopes = Vec::with_capacity(n * (n - 1) / 2);
    for i in 0..n {
        for j in i + 1..n {
            slopes.push((x[j] - x[i]) / (j - i) as f64);
        }
    }
    slopes.sort_by(f64::total_cmp);
    let m = slopes.len();
    let slope = if m % 2 == 1 {
        slopes[m / 2]
    } else {
        (slopes[m / 2 - 1] + slopes[m / 2]) / 2.0
    };
    // 1-based rank r (fractional) to a slope by linear interpolation.
    let at = |r: f64| -> Option<f64> {
        if !(r >= 1.0 && r <= m as f64) {
            return None;
        }
        let lo = r.floor() as usize;
        let frac = r - lo as f64;
        let a = slopes[lo - 1];
        Some(if frac == 0.0 || lo >= m {
            a
        } else {
            a + frac * (slopes[lo] - a)
        })
    };
    let var_s = mann_kendall_variance(x);
    let c = normal_quantile(0.5 + confidence / 2.0) * var_s.sqrt();
    let (m1, m2) = ((m as f64 - c) / 2.0, (m as f64 + c) / 2.0);
    Some(SenSlope {
        slope,
        lower: at(m1),
        upper: at(m2 + 1.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Worked by hand: x = 1, 3, 2, 3, 5.
    /// Signs of later minus earlier: from 1: + + + + (4); from 3: − 0 + (0);
    /// from 2: + + (2); from 3: + (1). S = 7.
    /// Var(S) = [5·4·15 − 2·1·9] / 18 = (300 − 18)/18 = 15.666…
    /// Z = (7 − 1)/√15.666… = 1.5158734579…; p = 0.129551352904… (SciPy
    /// `2*norm.sf(z)`); τ = 7/10.
    #[test]
    fn hand_worked_series() {
        let mk = mann_kendall(&[1.0, 3.0, 2.0, 3.0, 5.0]).expect("test");
        assert_eq!(mk.s, 7);
        assert!((mk.var_s - 282.0 / 18.0).abs() < 1e-12);
        assert!((mk.z - 1.515_873_457_919_734_2).abs() < 1e-12);
        assert!((mk.p - 0.129_551_352_904_408_83).abs() < 1e-12);
        assert!((mk.tau - 0.7).abs() < 1e-15);
        // Pairwise slopes sorted: −1, 0, 0.5, 2/3, 2/3, 1, 1, 1.5, 2, 2; median (2/3 + 1)/2.
        let sen = sens_slope(&[1.0, 3.0, 2.0, 3.0, 5.0], 0.95).expect("slope");
        assert!((sen.slope - 5.0 / 6.0).abs() < 1e-15);
        // C = 1.96·√15.67 = 7.758: M₁ = (10 − 7.758)/2 = 1.121, between the 1st and
        // 2nd slopes: −1 + 0.121·(0 − (−1)); M₂ + 1 = 9.879, between the 9th and 10th: 2.
        let c = 1.959_963_984_540_054 * (282.0f64 / 18.0).sqrt();
        let m1 = (10.0 - c) / 2.0;
        assert!((sen.lower.expect("lower") - (-1.0 + (m1 - 1.0))).abs() < 1e-12);
        assert_eq!(sen.upper, Some(2.0));
    }

    #[test]
    fn falling_ties_and_degenerate_series() {
        let mk = mann_kendall(&[5.0, 4.0, 4.0, 4.0, 1.0, 0.0]).expect("test");
        // From 5: five minus; from each 4: (0 0 − −), (0 − −), (− −); from 1: −.
        // S = −(5 + 2 + 2 + 2 + 1) = −12.
        assert_eq!(mk.s, -12);
        // Ties: one group of three: 3·2·11 = 66. Var = (6·5·17 − 66)/18 = 444/18.
        assert!((mk.var_s - 444.0 / 18.0).abs() < 1e-12);
        assert!((mk.z - (-11.0 / (444.0f64 / 18.0).sqrt())).abs() < 1e-12);
        assert!(mann_kendall(&[2.0, 2.0, 2.0]).is_none());
        assert!(mann_kendall(&[1.0, 2.0]).is_none());
        assert!(mann_kendall(&[1.0, f64::NAN, 2.0]).is_none());
        let flat = mann_kendall(&[1.0, 2.0, 1.0, 2.0]).expect("test");
        // S: from 1: + 0 + (2); from 2: − 0 (−1); from 1: + (1). S = 2 → Z = 1/√Var.
        assert_eq!(flat.s, 2);
    }
}
