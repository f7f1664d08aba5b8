//! The boundary designer: units made of whole small areas that nest in a
//! parent set, are contiguous, are balanced on a weight (population or
//! caseload) within a tolerance, and follow a target set as closely as
//! possible.
//!
//! **Co-terminosity basis.** Every proposed unit stands for (is *labelled*
//! with) at most one unit of the target set. The designer's co-terminosity is
//! the share of the weight of the small areas whose proposed unit stands for
//! their best-fit target unit:
//! `C = Σ_d w_d · [label(unit(d)) = target(d)] / Σ_d w_d`
//! (area counts instead of weights when every weight is 0).
//!
//! **Steps, per parent** (parents are independent; run in parallel):
//! 1. *Units.* The target units that *belong* to the parent (at least half of
//!    their weight lies in it; by area count when they have no weight), the
//!    heaviest first, label the parent's units. Their number is given
//!    ([`UnitsPerParent::Fixed`]) or is the number of belonging targets
//!    ([`UnitsPerParent::FromTarget`]), at least 1 and at most the number of
//!    areas; extra units beyond the labels have no label.
//! 2. *Best-fit grouping* (the **ceiling**, reported as
//!    `ceiling_coterminosity`): every area joins the unit labelled with its
//!    best-fit target. This is as co-terminous as whole areas allow, but it
//!    may be non-contiguous or unbalanced and leaves areas whose target
//!    belongs elsewhere unassigned.
//! 3. *Repair.* Islands: the parent's adjacency graph is made connected by
//!    linking each detached component to the nearest area (centroids) of the
//!    rest; the links are reported as `bridges` and count as adjacency.
//!    Contiguity: each unit keeps its heaviest connected component; the other
//!    areas, with the unassigned ones, join a neighbouring unit (the one
//!    labelled with their target when it is adjacent, otherwise the lightest),
//!    and unlabelled units are seeded from the heaviest unit. Balance: with
//!    `m` the parent's mean unit weight, each unit should weigh within
//!    `[m·(1 − tolerance), m·(1 + tolerance)]`. A local search moves single
//!    boundary areas to a neighbouring unit, never breaking a unit's
//!    contiguity or emptying it, accepting a move when it lowers the total
//!    excess weight outside the band (or keeps it and evens out units, when
//!    one of the two is outside the band); among accepted moves it takes the
//!    one that loses the least co-terminosity.
//!    The result of the repair is the **starting point**
//!    (`start_coterminosity`).
//! 4. *Improve.* A second local search moves a boundary area into the
//!    adjacent unit labelled with its target only when that raises `C`,
//!    keeps every unit contiguous and does not push either unit further
//!    outside the band. `C` therefore never falls below the starting point:
//!    `final_coterminosity ≥ start_coterminosity`.
//!
//! Units that still lie outside the band, and areas heavier than the band
//! allows, are reported in `infeasible`, never silently accepted.

use rayon::prelude::*;

use super::adjacency::Adjacency;

/// How many units each parent gets.
#[derive(Clone, Debug, PartialEq)]
pub enum UnitsPerParent {
    /// As many as the target units that belong to the parent (at least 1).
    FromTarget,
    /// Given, indexed by parent id (a missing entry means 1).
    Fixed(Vec<usize>),
}

/// The designer's input. Areas are indexed `0..weights.len()`.
#[derive(Clone, Debug)]
pub struct DesignProblem<'a> {
    /// Weight per area (population or caseload), ≥ 0.
    pub weights: &'a [f64],
    /// Adjacency of the areas.
    pub adjacency: &'a Adjacency,
    /// Parent id per area (for example a council index); units nest in it.
    pub parent: &'a [u32],
    /// Best-fit target unit per area (`None`: no target).
    pub target: &'a [Option<u32>],
    pub units_per_parent: UnitsPerParent,
    /// Allowed relative deviation from the parent's mean unit weight (0.1 = ±10 %).
    pub tolerance: f64,
}

/// One proposed unit.
#[derive(Clone, Debug, PartialEq)]
pub struct DesignUnit {
    pub id: u32,
    pub parent: u32,
    /// The target unit it stands for (none for extra units).
    pub label: Option<u32>,
    pub weight: f64,
    /// Its areas, sorted.
    pub areas: Vec<u32>,
    /// Allowed weight band `[low, high]`.
    pub band: [f64; 2],
    pub within_tolerance: bool,
}

/// Why a constraint could not be met.
#[derive(Clone, Debug, PartialEq)]
pub enum Infeasibility {
    /// One area weighs more than a unit may.
    AreaTooHeavy {
        parent: u32,
        area: u32,
        weight: f64,
        high: f64,
    },
    /// A unit ended outside its weight band.
    Unbalanced {
        parent: u32,
        unit: u32,
        weight: f64,
        band: [f64; 2],
    },
}

/// The designer's proposal.
#[derive(Clone, Debug, PartialEq)]
pub struct Design {
    /// Proposed unit per area.
    pub unit_of_area: Vec<u32>,
    /// Units by parent; within a parent the labelled ones first (heaviest
    /// target first), then the unlabelled; ids `0..`.
    pub units: Vec<DesignUnit>,
    /// `C` of the best-fit grouping (upper bound; may break the constraints).
    pub ceiling_coterminosity: f64,
    /// `C` after the repair: the starting point of the improving search.
    pub start_coterminosity: f64,
    /// `C` of the proposal (≥ the starting point).
    pub final_coterminosity: f64,
    /// Links added between detached parts of a parent (area pairs).
    pub bridges: Vec<(u32, u32)>,
    pub infeasible: Vec<Infeasibility>,
    /// Moves made by the balance repair and by the improving search.
    pub repair_moves: usize,
    pub improve_moves: usize,
}

const NONE: usize = usize::MAX;

struct ParentResult {
    parent: u32,
    /// (label, areas as global ids)
    units: Vec<(Option<u32>, Vec<u32>)>,
    bridges: Vec<(u32, u32)>,
    start_match: f64,
    final_match: f64,
    repair_moves: usize,
    improve_moves: usize,
    heavy: Vec<(u32, f64)>,
    band: [f64; 2],
}

fn excess(w: f64, band: [f64; 2]) -> f64 {
    (w - band[1]).max(0.0) + (band[0] - w).max(0.0)
}

/// Propose units (see the module docs).
pub fn design(p: &DesignProblem) -> Design {
    let n = p.weights.len();
    let use_counts = p.weights.iter().all(|&w| w <= 0.0);
    let mass: Vec<f64> = if use_counts {
        vec![1.0; n]
    } else {
        p.weights.iter().map(|&w| w.max(0.0)).collect()
    };
    let n_parents = p.parent.iter().map(|&x| x as usize + 1).max().unwrap_or(0);
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); n_parents];
    for (d, &par) in p.parent.iter().enumerate().take(n) {
        members[par as usize].push(d as u32);
    }
    // Total mass of each target, for belonging.
    let mut target_mass: std::collections::BTreeMap<u32, f64> = Default::default();
    for (t, m) in p.target.iter().zip(&mass) {
        if let Some(t) = t {
            *target_mass.entry(*t).or_default() += m;
        }
    }
    let total_mass: f64 = mass.iter().sum();
    let ceiling: f64 = (0..n)
        .filter(|&d| p.target[d].is_some())
        .map(|d| mass[d])
        .sum();
    let results: Vec<ParentResult> = members
        .par_iter()
        .enumerate()
        .filter(|(_, m)| !m.is_empty())
        .map(|(par, m)| design_parent(p, &mass, &target_mass, par as u32, m))
        .collect();
    let mut unit_of_area = vec![u32::MAX; n];
    let mut units = Vec::new();
    let mut bridges = Vec::new();
    let mut infeasible = Vec::new();
    let (mut start, mut fin) = (0.0, 0.0);
    let (mut rm, mut im) = (0, 0);
    for r in results {
        start += r.start_match;
        fin += r.final_match;
        rm += r.repair_moves;
        im += r.improve_moves;
        bridges.extend(r.bridges);
        for (area, weight) in r.heavy {
            infeasible.push(Infeasibility::AreaTooHeavy {
                parent: r.parent,
                area,
                weight,
                high: r.band[1],
            });
        }
        for (label, mut areas) in r.units {
            areas.sort_unstable();
            let id = units.len() as u32;
            let weight: f64 = areas.iter().map(|&d| p.weights[d as usize]).sum();
            let wm: f64 = areas.iter().map(|&d| mass[d as usize]).sum();
            let ok = excess(wm, r.band) <= 1e-9 * r.band[1].max(1.0);
            if !ok {
                infeasible.push(Infeasibility::Unbalanced {
                    parent: r.parent,
                    unit: id,
                    weight: wm,
                    band: r.band,
                });
            }
            for &d in &areas {
                unit_of_area[d as usize] = id;
            }
            units.push(DesignUnit {
                id,
                parent: r.parent,
                label,
                weight,
                areas,
                band: r.band,
                within_tolerance: ok,
            });
        }
    }
    let share = |x: f64| {
        if total_mass > 0.0 {
            x / total_mass
        } else {
            0.0
        }
    };
    Design {
        unit_of_area,
        units,
        ceiling_coterminosity: share(ceiling),
        start_coterminosity: share(start),
        final_coterminosity: share(fin),
        bridges,
        infeasible,
        repair_moves: rm,
        improve_moves: im,
    }
}

/// State of one parent's search, in local indices.
struct Local<'a> {
    /// Global id of each local area.
    ids: &'a [u32],
    nb: Vec<Vec<usize>>,
    mass: Vec<f64>,
    /// Target of each local area.
    target: Vec<Option<u32>>,
    unit: Vec<usize>,
    labels: Vec<Option<u32>>,
    wt: Vec<f64>,
    size: Vec<usize>,
    stamp: Vec<u32>,
    gen: u32,
}

impl Local<'_> {
    fn matches(&self, d: usize, u: usize) -> bool {
        u != NONE && self.labels[u].is_some() && self.labels[u] == self.target[d]
    }

    fn matched_mass(&self) -> f64 {
        (0..self.ids.len())
            .filter(|&d| self.matches(d, self.unit[d]))
            .map(|d| self.mass[d])
            .sum()
    }

    fn assign(&mut self, d: usize, u: usize) {
        let old = self.unit[d];
        if old != NONE {
            self.wt[old] -= self.mass[d];
            self.size[old] -= 1;
        }
        self.unit[d] = u;
        if u != NONE {
            self.wt[u] += self.mass[d];
            self.size[u] += 1;
        }
    }

    /// Unit `unit[d]` stays connected (and non-empty) without `d`.
    fn removable(&mut self, d: usize) -> bool {
        let u = self.unit[d];
        if self.size[u] <= 1 {
            return false;
        }
        let Some(&s) = self.nb[d].iter().find(|&&y| self.unit[y] == u) else {
            return false;
        };
        self.gen += 1;
        let g = self.gen;
        self.stamp[d] = g;
        self.stamp[s] = g;
        let mut stack = vec![s];
        let mut reached = 1;
        while let Some(x) = stack.pop() {
            for i in 0..self.nb[x].len() {
                let y = self.nb[x][i];
                if self.unit[y] == u && self.stamp[y] != g {
                    self.stamp[y] = g;
                    reached += 1;
                    stack.push(y);
                }
            }
        }
        reached == self.size[u] - 1
    }

    /// Components of unit `u` (local ids).
    fn components(&self, u: usize) -> Vec<Vec<usize>> {
        let n = self.ids.len();
        let mut seen = vec![false; n];
        let mut out = Vec::new();
        for s in 0..n {
            if self.unit[s] != u || seen[s] {
                continue;
            }
            let mut comp = vec![s];
            seen[s] = true;
            let mut k = 0;
            while k < comp.len() {
                let x = comp[k];
                k += 1;
                for &y in &self.nb[x] {
                    if self.unit[y] == u && !seen[y] {
                        seen[y] = true;
                        comp.push(y);
                    }
                }
            }
            out.push(comp);
        }
        out
    }
}

fn design_parent(
    p: &DesignProblem,
    mass_all: &[f64],
    target_mass: &std::collections::BTreeMap<u32, f64>,
    parent: u32,
    ids: &[u32],
) -> ParentResult {
    let n = ids.len();
    let mut local_of = std::collections::HashMap::with_capacity(n);
    for (i, &d) in ids.iter().enumerate() {
        local_of.insert(d, i);
    }
    let mut nb: Vec<Vec<usize>> = ids
        .iter()
        .map(|&d| {
            p.adjacency
                .neighbours(d as usize)
                .iter()
                .filter_map(|y| local_of.get(y).copied())
                .collect()
        })
        .collect();
    // Bridges: link detached components to the nearest area of the rest.
    let mut bridges = Vec::new();
    {
        let local_adj = Adjacency::from_pairs(
            n,
            &nb.iter()
                .enumerate()
                .flat_map(|(x, ys)| ys.iter().map(move |&y| (x as u32, y as u32)))
                .collect::<Vec<_>>(),
            Vec::new(),
        );
        let all: Vec<u32> = (0..n as u32).collect();
        let mut comps = local_adj.components(&all);
        comps.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
        let c = |i: u32| p.adjacency.centroids[ids[i as usize] as usize];
        let mut main: Vec<u32> = comps.first().cloned().unwrap_or_default();
        for comp in comps.iter().skip(1) {
            let mut best = (f64::INFINITY, 0u32, 0u32);
            for &x in comp {
                for &y in &main {
                    let (a, b) = (c(x), c(y));
                    let d2 = (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
                    if d2 < best.0 {
                        best = (d2, x, y);
                    }
                }
            }
            let (x, y) = (best.1 as usize, best.2 as usize);
            nb[x].push(y);
            nb[y].push(x);
            bridges.push((ids[x].min(ids[y]), ids[x].max(ids[y])));
            main.extend_from_slice(comp);
        }
    }
    let mass: Vec<f64> = ids.iter().map(|&d| mass_all[d as usize]).collect();
    let target: Vec<Option<u32>> = ids.iter().map(|&d| p.target[d as usize]).collect();
    // 1. Units and their labels.
    let mut here: std::collections::BTreeMap<u32, (f64, usize)> = Default::default();
    for d in 0..n {
        if let Some(t) = target[d] {
            let e = here.entry(t).or_default();
            e.0 += mass[d];
            e.1 += 1;
        }
    }
    let mut belonging: Vec<(u32, f64)> = here
        .iter()
        .filter(|(t, (m, _))| {
            let total = target_mass.get(t).copied().unwrap_or(0.0);
            total > 0.0 && *m >= 0.5 * total
        })
        .map(|(&t, &(m, _))| (t, m))
        .collect();
    belonging.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let k = match &p.units_per_parent {
        UnitsPerParent::FromTarget => belonging.len(),
        UnitsPerParent::Fixed(v) => v.get(parent as usize).copied().unwrap_or(1),
    }
    .clamp(1, n);
    let mut labels: Vec<Option<u32>> = belonging.iter().take(k).map(|b| Some(b.0)).collect();
    labels.resize(k, None);
    let mut st = Local {
        ids,
        nb,
        mass,
        target,
        unit: vec![NONE; n],
        labels,
        wt: vec![0.0; k],
        size: vec![0; k],
        stamp: vec![0; n],
        gen: 0,
    };
    // 2. Best-fit grouping.
    for d in 0..n {
        if let Some(u) = st
            .labels
            .iter()
            .position(|l| l.is_some() && *l == st.target[d])
        {
            st.assign(d, u);
        }
    }
    // 3a. Contiguity: keep each unit's heaviest component.
    for u in 0..k {
        let comps = st.components(u);
        if comps.len() > 1 {
            let keep = comps
                .iter()
                .enumerate()
                .max_by(|a, b| {
                    let wa: f64 = a.1.iter().map(|&d| st.mass[d]).sum();
                    let wb: f64 = b.1.iter().map(|&d| st.mass[d]).sum();
                    wa.total_cmp(&wb).then(b.0.cmp(&a.0))
                })
                .map(|x| x.0)
                .unwrap_or(0);
            for (ci, comp) in comps.iter().enumerate() {
                if ci != keep {
                    for &d in comp {
                        st.assign(d, NONE);
                    }
                }
            }
        }
    }
    // Seed empty units: an unassigned area (heaviest), else a removable area
    // of the heaviest unit.
    for u in 0..k {
        if st.size[u] > 0 {
            continue;
        }
        let free = (0..n)
            .filter(|&d| st.unit[d] == NONE)
            .max_by(|&a, &b| st.mass[a].total_cmp(&st.mass[b]).then(b.cmp(&a)));
        if let Some(d) = free {
            st.assign(d, u);
            continue;
        }
        let mut order: Vec<usize> = (0..k).filter(|&v| st.size[v] > 1).collect();
        order.sort_by(|&a, &b| st.wt[b].total_cmp(&st.wt[a]).then(a.cmp(&b)));
        'seed: for v in order {
            for d in 0..n {
                if st.unit[d] == v && st.removable(d) {
                    st.assign(d, u);
                    break 'seed;
                }
            }
        }
    }
    // 3b. Grow: unassigned areas join a neighbouring unit.
    loop {
        let mut changed = false;
        let mut left = false;
        for d in 0..n {
            if st.unit[d] != NONE {
                continue;
            }
            let mut best: Option<usize> = None;
            for &y in &st.nb[d] {
                let u = st.unit[y];
                if u == NONE {
                    continue;
                }
                best = Some(match best {
                    None => u,
                    Some(b) => {
                        let (mu, mb) = (st.matches(d, u), st.matches(d, b));
                        if (mu && !mb) || (mu == mb && st.wt[u] < st.wt[b]) {
                            u
                        } else {
                            b
                        }
                    }
                });
            }
            match best {
                Some(u) => {
                    st.assign(d, u);
                    changed = true;
                }
                None => left = true,
            }
        }
        if !left || !changed {
            break;
        }
    }
    // Anything still unassigned (only possible with no unit reachable) joins unit 0.
    for d in 0..n {
        if st.unit[d] == NONE {
            st.assign(d, 0);
        }
    }
    // 3c. Balance.
    let total: f64 = st.mass.iter().sum();
    let mean = total / k as f64;
    let band = [mean * (1.0 - p.tolerance), mean * (1.0 + p.tolerance)];
    let heavy: Vec<(u32, f64)> = (0..n)
        .filter(|&d| k > 1 && st.mass[d] > band[1])
        .map(|d| (ids[d], st.mass[d]))
        .collect();
    let eps = 1e-9 * mean.max(1.0);
    let mut repair_moves = 0;
    let max_iter = 50 * n + 1000;
    for _ in 0..max_iter {
        let v_total: f64 = st.wt.iter().map(|&w| excess(w, band)).sum();
        if v_total <= eps || k == 1 {
            break;
        }
        // (tier, -Δcot, ΔV, ΔSQ, d, v)
        let mut cands: Vec<(u8, f64, f64, f64, usize, usize)> = Vec::new();
        for d in 0..n {
            let u = st.unit[d];
            let mut seen_v: Vec<usize> = Vec::new();
            for &y in &st.nb[d] {
                let v = st.unit[y];
                if v == u || seen_v.contains(&v) {
                    continue;
                }
                seen_v.push(v);
                let w = st.mass[d];
                let (wu, wv) = (st.wt[u], st.wt[v]);
                let dv = excess(wu - w, band) + excess(wv + w, band)
                    - excess(wu, band)
                    - excess(wv, band);
                let dsq = (wu - w - mean).powi(2) + (wv + w - mean).powi(2)
                    - (wu - mean).powi(2)
                    - (wv - mean).powi(2);
                let dcot = w * (st.matches(d, v) as u8 as f64 - st.matches(d, u) as u8 as f64);
                let outside = excess(wu, band) > eps || excess(wv, band) > eps;
                let tier = if dv < -eps {
                    0
                } else if dv <= eps && dsq < -eps && outside {
                    1
                } else {
                    continue;
                };
                cands.push((tier, -dcot, dv, dsq, d, v));
            }
        }
        cands.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then(a.1.total_cmp(&b.1))
                .then(a.2.total_cmp(&b.2))
                .then(a.3.total_cmp(&b.3))
                .then(a.4.cmp(&b.4))
                .then(a.5.cmp(&b.5))
        });
        let mut moved = false;
        for &(_, _, _, _, d, v) in &cands {
            if st.removable(d) {
                st.assign(d, v);
                repair_moves += 1;
                moved = true;
                break;
            }
        }
        if !moved {
            break;
        }
    }
    let start_match = st.matched_mass();
    // 4. Improve: raise C without breaking contiguity or balance.
    let mut improve_moves = 0;
    for _ in 0..max_iter {
        let mut cands: Vec<(f64, usize, usize)> = Vec::new();
        for d in 0..n {
            let u = st.unit[d];
            if st.matches(d, u) {
                continue;
            }
            for &y in &st.nb[d] {
                let v = st.unit[y];
                if v == u || !st.matches(d, v) {
                    continue;
                }
                let w = st.mass[d];
                let (wu, wv) = (st.wt[u], st.wt[v]);
                if excess(wu - w, band) > excess(wu, band) + eps
                    || excess(wv + w, band) > excess(wv, band) + eps
                {
                    continue;
                }
                cands.push((-w, d, v));
            }
        }
        cands.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        cands.dedup();
        let mut moved = false;
        for &(_, d, v) in &cands {
            if st.removable(d) {
                st.assign(d, v);
                improve_moves += 1;
                moved = true;
                break;
            }
        }
        if !moved {
            break;
        }
    }
    let final_match = st.matched_mass();
    let mut units: Vec<(Option<u32>, Vec<u32>)> =
        st.labels.iter().map(|&l| (l, Vec::new())).collect();
    for d in 0..n {
        units[st.unit[d]].1.push(ids[d]);
    }
    ParentResult {
        parent,
        units,
        bridges,
        start_match,
        final_match,
        repair_moves,
        improve_moves,
        heavy,
        band,
    }
}
