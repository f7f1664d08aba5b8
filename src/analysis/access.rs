//! Access to premises: travel costs, nearest premises and catchments, bands,
//! provider choice, floating-catchment accessibility and coverage gaps.
//!
//! Costs are held in a sparse [`CostMatrix`] from demand points (areas) to
//! supply points (premises), in seconds of travel. They come either from the
//! road network (see [`crate::spatial::network`]) or, when none is configured,
//! from straight-line distance × a stated circuity factor at a stated speed.
//!
//! **Two-step floating catchment area (2SFCA, Luo & Wang 2003)** and its
//! enhanced form (**E2SFCA**, Luo & Qi 2009), as pysal `access` computes them:
//! with `w(c)` the decay weight of cost `c` (1 for plain 2SFCA) and only pairs
//! with `c < max_cost` counted (all pairs of the matrix when no maximum is given),
//!
//! 1. for each supply `j`: `R_j = S_j / Σ_i P_i · w(c_ij)`;
//! 2. for each demand `i`: `A_i = Σ_j R_j · w(c_ij)`.
//!
//! `S_j` is a capacity, `P_i` a demand (population, need or referrals);
//! `A_i` is supply per unit of demand within reach. A supply with no demand
//! within reach has no ratio and contributes nothing; a demand point with no
//! counted pair has no score (pysal gives NaN), and one whose pairs all weigh 0
//! scores 0.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Travel costs from demand points to supply points, row by demand point,
/// `(supply index, cost in seconds)` sorted by supply index.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CostMatrix {
    pub n_supply: usize,
    pub rows: Vec<Vec<(u32, f64)>>,
}

impl CostMatrix {
    /// Straight-line costs: `distance_m × circuity / speed`, for pairs within `max_s`.
    pub fn straight_line(
        demand: &[[f64; 2]],
        supply: &[[f64; 2]],
        circuity: f64,
        speed_kmh: f64,
        max_s: f64,
    ) -> CostMatrix {
        let mps = speed_kmh / 3.6;
        let rows = demand
            .par_iter()
            .map(|d| {
                supply
                    .iter()
                    .enumerate()
                    .filter_map(|(j, s)| {
                        let dist_m = ((d[0] - s[0]).powi(2) + (d[1] - s[1]).powi(2)).sqrt();
                        let t = dist_m * circuity / mps;
                        (t <= max_s).then_some((j as u32, t))
                    })
                    .collect()
            })
            .collect();
        CostMatrix {
            n_supply: supply.len(),
            rows,
        }
    }

    /// Network travel times: from each supply point, a one-to-all search over
    /// the road network starting at its nearest node (after a connector leg
    /// at `connector_speed_kmh`), read at each demand point's nearest node
    /// plus its own connector leg. Pairs beyond `max_s` are left out, as are
    /// points whose nearest node is in another part of the network.
    pub fn from_network(
        network: &crate::spatial::network::RoadNetwork,
        demand: &[[f64; 2]],
        supply: &[[f64; 2]],
        connector_speed_kmh: f64,
        max_s: f64,
    ) -> CostMatrix {
        let mps = connector_speed_kmh / 3.6;
        let snap = |p: &[f64; 2]| network.nearest_node(p[0], p[1]).map(|(n, d)| (n, d / mps));
        let demand_nodes: Vec<Option<(u32, f64)>> = demand.iter().map(snap).collect();
        let columns: Vec<Vec<(u32, f64)>> = supply
            .par_iter()
            .map(|s| {
                let Some((node, leg)) = snap(s) else {
                    return Vec::new();
                };
                let times = network.one_to_all(&[(node, leg)], max_s);
                demand_nodes
                    .iter()
                    .enumerate()
                    .filter_map(|(i, dn)| {
                        let (n, leg_i) = (*dn)?;
                        let t = f64::from(times[n as usize]) + leg_i;
                        (t.is_finite() && t <= max_s).then_some((i as u32, t))
                    })
                    .collect()
            })
            .collect();
        let mut rows: Vec<Vec<(u32, f64)>> = vec![Vec::new(); demand.len()];
        for (j, col) in columns.into_iter().enumerate() {
            for (i, t) in col {
                rows[i as usize].push((j as u32, t));
            }
        }
        CostMatrix {
            n_supply: supply.len(),
            rows,
        }
    }

    /// Number of demand points.
    pub fn n_demand(&self) -> usize {
        self.rows.len()
    }

    /// Cost from demand `i` to supply `j`, if within the matrix's reach.
    pub fn get(&self, i: usize, j: u32) -> Option<f64> {
        let row = self.rows.get(i)?;
        row.binary_search_by_key(&j, |p| p.0).ok().map(|k| row[k].1)
    }
}

/// A distance-decay function of travel cost (seconds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Decay {
    /// Weight 1 at any cost (plain 2SFCA within the maximum cost).
    None,
    /// Steps: the weight of the first break with `cost <= upper_s`, 0 beyond the last.
    /// E2SFCA's default is 1.00 / 0.68 / 0.22 at 10 / 20 / 30 minutes (pysal `access`).
    Step { steps: Vec<(f64, f64)> },
    /// `1 − cost / upper_s` up to `upper_s`, then 0.
    Linear { upper_s: f64 },
    /// `exp(−cost / scale_s)`.
    Exponential { scale_s: f64 },
    /// `exp(−cost² / (2 σ²))`, 1 at cost 0 (no normalising constant, as pysal).
    Gaussian { sigma_s: f64 },
}

impl Decay {
    /// E2SFCA's default steps: 1.00 within 10 min, 0.68 within 20, 0.22 within 30.
    pub fn e2sfca_default() -> Decay {
        Decay::Step {
            steps: vec![(600.0, 1.0), (1200.0, 0.68), (1800.0, 0.22)],
        }
    }

    /// The weight at `cost_s`.
    pub fn weight(&self, cost_s: f64) -> f64 {
        match self {
            Decay::None => 1.0,
            // The step with the smallest upper bound at or above the cost (no
            // allocation: this runs for every pair, twice).
            Decay::Step { steps } => steps
                .iter()
                .filter(|(upper, _)| cost_s <= *upper)
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .map_or(0.0, |s| s.1),
            Decay::Linear { upper_s } => {
                if cost_s <= *upper_s && *upper_s > 0.0 {
                    1.0 - cost_s / upper_s
                } else {
                    0.0
                }
            }
            Decay::Exponential { scale_s } => (-cost_s / scale_s).exp(),
            Decay::Gaussian { sigma_s } => (-cost_s * cost_s / (2.0 * sigma_s * sigma_s)).exp(),
        }
    }

    /// Parse `none`, `e2sfca`, `step:600=1,1200=0.68,1800=0.22`, `linear:SECONDS`,
    /// `exponential:SECONDS` or `gaussian:SECONDS`, and check the parameters.
    pub fn parse(s: &str) -> Result<Decay, String> {
        let (kind, arg) = s.split_once(':').unwrap_or((s, ""));
        let num = |a: &str| {
            a.trim()
                .parse::<f64>()
                .map_err(|_| format!("decay {s:?}: {a:?} is not a number"))
        };
        let d = match kind {
            "none" => Decay::None,
            "e2sfca" => Decay::e2sfca_default(),
            "linear" => Decay::Linear { upper_s: num(arg)? },
            "exponential" => Decay::Exponential { scale_s: num(arg)? },
            "gaussian" => Decay::Gaussian { sigma_s: num(arg)? },
            "step" => {
                let mut steps = Vec::new();
                for part in arg.split(',') {
                    let (u, w) = part
                        .split_once('=')
                        .ok_or_else(|| format!("decay {s:?}: steps are UPPER_S=WEIGHT separated by commas"))?;
                    steps.push((num(u)?, num(w)?));
                }
                Decay::Step { steps }
            }
            other => {
                return Err(format!(
                    "unknown decay {other:?}: use none, e2sfca, step:..., linear:S, exponential:S or gaussian:S"
                ))
            }
        };
        d.validate()?;
        Ok(d)
    }

    /// Check parameters.
    pub fn validate(&self) -> Result<(), String> {
        let ok = match self {
            Decay::None => true,
            Decay::Step { steps } => {
                !steps.is_empty()
                    && steps
                        .iter()
                        .all(|(u, w)| u.is_finite() && *u >= 0.0 && w.is_finite() && *w >= 0.0)
            }
            Decay::Linear { upper_s } => upper_s.is_finite() && *upper_s > 0.0,
            Decay::Exponential { scale_s } => scale_s.is_finite() && *scale_s > 0.0,
            Decay::Gaussian { sigma_s } => sigma_s.is_finite() && *sigma_s > 0.0,
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "decay parameters must be finite and positive: {self:?}"
            ))
        }
    }
}

/// Two-step floating catchment area scores (see the module docs); `None` where
/// no supply is within reach. `max_cost_s` excludes pairs with cost >= it.
pub fn floating_catchment(
    demand: &[f64],
    supply: &[f64],
    costs: &CostMatrix,
    max_cost_s: Option<f64>,
    decay: &Decay,
) -> Vec<Option<f64>> {
    let counted = |c: f64| max_cost_s.is_none_or(|m| c < m);
    let mut demand_at = vec![0.0f64; supply.len()];
    let mut reached = vec![false; supply.len()];
    for (i, row) in costs.rows.iter().enumerate() {
        for &(j, c) in row {
            if counted(c) {
                let w = decay.weight(c);
                demand_at[j as usize] += demand[i] * w;
                reached[j as usize] = true;
            }
        }
    }
    let ratio: Vec<Option<f64>> = supply
        .iter()
        .zip(demand_at.iter().zip(&reached))
        .map(|(s, (d, r))| (*r && *d > 0.0).then(|| s / d))
        .collect();
    costs
        .rows
        .iter()
        .map(|row| {
            let mut any = false;
            let mut a = 0.0;
            for &(j, c) in row {
                if counted(c) {
                    if let Some(r) = ratio[j as usize] {
                        a += r * decay.weight(c);
                        any = true;
                    }
                }
            }
            any.then_some(a)
        })
        .collect()
}

/// The nearest supply (by cost) for each demand point: `(supply, cost_s)`;
/// ties go to the lower supply index. `None` where nothing is within reach.
pub fn nearest_by_cost(costs: &CostMatrix) -> Vec<Option<(u32, f64)>> {
    costs
        .rows
        .iter()
        .map(|row| {
            row.iter()
                .copied()
                .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
        })
        .collect()
}

/// Number of distinct providers reachable within `threshold_s` from each
/// demand point; `provider[j]` names supply `j`'s provider (`None` counts as its own).
pub fn provider_choice(
    costs: &CostMatrix,
    provider: &[Option<String>],
    threshold_s: f64,
) -> Vec<usize> {
    costs
        .rows
        .iter()
        .map(|row| {
            let mut seen: Vec<String> = row
                .iter()
                .filter(|(_, c)| *c <= threshold_s)
                .map(|(j, _)| {
                    provider[*j as usize]
                        .clone()
                        .unwrap_or_else(|| format!("#{j}"))
                })
                .collect();
            seen.sort();
            seen.dedup();
            seen.len()
        })
        .collect()
}

/// Totals of a demand measure within cumulative cost bands of each supply:
/// `result[j][b]` = Σ demand of points whose cost to `j` is <= `bands_s[b]`.
pub fn within_bands(costs: &CostMatrix, demand: &[f64], bands_s: &[f64]) -> Vec<Vec<f64>> {
    let mut out = vec![vec![0.0; bands_s.len()]; costs.n_supply];
    for (i, row) in costs.rows.iter().enumerate() {
        for &(j, c) in row {
            for (b, &t) in bands_s.iter().enumerate() {
                if c <= t {
                    out[j as usize][b] += demand[i];
                }
            }
        }
    }
    out
}

/// Nearest point of `sites` to each query point by straight-line distance:
/// `(site, distance_m)`. A uniform grid over the sites
/// (about one site every two cells) is searched in rings of cells outward until
/// no closer site can exist.
pub struct NearestSites {
    sites: Vec<[f64; 2]>,
    x0: f64,
    y0: f64,
    cell: f64,
    nx: usize,
    ny: usize,
    start: Vec<u32>,
    items: Vec<u32>,
}

impl NearestSites {
    /// Index sites (metres).
    pub fn new(sites: &[[f64; 2]]) -> NearestSites {
        let n = sites.len().max(1);
        let (mut x0, mut y0, mut x1, mut y1) = (
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        );
        for s in sites {
            x0 = x0.min(s[0]);
            y0 = y0.min(s[1]);
            x1 = x1.max(s[0]);
            y1 = y1.max(s[1]);
        }
        if sites.is_empty() {
            (x0, y0, x1, y1) = (0.0, 0.0, 1.0, 1.0);
        }
        let (w, h) = ((x1 - x0).max(1.0), (y1 - y0).max(1.0));
        let cell = ((w * h) / (n as f64 * 2.0)).sqrt().max(1.0);
        let nx = ((w / cell).floor() as usize + 1).min(4096);
        let ny = ((h / cell).floor() as usize + 1).min(4096);
        let cell = (w / nx as f64).max(h / ny as f64).max(1e-9) * 1.000_001;
        let key = |s: &[f64; 2]| {
            let cx = (((s[0] - x0) / cell) as usize).min(nx - 1);
            let cy = (((s[1] - y0) / cell) as usize).min(ny - 1);
            cy * nx + cx
        };
        let mut start = vec![0u32; nx * ny + 1];
        for s in sites {
            start[key(s) + 1] += 1;
        }
        for c in 0..nx * ny {
            start[c + 1] += start[c];
        }
        let mut fill = start.clone();
        let mut items = vec![0u32; sites.len()];
        for (i, s) in sites.iter().enumerate() {
            let k = key(s);
            items[fill[k] as usize] = i as u32;
            fill[k] += 1;
        }
        NearestSites {
            sites: sites.to_vec(),
            x0,
            y0,
            cell,
            nx,
            ny,
            start,
            items,
        }
    }

    /// The nearest site to `(x, y)`; ties go to the lower site index.
    pub fn nearest(&self, x: f64, y: f64) -> Option<(u32, f64)> {
        if self.sites.is_empty() {
            return None;
        }
        let fx = ((x - self.x0) / self.cell).floor();
        let fy = ((y - self.y0) / self.cell).floor();
        let cx = fx.clamp(0.0, (self.nx - 1) as f64) as i64;
        let cy = fy.clamp(0.0, (self.ny - 1) as f64) as i64;
        let (nx, ny) = (self.nx as i64, self.ny as i64);
        // Distance from the point to the clamped cell's box (0 inside the grid).
        let outside = {
            let bx0 = self.x0;
            let by0 = self.y0;
            let bx1 = self.x0 + self.cell * nx as f64;
            let by1 = self.y0 + self.cell * ny as f64;
            let dx = (bx0 - x).max(0.0).max(x - bx1);
            let dy = (by0 - y).max(0.0).max(y - by1);
            (dx * dx + dy * dy).sqrt()
        };
        let mut best: Option<(u32, f64)> = None;
        let max_ring = nx.max(ny);
        for r in 0..=max_ring {
            // Any site in ring r is at least (r - 1) cells away, and never nearer
            // than the grid's box.
            if let Some((_, d2)) = best {
                let bound = ((r - 1).max(0) as f64 * self.cell).max(outside);
                if bound * bound > d2 {
                    break;
                }
            }
            let (ylo, yhi) = (cy - r, cy + r);
            let (xlo, xhi) = (cx - r, cx + r);
            for gy in ylo.max(0)..=yhi.min(ny - 1) {
                let edge_row = gy == ylo || gy == yhi;
                let mut gx = xlo.max(0);
                while gx <= xhi.min(nx - 1) {
                    let c = (gy * nx + gx) as usize;
                    for &i in &self.items[self.start[c] as usize..self.start[c + 1] as usize] {
                        let s = self.sites[i as usize];
                        let d2 = (s[0] - x).powi(2) + (s[1] - y).powi(2);
                        match best {
                            Some((bi, bd)) if d2 > bd || (d2 == bd && i > bi) => {}
                            _ => best = Some((i, d2)),
                        }
                    }
                    gx = if edge_row || gx == xhi.min(nx - 1) || gx >= xhi {
                        gx + 1
                    } else {
                        xhi.max(gx + 1)
                    };
                }
            }
        }
        best.map(|(i, d2)| (i, d2.sqrt()))
    }

    /// Nearest sites for many points, in parallel.
    pub fn nearest_all(&self, xs: &[f64], ys: &[f64]) -> Vec<Option<(u32, f64)>> {
        xs.par_iter()
            .zip(ys.par_iter())
            .with_min_len(4096)
            .map(|(&x, &y)| self.nearest(x, y))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(costs: &[&[Option<f64>]]) -> CostMatrix {
        CostMatrix {
            n_supply: costs[0].len(),
            rows: costs
                .iter()
                .map(|r| {
                    r.iter()
                        .enumerate()
                        .filter_map(|(j, c)| c.map(|c| (j as u32, c)))
                        .collect()
                })
                .collect(),
        }
    }

    /// Three supplies, four demand points, worked by hand.
    ///
    /// Costs (minutes): d0: s0 5, s1 25; d1: s0 15; d2: s1 8, s2 12; d3: s2 35.
    /// Populations 100, 200, 300, 400; capacities 10, 20, 30; max cost 30 min.
    /// 2SFCA: demand within reach: s0 = 100 + 200 = 300, s1 = 100 + 300 = 400,
    /// s2 = 300 (d3 is 35 min away). Ratios: 10/300, 20/400, 30/300.
    /// A: d0 = 1/30 + 1/20 = 0.0833…, d1 = 1/30, d2 = 1/20 + 1/10 = 0.15, d3 none.
    /// E2SFCA (1 / 0.68 / 0.22 at 10/20/30 min): weighted demand s0 = 100 + 0.68·200 = 236,
    /// s1 = 0.22·100 + 300 = 322, s2 = 0.68·300 = 204; A d0 = 10/236 + 0.22·20/322,
    /// d1 = 0.68·10/236, d2 = 20/322 + 0.68·30/204.
    #[test]
    fn hand_worked_three_supplies_four_demands() {
        let m = |v: f64| Some(v * 60.0);
        let costs = matrix(&[
            &[m(5.0), m(25.0), None],
            &[m(15.0), None, None],
            &[None, m(8.0), m(12.0)],
            &[None, None, m(35.0)],
        ]);
        let pop = [100.0, 200.0, 300.0, 400.0];
        let cap = [10.0, 20.0, 30.0];
        let a = floating_catchment(&pop, &cap, &costs, Some(1800.0), &Decay::None);
        let close = |x: Option<f64>, y: f64| x.is_some_and(|x| (x - y).abs() < 1e-12);
        assert!(close(a[0], 10.0 / 300.0 + 20.0 / 400.0), "{a:?}");
        assert!(close(a[1], 10.0 / 300.0));
        assert!(close(a[2], 20.0 / 400.0 + 30.0 / 300.0));
        assert_eq!(a[3], None);
        let e = floating_catchment(&pop, &cap, &costs, None, &Decay::e2sfca_default());
        assert!(close(e[0], 10.0 / 236.0 + 0.22 * 20.0 / 322.0), "{e:?}");
        assert!(close(e[1], 0.68 * 10.0 / 236.0));
        assert!(close(e[2], 20.0 / 322.0 + 0.68 * 30.0 / 204.0));
        // d3's only pair (35 min) is counted with weight 0, as pysal counts it.
        assert_eq!(e[3], Some(0.0));
    }

    #[test]
    fn decay_functions() {
        let s = Decay::e2sfca_default();
        assert_eq!(s.weight(0.0), 1.0);
        assert_eq!(s.weight(600.0), 1.0);
        assert_eq!(s.weight(601.0), 0.68);
        assert_eq!(s.weight(1800.0), 0.22);
        assert_eq!(s.weight(1801.0), 0.0);
        assert_eq!(Decay::Linear { upper_s: 100.0 }.weight(25.0), 0.75);
        assert!((Decay::Gaussian { sigma_s: 20.0 }.weight(20.0) - (-0.5f64).exp()).abs() < 1e-15);
        assert!(
            (Decay::Exponential { scale_s: 10.0 }.weight(10.0) - (-1.0f64).exp()).abs() < 1e-15
        );
        assert!(Decay::Linear { upper_s: -1.0 }.validate().is_err());
    }

    #[test]
    fn nearest_sites_equal_brute_force() {
        let mut state = 7u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for n_sites in [1usize, 2, 7, 100, 500] {
            let sites: Vec<[f64; 2]> = (0..n_sites).map(|_| [next() * 1e5, next() * 5e4]).collect();
            let idx = NearestSites::new(&sites);
            for _ in 0..2000 {
                // Some points well outside the sites' box.
                let (x, y) = (next() * 1.6e5 - 3e4, next() * 9e4 - 2e4);
                let got = idx.nearest(x, y).expect("some site");
                let want = sites
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (i as u32, ((s[0] - x).powi(2) + (s[1] - y).powi(2)).sqrt()))
                    .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
                    .expect("sites");
                assert!(
                    (got.1 - want.1).abs() < 1e-9,
                    "{n_sites} sites at ({x}, {y}): {got:?} vs {want:?}"
                );
            }
        }
    }
}

/// A point that stands for an area: its centroid when that lies inside the
/// area, otherwise a point guaranteed inside (geo's interior point).
pub fn representative_point(mp: &geo::MultiPolygon<f64>) -> Option<[f64; 2]> {
    use geo::{Centroid, Contains, InteriorPoint};
    if let Some(c) = mp.centroid() {
        if mp.contains(&c) {
            return Some([c.x(), c.y()]);
        }
    }
    mp.interior_point().map(|p| [p.x(), p.y()])
}

/// Population within a straight-line distance of the nearest site, by SIMD quintile.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CoverageByQuintile {
    pub threshold_m: f64,
    /// Index 0-4: SIMD quintiles 1-5; index 5: areas without SIMD.
    pub population_within: [f64; 6],
    pub population: [f64; 6],
}

impl CoverageByQuintile {
    /// Share of the population within the threshold, per quintile slot.
    pub fn share(&self, slot: usize) -> Option<f64> {
        (self.population[slot] > 0.0).then(|| self.population_within[slot] / self.population[slot])
    }

    /// Totals over every slot: (within, all).
    pub fn total(&self) -> (f64, f64) {
        (
            self.population_within.iter().sum(),
            self.population.iter().sum(),
        )
    }
}

/// For each threshold, the population of areas whose representative point lies
/// within that straight-line distance of some site, by SIMD quintile.
pub fn population_within_distance(
    areas: &[crate::model::Area],
    sites: &[[f64; 2]],
    thresholds_m: &[f64],
) -> Vec<CoverageByQuintile> {
    let index = NearestSites::new(sites);
    let nearest: Vec<(Option<f64>, usize, f64)> = areas
        .par_iter()
        .map(|a| {
            let d = representative_point(&a.geometry)
                .and_then(|p| index.nearest(p[0], p[1]))
                .map(|x| x.1);
            let slot = a.simd.map_or(5, |s| (s.quintile.clamp(1, 5) - 1) as usize);
            (d, slot, a.population.unwrap_or(0.0))
        })
        .collect();
    thresholds_m
        .iter()
        .map(|&t| {
            let mut c = CoverageByQuintile {
                threshold_m: t,
                population_within: [0.0; 6],
                population: [0.0; 6],
            };
            for &(d, slot, pop) in &nearest {
                c.population[slot] += pop;
                if d.is_some_and(|d| d <= t) {
                    c.population_within[slot] += pop;
                }
            }
            c
        })
        .collect()
}

/// Settings for [`access_table`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AccessParams {
    /// Travel-time threshold for provider choice and 2SFCA catchments, seconds.
    pub threshold_s: f64,
    /// Fewer providers than this within the threshold is a choice desert.
    pub desert_below: usize,
    /// Straight-line travel: network distance / straight distance.
    pub circuity: f64,
    /// Straight-line travel speed, km/h.
    pub speed_kmh: f64,
    /// What an area's demand is in 2SFCA/E2SFCA.
    pub demand: DemandMeasure,
    /// Distance decay of the enhanced score (default: E2SFCA's steps).
    pub decay: Decay,
}

/// Demand of an area in floating-catchment scores.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DemandMeasure {
    /// Resident population.
    #[default]
    Population,
    /// Need-weighted population: population × need score / 100.
    Need,
}

impl DemandMeasure {
    /// Demand per area from the areas and (for `Need`) their need scores.
    pub fn values(
        &self,
        areas: &[crate::model::Area],
        need: Option<&super::need::NeedMap>,
    ) -> Vec<f64> {
        areas
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let pop = a.population.unwrap_or(0.0);
                match (self, need) {
                    (DemandMeasure::Need, Some(n)) => {
                        pop * n.areas[i].need_score.unwrap_or(0.0) / 100.0
                    }
                    _ => pop,
                }
            })
            .collect()
    }
}

impl Default for AccessParams {
    fn default() -> Self {
        AccessParams {
            threshold_s: 900.0,
            desert_below: 2,
            circuity: 1.3,
            speed_kmh: 30.0,
            demand: DemandMeasure::Population,
            decay: Decay::e2sfca_default(),
        }
    }
}

/// Access from one area to one kind of premises.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AreaAccess {
    /// Index of the nearest premises among those given, by travel time.
    pub nearest: Option<u32>,
    pub distance_m: Option<f64>,
    pub travel_time_s: Option<f64>,
    /// Distinct providers within the threshold.
    pub providers_within: usize,
    /// Premises within the threshold.
    pub premises_within: usize,
    pub choice_desert: bool,
    /// 2SFCA score (capacity per resident within the threshold).
    pub access_2sfca: Option<f64>,
    /// Enhanced score with the distance decay of [`AccessParams::decay`]
    /// (E2SFCA's steps 1 / 0.68 / 0.22 at 10 / 20 / 30 min by default).
    pub access_e2sfca: Option<f64>,
}

/// How travel is costed.
#[derive(Clone, Copy)]
pub enum Travel<'a> {
    /// Straight line × circuity at a speed ([`AccessParams`]).
    StraightLine,
    /// The road network, with a connector leg at this speed (km/h) at each end.
    Network(&'a crate::spatial::network::RoadNetwork, f64),
}

impl Travel<'_> {
    /// The cost matrix from demand to supply points within `max_s`.
    pub fn matrix(
        &self,
        demand: &[[f64; 2]],
        supply: &[[f64; 2]],
        p: &AccessParams,
        max_s: f64,
    ) -> CostMatrix {
        match self {
            Travel::StraightLine => {
                CostMatrix::straight_line(demand, supply, p.circuity, p.speed_kmh, max_s)
            }
            Travel::Network(net, connector) => {
                CostMatrix::from_network(net, demand, supply, *connector, max_s)
            }
        }
    }

    /// A short description for outputs.
    pub fn describe(&self, p: &AccessParams) -> String {
        match self {
            Travel::StraightLine => {
                format!("straight line x {} at {} km/h", p.circuity, p.speed_kmh)
            }
            Travel::Network(_, c) => {
                format!("road network, {c} km/h to and from the nearest road node")
            }
        }
    }
}

/// Per-area access to a set of premises over straight-line travel times
/// (`distance × circuity / speed`): nearest premises, provider choice, choice
/// deserts, 2SFCA and E2SFCA with population as demand and capacity as supply
/// (1 where unknown).
pub fn access_table(
    areas: &[crate::model::Area],
    premises: &[&crate::model::Premises],
    p: &AccessParams,
) -> Vec<AreaAccess> {
    access_table_by(areas, premises, p, Travel::StraightLine, None)
}

/// [`access_table`] with travel costed as given (straight line or road network)
/// and demand as [`AccessParams::demand`] says (need scores come from `need`).
/// Distances are straight-line metres to the premises nearest in time.
pub fn access_table_by(
    areas: &[crate::model::Area],
    premises: &[&crate::model::Premises],
    p: &AccessParams,
    travel: Travel<'_>,
    need: Option<&super::need::NeedMap>,
) -> Vec<AreaAccess> {
    let sites: Vec<[f64; 2]> = premises.iter().map(|x| [x.x_m, x.y_m]).collect();
    let points: Vec<[f64; 2]> = areas
        .iter()
        .map(|a| representative_point(&a.geometry).unwrap_or([f64::NAN, f64::NAN]))
        .collect();
    let costs = travel.matrix(&points, &sites, p, p.threshold_s.max(1800.0));
    let nearest = nearest_by_cost(&costs);
    let providers: Vec<Option<String>> = premises
        .iter()
        .map(|x| x.provider.clone().or_else(|| Some(x.code.clone())))
        .collect();
    let choice = provider_choice(&costs, &providers, p.threshold_s);
    let demand: Vec<f64> = p.demand.values(areas, need);
    let capacity: Vec<f64> = premises.iter().map(|x| x.capacity.unwrap_or(1.0)).collect();
    let two = floating_catchment(
        &demand,
        &capacity,
        &costs,
        Some(p.threshold_s),
        &Decay::None,
    );
    let enh = floating_catchment(&demand, &capacity, &costs, None, &p.decay);
    // The nearest premises may lie beyond the matrix's reach: find it directly then.
    let grid = NearestSites::new(&sites);
    let mps = p.speed_kmh / 3.6;
    (0..areas.len())
        .map(|i| {
            let near = nearest[i].or_else(|| {
                grid.nearest(points[i][0], points[i][1])
                    .map(|(j, d)| (j, d * p.circuity / mps))
            });
            let straight_m = |j: u32| {
                let q = sites[j as usize];
                ((q[0] - points[i][0]).powi(2) + (q[1] - points[i][1]).powi(2)).sqrt()
            };
            AreaAccess {
                nearest: near.map(|n| n.0),
                distance_m: near.map(|n| straight_m(n.0)),
                travel_time_s: near.map(|n| n.1),
                providers_within: choice[i],
                premises_within: costs.rows[i]
                    .iter()
                    .filter(|(_, c)| *c <= p.threshold_s)
                    .count(),
                choice_desert: choice[i] < p.desert_below,
                access_2sfca: two[i],
                access_e2sfca: enh[i],
            }
        })
        .collect()
}

/// What lies within reach of one premises (SHAPE's headline figure) and who
/// its nearest-premises catchment serves.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PremisesReach {
    /// Index among the premises given.
    pub premises: u32,
    /// Cumulative travel-time bands, seconds.
    pub bands_s: Vec<f64>,
    /// Residents of areas within each band.
    pub population: Vec<f64>,
    /// Need-weighted residents within each band: Σ population × need score / 100.
    pub need: Vec<f64>,
    /// Referrals from areas within each band (exact: protect before publishing).
    pub referrals: Vec<f64>,
    /// Residents of the areas for which this is the nearest premises.
    pub catchment_population: f64,
    /// Share of the catchment's residents in SIMD quintiles 1-5.
    pub catchment_simd_share: [Option<f64>; 5],
}

/// Per premises: population, need and referrals within each band (travel
/// costed as given), and the SIMD profile of its nearest-premises catchment
/// (the straight-line nearest).
pub fn premises_reach(
    areas: &[crate::model::Area],
    need: &super::need::NeedMap,
    premises: &[&crate::model::Premises],
    bands_s: &[f64],
    p: &AccessParams,
    travel: Travel<'_>,
) -> Vec<PremisesReach> {
    let sites: Vec<[f64; 2]> = premises.iter().map(|x| [x.x_m, x.y_m]).collect();
    let points: Vec<[f64; 2]> = areas
        .iter()
        .map(|a| representative_point(&a.geometry).unwrap_or([f64::NAN, f64::NAN]))
        .collect();
    let max_band = bands_s.iter().copied().fold(0.0, f64::max);
    let costs = travel.matrix(&points, &sites, p, max_band);
    let pop: Vec<f64> = areas.iter().map(|a| a.population.unwrap_or(0.0)).collect();
    let needw: Vec<f64> = need
        .areas
        .iter()
        .zip(&pop)
        .map(|(n, p)| n.need_score.unwrap_or(0.0) / 100.0 * p)
        .collect();
    let refs: Vec<f64> = need.areas.iter().map(|n| n.referrals as f64).collect();
    let bp = within_bands(&costs, &pop, bands_s);
    let bn = within_bands(&costs, &needw, bands_s);
    let br = within_bands(&costs, &refs, bands_s);
    // Catchments: the nearest premises of every area, however far.
    let grid = NearestSites::new(&sites);
    let mut catch_pop = vec![0.0f64; sites.len()];
    let mut catch_q = vec![[0.0f64; 5]; sites.len()];
    let mut catch_simd = vec![0.0f64; sites.len()];
    for (i, a) in areas.iter().enumerate() {
        if let Some((j, _)) = grid.nearest(points[i][0], points[i][1]) {
            let j = j as usize;
            catch_pop[j] += pop[i];
            if let Some(s) = a.simd {
                catch_q[j][(s.quintile.clamp(1, 5) - 1) as usize] += pop[i];
                catch_simd[j] += pop[i];
            }
        }
    }
    (0..sites.len())
        .map(|j| PremisesReach {
            premises: j as u32,
            bands_s: bands_s.to_vec(),
            population: bp[j].clone(),
            need: bn[j].clone(),
            referrals: br[j].clone(),
            catchment_population: catch_pop[j],
            catchment_simd_share: std::array::from_fn(|q| {
                (catch_simd[j] > 0.0).then(|| catch_q[j][q] / catch_simd[j])
            }),
        })
        .collect()
}

/// An area whose nearest premises of a kind is beyond the threshold.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CoverageGap {
    /// Index of the area.
    pub area: u32,
    pub travel_time_s: Option<f64>,
    pub need_score: Option<f64>,
    pub population: Option<f64>,
    /// Exact referrals (protect before publishing).
    pub referrals: u64,
}

/// Areas not within `threshold_s` of any premises, ranked by need score
/// (highest first), then population, then area order.
pub fn coverage_gaps(
    table: &[AreaAccess],
    need: &super::need::NeedMap,
    threshold_s: f64,
) -> Vec<CoverageGap> {
    let mut gaps: Vec<CoverageGap> = table
        .iter()
        .zip(&need.areas)
        .enumerate()
        .filter(|(_, (t, _))| t.travel_time_s.is_none_or(|s| s > threshold_s))
        .map(|(i, (t, n))| CoverageGap {
            area: i as u32,
            travel_time_s: t.travel_time_s,
            need_score: n.need_score,
            population: n.population,
            referrals: n.referrals,
        })
        .collect();
    gaps.sort_by(|a, b| {
        b.need_score
            .unwrap_or(-1.0)
            .total_cmp(&a.need_score.unwrap_or(-1.0))
            .then(
                b.population
                    .unwrap_or(0.0)
                    .total_cmp(&a.population.unwrap_or(0.0)),
            )
            .then(a.area.cmp(&b.area))
    });
    gaps
}
