//! Early warning: the areas that cross planner-set thresholds of rate,
//! growth and hot spot status, as a ranked list and as a demand vector that
//! other analyses (siting, 2SFCA, boundary balancing) take as weights.
//!
//! Rules (each optional; an area is flagged when it meets at least
//! `min_reasons` of those set):
//! - **high rate**: referrals per 1,000 residents per year over the most
//!   recent year of complete periods (all of them when there are fewer) at
//!   least `rate_per_1000_min`;
//! - **fast growth**: a Poisson rate ratio per year of at least
//!   `1 + growth_per_year_min`, and, when `require_significant_growth`, the
//!   area's trend is `rising` after the false discovery rate;
//! - **hot spot**: a Gi* hot spot at `hotspot_confidence` % or more;
//! - **emerging hot spot**: a new, consecutive or intensifying hot spot.
//!
//! **Demand vector.** For a flagged area, the projected referrals per period
//! at the last step of the projection when one is given, otherwise its mean
//! referrals per period over the recent year; 0 for an area not flagged.

use serde::Serialize;

use crate::analysis::hotspots::{EmergingCategory, HotspotClass};
use crate::analysis::projection::Projection;
use crate::analysis::trends::{periods_per_year, Direction, TrendTable};
use crate::model::AreaId;

/// Thresholds of the early-warning list.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct WarningRules {
    pub rate_per_1000_min: Option<f64>,
    /// 0.10 = a rise of 10 % a year.
    pub growth_per_year_min: Option<f64>,
    pub require_significant_growth: bool,
    /// 90, 95 or 99.
    pub hotspot_confidence: Option<u8>,
    pub emerging: bool,
    pub min_reasons: usize,
}

impl Default for WarningRules {
    fn default() -> Self {
        WarningRules {
            rate_per_1000_min: None,
            growth_per_year_min: Some(0.10),
            require_significant_growth: true,
            hotspot_confidence: Some(95),
            emerging: true,
            min_reasons: 1,
        }
    }
}

/// Why an area is on the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    HighRate,
    FastGrowth,
    HotSpot,
    EmergingHotSpot,
}

impl Reason {
    pub fn name(self) -> &'static str {
        match self {
            Reason::HighRate => "high_rate",
            Reason::FastGrowth => "fast_growth",
            Reason::HotSpot => "hot_spot",
            Reason::EmergingHotSpot => "emerging_hot_spot",
        }
    }
}

/// One flagged area.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Warning {
    pub area: AreaId,
    pub reasons: Vec<Reason>,
    /// Referrals in the recent year of complete periods and their rate per 1,000 per year.
    pub recent_referrals: u64,
    pub recent_rate_per_1000_per_year: Option<f64>,
    /// Poisson rate ratio per year − 1.
    pub growth_per_year: Option<f64>,
    pub q: Option<f64>,
    pub hotspot: Option<HotspotClass>,
    pub emerging: Option<EmergingCategory>,
    /// Projected referrals per period at the last step, with its interval.
    pub projected: Option<f64>,
    pub projected_upper: Option<f64>,
    /// This area's entry in the demand vector.
    pub demand: f64,
}

/// The early-warning list, most reasons and most demand first.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EarlyWarning {
    pub warnings: Vec<Warning>,
    /// Per area (in area order): demand in referrals per period; 0 where not flagged.
    pub demand: Vec<f64>,
    /// Complete periods making up the recent year.
    pub recent_periods: usize,
    pub rules: WarningRules,
}

/// Analyses the list draws on (all per area, in area order).
pub struct WarningInputs<'a> {
    pub trends: &'a TrendTable,
    pub hotspots: Option<&'a [HotspotClass]>,
    pub emerging: Option<&'a [EmergingCategory]>,
    pub projection: Option<&'a Projection>,
}

/// Apply the rules (see the module notes).
pub fn early_warning(inputs: &WarningInputs<'_>, rules: &WarningRules) -> EarlyWarning {
    let trends = inputs.trends;
    let ppy = periods_per_year(trends.period);
    let recent = (ppy as usize).min(trends.periods.len());
    let n = trends.areas.len();
    let mut demand = vec![0.0; n];
    let mut warnings = Vec::new();
    for (i, a) in trends.areas.iter().enumerate() {
        let recent_referrals: u64 = a.counts[a.counts.len() - recent..].iter().sum();
        let recent_rate = a
            .population
            .filter(|p| *p > 0.0 && recent > 0)
            .map(|p| recent_referrals as f64 * 1000.0 / p * ppy / recent as f64);
        let growth = a.rate_ratio_per_year.map(|r| r - 1.0);
        let hotspot = inputs.hotspots.and_then(|h| h.get(i)).copied();
        let emerging = inputs.emerging.and_then(|e| e.get(i)).copied();
        let step = inputs
            .projection
            .and_then(|p| p.areas.get(i))
            .and_then(|p| p.steps.last());
        let mut reasons = Vec::new();
        if let (Some(min), Some(r)) = (rules.rate_per_1000_min, recent_rate) {
            if r >= min {
                reasons.push(Reason::HighRate);
            }
        }
        if let (Some(min), Some(g)) = (rules.growth_per_year_min, growth) {
            if g >= min && (!rules.require_significant_growth || a.direction == Direction::Rising) {
                reasons.push(Reason::FastGrowth);
            }
        }
        if let (Some(conf), Some(h)) = (rules.hotspot_confidence, hotspot) {
            if h.is_hot() && h.confidence().is_some_and(|c| c >= conf) {
                reasons.push(Reason::HotSpot);
            }
        }
        if rules.emerging && emerging.is_some_and(|e| e.is_emerging_hot()) {
            reasons.push(Reason::EmergingHotSpot);
        }
        if reasons.is_empty() || reasons.len() < rules.min_reasons {
            continue;
        }
        let d = match step {
            Some(s) => s.mean,
            None if recent > 0 => recent_referrals as f64 / recent as f64,
            None => 0.0,
        };
        demand[i] = d;
        warnings.push(Warning {
            area: a.area,
            reasons,
            recent_referrals,
            recent_rate_per_1000_per_year: recent_rate,
            growth_per_year: growth,
            q: a.q,
            hotspot,
            emerging,
            projected: step.map(|s| s.mean),
            projected_upper: step.map(|s| s.upper),
            demand: d,
        });
    }
    warnings.sort_by(|x, y| {
        y.reasons
            .len()
            .cmp(&x.reasons.len())
            .then(y.demand.total_cmp(&x.demand))
            .then(x.area.cmp(&y.area))
    });
    EarlyWarning {
        warnings,
        demand,
        recent_periods: recent,
        rules: *rules,
    }
}
