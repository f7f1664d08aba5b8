//! Secondary suppression by audit: protection against differencing.
//!
//! Rounding and primary suppression protect each published count on its
//! own, but published counts are related: an area and its parent, a total
//! and its groups, an area and its periods, a quintile and the areas in it,
//! a boundary unit apportioned from the areas it overlaps. Subtracting
//! related counts (differencing) can narrow a suppressed count, and with
//! several relations at once can pin it exactly: for example a cell shown
//! `<10` whose parent is `15` (so 13–17) and whose one sibling is `15` lies
//! in 0–4; a second relation giving "at least 4" recovers it.
//!
//! The release is described as a linear system. The unknowns are *atoms*:
//! the finest counts of people (for referral counts, one area × client group
//! × period). Every published *cell* is a known weighted sum of atoms (weight
//! 1 for counts; apportioning shares for boundary sets). What the public
//! learns from a cell is an interval for its sum: a value `r` rounded to the
//! nearest `b` means `r − b/2 … r + b/2`, `<10` means `0 … 9`, a withheld
//! cell means nothing.
//!
//! [`protect`] plays the attacker before publishing. It runs *bounds
//! propagation* over all the cells (for each cell and each atom in it, the
//! atom's bounds follow from the cell's interval minus the other atoms'
//! bounds; repeated to a fixed point, with atoms whole and non-negative),
//! the differencing an analyst would do with a spreadsheet, taken to its
//! limit. Every count below the threshold (every small cell and every small
//! atom, published or not) must keep at least `width` possible values;
//! where one does not, a related published cell is withheld (shown as
//! [`WITHHELD`]): the smallest sibling within the smallest published cell
//! containing it, else that containing cell itself. The audit repeats until
//! no small count is exposed. This is the auditing approach to cell
//! suppression (Hundepool et al., *Statistical Disclosure Control*, 2012,
//! ch. 4 and 5); it is greedy, so it may withhold more than an optimal
//! pattern would, never less than the audit needs.

use super::Policy;

/// How a withheld (secondarily suppressed) count is shown.
pub const WITHHELD: &str = "[c]";

/// What a cell publishes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shown {
    /// Rounded value.
    Value(f64),
    /// Below the threshold (`<10`).
    Small,
    /// Withheld to protect a small count elsewhere.
    Withheld,
}

impl Shown {
    /// As a published count: the value, `<threshold`, or [`WITHHELD`].
    pub fn count(self, policy: &Policy) -> super::Count {
        match self {
            Shown::Value(v) => super::Count::Value(v),
            Shown::Small => super::Count::Suppressed(format!("<{}", policy.threshold)),
            Shown::Withheld => super::Count::Suppressed(WITHHELD.into()),
        }
    }
}

/// One published cell: the weighted sum of some atoms.
#[derive(Clone, Debug, Default)]
pub struct Cell {
    /// `(atom, weight)` with weight > 0. Weight 1 throughout makes a count of people.
    pub terms: Vec<(u32, f64)>,
}

impl Cell {
    /// A plain count: the sum of these atoms.
    pub fn count(atoms: impl IntoIterator<Item = u32>) -> Cell {
        Cell {
            terms: atoms.into_iter().map(|a| (a, 1.0)).collect(),
        }
    }

    fn is_count(&self) -> bool {
        self.terms.iter().all(|&(_, w)| w == 1.0)
    }

    fn exact(&self, atoms: &[u64]) -> f64 {
        self.terms
            .iter()
            .map(|&(a, w)| w * atoms[a as usize] as f64)
            .sum()
    }
}

/// The result of [`protect`].
#[derive(Clone, Debug)]
pub struct Protected {
    /// One per cell, in order.
    pub shown: Vec<Shown>,
    /// Cells withheld by the audit.
    pub withheld: usize,
    /// Audit rounds run.
    pub rounds: usize,
}

/// What a public reader knows about one cell's sum.
pub fn interval(shown: Shown, policy: &Policy, count: bool) -> (f64, f64) {
    let half = policy.rounding.max(1) as f64 / 2.0;
    let t = policy.threshold as f64;
    match shown {
        // A whole count rounds from whole numbers only; the smallest shown values are at least t.
        Shown::Value(r) if count => ((r - half).ceil().max(t), (r + half - 1e-9).floor()),
        Shown::Value(r) => ((r - half).max(t - 0.5), r + half),
        Shown::Small if count => (0.0, t - 1.0),
        Shown::Small => (0.0, t - 0.5),
        Shown::Withheld => (0.0, f64::INFINITY),
    }
}

/// The first publication: rounding and primary suppression, cell by cell.
pub fn primary(atoms: &[u64], cells: &[Cell], policy: &Policy) -> Vec<Shown> {
    cells
        .iter()
        .map(
            |c| match policy.count(c.exact(atoms), super::Role::Public) {
                super::Count::Value(v) => Shown::Value(v),
                super::Count::Suppressed(_) => Shown::Small,
            },
        )
        .collect()
}

/// A linear fact a reader holds: `lo <= sum of weight x atom <= hi`.
#[derive(Clone, Debug)]
pub struct Constraint {
    pub terms: Vec<(u32, f64)>,
    pub lo: f64,
    pub hi: f64,
}

/// Cells larger than this (in atoms) are not differenced pairwise (their
/// relations still take part in the propagation).
const MAX_DIFFERENCED: usize = 4096;

/// What a reader knows: each published cell's interval, plus the
/// differences of each count with the published counts inside it. For a
/// cell `F` and a family of disjoint published cells `G1 … Gk` inside it
/// (grown greedily, largest first, from each `Gi` in turn so that several
/// breakdowns of `F`, by group and by period, are each tried), the count of
/// `Gi` plus the rest of `F` lies in `F − Σ(j≠i) Gj`, and the rest alone in
/// `F − Σ Gj`. This is differencing
/// as an analyst does it (a parent less its other children, a total less
/// its other periods), which propagation atom by atom alone would miss.
pub fn knowledge(cells: &[Cell], shown: &[Shown], policy: &Policy) -> Vec<Constraint> {
    let limits: Vec<(f64, f64)> = cells
        .iter()
        .zip(shown)
        .map(|(c, &s)| interval(s, policy, c.is_count()))
        .collect();
    let mut out: Vec<Constraint> = cells
        .iter()
        .zip(&limits)
        .filter(|(c, l)| l.1.is_finite() && !c.terms.is_empty())
        .map(|(c, l)| Constraint {
            terms: c.terms.clone(),
            lo: l.0,
            hi: l.1,
        })
        .collect();
    let n_atoms = cells
        .iter()
        .flat_map(|c| c.terms.iter().map(|t| t.0 as usize + 1))
        .max()
        .unwrap_or(0);
    let mut holders: Vec<Vec<u32>> = vec![Vec::new(); n_atoms];
    let known =
        |i: usize| cells[i].is_count() && limits[i].1.is_finite() && !cells[i].terms.is_empty();
    for (i, c) in cells.iter().enumerate() {
        if known(i) {
            for &(a, _) in &c.terms {
                holders[a as usize].push(i as u32);
            }
        }
    }
    let mut inside = vec![u32::MAX; n_atoms];
    let mut used = vec![u32::MAX; n_atoms];
    let mut stamp = 0u32;
    let mut derived: std::collections::HashMap<Vec<u32>, (f64, f64)> = Default::default();
    for f in 0..cells.len() {
        let fc = &cells[f];
        if !known(f) || fc.terms.len() > MAX_DIFFERENCED {
            continue;
        }
        stamp += 1;
        for &(a, _) in &fc.terms {
            inside[a as usize] = stamp;
        }
        // Published counts strictly inside F (each candidate checked once).
        let mut subs: Vec<u32> = fc
            .terms
            .iter()
            .flat_map(|&(a, _)| holders[a as usize].iter().copied())
            .filter(|&g| g as usize != f && cells[g as usize].terms.len() < fc.terms.len())
            .collect();
        subs.sort_unstable();
        subs.dedup();
        subs.retain(|&g| {
            cells[g as usize]
                .terms
                .iter()
                .all(|t| inside[t.0 as usize] == stamp)
        });
        subs.sort_by_key(|&g| (std::cmp::Reverse(cells[g as usize].terms.len()), g));
        // One family per seed not already in an earlier family: a breakdown
        // by group and one by period, say, not thirty copies of the first.
        let mut in_family: Vec<u32> = Vec::new();
        for seed in subs.iter().take(64) {
            if in_family.contains(seed) {
                continue;
            }
            stamp += 1;
            let mut family: Vec<u32> = Vec::new();
            for &g in std::iter::once(seed).chain(subs.iter()) {
                let gt = &cells[g as usize].terms;
                if gt.iter().any(|t| used[t.0 as usize] == stamp) {
                    continue;
                }
                for t in gt {
                    used[t.0 as usize] = stamp;
                }
                family.push(g);
            }
            in_family.extend(&family);
            let rest: Vec<u32> = fc
                .terms
                .iter()
                .map(|t| t.0)
                .filter(|&a| used[a as usize] != stamp)
                .collect();
            let (sum_lo, sum_hi): (f64, f64) = family
                .iter()
                .map(|&g| limits[g as usize])
                .fold((0.0, 0.0), |s, l| (s.0 + l.0, s.1 + l.1));
            // The rest of F beyond the family: F less all of them.
            if !rest.is_empty() && rest.len() <= MAX_DIFFERENCED {
                let mut key = rest.clone();
                key.sort_unstable();
                let e = derived.entry(key).or_insert((0.0, f64::INFINITY));
                *e = (
                    e.0.max((limits[f].0 - sum_hi).max(0.0)),
                    e.1.min(limits[f].1 - sum_lo),
                );
            }
            for &g in &family {
                let (gl, gh) = limits[g as usize];
                let lo = (limits[f].0 - (sum_hi - gh)).max(0.0);
                let hi = limits[f].1 - (sum_lo - gl);
                let mut key: Vec<u32> = cells[g as usize].terms.iter().map(|t| t.0).collect();
                key.extend(&rest);
                if key.len() > MAX_DIFFERENCED {
                    continue;
                }
                key.sort_unstable();
                let e = derived.entry(key).or_insert((0.0, f64::INFINITY));
                *e = (e.0.max(lo), e.1.min(hi));
            }
        }
    }
    out.extend(derived.into_iter().map(|(k, (lo, hi))| Constraint {
        terms: k.into_iter().map(|a| (a, 1.0)).collect(),
        lo,
        hi,
    }));
    out
}

/// Bounds propagation: the tightest atom intervals a reader can derive from
/// what they know by repeated differencing. Atoms are whole and at least 0.
/// Returns `None` if the facts contradict each other (never for a real
/// publication).
pub fn propagate(n_atoms: usize, facts: &[Constraint]) -> Option<Vec<(f64, f64)>> {
    let mut b = vec![(0.0f64, f64::INFINITY); n_atoms];
    for _sweep in 0..500 {
        let mut changed = false;
        for fact in facts {
            let (lo_c, hi_c) = (fact.lo, fact.hi);
            let terms = &fact.terms;
            let mut sum_lo = 0.0;
            let (mut sum_hi, mut inf_hi) = (0.0, 0usize);
            for &(a, w) in terms {
                let (l, h) = b[a as usize];
                sum_lo += w * l;
                if h.is_finite() {
                    sum_hi += w * h;
                } else {
                    inf_hi += 1;
                }
            }
            if sum_lo > hi_c + 1e-6 || (inf_hi == 0 && sum_hi < lo_c - 1e-6) {
                return None;
            }
            for &(a, w) in terms {
                let (l, h) = b[a as usize];
                // Upper: the fact's most, less everything else's least.
                let others_lo = sum_lo - w * l;
                let new_h = ((hi_c - others_lo) / w + 1e-7).floor();
                // Lower: the fact's least, less everything else's most.
                let others_inf = inf_hi - usize::from(!h.is_finite());
                let new_l = if others_inf == 0 {
                    let others_hi = sum_hi - if h.is_finite() { w * h } else { 0.0 };
                    ((lo_c - others_hi) / w - 1e-7).ceil().max(0.0)
                } else {
                    0.0
                };
                let (nl, nh) = (l.max(new_l), h.min(new_h));
                if nl > nh {
                    return None;
                }
                if nl != l || nh != h {
                    b[a as usize] = (nl, nh);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    Some(b)
}

/// The interval a reader can derive for a whole cell: its own interval
/// intersected with the sum of its atoms' intervals.
pub fn cell_interval(
    cell: &Cell,
    shown: Shown,
    bounds: &[(f64, f64)],
    policy: &Policy,
) -> (f64, f64) {
    let (mut lo, mut hi) = interval(shown, policy, cell.is_count());
    let (mut s_lo, mut s_hi) = (0.0, 0.0);
    for &(a, w) in &cell.terms {
        s_lo += w * bounds[a as usize].0;
        s_hi += w * bounds[a as usize].1;
    }
    lo = lo.max(s_lo);
    hi = hi.min(s_hi);
    (lo, hi)
}

/// Whole values in `lo ..= hi`.
fn values(lo: f64, hi: f64) -> f64 {
    if hi.is_finite() {
        (hi - lo + 1.0).max(0.0)
    } else {
        f64::INFINITY
    }
}

/// Small counts a reader can narrow to fewer than `width` values: cells
/// (`Err(cell)`) and atoms (`Ok(atom)`).
pub fn exposed(
    atoms: &[u64],
    cells: &[Cell],
    shown: &[Shown],
    policy: &Policy,
    width: u64,
) -> Vec<Result<u32, u32>> {
    let facts = knowledge(cells, shown, policy);
    let Some(b) = propagate(atoms.len(), &facts) else {
        return Vec::new();
    };
    // Facts about exactly the atoms of a cell narrow that cell directly.
    let mut by_set: std::collections::HashMap<Vec<u32>, (f64, f64)> = Default::default();
    for f in &facts {
        if f.terms.iter().all(|t| t.1 == 1.0) {
            let mut k: Vec<u32> = f.terms.iter().map(|t| t.0).collect();
            k.sort_unstable();
            let e = by_set.entry(k).or_insert((0.0, f64::INFINITY));
            *e = (e.0.max(f.lo), e.1.min(f.hi));
        }
    }
    let w = width as f64;
    let small = policy.threshold;
    let mut out: Vec<Result<u32, u32>> = atoms
        .iter()
        .enumerate()
        .filter(|&(a, &n)| n < small && values(b[a].0, b[a].1) < w)
        .map(|(a, _)| Ok(a as u32))
        .collect();
    for (i, c) in cells.iter().enumerate() {
        if !c.is_count() || c.terms.is_empty() || c.exact(atoms) >= small as f64 {
            continue;
        }
        let (mut lo, mut hi) = cell_interval(c, shown[i], &b, policy);
        let mut k: Vec<u32> = c.terms.iter().map(|t| t.0).collect();
        k.sort_unstable();
        if let Some(&(l, h)) = by_set.get(&k) {
            lo = lo.max(l.ceil());
            hi = hi.min(h.floor());
        }
        if values(lo, hi) < w {
            out.push(Err(i as u32));
        }
    }
    out
}

/// Publish `cells` over `atoms` so that no count below the threshold can be
/// narrowed to fewer than `width` values by differencing (see the module
/// documentation).
pub fn protect(atoms: &[u64], cells: &[Cell], policy: &Policy, width: u64) -> Protected {
    protect_with(atoms, cells, &vec![None; cells.len()], policy, width)
}

/// As [`protect`], where the cells with `fixed[i]` set are already published
/// as given (by an earlier release): they are what the reader knows, and
/// only the other cells may be withheld.
pub fn protect_with(
    atoms: &[u64],
    cells: &[Cell],
    fixed: &[Option<Shown>],
    policy: &Policy,
    width: u64,
) -> Protected {
    let mut shown = primary(atoms, cells, policy);
    for (s, f) in shown.iter_mut().zip(fixed) {
        if let Some(f) = f {
            *s = *f;
        }
    }
    let free = |c: u32| fixed[c as usize].is_none();
    // Which cells hold each atom, and each cell's atoms as a sorted list.
    let mut holders: Vec<Vec<u32>> = vec![Vec::new(); atoms.len()];
    for (i, c) in cells.iter().enumerate() {
        for &(a, _) in &c.terms {
            holders[a as usize].push(i as u32);
        }
    }
    let mut withheld = 0;
    let mut rounds = 0;
    let mut mark = vec![u32::MAX; atoms.len()];
    let mut stamp: u32 = 0;
    loop {
        rounds += 1;
        let hits = exposed(atoms, cells, &shown, policy, width);
        if hits.is_empty() || rounds > 200 {
            break;
        }
        let mut chosen: Vec<u32> = Vec::new();
        for hit in &hits {
            let target: Vec<u32> = match *hit {
                Ok(a) => vec![a],
                Err(c) => cells[c as usize].terms.iter().map(|t| t.0).collect(),
            };
            let own = hit.err();
            // The published cells containing the target, smallest first.
            let mut supers: Vec<u32> = holders[target[0] as usize]
                .iter()
                .copied()
                .filter(|&c| Some(c) != own && matches!(shown[c as usize], Shown::Value(_)))
                .filter(|&c| {
                    let t = &cells[c as usize].terms;
                    target.iter().all(|a| t.iter().any(|x| x.0 == *a))
                })
                .collect();
            supers.sort_by_key(|&c| (cells[c as usize].terms.len(), c));
            let mut pick = None;
            for &p in &supers {
                stamp = stamp.wrapping_add(2);
                for &(a, _) in &cells[p as usize].terms {
                    mark[a as usize] = stamp;
                }
                for &a in &target {
                    mark[a as usize] = stamp.wrapping_add(1);
                }
                // Siblings: published cells inside `p`, apart from the target.
                let mut best: Option<(f64, u32)> = None;
                for &(a, _) in &cells[p as usize].terms {
                    if mark[a as usize] != stamp {
                        continue;
                    }
                    for &s in &holders[a as usize] {
                        let Shown::Value(v) = shown[s as usize] else {
                            continue;
                        };
                        if s == p || !free(s) {
                            continue;
                        }
                        let inside = cells[s as usize]
                            .terms
                            .iter()
                            .all(|x| mark[x.0 as usize] == stamp);
                        if inside && best.is_none_or(|(bv, bs)| (v, s) < (bv, bs)) {
                            best = Some((v, s));
                        }
                    }
                }
                pick = best.map(|b| b.1).or(free(p).then_some(p));
                if pick.is_some() {
                    break;
                }
            }
            if let Some(p) = pick {
                chosen.push(p);
            }
        }
        chosen.sort_unstable();
        chosen.dedup();
        if chosen.is_empty() {
            // Nothing related is published as a value: withhold every cell
            // holding an exposed atom (cannot happen for a consistent release).
            for a in hits.iter().flatten() {
                for &c in &holders[*a as usize] {
                    if free(c) && matches!(shown[c as usize], Shown::Value(_)) {
                        chosen.push(c);
                    }
                }
            }
            chosen.sort_unstable();
            chosen.dedup();
            if chosen.is_empty() {
                break;
            }
        }
        for c in chosen {
            shown[c as usize] = Shown::Withheld;
            withheld += 1;
        }
    }
    Protected {
        shown,
        withheld,
        rounds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parent_and_one_sibling_cannot_pin_a_small_child() {
        let p = Policy::default();
        // atoms: x = 4, y = 13; cells: x, y, x + y.
        let atoms = [4u64, 13];
        let cells = vec![Cell::count([0]), Cell::count([1]), Cell::count([0, 1])];
        let first = primary(&atoms, &cells, &p);
        assert_eq!(
            first,
            vec![Shown::Small, Shown::Value(15.0), Shown::Value(15.0)]
        );
        // 13..17 minus 13..17: 0..4, five values: enough at width 5, not at 6.
        assert!(exposed(&atoms, &cells, &first, &p, 5).is_empty());
        let hits = exposed(&atoms, &cells, &first, &p, 6);
        assert!(hits.contains(&Err(0)));
        let done = protect(&atoms, &cells, &p, 6);
        assert_eq!(done.shown[0], Shown::Small);
        // The sibling goes, not the parent.
        assert_eq!(done.shown[1], Shown::Withheld);
        assert_eq!(done.shown[2], Shown::Value(15.0));
        assert!(exposed(&atoms, &cells, &done.shown, &p, 6).is_empty());
    }
}
