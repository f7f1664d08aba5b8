//! Co-terminosity of two boundary sets A and B, with population from the
//! small areas.
//!
//! **Small-area shares** ([`SmallAreaShares::from_overlay`], from the overlay
//! of the small areas on a set): each small area's share in each unit is its
//! piece area over the area of its non-sliver pieces (slivers are dropped and
//! the rest renormalised, so a small area's population is conserved where it
//! meets the set; when every piece is a sliver, all pieces are used). The
//! **best-fit** unit of a small area is the unit holding the largest piece of
//! it (ties: the lowest unit index); `best_fit_share` is that piece over the
//! whole area of the small area.
//!
//! **Population of a cell** `A_i ∩ B_j`: population is taken as even within a
//! small area, so `pop(i, j) = Σ_d pop_d · s_dA(i) · s_dB(j)`. This is exact
//! when `d` lies wholly in one unit of A or of B (its usual place: small areas
//! are the building blocks of both); where `d` is split by both sets the
//! product stands in for the triple intersection, and such areas are counted
//! in [`Coterminosity::areas_split_by_both`]. Surfaces come from the direct
//! overlay of A on B and are exact.
//!
//! **Co-terminosity index** of a unit: the share of its population inside its
//! dominant counterpart (the counterpart holding most of it); by surface when
//! the unit has no population. 1 means the unit lies within one counterpart.
//!
//! **Splits**: for each unit, every counterpart other than the dominant one
//! that holds at least `split_min_share` of the unit (population share, or
//! surface share without population) and whose surface cell is not a sliver.
//!
//! **Fragmentation score** of the pair: for each side, the population-weighted
//! mean of `1 − index` over its units, `F_A = 1 − Σ_i P_i·c_i / Σ_i P_i` (the
//! share of people living outside the dominant counterpart of their unit of
//! A), and likewise `F_B`; the pair's score is `F = min(F_A, F_B)`. It is 0
//! when the sets are co-terminous *or when either nests in the other* (a
//! coarse set made of whole fine units is aligned, even though each coarse
//! unit's own index is low), and grows towards 1 as units scatter. Each unit
//! also carries its effective number of
//! counterparts, `1 / Σ_k s_k²` over its population shares.

use std::collections::BTreeMap;

use super::overlay::Overlay;

/// The shares of each small area in the units of one set.
#[derive(Clone, Debug, PartialEq)]
pub struct SmallAreaShares {
    /// Per small area: `(unit, share)` sorted by unit, shares summing to 1
    /// (empty when the area meets no unit).
    pub shares: Vec<Vec<(u32, f64)>>,
    /// Per small area: the unit holding its largest piece.
    pub best_fit: Vec<Option<u32>>,
    /// Per small area: the best-fit piece over the small area's whole surface.
    pub best_fit_share: Vec<f64>,
    /// Per small area: surface covered by the set over its whole surface.
    pub covered_share: Vec<f64>,
}

impl SmallAreaShares {
    /// From the overlay of the small areas (layer A) on a set (layer B).
    pub fn from_overlay(small_on_set: &Overlay) -> SmallAreaShares {
        let n = small_on_set.a_area_m2.len();
        let mut out = SmallAreaShares {
            shares: Vec::with_capacity(n),
            best_fit: Vec::with_capacity(n),
            best_fit_share: Vec::with_capacity(n),
            covered_share: Vec::with_capacity(n),
        };
        for d in 0..n {
            let pieces = small_on_set.pieces_of(d);
            let total = small_on_set.a_area_m2[d];
            let solid: Vec<_> = pieces.iter().filter(|p| !p.sliver).collect();
            let used: Vec<_> = if solid.is_empty() {
                pieces.iter().collect()
            } else {
                solid
            };
            let sum: f64 = used.iter().map(|p| p.area_m2).sum();
            out.shares.push(if sum > 0.0 {
                used.iter().map(|p| (p.b, p.area_m2 / sum)).collect()
            } else {
                Vec::new()
            });
            let best = pieces.iter().fold(None::<(u32, f64)>, |acc, p| match acc {
                Some((_, a)) if a >= p.area_m2 => acc,
                _ => Some((p.b, p.area_m2)),
            });
            out.best_fit.push(best.map(|b| b.0));
            let share = |x: f64| if total > 0.0 { x / total } else { 0.0 };
            out.best_fit_share.push(best.map_or(0.0, |b| share(b.1)));
            out.covered_share
                .push(share(pieces.iter().map(|p| p.area_m2).sum()));
        }
        out
    }

    /// The small areas as a set of their own: each wholly in itself.
    pub fn identity(n: usize) -> SmallAreaShares {
        SmallAreaShares {
            shares: (0..n as u32).map(|d| vec![(d, 1.0)]).collect(),
            best_fit: (0..n as u32).map(Some).collect(),
            best_fit_share: vec![1.0; n],
            covered_share: vec![1.0; n],
        }
    }

    /// Number of small areas.
    pub fn len(&self) -> usize {
        self.shares.len()
    }

    /// True when there are no small areas.
    pub fn is_empty(&self) -> bool {
        self.shares.is_empty()
    }

    /// Number of small areas with non-sliver pieces in more than one unit.
    pub fn split_areas(&self) -> usize {
        self.shares.iter().filter(|s| s.len() > 1).count()
    }
}

/// Settings of the analysis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CoterminosityOptions {
    /// A counterpart holding at least this share of a unit (population, or
    /// surface when the unit has none) counts as a split, unless its surface is a sliver.
    pub split_min_share: f64,
}

impl Default for CoterminosityOptions {
    /// 1 %.
    fn default() -> Self {
        CoterminosityOptions {
            split_min_share: 0.01,
        }
    }
}

/// Which set a unit belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    A,
    B,
}

/// One cell of the intersection matrix.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cell {
    pub a: u32,
    pub b: u32,
    /// Surface of `A_a ∩ B_b` (0 when only population links them).
    pub area_m2: f64,
    /// Population apportioned to the cell from the small areas.
    pub population: f64,
    /// The surface piece is a sliver (or there is none).
    pub sliver: bool,
}

/// Co-terminosity of one unit with the other set.
#[derive(Clone, Debug, PartialEq)]
pub struct UnitIndex {
    pub unit: u32,
    pub population: f64,
    pub area_m2: f64,
    /// The counterpart holding most of the unit (population, else surface).
    pub dominant: Option<u32>,
    /// Share of the unit inside its dominant counterpart (0..=1).
    pub index: f64,
    /// Counterparts holding at least the split share (non-sliver), dominant included.
    pub counterparts: usize,
    /// `1 / Σ s²` over the unit's shares in its counterparts.
    pub effective_counterparts: f64,
    /// Population of the unit in no counterpart.
    pub population_outside: f64,
}

/// A counterpart holding a share of a unit above the split tolerance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Split {
    pub side: Side,
    /// The unit that is split.
    pub unit: u32,
    /// The (non-dominant) counterpart holding part of it.
    pub counterpart: u32,
    pub population: f64,
    pub area_m2: f64,
    /// Share of the unit (population, or surface without population).
    pub share: f64,
}

/// The co-terminosity analysis of a pair of sets.
#[derive(Clone, Debug, PartialEq)]
pub struct Coterminosity {
    /// Non-empty cells (surface or population), sorted by `(a, b)`.
    pub cells: Vec<Cell>,
    pub units_a: Vec<UnitIndex>,
    pub units_b: Vec<UnitIndex>,
    /// Splits, sorted by side, unit, then counterpart.
    pub splits: Vec<Split>,
    /// Cells whose surface is a sliver, with population (reported, not counted as splits).
    pub slivers: Vec<Cell>,
    /// Units of A with at least one split.
    pub split_units_a: usize,
    /// Units of B with at least one split.
    pub split_units_b: usize,
    /// The pair's fragmentation score `min(F_A, F_B)` (see the module docs).
    pub fragmentation: f64,
    /// `F_A`: share of A's population outside the dominant counterpart of its unit.
    pub fragmentation_a: f64,
    /// `F_B`: likewise for B.
    pub fragmentation_b: f64,
    /// Population of small areas that meet no unit of A / of B.
    pub population_outside_a: f64,
    pub population_outside_b: f64,
    /// Small areas split by both sets (population apportioned by the product of shares).
    pub areas_split_by_both: usize,
}

fn unit_indexes(
    n: usize,
    side: Side,
    cells: &[Cell],
    unit_pop: &[f64],
    unit_area: &[f64],
    opts: &CoterminosityOptions,
    splits: &mut Vec<Split>,
) -> Vec<UnitIndex> {
    let mut by_unit: Vec<Vec<&Cell>> = vec![Vec::new(); n];
    for c in cells {
        let u = match side {
            Side::A => c.a,
            Side::B => c.b,
        };
        by_unit[u as usize].push(c);
    }
    let mut out = Vec::with_capacity(n);
    for (u, cs) in by_unit.iter().enumerate() {
        let pop = unit_pop[u];
        let area = unit_area[u];
        let by_pop = pop > 0.0;
        let share = |c: &Cell| {
            if by_pop {
                c.population / pop
            } else if area > 0.0 {
                c.area_m2 / area
            } else {
                0.0
            }
        };
        let other = |c: &Cell| match side {
            Side::A => c.b,
            Side::B => c.a,
        };
        let dominant = cs.iter().fold(None::<(&Cell, f64)>, |acc, c| {
            let s = share(c);
            match acc {
                Some((_, best)) if best >= s => acc,
                _ => Some((c, s)),
            }
        });
        let sum_sq: f64 = cs.iter().map(|c| share(c).powi(2)).sum();
        let mut counterparts = 0;
        for c in cs {
            let s = share(c);
            if c.sliver || s < opts.split_min_share || s <= 0.0 {
                continue;
            }
            counterparts += 1;
            if dominant.is_some_and(|(d, _)| other(d) == other(c)) {
                continue;
            }
            splits.push(Split {
                side,
                unit: u as u32,
                counterpart: other(c),
                population: c.population,
                area_m2: c.area_m2,
                share: s,
            });
        }
        let inside: f64 = cs.iter().map(|c| c.population).sum();
        out.push(UnitIndex {
            unit: u as u32,
            population: pop,
            area_m2: area,
            dominant: dominant.map(|(c, _)| other(c)),
            index: dominant.map_or(0.0, |(_, s)| s),
            counterparts,
            effective_counterparts: if sum_sq > 0.0 { 1.0 / sum_sq } else { 0.0 },
            population_outside: (pop - inside).max(0.0),
        });
    }
    out
}

/// Co-terminosity of sets A and B.
///
/// - `a_on_b`: the overlay of A on B (surfaces);
/// - `small_a`, `small_b`: the shares of the small areas in A and in B (use
///   [`SmallAreaShares::identity`] for the small areas themselves as a set);
/// - `population`: per small area.
pub fn coterminosity(
    a_on_b: &Overlay,
    small_a: &SmallAreaShares,
    small_b: &SmallAreaShares,
    population: &[f64],
    opts: &CoterminosityOptions,
) -> Coterminosity {
    coterminosity_joint(a_on_b, small_a, small_b, &[], population, opts)
}

/// As [`coterminosity`], with the joint shares of small areas split by both
/// sets given where known: `joint[d]` = `(a, b, share)` of small area `d` in
/// `A_a ∩ B_b` (from the areas of the triple intersections), used instead of
/// the product of its two shares. Areas without an entry (or an empty one)
/// fall back to the product.
pub fn coterminosity_joint(
    a_on_b: &Overlay,
    small_a: &SmallAreaShares,
    small_b: &SmallAreaShares,
    joint: &[Vec<(u32, u32, f64)>],
    population: &[f64],
    opts: &CoterminosityOptions,
) -> Coterminosity {
    let (na, nb) = (a_on_b.a_area_m2.len(), a_on_b.b_area_m2.len());
    let mut cells: BTreeMap<(u32, u32), Cell> = BTreeMap::new();
    for p in &a_on_b.pieces {
        cells.insert(
            (p.a, p.b),
            Cell {
                a: p.a,
                b: p.b,
                area_m2: p.area_m2,
                population: 0.0,
                sliver: p.sliver,
            },
        );
    }
    let mut pop_a = vec![0.0; na];
    let mut pop_b = vec![0.0; nb];
    let (mut outside_a, mut outside_b) = (0.0, 0.0);
    let mut both = 0;
    for (d, &pop) in population.iter().enumerate().take(small_a.len()) {
        let (sa, sb) = (&small_a.shares[d], &small_b.shares[d]);
        if sa.len() > 1 && sb.len() > 1 {
            both += 1;
        }
        if sa.is_empty() {
            outside_a += pop;
        }
        if sb.is_empty() {
            outside_b += pop;
        }
        for &(i, s) in sa {
            pop_a[i as usize] += pop * s;
        }
        for &(j, s) in sb {
            pop_b[j as usize] += pop * s;
        }
        let mut add = |i: u32, j: u32, share: f64| {
            let c = cells.entry((i, j)).or_insert(Cell {
                a: i,
                b: j,
                area_m2: 0.0,
                population: 0.0,
                sliver: true,
            });
            c.population += pop * share;
        };
        match joint.get(d).filter(|x| !x.is_empty()) {
            Some(list) => {
                for &(i, j, share) in list {
                    add(i, j, share);
                }
            }
            None => {
                for &(i, s) in sa {
                    for &(j, t) in sb {
                        add(i, j, s * t);
                    }
                }
            }
        }
    }
    let cells: Vec<Cell> = cells.into_values().collect();
    let mut splits = Vec::new();
    let units_a = unit_indexes(
        na,
        Side::A,
        &cells,
        &pop_a,
        &a_on_b.a_area_m2,
        opts,
        &mut splits,
    );
    let units_b = unit_indexes(
        nb,
        Side::B,
        &cells,
        &pop_b,
        &a_on_b.b_area_m2,
        opts,
        &mut splits,
    );
    splits.sort_by_key(|s| (s.side, s.unit, s.counterpart));
    let split_units = |side: Side| {
        let mut u: Vec<u32> = splits
            .iter()
            .filter(|s| s.side == side)
            .map(|s| s.unit)
            .collect();
        u.dedup();
        u.len()
    };
    let weighted = |us: &[UnitIndex]| -> (f64, f64) {
        us.iter().fold((0.0, 0.0), |(w, s), u| {
            (w + u.population, s + u.population * u.index)
        })
    };
    let (wa, sa) = weighted(&units_a);
    let (wb, sb) = weighted(&units_b);
    let frag = |w: f64, s: f64| if w > 0.0 { 1.0 - s / w } else { 0.0 };
    let (fragmentation_a, fragmentation_b) = (frag(wa, sa), frag(wb, sb));
    Coterminosity {
        slivers: cells
            .iter()
            .filter(|c| c.sliver && c.area_m2 > 0.0)
            .copied()
            .collect(),
        split_units_a: split_units(Side::A),
        split_units_b: split_units(Side::B),
        cells,
        units_a,
        units_b,
        splits,
        fragmentation: fragmentation_a.min(fragmentation_b),
        fragmentation_a,
        fragmentation_b,
        population_outside_a: outside_a,
        population_outside_b: outside_b,
        areas_split_by_both: both,
    }
}
