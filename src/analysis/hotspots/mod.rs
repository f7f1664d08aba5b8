//! Hot spots: spatial weights, Getis-Ord Gi*, local Moran's I, their
//! classes after the false discovery rate, and emerging (space-time) hot spots.
//!
//! - [`weights`]: rook/queen contiguity (from [`Adjacency`](crate::analysis::boundaries::Adjacency))
//!   and distance bands, binary or row-standardised.
//! - [`getis_ord`]: Gi* with the analytic expectation and variance (as esda's `G_Local(star=True)`).
//! - [`local_moran`]: local Moran's I with analytic moments and conditional
//!   permutation pseudo p-values (as esda's `Moran_Local`).
//! - [`emerging`]: Gi* per period, a Mann-Kendall trend of each area's z, and
//!   the categories of ArcGIS's Emerging Hot Spot Analysis.
//!
//! **Classes.** An area is a hot (cold) spot when its Gi* z is positive
//! (negative) and its p-value, or with the false discovery rate its
//! Benjamini-Hochberg q-value across the areas, is at most 0.10, 0.05 or
//! 0.01: confidence 90, 95 or 99 % (ArcGIS's `Gi_Bin` ±1, ±2, ±3, which with
//! its FDR option also compares the corrected values). A local Moran cluster
//! (HH, LL, HL, LH) is an area whose pseudo p-value (analytic p when no
//! permutations are drawn), or its q-value with the FDR, is at most `alpha`.

pub mod emerging;
pub mod getis_ord;
pub mod local_moran;
pub mod weights;

use serde::Serialize;

pub use emerging::{
    classify_emerging, emerging_hotspots, EmergingArea, EmergingCategory, EmergingHotspots,
    EmergingOptions,
};
pub use getis_ord::{gi_star, GiStar, Standardisation};
pub use local_moran::{local_moran, LocalMoran, Quadrant};
pub use weights::SpatialWeights;

/// Hot or cold spot at a confidence level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HotspotClass {
    Cold99,
    Cold95,
    Cold90,
    NotSignificant,
    Hot90,
    Hot95,
    Hot99,
}

impl HotspotClass {
    /// Class of a z-score with its p-value (or q-value).
    pub fn classify(z: f64, p: f64) -> HotspotClass {
        if !(z.is_finite() && p.is_finite()) || z == 0.0 {
            return HotspotClass::NotSignificant;
        }
        let hot = z > 0.0;
        match (p, hot) {
            (p, true) if p <= 0.01 => HotspotClass::Hot99,
            (p, true) if p <= 0.05 => HotspotClass::Hot95,
            (p, true) if p <= 0.10 => HotspotClass::Hot90,
            (p, false) if p <= 0.01 => HotspotClass::Cold99,
            (p, false) if p <= 0.05 => HotspotClass::Cold95,
            (p, false) if p <= 0.10 => HotspotClass::Cold90,
            _ => HotspotClass::NotSignificant,
        }
    }

    /// ArcGIS's `Gi_Bin`: +3, +2, +1 hot at 99, 95, 90 %; negative for cold; 0.
    pub fn bin(self) -> i8 {
        match self {
            HotspotClass::Cold99 => -3,
            HotspotClass::Cold95 => -2,
            HotspotClass::Cold90 => -1,
            HotspotClass::NotSignificant => 0,
            HotspotClass::Hot90 => 1,
            HotspotClass::Hot95 => 2,
            HotspotClass::Hot99 => 3,
        }
    }

    /// Confidence in percent (none when not significant).
    pub fn confidence(self) -> Option<u8> {
        match self.bin().abs() {
            3 => Some(99),
            2 => Some(95),
            1 => Some(90),
            _ => None,
        }
    }

    pub fn is_hot(self) -> bool {
        self.bin() > 0
    }

    pub fn is_cold(self) -> bool {
        self.bin() < 0
    }

    /// `hot_99`, …, `not_significant`, …, `cold_99`.
    pub fn name(self) -> &'static str {
        match self {
            HotspotClass::Cold99 => "cold_99",
            HotspotClass::Cold95 => "cold_95",
            HotspotClass::Cold90 => "cold_90",
            HotspotClass::NotSignificant => "not_significant",
            HotspotClass::Hot90 => "hot_90",
            HotspotClass::Hot95 => "hot_95",
            HotspotClass::Hot99 => "hot_99",
        }
    }
}

/// Settings of the hot spot table.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct HotspotOptions {
    pub standardisation: Standardisation,
    /// Conditional permutations for local Moran's I (999; 0 for none).
    pub permutations: usize,
    pub seed: u64,
    /// Classify by Benjamini-Hochberg q-values rather than p-values.
    pub fdr: bool,
    /// Significance of a local Moran cluster (0.05).
    pub alpha: f64,
}

impl Default for HotspotOptions {
    fn default() -> Self {
        HotspotOptions {
            standardisation: Standardisation::Binary,
            permutations: 999,
            seed: 1,
            fdr: true,
            alpha: 0.05,
        }
    }
}

/// Gi* and local Moran's I with classes, for every area.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HotspotTable {
    pub gi: GiStar,
    /// BH q-values of the Gi* p-values.
    pub gi_q: Vec<f64>,
    pub class: Vec<HotspotClass>,
    /// Local Moran's I over the row-standardised weights.
    pub moran: LocalMoran,
    /// BH q-values of the Moran p-values (pseudo, or analytic without permutations).
    pub moran_q: Vec<f64>,
    /// The quadrant of areas whose Moran p (or q) is at most `alpha`.
    pub cluster: Vec<Option<Quadrant>>,
    pub options: HotspotOptions,
}

/// BH q-values where NaN p-values (undefined statistics) stay NaN.
fn q_values(p: &[f64]) -> Vec<f64> {
    let wrapped: Vec<Option<f64>> = p.iter().map(|&v| (!v.is_nan()).then_some(v)).collect();
    crate::analysis::trends::benjamini_hochberg(&wrapped)
        .into_iter()
        .map(|q| q.unwrap_or(f64::NAN))
        .collect()
}

/// Gi* (with the chosen standardisation) and local Moran's I (row-standardised)
/// of `values` over binary `weights` (without the diagonal).
pub fn hotspot_table(
    values: &[f64],
    weights: &SpatialWeights,
    opts: &HotspotOptions,
) -> HotspotTable {
    let gi = gi_star(values, weights, opts.standardisation);
    let gi_q = q_values(&gi.p);
    let class = (0..values.len())
        .map(|i| HotspotClass::classify(gi.z[i], if opts.fdr { gi_q[i] } else { gi.p[i] }))
        .collect();
    let moran = local_moran(
        values,
        &weights.row_standardised(),
        opts.permutations,
        opts.seed,
    );
    let moran_p = if opts.permutations > 0 {
        &moran.p_sim
    } else {
        &moran.p
    };
    let moran_q = q_values(moran_p);
    let cluster = (0..values.len())
        .map(|i| {
            let p = if opts.fdr { moran_q[i] } else { moran_p[i] };
            (p <= opts.alpha).then_some(moran.quadrant[i])
        })
        .collect();
    HotspotTable {
        gi,
        gi_q,
        class,
        moran,
        moran_q,
        cluster,
        options: *opts,
    }
}
