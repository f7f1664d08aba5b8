//! Road network travel times: one-to-all from each of 500 premises over the
//! Edinburgh OS Open Roads extract (issue 4), beside a textbook Dijkstra
//! (`std::collections::BinaryHeap`, `Vec<Vec<_>>` adjacency, `f64` costs) for
//! scale, and the network build itself.
//!
//! Input: `../shared/geodata/os_open_roads_edinburgh_6km.geojson` (or under
//! `$NEEDMAP_GEODATA`) with the default speeds; without it, the demo region's
//! roads (2,000 areas). The 500 "premises" are seeded points in the network's
//! bounding box, each joined to its nearest node with the default connector
//! speed. Fixtures are built outside `b.iter`, and the fast and textbook
//! answers are compared first, so the bench is also a smoke test.
//!
//! Run with `cargo bench --bench network`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use needmap::config::{Config, NetworkConfig};
use needmap::demo::{write_demo, DemoSpec};
use needmap::io::report::Report;
use needmap::io::roads::read_road_lines;
use needmap::io::workspace::{load_workspace, LoadOptions};
use needmap::spatial::network::{RoadLine, RoadNetwork};

const PREMISES: usize = 500;

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

fn geodata() -> Option<PathBuf> {
    let dir = match std::env::var_os("NEEDMAP_GEODATA") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/geodata"),
    };
    let roads = dir.join("os_open_roads_edinburgh_6km.geojson");
    if roads.is_file() {
        Some(roads)
    } else {
        eprintln!(
            "Edinburgh roads not found in {} (set NEEDMAP_GEODATA): using the demo region",
            dir.display()
        );
        None
    }
}

/// The road lines and a name for the fixture.
fn lines() -> (&'static str, Vec<RoadLine>) {
    let cfg = NetworkConfig::default();
    if let Some(path) = geodata() {
        let mut report = Report::new();
        let lines = read_road_lines(&path, "edinburgh", &cfg, &mut report)
            .unwrap_or_else(|| panic!("{report}"));
        assert_eq!(lines.len(), 12_094, "Edinburgh links");
        return ("edinburgh_12094_links", lines);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = DemoSpec {
        areas: 2_000,
        referrals: 100,
        seed: 42,
    };
    let s = write_demo(dir.path(), &spec).expect("demo writes");
    let wcfg = Config::load(&s.config).unwrap_or_else(|e| panic!("{e}"));
    let atlas = load_workspace(&wcfg, &LoadOptions::default()).unwrap_or_else(|r| panic!("{r}"));
    assert!(atlas.network.is_some(), "the demo has roads");
    let path = dir.path().join("roads.geojson");
    let mut report = Report::new();
    let lines =
        read_road_lines(&path, "roads", &cfg, &mut report).unwrap_or_else(|| panic!("{report}"));
    ("demo_2000_areas", lines)
}

/// A textbook Dijkstra: adjacency lists, `std` binary heap, `f64` costs.
struct Textbook {
    adj: Vec<Vec<(u32, f64)>>,
}

impl Textbook {
    fn new(net: &RoadNetwork) -> Textbook {
        let mut adj = vec![Vec::new(); net.node_count()];
        for e in net.edges().iter().filter(|e| e.from != e.to) {
            adj[e.from as usize].push((e.to, e.travel_time_s));
            adj[e.to as usize].push((e.from, e.travel_time_s));
        }
        Textbook { adj }
    }

    fn one_to_all(&self, source: u32, cost_s: f64) -> Vec<f64> {
        let mut dist = vec![f64::INFINITY; self.adj.len()];
        let mut heap = BinaryHeap::new();
        dist[source as usize] = cost_s;
        // Costs are non-negative, so their bit patterns order like the numbers.
        heap.push(Reverse((cost_s.to_bits(), source)));
        while let Some(Reverse((bits, u))) = heap.pop() {
            let d = f64::from_bits(bits);
            if d > dist[u as usize] {
                continue;
            }
            for &(v, w) in &self.adj[u as usize] {
                let nd = d + w;
                if nd < dist[v as usize] {
                    dist[v as usize] = nd;
                    heap.push(Reverse((nd.to_bits(), v)));
                }
            }
        }
        dist
    }
}

fn network(c: &mut Criterion) {
    let (name, lines) = lines();
    let cfg = NetworkConfig::default();
    let net = RoadNetwork::from_lines(&lines, cfg.snap_m);
    let b = net.bbox().expect("nodes");
    let mut rng = Prng(0x0A11_0CE5);
    let connector_mps = cfg.connector_speed_kmh / 3.6;
    let sources: Vec<(u32, f64)> = (0..PREMISES)
        .map(|_| {
            let x = b[0] + (b[2] - b[0]) * rng.f64();
            let y = b[1] + (b[3] - b[1]) * rng.f64();
            let (n, d) = net.nearest_node(x, y).expect("nodes");
            (n, d / connector_mps)
        })
        .collect();
    let textbook = Textbook::new(&net);

    // Smoke test and a plain timing for the record.
    for &(s, c0) in sources.iter().take(5) {
        let ours = net.one_to_all(&[(s, c0)], f64::INFINITY);
        let theirs = textbook.one_to_all(s, c0);
        for (a, t) in ours.iter().zip(&theirs) {
            assert!(
                (a.is_infinite() && t.is_infinite()) || (f64::from(*a) - t).abs() < 1e-2,
                "{a} vs {t}"
            );
        }
    }
    let t0 = std::time::Instant::now();
    let mut reached = 0usize;
    for &s in &sources {
        reached += net
            .one_to_all(&[s], f64::INFINITY)
            .iter()
            .filter(|t| t.is_finite())
            .count();
    }
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "{name}: {} nodes, {} edges; one-to-all from {PREMISES} premises in {:.3} s ({:.3} ms a premises, {reached} node times)",
        net.node_count(),
        net.edge_count(),
        secs,
        secs * 1e3 / PREMISES as f64
    );

    let mut build = c.benchmark_group("network_build");
    build.sample_size(10);
    build.bench_function(BenchmarkId::from_parameter(name), |bch| {
        bch.iter(|| RoadNetwork::from_lines(black_box(&lines), cfg.snap_m))
    });
    build.finish();

    let mut all = c.benchmark_group("one_to_all_500_premises");
    all.sample_size(10);
    all.bench_function(BenchmarkId::new("needmap", name), |bch| {
        bch.iter(|| {
            let mut total = 0.0f64;
            for &s in &sources {
                let t = net.one_to_all(black_box(&[s]), f64::INFINITY);
                total += t
                    .iter()
                    .filter(|v| v.is_finite())
                    .map(|&v| f64::from(v))
                    .sum::<f64>();
            }
            total
        })
    });
    all.bench_function(BenchmarkId::new("textbook_binaryheap", name), |bch| {
        bch.iter(|| {
            let mut total = 0.0f64;
            for &(s, c0) in &sources {
                let t = textbook.one_to_all(black_box(s), c0);
                total += t.iter().filter(|v| v.is_finite()).sum::<f64>();
            }
            total
        })
    });
    all.finish();

    let mut one = c.benchmark_group("one_to_all_single");
    let s = sources[0];
    one.bench_function(BenchmarkId::new("needmap", name), |bch| {
        bch.iter(|| net.one_to_all(black_box(&[s]), f64::INFINITY))
    });
    one.bench_function(BenchmarkId::new("textbook_binaryheap", name), |bch| {
        bch.iter(|| textbook.one_to_all(black_box(s.0), s.1))
    });
    // All 500 premises as one multi-source search (nearest premises by time).
    one.bench_function(BenchmarkId::new("needmap_multi_source_500", name), |bch| {
        bch.iter(|| net.one_to_all(black_box(&sources), f64::INFINITY))
    });
    one.finish();
}

criterion_group!(benches, network);
criterion_main!(benches);
