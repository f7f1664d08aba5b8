//! Anticipatory need (issue 10): trends, hot spots, emerging hot spots,
//! projections and the early-warning list, against independent oracles:
//! series worked by hand, the formulas of Getis & Ord and Anselin evaluated
//! directly, values published in esda's own documentation, exact
//! permutation distributions, synthetic worlds with a planted answer, and
//! held-back periods of the demo region.
//!
//! The comparison with PySAL esda itself on the real data zones is
//! `scripts/crosscheck_hotspots.py`.

use std::collections::HashSet;

use geo::{Coord, LineString, MultiPolygon, Polygon};
use needmap::analysis::boundaries::{Adjacency, Contiguity};
use needmap::analysis::early_warning::{early_warning, Reason, WarningInputs, WarningRules};
use needmap::analysis::hotspots::{
    emerging_hotspots, gi_star, hotspot_table, local_moran, EmergingCategory, EmergingOptions,
    HotspotClass, HotspotOptions, SpatialWeights, Standardisation,
};
use needmap::analysis::projection::{backtest, project, ProjectionOptions, TrendModel};
use needmap::analysis::trends::{
    benjamini_hochberg_all, fit_poisson_trend, mann_kendall, normal_quantile, period_counts,
    trend_table, Direction, PeriodCounts, PeriodKey, TrendOptions, TrendTest,
};
use needmap::config::Period;
use needmap::io::trends_study::{HotspotRequest, HotspotValue, SeriesRequest, WeightsSpec};

use super::{demo_atlas, real_data, Prng};

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

/// Poisson draw by Knuth's multiplication method (fine for the means used here, ≤ 100).
fn poisson(rng: &mut Prng, lambda: f64) -> u64 {
    let limit = (-lambda).exp();
    let (mut k, mut p) = (0, 1.0);
    loop {
        p *= rng.f64();
        if p <= limit {
            return k;
        }
        k += 1;
    }
}

/// A `side × side` grid of 1 km squares (row-major) and its contiguity weights.
fn grid(side: usize, contiguity: Contiguity) -> SpatialWeights {
    let polys: Vec<MultiPolygon<f64>> = (0..side * side)
        .map(|k| {
            let (r, c) = ((k / side) as f64, (k % side) as f64);
            let ring = LineString(
                [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]
                    .iter()
                    .map(|&(x, y)| Coord {
                        x: (c + x) * 1000.0,
                        y: (r + y) * 1000.0,
                    })
                    .collect(),
            );
            MultiPolygon(vec![Polygon::new(ring, vec![])])
        })
        .collect();
    let refs: Vec<&MultiPolygon<f64>> = polys.iter().collect();
    SpatialWeights::from_adjacency(&Adjacency::from_polygons(&refs, contiguity, 0.01))
}

// ------------------------------------------------------------ hand-worked

/// Mann-Kendall by hand. x = 4, 6, 6, 5, 9, 7, 10 (n = 7).
/// Later-minus-earlier signs: from 4: + + + + + + (6); from 6: 0 − + + + (2);
/// from 6: − + + + (2); from 5: + + + (3); from 9: − + (0); from 7: + (1). S = 14.
/// Ties: one pair of 6s: 2·1·9 = 18. Var(S) = (7·6·19 − 18)/18 = 780/18 = 43.333…
/// Z = (14 − 1)/√43.333 = 1.97484…; p = 2(1 − Φ(Z)) = 0.048286… (SciPy 1.17:
/// `2*norm.sf(13/sqrt(780/18))`).
#[test]
fn mann_kendall_worked_by_hand() {
    let mk = mann_kendall(&[4.0, 6.0, 6.0, 5.0, 9.0, 7.0, 10.0]).expect("a test");
    assert_eq!(mk.s, 14);
    assert!(close(mk.var_s, 780.0 / 18.0, 1e-14));
    let z = 13.0 / (780.0f64 / 18.0).sqrt();
    assert!(close(mk.z, z, 1e-14));
    assert!(close(mk.p, 0.048_286_107_676_681_66, 1e-11), "{}", mk.p);
    assert!(close(mk.tau, 14.0 / 21.0, 1e-15));
}

/// Benjamini-Hochberg by hand: p = 0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205
/// (m = 8, given out of order). m·p/rank = 0.008, 0.032, 0.104, 0.082,
/// 0.0672, 0.08, 0.084571…, 0.205; the running minimum from the top gives
/// 0.008, 0.032, 0.0672, 0.0672, 0.0672, 0.08, 0.084571…, 0.205.
#[test]
fn benjamini_hochberg_worked_by_hand() {
    let p = [0.039, 0.001, 0.041, 0.008, 0.205, 0.042, 0.074, 0.06];
    let q = benjamini_hochberg_all(&p);
    let want = [
        0.0672,
        0.008,
        0.0672,
        0.032,
        0.205,
        0.0672,
        0.592 / 7.0,
        0.08,
    ];
    for (k, (a, b)) in q.iter().zip(want).enumerate() {
        assert!(close(*a, b, 1e-14), "{k}: {a} vs {b}");
    }
    // At α = 0.05 the step-up rejects the two smallest only.
    assert_eq!(q.iter().filter(|&&v| v <= 0.05).count(), 2);
}

/// Gi* on a 3×3 grid (rook, values 1…9 row-major), by hand from Ord & Getis's
/// formula z = (Σ w y − ȳ W)/(s √((n W − W²)/(n − 1))) with the self included:
/// n = 9, ȳ = 5, s² = 285/9 − 25 = 20/3.
/// - corner 9 (self, 6, 8): Σ = 23, W = 3: z = 8/(s·√(18/8)) = 8/(1.5 s);
/// - edge 2 (self, 1, 3, 5): Σ = 11, W = 4: z = −9/(s·√(20/8));
/// - centre 5: Σ = 25 = ȳ·5: z = 0.
///
/// Row-standardised (esda's default), z = (local mean − ȳ)/s: corner 9 → (23/3 − 5)/s.
#[test]
fn gi_star_on_a_three_by_three_grid_by_hand() {
    let w = grid(3, Contiguity::Rook);
    let y: Vec<f64> = (1..=9).map(|v| v as f64).collect();
    let s = (20.0f64 / 3.0).sqrt();
    let g = gi_star(&y, &w, Standardisation::Binary);
    assert!(close(g.z[8], 8.0 / (1.5 * s), 1e-13));
    assert!(close(g.z[0], -8.0 / (1.5 * s), 1e-13));
    assert!(close(g.z[1], -9.0 / (s * 2.5f64.sqrt()), 1e-13));
    assert!(g.z[4].abs() < 1e-13);
    assert!(close(g.g[8], 23.0 / 45.0, 1e-15));
    assert!(close(g.expected[8], 3.0 / 9.0, 1e-15));
    let r = gi_star(&y, &w, Standardisation::Row);
    assert!(close(r.z[8], (23.0 / 3.0 - 5.0) / s, 1e-13));
    assert!(close(r.z[1], (11.0 / 4.0 - 5.0) / s, 1e-13));
}

/// The values esda's own documentation prints for `G_Local(..., star=True)`
/// (six points, `DistanceBand(threshold=15)`), checked again with esda 2.9.
#[test]
fn gi_star_matches_the_esda_documentation_example() {
    let pts = [
        [10.0, 10.0],
        [20.0, 10.0],
        [40.0, 10.0],
        [15.0, 20.0],
        [30.0, 20.0],
        [30.0, 30.0],
    ];
    let w = SpatialWeights::distance_band(&pts, 15.0);
    let y = [2.0, 3.0, 3.2, 5.0, 8.0, 7.0];
    let binary = [
        -1.397_276_262_011_544_2,
        -0.289_177_615_627_127_3,
        0.650_649_635_161_037_9,
        -0.289_177_615_627_127_3,
        1.234_520_883_519_873_8,
        2.024_243_309_389_896,
    ];
    let row = [
        -0.624_880_941_040_924,
        -0.091_445_991_371_842_3,
        0.411_506_961_173_291_3,
        -0.091_445_991_371_842_3,
        0.246_904_176_703_975_2,
        1.280_243_879_205_795_5,
    ];
    let b = gi_star(&y, &w, Standardisation::Binary);
    let r = gi_star(&y, &w, Standardisation::Row);
    for k in 0..6 {
        assert!(
            close(b.z[k], binary[k], 1e-12),
            "{k}: {} vs {}",
            b.z[k],
            binary[k]
        );
        assert!(
            close(r.z[k], row[k], 1e-12),
            "{k}: {} vs {}",
            r.z[k],
            row[k]
        );
    }
}

/// Local Moran's I on the same 3×3 grid (rook, row-standardised), by hand:
/// z_i = (y_i − 5)/s with s² = 20/3, Σz² = 9, I_i = (n − 1) z_i lag_i / Σz² = (8/9) z_i lag_i.
/// - corner 9: z = 4/s, lag = (z₆ + z₈)/2 = 2/s: I = (8/9)(8/s²) = 16/15;
/// - edge 2: z = −3/s, lag = (z₁ + z₃ + z₅)/3 = −2/s: I = (8/9)(6/s²) = 0.8;
/// - E[I] = −1/8 (row sums 1); b₂ = (Σz⁴/9) = 708·9/(400·9) = 1.77; for a corner
///   (w_i(2) = 1/2): Var = ½(9 − 1.77)/8 + ½(2·1.77 − 9)/56 − 1/64 = 0.3875.
#[test]
fn local_moran_on_a_three_by_three_grid_by_hand() {
    let w = grid(3, Contiguity::Rook).row_standardised();
    let y: Vec<f64> = (1..=9).map(|v| v as f64).collect();
    let m = local_moran(&y, &w, 0, 1);
    assert!(close(m.i[8], 16.0 / 15.0, 1e-13));
    assert!(close(m.i[0], 16.0 / 15.0, 1e-13));
    assert!(close(m.i[1], 0.8, 1e-13));
    assert!(m.i[4].abs() < 1e-15);
    assert!(close(m.expected[8], -0.125, 1e-15));
    assert!(close(m.variance[8], 0.3875, 1e-13));
    assert!(close(
        m.z[8],
        (16.0 / 15.0 + 0.125) / 0.3875f64.sqrt(),
        1e-13
    ));
    assert_eq!(m.quadrant[8].name(), "HH");
    assert_eq!(m.quadrant[0].name(), "LL");
}

/// Conditional permutation p-values against the exact permutation
/// distribution: with one neighbour each (a path of pairs), the
/// conditionally permuted lag of area i is equally likely to be any of the
/// other n − 1 values, so the exact folded p is computable by enumeration.
#[test]
fn moran_permutation_p_values_agree_with_exact_enumeration() {
    let n = 12;
    // Pairs (0,1), (2,3), …: one neighbour each.
    let rows: Vec<Vec<(u32, f64)>> = (0..n).map(|i| vec![((i ^ 1) as u32, 1.0)]).collect();
    let w = SpatialWeights::from_rows(rows);
    let y = [3.0, 5.0, 1.0, 9.0, 4.0, 4.5, 7.0, 8.0, 2.0, 6.0, 10.0, 0.5];
    let perms = 19_999;
    let m = local_moran(&y, &w, perms, 42);
    let mean = y.iter().sum::<f64>() / n as f64;
    for i in 0..n {
        // Exact: share of the other values v with I(v) ≥ I_obs, folded, as a probability.
        let zi = y[i] - mean;
        let obs = zi * (y[i ^ 1] - mean);
        let ge = (0..n)
            .filter(|&j| j != i)
            .filter(|&j| zi * (y[j] - mean) >= obs - 1e-12)
            .count() as f64
            / (n - 1) as f64;
        let exact = ge.min(1.0 - ge);
        // Monte Carlo: (larger + 1)/(perms + 1), standard error √(p(1 − p)/perms).
        let sim = m.p_sim[i];
        let se = (exact.max(1e-3) * (1.0 - exact) / perms as f64).sqrt();
        assert!(
            (sim - exact).abs() <= 5.0 * se + 2.0 / perms as f64,
            "area {i}: p_sim {sim} vs exact {exact}"
        );
    }
    // Seeded: the same draws again.
    assert_eq!(local_moran(&y, &w, perms, 42).p_sim, m.p_sim);
}

// ------------------------------------------------------------ synthetic worlds

const SIDE: usize = 12;
const PERIODS: usize = 12;
/// The planted cluster: rows and columns 3, 4, 5 (centre row 4, column 4).
fn in_cluster(k: usize) -> bool {
    let (r, c) = (k / SIDE, k % SIDE);
    (3..6).contains(&r) && (3..6).contains(&c)
}
/// Chebyshev distance from the cluster block.
fn ring(k: usize) -> usize {
    let (r, c) = (k / SIDE, k % SIDE);
    let d = |v: usize| if v < 3 { 3 - v } else { v.saturating_sub(5) };
    d(r).max(d(c))
}
const CENTRE: usize = 4 * SIDE + 4;

/// Counts of 144 areas of 1,000 residents over 12 periods: Poisson(10)
/// everywhere, plus `excess(t)` in the cluster. As rates per 1,000 they are
/// the counts themselves.
fn world(seed: u64, excess: impl Fn(usize) -> f64) -> Vec<Vec<u64>> {
    let mut rng = Prng::new(seed);
    (0..SIDE * SIDE)
        .map(|k| {
            (0..PERIODS)
                .map(|t| {
                    let lambda = 10.0 + if in_cluster(k) { excess(t) } else { 0.0 };
                    poisson(&mut rng, lambda)
                })
                .collect()
        })
        .collect()
}

fn by_period(counts: &[Vec<u64>]) -> Vec<Vec<f64>> {
    (0..PERIODS)
        .map(|t| counts.iter().map(|c| c[t] as f64).collect())
        .collect()
}

fn as_period_counts(counts: Vec<Vec<u64>>) -> PeriodCounts {
    let first = PeriodKey {
        period: Period::Month,
        index: 2024 * 12,
    };
    PeriodCounts {
        period: Period::Month,
        range: None,
        periods: (0..counts[0].len())
            .map(|k| first.offset(k as i32))
            .collect(),
        partial: Vec::new(),
        counts,
        in_partial: 0,
        untimed: 0,
        outside_areas: 0,
        outside_range: 0,
    }
}

/// A cluster already hot and rising over 12 periods is an intensifying hot
/// spot; one that appears only in the final period is new; one hot for the
/// last three periods is consecutive. Areas two or more cells away from it
/// show no pattern. (Queen contiguity, Gi* binary, 5 % FDR per period,
/// Mann-Kendall of z at 5 %.)
#[test]
fn a_planted_rising_cluster_is_found_as_an_emerging_hot_spot() {
    let w = grid(SIDE, Contiguity::Queen);
    let opts = EmergingOptions::default();
    type Excess = Box<dyn Fn(usize) -> f64>;
    let cases: [(&str, Excess, EmergingCategory); 3] = [
        (
            "rising",
            Box::new(|t| 10.0 + 3.0 * t as f64),
            EmergingCategory::IntensifyingHotSpot,
        ),
        (
            "final period only",
            Box::new(|t| if t == PERIODS - 1 { 30.0 } else { 0.0 }),
            EmergingCategory::NewHotSpot,
        ),
        (
            "last three periods",
            Box::new(|t| if t >= PERIODS - 3 { 30.0 } else { 0.0 }),
            EmergingCategory::ConsecutiveHotSpot,
        ),
    ];
    for (name, excess, want) in cases {
        let counts = world(2024, excess);
        let e = emerging_hotspots(&by_period(&counts), &w, &opts);
        assert_eq!(
            e.areas[CENTRE].category, want,
            "{name}: {:?}",
            e.areas[CENTRE]
        );
        for k in 0..SIDE * SIDE {
            let c = e.areas[k].category;
            if in_cluster(k) {
                assert!(c.is_hot(), "{name}: cluster area {k} is {c:?}");
            }
            if ring(k) >= 2 {
                assert_eq!(
                    c,
                    EmergingCategory::NoPattern,
                    "{name}: area {k} far from the cluster"
                );
            }
        }
    }
    // A cluster rising from the baseline by 6 per 1,000 a period, in the trend
    // table: its nine areas rise after the FDR and rank first; no area outside
    // it rises or falls.
    let counts = world(2024, |t| 6.0 * t as f64);
    let pc = as_period_counts(counts);
    let pop = vec![Some(1000.0); SIDE * SIDE];
    for test in [TrendTest::MannKendall, TrendTest::Poisson] {
        let t = trend_table(
            &pc,
            &pop,
            &TrendOptions {
                test,
                ..TrendOptions::default()
            },
        );
        for (k, a) in t.areas.iter().enumerate() {
            if in_cluster(k) {
                assert_eq!(a.direction, Direction::Rising, "{test:?} area {k}");
                assert!(a.rank.is_some_and(|r| r <= 9));
            } else {
                assert_eq!(a.direction, Direction::NoTrend, "{test:?} area {k}: {a:?}");
            }
        }
        // Sen's slope of the cluster areas: the planted 6 per 1,000 per month = 72 a year.
        let slopes: Vec<f64> = t
            .areas
            .iter()
            .enumerate()
            .filter(|(k, _)| in_cluster(*k))
            .filter_map(|(_, a)| a.sen_slope_per_year)
            .collect();
        let mean = slopes.iter().sum::<f64>() / slopes.len() as f64;
        assert!((mean - 72.0).abs() < 8.0, "{mean}");
    }
}

/// Flat series (Poisson(10) everywhere, 12 periods, 144 areas) for 40
/// seeds: the stated significance is a 5 % false discovery rate. No area of
/// any seed is flagged as rising or falling by the trend test after the FDR,
/// and the share of flat worlds with any emerging hot or cold spot stays
/// within the 5 % the per-period FDR allows (binomial allowance).
#[test]
fn flat_series_raise_no_false_alarms() {
    let w = grid(SIDE, Contiguity::Queen);
    let pop = vec![Some(1000.0); SIDE * SIDE];
    let seeds = 40;
    let mut worlds_with_emerging = 0;
    let mut areas_flagged = 0;
    for seed in 0..seeds {
        let counts = world(1000 + seed, |_| 0.0);
        let e = emerging_hotspots(&by_period(&counts), &w, &EmergingOptions::default());
        let flagged = e
            .areas
            .iter()
            .filter(|a| a.category != EmergingCategory::NoPattern)
            .count();
        areas_flagged += flagged;
        worlds_with_emerging += usize::from(flagged > 0);
        let t = trend_table(&as_period_counts(counts), &pop, &TrendOptions::default());
        let trending: Vec<usize> = (0..t.areas.len())
            .filter(|&k| t.areas[k].direction != Direction::NoTrend)
            .collect();
        assert!(
            trending.is_empty(),
            "seed {seed}: areas {trending:?} flagged"
        );
    }
    eprintln!(
        "flat worlds: {worlds_with_emerging} of {seeds} with an emerging pattern ({areas_flagged} area(s) in all)"
    );
    // 5 % of 40 is 2; allow the binomial upper tail (P(X ≥ 6) < 0.015 at p = 0.05).
    assert!(
        worlds_with_emerging <= 5,
        "{worlds_with_emerging} of {seeds}"
    );
}

/// A Poisson series with a known trend, `μ_t = 100·exp(0.2 t)` (t in years,
/// 36 months): the fitted slope is within 0.05 of 0.2 and its 95 % Wald
/// interval covers 0.2 in about 95 % of 200 seeds; the projection 6 months
/// on is within 6 % of the true mean.
#[test]
fn the_projection_recovers_a_known_trend() {
    let true_slope = 0.2;
    let t: Vec<f64> = (0..36).map(|k| k as f64 / 12.0).collect();
    let z = normal_quantile(0.975);
    let mut covered = 0;
    let runs = 200;
    for seed in 0..runs {
        let mut rng = Prng::new(77 + seed);
        let y: Vec<f64> = t
            .iter()
            .map(|tk| poisson(&mut rng, 100.0 * (true_slope * tk).exp()) as f64)
            .collect();
        let f = fit_poisson_trend(&y, &t, None).expect("a fit");
        let se = f.cov[1][1].sqrt();
        if (f.slope - true_slope).abs() <= z * se {
            covered += 1;
        }
        if seed == 0 {
            assert!((f.slope - true_slope).abs() < 0.05, "{}", f.slope);
            // Through the projection: one area, no shrinkage (nothing to pool).
            let counts = as_period_counts(vec![y.iter().map(|&v| v as u64).collect()]);
            let p = project(
                &counts,
                &ProjectionOptions {
                    horizon: 6,
                    ..ProjectionOptions::default()
                },
                None,
            );
            let true_mean = 100.0 * (true_slope * (41.0 / 12.0)).exp();
            let got = p.areas[0].steps[5].mean;
            assert!((got / true_mean - 1.0).abs() < 0.06, "{got} vs {true_mean}");
            let s = &p.areas[0].steps[5];
            assert!(s.lower < true_mean && true_mean < s.upper, "{s:?}");
            assert!(
                (p.areas[0].rate_ratio_per_year.unwrap_or(0.0) - true_slope.exp()).abs() < 0.06
            );
        }
    }
    let share = covered as f64 / runs as f64;
    eprintln!(
        "known trend: the 95 % slope interval covered the truth in {covered} of {runs} series"
    );
    assert!((0.91..=0.985).contains(&share), "{share}");
}

/// Many areas sharing one trend: the pooled (shrunk) slopes recover it, and
/// a backtest of the last 6 of 30 periods has interval coverage near 95 %.
#[test]
fn shrunk_slopes_recover_a_shared_trend_and_backtest_well() {
    let mut rng = Prng::new(5);
    let slope = 0.15;
    let counts: Vec<Vec<u64>> = (0..200)
        .map(|k| {
            let base = 2.0 + (k % 10) as f64;
            (0..30)
                .map(|m| poisson(&mut rng, base * (slope * m as f64 / 12.0).exp()))
                .collect()
        })
        .collect();
    let pc = as_period_counts(counts);
    let p = project(&pc.first_periods(24), &ProjectionOptions::default(), None);
    let regional = p.regional_slope_per_year.expect("pooled");
    assert!((regional - slope).abs() < 0.04, "{regional}");
    let bt = backtest(&pc, 6, &ProjectionOptions::default()).expect("backtest");
    eprintln!(
        "shared trend backtest: MAE {:.3} (level {:.3}), MAPE {:?} %, coverage {:.3}",
        bt.mae, bt.baseline_mae, bt.mape_pct, bt.coverage
    );
    assert!(bt.mae < bt.baseline_mae, "the trend beats the level model");
    assert!((0.93..=0.99).contains(&bt.coverage), "{}", bt.coverage);
    assert!(bt.total_coverage >= 5.0 / 6.0);
}

// ------------------------------------------------------------ the demo region

/// The demo extract runs from Monday 2 January 2023 to 31 December 2024:
/// January 2023 is covered only in part and is left out, 23 complete
/// months remain, and every timed referral in an area is counted once.
#[test]
fn demo_counts_use_complete_periods_only() {
    let atlas = demo_atlas();
    let c = period_counts(
        atlas.areas.len(),
        &atlas.referrals,
        Period::Month,
        None,
        |_| true,
    );
    assert_eq!(c.len(), 23);
    assert_eq!(c.periods[0].label(), "2023-02");
    assert_eq!(
        c.partial.iter().map(|p| p.label()).collect::<Vec<_>>(),
        ["2023-01"]
    );
    let in_areas = atlas
        .referrals
        .referrals
        .iter()
        .filter(|r| r.area.is_some() && r.received.is_some())
        .count() as u64;
    let counted: u64 = c.totals().iter().sum();
    assert_eq!(counted + c.in_partial, in_areas);
    // The partial month holds what January 2023's days from the 2nd hold.
    let january = atlas
        .referrals
        .referrals
        .iter()
        .filter(|r| r.area.is_some())
        .filter(|r| {
            r.received
                .is_some_and(|t| t.format("%Y-%m").to_string() == "2023-01")
        })
        .count() as u64;
    assert_eq!(c.in_partial, january);
}

/// Projections checked on held-back periods of the demo region (600 areas,
/// 20,000 referrals over two years, flat in time by construction): hold
/// back the last 6 complete months, fit on the 17 before. The 95 %
/// intervals cover between 93 and 99.5 % of the area-months (small counts
/// are discrete, so coverage runs above nominal), the trend model does no
/// worse than the level model, and the region total falls inside its
/// interval in at least 5 of the 6 months (the demo's months differ in their
/// number of weekdays, which weigh five times weekend days; no model here
/// knows the calendar).
#[test]
fn backtest_on_the_demo_region() {
    let atlas = demo_atlas();
    let req = needmap::io::trends_study::ProjectionRequest {
        series: SeriesRequest::default(),
        options: ProjectionOptions::default(),
        population: None,
    };
    let bt = atlas.backtest_study(&req, 6).expect("backtest");
    eprintln!(
        "demo backtest (trend, shrunk): MAE {:.3} referrals/area-month (level model {:.3}), MAPE {:.1} % over {} cells, WAPE {:.1} %, coverage {:.3} of {} cells at 95 %; region total MAE {:.1}, MAPE {:.2} %, coverage {:.2}",
        bt.mae,
        bt.baseline_mae,
        bt.mape_pct.unwrap_or(f64::NAN),
        bt.mape_cells,
        bt.wape_pct.unwrap_or(f64::NAN),
        bt.coverage,
        bt.cells,
        bt.total_mae,
        bt.total_mape_pct.unwrap_or(f64::NAN),
        bt.total_coverage
    );
    assert_eq!((bt.fitted_periods, bt.cells), (17, 3600));
    assert!((0.93..=0.995).contains(&bt.coverage), "{}", bt.coverage);
    assert!(
        bt.mae <= bt.baseline_mae * 1.02,
        "{} vs {}",
        bt.mae,
        bt.baseline_mae
    );
    assert!(bt.total_coverage >= 5.0 / 6.0, "{}", bt.total_coverage);
    assert!(bt.total_mape_pct.is_some_and(|m| m < 10.0));
    // Without shrinkage the per-area slopes are noise: worse, as documented.
    let raw = atlas
        .backtest_study(
            &needmap::io::trends_study::ProjectionRequest {
                options: ProjectionOptions {
                    shrink: false,
                    ..ProjectionOptions::default()
                },
                ..req.clone()
            },
            6,
        )
        .expect("backtest");
    assert!(raw.mae > bt.mae);
    // The damped and level models run too.
    for model in [TrendModel::Damped { phi: 0.8 }, TrendModel::Level] {
        let b = atlas
            .backtest_study(
                &needmap::io::trends_study::ProjectionRequest {
                    options: ProjectionOptions {
                        model,
                        ..ProjectionOptions::default()
                    },
                    ..req.clone()
                },
                6,
            )
            .expect("backtest");
        assert!(
            (0.93..=0.995).contains(&b.coverage),
            "{model:?}: {}",
            b.coverage
        );
    }
}

/// The early-warning list on a synthetic world: the rising cluster's areas
/// are flagged (growth, hot spot, emerging), nothing else is, and the demand
/// vector carries their projected referrals and zeros elsewhere.
#[test]
fn early_warning_flags_the_rising_cluster_and_gives_a_demand_vector() {
    let w = grid(SIDE, Contiguity::Queen);
    let counts = world(2024, |t| 6.0 * t as f64);
    let pc = as_period_counts(counts.clone());
    let pop = vec![Some(1000.0); SIDE * SIDE];
    let trends = trend_table(&pc, &pop, &TrendOptions::default());
    let totals: Vec<f64> = pc.totals().iter().map(|&v| v as f64).collect();
    let hot = hotspot_table(
        &totals,
        &w,
        &HotspotOptions {
            permutations: 0,
            ..HotspotOptions::default()
        },
    );
    let emerging = emerging_hotspots(&by_period(&counts), &w, &EmergingOptions::default());
    let categories: Vec<EmergingCategory> = emerging.areas.iter().map(|a| a.category).collect();
    let projection = project(&pc, &ProjectionOptions::default(), None);
    let inputs = WarningInputs {
        trends: &trends,
        hotspots: Some(&hot.class),
        emerging: Some(&categories),
        projection: Some(&projection),
    };
    let cluster: HashSet<usize> = (0..SIDE * SIDE).filter(|&k| in_cluster(k)).collect();
    // Any one reason: the cluster, and its neighbours as hot spots (their Gi*
    // neighbourhoods hold the cluster) but never for growth.
    let any = early_warning(&inputs, &WarningRules::default());
    for w in &any.warnings {
        let k = w.area.index();
        if !cluster.contains(&k) {
            assert_eq!(ring(k), 1, "{w:?}");
            assert!(!w.reasons.contains(&Reason::FastGrowth), "{w:?}");
        }
    }
    // All three reasons: exactly the cluster.
    let ew = early_warning(
        &inputs,
        &WarningRules {
            min_reasons: 3,
            ..WarningRules::default()
        },
    );
    let flagged: HashSet<usize> = ew.warnings.iter().map(|w| w.area.index()).collect();
    assert_eq!(flagged, cluster);
    for k in 0..SIDE * SIDE {
        if cluster.contains(&k) {
            assert!(ew.demand[k] > 30.0, "{k}: {}", ew.demand[k]);
            assert_eq!(ew.demand[k], projection.areas[k].steps[2].mean);
        } else {
            assert_eq!(ew.demand[k], 0.0);
        }
    }
    assert!(ew.warnings[0].reasons.len() >= 3);
    assert!(hot.class[CENTRE] == HotspotClass::Hot99);
}

// ------------------------------------------------------------ real data zones

/// On the 6,976 real data zones (rook contiguity from the generalised
/// boundaries): the weights are symmetric, and Gi* and local Moran's I of
/// the SIMD income rate equal the formulas of Ord & Getis and Anselin
/// evaluated directly, loop by loop, from the neighbour lists.
#[test]
fn real_data_zone_hotspots_equal_the_formulas_evaluated_directly() {
    let Some(real) = real_data() else { return };
    let atlas = &real.atlas;
    let st = atlas
        .hotspot_study(&HotspotRequest {
            value: HotspotValue::Column("income_rate".into()),
            series: SeriesRequest::default(),
            weights: WeightsSpec::Rook,
            options: HotspotOptions {
                permutations: 99,
                ..HotspotOptions::default()
            },
        })
        .expect("hot spots");
    let w = &st.weights;
    assert!(w.is_symmetric());
    let n = st.included.len();
    assert!(n > 6900, "{n} zones with an income rate");
    eprintln!(
        "real data zones: {n} with income_rate, {} neighbour pairs, {} islands, mean {:.2} neighbours",
        w.nnz() / 2,
        st.islands.len(),
        w.mean_neighbours()
    );
    let y: Vec<f64> = st
        .included
        .iter()
        .map(|&i| st.values[i].unwrap_or(0.0))
        .collect();
    let nf = n as f64;
    let mean = y.iter().sum::<f64>() / nf;
    let s = (y.iter().map(|v| v * v).sum::<f64>() / nf - mean * mean).sqrt();
    let var_pop = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / nf;
    for k in 0..n {
        let (nb, _) = w.row(k);
        // Gi*, binary, self included: Ord & Getis (1995).
        let wsum = nb.len() as f64 + 1.0;
        let local: f64 = y[k] + nb.iter().map(|&j| y[j as usize]).sum::<f64>();
        let z = (local - mean * wsum) / (s * ((nf * wsum - wsum * wsum) / (nf - 1.0)).sqrt());
        assert!(
            close(st.table.gi.z[k], z, 1e-9),
            "Gi* {k}: {} vs {z}",
            st.table.gi.z[k]
        );
        // Local Moran, row-standardised: I = (n − 1)(y − ȳ) · mean of neighbours' (y − ȳ) / Σ(y − ȳ)².
        if !nb.is_empty() {
            let lag = nb.iter().map(|&j| y[j as usize] - mean).sum::<f64>() / nb.len() as f64;
            let i = (nf - 1.0) * (y[k] - mean) * lag / (nf * var_pop);
            assert!(close(st.table.moran.i[k], i, 1e-9), "I {k}");
        } else {
            assert_eq!(st.table.moran.i[k], 0.0);
        }
    }
    let hot = st.table.class.iter().filter(|c| c.is_hot()).count();
    assert!(hot > 100, "income deprivation clusters: {hot} hot spots");
}

// ------------------------------------------------------------ population and the command line

/// A population projection for one council scales that council's areas by
/// the ratio of interpolated mid-year populations, and no others: 1,000 in
/// 2024 and 1,100 in 2026 (read as 30 June), so from the middle of December
/// 2024 to the middle of March 2025 the factor is
/// (1000 + 50·(2025.2 − 2024.5)) / (1000 + 50·(2024.958 − 2024.5)).
#[test]
fn a_population_projection_scales_its_council_only() {
    let atlas = demo_atlas();
    let council = atlas.areas[0]
        .texts
        .get("council_code")
        .cloned()
        .expect("council code");
    let mut table = needmap::analysis::projection::PopulationProjection::default();
    table.insert(&council, 2024, 1000.0);
    table.insert(&council, 2026, 1100.0);
    let st = atlas
        .projection_study(&needmap::io::trends_study::ProjectionRequest {
            series: SeriesRequest::default(),
            options: ProjectionOptions {
                horizon: 3,
                draws: 200,
                ..ProjectionOptions::default()
            },
            population: Some(table),
        })
        .expect("projection");
    let last = st.projection.fitted.last().copied().expect("periods");
    assert_eq!(last.label(), "2024-12");
    let step = last.offset(3);
    let want =
        (1000.0 + 50.0 * (step.mid_year() - 2024.5)) / (1000.0 + 50.0 * (last.mid_year() - 2024.5));
    assert!(want > 1.0);
    let mut inside = 0;
    for (a, p) in atlas.areas.iter().zip(&st.projection.areas) {
        let f = p.steps[2].population_factor;
        if a.texts.get("council_code") == Some(&council) {
            assert!(close(f, want, 1e-12), "{f} vs {want}");
            inside += 1;
        } else {
            assert_eq!(f, 1.0);
        }
    }
    assert!(inside > 0);
    assert_eq!(st.population_matched, Some(inside));
}

fn needmap_cli(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_needmap"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run needmap");
    o
}

fn ok_cli(dir: &std::path::Path, args: &[&str]) -> String {
    let o = needmap_cli(dir, args);
    assert!(
        o.status.success(),
        "needmap {args:?} failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stderr).into_owned() + &String::from_utf8_lossy(&o.stdout)
}

fn read_csv(path: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).expect("csv");
    let headers = r
        .headers()
        .expect("headers")
        .iter()
        .map(String::from)
        .collect();
    let rows = r
        .records()
        .map(|rec| rec.expect("record").iter().map(String::from).collect())
        .collect();
    (headers, rows)
}

/// A published count is `<10` or a multiple of 5 of at least 10.
fn protected(cell: &str) -> bool {
    cell == "<10" || cell.parse::<u64>().is_ok_and(|v| v >= 10 && v % 5 == 0)
}

/// The four commands end to end on a demo workspace: public output passes
/// every count through the disclosure policy and leaves out z-scores and
/// exact slopes; `--exact` gives them; the demand vector needs `--exact`.
#[test]
fn commands_protect_public_output_and_give_planners_the_statistics() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    ok_cli(
        d,
        &[
            "demo",
            "--out",
            "D",
            "--areas",
            "300",
            "--referrals",
            "6000",
            "--seed",
            "7",
        ],
    );
    let c = ["--config", "D/needmap.toml"];
    let with =
        |extra: &[&str]| -> Vec<String> { c.iter().chain(extra).map(|s| s.to_string()).collect() };
    let run = |cmd: &str, extra: &[&str]| -> String {
        let mut args = vec![cmd.to_string()];
        args.extend(with(extra));
        let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        ok_cli(d, &refs)
    };
    // Trends, public: periods are the complete months; counts protected.
    let log = run("trends", &["-o", "trends.csv"]);
    assert!(log.contains("left out as partly covered: 2023-01"), "{log}");
    let (h, rows) = read_csv(&d.join("trends.csv"));
    assert_eq!(rows.len(), 300);
    assert!(h.contains(&"2023-02".to_string()) && !h.contains(&"2023-01".to_string()));
    let months: Vec<usize> = (0..h.len()).filter(|&k| h[k].starts_with("202")).collect();
    assert_eq!(months.len(), 23);
    let col = |name: &str| h.iter().position(|x| x == name).expect(name);
    for r in &rows {
        for &k in &months {
            assert!(protected(&r[k]), "public count {:?}", r[k]);
        }
        assert!(protected(&r[col("total")]));
        for name in ["mk_s", "mk_z", "sen_slope_per_year", "poisson_z"] {
            assert_eq!(r[col(name)], "", "{name} is for planners");
        }
        let p = &r[col("p")];
        // Three decimals at most (empty where the series could not be tested).
        let decimals = p.split('.').nth(1).map_or(0, str::len);
        assert!(
            p.is_empty() || p == "<0.001" || (p.parse::<f64>().is_ok() && decimals <= 3),
            "{p}"
        );
    }
    // Trends, exact: the counts add up to the placed, timed referrals in complete months.
    run(
        "trends",
        &["-o", "trends_exact.csv", "--exact", "--period", "quarter"],
    );
    let (h, rows) = read_csv(&d.join("trends_exact.csv"));
    let quarters: Vec<usize> = (0..h.len()).filter(|&k| h[k].contains("-Q")).collect();
    assert_eq!(quarters.len(), 7);
    let sum: u64 = rows
        .iter()
        .flat_map(|r| {
            quarters
                .iter()
                .map(move |&k| r[k].parse::<u64>().expect("exact count"))
        })
        .sum();
    assert!(sum > 5000 && sum < 6000, "{sum}");
    assert!(rows
        .iter()
        .any(|r| !r[h.iter().position(|x| x == "mk_z").expect("mk_z")].is_empty()));
    // Hot spots: public without z, exact with; GAL written; GeoJSON one feature per area.
    run(
        "hotspots",
        &[
            "-o",
            "hot.csv",
            "--geojson",
            "hot.geojson",
            "--gal",
            "w.gal",
            "--permutations",
            "99",
        ],
    );
    let (h, rows) = read_csv(&d.join("hot.csv"));
    let z = h.iter().position(|x| x == "gi_z").expect("gi_z");
    let n = h.iter().position(|x| x == "referrals").expect("referrals");
    assert!(rows.iter().all(|r| r[z].is_empty() && protected(&r[n])));
    let gal = std::fs::read_to_string(d.join("w.gal")).expect("gal");
    assert!(gal.starts_with("0 300 "));
    let gj: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("hot.geojson")).expect("geojson"))
            .expect("json");
    assert_eq!(gj["features"].as_array().map(|f| f.len()), Some(300));
    run(
        "hotspots",
        &[
            "-o",
            "hot_exact.csv",
            "--exact",
            "--permutations",
            "99",
            "--weights",
            "queen",
        ],
    );
    let (h, rows) = read_csv(&d.join("hot_exact.csv"));
    let z = h.iter().position(|x| x == "gi_z").expect("gi_z");
    assert!(rows.iter().all(|r| r[z].parse::<f64>().is_ok()));
    let log = run("hotspots", &["--emerging", "-o", "emerging.csv"]);
    assert!(log.contains("Mann-Kendall"), "{log}");
    let (h, rows) = read_csv(&d.join("emerging.csv"));
    let bins = h.iter().position(|x| x == "bins").expect("bins");
    assert!(rows.iter().all(|r| r[bins].len() == 23));
    // Projections with a backtest.
    let out = run(
        "project",
        &[
            "--horizon",
            "2",
            "--backtest",
            "4",
            "--draws",
            "300",
            "-o",
            "proj.csv",
        ],
    );
    assert!(out.contains("inside the 95 % interval"), "{out}");
    let (h, rows) = read_csv(&d.join("proj.csv"));
    assert_eq!(rows.len(), 300 * 2 + 2);
    let p = h.iter().position(|x| x == "projected").expect("projected");
    assert!(rows.iter().all(|r| protected(&r[p])));
    // Early warning: the demand vector is a planning input.
    let refused = needmap_cli(
        d,
        &[
            "early-warning",
            "--config",
            "D/needmap.toml",
            "--demand-out",
            "demand.csv",
        ],
    );
    assert!(!refused.status.success());
    run(
        "early-warning",
        &[
            "--exact",
            "--demand-out",
            "demand.csv",
            "-o",
            "ew.csv",
            "--rate-min",
            "30",
        ],
    );
    let (h, rows) = read_csv(&d.join("demand.csv"));
    assert_eq!(h, ["id", "value"]);
    assert_eq!(rows.len(), 300);
    let (_, flagged) = read_csv(&d.join("ew.csv"));
    let positive = rows
        .iter()
        .filter(|r| r[1].parse::<f64>().is_ok_and(|v| v > 0.0))
        .count();
    assert_eq!(positive, flagged.len());
    assert!(!flagged.is_empty());
}
