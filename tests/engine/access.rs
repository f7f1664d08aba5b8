//! Access engine on real and synthetic data: straight-line coverage of the real
//! primary schools by SIMD quintile against brute force, nearest-premises
//! catchments that partition the areas, and 2SFCA properties.

use needmap::analysis::access::{
    floating_catchment, nearest_by_cost, population_within_distance, representative_point,
    CostMatrix, Decay, NearestSites, Travel,
};
use needmap::io::report::Report;
use needmap::io::vector::{read_vector, PropValue, RawGeometry};
use needmap::spatial::crs::wgs84_to_bng;

use super::{demo_atlas, real_data};

#[test]
fn population_within_1km_and_2km_of_a_primary_school_equals_brute_force() {
    let Some(real) = real_data() else { return };
    let Some(geo) = super::geodata() else { return };
    let atlas = &real.atlas;
    let mut report = Report::new();
    let path = geo.join("schools_scotland_2022.geojson");
    let layer = read_vector(&path, "schools", &mut report).expect("schools load");
    assert_eq!(layer.features.len(), 2_495, "{report}");
    let primaries: Vec<[f64; 2]> = layer
        .features
        .iter()
        .filter(|f| f.properties.get("school_type") == Some(&PropValue::Text("Primary".into())))
        .filter_map(|f| match f.geometry {
            Some(RawGeometry::Point(lon, lat)) => wgs84_to_bng(lon, lat).ok().map(|(x, y)| [x, y]),
            _ => None,
        })
        .collect();
    assert_eq!(
        primaries.len(),
        2_006,
        "the geodata README counts 2,006 primary schools"
    );

    let got = population_within_distance(&atlas.areas, &primaries, &[1000.0, 2000.0]);
    // Brute force: every area's representative point against every primary school.
    let mut within = [[0.0f64; 6]; 2];
    let mut all = [0.0f64; 6];
    for a in &atlas.areas {
        let p = representative_point(&a.geometry).expect("a point inside every zone");
        let d = primaries
            .iter()
            .map(|s| ((s[0] - p[0]).powi(2) + (s[1] - p[1]).powi(2)).sqrt())
            .fold(f64::INFINITY, f64::min);
        let slot = a.simd.map_or(5, |s| (s.quintile - 1) as usize);
        let pop = a.population.unwrap_or(0.0);
        all[slot] += pop;
        for (k, t) in [1000.0, 2000.0].iter().enumerate() {
            if d <= *t {
                within[k][slot] += pop;
            }
        }
    }
    for (k, c) in got.iter().enumerate() {
        assert_eq!(c.population, all, "population by quintile");
        assert_eq!(
            c.population_within, within[k],
            "population within {} m by quintile",
            c.threshold_m
        );
    }
    assert_eq!(got[0].total().1, 5_424_800.0);
    // Plausibility: most Scots live within 2 km of a primary school, and more within 2 km than 1 km.
    let (w1, _) = got[0].total();
    let (w2, all_pop) = got[1].total();
    assert!(w1 < w2 && w2 / all_pop > 0.85, "{w1} {w2} {all_pop}");
}

#[test]
fn nearest_premises_catchments_partition_the_areas() {
    let atlas = demo_atlas();
    for kind in ["school", "health_centre", "social_work_office"] {
        let sites: Vec<[f64; 2]> = atlas
            .premises
            .iter()
            .filter(|p| p.kind == kind)
            .map(|p| [p.x_m, p.y_m])
            .collect();
        assert!(!sites.is_empty());
        let points: Vec<[f64; 2]> = atlas
            .areas
            .iter()
            .map(|a| representative_point(&a.geometry).expect("point"))
            .collect();
        // Large reach: every area gets a catchment.
        let costs = CostMatrix::straight_line(&points, &sites, 1.0, 3.6, f64::INFINITY);
        let nearest = nearest_by_cost(&costs);
        let grid = NearestSites::new(&sites);
        let mut members = vec![0usize; sites.len()];
        for (i, n) in nearest.iter().enumerate() {
            let (j, t) = n.expect("every area has a nearest premises");
            members[j as usize] += 1;
            // At 3.6 km/h with circuity 1, seconds equal metres.
            let (gj, gd) = grid
                .nearest(points[i][0], points[i][1])
                .expect("grid answer");
            assert!(
                (gd - t).abs() < 1e-6,
                "grid and matrix disagree for area {i}"
            );
            assert!(gj == j || (gd - t).abs() < 1e-9);
            let brute = sites
                .iter()
                .map(|s| ((s[0] - points[i][0]).powi(2) + (s[1] - points[i][1]).powi(2)).sqrt())
                .fold(f64::INFINITY, f64::min);
            assert!((brute - t).abs() < 1e-6);
        }
        assert_eq!(
            members.iter().sum::<usize>(),
            atlas.areas.len(),
            "{kind}: each area in exactly one catchment"
        );
    }
}

#[test]
fn two_step_scores_conserve_supply_when_everyone_reaches_everything() {
    // With every pair counted at weight 1, Σ_i P_i A_i = Σ_j S_j (all supply is shared out).
    let atlas = demo_atlas();
    let sites: Vec<[f64; 2]> = atlas
        .premises
        .iter()
        .filter(|p| p.kind == "nursery")
        .map(|p| [p.x_m, p.y_m])
        .collect();
    let cap: Vec<f64> = atlas
        .premises
        .iter()
        .filter(|p| p.kind == "nursery")
        .map(|p| p.capacity.unwrap_or(1.0))
        .collect();
    let points: Vec<[f64; 2]> = atlas
        .areas
        .iter()
        .map(|a| representative_point(&a.geometry).expect("point"))
        .collect();
    let pop: Vec<f64> = atlas
        .areas
        .iter()
        .map(|a| a.population.unwrap_or(0.0))
        .collect();
    let costs = CostMatrix::straight_line(&points, &sites, 1.3, 30.0, f64::INFINITY);
    let a = floating_catchment(&pop, &cap, &costs, None, &Decay::None);
    let shared: f64 = a.iter().zip(&pop).map(|(x, p)| x.expect("score") * p).sum();
    let supply: f64 = cap.iter().sum();
    assert!(
        (shared - supply).abs() / supply < 1e-9,
        "{shared} vs {supply}"
    );
    // Every E2SFCA score is finite and not negative.
    let e = floating_catchment(&pop, &cap, &costs, None, &Decay::e2sfca_default());
    assert!(e
        .iter()
        .all(|x| x.is_some_and(|v| v.is_finite() && v >= 0.0)));
}

#[test]
fn premises_reach_equals_brute_force_and_catchments_cover_everyone() {
    use needmap::analysis::access::{premises_reach, AccessParams};
    use needmap::analysis::need_map;
    let atlas = demo_atlas();
    let need = need_map(&atlas.areas, &atlas.referrals, &atlas.config.need);
    let prem: Vec<&needmap::model::Premises> = atlas
        .premises
        .iter()
        .filter(|p| p.kind == "health_centre")
        .collect();
    let params = AccessParams::default();
    let bands = [300.0, 600.0, 1200.0];
    let reach = premises_reach(
        &atlas.areas,
        &need,
        &prem,
        &bands,
        &params,
        Travel::StraightLine,
    );
    let mps = params.speed_kmh / 3.6;
    for (j, r) in reach.iter().enumerate() {
        for (b, &t) in bands.iter().enumerate() {
            let (mut pop, mut refs) = (0.0, 0.0);
            for (a, n) in atlas.areas.iter().zip(&need.areas) {
                let p = representative_point(&a.geometry).expect("point");
                let d = ((p[0] - prem[j].x_m).powi(2) + (p[1] - prem[j].y_m).powi(2)).sqrt();
                if d * params.circuity / mps <= t {
                    pop += a.population.unwrap_or(0.0);
                    refs += n.referrals as f64;
                }
            }
            assert!(
                (r.population[b] - pop).abs() < 1e-6,
                "premises {j} band {t}"
            );
            assert!((r.referrals[b] - refs).abs() < 1e-6);
        }
        if let Some(total) = r
            .catchment_simd_share
            .iter()
            .flatten()
            .copied()
            .reduce(|x, y| x + y)
        {
            assert!((total - 1.0).abs() < 1e-9, "quintile shares sum to 1");
        }
    }
    let covered: f64 = reach.iter().map(|r| r.catchment_population).sum();
    let all: f64 = atlas.areas.iter().filter_map(|a| a.population).sum();
    assert!(
        (covered - all).abs() < 1e-6,
        "catchments cover every resident once: {covered} vs {all}"
    );
}

#[test]
fn coverage_gaps_are_exactly_the_areas_beyond_the_threshold() {
    use needmap::analysis::access::{access_table, coverage_gaps, AccessParams};
    use needmap::analysis::need_map;
    let atlas = demo_atlas();
    let need = need_map(&atlas.areas, &atlas.referrals, &atlas.config.need);
    let prem: Vec<&needmap::model::Premises> = atlas
        .premises
        .iter()
        .filter(|p| p.kind == "social_work_office")
        .collect();
    let params = AccessParams {
        threshold_s: 240.0,
        ..AccessParams::default()
    };
    let table = access_table(&atlas.areas, &prem, &params);
    let gaps = coverage_gaps(&table, &need, params.threshold_s);
    let beyond: Vec<u32> = table
        .iter()
        .enumerate()
        .filter(|(_, t)| t.travel_time_s.expect("nearest exists") > 240.0)
        .map(|(i, _)| i as u32)
        .collect();
    let mut got: Vec<u32> = gaps.iter().map(|g| g.area).collect();
    got.sort_unstable();
    assert_eq!(got, beyond);
    assert!(!gaps.is_empty() && gaps.len() < atlas.areas.len());
    assert!(gaps
        .windows(2)
        .all(|w| w[0].need_score.unwrap_or(-1.0) >= w[1].need_score.unwrap_or(-1.0)));
}

#[test]
fn access_reach_and_gaps_commands_run_and_protect_counts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = env!("CARGO_BIN_EXE_needmap");
    let ok = |args: &[&str]| {
        let out = std::process::Command::new(bin)
            .args(args)
            .output()
            .expect("runs");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let d = dir.path().to_str().expect("utf-8 path");
    ok(&[
        "demo",
        "--out",
        d,
        "--areas",
        "200",
        "--referrals",
        "4000",
        "--seed",
        "3",
    ]);
    let cfg = format!("{d}/needmap.toml");
    let access = ok(&[
        "access",
        "--config",
        &cfg,
        "--kind",
        "school",
        "--bands-m",
        "500,1000",
    ]);
    assert!(
        access.contains("pop_within_500m") && access.contains("total"),
        "{access}"
    );
    let gaps_csv = format!("{d}/gaps.csv");
    ok(&[
        "gaps",
        "--config",
        &cfg,
        "--kind",
        "social_work_office",
        "--threshold-min",
        "3",
        "-o",
        &gaps_csv,
    ]);
    let reach_csv = format!("{d}/reach.csv");
    ok(&[
        "reach",
        "--config",
        &cfg,
        "--kind",
        "health_centre",
        "-o",
        &reach_csv,
    ]);
    for path in [&gaps_csv, &reach_csv] {
        let mut rdr = csv::Reader::from_path(path).expect("csv");
        let headers = rdr.headers().expect("headers").clone();
        let ref_cols: Vec<usize> = headers
            .iter()
            .enumerate()
            .filter(|(_, h)| h.starts_with("referrals"))
            .map(|(i, _)| i)
            .collect();
        assert!(!ref_cols.is_empty());
        let mut rows = 0;
        for rec in rdr.records() {
            let rec = rec.expect("row");
            rows += 1;
            for &c in &ref_cols {
                let v = &rec[c];
                assert!(
                    v == "<10" || v.parse::<u64>().is_ok_and(|n| n >= 10 && n % 5 == 0),
                    "{path}: unprotected {v}"
                );
            }
        }
        assert!(rows > 0, "{path} has rows");
    }
    let bad = std::process::Command::new(bin)
        .args(["gaps", "--config", &cfg, "--kind", "spaceport"])
        .output()
        .expect("runs");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no premises of kind \"spaceport\""));
}

#[test]
fn network_costs_equal_one_to_all_plus_connector_legs() {
    let atlas = demo_atlas();
    let net = atlas
        .network
        .as_ref()
        .expect("the demo region has a road network");
    let connector_kmh = 15.0;
    let mps = connector_kmh / 3.6;
    let prem: Vec<[f64; 2]> = atlas
        .premises
        .iter()
        .filter(|p| p.kind == "health_centre")
        .map(|p| [p.x_m, p.y_m])
        .collect();
    let points: Vec<[f64; 2]> = atlas
        .areas
        .iter()
        .map(|a| representative_point(&a.geometry).expect("point"))
        .collect();
    let m = CostMatrix::from_network(net, &points, &prem, connector_kmh, 3600.0);
    assert_eq!(m.n_demand(), points.len());
    for (j, s) in prem.iter().enumerate() {
        let (sn, sd) = net.nearest_node(s[0], s[1]).expect("node");
        let times = net.one_to_all(&[(sn, sd / mps)], f64::INFINITY);
        for (i, p) in points.iter().enumerate().step_by(7) {
            let (pn, pd) = net.nearest_node(p[0], p[1]).expect("node");
            let want = f64::from(times[pn as usize]) + pd / mps;
            match m.get(i, j as u32) {
                Some(got) => assert!(
                    (got - want).abs() < 1e-6,
                    "area {i} premises {j}: {got} vs {want}"
                ),
                None => assert!(
                    want > 3600.0 || !want.is_finite(),
                    "pair missing although {want} s"
                ),
            }
        }
    }
    // Travel over the network is never quicker than the straight line at the fastest road speed.
    let fastest_mps = 96.0 / 3.6;
    for (i, row) in m.rows.iter().enumerate() {
        for &(j, t) in row {
            let d = ((points[i][0] - prem[j as usize][0]).powi(2)
                + (points[i][1] - prem[j as usize][1]).powi(2))
            .sqrt();
            assert!(
                t + 1e-6 >= d / fastest_mps,
                "area {i} premises {j}: {t} s for {d} m"
            );
        }
    }
}
