//! Boundary harmonisation on a loaded [`Atlas`], shared by the CLI and the
//! server: co-terminosity of two named layers (a boundary set, or `areas`
//! for the small areas themselves) and the boundary designer.
//!
//! *Co-terminosity of a set against a target* (one figure, 0..1) is the
//! population-weighted mean, over the set's units, of the share of each
//! unit's population inside its dominant target unit, with population taken
//! from the small areas and apportioned by overlap. It is `1 − F` of the
//! co-terminosity analysis, and is what "before" and "after" report for the
//! designer: before for the current set (when one is named), after for the
//! proposal.

use geo::MultiPolygon;

use crate::analysis::boundaries::{
    coterminosity_joint, design, dissolve_units, overlay, Adjacency, Contiguity, Coterminosity,
    CoterminosityOptions, Design, DesignProblem, Dissolved, Overlay, OverlayOptions,
    SmallAreaShares, UnitsPerParent,
};

use super::workspace::Atlas;

/// The name of the small areas as a layer.
pub const AREAS: &str = "areas";

/// A polygon layer of the atlas: codes, names, geometries (BNG).
pub struct Layer<'a> {
    pub name: String,
    pub codes: Vec<String>,
    pub names: Vec<Option<String>>,
    pub geoms: Vec<&'a MultiPolygon<f64>>,
    pub is_areas: bool,
}

/// Co-terminosity of two layers, with the lookups behind it.
pub struct CoterminosityStudy<'a> {
    pub a: Layer<'a>,
    pub b: Layer<'a>,
    pub a_on_b: Overlay,
    pub small_a: SmallAreaShares,
    pub small_b: SmallAreaShares,
    pub result: Coterminosity,
}

/// The designer's proposal with its polygons and the co-terminosity before and after.
pub struct DesignStudy {
    pub design: Design,
    pub polygons: Vec<Dissolved>,
    /// Parent code of each unit.
    pub parent_codes: Vec<String>,
    /// Target code each unit stands for.
    pub labels: Vec<Option<String>>,
    pub target_name: String,
    /// Co-terminosity of the current set with the target (when a current set is named).
    pub before: Option<f64>,
    /// Co-terminosity of the proposal with the target.
    pub after: f64,
}

/// Population-weighted mean share of each unit inside its dominant target,
/// for units given as a share vector per small area (`member[i]`: (unit, share)).
fn set_coterminosity(member: &[Vec<(u32, f64)>], target: &SmallAreaShares, pop: &[f64]) -> f64 {
    use std::collections::BTreeMap;
    let mut by_unit: BTreeMap<u32, BTreeMap<u32, f64>> = BTreeMap::new();
    for (i, m) in member.iter().enumerate() {
        for &(u, s) in m {
            let row = by_unit.entry(u).or_default();
            for &(t, st) in &target.shares[i] {
                *row.entry(t).or_default() += pop[i] * s * st;
            }
        }
    }
    let (mut inside, mut total) = (0.0, 0.0);
    for row in by_unit.values() {
        let sum: f64 = row.values().sum();
        let max = row.values().copied().fold(0.0, f64::max);
        inside += max;
        total += sum;
    }
    if total > 0.0 {
        inside / total
    } else {
        0.0
    }
}

impl Atlas {
    /// A layer by name: `areas` or a boundary set; the error names the layers there are.
    pub fn layer(&self, name: &str) -> Result<Layer<'_>, String> {
        if name == AREAS {
            return Ok(Layer {
                name: AREAS.into(),
                codes: self.areas.iter().map(|a| a.code.clone()).collect(),
                names: self.areas.iter().map(|a| a.name.clone()).collect(),
                geoms: self.areas.iter().map(|a| &a.geometry).collect(),
                is_areas: true,
            });
        }
        let set = self
            .boundary_sets
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| {
                let mut names = vec![AREAS.to_string()];
                names.extend(self.boundary_sets.iter().map(|s| s.name.clone()));
                format!("no layer {name:?}; layers are: {}", names.join(", "))
            })?;
        Ok(Layer {
            name: name.into(),
            codes: set.units.iter().map(|u| u.code.clone()).collect(),
            names: set.units.iter().map(|u| u.name.clone()).collect(),
            geoms: set.units.iter().map(|u| &u.geometry).collect(),
            is_areas: false,
        })
    }

    fn small_shares(&self, layer: &Layer<'_>, opts: &OverlayOptions) -> SmallAreaShares {
        if layer.is_areas {
            SmallAreaShares::identity(self.areas.len())
        } else {
            let small: Vec<&MultiPolygon<f64>> = self.areas.iter().map(|a| &a.geometry).collect();
            SmallAreaShares::from_overlay(&overlay(&small, &layer.geoms, opts))
        }
    }

    /// Joint shares of the small areas split by both layers, from the areas
    /// of `area ∩ A_a ∩ B_b` (boolean clipping, isolated per piece; an area
    /// whose clipping fails keeps the product of its shares).
    fn joint_shares(
        &self,
        la: &Layer<'_>,
        lb: &Layer<'_>,
        small_a: &SmallAreaShares,
        small_b: &SmallAreaShares,
    ) -> Vec<Vec<(u32, u32, f64)>> {
        use crate::analysis::boundaries::overlay::pair_intersection;
        use geo::Area as _;
        use rayon::prelude::*;
        (0..self.areas.len())
            .into_par_iter()
            .map(|d| {
                let (sa, sb) = (&small_a.shares[d], &small_b.shares[d]);
                if la.is_areas || lb.is_areas || sa.len() < 2 || sb.len() < 2 {
                    return Vec::new();
                }
                let area = &self.areas[d].geometry;
                let mut out = Vec::new();
                for &(i, _) in sa {
                    let Ok(piece) = pair_intersection(area, la.geoms[i as usize]) else {
                        return Vec::new();
                    };
                    for &(j, _) in sb {
                        let Ok(p2) = pair_intersection(&piece, lb.geoms[j as usize]) else {
                            return Vec::new();
                        };
                        let m2 = p2.unsigned_area();
                        if m2 > 0.0 {
                            out.push((i, j, m2));
                        }
                    }
                }
                let total: f64 = out.iter().map(|x| x.2).sum();
                if total <= 0.0 {
                    return Vec::new();
                }
                out.into_iter().map(|(i, j, m)| (i, j, m / total)).collect()
            })
            .collect()
    }

    /// Co-terminosity of layers `a` and `b`; splits below `split_min_share` of a unit are not counted.
    pub fn coterminosity_study(
        &self,
        a: &str,
        b: &str,
        split_min_share: f64,
    ) -> Result<CoterminosityStudy<'_>, String> {
        if !(0.0..1.0).contains(&split_min_share) {
            return Err("the split share must be at least 0 and below 1".into());
        }
        let (la, lb) = (self.layer(a)?, self.layer(b)?);
        let opts = OverlayOptions::default();
        let a_on_b = overlay(&la.geoms, &lb.geoms, &opts);
        let small_a = self.small_shares(&la, &opts);
        let small_b = self.small_shares(&lb, &opts);
        let pop: Vec<f64> = self
            .areas
            .iter()
            .map(|x| x.population.unwrap_or(0.0))
            .collect();
        let joint = self.joint_shares(&la, &lb, &small_a, &small_b);
        let result = coterminosity_joint(
            &a_on_b,
            &small_a,
            &small_b,
            &joint,
            &pop,
            &CoterminosityOptions { split_min_share },
        );
        Ok(CoterminosityStudy {
            a: la,
            b: lb,
            a_on_b,
            small_a,
            small_b,
            result,
        })
    }

    /// Propose units of whole areas nesting in the parent code column, as
    /// co-terminous as possible with the target layer, contiguous and within
    /// `tolerance` of the parent's mean unit weight (population, or referrals
    /// with `by_referrals`). `current` names the set the proposal would replace.
    pub fn design_study(
        &self,
        parent_column: &str,
        target: &str,
        current: Option<&str>,
        tolerance: f64,
        by_referrals: bool,
    ) -> Result<DesignStudy, String> {
        if !(tolerance.is_finite() && tolerance > 0.0 && tolerance < 1.0) {
            return Err("the tolerance is a share between 0 and 1 (0.1 = ±10 %)".into());
        }
        if !self.parent_columns.iter().any(|c| c == parent_column) {
            return Err(format!(
                "no parent column {parent_column:?}; parent columns are: {}",
                self.parent_columns.join(", ")
            ));
        }
        let lt = self.layer(target)?;
        let mut parents: Vec<String> = self
            .areas
            .iter()
            .map(|a| a.attribute_text(parent_column).unwrap_or_default())
            .collect();
        let mut codes = parents.clone();
        codes.sort();
        codes.dedup();
        let parent: Vec<u32> = parents
            .iter_mut()
            .map(|c| codes.binary_search(c).unwrap_or(0) as u32)
            .collect();
        let opts = OverlayOptions::default();
        let shares = self.small_shares(&lt, &opts);
        let geoms: Vec<&MultiPolygon<f64>> = self.areas.iter().map(|a| &a.geometry).collect();
        let adjacency = Adjacency::from_polygons(&geoms, Contiguity::Rook, 0.01);
        let pop: Vec<f64> = self
            .areas
            .iter()
            .map(|x| x.population.unwrap_or(0.0))
            .collect();
        let weights: Vec<f64> = if by_referrals {
            let mut w = vec![0.0; self.areas.len()];
            for r in &self.referrals.referrals {
                if let Some(a) = r.area {
                    w[a.index()] += 1.0;
                }
            }
            w
        } else {
            pop.clone()
        };
        let d = design(&DesignProblem {
            weights: &weights,
            adjacency: &adjacency,
            parent: &parent,
            target: &shares.best_fit,
            units_per_parent: UnitsPerParent::FromTarget,
            tolerance,
        });
        let polygons = dissolve_units(&geoms, &d);
        let member: Vec<Vec<(u32, f64)>> = d.unit_of_area.iter().map(|&u| vec![(u, 1.0)]).collect();
        let after = set_coterminosity(&member, &shares, &pop);
        let before = match current {
            None => None,
            Some(c) => {
                let lc = self.layer(c)?;
                let cur = self.small_shares(&lc, &opts);
                Some(set_coterminosity(&cur.shares, &shares, &pop))
            }
        };
        Ok(DesignStudy {
            parent_codes: d
                .units
                .iter()
                .map(|u| codes.get(u.parent as usize).cloned().unwrap_or_default())
                .collect(),
            labels: d
                .units
                .iter()
                .map(|u| u.label.map(|l| lt.codes[l as usize].clone()))
                .collect(),
            target_name: lt.name.clone(),
            design: d,
            polygons,
            before,
            after,
        })
    }
}

/// JSON of a co-terminosity study (population is public: census counts).
/// With `area_codes`, a best-fit lookup of every small area to both layers is included.
pub fn coterminosity_json(
    s: &CoterminosityStudy<'_>,
    area_codes: Option<&[String]>,
) -> serde_json::Value {
    use serde_json::json;
    let r = &s.result;
    let round = |v: f64, k: f64| (v * k).round() / k;
    let units =
        |layer: &Layer<'_>, other: &Layer<'_>, list: &[crate::analysis::boundaries::UnitIndex]| {
            list.iter()
                .map(|u| {
                    json!({
                        "code": layer.codes[u.unit as usize],
                        "name": layer.names[u.unit as usize],
                        "population": round(u.population, 10.0),
                        "area_km2": round(u.area_m2 / 1e6, 1e4),
                        "dominant": u.dominant.map(|d| other.codes[d as usize].clone()),
                        "index": round(u.index, 1e4),
                        "counterparts": u.counterparts,
                        "effective_counterparts": round(u.effective_counterparts, 1e3),
                    })
                })
                .collect::<Vec<_>>()
        };
    let splits: Vec<serde_json::Value> = r
        .splits
        .iter()
        .map(|x| {
            let (unit, other) = match x.side {
                crate::analysis::boundaries::Side::A => (&s.a.codes[x.unit as usize], &s.b.codes[x.counterpart as usize]),
                crate::analysis::boundaries::Side::B => (&s.b.codes[x.unit as usize], &s.a.codes[x.counterpart as usize]),
            };
            json!({
                "side": match x.side { crate::analysis::boundaries::Side::A => "a", crate::analysis::boundaries::Side::B => "b" },
                "unit": unit,
                "counterpart": other,
                "population": round(x.population, 10.0),
                "area_km2": round(x.area_m2 / 1e6, 1e4),
                "share": round(x.share, 1e4),
            })
        })
        .collect();
    let matrix: Vec<serde_json::Value> = r
        .cells
        .iter()
        .map(|c| {
            json!({
                "a": s.a.codes[c.a as usize],
                "b": s.b.codes[c.b as usize],
                "area_km2": round(c.area_m2 / 1e6, 1e4),
                "population": round(c.population, 10.0),
                "sliver": c.sliver,
            })
        })
        .collect();
    let mut v = json!({
        "a": s.a.name,
        "b": s.b.name,
        "fragmentation": round(r.fragmentation, 1e4),
        "fragmentation_a": round(r.fragmentation_a, 1e4),
        "fragmentation_b": round(r.fragmentation_b, 1e4),
        "units_a_split": r.split_units_a,
        "units_b_split": r.split_units_b,
        "slivers": r.slivers.len(),
        "population_outside_a": round(r.population_outside_a, 10.0),
        "population_outside_b": round(r.population_outside_b, 10.0),
        "geometry_problems": s.a_on_b.a_problems.len() + s.a_on_b.b_problems.len(),
        "overlay_fallbacks": s.a_on_b.failures.len(),
        "units_a": units(&s.a, &s.b, &r.units_a),
        "units_b": units(&s.b, &s.a, &r.units_b),
        "splits": splits,
        "matrix": matrix,
    });
    if let Some(codes) = area_codes {
        v["lookup"] = json!(s
            .small_a
            .best_fit
            .iter()
            .zip(&s.small_b.best_fit)
            .enumerate()
            .map(|(i, (fa, fb))| json!({
                "area_id": codes.get(i),
                "a": fa.map(|k| s.a.codes[k as usize].clone()),
                "b": fb.map(|k| s.b.codes[k as usize].clone()),
            }))
            .collect::<Vec<_>>());
    }
    v
}
