//! Emerging hot spots: where clusters of high (or low) values appear, grow,
//! persist or fade over time, in the manner of ArcGIS Pro's *Emerging Hot
//! Spot Analysis* (Esri, "How Emerging Hot Spot Analysis works").
//!
//! 1. For each period, Gi* of every area on that period's values (rates per
//!    1,000), over the same weights; each area-period ("bin") is a
//!    significant hot (cold) spot when its z is positive (negative) and its
//!    p-value, or with the false discovery rate (the default, as ArcGIS does)
//!    its Benjamini-Hochberg q-value across the areas of that period, is at
//!    most `alpha`. The neighbourhood is spatial only: ArcGIS also counts
//!    the same neighbours in earlier time steps (its neighbourhood time
//!    step), which this leaves out.
//! 2. A Mann-Kendall test of each area's series of Gi* z-scores (significant
//!    when its p-value is at most `trend_alpha`): the trend of the
//!    intensity of clustering.
//! 3. Categories, with ArcGIS's definitions (n periods; "hot" means a
//!    significant hot spot bin; the cold spot categories mirror them):
//!    - **new**: hot in the final period and never hot before;
//!    - **consecutive**: a single uninterrupted run of at least two hot
//!      periods at the end, never hot before the run, and fewer than 90 % of
//!      all periods hot;
//!    - **intensifying**: hot in at least 90 % of the periods including the
//!      final one, and the intensity of clustering rises significantly;
//!    - **persistent**: hot in at least 90 % of the periods with no
//!      significant trend in the intensity;
//!    - **diminishing**: hot in at least 90 % of the periods including the
//!      final one, and the intensity falls significantly;
//!    - **sporadic**: hot in the final period, on and off before, fewer than
//!      90 % of the periods hot, and never a significant cold spot;
//!    - **oscillating**: hot in the final period, a significant cold spot in
//!      some earlier period, fewer than 90 % of the periods hot;
//!    - **historical**: not hot in the final period, but hot in at least 90 %
//!      of the periods;
//!    - otherwise no pattern.
//!
//! Where the definitions leave room, the rules are those of the R package
//! sfdep (`emerging_hotspot_analysis`): *new* and *consecutive* also
//! require no significant cold spot before (otherwise the area is
//! *oscillating*); *persistent* requires the final period hot (otherwise it
//! is *historical*). The order of the checks is: final period hot →
//! intensifying / diminishing / persistent (≥ 90 %), else new, consecutive,
//! oscillating, sporadic; final period not hot → historical (≥ 90 %); then the
//! same for cold spots.

use serde::Serialize;

use super::getis_ord::{gi_star, Standardisation};
use super::weights::SpatialWeights;
use crate::analysis::trends::{benjamini_hochberg, mann_kendall, MannKendall};

/// Emerging hot and cold spot categories.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmergingCategory {
    NoPattern,
    NewHotSpot,
    ConsecutiveHotSpot,
    IntensifyingHotSpot,
    PersistentHotSpot,
    DiminishingHotSpot,
    SporadicHotSpot,
    OscillatingHotSpot,
    HistoricalHotSpot,
    NewColdSpot,
    ConsecutiveColdSpot,
    IntensifyingColdSpot,
    PersistentColdSpot,
    DiminishingColdSpot,
    SporadicColdSpot,
    OscillatingColdSpot,
    HistoricalColdSpot,
}

#[derive(Clone, Copy)]
enum Pattern {
    New,
    Consecutive,
    Intensifying,
    Persistent,
    Diminishing,
    Sporadic,
    Oscillating,
    Historical,
}

impl EmergingCategory {
    fn from_pattern(p: Pattern, hot: bool) -> EmergingCategory {
        use EmergingCategory::*;
        match (p, hot) {
            (Pattern::New, true) => NewHotSpot,
            (Pattern::Consecutive, true) => ConsecutiveHotSpot,
            (Pattern::Intensifying, true) => IntensifyingHotSpot,
            (Pattern::Persistent, true) => PersistentHotSpot,
            (Pattern::Diminishing, true) => DiminishingHotSpot,
            (Pattern::Sporadic, true) => SporadicHotSpot,
            (Pattern::Oscillating, true) => OscillatingHotSpot,
            (Pattern::Historical, true) => HistoricalHotSpot,
            (Pattern::New, false) => NewColdSpot,
            (Pattern::Consecutive, false) => ConsecutiveColdSpot,
            (Pattern::Intensifying, false) => IntensifyingColdSpot,
            (Pattern::Persistent, false) => PersistentColdSpot,
            (Pattern::Diminishing, false) => DiminishingColdSpot,
            (Pattern::Sporadic, false) => SporadicColdSpot,
            (Pattern::Oscillating, false) => OscillatingColdSpot,
            (Pattern::Historical, false) => HistoricalColdSpot,
        }
    }

    /// `new_hot_spot`, …, `no_pattern`.
    pub fn name(self) -> &'static str {
        use EmergingCategory::*;
        match self {
            NoPattern => "no_pattern",
            NewHotSpot => "new_hot_spot",
            ConsecutiveHotSpot => "consecutive_hot_spot",
            IntensifyingHotSpot => "intensifying_hot_spot",
            PersistentHotSpot => "persistent_hot_spot",
            DiminishingHotSpot => "diminishing_hot_spot",
            SporadicHotSpot => "sporadic_hot_spot",
            OscillatingHotSpot => "oscillating_hot_spot",
            HistoricalHotSpot => "historical_hot_spot",
            NewColdSpot => "new_cold_spot",
            ConsecutiveColdSpot => "consecutive_cold_spot",
            IntensifyingColdSpot => "intensifying_cold_spot",
            PersistentColdSpot => "persistent_cold_spot",
            DiminishingColdSpot => "diminishing_cold_spot",
            SporadicColdSpot => "sporadic_cold_spot",
            OscillatingColdSpot => "oscillating_cold_spot",
            HistoricalColdSpot => "historical_cold_spot",
        }
    }

    /// Any hot spot category.
    pub fn is_hot(self) -> bool {
        self.name().ends_with("hot_spot")
    }

    /// Any cold spot category.
    pub fn is_cold(self) -> bool {
        self.name().ends_with("cold_spot")
    }

    /// A hot spot that is new, growing or rising: new, consecutive or intensifying
    /// (the ones that anticipate demand).
    pub fn is_emerging_hot(self) -> bool {
        matches!(
            self,
            EmergingCategory::NewHotSpot
                | EmergingCategory::ConsecutiveHotSpot
                | EmergingCategory::IntensifyingHotSpot
        )
    }
}

/// Settings of the emerging hot spot analysis.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct EmergingOptions {
    /// Significance of a hot or cold spot bin (0.05).
    pub alpha: f64,
    /// Benjamini-Hochberg across the areas of each period (true).
    pub fdr: bool,
    /// Significance of the Mann-Kendall trend of the z-scores (0.05).
    pub trend_alpha: f64,
    pub standardisation: Standardisation,
}

impl Default for EmergingOptions {
    fn default() -> Self {
        EmergingOptions {
            alpha: 0.05,
            fdr: true,
            trend_alpha: 0.05,
            standardisation: Standardisation::Binary,
        }
    }
}

/// One area's space-time pattern.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EmergingArea {
    pub category: EmergingCategory,
    /// Gi* z per period.
    pub z: Vec<f64>,
    /// Per period: +1 significant hot spot, −1 cold spot, 0 neither.
    pub bins: Vec<i8>,
    /// Mann-Kendall trend of the z-scores.
    pub trend: Option<MannKendall>,
    pub hot_periods: usize,
    pub cold_periods: usize,
}

/// Emerging hot spots of every area.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EmergingHotspots {
    pub areas: Vec<EmergingArea>,
    pub options: EmergingOptions,
}

/// Patterns of one side: `bins` with +1 for this side's spots and −1 for the
/// other side's; `rising` the sign of a significant trend towards this side.
fn pattern(bins: &[i8], trend: Option<bool>) -> Option<Pattern> {
    let n = bins.len();
    if n == 0 {
        return None;
    }
    let share = bins.iter().filter(|&&b| b == 1).count() as f64 / n as f64;
    let final_on = bins[n - 1] == 1;
    if !final_on {
        return (share >= 0.9).then_some(Pattern::Historical);
    }
    if share >= 0.9 {
        return Some(match trend {
            Some(true) => Pattern::Intensifying,
            Some(false) => Pattern::Diminishing,
            None => Pattern::Persistent,
        });
    }
    let before = &bins[..n - 1];
    if before.iter().all(|&b| b == 0) {
        return Some(Pattern::New);
    }
    let run = bins.iter().rev().take_while(|&&b| b == 1).count();
    if run >= 2 && bins[..n - run].iter().all(|&b| b == 0) {
        return Some(Pattern::Consecutive);
    }
    if before.contains(&-1) {
        return Some(Pattern::Oscillating);
    }
    Some(Pattern::Sporadic)
}

/// The category of an area from its bins (+1 hot, −1 cold, 0) and the
/// Mann-Kendall trend of its z-scores.
pub fn classify_emerging(
    bins: &[i8],
    trend: Option<&MannKendall>,
    trend_alpha: f64,
) -> EmergingCategory {
    // Direction of a significant trend: Some(true) rising z, Some(false) falling.
    let sig = trend
        .filter(|m| m.p <= trend_alpha && m.s != 0)
        .map(|m| m.s > 0);
    if let Some(p) = pattern(bins, sig) {
        return EmergingCategory::from_pattern(p, true);
    }
    let flipped: Vec<i8> = bins.iter().map(|b| -b).collect();
    // For cold spots, "intensifying" means the z-scores fall.
    if let Some(p) = pattern(&flipped, sig.map(|up| !up)) {
        return EmergingCategory::from_pattern(p, false);
    }
    EmergingCategory::NoPattern
}

/// Emerging hot spots from per-period values `values_by_period[period][area]`
/// over binary `weights` (without the diagonal).
pub fn emerging_hotspots(
    values_by_period: &[Vec<f64>],
    weights: &SpatialWeights,
    opts: &EmergingOptions,
) -> EmergingHotspots {
    let n = weights.len();
    let t = values_by_period.len();
    let mut z = vec![vec![f64::NAN; t]; n];
    let mut bins = vec![vec![0i8; t]; n];
    for (k, values) in values_by_period.iter().enumerate() {
        let gi = gi_star(values, weights, opts.standardisation);
        let p: Vec<Option<f64>> = gi.p.iter().map(|&v| (!v.is_nan()).then_some(v)).collect();
        let decide = if opts.fdr { benjamini_hochberg(&p) } else { p };
        for i in 0..n {
            z[i][k] = gi.z[i];
            if decide[i].is_some_and(|v| v <= opts.alpha) && gi.z[i] != 0.0 {
                bins[i][k] = if gi.z[i] > 0.0 { 1 } else { -1 };
            }
        }
    }
    let areas = (0..n)
        .map(|i| {
            let trend = mann_kendall(&z[i]);
            let category = classify_emerging(&bins[i], trend.as_ref(), opts.trend_alpha);
            EmergingArea {
                category,
                hot_periods: bins[i].iter().filter(|&&b| b == 1).count(),
                cold_periods: bins[i].iter().filter(|&&b| b == -1).count(),
                z: std::mem::take(&mut z[i]),
                bins: std::mem::take(&mut bins[i]),
                trend,
            }
        })
        .collect();
    EmergingHotspots {
        areas,
        options: *opts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EmergingCategory::*;

    fn mk(s: i64, p: f64) -> MannKendall {
        MannKendall {
            n: 12,
            s,
            var_s: 1.0,
            z: 0.0,
            p,
            tau: 0.0,
        }
    }

    #[test]
    fn categories_follow_the_definitions() {
        let none = None;
        let up = mk(30, 0.001);
        let down = mk(-30, 0.001);
        let flat = mk(3, 0.6);
        let c = |b: &[i8], t: Option<&MannKendall>| classify_emerging(b, t, 0.05);
        let b = |s: &str| -> Vec<i8> {
            s.chars()
                .map(|ch| match ch {
                    'H' => 1,
                    'C' => -1,
                    _ => 0,
                })
                .collect()
        };
        assert_eq!(c(&b("..........H"), none), NewHotSpot);
        assert_eq!(c(&b("........HHH"), none), ConsecutiveHotSpot);
        // Hot before the final run: sporadic, not consecutive.
        assert_eq!(c(&b("..H.....HHH"), none), SporadicHotSpot);
        assert_eq!(c(&b("..C.....HHH"), none), OscillatingHotSpot);
        assert_eq!(c(&b("..C.......H"), none), OscillatingHotSpot);
        // ≥ 90 % hot (11 of 12) including the final one.
        assert_eq!(c(&b(".HHHHHHHHHHH"), Some(&up)), IntensifyingHotSpot);
        assert_eq!(c(&b("HHHHHHHHHHHH"), Some(&down)), DiminishingHotSpot);
        assert_eq!(c(&b("HHHH.HHHHHHH"), Some(&flat)), PersistentHotSpot);
        // 10 of 12 is 83 %: not intensifying but one run at the end: consecutive.
        assert_eq!(c(&b("..HHHHHHHHHH"), Some(&up)), ConsecutiveHotSpot);
        assert_eq!(c(&b(".H.HHHHHHHHH"), Some(&up)), SporadicHotSpot);
        assert_eq!(c(&b("HHHHHHHHHHH."), none), HistoricalHotSpot);
        assert_eq!(c(&b("HHHHHHHHHH.."), none), NoPattern);
        // Cold mirrors: falling z intensifies a cold spot.
        assert_eq!(c(&b("..........C"), none), NewColdSpot);
        assert_eq!(c(&b("CCCCCCCCCCCC"), Some(&down)), IntensifyingColdSpot);
        assert_eq!(c(&b("CCCCCCCCCCCC"), Some(&up)), DiminishingColdSpot);
        assert_eq!(c(&b("..H......CC"), none), OscillatingColdSpot);
        assert_eq!(c(&b("CCCCCCCCCCC."), none), HistoricalColdSpot);
        assert_eq!(c(&b("............"), Some(&up)), NoPattern);
        assert!(IntensifyingHotSpot.is_emerging_hot() && !PersistentHotSpot.is_emerging_hot());
        assert!(NewColdSpot.is_cold() && !NewColdSpot.is_hot());
    }
}
