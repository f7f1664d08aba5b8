//! The need map: for each small area, referrals (total, per group, per
//! period), the rate per 1,000 residents, SIMD position and a composite need
//! score.
//!
//! **Need score.** Each component is turned into a percentile position among
//! the areas that have it, `c = (below + (equal − 1)/2) / (n − 1)` with the
//! values ordered from least to most need (so `c` runs 0 … 1 and ties share
//! the middle position). The score is `100 × Σ wᵢ·cᵢ / Σ wᵢ` over the
//! components an area has, with weights from [`NeedConfig`]:
//! deprivation (lower SIMD rank = more need), referral rate (higher = more
//! need), and any extra indicators. An area with no component has no score.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDateTime};

use crate::config::{NeedConfig, Period};
use crate::model::{Area, AreaId, ReferralSet};

/// Need figures for one area.
#[derive(Clone, Debug, PartialEq)]
pub struct AreaNeed {
    pub area: AreaId,
    pub referrals: u64,
    /// Referrals per group, indexed like [`NeedMap::groups`].
    pub by_group: Vec<u64>,
    /// Referrals per period, indexed like [`NeedMap::periods`].
    pub by_period: Vec<u64>,
    pub population: Option<f64>,
    /// Referrals per 1,000 residents (unknown where the population is unknown or zero).
    pub rate_per_1000: Option<f64>,
    /// Composite need score, 0 (least) to 100 (most).
    pub need_score: Option<f64>,
}

/// The need map for every area, in area order.
#[derive(Clone, Debug, PartialEq)]
pub struct NeedMap {
    pub areas: Vec<AreaNeed>,
    pub groups: Vec<String>,
    /// Period labels in time order (`2024-03`, `2024-Q1` or `2024`).
    pub periods: Vec<String>,
    /// Referrals outside every area.
    pub outside: u64,
    /// Referrals inside an area but with no valid time.
    pub untimed: u64,
}

/// Label of the period containing `t`.
pub fn period_label(t: &NaiveDateTime, period: Period) -> String {
    match period {
        Period::Month => format!("{:04}-{:02}", t.year(), t.month()),
        Period::Quarter => format!("{:04}-Q{}", t.year(), (t.month() - 1) / 3 + 1),
        Period::Year => format!("{:04}", t.year()),
    }
}

/// Percentile positions (0 … 1, ties share the middle) of `values`, where a
/// higher value means more need. `None` stays `None`.
pub fn percentile_scores(values: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut present: Vec<f64> = values.iter().flatten().copied().collect();
    present.sort_by(f64::total_cmp);
    let n = present.len();
    values
        .iter()
        .map(|v| {
            let v = (*v)?;
            if n < 2 {
                return Some(0.5);
            }
            let below = present.partition_point(|&x| x < v);
            let upto = present.partition_point(|&x| x <= v);
            let equal = upto - below;
            Some((below as f64 + (equal as f64 - 1.0) / 2.0) / (n as f64 - 1.0))
        })
        .collect()
}

/// The composite need score of each area from its referral rate (`None`
/// where unknown) and the configured components.
pub fn need_scores(areas: &[Area], rates: &[Option<f64>], cfg: &NeedConfig) -> Vec<Option<f64>> {
    // Components, each oriented so that higher = more need.
    let mut components: Vec<(f64, Vec<Option<f64>>)> = Vec::new();
    let deprivation: Vec<Option<f64>> = areas
        .iter()
        .map(|a| a.simd.map(|s| -(s.rank as f64)))
        .collect();
    components.push((cfg.deprivation_weight, percentile_scores(&deprivation)));
    components.push((cfg.referral_rate_weight, percentile_scores(rates)));
    for ind in &cfg.indicators {
        let sign = if ind.higher_is_worse { 1.0 } else { -1.0 };
        let vals: Vec<Option<f64>> = areas
            .iter()
            .map(|a| a.numbers.get(&ind.column).map(|v| sign * v))
            .collect();
        components.push((ind.weight, percentile_scores(&vals)));
    }
    let scores: Vec<Option<f64>> = (0..areas.len())
        .map(|i| {
            let (mut num, mut den) = (0.0, 0.0);
            for (w, c) in &components {
                if let Some(v) = c[i] {
                    if *w > 0.0 {
                        num += w * v;
                        den += w;
                    }
                }
            }
            // A weighted mean of values in [0, 1]; clamp away rounding (100.00000000000001).
            (den > 0.0).then(|| (100.0 * num / den).clamp(0.0, 100.0))
        })
        .collect();
    scores
}

/// Build the need map.
pub fn need_map(areas: &[Area], referrals: &ReferralSet, cfg: &NeedConfig) -> NeedMap {
    let n_groups = referrals.groups.len();
    let mut period_index: BTreeMap<String, usize> = BTreeMap::new();
    for r in &referrals.referrals {
        if let (Some(t), Some(_)) = (&r.received, r.area) {
            period_index.entry(period_label(t, cfg.period)).or_insert(0);
        }
    }
    for (i, v) in period_index.values_mut().enumerate() {
        *v = i;
    }
    let periods: Vec<String> = period_index.keys().cloned().collect();
    let mut counts = vec![0u64; areas.len()];
    let mut by_group = vec![vec![0u64; n_groups]; areas.len()];
    let mut by_period = vec![vec![0u64; periods.len()]; areas.len()];
    let (mut outside, mut untimed) = (0u64, 0u64);
    for r in &referrals.referrals {
        let Some(a) = r.area else {
            outside += 1;
            continue;
        };
        let i = a.index();
        counts[i] += 1;
        if let Some(g) = r.group {
            by_group[i][g as usize] += 1;
        }
        match &r.received {
            Some(t) => {
                let p = period_index[&period_label(t, cfg.period)];
                by_period[i][p] += 1;
            }
            None => untimed += 1,
        }
    }
    let has_referrals = !referrals.referrals.is_empty();
    let rates: Vec<Option<f64>> = areas
        .iter()
        .zip(&counts)
        .map(|(a, &c)| match a.population {
            Some(p) if p > 0.0 && has_referrals => Some(c as f64 * 1000.0 / p),
            _ => None,
        })
        .collect();

    let scores = need_scores(areas, &rates, cfg);

    let out = areas
        .iter()
        .enumerate()
        .map(|(i, a)| AreaNeed {
            area: a.id,
            referrals: counts[i],
            by_group: std::mem::take(&mut by_group[i]),
            by_period: std::mem::take(&mut by_period[i]),
            population: a.population,
            rate_per_1000: rates[i],
            need_score: scores[i],
        })
        .collect();
    NeedMap {
        areas: out,
        groups: referrals.groups.clone(),
        periods,
        outside,
        untimed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_hand() {
        let p = percentile_scores(&[Some(1.0), Some(3.0), None, Some(2.0), Some(3.0)]);
        // Sorted 1, 2, 3, 3: positions 0, 1/3, then the tie at (2 + 0.5)/3.
        assert_eq!(p[0], Some(0.0));
        assert_eq!(p[3], Some(1.0 / 3.0));
        assert_eq!(p[1], Some(2.5 / 3.0));
        assert_eq!(p[4], Some(2.5 / 3.0));
        assert_eq!(p[2], None);
    }
}
