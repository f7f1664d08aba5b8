//! The public release of referral counts, protected as a whole.
//!
//! Every referral count the public can see (per area, per area and client
//! group, per area and period, per unit of every roll-up level, per SIMD
//! quintile, the region) is a cell of one [`CountRelease`], built once from
//! the exact counts and protected by [`super::sdc::protect`], so that no
//! combination of public outputs narrows a small count below the protection
//! width. Writers, routes and tiles read the public counts from here.
//!
//! Group breakdowns are published for the public only at geographies no
//! finer than the configured one (`[privacy] public_group_level`): a level
//! with more units than that level gets totals only.

use std::collections::BTreeMap;

use super::sdc::{protect, Cell, Shown, WITHHELD};
use super::{Count, Policy};
use crate::analysis::need::{period_label, NeedMap};
use crate::config::Period;
use crate::model::ReferralSet;

/// One roll-up level: each unit is a weighted list of areas `(area, weight)`.
#[derive(Clone, Debug)]
pub struct UnitTable {
    /// The level's name as outputs give it (`council_code`, `wards`, `simd_quintile`).
    pub level: String,
    pub units: Vec<Vec<(u32, f64)>>,
}

#[derive(Clone, Debug, Default)]
struct TableCells {
    total: Vec<u32>,
    /// `unit * groups + group`, empty where the level is too fine for groups.
    by_group: Vec<u32>,
}

/// The protected public counts.
#[derive(Clone, Debug)]
pub struct CountRelease {
    policy: Policy,
    n_groups: usize,
    n_periods: usize,
    atoms: Vec<u64>,
    cells: Vec<Cell>,
    shown: Vec<Shown>,
    area_total: Vec<u32>,
    area_group: Vec<u32>,
    area_period: Vec<u32>,
    tables: BTreeMap<String, TableCells>,
    /// Cells withheld by the audit.
    pub withheld: usize,
    /// Cells published in all.
    pub published: usize,
}

/// Settings of the release.
#[derive(Clone, Debug)]
pub struct ReleaseSpec {
    pub policy: Policy,
    /// No small count may be narrowed to fewer than this many values.
    pub width: u64,
    /// Group breakdowns only at levels with at most this many units.
    pub max_group_units: usize,
}

impl CountRelease {
    /// Build and protect the release. `need` gives the groups and periods,
    /// `period` its period length.
    pub fn build(
        n_areas: usize,
        referrals: &ReferralSet,
        need: &NeedMap,
        period: Period,
        tables: &[UnitTable],
        spec: &ReleaseSpec,
    ) -> CountRelease {
        let ng = need.groups.len();
        let np = need.periods.len();
        // A bucket for referrals without a group, and one for those without a
        // period, only where there are some: a reader may well know there are
        // none, and the audit must reason as well as that reader.
        let in_area = || referrals.referrals.iter().filter(|r| r.area.is_some());
        let no_group = in_area().any(|r| r.group.is_none_or(|g| g as usize >= ng));
        let pidx: BTreeMap<&str, usize> = need
            .periods
            .iter()
            .enumerate()
            .map(|(i, p)| (p.as_str(), i))
            .collect();
        let period_of = |r: &crate::model::Referral| {
            r.received
                .as_ref()
                .and_then(|t| pidx.get(period_label(t, period).as_str()).copied())
        };
        let no_period = in_area().any(|r| period_of(r).is_none());
        let (gb, pb) = (ng + usize::from(no_group), np + usize::from(no_period));
        let per_area = gb * pb;
        let mut atoms = vec![0u64; n_areas * per_area];
        for r in &referrals.referrals {
            let Some(a) = r.area else { continue };
            let g = r
                .group
                .map(|g| g as usize)
                .filter(|&g| g < ng)
                .unwrap_or(ng);
            let p = period_of(r).unwrap_or(np);
            atoms[a.index() * per_area + g * pb + p] += 1;
        }
        let atom = |a: usize, g: usize, p: usize| (a * per_area + g * pb + p) as u32;
        let mut cells: Vec<Cell> = Vec::new();
        let mut push = |c: Cell| {
            cells.push(c);
            (cells.len() - 1) as u32
        };
        let area_total: Vec<u32> = (0..n_areas)
            .map(|a| {
                push(Cell::count(
                    (0..per_area).map(|k| (a * per_area + k) as u32),
                ))
            })
            .collect();
        let groups_at_areas = n_areas <= spec.max_group_units;
        let mut area_group = Vec::new();
        if groups_at_areas {
            for a in 0..n_areas {
                for g in 0..ng {
                    area_group.push(push(Cell::count((0..pb).map(|p| atom(a, g, p)))));
                }
            }
        }
        let mut area_period = Vec::new();
        for a in 0..n_areas {
            for p in 0..np {
                area_period.push(push(Cell::count((0..gb).map(|g| atom(a, g, p)))));
            }
        }
        let mut out_tables = BTreeMap::new();
        for t in tables {
            let weighted = |unit: &Vec<(u32, f64)>, gs: &[usize]| Cell {
                terms: unit
                    .iter()
                    .filter(|&&(_, w)| w > 0.0)
                    .flat_map(|&(a, w)| {
                        gs.iter()
                            .flat_map(move |&g| (0..pb).map(move |p| (atom(a as usize, g, p), w)))
                    })
                    .collect(),
            };
            let all: Vec<usize> = (0..gb).collect();
            let mut tc = TableCells {
                total: t.units.iter().map(|u| push(weighted(u, &all))).collect(),
                by_group: Vec::new(),
            };
            if t.units.iter().filter(|u| !u.is_empty()).count() <= spec.max_group_units {
                for u in &t.units {
                    for g in 0..ng {
                        tc.by_group.push(push(weighted(u, &[g])));
                    }
                }
            }
            out_tables.insert(t.level.clone(), tc);
        }
        let done = protect(&atoms, &cells, &spec.policy, spec.width);
        CountRelease {
            policy: spec.policy,
            n_groups: ng,
            n_periods: np,
            published: cells.len(),
            atoms,
            cells,
            shown: done.shown,
            area_total,
            area_group,
            area_period,
            tables: out_tables,
            withheld: done.withheld,
        }
    }

    fn count(&self, cell: u32) -> Count {
        match self.shown[cell as usize] {
            Shown::Value(v) => Count::Value(v),
            Shown::Small => Count::Suppressed(format!("<{}", self.policy.threshold)),
            Shown::Withheld => Count::Suppressed(WITHHELD.into()),
        }
    }

    /// The policy the release was protected with.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// An area's referrals.
    pub fn area(&self, area: usize) -> Count {
        self.count(self.area_total[area])
    }

    /// An area's referrals in one group; `None` where groups are not published for areas.
    pub fn area_group(&self, area: usize, group: usize) -> Option<Count> {
        self.area_group
            .get(area * self.n_groups + group)
            .map(|&c| self.count(c))
    }

    /// An area's referrals in one period.
    pub fn area_period(&self, area: usize, period: usize) -> Option<Count> {
        self.area_period
            .get(area * self.n_periods + period)
            .map(|&c| self.count(c))
    }

    /// Whether areas have group breakdowns in the release.
    pub fn area_groups(&self) -> bool {
        !self.area_group.is_empty() || self.n_groups == 0
    }

    /// Whether a level has group breakdowns in the release.
    pub fn level_groups(&self, level: &str) -> bool {
        self.tables
            .get(level)
            .is_some_and(|t| !t.by_group.is_empty() || self.n_groups == 0)
    }

    /// Whether a level is in the release.
    pub fn has_level(&self, level: &str) -> bool {
        self.tables.contains_key(level)
    }

    /// A unit's referrals at a level (units in the order the table was given).
    pub fn unit(&self, level: &str, unit: usize) -> Option<Count> {
        let t = self.tables.get(level)?;
        t.total.get(unit).map(|&c| self.count(c))
    }

    /// A unit's referrals in one group; `None` where the level is too fine for groups.
    pub fn unit_group(&self, level: &str, unit: usize, group: usize) -> Option<Count> {
        let t = self.tables.get(level)?;
        t.by_group
            .get(unit * self.n_groups + group)
            .map(|&c| self.count(c))
    }

    /// Every cell as published, for audits: `(cell, shown)`.
    pub fn cells(&self) -> impl Iterator<Item = (&Cell, Shown)> {
        self.cells.iter().zip(self.shown.iter().copied())
    }

    /// The exact atoms (area x group x period counts), for audits in tests.
    pub fn atoms(&self) -> &[u64] {
        &self.atoms
    }
}
