//! The road network (issue 4): travel times equal a plain Dijkstra on the same
//! graph; a hand-built grid with answers worked by hand; snapping; the real
//! Edinburgh OS Open Roads extract (size, connectivity, length, isochrones);
//! the roads reader's problems; the demo region's network.

use std::path::Path;
use std::sync::OnceLock;

use geo::{Area, BooleanOps, Contains, MultiPolygon, Point, Validation};
use needmap::config::NetworkConfig;
use needmap::io::report::{Report, Severity};
use needmap::io::roads::{load_road_network, read_road_lines};
use needmap::spatial::crs::wgs84_to_bng;
use needmap::spatial::network::{RoadLine, RoadNetwork};

use super::{demo_atlas, expect_diag, geodata, load_toml, toml_path, Prng};

// ---------------------------------------------------------------------------
// Oracles
// ---------------------------------------------------------------------------

/// Dijkstra without a heap, O(n²): each round settles the unsettled node with
/// the least time. Times add in `f32`, over the same arcs as the network
/// routes, so the answer must equal `one_to_all` exactly.
fn plain_dijkstra(net: &RoadNetwork, sources: &[(u32, f64)], max_s: f64) -> Vec<f32> {
    let n = net.node_count();
    let mut dist = vec![f32::INFINITY; n];
    for &(s, c) in sources {
        dist[s as usize] = dist[s as usize].min(c as f32);
    }
    let mut settled = vec![false; n];
    loop {
        let mut best: Option<usize> = None;
        for v in 0..n {
            if !settled[v] && dist[v].is_finite() && best.is_none_or(|b| dist[v] < dist[b]) {
                best = Some(v);
            }
        }
        let Some(u) = best else { break };
        settled[u] = true;
        for (v, w) in net.neighbours(u as u32) {
            let nd = dist[u] + w;
            if nd < dist[v as usize] {
                dist[v as usize] = nd;
            }
        }
    }
    for d in &mut dist {
        if f64::from(*d) > max_s {
            *d = f32::INFINITY;
        }
    }
    dist
}

/// The same in `f64` from an edge list (no use of the network's adjacency).
fn plain_dijkstra_f64(n: usize, edges: &[(u32, u32, f64)], sources: &[(u32, f64)]) -> Vec<f64> {
    let mut adj: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
    for &(a, b, t) in edges {
        adj[a as usize].push((b, t));
        adj[b as usize].push((a, t));
    }
    let mut dist = vec![f64::INFINITY; n];
    for &(s, c) in sources {
        dist[s as usize] = dist[s as usize].min(c);
    }
    let mut settled = vec![false; n];
    loop {
        let mut best: Option<usize> = None;
        for v in 0..n {
            if !settled[v] && dist[v].is_finite() && best.is_none_or(|b| dist[v] < dist[b]) {
                best = Some(v);
            }
        }
        let Some(u) = best else { break };
        settled[u] = true;
        for &(v, w) in &adj[u] {
            dist[v as usize] = dist[v as usize].min(dist[u] + w);
        }
    }
    dist
}

fn edge_list(net: &RoadNetwork) -> Vec<(u32, u32, f64)> {
    net.edges()
        .iter()
        .map(|e| (e.from, e.to, e.travel_time_s))
        .collect()
}

fn assert_close(ours: &[f32], oracle: &[f64], what: &str) {
    assert_eq!(ours.len(), oracle.len());
    for (v, (&a, &b)) in ours.iter().zip(oracle).enumerate() {
        if b.is_infinite() {
            assert!(a.is_infinite(), "{what}: node {v}: {a} but unreachable");
        } else {
            let tol = 1e-3 + 1e-5 * b;
            assert!(
                (f64::from(a) - b).abs() <= tol,
                "{what}: node {v}: {a} vs {b}"
            );
        }
    }
}

fn line(coords: &[[f64; 2]], speed_kmh: f64) -> RoadLine {
    RoadLine {
        coords: coords.to_vec(),
        speed_kmh,
    }
}

// ---------------------------------------------------------------------------
// Seeded random graphs
// ---------------------------------------------------------------------------

/// A random road graph: `n` junctions in a 5 km square, a random tree over
/// the first 85 % of them plus extra links, and a separate cluster of the
/// rest; some links bend through a vertex that is no junction.
struct RandomGraph {
    lines: Vec<RoadLine>,
    /// Junction positions.
    pts: Vec<[f64; 2]>,
    /// Per line: its two junctions and its travel time in seconds.
    truth: Vec<(usize, usize, f64)>,
}

/// A seeded [`RandomGraph`] with `n` junctions.
fn random_graph(rng: &mut Prng, n: usize) -> RandomGraph {
    let pts: Vec<[f64; 2]> = (0..n)
        .map(|_| {
            [
                rng.range(300_000.0, 305_000.0),
                rng.range(650_000.0, 655_000.0),
            ]
        })
        .collect();
    let main = n * 85 / 100;
    let mut pairs = Vec::new();
    for v in 1..main {
        pairs.push((rng.below(v), v));
    }
    for v in main + 1..n {
        pairs.push((main + rng.below(v - main), v));
    }
    for _ in 0..n {
        let a = rng.below(main);
        let b = rng.below(main);
        if a != b {
            pairs.push((a, b));
        }
    }
    let mut lines = Vec::new();
    let mut truth = Vec::new();
    for (a, b) in pairs {
        let speed = [10.0, 16.0, 24.0, 32.0, 48.0, 96.0][rng.below(6)];
        let (p, q) = (pts[a], pts[b]);
        let coords = if rng.f64() < 0.4 {
            // A bend 50-150 m off the straight line, nowhere near a junction
            // (checked below by the node count).
            let off = rng.range(50.0, 150.0);
            let (dx, dy) = (q[0] - p[0], q[1] - p[1]);
            let len = dx.hypot(dy).max(1e-9);
            let m = [
                (p[0] + q[0]) / 2.0 - dy / len * off,
                (p[1] + q[1]) / 2.0 + dx / len * off,
            ];
            vec![p, m, q]
        } else {
            vec![p, q]
        };
        let len: f64 = coords
            .windows(2)
            .map(|w| (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]))
            .sum();
        truth.push((a, b, len / (speed / 3.6)));
        lines.push(RoadLine {
            coords,
            speed_kmh: speed,
        });
    }
    RandomGraph { lines, pts, truth }
}

#[test]
fn one_to_all_equals_plain_dijkstra_on_random_graphs() {
    let mut rng = Prng::new(4_242);
    for round in 0..12 {
        let n = 40 + rng.below(160);
        let RandomGraph { lines, pts, truth } = random_graph(&mut rng, n);
        let net = RoadNetwork::from_lines(&lines, 0.5);
        assert_eq!(
            net.node_count(),
            n,
            "round {round}: every junction is one node"
        );
        assert_eq!(net.edge_count(), lines.len());
        // Junction k of the generator is node `ids[k]` of the network.
        let ids: Vec<u32> = pts
            .iter()
            .map(|p| {
                let (id, d) = net.nearest_node(p[0], p[1]).expect("nodes");
                assert_eq!(d, 0.0);
                id
            })
            .collect();
        // Two components: the main tree and the separate cluster.
        let comp = net.components();
        let main = n * 85 / 100;
        assert!(ids[..main]
            .iter()
            .all(|&v| comp[v as usize] == comp[ids[0] as usize]));
        if main + 1 < n {
            assert_ne!(comp[ids[main] as usize], comp[ids[0] as usize]);
            assert_eq!(net.largest_component(), comp[ids[0] as usize]);
        }
        for (k, max_s) in [(1, f64::INFINITY), (3, f64::INFINITY), (2, 400.0), (1, 0.0)] {
            let sources: Vec<(u32, f64)> = (0..k)
                .map(|_| (ids[rng.below(n)], rng.below(40) as f64 * 0.5))
                .collect();
            let ours = net.one_to_all(&sources, max_s);
            assert_eq!(
                ours,
                plain_dijkstra(&net, &sources, max_s),
                "round {round}, sources {sources:?}, max {max_s}"
            );
            if max_s.is_infinite() {
                // Against the generator's own graph in f64 (independent of the build).
                let gen_edges: Vec<(u32, u32, f64)> = truth
                    .iter()
                    .map(|&(a, b, t)| (a as u32, b as u32, t))
                    .collect();
                let gen_sources: Vec<(u32, f64)> = sources
                    .iter()
                    .map(|&(s, c)| {
                        (
                            ids.iter().position(|&i| i == s).expect("junction") as u32,
                            c,
                        )
                    })
                    .collect();
                let oracle = plain_dijkstra_f64(n, &gen_edges, &gen_sources);
                let by_node: Vec<f64> = (0..net.node_count() as u32)
                    .map(|v| oracle[ids.iter().position(|&i| i == v).expect("junction")])
                    .collect();
                assert_close(&ours, &by_node, &format!("round {round}"));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// A grid with known answers
// ---------------------------------------------------------------------------

/// A 5 × 5 grid of junctions 100 m apart, one 100 m link between neighbours,
/// at 36 km/h (10 m/s, so 10 s a link).
fn grid_lines() -> Vec<RoadLine> {
    let mut lines = Vec::new();
    for j in 0..5 {
        for i in 0..4 {
            let (x, y) = (i as f64 * 100.0, j as f64 * 100.0);
            lines.push(line(&[[x, y], [x + 100.0, y]], 36.0));
            lines.push(line(&[[y, x], [y, x + 100.0]], 36.0));
        }
    }
    lines
}

fn node_at(net: &RoadNetwork, x: f64, y: f64) -> u32 {
    let (n, d) = net.nearest_node(x, y).expect("a node");
    assert!(d < 1e-9, "no node at ({x}, {y})");
    n
}

fn time_at(net: &RoadNetwork, t: &[f32], x: f64, y: f64) -> f32 {
    t[node_at(net, x, y) as usize]
}

#[test]
fn grid_network_gives_the_answers_worked_by_hand() {
    let net = RoadNetwork::from_lines(&grid_lines(), 0.5);
    assert_eq!((net.node_count(), net.edge_count()), (25, 40));
    assert_eq!(net.components().iter().filter(|&&c| c == 0).count(), 25);
    assert!((net.total_length_m() - 4_000.0).abs() < 1e-9);
    let t = net.one_to_all(&[(node_at(&net, 0.0, 0.0), 0.0)], f64::INFINITY);
    // Manhattan distance at 10 m/s.
    for j in 0..5 {
        for i in 0..5 {
            let want = (i + j) as f32 * 10.0;
            assert_eq!(time_at(&net, &t, i as f64 * 100.0, j as f64 * 100.0), want);
        }
    }
    assert_eq!(time_at(&net, &t, 400.0, 400.0), 80.0);

    // A 72 km/h (20 m/s) diagonal from corner to corner with no vertex between:
    // it passes over the junctions without meeting them (a flyover).
    let diag = 400.0 * 2f64.sqrt(); // 565.685 m, 28.284 s
    let mut lines = grid_lines();
    lines.push(line(&[[0.0, 0.0], [400.0, 400.0]], 72.0));
    let net = RoadNetwork::from_lines(&lines, 0.5);
    assert_eq!((net.node_count(), net.edge_count()), (25, 41));
    let t = net.one_to_all(&[(node_at(&net, 0.0, 0.0), 0.0)], f64::INFINITY);
    let close =
        |got: f32, want: f64| assert!((f64::from(got) - want).abs() < 1e-4, "{got} vs {want}");
    close(time_at(&net, &t, 400.0, 400.0), diag / 20.0); // 28.28 s, not 80 s
    close(time_at(&net, &t, 400.0, 300.0), diag / 20.0 + 10.0); // 38.28 s, not 70 s
    close(time_at(&net, &t, 300.0, 300.0), diag / 20.0 + 20.0); // 48.28 s < 60 s by the grid
    close(time_at(&net, &t, 200.0, 200.0), 40.0); // the grid (48.28 s the other way)
    close(time_at(&net, &t, 100.0, 300.0), 40.0);
    close(time_at(&net, &t, 200.0, 400.0), diag / 20.0 + 20.0); // 48.28 s < 60 s

    // The same diagonal drawn through vertices on every junction: the grid
    // links' ends meet them, so it is split there and joins the grid.
    let mut lines = grid_lines();
    lines.push(line(
        &[
            [0.0, 0.0],
            [100.0, 100.0],
            [200.0, 200.0],
            [300.0, 300.0],
            [400.0, 400.0],
        ],
        72.0,
    ));
    let net = RoadNetwork::from_lines(&lines, 0.5);
    assert_eq!((net.node_count(), net.edge_count()), (25, 44));
    let t = net.one_to_all(&[(node_at(&net, 0.0, 0.0), 0.0)], f64::INFINITY);
    let step = 100.0 * 2f64.sqrt() / 20.0; // 7.07 s a diagonal step
    close(time_at(&net, &t, 200.0, 200.0), 2.0 * step); // 14.14 s
    close(time_at(&net, &t, 300.0, 200.0), 2.0 * step + 10.0);
    close(time_at(&net, &t, 0.0, 400.0), 40.0);
    close(time_at(&net, &t, 100.0, 400.0), step + 30.0); // 37.07 s < 50 s
    close(time_at(&net, &t, 400.0, 0.0), 40.0);

    // Two sources with head starts, and a time limit.
    let a = node_at(&net, 0.0, 0.0);
    let b = node_at(&net, 400.0, 0.0);
    let t = net.one_to_all(&[(a, 5.0), (b, 0.0)], 25.0);
    close(time_at(&net, &t, 300.0, 0.0), 10.0);
    close(time_at(&net, &t, 100.0, 0.0), 15.0);
    close(time_at(&net, &t, 200.0, 0.0), 20.0);
    close(time_at(&net, &t, 400.0, 100.0), 10.0);
    assert!(
        time_at(&net, &t, 0.0, 300.0).is_infinite(),
        "35 s is beyond 25 s"
    );
    assert_eq!(t, plain_dijkstra(&net, &[(a, 5.0), (b, 0.0)], 25.0));
}

#[test]
fn grid_isochrones_cover_what_is_reached() {
    let net = RoadNetwork::from_lines(&grid_lines(), 0.5);
    let t = net.one_to_all(&[(node_at(&net, 0.0, 0.0), 0.0)], f64::INFINITY);
    // Connector 36 km/h = 10 m/s; 10 m cells; bands 20 s, 40 s and 1 h.
    let bands = net.isochrones(&t, &[20.0, 40.0, 3_600.0], 36.0, 10.0);
    assert_eq!(bands.len(), 3);
    for b in &bands {
        assert!(b.validation_errors().is_empty());
    }
    let inside = |mp: &MultiPolygon<f64>, x: f64, y: f64| mp.contains(&Point::new(x, y));
    // 20 s: 200 m along the roads from the corner (cell centres at 5 m offsets).
    assert!(inside(&bands[0], 95.0, 85.0)); // (100, 85) is 18.5 s away, then 0.5 s
    assert!(inside(&bands[0], 185.0, 5.0)); // (185, 0) is 18.5 s away, then 0.5 s
    assert!(!inside(&bands[0], 205.0, 5.0)); // (205, 0) is 20.5 s away, then 0.5 s
    assert!(!inside(&bands[0], 155.0, 155.0)); // (150, 100) is 25 s away, then 5.5 s
    assert!(inside(&bands[1], 155.0, 155.0));
    // Everything within the connector reach R of a road (roads span 0-400 m) is lit
    // after an hour, and nothing further.
    let r = needmap::spatial::network::CONNECTOR_REACH_M;
    assert!(inside(&bands[2], 400.0 + r - 5.0, 205.0));
    assert!(!inside(&bands[2], 400.0 + r + 5.0, 205.0));
    let a: Vec<f64> = bands.iter().map(|b| b.unsigned_area()).collect();
    assert!(a[0] < a[1] && a[1] < a[2], "{a:?}");
    // (400 + 2R) m square, with corners rounded by the reach: (400 + 2R)² − (4 − π)·R² m².
    let side = 400.0 + 2.0 * r;
    let want = side * side - (4.0 - std::f64::consts::PI) * r * r;
    assert!((a[2] - want).abs() / want < 0.01, "{} vs {want}", a[2]);
    // Unusable arguments give empty polygons.
    assert!(net.isochrones(&t, &[60.0], 0.0, 10.0)[0].0.is_empty());
    assert!(net.isochrones(&t, &[60.0], 15.0, -1.0)[0].0.is_empty());
    assert!(net.isochrones(&t, &[f64::NAN], 15.0, 10.0)[0].0.is_empty());
}

// ---------------------------------------------------------------------------
// Snapping
// ---------------------------------------------------------------------------

#[test]
fn snapping_joins_ends_within_snap_m_and_not_beyond() {
    let near = vec![
        line(&[[0.0, 0.0], [100.0, 0.0]], 36.0),
        line(&[[100.0, 0.4], [200.0, 0.0]], 36.0),
    ];
    let far = vec![
        line(&[[0.0, 0.0], [100.0, 0.0]], 36.0),
        line(&[[100.0, 0.6], [200.0, 0.0]], 36.0),
    ];
    let joined = RoadNetwork::from_lines(&near, 0.5);
    assert_eq!(joined.node_count(), 3);
    assert_eq!(joined.components(), vec![0, 0, 0]);
    // The first end made the node; the second joined it where it was.
    assert_eq!(joined.node_xy(1), [100.0, 0.0]);
    let apart = RoadNetwork::from_lines(&far, 0.5);
    assert_eq!(apart.node_count(), 4);
    assert_eq!(apart.components(), vec![0, 0, 1, 1]);
    assert_eq!(apart.largest_component(), 0);
    // A wider tolerance joins them; zero joins identical ends only.
    assert_eq!(RoadNetwork::from_lines(&far, 1.0).node_count(), 3);
    assert_eq!(RoadNetwork::from_lines(&near, 0.0).node_count(), 4);
    let exact = vec![
        line(&[[0.0, 0.0], [100.0, 0.0]], 36.0),
        line(&[[100.0, 0.0], [200.0, 0.0]], 36.0),
    ];
    assert_eq!(RoadNetwork::from_lines(&exact, 0.0).node_count(), 3);

    // An end 0.3 m from another line's interior vertex splits that line there;
    // 0.7 m away it does not.
    for (dy, nodes, edges) in [(0.3, 4, 3), (0.7, 4, 2)] {
        let lines = vec![
            line(&[[0.0, 0.0], [100.0, 0.0], [200.0, 0.0]], 36.0),
            line(&[[100.0, dy], [100.0, 100.0]], 36.0),
        ];
        let net = RoadNetwork::from_lines(&lines, 0.5);
        assert_eq!(
            (net.node_count(), net.edge_count()),
            (nodes, edges),
            "dy {dy}"
        );
        let joined = edges == 3;
        assert_eq!(net.components().iter().all(|&c| c == 0), joined);
        if joined {
            let geoms: Vec<usize> = (0..3).map(|e| net.edge_geometry(e).len()).collect();
            assert_eq!(geoms, vec![2, 2, 2]);
            let t = net.one_to_all(&[(0, 0.0)], f64::INFINITY);
            // 100 m to the junction, which is (100, 0.3), then 99.7 m north.
            let top = node_at(&net, 100.0, 100.0) as usize;
            assert!((t[top] - 19.97).abs() < 1e-3, "{}", t[top]);
        }
    }
}

// ---------------------------------------------------------------------------
// The Edinburgh OS Open Roads extract
// ---------------------------------------------------------------------------

/// The 12,094 links' `length_m` summed (computed in BNG by the geodata's
/// publisher; the README rounds it to "≈1,083 km").
const README_LENGTH_M: f64 = 1_083_000.0;

fn edinburgh_path() -> Option<std::path::PathBuf> {
    Some(geodata()?.join("os_open_roads_edinburgh_6km.geojson"))
}

/// The Edinburgh network with the default speeds, loaded once.
fn edinburgh() -> Option<&'static RoadNetwork> {
    let path = edinburgh_path()?;
    static NET: OnceLock<RoadNetwork> = OnceLock::new();
    Some(NET.get_or_init(|| {
        let mut report = Report::new();
        let cfg = NetworkConfig::default();
        let net = load_road_network(
            &path,
            "os_open_roads_edinburgh_6km.geojson",
            &cfg,
            &mut report,
        )
        .unwrap_or_else(|| panic!("Edinburgh roads do not load:\n{report}"));
        assert!(report.diagnostics.is_empty(), "{report}");
        net
    }))
}

/// Edinburgh Waverley station, British National Grid.
fn waverley() -> [f64; 2] {
    let (x, y) = wgs84_to_bng(-3.1883, 55.9521).expect("in the grid");
    [x, y]
}

#[test]
fn edinburgh_roads_load_as_one_large_network() {
    let Some(net) = edinburgh() else { return };
    let comp = net.components();
    let largest = net.largest_component();
    let in_largest = comp.iter().filter(|&&c| c == largest).count();
    let parts = comp.iter().max().map_or(0, |&m| m + 1);
    let share = in_largest as f64 / net.node_count() as f64;
    eprintln!(
        "Edinburgh: {} nodes, {} edges, {:.1} km, {parts} components, largest {in_largest} nodes ({:.2} %)",
        net.node_count(),
        net.edge_count(),
        net.total_length_m() / 1000.0,
        share * 100.0
    );
    // Measured. Of the 12,094 links, 6 are 0.1-0.4 m long, so their two ends
    // join one node and they are dropped as stubs; 4 are split where another
    // link ends at one of their interior vertices: 12,094 - 6 + 4 edges.
    assert_eq!(net.lines_left_out(), 6);
    assert_eq!(net.edge_count(), 12_092);
    assert_eq!(net.node_count(), 9_730);
    // Measured: 14 components, the largest with 9,646 nodes (99.1 %); the other
    // 13 have 2-17 nodes each: service and private roads whose link to the
    // rest lies outside the 6 km zone. Under 98 % would mean that snapping
    // failed somewhere.
    assert!(share > 0.98, "largest component holds {share}");
    assert!(parts < 40, "{parts} components");
    let rel = (net.total_length_m() - README_LENGTH_M).abs() / README_LENGTH_M;
    assert!(rel < 0.005, "total {} m", net.total_length_m());
    // Waverley is on the network (its nearest node is a few tens of metres away)
    // and in the largest part.
    let w = waverley();
    let (n, d) = net.nearest_node(w[0], w[1]).expect("nodes");
    assert!(d < 150.0, "{d} m");
    assert_eq!(comp[n as usize], largest);
}

#[test]
fn edinburgh_one_to_all_equals_plain_dijkstra() {
    let Some(net) = edinburgh() else { return };
    let mut rng = Prng::new(77);
    let n = net.node_count();
    let pick = |rng: &mut Prng| rng.below(n) as u32;
    for sources in [
        vec![(pick(&mut rng), 0.0)],
        vec![
            (pick(&mut rng), 12.5),
            (pick(&mut rng), 0.0),
            (pick(&mut rng), 30.0),
        ],
    ] {
        let ours = net.one_to_all(&sources, f64::INFINITY);
        assert_eq!(ours, plain_dijkstra(net, &sources, f64::INFINITY));
        // f32 accumulation stays within a millisecond of f64 across the city.
        let oracle = plain_dijkstra_f64(n, &edge_list(net), &sources);
        assert_close(&ours, &oracle, "Edinburgh");
    }
    // A time limit cuts the same answer.
    let s = [(pick(&mut rng), 0.0)];
    let all = net.one_to_all(&s, f64::INFINITY);
    let cut = net.one_to_all(&s, 300.0);
    for (a, c) in all.iter().zip(&cut) {
        if *a <= 300.0 {
            assert_eq!(a, c);
        } else {
            assert!(c.is_infinite());
        }
    }
}

#[test]
fn edinburgh_isochrones_are_nested_valid_and_plausible() {
    let Some(net) = edinburgh() else { return };
    let connector_kmh = NetworkConfig::default().connector_speed_kmh;
    let w = waverley();
    let (n, d) = net.nearest_node(w[0], w[1]).expect("nodes");
    let times = net.one_to_all(&[(n, d / (connector_kmh / 3.6))], 1_800.0);
    let bands_s = [300.0, 600.0, 900.0, 1_200.0];
    let t0 = std::time::Instant::now();
    let bands = net.isochrones(&times, &bands_s, connector_kmh, 100.0);
    let secs = t0.elapsed().as_secs_f64();
    let areas_km2: Vec<f64> = bands.iter().map(|b| b.unsigned_area() / 1e6).collect();
    eprintln!(
        "Waverley isochrones (5/10/15/20 min, 100 m cells) {areas_km2:.2?} km² in {secs:.2} s"
    );
    for (k, b) in bands.iter().enumerate() {
        assert!(!b.0.is_empty());
        let problems = b.validation_errors();
        assert!(problems.is_empty(), "band {k}: {problems:?}");
        assert!(
            b.contains(&Point::new(w[0], w[1])),
            "band {k} holds Waverley"
        );
    }
    for k in 1..bands.len() {
        assert!(areas_km2[k] > areas_km2[k - 1], "{areas_km2:?}");
        let outside = bands[k - 1].difference(&bands[k]).unsigned_area();
        assert!(
            outside < 1.0,
            "band {} pokes out of band {k} by {outside} m²",
            k - 1
        );
    }
    // Plausible range: at the default speeds a trip moves away in a straight
    // line at between 24 km/h / 1.3 (local roads only, circuity 1.3) = 18 km/h
    // and 48 km/h / 1.2 (A roads only) = 40 km/h, so 10 minutes reach 3.1-6.7 km:
    // a disc of 30-140 km², cut by the edge of the data (a 6 km circle,
    // 113 km², less the Firth of Forth 3 km north). Measured 80.0 km²: the
    // frontier of 10 minutes lies a median 5.3 km from Waverley (32 km/h in a
    // straight line). Likewise 5 minutes reach 1.5-3.3 km: 7-35 km² (measured
    // 19.4 km², frontier 2.5 km away).
    assert!((30.0..100.0).contains(&areas_km2[1]), "{areas_km2:?}");
    assert!((7.0..35.0).contains(&areas_km2[0]), "{areas_km2:?}");
    // The whole extract bounds the largest band (measured 91.1 km²: all of the
    // largest component is within 20 minutes, the farthest node 19.5 minutes).
    assert!(areas_km2[3] < 113.0, "{areas_km2:?}");
}

/// The circuity of Edinburgh's roads (network distance / straight distance
/// for node pairs 1-5 km apart), which the straight-line fallback's default
/// of 1.3 stands for: a network with every speed 3.6 km/h gives metres as
/// seconds. Measured over 442 pairs: mean 1.351, median 1.313.
#[test]
fn edinburgh_circuity_supports_the_fallback_default() {
    let Some(path) = edinburgh_path() else { return };
    let mut report = Report::new();
    let cfg = NetworkConfig::default();
    let mut lines = read_road_lines(&path, "roads", &cfg, &mut report).expect("reads");
    for l in &mut lines {
        l.speed_kmh = 3.6;
    }
    let net = RoadNetwork::from_lines(&lines, cfg.snap_m);
    let largest = net.largest_component();
    let comp = net.components();
    let nodes: Vec<u32> = (0..net.node_count() as u32)
        .filter(|&v| comp[v as usize] == largest)
        .collect();
    let mut rng = Prng::new(13);
    let mut ratios = Vec::new();
    for _ in 0..20 {
        let s = nodes[rng.below(nodes.len())];
        let metres = net.one_to_all(&[(s, 0.0)], f64::INFINITY);
        let p = net.node_xy(s);
        for _ in 0..50 {
            let v = nodes[rng.below(nodes.len())];
            let q = net.node_xy(v);
            let straight = (q[0] - p[0]).hypot(q[1] - p[1]);
            if (1_000.0..5_000.0).contains(&straight) {
                ratios.push(f64::from(metres[v as usize]) / straight);
            }
        }
    }
    ratios.sort_by(f64::total_cmp);
    let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
    let median = ratios[ratios.len() / 2];
    eprintln!(
        "Edinburgh circuity over {} pairs 1-5 km apart: mean {mean:.3}, median {median:.3}",
        ratios.len()
    );
    assert!(ratios.len() > 300);
    assert!(ratios[0] >= 1.0 - 1e-6);
    assert!((1.15..1.45).contains(&mean), "mean circuity {mean}");
}

// ---------------------------------------------------------------------------
// Reading roads: problems are named by file and feature
// ---------------------------------------------------------------------------

fn road_feature(class: Option<&str>, geometry: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "type": "Feature",
        "properties": {"road_function": class},
        "geometry": geometry,
    })
}

fn lonlat_line(lon: f64, lat: f64) -> serde_json::Value {
    serde_json::json!({"type": "LineString", "coordinates": [[lon, lat], [lon + 0.002, lat]]})
}

fn write_roads(dir: &Path, name: &str, features: Vec<serde_json::Value>) -> std::path::PathBuf {
    let path = dir.join(name);
    let fc = serde_json::json!({"type": "FeatureCollection", "features": features});
    std::fs::write(&path, fc.to_string()).expect("write roads");
    path
}

#[test]
fn unknown_and_missing_classes_are_counted_warnings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_roads(
        dir.path(),
        "roads.geojson",
        vec![
            road_feature(Some("Local Road"), lonlat_line(-3.20, 55.95)),
            road_feature(Some("Footpath"), lonlat_line(-3.19, 55.95)),
            road_feature(Some("a road"), lonlat_line(-3.18, 55.95)),
            road_feature(Some("Footpath"), lonlat_line(-3.17, 55.95)),
            road_feature(None, lonlat_line(-3.16, 55.95)),
        ],
    );
    let mut report = Report::new();
    let cfg = NetworkConfig::default();
    let lines = read_road_lines(&path, "roads.geojson", &cfg, &mut report).expect("reads");
    let speeds: Vec<f64> = lines.iter().map(|l| l.speed_kmh).collect();
    assert_eq!(speeds, vec![24.0, 24.0, 48.0, 24.0, 24.0]);
    let d = expect_diag(
        &report,
        Severity::Warning,
        "roads.geojson",
        Some("features 2, 4"),
        &["\"Footpath\"", "no speed", "24 km/h", "(2 features)"],
    );
    assert_eq!(d.count, 2);
    expect_diag(
        &report,
        Severity::Warning,
        "roads.geojson",
        Some("feature 5"),
        &["no road class", "road_function"],
    );
    assert_eq!(report.diagnostics.len(), 2, "{report}");
    // Lines are 0.002° of longitude (about 125 m) in British National Grid metres.
    let len = (lines[0].coords[1][0] - lines[0].coords[0][0])
        .hypot(lines[0].coords[1][1] - lines[0].coords[0][1]);
    assert!((120.0..130.0).contains(&len), "{len}");
}

#[test]
fn points_empty_lines_and_bad_coordinates_are_left_out_by_feature() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_roads(
        dir.path(),
        "roads.geojson",
        vec![
            road_feature(Some("Local Road"), lonlat_line(-3.20, 55.95)),
            road_feature(
                Some("Local Road"),
                serde_json::json!({"type": "Point", "coordinates": [-3.2, 55.95]}),
            ),
            road_feature(
                Some("Local Road"),
                serde_json::json!({"type": "LineString", "coordinates": [[-3.2, 55.95], [-3.2, 55.95]]}),
            ),
            road_feature(
                Some("Local Road"),
                serde_json::json!({"type": "LineString", "coordinates": [[55.95, -3.2], [55.95, -3.21]]}),
            ),
            road_feature(Some("Local Road"), serde_json::Value::Null),
            road_feature(
                Some("B Road"),
                serde_json::json!({"type": "MultiLineString", "coordinates": [
                    [[-3.21, 55.95], [-3.21, 55.951]], [[-3.22, 55.95], [-3.222, 55.95]]]}),
            ),
        ],
    );
    let mut report = Report::new();
    let lines = read_road_lines(
        &path,
        "roads.geojson",
        &NetworkConfig::default(),
        &mut report,
    )
    .expect("reads");
    assert_eq!(lines.len(), 3, "feature 1 and both parts of feature 6");
    expect_diag(
        &report,
        Severity::Warning,
        "roads.geojson",
        Some("feature 2"),
        &["a point, not a line"],
    );
    expect_diag(
        &report,
        Severity::Warning,
        "roads.geojson",
        Some("feature 3"),
        &["fewer than two distinct positions"],
    );
    expect_diag(
        &report,
        Severity::Warning,
        "roads.geojson",
        Some("feature 4"),
        &["latitude, longitude in the wrong order", "left out"],
    );
    expect_diag(
        &report,
        Severity::Warning,
        "roads.geojson",
        Some("feature 5"),
        &["no geometry"],
    );
    assert!(!report.has_errors(), "{report}");
}

#[test]
fn empty_or_unusable_road_files_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = NetworkConfig::default();

    let empty = dir.path().join("empty.geojson");
    std::fs::write(&empty, "").expect("write");
    let mut report = Report::new();
    assert!(read_road_lines(&empty, "empty.geojson", &cfg, &mut report).is_none());
    expect_diag(&report, Severity::Error, "empty.geojson", None, &["empty"]);

    let points = write_roads(
        dir.path(),
        "points.geojson",
        vec![road_feature(
            Some("A Road"),
            serde_json::json!({"type": "Point", "coordinates": [-3.2, 55.95]}),
        )],
    );
    let mut report = Report::new();
    assert!(read_road_lines(&points, "points.geojson", &cfg, &mut report).is_none());
    expect_diag(
        &report,
        Severity::Error,
        "points.geojson",
        None,
        &["no usable road lines"],
    );

    let no_class = write_roads(
        dir.path(),
        "no_class.geojson",
        vec![
            serde_json::json!({"type": "Feature", "properties": {"kind": "road"}, "geometry": lonlat_line(-3.2, 55.95)}),
        ],
    );
    let mut report = Report::new();
    assert!(read_road_lines(&no_class, "no_class.geojson", &cfg, &mut report).is_none());
    expect_diag(
        &report,
        Severity::Error,
        "no_class.geojson",
        None,
        &["missing column \"road_function\"", "kind"],
    );
}

#[test]
fn roads_are_read_from_a_shapefile_in_british_national_grid() {
    use shapefile::dbase::{FieldValue, Record, TableWriterBuilder};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("roads.shp");
    let table = TableWriterBuilder::new()
        .add_character_field("road_funct".try_into().expect("field name"), 40);
    let mut w = shapefile::Writer::from_path(&path, table).expect("writer");
    let base = [325_000.0, 673_000.0];
    for (k, class) in ["A Road", "Local Road"].iter().enumerate() {
        let x0 = base[0] + k as f64 * 100.0;
        let shape = shapefile::Polyline::new(vec![
            shapefile::Point::new(x0, base[1]),
            shapefile::Point::new(x0 + 100.0, base[1]),
        ]);
        let mut rec = Record::default();
        rec.insert(
            "road_funct".into(),
            FieldValue::Character(Some(class.to_string())),
        );
        w.write_shape_and_record(&shape, &rec).expect("write");
    }
    drop(w);
    std::fs::write(
        path.with_extension("prj"),
        r#"PROJCS["British_National_Grid",GEOGCS["GCS_OSGB_1936",DATUM["D_OSGB_1936",SPHEROID["Airy_1830",6377563.396,299.3249646]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],UNIT["Meter",1.0]]"#,
    )
    .expect("prj");
    let cfg = NetworkConfig {
        class: "road_funct".into(),
        ..NetworkConfig::default()
    };
    let mut report = Report::new();
    let net = load_road_network(&path, "roads.shp", &cfg, &mut report).expect("loads");
    assert!(report.diagnostics.is_empty(), "{report}");
    assert_eq!((net.node_count(), net.edge_count()), (3, 2));
    let t = net.one_to_all(&[(node_at(&net, base[0], base[1]), 0.0)], f64::INFINITY);
    // 100 m at 48 km/h (7.5 s), then 100 m at 24 km/h (15 s).
    let end = node_at(&net, base[0] + 200.0, base[1]);
    assert!((t[end as usize] - 22.5).abs() < 1e-4, "{}", t[end as usize]);
}

#[test]
fn a_workspace_loads_its_network_and_reports_road_problems() {
    let dir = tempfile::tempdir().expect("tempdir");
    let areas = serde_json::json!({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"code": "A1"},
        "geometry": {"type": "Polygon", "coordinates": [[[-3.21, 55.94], [-3.17, 55.94], [-3.17, 55.96], [-3.21, 55.96], [-3.21, 55.94]]]}}]});
    std::fs::write(dir.path().join("areas.geojson"), areas.to_string()).expect("write");
    write_roads(
        dir.path(),
        "roads.geojson",
        vec![
            road_feature(Some("Local Road"), lonlat_line(-3.20, 55.95)),
            road_feature(
                Some("Local Road"),
                serde_json::json!({"type": "Point", "coordinates": [-3.2, 55.95]}),
            ),
        ],
    );
    std::fs::write(dir.path().join("empty.geojson"), "").expect("write");
    let toml = |roads: &str| {
        format!(
            "[areas]\npath = {}\nid = \"code\"\n[network]\npath = {}\n",
            toml_path(&dir.path().join("areas.geojson")),
            toml_path(&dir.path().join(roads))
        )
    };
    let atlas = load_toml(dir.path(), &toml("roads.geojson")).unwrap_or_else(|r| panic!("{r}"));
    let net = atlas.network.as_ref().expect("a network");
    assert_eq!((net.node_count(), net.edge_count()), (2, 1));
    expect_diag(
        &atlas.report,
        Severity::Warning,
        "roads.geojson",
        Some("feature 2"),
        &["a point"],
    );

    let err = load_toml(dir.path(), &toml("empty.geojson"))
        .err()
        .expect("an empty road file stops the load");
    expect_diag(&err, Severity::Error, "empty.geojson", None, &["empty"]);

    // `[network]` without a path: straight-line travel, no network.
    let text = format!(
        "[areas]\npath = {}\nid = \"code\"\n[network]\ncircuity = 1.25\n",
        toml_path(&dir.path().join("areas.geojson"))
    );
    let atlas = load_toml(dir.path(), &text).unwrap_or_else(|r| panic!("{r}"));
    assert!(atlas.network.is_none());
    assert_eq!(
        atlas.config.network.as_ref().map(|n| n.circuity),
        Some(1.25)
    );
}

// ---------------------------------------------------------------------------
// The demo region
// ---------------------------------------------------------------------------

#[test]
fn demo_region_has_a_connected_road_network() {
    let atlas = demo_atlas();
    let net = atlas.network.as_ref().expect("the demo has roads");
    // 600 areas: 28 columns × 22 rows, the top row 12 cells long.
    assert!(
        net.node_count() > 600 && net.edge_count() > 1_200,
        "{net:?}"
    );
    assert!(net.components().iter().all(|&c| c == 0), "connected");
    // Every area's representative point is within a cell of a road.
    for a in &atlas.areas {
        use geo::InteriorPoint;
        let p = a.geometry.interior_point().expect("a point");
        let (_, d) = net.nearest_node(p.x(), p.y()).expect("nodes");
        assert!(d < 600.0, "{} is {d} m from a node", a.code);
    }
    // From the middle, the region's far corners take longer than its near streets.
    let b = net.bbox().expect("nodes");
    let centre = [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0];
    let (n, _) = net.nearest_node(centre[0], centre[1]).expect("nodes");
    let t = net.one_to_all(&[(n, 0.0)], f64::INFINITY);
    assert!(t.iter().all(|v| v.is_finite()));
    let worst = t.iter().copied().fold(0.0f32, f32::max);
    // Half the region (about 8 km by 6.6 km) at 24-48 km/h: 10-30 minutes.
    assert!((600.0..1_800.0).contains(&worst), "{worst} s");
    let bands = net.isochrones(&t, &[300.0, 600.0], 15.0, 100.0);
    assert!(bands[0].unsigned_area() < bands[1].unsigned_area());
}
