//! Local Moran's I (Anselin 1995), as PySAL computes it
//! (`esda.Moran_Local(y, w, transformation="r")`, esda 2.9).
//!
//! With `z = (y − ȳ)/σ` (σ the population standard deviation), the lag
//! `(Wz)_i = Σ_j w_ij z_j` over weights given without the diagonal
//! (row-standardised for esda's default), and `n` areas:
//!
//! - `I_i = (n − 1) · z_i · (Wz)_i / Σ_k z_k²`
//! - under total randomisation (Sokal, Oden & Thomson 1998, eqs. A3 and A4*,
//!   esda's `EI`, `VI`): with `w_i = Σ_j w_ij`, `w_i(2) = Σ_j w_ij²`,
//!   `m₂ = Σz²/n`, `b₂ = (Σz⁴/n)/m₂²`:
//!   `E[I_i] = −w_i/(n − 1)`,
//!   `Var[I_i] = w_i(2)(n − b₂)/(n − 1) + (w_i² − w_i(2))(2b₂ − n)/((n − 1)(n − 2)) − (w_i/(n − 1))²`;
//! - conditional on `z_i` (their eqs. A7 and A8, esda's `EIc`, `VIc`):
//!   `E[I_i] = −z_i² w_i/((n − 1) m₂)`,
//!   `Var[I_i] = (z_i/m₂)² · n/(n − 2) · (w_i(2) − w_i²/(n − 1)) · (m₂ − z_i²/(n − 1))`;
//! - `z = (I − E)/√Var` for each, two-sided normal p-values.
//!
//! **Conditional permutation** (Anselin 1995): for area `i`, `z_i` stays and
//! its `k_i` neighbour values are replaced by `k_i` values drawn without
//! replacement from the other `n − 1` areas, `permutations` times; with
//! `larger` the number of simulated `I_i` at least the observed one (ties,
//! such as drawing the observed neighbours again, count as at least), folded
//! to the smaller tail (`larger = min(larger, permutations − larger)`), the
//! pseudo p-value is `(larger + 1)/(permutations + 1)` (esda's `p_sim`).
//! The draws come from a SplitMix64 stream per area seeded from `seed`, so
//! the result is the same on every machine and thread count (but not the
//! same draws as NumPy's, so `p_sim` agrees with esda's only up to Monte
//! Carlo error).
//!
//! Quadrants follow PySAL's scheme from the signs of `z_i` and `(Wz)_i`
//! (a zero counts as low): HH = 1, LH = 2, LL = 3, HL = 4.
//! Areas with no neighbour have `I = 0`; their z-scores and `p_sim` are NaN.

use rayon::prelude::*;
use serde::Serialize;

use super::weights::SpatialWeights;
use crate::analysis::trends::two_sided_p;
use crate::demo::rng::Rng;

/// Moran scatterplot quadrant of an area.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Quadrant {
    /// High value, high neighbours (PySAL 1).
    HH,
    /// Low value, high neighbours (PySAL 2).
    LH,
    /// Low value, low neighbours (PySAL 3).
    LL,
    /// High value, low neighbours (PySAL 4).
    HL,
}

impl Quadrant {
    /// PySAL's quadrant number.
    pub fn pysal(self) -> u8 {
        match self {
            Quadrant::HH => 1,
            Quadrant::LH => 2,
            Quadrant::LL => 3,
            Quadrant::HL => 4,
        }
    }

    /// `HH`, `LH`, `LL` or `HL`.
    pub fn name(self) -> &'static str {
        match self {
            Quadrant::HH => "HH",
            Quadrant::LH => "LH",
            Quadrant::LL => "LL",
            Quadrant::HL => "HL",
        }
    }
}

/// Local Moran's I for every area.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LocalMoran {
    /// I_i (esda `Is`).
    pub i: Vec<f64>,
    /// The standardised values z_i and their lags (Wz)_i.
    pub z_value: Vec<f64>,
    pub lag: Vec<f64>,
    /// Total randomisation: E, Var, z and two-sided p (esda `EI`, `VI`).
    pub expected: Vec<f64>,
    pub variance: Vec<f64>,
    pub z: Vec<f64>,
    pub p: Vec<f64>,
    /// Conditional on z_i (esda `EIc`, `VIc`).
    pub expected_conditional: Vec<f64>,
    pub variance_conditional: Vec<f64>,
    pub z_conditional: Vec<f64>,
    pub quadrant: Vec<Quadrant>,
    /// Conditional-permutation pseudo p-values (empty when no permutations were asked for).
    pub p_sim: Vec<f64>,
    pub permutations: usize,
}

/// `k` distinct indices of `0..n` other than `skip`.
fn draw_others(rng: &mut Rng, n: usize, skip: usize, k: usize, out: &mut Vec<usize>) {
    out.clear();
    let m = n - 1;
    if 2 * k > m {
        // Partial Fisher-Yates over the others.
        let mut pool: Vec<usize> = (0..n).filter(|&j| j != skip).collect();
        for a in 0..k {
            let b = a + rng.below(m - a);
            pool.swap(a, b);
            out.push(pool[a]);
        }
        return;
    }
    while out.len() < k {
        let mut j = rng.below(m);
        if j >= skip {
            j += 1;
        }
        if !out.contains(&j) {
            out.push(j);
        }
    }
}

/// Local Moran's I of `values` over `weights` (used as given: pass
/// `weights.row_standardised()` for esda's default), with `permutations`
/// conditional permutations (0 for none) drawn from `seed`.
pub fn local_moran(
    values: &[f64],
    weights: &SpatialWeights,
    permutations: usize,
    seed: u64,
) -> LocalMoran {
    let n = values.len();
    let nf = n as f64;
    let mean = values.iter().sum::<f64>() / nf;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / nf).sqrt();
    let z: Vec<f64> = values.iter().map(|v| (v - mean) / sd).collect();
    let den: f64 = z.iter().map(|v| v * v).sum();
    let lag = weights.lag(&z);
    let is: Vec<f64> = (0..n).map(|k| (nf - 1.0) * z[k] * lag[k] / den).collect();
    let m2 = den / nf;
    let m4 = z.iter().map(|v| v.powi(4)).sum::<f64>() / nf;
    let b2 = m4 / (m2 * m2);
    let n1 = nf - 1.0;
    let mut out = LocalMoran {
        i: is.clone(),
        z_value: z.clone(),
        lag: lag.clone(),
        expected: Vec::with_capacity(n),
        variance: Vec::with_capacity(n),
        z: Vec::with_capacity(n),
        p: Vec::with_capacity(n),
        expected_conditional: Vec::with_capacity(n),
        variance_conditional: Vec::with_capacity(n),
        z_conditional: Vec::with_capacity(n),
        quadrant: Vec::with_capacity(n),
        p_sim: Vec::new(),
        permutations,
    };
    for k in 0..n {
        let wi = weights.row_sum(k);
        let wi2 = weights.row_sum_squares(k);
        let e = -wi / n1;
        let v = wi2 * (nf - b2) / n1 + (wi * wi - wi2) * (2.0 * b2 - nf) / (n1 * (nf - 2.0))
            - (wi / n1).powi(2);
        let ec = -(z[k] * z[k] * wi) / (n1 * m2);
        let vc = (z[k] / m2).powi(2)
            * (nf / (nf - 2.0))
            * (wi2 - wi * wi / n1)
            * (m2 - z[k] * z[k] / n1);
        let zs = (is[k] - e) / v.sqrt();
        out.expected.push(e);
        out.variance.push(v);
        out.z.push(zs);
        out.p.push(two_sided_p(zs));
        out.expected_conditional.push(ec);
        out.variance_conditional.push(vc);
        out.z_conditional.push((is[k] - ec) / vc.sqrt());
        out.quadrant.push(match (z[k] > 0.0, lag[k] > 0.0) {
            (true, true) => Quadrant::HH,
            (false, true) => Quadrant::LH,
            (false, false) => Quadrant::LL,
            (true, false) => Quadrant::HL,
        });
    }
    if permutations > 0 && n > 1 {
        out.p_sim = (0..n)
            .into_par_iter()
            .map(|k| {
                let (_, w) = weights.row(k);
                let card = w.len();
                if card == 0 || card > n - 1 {
                    return f64::NAN;
                }
                let mut rng = Rng::stream(seed, k as u64);
                let mut idx = Vec::with_capacity(card);
                let scale = (nf - 1.0) * z[k] / den;
                // The observed value by the same expression as the simulated ones, less a
                // relative 1e-12, so that drawing the observed neighbours again counts as a tie.
                let observed = scale * lag[k];
                let observed = observed - 1e-12 * observed.abs();
                let mut larger = 0usize;
                for _ in 0..permutations {
                    draw_others(&mut rng, n, k, card, &mut idx);
                    let lag_sim: f64 = w.iter().zip(&idx).map(|(&wv, &j)| wv * z[j]).sum();
                    if scale * lag_sim >= observed {
                        larger += 1;
                    }
                }
                if permutations - larger < larger {
                    larger = permutations - larger;
                }
                (larger + 1) as f64 / (permutations + 1) as f64
            })
            .collect();
    }
    out
}
