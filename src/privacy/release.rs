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

use super::sdc::{protect, Cell, Shown};
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
    /// Each referral's atom (`None` outside every area).
    referral_atom: Vec<Option<u32>>,
    /// Period buckets per group (the last is "no period" where there is one).
    pb: usize,
    spec: ReleaseSpec,
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
        let mut referral_atom = Vec::with_capacity(referrals.referrals.len());
        for r in &referrals.referrals {
            let Some(a) = r.area else {
                referral_atom.push(None);
                continue;
            };
            let g = r
                .group
                .map(|g| g as usize)
                .filter(|&g| g < ng)
                .unwrap_or(ng);
            let p = period_of(r).unwrap_or(np);
            let k = a.index() * per_area + g * pb + p;
            atoms[k] += 1;
            referral_atom.push(Some(k as u32));
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
            referral_atom,
            pb,
            spec: spec.clone(),
            withheld: done.withheld,
        }
    }

    fn count(&self, cell: u32) -> Count {
        self.shown[cell as usize].count(&self.policy)
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

/// The public hours-gap counts of one kind of premises at the public
/// threshold, audited together with the [`CountRelease`] they sit beside:
/// the release's cells are fixed as already published, and only hours cells
/// may be withheld.
#[derive(Clone, Debug)]
pub struct HoursRelease {
    shown: Vec<Shown>,
    area_timed: Vec<u32>,
    area_unmet: Vec<u32>,
    premises_timed: Vec<u32>,
    premises_closed: Vec<u32>,
    total: [u32; 2],
    policy: Policy,
    /// Hours cells withheld by the audit.
    pub withheld: usize,
}

impl CountRelease {
    /// Audit the hours-gap counts: `flags[r]` is how referral `r` fared
    /// (`None` if untimed or outside), `catchment[i]` the nearest premises of
    /// area `i`, of `n_premises`. `possible[i]` has bit `2·unmet + closed`
    /// set for each outcome a reader cannot rule out for area `i` from public
    /// facts (which premises are in reach, which are never closed): a reader
    /// who knows an outcome is impossible knows its count is 0, and the audit
    /// must reason as well.
    pub fn hours(
        &self,
        flags: &[Option<crate::analysis::hours::ReferralHours>],
        catchment: &[Option<u32>],
        n_premises: usize,
        possible: &[u8],
    ) -> HoursRelease {
        // Each atom splits four ways: (unmet, nearest closed).
        let n = self.atoms.len();
        let mut atoms = vec![0u64; n * 4];
        // Untimed referrals (and atoms without any) keep flag 0.
        for (r, a) in self.referral_atom.iter().enumerate() {
            let Some(a) = a else { continue };
            let f = flags.get(r).copied().flatten();
            let bits = f.map_or(0, |f| {
                usize::from(f.unmet) * 2 + usize::from(f.nearest.is_some_and(|n| n.1))
            });
            atoms[*a as usize * 4 + bits] += 1;
        }
        let np = self.n_periods;
        let per_area = n / catchment.len().max(1);
        // Untimed atoms keep outcome 0 only; timed ones the possible outcomes.
        let allowed = |k: usize, b: usize| -> bool {
            if k % self.pb >= np {
                return b == 0;
            }
            let m = possible.get(k / per_area.max(1)).copied().unwrap_or(0b1111);
            m & (1 << b) != 0
        };
        let mut cells: Vec<Cell> = self
            .cells
            .iter()
            .map(|c| Cell {
                terms: c
                    .terms
                    .iter()
                    .flat_map(|&(a, w)| {
                        (0..4)
                            .filter(move |&b| allowed(a as usize, b))
                            .map(move |b| (a * 4 + b as u32, w))
                    })
                    .collect(),
            })
            .collect();
        let mut fixed: Vec<Option<Shown>> = self.shown.iter().map(|&s| Some(s)).collect();
        let timed = |k: usize| k % self.pb < np;
        let area_atoms = |i: usize| (i * per_area..(i + 1) * per_area).filter(move |&k| timed(k));
        let mut push = |c: Cell| {
            cells.push(c);
            fixed.push(None);
            (cells.len() - 1) as u32
        };
        let pick = |i: usize, want: &dyn Fn(usize) -> bool| -> Vec<u32> {
            area_atoms(i)
                .flat_map(|k| {
                    (0..4)
                        .filter(move |&b| want(b) && allowed(k, b))
                        .map(move |b| (k * 4 + b) as u32)
                })
                .collect()
        };
        let all = |_: usize| true;
        let unmet = |b: usize| b >= 2;
        let closed = |b: usize| b % 2 == 1;
        let n_areas = catchment.len();
        let area_timed: Vec<u32> = (0..n_areas)
            .map(|i| push(Cell::count(pick(i, &all))))
            .collect();
        let area_unmet: Vec<u32> = (0..n_areas)
            .map(|i| push(Cell::count(pick(i, &unmet))))
            .collect();
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); n_premises];
        for (i, c) in catchment.iter().enumerate() {
            if let Some(j) = c {
                members[*j as usize].push(i);
            }
        }
        let premises_timed: Vec<u32> = members
            .iter()
            .map(|m| push(Cell::count(m.iter().flat_map(|&i| pick(i, &all)))))
            .collect();
        let premises_closed: Vec<u32> = members
            .iter()
            .map(|m| push(Cell::count(m.iter().flat_map(|&i| pick(i, &closed)))))
            .collect();
        let total = [
            push(Cell::count((0..n_areas).flat_map(|i| pick(i, &all)))),
            push(Cell::count((0..n_areas).flat_map(|i| pick(i, &unmet)))),
        ];
        let done =
            super::sdc::protect_with(&atoms, &cells, &fixed, &self.spec.policy, self.spec.width);
        HoursRelease {
            shown: done.shown,
            area_timed,
            area_unmet,
            premises_timed,
            premises_closed,
            total,
            policy: self.spec.policy,
            withheld: done.withheld,
        }
    }
}

impl HoursRelease {
    fn count(&self, c: u32) -> Count {
        self.shown[c as usize].count(&self.policy)
    }

    /// An area's timed referrals and those no premises in reach was open for.
    pub fn area(&self, i: usize) -> (Count, Count) {
        (
            self.count(self.area_timed[i]),
            self.count(self.area_unmet[i]),
        )
    }

    /// A premises' catchment: timed referrals, and those that came while it was closed.
    pub fn premises(&self, j: usize) -> (Count, Count) {
        (
            self.count(self.premises_timed[j]),
            self.count(self.premises_closed[j]),
        )
    }

    /// The region: timed referrals, and those unmet.
    pub fn total(&self) -> (Count, Count) {
        (self.count(self.total[0]), self.count(self.total[1]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::hours::ReferralHours;
    use crate::model::{AreaId, Referral, ReferralId};
    use crate::privacy::sdc::WITHHELD;

    /// Two areas in one catchment: A has 11 timed referrals, all unmet, so
    /// "met = timed - unmet" is 0 and would show as 10 - 10 = 0..2; B has
    /// 30, 12 of them unmet.
    #[test]
    fn hours_counts_are_audited_against_the_area_counts() {
        let t = chrono::NaiveDate::from_ymd_opt(2024, 3, 5)
            .and_then(|d| d.and_hms_opt(20, 0, 0))
            .expect("time");
        let mut refs = Vec::new();
        let mut flags = Vec::new();
        for (area, n, unmet) in [(0u32, 11, 11), (1, 30, 12)] {
            for k in 0..n {
                refs.push(Referral {
                    id: ReferralId(refs.len() as u32),
                    x_m: 0.0,
                    y_m: 0.0,
                    received: Some(t),
                    group: None,
                    area: Some(AreaId(area)),
                    row: refs.len() + 2,
                });
                flags.push(Some(ReferralHours {
                    unmet: k < unmet,
                    nearest: Some((0, k < unmet)),
                }));
            }
        }
        let referrals = ReferralSet {
            referrals: refs,
            groups: Vec::new(),
        };
        let need = NeedMap {
            areas: Vec::new(),
            groups: Vec::new(),
            periods: vec!["2024".into()],
            outside: 0,
            untimed: 0,
        };
        let spec = ReleaseSpec {
            policy: Policy::default(),
            width: 5,
            max_group_units: 2,
        };
        let main = CountRelease::build(2, &referrals, &need, Period::Year, &[], &spec);
        assert_eq!(main.area(0), Count::Value(10.0));
        // One premises, in reach of both: met means it was open.
        let hours = main.hours(&flags, &[Some(0), Some(0)], 1, &[0b1001, 0b1001]);
        // Cell by cell A's unmet would be 10 (10..12) beside its total of 10
        // (10..12): its met referrals pinned to 0..2. The audit withholds it.
        let (timed_a, unmet_a) = hours.area(0);
        assert!(
            timed_a == Count::Suppressed(WITHHELD.into())
                || unmet_a == Count::Suppressed(WITHHELD.into()),
            "{timed_a:?} {unmet_a:?}"
        );
        assert!(hours.withheld > 0);
        // What a reader then knows leaves A's met count at least 5 values wide.
        let policy = Policy::default();
        let mut cells: Vec<Cell> = Vec::new();
        let mut shown: Vec<Shown> = Vec::new();
        let atom4 = |area: u32, unmet: bool| area * 4 + if unmet { 3 } else { 0 };
        // Atoms here: per area, met (0) and unmet (3) only.
        for (area, c) in [(0u32, main.area(0)), (1, main.area(1))] {
            cells.push(Cell::count([atom4(area, false), atom4(area, true)]));
            shown.push(to_shown(&c));
        }
        for (area, (tc, uc)) in [(0u32, hours.area(0)), (1, hours.area(1))] {
            cells.push(Cell::count([atom4(area, false), atom4(area, true)]));
            shown.push(to_shown(&tc));
            cells.push(Cell::count([atom4(area, true)]));
            shown.push(to_shown(&uc));
        }
        let (pt, pc) = hours.premises(0);
        let all = [
            atom4(0, false),
            atom4(0, true),
            atom4(1, false),
            atom4(1, true),
        ];
        cells.push(Cell::count(all));
        shown.push(to_shown(&pt));
        cells.push(Cell::count([atom4(0, true), atom4(1, true)]));
        shown.push(to_shown(&pc));
        let facts = super::super::sdc::knowledge(&cells, &shown, &policy);
        let b = super::super::sdc::propagate(8, &facts).expect("consistent");
        let met_a = b[atom4(0, false) as usize];
        assert!(met_a.1 - met_a.0 + 1.0 >= 5.0, "{met_a:?}");
        // And cell by cell it would have been narrowed.
        let naive: Vec<Shown> = [11.0, 30.0, 11.0, 11.0, 30.0, 12.0, 41.0, 23.0]
            .iter()
            .map(|&n| to_shown(&policy.count(n, super::super::Role::Public)))
            .collect();
        let facts = super::super::sdc::knowledge(&cells, &naive, &policy);
        let b = super::super::sdc::propagate(8, &facts).expect("consistent");
        let met_a = b[atom4(0, false) as usize];
        assert!(met_a.1 - met_a.0 + 1.0 < 5.0, "{met_a:?}");
    }

    fn to_shown(c: &Count) -> Shown {
        match c {
            Count::Value(v) => Shown::Value(*v),
            Count::Suppressed(s) if s == WITHHELD => Shown::Withheld,
            Count::Suppressed(_) => Shown::Small,
        }
    }
}
