//! The synthetic demo region: it loads cleanly, and its roll-ups (a parent
//! column, a GeoJSON boundary set and a Shapefile boundary set) conserve totals.

use needmap::analysis::{equity_table, need_map, rollup_by_column, rollup_to_boundaries};
use needmap::config::Config;
use needmap::demo::{write_demo, DemoSpec};
use needmap::io::workspace::{load_workspace, LoadOptions};

use super::demo_atlas;
use super::real_data::assert_conserved;

#[test]
fn demo_region_loads_without_problems() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = DemoSpec {
        areas: 250,
        referrals: 3_000,
        seed: 3,
    };
    let s = write_demo(dir.path(), &spec).expect("demo writes");
    assert_eq!(s.areas, 250);
    assert_eq!(s.referrals, 3_000);
    let cfg = Config::load(&s.config).expect("config parses");
    let atlas = match load_workspace(&cfg, &LoadOptions::default()) {
        Ok(a) => a,
        Err(r) => panic!("{r}"),
    };
    assert!(
        atlas.report.diagnostics.is_empty(),
        "demo data should be clean:\n{}",
        atlas.report
    );
    assert_eq!(atlas.areas.len(), 250);
    assert_eq!(atlas.referrals.referrals.len(), 3_000);
    assert_eq!(atlas.premises.len(), s.premises);
    let pop: f64 = atlas.areas.iter().filter_map(|a| a.population).sum();
    assert_eq!(pop, s.population as f64);
    assert!(atlas.areas.iter().all(|a| a.simd.is_some()));
    let names: Vec<&str> = atlas
        .boundary_sets
        .iter()
        .map(|b| b.name.as_str())
        .collect();
    assert_eq!(names, ["localities", "teams"]);
    assert!(atlas.boundary_sets.iter().all(|b| !b.units.is_empty()));
    assert_eq!(atlas.parent_columns, ["iz_code", "council_code"]);
}

#[test]
fn demo_rollups_conserve_totals() {
    let atlas = demo_atlas();
    let need = need_map(&atlas.areas, &atlas.referrals, &atlas.config.need);
    let pop: f64 = need.areas.iter().filter_map(|a| a.population).sum();
    let refs: f64 = need.areas.iter().map(|a| a.referrals as f64).sum();
    let n = atlas.areas.len() as f64;
    assert!(refs > 0.0);
    assert_eq!(
        refs + need.outside as f64,
        atlas.referrals.referrals.len() as f64
    );

    for column in ["council_code", "iz_code"] {
        let r = rollup_by_column(&atlas.areas, &need, column);
        assert!(r.units.len() > 1, "{column}");
        assert_eq!(r.unassigned.areas, 0.0, "{column}");
        assert_conserved(&r, pop, refs, n, 0.0);
    }
    for set in &atlas.boundary_sets {
        let r = rollup_to_boundaries(&atlas.areas, &need, set);
        assert_eq!(r.units.len(), set.units.len());
        // The boundary sets cover the whole region, so nothing is left over.
        assert_eq!(r.unassigned.areas, 0.0, "{}", set.name);
        assert!(r.overlay_fallbacks.is_empty(), "{}", set.name);
        assert_conserved(&r, pop, refs, n, 1e-6);
        // They do not nest: some areas are split between units.
        let split = (r.units.iter().map(|u| u.areas.fract()).sum::<f64>()) > 0.0;
        assert!(split, "{} should cut across the areas", set.name);
    }
}

#[test]
fn demo_equity_table_adds_up() {
    let atlas = demo_atlas();
    let need = need_map(&atlas.areas, &atlas.referrals, &atlas.config.need);
    let t = equity_table(&atlas.areas, &need);
    let quintiles: Vec<Option<u8>> = t.rows.iter().map(|r| r.simd_quintile).collect();
    assert_eq!(quintiles, [Some(1), Some(2), Some(3), Some(4), Some(5)]);
    assert_eq!(
        t.rows.iter().map(|r| r.areas).sum::<usize>(),
        atlas.areas.len()
    );
    assert_eq!(
        t.rows.iter().map(|r| r.referrals).sum::<u64>(),
        t.total.referrals
    );
    assert_eq!(
        t.rows.iter().map(|r| r.population).sum::<f64>(),
        t.total.population
    );
    // The demo puts more referrals in deprived areas: quintile 1's rate is the highest.
    let rate = |i: usize| t.rows[i].rate_per_1000.expect("rate");
    assert!(rate(0) > rate(4), "q1 {} vs q5 {}", rate(0), rate(4));
}
