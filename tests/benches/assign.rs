//! Point-in-area assignment: index build and bulk location of 100,000 seeded
//! points, with the naive R-tree path (`locate_rtree` per point) beside the
//! grid path, one point at a time on one thread, and `locate_all` in parallel.
//!
//! Inputs: the demo region (2,000 areas, written to a temporary directory)
//! and, when `../shared/geodata` (or `$NEEDMAP_GEODATA`) is present, the
//! 6,976 real 2011 data zones. Fixtures are loaded outside `b.iter`; their
//! sizes are asserted so that the bench is also a smoke test (STYLE B5).
//!
//! Run with `cargo bench --bench assign`.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use geo::{BoundingRect, MultiPolygon};
use needmap::config::Config;
use needmap::demo::{write_demo, DemoSpec};
use needmap::io::workspace::{load_workspace, Atlas, LoadOptions};
use needmap::spatial::AreaIndex;

const POINTS: usize = 100_000;
const DEMO_AREAS: usize = 2_000;
const REAL_ZONES: usize = 6_976;

/// SplitMix64, so the points are the same on every machine.
struct Prng(u64);

impl Prng {
    fn f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Fixture {
    name: &'static str,
    atlas: Atlas,
    xs: Vec<f64>,
    ys: Vec<f64>,
}

impl Fixture {
    fn new(name: &'static str, atlas: Atlas, expected_areas: usize) -> Fixture {
        assert_eq!(atlas.areas.len(), expected_areas, "{name}: areas loaded");
        assert_eq!(atlas.index.len(), expected_areas, "{name}: areas indexed");
        // Points uniform over the bounding boxes of random areas: most land in
        // an area, some in gaps and the sea.
        let boxes: Vec<[f64; 4]> = atlas
            .areas
            .iter()
            .filter_map(|a| a.geometry.bounding_rect())
            .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
            .collect();
        let mut rng = Prng(0x5EED);
        let (mut xs, mut ys) = (Vec::with_capacity(POINTS), Vec::with_capacity(POINTS));
        for _ in 0..POINTS {
            let b = boxes[((rng.f64() * boxes.len() as f64) as usize).min(boxes.len() - 1)];
            xs.push(b[0] + (b[2] - b[0]) * rng.f64());
            ys.push(b[1] + (b[3] - b[1]) * rng.f64());
        }
        let f = Fixture {
            name,
            atlas,
            xs,
            ys,
        };
        // Smoke test: the grid and the R-tree paths agree, and most points are placed.
        let bulk = f.atlas.index.locate_all(&f.xs, &f.ys);
        assert_eq!(bulk.len(), POINTS);
        let placed = bulk.iter().filter(|a| a.is_some()).count();
        assert!(placed > POINTS / 2, "{name}: only {placed} points placed");
        for i in (0..POINTS).step_by(97) {
            assert_eq!(
                bulk[i],
                f.atlas.index.locate_rtree(f.xs[i], f.ys[i]),
                "{name}: point {i}"
            );
        }
        f
    }

    fn geoms(&self) -> Vec<&MultiPolygon<f64>> {
        self.atlas.areas.iter().map(|a| &a.geometry).collect()
    }
}

fn load(config: &Path) -> Atlas {
    let cfg = Config::load(config).unwrap_or_else(|e| panic!("{e}"));
    load_workspace(&cfg, &LoadOptions::default()).unwrap_or_else(|r| panic!("{r}"))
}

fn demo_fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = DemoSpec {
        areas: DEMO_AREAS,
        referrals: 1_000,
        seed: 42,
    };
    let s = write_demo(dir.path(), &spec).expect("demo writes");
    Fixture::new("demo_2000", load(&s.config), DEMO_AREAS)
}

fn geodata() -> Option<PathBuf> {
    let dir = match std::env::var_os("NEEDMAP_GEODATA") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/geodata"),
    };
    if dir.join("dz2011_scotland.geojson").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "real data zones skipped: {} not found (set NEEDMAP_GEODATA)",
            dir.display()
        );
        None
    }
}

fn real_fixture() -> Option<Fixture> {
    let geo = geodata()?;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("needmap.toml");
    let areas = geo.join("dz2011_scotland.geojson");
    let areas = areas.display().to_string().replace('\\', "\\\\");
    std::fs::write(
        &config,
        format!("[areas]\npath = \"{areas}\"\nid = \"dz11_code\"\n"),
    )
    .expect("write workspace");
    Some(Fixture::new("dz2011_6976", load(&config), REAL_ZONES))
}

fn assign(c: &mut Criterion) {
    let fixtures: Vec<Fixture> = std::iter::once(demo_fixture())
        .chain(real_fixture())
        .collect();

    let mut build = c.benchmark_group("index_build");
    build.sample_size(20);
    for f in &fixtures {
        let geoms = f.geoms();
        build.bench_function(BenchmarkId::from_parameter(f.name), |b| {
            b.iter(|| {
                let index = AreaIndex::new(black_box(&geoms));
                assert_eq!(index.len(), geoms.len());
                index
            })
        });
    }
    build.finish();

    let mut locate = c.benchmark_group("locate_100k");
    locate.sample_size(20);
    for f in &fixtures {
        let index = &f.atlas.index;
        // Parallel (rayon) bulk location through the grid.
        locate.bench_function(BenchmarkId::new("grid_locate_all", f.name), |b| {
            b.iter(|| index.locate_all(black_box(&f.xs), black_box(&f.ys)))
        });
        // Both per-point paths run on one thread, so they compare like with like.
        locate.bench_function(BenchmarkId::new("grid_per_point", f.name), |b| {
            b.iter(|| {
                f.xs.iter()
                    .zip(&f.ys)
                    .map(|(&x, &y)| index.locate(x, y))
                    .collect::<Vec<_>>()
            })
        });
        locate.bench_function(BenchmarkId::new("rtree_per_point", f.name), |b| {
            b.iter(|| {
                f.xs.iter()
                    .zip(&f.ys)
                    .map(|(&x, &y)| index.locate_rtree(x, y))
                    .collect::<Vec<_>>()
            })
        });
    }
    locate.finish();

    // The benchmark workload W1: build the index, locate, count per area.
    let mut w1 = c.benchmark_group("build_locate_count_100k");
    w1.sample_size(10);
    for f in &fixtures {
        let geoms = f.geoms();
        w1.bench_function(BenchmarkId::from_parameter(f.name), |b| {
            b.iter(|| {
                let index = AreaIndex::new(&geoms);
                let mut counts = vec![0u32; geoms.len()];
                for a in index.locate_all(&f.xs, &f.ys).into_iter().flatten() {
                    counts[a.index()] += 1;
                }
                counts
            })
        });
    }
    w1.finish();
}

criterion_group!(benches, assign);
criterion_main!(benches);
