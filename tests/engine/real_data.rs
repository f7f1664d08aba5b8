//! The "Must show" on the real Scottish data: 6,976 data zones join
//! to SIMD 2020v2, the population totals 5,424,800, a need map is written,
//! and roll-ups to councils and wards conserve the totals.
//!
//! Reference numbers come from the geodata README ("Sanity checks" under
//! simd2020v2_withinds.csv), which checked them independently of needmap.

use std::collections::BTreeSet;

use needmap::analysis::{need_map, rollup_by_column, rollup_to_boundaries, Rollup};
use needmap::io::writers::write_need_geojson;

use super::real_data;

#[test]
fn real_data_zones_load_and_join_to_simd() {
    let Some(real) = real_data() else { return };
    let atlas = &real.atlas;
    assert_eq!(atlas.areas.len(), 6976);
    assert!(!atlas.report.has_errors(), "{}", atlas.report);
    let mut ranks = BTreeSet::new();
    let mut missing = Vec::new();
    for a in &atlas.areas {
        match a.simd {
            Some(s) => {
                assert!((1..=10).contains(&s.decile), "{}: {s:?}", a.code);
                assert_eq!(s.quintile, s.decile.div_ceil(2), "{}", a.code);
                ranks.insert(s.rank);
            }
            None => missing.push(a.code.clone()),
        }
    }
    assert!(missing.is_empty(), "no SIMD for {missing:?}");
    assert_eq!(ranks.len(), 6976, "ranks are unique");
    assert_eq!(ranks.first(), Some(&1));
    assert_eq!(ranks.last(), Some(&6976));
    // Decile sizes: README says 697 or 698 rows each.
    for d in 1..=10u8 {
        let n = atlas
            .areas
            .iter()
            .filter(|a| a.simd.map(|s| s.decile) == Some(d))
            .count();
        assert!(n == 697 || n == 698, "decile {d} has {n} zones");
    }
    let population: f64 = atlas
        .areas
        .iter()
        .map(|a| a.population.unwrap_or(0.0))
        .sum();
    assert!(atlas.areas.iter().all(|a| a.population.is_some()));
    assert_eq!(population, 5_424_800.0);
    // The SIMD text rates are read as numbers (README: `income_rate` is like `8%`).
    let culter = atlas.area_by_code("S01006506").expect("Culter - 01");
    assert_eq!(culter.numbers.get("income_rate"), Some(&8.0));
    assert_eq!(culter.name.as_deref(), Some("Culter - 01"));
}

#[test]
fn real_need_map_is_written_with_one_feature_per_zone() {
    let Some(real) = real_data() else { return };
    let atlas = &real.atlas;
    let need = need_map(&atlas.areas, &atlas.referrals, &atlas.config.need);
    let placed: u64 = need.areas.iter().map(|a| a.referrals).sum();
    assert_eq!(placed + need.outside, real.written as u64);
    assert!(placed > 0);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("need.geojson");
    write_need_geojson(
        &path,
        &atlas.areas,
        &need,
        needmap::privacy::Disclosure::Exact,
    )
    .expect("need map written");
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read back")).expect("valid JSON");
    let features = v["features"].as_array().expect("features");
    assert_eq!(features.len(), 6976);
    let mut pop = 0.0;
    let mut refs = 0u64;
    let mut codes = BTreeSet::new();
    for f in features {
        let p = &f["properties"];
        for key in [
            "area_id",
            "name",
            "population",
            "referrals",
            "rate_per_1000",
            "need_score",
            "simd_rank",
            "simd_decile",
        ] {
            assert!(p.get(key).is_some(), "feature without {key}: {p}");
        }
        codes.insert(p["area_id"].as_str().expect("area_id").to_string());
        assert!(p["name"].is_string(), "{p}");
        pop += p["population"].as_f64().expect("population");
        refs += p["referrals"].as_u64().expect("exact count for a planner");
        let score = p["need_score"].as_f64().expect("every zone has a score");
        assert!((0.0..=100.0).contains(&score), "{p}");
        let rank = p["simd_rank"].as_u64().expect("rank");
        assert!((1..=6976).contains(&rank));
        let decile = p["simd_decile"].as_u64().expect("decile");
        assert!((1..=10).contains(&decile));
        let g = f["geometry"]["type"].as_str().expect("geometry type");
        assert!(g == "Polygon" || g == "MultiPolygon", "{g}");
    }
    assert_eq!(codes.len(), 6976);
    assert_eq!(pop, 5_424_800.0);
    assert_eq!(refs, placed);
}

/// Sum of population, referrals and areas over the units and the unassigned
/// row equals the sum over the small areas (within `rel`, relative).
pub fn assert_conserved(r: &Rollup, population: f64, referrals: f64, areas: f64, rel: f64) {
    let sum = |f: &dyn Fn(&needmap::analysis::RollupUnit) -> f64| {
        r.units.iter().map(f).sum::<f64>() + f(&r.unassigned)
    };
    let (p, c, n) = (
        sum(&|u| u.population),
        sum(&|u| u.referrals),
        sum(&|u| u.areas),
    );
    let close = |a: f64, b: f64| (a - b).abs() <= rel * b.abs().max(1.0);
    assert!(
        close(p, population),
        "{}: population {p} vs {population}",
        r.level
    );
    assert!(
        close(c, referrals),
        "{}: referrals {c} vs {referrals}",
        r.level
    );
    assert!(close(n, areas), "{}: areas {n} vs {areas}", r.level);
    for (g, name) in r.groups.iter().enumerate() {
        let by_group: f64 =
            r.units.iter().map(|u| u.by_group[g]).sum::<f64>() + r.unassigned.by_group[g];
        assert!(by_group <= c * (1.0 + rel), "{name}: {by_group} > {c}");
    }
}

#[test]
fn real_rollup_to_councils_conserves_totals() {
    let Some(real) = real_data() else { return };
    let atlas = &real.atlas;
    let need = need_map(&atlas.areas, &atlas.referrals, &atlas.config.need);
    let pop: f64 = need.areas.iter().filter_map(|a| a.population).sum();
    let refs: f64 = need.areas.iter().map(|a| a.referrals as f64).sum();
    assert!(refs > 0.0);
    let r = rollup_by_column(&atlas.areas, &need, "ca_code");
    // Every zone has a council code; there are 32 councils.
    assert_eq!(r.units.len(), 32);
    assert_eq!(r.unassigned.areas, 0.0);
    // Integer sums: exact.
    assert_conserved(&r, pop, refs, atlas.areas.len() as f64, 0.0);
    assert_eq!(pop, 5_424_800.0);
    let edinburgh = r
        .units
        .iter()
        .find(|u| u.code == "S12000036")
        .expect("City of Edinburgh");
    assert_eq!(edinburgh.name.as_deref(), Some("City of Edinburgh"));
}

#[test]
fn real_rollup_to_wards_conserves_totals() {
    let Some(real) = real_data() else { return };
    let atlas = &real.atlas;
    let need = need_map(&atlas.areas, &atlas.referrals, &atlas.config.need);
    let pop: f64 = need.areas.iter().filter_map(|a| a.population).sum();
    let refs: f64 = need.areas.iter().map(|a| a.referrals as f64).sum();
    let wards = atlas
        .boundary_sets
        .iter()
        .find(|b| b.name == "wards")
        .expect("wards loaded");
    assert_eq!(wards.units.len(), 355);
    let t = std::time::Instant::now();
    let r = rollup_to_boundaries(&atlas.areas, &need, wards);
    eprintln!(
        "ward overlay of 6,976 zones in {:.1} s; {} zones partly outside every ward, {} unassigned, {} overlay fallbacks",
        t.elapsed().as_secs_f64(),
        r.partly_outside.len(),
        r.unassigned.areas,
        r.overlay_fallbacks.len()
    );
    assert_eq!(r.units.len(), 355);
    assert_conserved(&r, pop, refs, atlas.areas.len() as f64, 1e-6);
}
