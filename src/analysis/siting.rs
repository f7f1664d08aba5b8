//! Location-allocation: which candidate sites to open so that demand is
//! served best, with a heuristic answer **and** a bound on the optimum, so
//! every answer states how far from optimal it can be at most.
//!
//! Notation: demand items `i` with weights `w_i ≥ 0` (areas weighted by
//! population, need or referrals), candidate sites `j`, travel cost `d_ij`
//! (seconds or metres), `x_j ∈ {0,1}` open or not, `p` sites to open, `F`
//! the sites that must stay open (`x_j = 1` for `j ∈ F`).
//!
//! - **MCLP**, maximal covering (Church & ReVelle 1974): with `N_i` the sites
//!   within the radius `r` of `i`, maximise `Σ_i w_i y_i` subject to
//!   `y_i ≤ Σ_{j∈N_i} x_j`, `Σ_j x_j = p`, `y, x ∈ {0,1}`.
//!   *Heuristic*: greedy, then best-improvement swaps (close one site, open
//!   another) to a local optimum, then iterated local search (random
//!   perturbations from a seeded generator) and the sites of the Lagrangian
//!   subproblems as further starting points. *Bound*: Lagrangian relaxation
//!   of the coverage rows with multipliers `λ_i ≥ 0`:
//!   `UB(λ) = Σ_i max(0, w_i − λ_i) + Σ_{j ∈ top p of μ} μ_j`, with
//!   `μ_j = Σ_{i: j∈N_i} λ_i` (sites in `F` always taken), minimised by
//!   subgradient steps. Every `UB(λ)` is a valid upper bound.
//! - **Co-location**: several services, each with its own demand and the
//!   sites that can host it; a site opened serves every service it hosts.
//!   This is MCLP over demand items `(i, s)` with `N_(i,s)` = sites hosting
//!   `s` within reach of `i` ([`Coverage::colocated`]), so one site that
//!   covers several services' demand is worth their sum.
//! - **LSCP**, set covering (Toregas et al. 1971): minimise `Σ_j x_j` subject
//!   to `Σ_{j∈N_i} x_j ≥ 1` for every item that some site can cover.
//!   *Heuristic*: greedy by items covered per site, then redundant sites
//!   dropped. *Bound*: Lagrangian `L(u) = Σ_i u_i + Σ_j min(0, 1 − Σ_{i∈N_j} u_i)`,
//!   maximised over `u ≥ 0`, rounded up (the count is whole).
//! - **p-median** (Hakimi 1964): minimise `Σ_i w_i min_{j open} d_ij` with
//!   `p` sites. *Heuristic*: greedy addition, then the fast swap-based local
//!   search of Resende & Werneck (2004) (gain, loss and extra terms from
//!   each item's nearest and second-nearest open sites). *Bound*: Lagrangian
//!   relaxation of the assignment rows (Beasley 1993):
//!   `LB(λ) = Σ_i λ_i + Σ_{j ∈ the p most negative ρ} ρ_j`,
//!   `ρ_j = Σ_i min(0, w_i d_ij − λ_i)`, maximised by subgradient steps.
//! - **p-center**: minimise `max_i min_{j open} d_ij` over items with
//!   positive weight. The optimum is one of the costs `d_ij`; a radius is
//!   feasible when `p` sites can cover every item within it. *Upper bound*:
//!   the smallest radius at which the LSCP heuristic needs at most `p` sites
//!   (found by bisection over the sorted costs). *Lower bound*: the largest
//!   radius whose LSCP Lagrangian bound exceeds `p` is infeasible, so the
//!   optimum is at least the next cost above it; and never below the
//!   largest distance from an item to its nearest candidate.
//!
//! The gap reported is `(bound − objective) / bound` for maximisation and
//! `(objective − bound) / objective` for minimisation, never smaller than the
//! true gap because the bound is valid whatever the multipliers. All results
//! are deterministic for a seed.

// Index loops over sites and items read closer to the mathematics here.
#![allow(clippy::needless_range_loop)]

use rayon::prelude::*;
use serde::Serialize;

/// Options of the solvers.
#[derive(Clone, Debug)]
pub struct SolveOptions {
    /// Seed of the perturbations.
    pub seed: u64,
    /// Subgradient iterations at most.
    pub bound_iterations: usize,
    /// Rounds of iterated local search.
    pub perturbation_rounds: usize,
}

impl Default for SolveOptions {
    fn default() -> Self {
        SolveOptions {
            seed: 1,
            bound_iterations: 600,
            perturbation_rounds: 40,
        }
    }
}

/// A solution with its bound.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Solution {
    /// Open sites, ascending.
    pub sites: Vec<u32>,
    /// Covered weight (MCLP), weighted cost (p-median), site count (LSCP) or
    /// the largest cost (p-center).
    pub objective: f64,
    /// The bound on the optimum (upper for MCLP, lower for the others).
    pub bound: f64,
    /// Relative gap between the objective and the bound (0 = proven optimal).
    pub gap: f64,
}

/// A problem the models cannot solve as asked.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SitingError {
    #[error("p = {p} but there are only {sites} candidate sites")]
    TooManySites { p: usize, sites: usize },
    #[error("p = {p} is smaller than the {must} sites that must stay open")]
    TooFewForMustOpen { p: usize, must: usize },
    #[error("must-open site {0} is not a candidate")]
    UnknownSite(u32),
    #[error("p must be at least 1")]
    ZeroP,
    #[error("weights must be finite and not negative (item {0})")]
    BadWeight(usize),
}

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn check(p: usize, m: usize, must: &[u32]) -> Result<(), SitingError> {
    if p == 0 {
        return Err(SitingError::ZeroP);
    }
    if p > m {
        return Err(SitingError::TooManySites { p, sites: m });
    }
    if let Some(&j) = must.iter().find(|&&j| j as usize >= m) {
        return Err(SitingError::UnknownSite(j));
    }
    let mut f = must.to_vec();
    f.sort_unstable();
    f.dedup();
    if f.len() > p {
        return Err(SitingError::TooFewForMustOpen { p, must: f.len() });
    }
    Ok(())
}

fn check_weights(w: &[f64]) -> Result<(), SitingError> {
    match w.iter().position(|x| !(x.is_finite() && *x >= 0.0)) {
        Some(i) => Err(SitingError::BadWeight(i)),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------
// Coverage models: MCLP, co-location, LSCP.

/// Which sites cover which demand items (within the radius), both ways.
#[derive(Clone, Debug)]
pub struct Coverage {
    pub n_sites: usize,
    pub weight: Vec<f64>,
    /// Items' covering sites, CSR: `item_sites[item_start[i]..item_start[i+1]]`.
    item_start: Vec<usize>,
    item_sites: Vec<u32>,
    /// Sites' covered items, CSR.
    site_start: Vec<usize>,
    site_items: Vec<u32>,
}

impl Coverage {
    /// From each item's covering sites.
    pub fn new(weight: Vec<f64>, n_sites: usize, covers: Vec<Vec<u32>>) -> Coverage {
        let mut item_start = Vec::with_capacity(covers.len() + 1);
        let mut item_sites = Vec::new();
        let mut per_site = vec![0usize; n_sites];
        item_start.push(0);
        for c in &covers {
            let mut c = c.clone();
            c.sort_unstable();
            c.dedup();
            for &j in &c {
                per_site[j as usize] += 1;
            }
            item_sites.extend(c);
            item_start.push(item_sites.len());
        }
        let mut site_start = vec![0usize; n_sites + 1];
        for j in 0..n_sites {
            site_start[j + 1] = site_start[j] + per_site[j];
        }
        let mut fill = site_start.clone();
        let mut site_items = vec![0u32; item_sites.len()];
        for i in 0..covers.len() {
            for &j in &item_sites[item_start[i]..item_start[i + 1]] {
                site_items[fill[j as usize]] = i as u32;
                fill[j as usize] += 1;
            }
        }
        Coverage {
            n_sites,
            weight,
            item_start,
            item_sites,
            site_start,
            site_items,
        }
    }

    /// From a cost matrix: site `j` covers item `i` when `cost ≤ radius`.
    pub fn from_costs(
        weight: Vec<f64>,
        costs: &super::access::CostMatrix,
        radius: f64,
    ) -> Coverage {
        let covers = costs
            .rows
            .iter()
            .map(|row| {
                row.iter()
                    .filter(|(_, c)| *c <= radius)
                    .map(|(j, _)| *j)
                    .collect()
            })
            .collect();
        Coverage::new(weight, costs.n_supply, covers)
    }

    /// Co-location: one item per (area, service) with weight
    /// `weight[s][i]`, covered by the sites within the radius that host
    /// service `s` (`hosts[j][s]`). Items are ordered service by service.
    pub fn colocated(
        weight: &[Vec<f64>],
        costs: &super::access::CostMatrix,
        radius: f64,
        hosts: &[Vec<bool>],
    ) -> Coverage {
        let mut w = Vec::new();
        let mut covers = Vec::new();
        for (s, ws) in weight.iter().enumerate() {
            for (i, row) in costs.rows.iter().enumerate() {
                w.push(ws.get(i).copied().unwrap_or(0.0));
                covers.push(
                    row.iter()
                        .filter(|(j, c)| {
                            *c <= radius && hosts[*j as usize].get(s).copied().unwrap_or(false)
                        })
                        .map(|(j, _)| *j)
                        .collect(),
                );
            }
        }
        Coverage::new(w, costs.n_supply, covers)
    }

    pub fn n_items(&self) -> usize {
        self.weight.len()
    }

    fn sites_of(&self, i: usize) -> &[u32] {
        &self.item_sites[self.item_start[i]..self.item_start[i + 1]]
    }

    fn items_of(&self, j: usize) -> &[u32] {
        &self.site_items[self.site_start[j]..self.site_start[j + 1]]
    }

    /// Weight covered by a set of sites.
    pub fn covered_weight(&self, sites: &[u32]) -> f64 {
        let mut open = vec![false; self.n_sites];
        for &j in sites {
            open[j as usize] = true;
        }
        (0..self.n_items())
            .filter(|&i| self.sites_of(i).iter().any(|&j| open[j as usize]))
            .map(|i| self.weight[i])
            .sum()
    }

    /// Items that at least one site covers.
    fn coverable(&self) -> Vec<usize> {
        (0..self.n_items())
            .filter(|&i| self.item_start[i + 1] > self.item_start[i])
            .collect()
    }
}

/// MCLP search state: which sites are open and how often each item is covered.
struct McState<'a> {
    cov: &'a Coverage,
    open: Vec<bool>,
    count: Vec<u32>,
    value: f64,
}

impl<'a> McState<'a> {
    fn new(cov: &'a Coverage, sites: &[u32]) -> McState<'a> {
        let mut s = McState {
            cov,
            open: vec![false; cov.n_sites],
            count: vec![0; cov.n_items()],
            value: 0.0,
        };
        for &j in sites {
            s.add(j as usize);
        }
        s
    }

    fn add(&mut self, j: usize) {
        self.open[j] = true;
        for &i in self.cov.items_of(j) {
            let i = i as usize;
            if self.count[i] == 0 {
                self.value += self.cov.weight[i];
            }
            self.count[i] += 1;
        }
    }

    fn remove(&mut self, j: usize) {
        self.open[j] = false;
        for &i in self.cov.items_of(j) {
            let i = i as usize;
            self.count[i] -= 1;
            if self.count[i] == 0 {
                self.value -= self.cov.weight[i];
            }
        }
    }

    fn sites(&self) -> Vec<u32> {
        (0..self.open.len())
            .filter(|&j| self.open[j])
            .map(|j| j as u32)
            .collect()
    }

    /// Best-improvement swaps until none improves. `fixed[j]`: never closed.
    fn local_search(&mut self, fixed: &[bool]) {
        let m = self.cov.n_sites;
        let mut gain = vec![0.0f64; m];
        let mut extra = vec![0.0f64; m];
        loop {
            // Gain of opening each closed site as things stand.
            for (j, g) in gain.iter_mut().enumerate() {
                *g = if self.open[j] {
                    f64::NEG_INFINITY
                } else {
                    self.cov
                        .items_of(j)
                        .iter()
                        .filter(|&&i| self.count[i as usize] == 0)
                        .map(|&i| self.cov.weight[i as usize])
                        .sum()
                };
            }
            let mut best: Option<(f64, usize, usize)> = None;
            for a in 0..m {
                if !self.open[a] || fixed[a] {
                    continue;
                }
                // Items only `a` covers are lost when it closes, unless the newcomer covers them.
                let mut loss = 0.0;
                let mut touched = Vec::new();
                for &i in self.cov.items_of(a) {
                    let i = i as usize;
                    if self.count[i] == 1 {
                        let w = self.cov.weight[i];
                        loss += w;
                        for &b in self.cov.sites_of(i) {
                            if extra[b as usize] == 0.0 {
                                touched.push(b as usize);
                            }
                            extra[b as usize] += w;
                        }
                    }
                }
                for b in 0..m {
                    if self.open[b] {
                        continue;
                    }
                    let delta = gain[b] + extra[b] - loss;
                    if delta > 1e-9 * (1.0 + self.value.abs())
                        && best.is_none_or(|(d, _, _)| delta > d)
                    {
                        best = Some((delta, a, b));
                    }
                }
                for b in touched {
                    extra[b] = 0.0;
                }
            }
            match best {
                Some((_, a, b)) => {
                    self.remove(a);
                    self.add(b);
                }
                None => return,
            }
        }
    }
}

/// Greedy MCLP completion of `start` to `p` sites.
fn mclp_greedy(cov: &Coverage, p: usize, start: &[u32]) -> Vec<u32> {
    let mut st = McState::new(cov, start);
    let mut gain: Vec<f64> = (0..cov.n_sites)
        .map(|j| {
            cov.items_of(j)
                .iter()
                .filter(|&&i| st.count[i as usize] == 0)
                .map(|&i| cov.weight[i as usize])
                .sum()
        })
        .collect();
    while st.sites().len() < p {
        let mut best: Option<(f64, usize)> = None;
        for (j, &g) in gain.iter().enumerate() {
            if !st.open[j] && best.is_none_or(|(bg, _)| g > bg) {
                best = Some((g, j));
            }
        }
        let Some((_, j)) = best else { break };
        for &i in cov.items_of(j) {
            let i = i as usize;
            if st.count[i] == 0 {
                for &k in cov.sites_of(i) {
                    gain[k as usize] -= cov.weight[i];
                }
            }
        }
        st.add(j);
    }
    st.sites()
}

/// Solve MCLP (see the module docs).
pub fn mclp(
    cov: &Coverage,
    p: usize,
    must_open: &[u32],
    opts: &SolveOptions,
) -> Result<Solution, SitingError> {
    check(p, cov.n_sites, must_open)?;
    check_weights(&cov.weight)?;
    let mut fixed = vec![false; cov.n_sites];
    for &j in must_open {
        fixed[j as usize] = true;
    }
    let must: Vec<u32> = (0..cov.n_sites as u32)
        .filter(|&j| fixed[j as usize])
        .collect();
    let polish = |sites: Vec<u32>| {
        let mut st = McState::new(cov, &sites);
        st.local_search(&fixed);
        (st.value, st.sites())
    };
    let mut best = polish(mclp_greedy(cov, p, &must));

    // Lagrangian bound; its subproblem's sites seed more local searches.
    let items = cov.coverable();
    let mut lambda: Vec<f64> = cov.weight.iter().map(|w| 0.5 * w).collect();
    let mut ub = f64::INFINITY;
    let mut theta = 2.0;
    let mut since = 0;
    let mut starts: Vec<Vec<u32>> = Vec::new();
    for it in 0..opts.bound_iterations {
        let mu: Vec<f64> = (0..cov.n_sites)
            .map(|j| cov.items_of(j).iter().map(|&i| lambda[i as usize]).sum())
            .collect();
        let chosen = top_p(&mu, p, &fixed, true);
        let value: f64 = items
            .iter()
            .map(|&i| (cov.weight[i] - lambda[i]).max(0.0))
            .sum::<f64>()
            + chosen.iter().map(|&j| mu[j as usize]).sum::<f64>();
        if ub.is_infinite() || value < ub - 1e-12 * ub.abs().max(1.0) {
            ub = ub.min(value);
            since = 0;
        } else {
            since += 1;
            if since >= 20 {
                theta /= 2.0;
                since = 0;
            }
        }
        if it % 25 == 0 {
            starts.push(chosen.clone());
        }
        if ub - best.0 <= 1e-9 * ub.abs().max(1.0) || theta < 1e-5 {
            break;
        }
        // Subgradient: y_i − Σ_{j∈S} a_ij.
        let mut cnt = vec![0u32; cov.n_items()];
        for &j in &chosen {
            for &i in cov.items_of(j as usize) {
                cnt[i as usize] += 1;
            }
        }
        let g: Vec<(usize, f64)> = items
            .iter()
            .map(|&i| {
                let y = if cov.weight[i] > lambda[i] { 1.0 } else { 0.0 };
                (i, y - f64::from(cnt[i]))
            })
            .filter(|(_, g)| *g != 0.0)
            .collect();
        let norm: f64 = g.iter().map(|(_, g)| g * g).sum();
        if norm == 0.0 {
            break;
        }
        let step = theta * (value - best.0).max(1e-9) / norm;
        for (i, gi) in g {
            lambda[i] = (lambda[i] + step * gi).max(0.0);
        }
    }
    for s in starts {
        let start: Vec<u32> = s.into_iter().take(p).collect();
        let cand = polish(mclp_greedy(cov, p, &start));
        if cand.0 > best.0 + 1e-9 {
            best = cand;
        }
    }
    // Iterated local search.
    let mut rng = Rng(opts.seed);
    let free: Vec<u32> = (0..cov.n_sites as u32)
        .filter(|&j| !fixed[j as usize])
        .collect();
    for _ in 0..opts.perturbation_rounds {
        if ub - best.0 <= 1e-9 * ub.abs().max(1.0) || free.is_empty() {
            break;
        }
        let mut sites = best.1.clone();
        let k = (p / 10).max(1);
        for _ in 0..k {
            let pos: Vec<usize> = (0..sites.len())
                .filter(|&q| !fixed[sites[q] as usize])
                .collect();
            if pos.is_empty() {
                break;
            }
            let q = pos[rng.below(pos.len())];
            let j = free[rng.below(free.len())];
            if !sites.contains(&j) {
                sites[q] = j;
            }
        }
        let cand = polish(sites);
        if cand.0 > best.0 + 1e-9 {
            best = cand;
        }
    }
    let bound = ub.max(best.0);
    Ok(Solution {
        gap: if bound > 0.0 {
            ((bound - best.0) / bound).max(0.0)
        } else {
            0.0
        },
        sites: best.1,
        objective: best.0,
        bound,
    })
}

/// The `p` sites with the largest (`largest = true`) or smallest values,
/// fixed sites first; ties to the lower index.
fn top_p(v: &[f64], p: usize, fixed: &[bool], largest: bool) -> Vec<u32> {
    let mut out: Vec<u32> = (0..v.len() as u32).filter(|&j| fixed[j as usize]).collect();
    let mut rest: Vec<u32> = (0..v.len() as u32)
        .filter(|&j| !fixed[j as usize])
        .collect();
    let need = p.saturating_sub(out.len());
    if need > 0 && need < rest.len() {
        let cmp = |a: &u32, b: &u32| {
            let o = v[*a as usize].total_cmp(&v[*b as usize]);
            (if largest { o.reverse() } else { o }).then(a.cmp(b))
        };
        rest.select_nth_unstable_by(need - 1, cmp);
        rest.truncate(need);
    } else {
        rest.truncate(need);
    }
    out.extend(rest);
    out
}

/// Solve LSCP: the fewest sites covering every item some site can cover.
pub fn lscp(
    cov: &Coverage,
    must_open: &[u32],
    opts: &SolveOptions,
) -> Result<Solution, SitingError> {
    if let Some(&j) = must_open.iter().find(|&&j| j as usize >= cov.n_sites) {
        return Err(SitingError::UnknownSite(j));
    }
    let items = cov.coverable();
    let mut fixed = vec![false; cov.n_sites];
    for &j in must_open {
        fixed[j as usize] = true;
    }
    let sites = lscp_greedy(cov, &items, &fixed);
    let lb = lscp_bound(
        cov,
        &items,
        &fixed,
        opts.bound_iterations,
        sites.len() as f64,
    );
    let obj = sites.len() as f64;
    Ok(Solution {
        gap: if obj > 0.0 {
            ((obj - lb) / obj).max(0.0)
        } else {
            0.0
        },
        sites,
        objective: obj,
        bound: lb,
    })
}

fn lscp_greedy(cov: &Coverage, items: &[usize], fixed: &[bool]) -> Vec<u32> {
    let mut need = vec![false; cov.n_items()];
    for &i in items {
        need[i] = true;
    }
    let mut open = fixed.to_vec();
    for j in 0..cov.n_sites {
        if open[j] {
            for &i in cov.items_of(j) {
                need[i as usize] = false;
            }
        }
    }
    let mut left: usize = need.iter().filter(|&&x| x).count();
    let mut gain: Vec<usize> = (0..cov.n_sites)
        .map(|j| {
            cov.items_of(j)
                .iter()
                .filter(|&&i| need[i as usize])
                .count()
        })
        .collect();
    while left > 0 {
        let Some(j) = (0..cov.n_sites)
            .filter(|&j| !open[j] && gain[j] > 0)
            .max_by(|&a, &b| gain[a].cmp(&gain[b]).then(b.cmp(&a)))
        else {
            break;
        };
        open[j] = true;
        for &i in cov.items_of(j) {
            let i = i as usize;
            if need[i] {
                need[i] = false;
                left -= 1;
                for &k in cov.sites_of(i) {
                    gain[k as usize] -= 1;
                }
            }
        }
    }
    // Drop redundant sites (largest index first, deterministic).
    let mut count = vec![0u32; cov.n_items()];
    for j in 0..cov.n_sites {
        if open[j] {
            for &i in cov.items_of(j) {
                count[i as usize] += 1;
            }
        }
    }
    for j in (0..cov.n_sites).rev() {
        if open[j] && !fixed[j] && cov.items_of(j).iter().all(|&i| count[i as usize] > 1) {
            open[j] = false;
            for &i in cov.items_of(j) {
                count[i as usize] -= 1;
            }
        }
    }
    (0..cov.n_sites as u32)
        .filter(|&j| open[j as usize])
        .collect()
}

/// Lagrangian lower bound on the LSCP count, rounded up.
fn lscp_bound(cov: &Coverage, items: &[usize], fixed: &[bool], iterations: usize, ub: f64) -> f64 {
    if items.is_empty() {
        return fixed.iter().filter(|&&f| f).count() as f64;
    }
    // Items covered by a fixed site need nothing more.
    let mut done = vec![false; cov.n_items()];
    for j in 0..cov.n_sites {
        if fixed[j] {
            for &i in cov.items_of(j) {
                done[i as usize] = true;
            }
        }
    }
    let live: Vec<usize> = items.iter().copied().filter(|&i| !done[i]).collect();
    let n_fixed = fixed.iter().filter(|&&f| f).count() as f64;
    let mut u = vec![0.0f64; cov.n_items()];
    for &i in &live {
        u[i] = 1.0 / cov.sites_of(i).len() as f64;
    }
    let mut best = 0.0f64;
    let mut theta = 2.0;
    let mut since = 0;
    for _ in 0..iterations {
        let reduced: Vec<f64> = (0..cov.n_sites)
            .map(|j| {
                if fixed[j] {
                    0.0
                } else {
                    1.0 - cov.items_of(j).iter().map(|&i| u[i as usize]).sum::<f64>()
                }
            })
            .collect();
        let value: f64 = live.iter().map(|&i| u[i]).sum::<f64>()
            + reduced.iter().map(|r| r.min(0.0)).sum::<f64>();
        if value > best + 1e-12 {
            best = value;
            since = 0;
        } else {
            since += 1;
            if since >= 20 {
                theta /= 2.0;
                since = 0;
            }
        }
        if (best + n_fixed - 1e-9).ceil() >= ub || theta < 1e-5 {
            break;
        }
        let mut cnt = vec![0u32; cov.n_items()];
        for j in 0..cov.n_sites {
            if reduced[j] < 0.0 {
                for &i in cov.items_of(j) {
                    cnt[i as usize] += 1;
                }
            }
        }
        let g: Vec<(usize, f64)> = live.iter().map(|&i| (i, 1.0 - f64::from(cnt[i]))).collect();
        let norm: f64 = g.iter().map(|(_, g)| g * g).sum();
        if norm == 0.0 {
            break;
        }
        let step = theta * (ub - n_fixed - value).max(1e-9) / norm;
        for (i, gi) in g {
            u[i] = (u[i] + step * gi).max(0.0);
        }
    }
    (best + n_fixed - 1e-9).ceil().max(n_fixed)
}

// ---------------------------------------------------------------------------
// p-median and p-center over a dense cost matrix.

/// A dense cost matrix, items by sites, kept both row- and column-major.
#[derive(Clone, Debug)]
pub struct DenseCosts {
    pub n_items: usize,
    pub n_sites: usize,
    /// `rows[i * n_sites + j]`.
    rows: Vec<f64>,
    /// `cols[j * n_items + i]`.
    cols: Vec<f64>,
}

impl DenseCosts {
    /// From row-major costs (`n_items × n_sites`); non-finite costs are errors.
    pub fn new(n_items: usize, n_sites: usize, rows: Vec<f64>) -> Result<DenseCosts, String> {
        if rows.len() != n_items * n_sites {
            return Err(format!(
                "{} costs for {n_items} items x {n_sites} sites",
                rows.len()
            ));
        }
        if let Some(k) = rows.iter().position(|c| !(c.is_finite() && *c >= 0.0)) {
            return Err(format!(
                "cost of item {} to site {} is {}",
                k / n_sites.max(1),
                k % n_sites.max(1),
                rows[k]
            ));
        }
        let mut cols = vec![0.0; rows.len()];
        for i in 0..n_items {
            for j in 0..n_sites {
                cols[j * n_items + i] = rows[i * n_sites + j];
            }
        }
        Ok(DenseCosts {
            n_items,
            n_sites,
            rows,
            cols,
        })
    }

    /// From a sparse matrix, pairs it lacks costing `unreachable`.
    pub fn from_sparse(costs: &super::access::CostMatrix, unreachable: f64) -> DenseCosts {
        let (n, m) = (costs.rows.len(), costs.n_supply);
        let mut rows = vec![unreachable; n * m];
        for (i, row) in costs.rows.iter().enumerate() {
            for &(j, c) in row {
                rows[i * m + j as usize] = c;
            }
        }
        let mut cols = vec![0.0; n * m];
        for i in 0..n {
            for j in 0..m {
                cols[j * n + i] = rows[i * m + j];
            }
        }
        DenseCosts {
            n_items: n,
            n_sites: m,
            rows,
            cols,
        }
    }

    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.rows[i * self.n_sites + j]
    }

    fn col(&self, j: usize) -> &[f64] {
        &self.cols[j * self.n_items..(j + 1) * self.n_items]
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.rows[i * self.n_sites..(i + 1) * self.n_sites]
    }

    /// `Σ_i w_i min_{j∈sites} d_ij`.
    pub fn median_cost(&self, w: &[f64], sites: &[u32]) -> f64 {
        (0..self.n_items)
            .map(|i| {
                let r = self.row(i);
                w[i] * sites
                    .iter()
                    .map(|&j| r[j as usize])
                    .fold(f64::INFINITY, f64::min)
            })
            .sum()
    }

    /// `max_i min_{j∈sites} d_ij` over items with positive weight.
    pub fn center_cost(&self, w: &[f64], sites: &[u32]) -> f64 {
        (0..self.n_items)
            .filter(|&i| w[i] > 0.0)
            .map(|i| {
                let r = self.row(i);
                sites
                    .iter()
                    .map(|&j| r[j as usize])
                    .fold(f64::INFINITY, f64::min)
            })
            .fold(0.0, f64::max)
    }
}

/// Nearest and second-nearest open site of every item.
fn nearest_two(d: &DenseCosts, sites: &[u32]) -> Vec<(u32, f64, f64)> {
    (0..d.n_items)
        .into_par_iter()
        .map(|i| {
            let r = d.row(i);
            let (mut b1, mut c1, mut c2) = (u32::MAX, f64::INFINITY, f64::INFINITY);
            for &j in sites {
                let c = r[j as usize];
                if c < c1 || (c == c1 && j < b1) {
                    c2 = c1;
                    c1 = c;
                    b1 = j;
                } else if c < c2 {
                    c2 = c;
                }
            }
            (b1, c1, c2)
        })
        .collect()
}

/// Greedy p-median completion of `start`.
fn median_greedy(d: &DenseCosts, w: &[f64], p: usize, start: &[u32]) -> Vec<u32> {
    let mut sites: Vec<u32> = start.to_vec();
    let mut best: Vec<f64> = (0..d.n_items)
        .map(|i| {
            sites
                .iter()
                .map(|&j| d.get(i, j as usize))
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    let big = d.rows.iter().fold(0.0f64, |a, &b| a.max(b)) * 2.0 + 1.0;
    while sites.len() < p {
        let totals: Vec<f64> = (0..d.n_sites)
            .into_par_iter()
            .map(|j| {
                if sites.contains(&(j as u32)) {
                    return f64::INFINITY;
                }
                d.col(j)
                    .iter()
                    .zip(&best)
                    .zip(w)
                    .map(|((c, b), w)| w * c.min(if b.is_finite() { *b } else { big }))
                    .sum()
            })
            .collect();
        let j = (0..d.n_sites)
            .min_by(|&a, &b| totals[a].total_cmp(&totals[b]).then(a.cmp(&b)))
            .unwrap_or(0);
        sites.push(j as u32);
        for (i, b) in best.iter_mut().enumerate() {
            *b = b.min(d.get(i, j));
        }
    }
    sites
}

/// Swap-based local search for p-median (Resende & Werneck 2004).
fn median_local_search(d: &DenseCosts, w: &[f64], sites: &mut [u32], fixed: &[bool]) {
    let m = d.n_sites;
    loop {
        let near = nearest_two(d, sites);
        let pos_of: std::collections::HashMap<u32, usize> =
            sites.iter().enumerate().map(|(k, &j)| (j, k)).collect();
        let p = sites.len();
        // gain[b] = Σ w max(0, d1 − d_ib); loss[a] = Σ_{φ1=a} w (d2 − d1);
        // extra[a][b] = Σ_{φ1=a, d_ib < d2} w (d2 − max(d_ib, d1)).
        let chunk = 256;
        let (gain, loss, extra) = (0..d.n_items)
            .into_par_iter()
            .chunks(chunk)
            .map(|is| {
                let mut gain = vec![0.0f64; m];
                let mut loss = vec![0.0f64; p];
                let mut extra = vec![0.0f64; p * m];
                for i in is {
                    let (a, d1, d2) = near[i];
                    let wi = w[i];
                    let r = d.row(i);
                    let ka = pos_of[&a];
                    loss[ka] += wi * (d2 - d1);
                    let ex = &mut extra[ka * m..(ka + 1) * m];
                    for (b, &c) in r.iter().enumerate() {
                        if c < d1 {
                            gain[b] += wi * (d1 - c);
                        }
                        if c < d2 {
                            ex[b] += wi * (d2 - c.max(d1));
                        }
                    }
                }
                (gain, loss, extra)
            })
            .reduce(
                || (vec![0.0; m], vec![0.0; p], vec![0.0; p * m]),
                |mut x, y| {
                    x.0.iter_mut().zip(&y.0).for_each(|(a, b)| *a += b);
                    x.1.iter_mut().zip(&y.1).for_each(|(a, b)| *a += b);
                    x.2.iter_mut().zip(&y.2).for_each(|(a, b)| *a += b);
                    x
                },
            );
        let current = d.median_cost(w, sites);
        let mut best: Option<(f64, usize, usize)> = None;
        for (ka, &a) in sites.iter().enumerate() {
            if fixed[a as usize] {
                continue;
            }
            for b in 0..m {
                if pos_of.contains_key(&(b as u32)) {
                    continue;
                }
                let profit = gain[b] - loss[ka] + extra[ka * m + b];
                if profit > 1e-9 * (1.0 + current.abs()) && best.is_none_or(|(x, _, _)| profit > x)
                {
                    best = Some((profit, ka, b));
                }
            }
        }
        match best {
            Some((_, ka, b)) => sites[ka] = b as u32,
            None => return,
        }
    }
}

/// Solve p-median (see the module docs).
pub fn p_median(
    d: &DenseCosts,
    w: &[f64],
    p: usize,
    must_open: &[u32],
    opts: &SolveOptions,
) -> Result<Solution, SitingError> {
    check(p, d.n_sites, must_open)?;
    check_weights(w)?;
    let mut fixed = vec![false; d.n_sites];
    for &j in must_open {
        fixed[j as usize] = true;
    }
    let must: Vec<u32> = (0..d.n_sites as u32)
        .filter(|&j| fixed[j as usize])
        .collect();
    let mut sites = median_greedy(d, w, p, &must);
    median_local_search(d, w, &mut sites, &fixed);
    let mut best = (d.median_cost(w, &sites), sites);

    // Lagrangian lower bound, started from what each item pays now.
    let near = nearest_two(d, &best.1);
    let mut lambda: Vec<f64> = (0..d.n_items).map(|i| w[i] * near[i].1).collect();
    let mut lb = f64::NEG_INFINITY;
    let mut theta = 1.0;
    let mut since = 0;
    let mut starts = Vec::new();
    for it in 0..opts.bound_iterations {
        let rho: Vec<f64> = (0..d.n_sites)
            .into_par_iter()
            .map(|j| {
                d.col(j)
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (w[i] * c - lambda[i]).min(0.0))
                    .sum()
            })
            .collect();
        let chosen = top_p(&rho, p, &fixed, false);
        let value: f64 =
            lambda.iter().sum::<f64>() + chosen.iter().map(|&j| rho[j as usize]).sum::<f64>();
        if lb.is_infinite() || value > lb + 1e-12 * lb.abs().max(1.0) {
            lb = lb.max(value);
            since = 0;
        } else {
            since += 1;
            if since >= 15 {
                theta /= 2.0;
                since = 0;
            }
        }
        if it % 50 == 0 {
            starts.push(chosen.clone());
        }
        if best.0 - lb <= 1e-9 * best.0.abs().max(1.0) || theta < 1e-6 {
            break;
        }
        // Subgradient: 1 − Σ_{j∈S} [w_i d_ij < λ_i].
        let g: Vec<f64> = (0..d.n_items)
            .into_par_iter()
            .map(|i| {
                let r = d.row(i);
                1.0 - chosen
                    .iter()
                    .filter(|&&j| w[i] * r[j as usize] < lambda[i])
                    .count() as f64
            })
            .collect();
        let norm: f64 = g.iter().map(|x| x * x).sum();
        if norm == 0.0 {
            break;
        }
        let step = theta * (best.0 - value).max(1e-9) / norm;
        for (l, gi) in lambda.iter_mut().zip(&g) {
            *l += step * gi;
        }
    }
    for s in starts {
        let mut cand = s;
        median_local_search(d, w, &mut cand, &fixed);
        let v = d.median_cost(w, &cand);
        if v < best.0 - 1e-9 {
            best = (v, cand);
        }
    }
    let bound = lb.min(best.0);
    let mut sites = best.1;
    sites.sort_unstable();
    Ok(Solution {
        gap: if best.0 > 0.0 {
            ((best.0 - bound) / best.0).max(0.0)
        } else {
            0.0
        },
        sites,
        objective: best.0,
        bound,
    })
}

/// Solve p-center (see the module docs).
pub fn p_center(
    d: &DenseCosts,
    w: &[f64],
    p: usize,
    must_open: &[u32],
    opts: &SolveOptions,
) -> Result<Solution, SitingError> {
    check(p, d.n_sites, must_open)?;
    check_weights(w)?;
    let items: Vec<usize> = (0..d.n_items).filter(|&i| w[i] > 0.0).collect();
    if items.is_empty() {
        return Ok(Solution {
            sites: must_open.to_vec(),
            objective: 0.0,
            bound: 0.0,
            gap: 0.0,
        });
    }
    let mut radii: Vec<f64> = items.iter().flat_map(|&i| d.row(i).to_vec()).collect();
    radii.sort_by(f64::total_cmp);
    radii.dedup();
    // Never below the farthest item's nearest candidate.
    let floor = items
        .iter()
        .map(|&i| d.row(i).iter().copied().fold(f64::INFINITY, f64::min))
        .fold(0.0, f64::max);
    let lo0 = radii.partition_point(|&r| r < floor);
    let mut fixed = vec![false; d.n_sites];
    for &j in must_open {
        fixed[j as usize] = true;
    }
    let cover_at = |r: f64| {
        let weights: Vec<f64> = (0..d.n_items)
            .map(|i| if w[i] > 0.0 { 1.0 } else { 0.0 })
            .collect();
        let covers: Vec<Vec<u32>> = (0..d.n_items)
            .map(|i| {
                if w[i] > 0.0 {
                    (0..d.n_sites as u32)
                        .filter(|&j| d.get(i, j as usize) <= r)
                        .collect()
                } else {
                    Vec::new()
                }
            })
            .collect();
        Coverage::new(weights, d.n_sites, covers)
    };
    // Upper side: smallest radius at which the heuristic cover fits in p.
    let (mut lo, mut hi) = (lo0, radii.len() - 1);
    let mut best_sites = {
        let cov = cover_at(radii[hi]);
        lscp_greedy(&cov, &cov.coverable(), &fixed)
    };
    while lo < hi {
        let mid = (lo + hi) / 2;
        let cov = cover_at(radii[mid]);
        let s = lscp_greedy(&cov, &cov.coverable(), &fixed);
        if s.len() <= p {
            hi = mid;
            best_sites = s;
        } else {
            lo = mid + 1;
        }
    }
    // Lower side: the largest radius the LSCP bound proves infeasible.
    let (mut a, mut b) = (lo0, hi);
    let mut bound = radii[lo0];
    while a < b {
        let mid = (a + b) / 2;
        let cov = cover_at(radii[mid]);
        let lb = lscp_bound(
            &cov,
            &cov.coverable(),
            &fixed,
            opts.bound_iterations,
            (p + 1) as f64,
        );
        if lb > p as f64 {
            bound = radii[mid + 1];
            a = mid + 1;
        } else {
            b = mid;
        }
    }
    // Fill to p sites by p-median on what is left (never raises the max cost).
    let mut sites = best_sites;
    if sites.len() < p {
        sites = median_greedy(d, w, p, &sites);
    }
    sites.sort_unstable();
    let obj = d.center_cost(w, &sites);
    let bound = bound.min(obj);
    Ok(Solution {
        gap: if obj > 0.0 {
            ((obj - bound) / obj).max(0.0)
        } else {
            0.0
        },
        sites,
        objective: obj,
        bound,
    })
}

// ---------------------------------------------------------------------------
// Capacitated covering.

/// Max flow (Dinic) on a bipartite network source → items (weight) → sites
/// within reach (unbounded) → sink (capacity): the most demand weight the
/// open sites can serve within the radius when each serves at most its
/// capacity and an item's demand may be split between sites.
struct FlowNet {
    head: Vec<usize>,
    next: Vec<usize>,
    to: Vec<usize>,
    cap: Vec<f64>,
}

const NIL: usize = usize::MAX;

impl FlowNet {
    fn new(nodes: usize) -> FlowNet {
        FlowNet {
            head: vec![NIL; nodes],
            next: Vec::new(),
            to: Vec::new(),
            cap: Vec::new(),
        }
    }

    fn edge(&mut self, a: usize, b: usize, c: f64) {
        for (x, y, cc) in [(a, b, c), (b, a, 0.0)] {
            self.next.push(self.head[x]);
            self.to.push(y);
            self.cap.push(cc);
            self.head[x] = self.to.len() - 1;
        }
    }

    fn levels(&self, s: usize) -> Vec<usize> {
        let mut level = vec![NIL; self.head.len()];
        level[s] = 0;
        let mut queue = std::collections::VecDeque::from([s]);
        while let Some(u) = queue.pop_front() {
            let mut e = self.head[u];
            while e != NIL {
                let v = self.to[e];
                if self.cap[e] > 1e-12 && level[v] == NIL {
                    level[v] = level[u] + 1;
                    queue.push_back(v);
                }
                e = self.next[e];
            }
        }
        level
    }

    fn push(&mut self, u: usize, t: usize, f: f64, level: &[usize], it: &mut [usize]) -> f64 {
        if u == t {
            return f;
        }
        while it[u] != NIL {
            let e = it[u];
            let v = self.to[e];
            if self.cap[e] > 1e-12 && level[v] == level[u] + 1 {
                let d = self.push(v, t, f.min(self.cap[e]), level, it);
                if d > 0.0 {
                    self.cap[e] -= d;
                    self.cap[e ^ 1] += d;
                    return d;
                }
            }
            it[u] = self.next[e];
        }
        0.0
    }

    fn max_flow(&mut self, s: usize, t: usize) -> f64 {
        let mut total = 0.0;
        loop {
            let level = self.levels(s);
            if level[t] == NIL {
                return total;
            }
            let mut it = self.head.clone();
            loop {
                let f = self.push(s, t, f64::INFINITY, &level, &mut it);
                if f <= 0.0 {
                    break;
                }
                total += f;
            }
        }
    }
}

/// Demand weight served within the radius by `sites` with capacities
/// (`None` = unlimited), demand splittable: a max flow. Also returns the
/// capacity of the minimum cut found from the final residual network, which
/// equals the flow (a certificate of optimality).
pub fn capacitated_coverage(cov: &Coverage, capacity: &[Option<f64>], sites: &[u32]) -> (f64, f64) {
    let n = cov.n_items();
    let (s, t) = (n + sites.len(), n + sites.len() + 1);
    let mut net = FlowNet::new(n + sites.len() + 2);
    let pos: std::collections::HashMap<u32, usize> =
        sites.iter().enumerate().map(|(k, &j)| (j, k)).collect();
    let mut item_edges = Vec::new();
    for i in 0..n {
        if cov.weight[i] <= 0.0 {
            continue;
        }
        let reach: Vec<usize> = cov
            .sites_of(i)
            .iter()
            .filter_map(|j| pos.get(j).copied())
            .collect();
        if reach.is_empty() {
            continue;
        }
        net.edge(s, i, cov.weight[i]);
        item_edges.push(i);
        for k in reach {
            net.edge(i, n + k, f64::INFINITY);
        }
    }
    for (k, &j) in sites.iter().enumerate() {
        net.edge(n + k, t, capacity[j as usize].unwrap_or(f64::INFINITY));
    }
    let flow = net.max_flow(s, t);
    // The cut: nodes reachable from the source in the residual network.
    let level = net.levels(s);
    let mut cut = 0.0;
    for u in 0..net.head.len() {
        if level[u] == NIL {
            continue;
        }
        let mut e = net.head[u];
        while e != NIL {
            // Forward edges only (even index), from the reachable side to the other.
            if e.is_multiple_of(2) && level[net.to[e]] == NIL {
                cut += net.cap[e] + net.cap[e ^ 1];
            }
            e = net.next[e];
        }
    }
    (flow, cut)
}

/// Capacitated MCLP: choose `p` sites maximising the demand weight served
/// within the radius when site `j` serves at most `capacity[j]` (`None` =
/// unlimited) and an item's demand may be split between sites in reach.
/// *Heuristic*: lazy greedy on the exact marginal gain (a max flow per
/// evaluation; the served weight is submodular in the set of sites, so stale
/// gains are upper bounds). *Bound*: the smaller of the uncapacitated MCLP
/// bound and the sum of the `p` largest capacities (with the must-open sites'
/// capacities), both valid for the capacitated problem.
pub fn mclp_capacitated(
    cov: &Coverage,
    capacity: &[Option<f64>],
    p: usize,
    must_open: &[u32],
    opts: &SolveOptions,
) -> Result<Solution, SitingError> {
    check(p, cov.n_sites, must_open)?;
    check_weights(&cov.weight)?;
    if let Some(k) = capacity
        .iter()
        .position(|c| c.is_some_and(|c| !(c.is_finite() && c >= 0.0)))
    {
        return Err(SitingError::BadWeight(k));
    }
    let uncap = mclp(cov, p, must_open, opts)?;
    let mut sites: Vec<u32> = {
        let mut f = must_open.to_vec();
        f.sort_unstable();
        f.dedup();
        f
    };
    let mut value = capacitated_coverage(cov, capacity, &sites).0;
    // Upper bounds on each site's gain: its capacity and the weight it can reach.
    let mut heap: std::collections::BinaryHeap<(OrdF64, std::cmp::Reverse<u32>, usize)> =
        (0..cov.n_sites as u32)
            .filter(|j| !sites.contains(j))
            .map(|j| {
                let reach: f64 = cov
                    .items_of(j as usize)
                    .iter()
                    .map(|&i| cov.weight[i as usize])
                    .sum();
                let ub = capacity[j as usize].map_or(reach, |c| c.min(reach));
                (OrdF64(ub), std::cmp::Reverse(j), usize::MAX)
            })
            .collect();
    while sites.len() < p {
        let Some((OrdF64(g), std::cmp::Reverse(j), round)) = heap.pop() else {
            break;
        };
        if round == sites.len() {
            sites.push(j);
            value += g;
            continue;
        }
        let mut with = sites.clone();
        with.push(j);
        let gain = (capacitated_coverage(cov, capacity, &with).0 - value).max(0.0);
        heap.push((OrdF64(gain), std::cmp::Reverse(j), sites.len()));
    }
    sites.sort_unstable();
    let value = capacitated_coverage(cov, capacity, &sites).0;
    let mut caps: Vec<f64> = (0..cov.n_sites)
        .filter(|j| !must_open.contains(&(*j as u32)))
        .map(|j| capacity[j].unwrap_or(f64::INFINITY))
        .collect();
    caps.sort_by(|a, b| b.total_cmp(a));
    let fixed: f64 = must_open
        .iter()
        .map(|&j| capacity[j as usize].unwrap_or(f64::INFINITY))
        .sum();
    let cap_bound = fixed
        + caps
            .iter()
            .take(p.saturating_sub(must_open.len()))
            .sum::<f64>();
    let bound = uncap.bound.min(cap_bound).max(value);
    Ok(Solution {
        gap: if bound > 0.0 {
            ((bound - value) / bound).max(0.0)
        } else {
            0.0
        },
        sites,
        objective: value,
        bound,
    })
}

/// f64 ordered for the heap (gains are finite and not negative).
#[derive(Clone, Copy, PartialEq)]
struct OrdF64(f64);

impl Eq for OrdF64 {}

impl PartialOrd for OrdF64 {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrdF64 {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}
