//! Overlay of the 6,976 real 2011 data zones on the 355 multi-member wards
//! (2022) with population apportioned (the W4 workload of `../shared/bench`),
//! and the IZ × wards co-terminosity analysis. Skipped with a message when
//! `../shared/geodata` (or `$NEEDMAP_GEODATA`) is absent.
//!
//! The side-by-side ratio against geopandas on the same files is
//! `scripts/crosscheck_overlay.py`. Run with `cargo bench --bench overlay`
//! (on rayon's default pool, and on one thread).

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion};
use geo::MultiPolygon;
use needmap::analysis::boundaries::{overlay, OverlayOptions};
use needmap::config::Config;
use needmap::io::workspace::{load_workspace, LoadOptions};

fn geodata() -> Option<PathBuf> {
    let dir = match std::env::var_os("NEEDMAP_GEODATA") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/geodata"),
    };
    let dir = std::fs::canonicalize(dir).ok()?;
    dir.join("dz2011_scotland.geojson").is_file().then_some(dir)
}

fn bench(c: &mut Criterion) {
    let Some(geo) = geodata() else {
        eprintln!("skipped: no geodata (set NEEDMAP_GEODATA)");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let q = |p: &Path| format!("{:?}", p.display().to_string());
    let toml = format!(
        "[areas]\npath = {}\nid = \"dz11_code\"\npopulation = \"Total_population\"\n\
         [[indicators]]\npath = {}\nkey = \"Data_Zone\"\n\
         [[boundaries]]\nname = \"wards\"\npath = {}\nid = \"ward22_code\"\n",
        q(&geo.join("dz2011_scotland.geojson")),
        q(&geo.join("simd2020v2_withinds.csv")),
        q(&geo.join("mm_wards_2022.geojson")),
    );
    let path = dir.path().join("needmap.toml");
    std::fs::write(&path, toml).expect("write config");
    let cfg = Config::load(&path).expect("config");
    let atlas = load_workspace(&cfg, &LoadOptions::default()).expect("workspace loads");
    let dz: Vec<&MultiPolygon<f64>> = atlas.areas.iter().map(|a| &a.geometry).collect();
    let wards: Vec<&MultiPolygon<f64>> = atlas.boundary_sets[0]
        .units
        .iter()
        .map(|u| &u.geometry)
        .collect();
    let pop: Vec<f64> = atlas
        .areas
        .iter()
        .map(|a| a.population.unwrap_or(0.0))
        .collect();
    assert_eq!((dz.len(), wards.len()), (6976, 355));
    let opts = OverlayOptions::default();
    // Smoke test: the piece count geopandas gives on the same files.
    assert_eq!(overlay(&dz, &wards, &opts).pieces.len(), 10_537);
    let mut g = c.benchmark_group("overlay");
    g.sample_size(20);
    g.bench_function("dz_x_wards_population", |b| {
        b.iter(|| {
            let o = overlay(black_box(&dz), black_box(&wards), &opts);
            black_box(o.apportion(&pop))
        })
    });
    // The same on a pool of one thread (geopandas runs on one).
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("thread pool");
    g.bench_function("dz_x_wards_population_1_thread", |b| {
        b.iter(|| {
            one.install(|| {
                let o = overlay(black_box(&dz), black_box(&wards), &opts);
                black_box(o.apportion(&pop))
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
