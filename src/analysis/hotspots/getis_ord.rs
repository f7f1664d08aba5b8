//! Getis-Ord Gi* (Getis & Ord 1992; Ord & Getis 1995): the share of the
//! total that falls in an area's neighbourhood, itself included, against
//! what spatial randomness would put there.
//!
//! As PySAL computes it (`esda.G_Local(y, w, transform, star=True)`, esda
//! 2.9): the weights get a self-weight of 1 (`fill_diagonal(w, 1)`), and
//! with `Standardisation::Row` each row is then divided by its sum. With
//! `n` areas, `W_i = Σ_j w*_ij` (the row sum; esda's "cardinality"),
//! `ȳ = Σy/n` and `s² = Σy²/n − ȳ²`:
//!
//! - `G*_i = Σ_j w*_ij y_j / Σ_j y_j`
//! - `E[G*_i] = W_i / n`
//! - `Var[G*_i] = W_i (n − W_i) / (n − 1) · 1/n² · s²/ȳ²`
//! - `z_i = (G*_i − E[G*_i]) / √Var[G*_i]`
//!
//! With binary weights (`W_i` = neighbours + 1) this `z` is exactly the
//! Getis-Ord Gi* z-score of Ord & Getis (1995), the one ArcGIS's Hot
//! Spot Analysis reports: `(Σ_j w_ij y_j − ȳ W_i) / (s √((n W_i − W_i²)/(n − 1)))`.
//! With row standardisation it is esda's formula (which uses the row sum,
//! 1, where Ord & Getis have `Σ w²`); it is offered to match esda's default,
//! and equals `(local mean − ȳ)/s`.
//!
//! The two-sided p-value is `2(1 − Φ(|z|))` (esda's `p_norm` is the
//! one-sided `1 − Φ(|z|)`). Values should be counts or rates (not negative).
//! Where `Σy = 0` or every value is equal the statistics are NaN.

use serde::Serialize;

use super::weights::SpatialWeights;
use crate::analysis::trends::two_sided_p;

/// How the weights (with the self-weight) are standardised.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standardisation {
    /// Binary weights: the classic Gi* (as ArcGIS).
    #[default]
    Binary,
    /// Rows divided by their sums (esda's default `transform="R"`).
    Row,
}

impl std::str::FromStr for Standardisation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "binary" | "b" | "B" => Ok(Standardisation::Binary),
            "row" | "r" | "R" => Ok(Standardisation::Row),
            _ => Err(format!("standardisation {s:?} is not one of binary, row")),
        }
    }
}

/// Gi* for every area.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GiStar {
    /// G*_i.
    pub g: Vec<f64>,
    /// E[G*_i].
    pub expected: Vec<f64>,
    /// Var[G*_i].
    pub variance: Vec<f64>,
    /// z-scores.
    pub z: Vec<f64>,
    /// Two-sided p-values from the normal distribution.
    pub p: Vec<f64>,
}

/// Gi* of `values` over `weights` (given without the diagonal; any diagonal
/// is replaced by the self-weight 1).
pub fn gi_star(
    values: &[f64],
    weights: &SpatialWeights,
    standardisation: Standardisation,
) -> GiStar {
    let n = values.len();
    let w = {
        let with_self = weights.with_self(1.0);
        match standardisation {
            Standardisation::Binary => with_self,
            Standardisation::Row => with_self.row_standardised(),
        }
    };
    let nf = n as f64;
    let sum: f64 = values.iter().sum();
    let mean = sum / nf;
    let mean_of_squares = values.iter().map(|v| v * v).sum::<f64>() / nf;
    let variance_y = mean_of_squares - mean * mean;
    let lag = w.lag(values);
    let mut out = GiStar {
        g: Vec::with_capacity(n),
        expected: Vec::with_capacity(n),
        variance: Vec::with_capacity(n),
        z: Vec::with_capacity(n),
        p: Vec::with_capacity(n),
    };
    for (i, lag_i) in lag.into_iter().enumerate() {
        let g = lag_i / sum;
        let card = w.row_sum(i);
        let e = card / nf;
        let v = card * (nf - card) / (nf - 1.0) / (nf * nf) * (variance_y / (mean * mean));
        let z = (g - e) / v.sqrt();
        out.g.push(g);
        out.expected.push(e);
        out.variance.push(v);
        out.z.push(z);
        out.p.push(two_sided_p(z));
    }
    out
}
