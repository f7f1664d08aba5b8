//! The equity table: areas, population, referrals and rates by SIMD quintile
//! (1 = most deprived fifth), with the total across all areas.

use crate::model::Area;

use super::need::NeedMap;

/// One row of the equity table.
#[derive(Clone, Debug, PartialEq)]
pub struct EquityRow {
    /// SIMD quintile, or `None` for areas without a SIMD rank.
    pub simd_quintile: Option<u8>,
    pub areas: usize,
    pub population: f64,
    pub referrals: u64,
    pub by_group: Vec<u64>,
    /// Referrals per 1,000 residents of areas with a known population.
    pub rate_per_1000: Option<f64>,
    /// Share of all referrals (in areas) that fall in this row.
    pub share_of_referrals: Option<f64>,
    /// Share of the population living in this row's areas.
    pub share_of_population: Option<f64>,
}

/// Rows for quintiles 1 to 5 (then areas without SIMD, if any), and the total.
#[derive(Clone, Debug, PartialEq)]
pub struct EquityTable {
    pub rows: Vec<EquityRow>,
    pub total: EquityRow,
    pub groups: Vec<String>,
}

fn empty(q: Option<u8>, n_groups: usize) -> EquityRow {
    EquityRow {
        simd_quintile: q,
        areas: 0,
        population: 0.0,
        referrals: 0,
        by_group: vec![0; n_groups],
        rate_per_1000: None,
        share_of_referrals: None,
        share_of_population: None,
    }
}

/// Build the equity table from the areas and their need map.
pub fn equity_table(areas: &[Area], need: &NeedMap) -> EquityTable {
    let ng = need.groups.len();
    let mut rows: Vec<EquityRow> = (1..=5).map(|q| empty(Some(q), ng)).collect();
    let mut none = empty(None, ng);
    let mut total = empty(None, ng);
    // Referrals in areas whose population is known, for rates.
    let mut rated = [0u64; 7];
    for (a, n) in areas.iter().zip(&need.areas) {
        let slot = a.simd.map(|s| (s.quintile.clamp(1, 5) - 1) as usize);
        let row = match slot {
            Some(i) => &mut rows[i],
            None => &mut none,
        };
        for r in [row, &mut total] {
            r.areas += 1;
            r.population += n.population.unwrap_or(0.0);
            r.referrals += n.referrals;
            for (g, c) in r.by_group.iter_mut().zip(&n.by_group) {
                *g += c;
            }
        }
        if n.population.is_some_and(|p| p > 0.0) {
            rated[slot.unwrap_or(5)] += n.referrals;
            rated[6] += n.referrals;
        }
    }
    let has_referrals = need.areas.iter().any(|a| a.referrals > 0) || need.outside > 0;
    let finish = |r: &mut EquityRow, rated: u64, tot_ref: u64, tot_pop: f64| {
        r.rate_per_1000 =
            (r.population > 0.0 && has_referrals).then(|| rated as f64 * 1000.0 / r.population);
        r.share_of_referrals = (tot_ref > 0).then(|| r.referrals as f64 / tot_ref as f64);
        r.share_of_population = (tot_pop > 0.0).then(|| r.population / tot_pop);
    };
    let (tr, tp) = (total.referrals, total.population);
    for (i, r) in rows.iter_mut().enumerate() {
        finish(r, rated[i], tr, tp);
    }
    finish(&mut none, rated[5], tr, tp);
    finish(&mut total, rated[6], tr, tp);
    if none.areas > 0 {
        rows.push(none);
    }
    EquityTable {
        rows,
        total,
        groups: need.groups.clone(),
    }
}
