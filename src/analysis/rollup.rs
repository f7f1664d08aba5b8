//! Roll-ups of the need map to larger units.
//!
//! - [`rollup_by_column`]: areas grouped by a parent code (intermediate zone,
//!   council). Every area belongs to exactly one parent, so totals are conserved.
//! - [`rollup_to_boundaries`]: areas apportioned to the units of a boundary set
//!   that does not nest (wards, team areas) by area-weighted overlay: an area's
//!   population and referrals go to each unit in proportion to the share of
//!   the area's surface inside it (population is taken as even within a small
//!   area). Shares are normalised over the units the area meets, so totals are
//!   conserved; areas that meet no unit are reported as unassigned.
//!
//! In both, the rate is recomputed from the summed counts and the need score
//! is the population-weighted mean of the areas' scores.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use geo::{Area as _, BooleanOps, BoundingRect, Contains, InteriorPoint};
use rayon::prelude::*;

use crate::model::{Area, BoundarySet};
use crate::spatial::AreaIndex;

use super::need::NeedMap;

/// One unit of a roll-up.
#[derive(Clone, Debug, PartialEq)]
pub struct RollupUnit {
    pub code: String,
    pub name: Option<String>,
    /// Number of small areas (fractional when apportioned).
    pub areas: f64,
    pub population: f64,
    /// Referrals (fractional when apportioned).
    pub referrals: f64,
    pub by_group: Vec<f64>,
    pub rate_per_1000: Option<f64>,
    /// Population-weighted mean need score.
    pub need_score: Option<f64>,
    /// Share of the population in SIMD quintile 1 (most deprived fifth).
    pub share_simd_q1: Option<f64>,
}

/// A roll-up of the need map.
#[derive(Clone, Debug, PartialEq)]
pub struct Rollup {
    /// The parent column or boundary set name.
    pub level: String,
    pub units: Vec<RollupUnit>,
    /// Areas with no parent code, or meeting no unit.
    pub unassigned: RollupUnit,
    pub groups: Vec<String>,
    /// Areas partly outside every unit: (area code, uncovered share), sorted by code.
    pub partly_outside: Vec<(String, f64)>,
    /// Areas whose overlay failed and were placed by their interior point instead.
    pub overlay_fallbacks: Vec<String>,
}

#[derive(Default, Clone)]
struct Acc {
    areas: f64,
    pop: f64,
    pop_known: f64,
    referrals: f64,
    referrals_rated: f64,
    by_group: Vec<f64>,
    score_w: f64,
    score_sum: f64,
    q1_pop: f64,
    simd_pop: f64,
}

impl Acc {
    fn add(&mut self, a: &Area, n: &super::need::AreaNeed, share: f64) {
        let pop = n.population.unwrap_or(0.0) * share;
        self.areas += share;
        self.pop += pop;
        let refs = n.referrals as f64 * share;
        self.referrals += refs;
        if n.population.is_some_and(|p| p > 0.0) {
            self.pop_known += pop;
            self.referrals_rated += refs;
        }
        if self.by_group.len() < n.by_group.len() {
            self.by_group.resize(n.by_group.len(), 0.0);
        }
        for (g, c) in self.by_group.iter_mut().zip(&n.by_group) {
            *g += *c as f64 * share;
        }
        if let Some(s) = n.need_score {
            let w = if pop > 0.0 { pop } else { share * 1e-9 };
            self.score_w += w;
            self.score_sum += w * s;
        }
        if let Some(simd) = a.simd {
            self.simd_pop += pop;
            if simd.quintile == 1 {
                self.q1_pop += pop;
            }
        }
    }

    fn finish(
        self,
        code: String,
        name: Option<String>,
        has_referrals: bool,
        n_groups: usize,
    ) -> RollupUnit {
        let mut by_group = self.by_group;
        by_group.resize(n_groups, 0.0);
        RollupUnit {
            code,
            name,
            areas: self.areas,
            population: self.pop,
            referrals: self.referrals,
            by_group,
            rate_per_1000: (self.pop_known > 0.0 && has_referrals)
                .then(|| self.referrals_rated * 1000.0 / self.pop_known),
            need_score: (self.score_w > 0.0).then(|| self.score_sum / self.score_w),
            share_simd_q1: (self.simd_pop > 0.0).then(|| self.q1_pop / self.simd_pop),
        }
    }
}

fn has_referrals(need: &NeedMap) -> bool {
    need.areas.iter().any(|a| a.referrals > 0) || need.outside > 0
}

/// Roll the need map up to the codes in a parent column.
pub fn rollup_by_column(areas: &[Area], need: &NeedMap, column: &str) -> Rollup {
    let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut unassigned = Acc::default();
    // A name column beside the code column: `iz11_code` -> `iz11_name`.
    let name_col = column.strip_suffix("_code").map(|s| format!("{s}_name"));
    for (a, n) in areas.iter().zip(&need.areas) {
        match a.attribute_text(column) {
            Some(code) => {
                if let Some(nm) = name_col.as_ref().and_then(|c| a.texts.get(c)) {
                    names.entry(code.clone()).or_insert_with(|| nm.clone());
                }
                acc.entry(code).or_default().add(a, n, 1.0);
            }
            None => unassigned.add(a, n, 1.0),
        }
    }
    let hr = has_referrals(need);
    let ng = need.groups.len();
    Rollup {
        level: column.to_string(),
        units: acc
            .into_iter()
            .map(|(code, x)| {
                let name = names.get(&code).cloned();
                x.finish(code, name, hr, ng)
            })
            .collect(),
        unassigned: unassigned.finish("(none)".into(), None, hr, ng),
        groups: need.groups.clone(),
        partly_outside: Vec::new(),
        overlay_fallbacks: Vec::new(),
    }
}

/// Shares of one area in the units it meets: `(unit index, share)`, summing to
/// the covered fraction of the area (before normalisation), and whether the
/// overlay fell back to the interior point.
fn area_shares(area: &Area, set: &BoundarySet, index: &AreaIndex) -> (Vec<(usize, f64)>, bool) {
    let Some(r) = area.geometry.bounding_rect() else {
        return (Vec::new(), false);
    };
    let candidates = index.intersecting_bbox([r.min().x, r.min().y, r.max().x, r.max().y]);
    let total = area.geometry.unsigned_area();
    if total <= 0.0 || candidates.is_empty() {
        return (Vec::new(), false);
    }
    let overlay = catch_unwind(AssertUnwindSafe(|| {
        candidates
            .iter()
            .map(|&u| {
                let unit = &set.units[u.index()];
                let inter = area.geometry.intersection(&unit.geometry).unsigned_area();
                (u.index(), inter / total)
            })
            .filter(|(_, s)| *s > 1e-12)
            .collect::<Vec<_>>()
    }));
    match overlay {
        Ok(shares) => (shares, false),
        Err(_) => {
            // Isolate the failure: place the whole area by its interior point.
            let unit = area.geometry.interior_point().and_then(|p| {
                candidates
                    .iter()
                    .find(|u| set.units[u.index()].geometry.contains(&p))
                    .map(|u| u.index())
            });
            (unit.map(|u| vec![(u, 1.0)]).unwrap_or_default(), true)
        }
    }
}

/// The members of each unit of a parent column as `(area, 1.0)`, units in
/// code order as [`rollup_by_column`] gives them, then the areas without a
/// code (the unassigned unit).
pub fn column_members(areas: &[Area], column: &str) -> Vec<Vec<(u32, f64)>> {
    let mut by: BTreeMap<String, Vec<(u32, f64)>> = BTreeMap::new();
    let mut none = Vec::new();
    for (i, a) in areas.iter().enumerate() {
        match a.attribute_text(column) {
            Some(code) => by.entry(code).or_default().push((i as u32, 1.0)),
            None => none.push((i as u32, 1.0)),
        }
    }
    let mut out: Vec<Vec<(u32, f64)>> = by.into_values().collect();
    out.push(none);
    out
}

/// Each area's shares of the units of a boundary set (normalised over the
/// part of the area the set covers; empty where it covers none), and whether
/// the overlay fell back to the interior point.
pub fn boundary_shares(areas: &[Area], set: &BoundarySet) -> Vec<(Vec<(usize, f64)>, bool)> {
    let index = AreaIndex::new(&set.units.iter().map(|u| &u.geometry).collect::<Vec<_>>());
    areas
        .par_iter()
        .map(|a| area_shares(a, set, &index))
        .collect()
}

/// The members of each unit of a boundary set as `(area, share)`, units in
/// code order as [`rollup_to_boundaries`] gives them, then the unassigned unit.
pub fn boundary_members(areas: &[Area], set: &BoundarySet) -> Vec<Vec<(u32, f64)>> {
    let mut members = vec![Vec::new(); set.units.len()];
    let mut none = Vec::new();
    for (i, (sh, _)) in boundary_shares(areas, set).into_iter().enumerate() {
        let covered: f64 = sh.iter().map(|(_, s)| s).sum();
        if sh.is_empty() || covered <= 0.0 {
            none.push((i as u32, 1.0));
            continue;
        }
        for (u, s) in sh {
            members[u].push((i as u32, s / covered));
        }
    }
    let mut order: Vec<usize> = (0..set.units.len()).collect();
    order.sort_by(|&a, &b| set.units[a].code.cmp(&set.units[b].code));
    let mut out: Vec<Vec<(u32, f64)>> = order
        .into_iter()
        .map(|u| std::mem::take(&mut members[u]))
        .collect();
    out.push(none);
    out
}

/// Roll the need map up to a boundary set by area-weighted overlay.
pub fn rollup_to_boundaries(areas: &[Area], need: &NeedMap, set: &BoundarySet) -> Rollup {
    let shares = boundary_shares(areas, set);
    let mut acc = vec![Acc::default(); set.units.len()];
    let mut unassigned = Acc::default();
    let mut partly_outside = Vec::new();
    let mut fallbacks = Vec::new();
    for ((a, n), (sh, fell_back)) in areas.iter().zip(&need.areas).zip(shares) {
        if fell_back {
            fallbacks.push(a.code.clone());
        }
        let covered: f64 = sh.iter().map(|(_, s)| s).sum();
        if sh.is_empty() || covered <= 0.0 {
            unassigned.add(a, n, 1.0);
            continue;
        }
        if covered < 0.99 {
            partly_outside.push((a.code.clone(), 1.0 - covered));
        }
        for (u, s) in sh {
            acc[u].add(a, n, s / covered);
        }
    }
    partly_outside.sort_by(|a, b| a.0.cmp(&b.0));
    fallbacks.sort();
    let hr = has_referrals(need);
    let ng = need.groups.len();
    let mut units: Vec<RollupUnit> = acc
        .into_iter()
        .zip(&set.units)
        .map(|(x, u)| x.finish(u.code.clone(), u.name.clone(), hr, ng))
        .collect();
    units.sort_by(|a, b| a.code.cmp(&b.code));
    Rollup {
        level: set.name.clone(),
        units,
        unassigned: unassigned.finish("(none)".into(), None, hr, ng),
        groups: need.groups.clone(),
        partly_outside,
        overlay_fallbacks: fallbacks,
    }
}
