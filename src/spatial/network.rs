//! The road network: a routable graph built from road centre lines, with
//! travel times from each node to every other and isochrone polygons.
//!
//! Everything is in British National Grid metres (EPSG:27700) and seconds.
//!
//! # Model
//!
//! - **Nodes** are where line ends meet. Each line end joins the nearest node
//!   already made within `snap_m` metres (default 0.5 m, enough for the 6-decimal
//!   rounding of WGS84 copies of OS Open Roads), or makes a new node; lines are
//!   taken in input order, so the result is deterministic. An interior vertex of
//!   a line is **not** a junction unless some line's end lies within `snap_m` of
//!   it, in which case the line is split there (OS Open Roads links meet at
//!   their ends; lines that merely cross, such as a bridge over a road, do not
//!   connect). An end that meets another line between two of its vertices is
//!   not joined to it.
//! - **Edges** are undirected (no one-way streets or turn restrictions: OS Open
//!   Roads carries none). `length_m` is the length of the line in grid metres
//!   (grid distance is within 0.2 % of ground distance anywhere in Scotland);
//!   `travel_time_s = length_m / (speed_kmh / 3.6)` with the speed of the
//!   line's road class. A line whose two ends join the same node is kept as a
//!   loop edge: it counts in lengths and isochrones, not in routing. A loop no
//!   longer than `2 × snap_m` is a stub (in OS Open Roads, a vertex digitised
//!   twice beside a junction, which would otherwise split its own line) and is
//!   dropped.
//! - Lines with fewer than two distinct positions, a coordinate that is not a
//!   finite number, or a speed that is not a positive finite number are left
//!   out, as are lines that are nothing but a stub ([`RoadNetwork::lines_left_out`]);
//!   the readers in `io::roads` report the first three.
//! - **Travel times** ([`RoadNetwork::one_to_all`]) are shortest-path times by
//!   Dijkstra's algorithm over a compressed (CSR) adjacency, accumulated in
//!   `f32` seconds (a resolution of about 0.25 ms at an hour).
//! - **Off the network**, a place reaches its nearest node in a straight line at
//!   a *connector speed* (`[network] connector_speed_kmh` in the workspace,
//!   15 km/h by default): the callers add that time to the network time.
//!
//! # Isochrones
//!
//! [`RoadNetwork::isochrones`] rasterises travel times on square cells of
//! `cell_m` metres aligned to multiples of `cell_m` in grid coordinates. Times
//! are known at the nodes and, by interpolation along each edge from the
//! quicker end, at sample points every `cell_m / 2` along every edge (so long
//! links light up the cells they cross). A cell's time is
//! `min(t_p + d_p / v)` over the sample points `p` within the connector reach of
//! its centre, `d_p` being the straight distance from `p` to the centre and `v`
//! the connector speed; the reach is [`CONNECTOR_REACH_M`] or `cell_m`, whichever
//! is larger, so land far from any road (parks, water) stays outside. A band
//! `t` holds the cells whose time is at most `t`, so bands are cumulative and
//! nested. The cells of a band are traced into polygons along cell edges:
//! diagonal neighbours are separate pieces (they touch at a corner), shells run
//! counter-clockwise and holes clockwise, and every polygon is valid.

use std::collections::HashMap;
use std::fmt;

use geo::{Coord, LineString, MultiPolygon, Polygon};
use rstar::primitives::GeomWithData;
use rstar::RTree;

/// A road centre line in British National Grid metres with its speed.
#[derive(Clone, Debug, PartialEq)]
pub struct RoadLine {
    /// Positions `[easting, northing]` in metres, in order along the road.
    pub coords: Vec<[f64; 2]>,
    /// The speed for the line's road class, km/h.
    pub speed_kmh: f64,
}

/// An undirected edge of the network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RoadEdge {
    /// One end node.
    pub from: u32,
    /// The other end node (equal to `from` for a loop).
    pub to: u32,
    /// Length along the line, grid metres.
    pub length_m: f64,
    /// Speed of the line's road class, km/h.
    pub speed_kmh: f64,
    /// `length_m / (speed_kmh / 3.6)`, seconds.
    pub travel_time_s: f64,
}

/// Sample points of [`RoadNetwork::isochrones`] reach cell centres this far,
/// metres (or one cell, when cells are larger). 400 m covers the middle of a
/// 600-800 m block between roads (rural grids and the demo region's street
/// grid), at a connector cost of 96 s at 15 km/h; 250 m left such blocks as
/// holes in the isochrones.
pub const CONNECTOR_REACH_M: f64 = 400.0;

/// The raster of [`RoadNetwork::isochrones`] has at most this many cells; larger
/// extents get larger cells.
pub const MAX_ISOCHRONE_CELLS: usize = 1 << 22;

/// One direction of an edge in the adjacency.
#[derive(Clone, Copy, Debug)]
struct Arc {
    to: u32,
    time_s: f32,
}

/// A routable road graph (see the module documentation for the model).
#[derive(Clone)]
pub struct RoadNetwork {
    nodes_xy: Vec<[f64; 2]>,
    edges: Vec<RoadEdge>,
    /// Edge `e`'s line is `geom[geom_start[e]..geom_start[e + 1]]`.
    geom_start: Vec<u32>,
    geom: Vec<[f64; 2]>,
    /// Node `n`'s arcs are `arcs[arc_start[n]..arc_start[n + 1]]`.
    arc_start: Vec<u32>,
    arcs: Vec<Arc>,
    component: Vec<u32>,
    largest: u32,
    tree: RTree<GeomWithData<[f64; 2], u32>>,
    lines_left_out: usize,
}

impl fmt::Debug for RoadNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoadNetwork")
            .field("nodes", &self.node_count())
            .field("edges", &self.edge_count())
            .field("total_length_m", &self.total_length_m())
            .field("lines_left_out", &self.lines_left_out)
            .finish()
    }
}

/// Line ends snapped to nodes through a hash grid of cells at least `snap_m` wide.
struct Snapper {
    snap_m: f64,
    inv_cell: f64,
    cells: HashMap<(i64, i64), Vec<u32>>,
}

impl Snapper {
    fn new(snap_m: f64) -> Snapper {
        Snapper {
            snap_m,
            inv_cell: 1.0 / snap_m.max(1.0),
            cells: HashMap::new(),
        }
    }

    fn key(&self, p: [f64; 2]) -> (i64, i64) {
        (
            (p[0] * self.inv_cell).floor() as i64,
            (p[1] * self.inv_cell).floor() as i64,
        )
    }

    /// The nearest node within `snap_m` of `p` (lowest id on a tie).
    fn find(&self, p: [f64; 2], nodes: &[[f64; 2]]) -> Option<u32> {
        let (kx, ky) = self.key(p);
        let limit = self.snap_m * self.snap_m;
        let mut best: Option<(f64, u32)> = None;
        for dx in -1..=1 {
            for dy in -1..=1 {
                let Some(ids) = self.cells.get(&(kx + dx, ky + dy)) else {
                    continue;
                };
                for &id in ids {
                    let q = nodes[id as usize];
                    let d2 = (q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2);
                    let better = match best {
                        None => true,
                        Some((bd, bid)) => d2 < bd || (d2 == bd && id < bid),
                    };
                    if d2 <= limit && better {
                        best = Some((d2, id));
                    }
                }
            }
        }
        best.map(|b| b.1)
    }

    fn find_or_insert(&mut self, p: [f64; 2], nodes: &mut Vec<[f64; 2]>) -> u32 {
        if let Some(id) = self.find(p, nodes) {
            return id;
        }
        let id = nodes.len() as u32;
        nodes.push(p);
        self.cells.entry(self.key(p)).or_default().push(id);
        id
    }
}

/// The line's positions without consecutive repeats, or `None` when it is not usable.
fn clean_line(line: &RoadLine) -> Option<Vec<[f64; 2]>> {
    if !(line.speed_kmh.is_finite() && line.speed_kmh > 0.0) {
        return None;
    }
    let mut out: Vec<[f64; 2]> = Vec::with_capacity(line.coords.len());
    for &p in &line.coords {
        if !(p[0].is_finite() && p[1].is_finite()) {
            return None;
        }
        if out.last() != Some(&p) {
            out.push(p);
        }
    }
    (out.len() >= 2).then_some(out)
}

fn polyline_length_m(coords: &[[f64; 2]]) -> f64 {
    coords
        .windows(2)
        .map(|w| (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]))
        .sum()
}

impl RoadNetwork {
    /// Build the network from lines in British National Grid metres, joining
    /// line ends within `snap_m` metres (0 or less joins identical positions only).
    ///
    /// ```
    /// use needmap::spatial::network::{RoadLine, RoadNetwork};
    /// // Two 100 m links at 36 km/h (10 m/s) whose ends are 0.3 m apart.
    /// let lines = vec![
    ///     RoadLine { coords: vec![[0.0, 0.0], [100.0, 0.0]], speed_kmh: 36.0 },
    ///     RoadLine { coords: vec![[100.3, 0.0], [200.3, 0.0]], speed_kmh: 36.0 },
    /// ];
    /// let net = RoadNetwork::from_lines(&lines, 0.5);
    /// assert_eq!((net.node_count(), net.edge_count()), (3, 2));
    /// let t = net.one_to_all(&[(0, 0.0)], f64::INFINITY);
    /// assert_eq!(t, vec![0.0, 10.0, 20.0]);
    /// ```
    pub fn from_lines(lines: &[RoadLine], snap_m: f64) -> RoadNetwork {
        let snap_m = if snap_m.is_finite() && snap_m > 0.0 {
            snap_m
        } else {
            0.0
        };
        let cleaned: Vec<(Vec<[f64; 2]>, f64)> = lines
            .iter()
            .filter_map(|l| clean_line(l).map(|c| (c, l.speed_kmh)))
            .collect();
        let lines_left_out = lines.len() - cleaned.len();

        // Nodes at line ends, in input order.
        let mut snapper = Snapper::new(snap_m);
        let mut nodes_xy: Vec<[f64; 2]> = Vec::new();
        let ends: Vec<(u32, u32)> = cleaned
            .iter()
            .map(|(c, _)| {
                let a = snapper.find_or_insert(c[0], &mut nodes_xy);
                let b = snapper.find_or_insert(c[c.len() - 1], &mut nodes_xy);
                (a, b)
            })
            .collect();

        // Edges, splitting lines at interior vertices that meet a node.
        let mut edges = Vec::with_capacity(cleaned.len());
        let mut geom_start = vec![0u32];
        let mut geom: Vec<[f64; 2]> = Vec::new();
        let mut push_edge = |from: u32, to: u32, piece: &[[f64; 2]], speed_kmh: f64| {
            let length_m = polyline_length_m(piece);
            edges.push(RoadEdge {
                from,
                to,
                length_m,
                speed_kmh,
                travel_time_s: length_m / (speed_kmh / 3.6),
            });
            geom.extend_from_slice(piece);
            geom_start.push(geom.len() as u32);
        };
        // A piece from a node back to itself no longer than this is a stub (a
        // vertex digitised twice at a junction), not a road: it is dropped.
        let stub_m = 2.0 * snap_m;
        let mut stubs_only = 0usize;
        for ((coords, speed_kmh), &(a, b)) in cleaned.iter().zip(&ends) {
            let (mut start, mut from) = (0usize, a);
            let mut kept = 0usize;
            let mut piece = |from: u32, to: u32, p: &[[f64; 2]]| {
                if from != to || polyline_length_m(p) > stub_m {
                    push_edge(from, to, p, *speed_kmh);
                    kept += 1;
                }
            };
            for k in 1..coords.len() - 1 {
                if let Some(n) = snapper.find(coords[k], &nodes_xy) {
                    piece(from, n, &coords[start..=k]);
                    start = k;
                    from = n;
                }
            }
            piece(from, b, &coords[start..]);
            if kept == 0 {
                stubs_only += 1;
            }
        }
        let lines_left_out = lines_left_out + stubs_only;

        // Compressed adjacency, both directions of every edge but loops.
        let n = nodes_xy.len();
        let mut degree = vec![0u32; n + 1];
        for e in edges.iter().filter(|e| e.from != e.to) {
            degree[e.from as usize] += 1;
            degree[e.to as usize] += 1;
        }
        let mut arc_start = Vec::with_capacity(n + 1);
        let mut acc = 0u32;
        for d in &degree[..n] {
            arc_start.push(acc);
            acc += d;
        }
        arc_start.push(acc);
        let mut fill: Vec<u32> = arc_start[..n].to_vec();
        let mut arcs = vec![Arc { to: 0, time_s: 0.0 }; acc as usize];
        for e in edges.iter().filter(|e| e.from != e.to) {
            let time_s = e.travel_time_s as f32;
            for (u, v) in [(e.from, e.to), (e.to, e.from)] {
                arcs[fill[u as usize] as usize] = Arc { to: v, time_s };
                fill[u as usize] += 1;
            }
        }

        let tree = RTree::bulk_load(
            nodes_xy
                .iter()
                .enumerate()
                .map(|(i, &p)| GeomWithData::new(p, i as u32))
                .collect(),
        );
        let mut net = RoadNetwork {
            nodes_xy,
            edges,
            geom_start,
            geom,
            arc_start,
            arcs,
            component: Vec::new(),
            largest: 0,
            tree,
            lines_left_out,
        };
        net.label_components();
        net
    }

    fn label_components(&mut self) {
        let n = self.node_count();
        let mut component = vec![u32::MAX; n];
        let mut sizes: Vec<usize> = Vec::new();
        let mut stack = Vec::new();
        for s in 0..n {
            if component[s] != u32::MAX {
                continue;
            }
            let id = sizes.len() as u32;
            component[s] = id;
            stack.push(s as u32);
            let mut size = 0usize;
            while let Some(u) = stack.pop() {
                size += 1;
                for a in self.arcs_of(u) {
                    if component[a.to as usize] == u32::MAX {
                        component[a.to as usize] = id;
                        stack.push(a.to);
                    }
                }
            }
            sizes.push(size);
        }
        // The largest component; the lowest id on a tie.
        let mut largest = 0u32;
        for (i, &s) in sizes.iter().enumerate() {
            if s > sizes[largest as usize] {
                largest = i as u32;
            }
        }
        self.component = component;
        self.largest = largest;
    }

    #[inline]
    fn arcs_of(&self, n: u32) -> &[Arc] {
        let (a, b) = (
            self.arc_start[n as usize] as usize,
            self.arc_start[n as usize + 1] as usize,
        );
        &self.arcs[a..b]
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes_xy.len()
    }

    /// Number of edges (loops included).
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// Position of node `n`, British National Grid metres.
    ///
    /// # Panics
    /// When `n` is not below [`Self::node_count`].
    pub fn node_xy(&self, n: u32) -> [f64; 2] {
        self.nodes_xy[n as usize]
    }

    /// All edges, by edge id.
    pub fn edges(&self) -> &[RoadEdge] {
        &self.edges
    }

    /// The line of edge `e` (its first and last positions are those of the
    /// lines read, within `snap_m` of the end nodes).
    ///
    /// # Panics
    /// When `e` is not below [`Self::edge_count`].
    pub fn edge_geometry(&self, e: u32) -> &[[f64; 2]] {
        let (a, b) = (
            self.geom_start[e as usize] as usize,
            self.geom_start[e as usize + 1] as usize,
        );
        &self.geom[a..b]
    }

    /// The neighbours of node `n` with the travel time to each in seconds (as
    /// routed, in `f32`); a neighbour appears once per edge to it.
    pub fn neighbours(&self, n: u32) -> impl Iterator<Item = (u32, f32)> + '_ {
        let arcs: &[Arc] = if (n as usize) < self.node_count() {
            self.arcs_of(n)
        } else {
            &[]
        };
        arcs.iter().map(|a| (a.to, a.time_s))
    }

    /// Total length of all edges, grid metres.
    pub fn total_length_m(&self) -> f64 {
        self.edges.iter().map(|e| e.length_m).sum()
    }

    /// How many input lines were left out as unusable (see the module documentation).
    pub fn lines_left_out(&self) -> usize {
        self.lines_left_out
    }

    /// Bounding box of the nodes `[min_x, min_y, max_x, max_y]`; `None` when empty.
    pub fn bbox(&self) -> Option<[f64; 4]> {
        let first = self.nodes_xy.first()?;
        let mut b = [first[0], first[1], first[0], first[1]];
        for p in &self.nodes_xy {
            b[0] = b[0].min(p[0]);
            b[1] = b[1].min(p[1]);
            b[2] = b[2].max(p[0]);
            b[3] = b[3].max(p[1]);
        }
        Some(b)
    }

    /// The node nearest to a point and its straight distance in metres
    /// (R-tree over the nodes); `None` for an empty network.
    pub fn nearest_node(&self, x: f64, y: f64) -> Option<(u32, f64)> {
        if !(x.is_finite() && y.is_finite()) {
            return None;
        }
        self.tree.nearest_neighbor(&[x, y]).map(|p| {
            let q = p.geom();
            (p.data, (q[0] - x).hypot(q[1] - y))
        })
    }

    /// Travel times in seconds from the nearest of several sources to every node
    /// (multi-source Dijkstra). Each source is `(node, initial cost in seconds)`,
    /// for example the connector time from a premises to its nearest node.
    /// Nodes not reached, or reached only beyond `max_s`, get `f32::INFINITY`.
    /// Sources with an unknown node or a cost that is not a finite number ≥ 0
    /// are ignored.
    pub fn one_to_all(&self, sources: &[(u32, f64)], max_s: f64) -> Vec<f32> {
        let n = self.node_count();
        let mut dist = vec![f32::INFINITY; n];
        let Some(limit) = f32_at_most(max_s) else {
            return dist;
        };
        let mut heap = MinHeap::with_capacity(n.min(1 << 16));
        for &(s, c) in sources {
            if (s as usize) >= n || !(c.is_finite() && c >= 0.0) || c > max_s {
                continue;
            }
            // `+ 0.0` turns -0.0 into +0.0, whose bits order correctly.
            let c = (c as f32).min(limit) + 0.0;
            if c < dist[s as usize] {
                dist[s as usize] = c;
                heap.push(heap_key(c, s));
            }
        }
        while let Some(key) = heap.pop() {
            let (d, u) = (f32::from_bits((key >> 32) as u32), key as u32);
            if d > dist[u as usize] {
                continue; // stale entry
            }
            for a in self.arcs_of(u) {
                let nd = d + a.time_s;
                if nd < dist[a.to as usize] && nd <= limit {
                    dist[a.to as usize] = nd;
                    heap.push(heap_key(nd, a.to));
                }
            }
        }
        dist
    }

    /// Component id of each node (ids count from 0 in order of each
    /// component's lowest node).
    pub fn components(&self) -> Vec<u32> {
        self.component.clone()
    }

    /// Component id of node `n`.
    pub fn component_of(&self, n: u32) -> Option<u32> {
        self.component.get(n as usize).copied()
    }

    /// The id of the component with the most nodes (the lowest id on a tie; 0
    /// for an empty network).
    pub fn largest_component(&self) -> u32 {
        self.largest
    }

    /// Isochrone polygons (British National Grid metres), one per band in the
    /// order given: band `k` holds the places reachable within `bands_s[k]`
    /// seconds, given node travel times `times_s` (from [`Self::one_to_all`]),
    /// the connector speed off the network in km/h and the raster cell size in
    /// metres (see the module documentation). Bands that are not finite numbers
    /// ≥ 0, a connector speed or cell size that is not a positive finite number,
    /// or no node reached give empty polygons.
    pub fn isochrones(
        &self,
        times_s: &[f32],
        bands_s: &[f64],
        connector_speed_kmh: f64,
        cell_m: f64,
    ) -> Vec<MultiPolygon<f64>> {
        let mut out = vec![MultiPolygon(Vec::new()); bands_s.len()];
        let t_max = bands_s
            .iter()
            .copied()
            .filter(|b| b.is_finite() && *b >= 0.0)
            .fold(f64::NEG_INFINITY, f64::max);
        let usable = t_max >= 0.0
            && connector_speed_kmh.is_finite()
            && connector_speed_kmh > 0.0
            && cell_m.is_finite()
            && cell_m > 0.0;
        if !usable {
            return out;
        }
        let speed_mps = connector_speed_kmh / 3.6;
        let samples = self.time_samples(times_s, t_max, cell_m / 2.0);
        let Some(raster) = TimeRaster::new(&samples, t_max, speed_mps, cell_m) else {
            return out;
        };
        for (band, poly) in bands_s.iter().zip(out.iter_mut()) {
            if band.is_finite() && *band >= 0.0 {
                let mask: Vec<bool> = raster.time_s.iter().map(|&t| t <= *band).collect();
                *poly = polygonise_cells(&mask, raster.nx, raster.ny, raster.origin, raster.cell_m);
            }
        }
        out
    }

    /// Points with known travel times no later than `t_max`: the nodes, and
    /// points every `spacing_m` along each edge timed from its quicker end.
    fn time_samples(&self, times_s: &[f32], t_max: f64, spacing_m: f64) -> Vec<([f64; 2], f64)> {
        let time = |n: u32| {
            times_s
                .get(n as usize)
                .map_or(f64::INFINITY, |&t| f64::from(t))
        };
        let mut out = Vec::new();
        for (n, &p) in self.nodes_xy.iter().enumerate() {
            let t = time(n as u32);
            if t <= t_max {
                out.push((p, t));
            }
        }
        for (e, edge) in self.edges.iter().enumerate() {
            let (ta, tb) = (time(edge.from), time(edge.to));
            let nearer = ta.min(tb);
            if nearer.is_nan() || nearer > t_max || edge.length_m <= 0.0 {
                continue;
            }
            let (len, tt) = (edge.length_m, edge.travel_time_s);
            let at = |s: f64| (ta + tt * s / len).min(tb + tt * (len - s) / len);
            let line = self.edge_geometry(e as u32);
            let mut s0 = 0.0;
            for w in line.windows(2) {
                let seg = (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]);
                let steps = (seg / spacing_m).ceil().max(1.0) as usize;
                for k in 0..steps {
                    // The segment's start and interior points; line ends are nodes.
                    if k == 0 && s0 == 0.0 {
                        continue;
                    }
                    let f = k as f64 / steps as f64;
                    let p = [
                        w[0][0] + f * (w[1][0] - w[0][0]),
                        w[0][1] + f * (w[1][1] - w[0][1]),
                    ];
                    let t = at(s0 + f * seg);
                    if t <= t_max {
                        out.push((p, t));
                    }
                }
                s0 += seg;
            }
        }
        out
    }
}

/// The largest `f32` not above `max_s` (infinity for infinity); `None` when
/// `max_s` is negative or not a number.
fn f32_at_most(max_s: f64) -> Option<f32> {
    if max_s.is_nan() || max_s < 0.0 {
        return None;
    }
    let mut v = max_s as f32;
    if v.is_finite() && f64::from(v) > max_s {
        // Rounded up: step down one unit in the last place (v > 0 here).
        v = f32::from_bits(v.to_bits() - 1);
    }
    Some(v)
}

/// A heap key: the cost's bits above the node. Non-negative `f32`s order
/// like their bit patterns, so keys order by cost, then node.
#[inline]
fn heap_key(cost_s: f32, node: u32) -> u64 {
    (u64::from(cost_s.to_bits()) << 32) | u64::from(node)
}

/// A binary min-heap of `u64` keys (stale entries are skipped by the caller).
struct MinHeap {
    keys: Vec<u64>,
}

impl MinHeap {
    fn with_capacity(n: usize) -> MinHeap {
        MinHeap {
            keys: Vec::with_capacity(n),
        }
    }

    #[inline]
    fn push(&mut self, key: u64) {
        let mut i = self.keys.len();
        self.keys.push(key);
        while i > 0 {
            let parent = (i - 1) / 2;
            let p = self.keys[parent];
            if p <= key {
                break;
            }
            self.keys[i] = p;
            i = parent;
        }
        self.keys[i] = key;
    }

    /// Remove the least key. The hole left at the root moves down along the
    /// lesser children to a leaf, and the last key fills it from there
    /// upwards (Floyd's variant: one comparison a level on the way down, and
    /// the last key seldom climbs far).
    #[inline]
    fn pop(&mut self) -> Option<u64> {
        let last = self.keys.pop()?;
        let keys = &mut self.keys[..];
        let n = keys.len();
        let Some(&top) = keys.first() else {
            return Some(last);
        };
        let mut hole = 0;
        let mut child = 1;
        while child + 1 < n {
            // Branch-free: which child is less is unpredictable.
            child += usize::from(keys[child + 1] < keys[child]);
            keys[hole] = keys[child];
            hole = child;
            child = 2 * hole + 1;
        }
        if child < n {
            keys[hole] = keys[child];
            hole = child;
        }
        while hole > 0 {
            let parent = (hole - 1) / 2;
            if keys[parent] <= last {
                break;
            }
            keys[hole] = keys[parent];
            hole = parent;
        }
        keys[hole] = last;
        Some(top)
    }
}

/// Cell travel times for isochrones: cell `(i, j)` (row `j` from the south)
/// spans `origin + [i, i + 1] × [j, j + 1] × cell_m`.
struct TimeRaster {
    origin: [f64; 2],
    cell_m: f64,
    nx: usize,
    ny: usize,
    time_s: Vec<f64>,
}

impl TimeRaster {
    fn new(
        samples: &[([f64; 2], f64)],
        t_max: f64,
        speed_mps: f64,
        cell_m: f64,
    ) -> Option<TimeRaster> {
        let first = samples.first()?;
        let mut b = [first.0[0], first.0[1], first.0[0], first.0[1]];
        for (p, _) in samples {
            b[0] = b[0].min(p[0]);
            b[1] = b[1].min(p[1]);
            b[2] = b[2].max(p[0]);
            b[3] = b[3].max(p[1]);
        }
        let mut cell_m = cell_m;
        let (mut nx, mut ny, mut origin);
        loop {
            let reach = CONNECTOR_REACH_M.max(cell_m);
            origin = [
                ((b[0] - reach) / cell_m).floor() * cell_m,
                ((b[1] - reach) / cell_m).floor() * cell_m,
            ];
            nx = ((b[2] + reach - origin[0]) / cell_m).ceil() as usize + 1;
            ny = ((b[3] + reach - origin[1]) / cell_m).ceil() as usize + 1;
            if nx.saturating_mul(ny) <= MAX_ISOCHRONE_CELLS {
                break;
            }
            cell_m *= 2.0;
        }
        let reach = CONNECTOR_REACH_M.max(cell_m);
        let mut time_s = vec![f64::INFINITY; nx * ny];
        for &(p, t) in samples {
            let r = reach.min((t_max - t) * speed_mps);
            if r < 0.0 {
                continue;
            }
            let lo = |v: f64, o: f64| (((v - r - o) / cell_m - 0.5).ceil().max(0.0)) as usize;
            let hi = |v: f64, o: f64, n: usize| {
                let h = ((v + r - o) / cell_m - 0.5).floor();
                if h < 0.0 {
                    None
                } else {
                    Some((h as usize).min(n - 1))
                }
            };
            let (Some(i1), Some(j1)) = (hi(p[0], origin[0], nx), hi(p[1], origin[1], ny)) else {
                continue;
            };
            let (i0, j0) = (lo(p[0], origin[0]), lo(p[1], origin[1]));
            for j in j0..=j1 {
                let cy = origin[1] + (j as f64 + 0.5) * cell_m;
                for i in i0..=i1 {
                    let cx = origin[0] + (i as f64 + 0.5) * cell_m;
                    let d = (cx - p[0]).hypot(cy - p[1]);
                    if d <= r {
                        let c = &mut time_s[j * nx + i];
                        *c = c.min(t + d / speed_mps);
                    }
                }
            }
        }
        Some(TimeRaster {
            origin,
            cell_m,
            nx,
            ny,
            time_s,
        })
    }
}

/// A closed loop of grid vertices `(i, j)` (the last joins the first).
type GridRing = Vec<(i64, i64)>;

/// Directions of cell edges, counter-clockwise: east, north, west, south.
const STEP: [(i64, i64); 4] = [(1, 0), (0, 1), (-1, 0), (0, -1)];

/// Polygons covering the cells where `mask` is true (`mask[j * nx + i]`, row
/// `j` from the south), traced along cell edges. Cells that meet only at a
/// corner are separate pieces; shells are counter-clockwise, holes clockwise.
fn polygonise_cells(
    mask: &[bool],
    nx: usize,
    ny: usize,
    origin: [f64; 2],
    cell_m: f64,
) -> MultiPolygon<f64> {
    let inside = |i: i64, j: i64| {
        i >= 0
            && j >= 0
            && (i as usize) < nx
            && (j as usize) < ny
            && mask[j as usize * nx + i as usize]
    };
    let vw = nx as i64 + 1;
    let vid = |i: i64, j: i64| (j * vw + i) as usize;
    // Outgoing boundary edges per grid vertex, with the cell on their left inside.
    let mut out = vec![0u8; (nx + 1) * (ny + 1)];
    let mut any = false;
    for j in 0..ny as i64 {
        for i in 0..nx as i64 {
            if !inside(i, j) {
                continue;
            }
            any = true;
            if !inside(i, j - 1) {
                out[vid(i, j)] |= 1; // bottom edge, east
            }
            if !inside(i + 1, j) {
                out[vid(i + 1, j)] |= 2; // right edge, north
            }
            if !inside(i, j + 1) {
                out[vid(i + 1, j + 1)] |= 4; // top edge, west
            }
            if !inside(i - 1, j) {
                out[vid(i, j + 1)] |= 8; // left edge, south
            }
        }
    }
    if !any {
        return MultiPolygon(Vec::new());
    }
    let mut loops: Vec<GridRing> = Vec::new();
    for start in 0..out.len() {
        while out[start] != 0 {
            let (si, sj) = ((start as i64) % vw, (start as i64) / vw);
            // Walk the boundary; where two edges leave a vertex, turn left, which
            // keeps cells meeting only at that corner apart.
            let mut walk: Vec<(i64, i64)> = Vec::new();
            let (mut i, mut j) = (si, sj);
            let mut dir = out[start].trailing_zeros() as usize;
            loop {
                walk.push((i, j));
                out[vid(i, j)] &= !(1u8 << dir);
                i += STEP[dir].0;
                j += STEP[dir].1;
                if (i, j) == (si, sj) {
                    break;
                }
                let o = out[vid(i, j)];
                let next = [(dir + 1) % 4, dir, (dir + 3) % 4]
                    .into_iter()
                    .find(|&d| o & (1u8 << d) != 0);
                match next {
                    Some(d) => dir = d,
                    None => break, // cannot happen: every vertex has as many edges in as out
                }
            }
            split_at_repeats(&walk, &mut loops);
        }
    }
    assemble(loops, origin, cell_m)
}

/// Split a closed walk into simple loops at the vertices it visits twice.
fn split_at_repeats(walk: &[(i64, i64)], loops: &mut Vec<GridRing>) {
    let mut stack: Vec<(i64, i64)> = Vec::with_capacity(walk.len());
    let mut at: HashMap<(i64, i64), usize> = HashMap::new();
    for &v in walk.iter().chain(walk.first()) {
        if let Some(&p) = at.get(&v) {
            let piece: Vec<(i64, i64)> = stack.drain(p..).collect();
            for q in &piece {
                at.remove(q);
            }
            if piece.len() >= 4 {
                loops.push(piece);
            }
        }
        at.insert(v, stack.len());
        stack.push(v);
    }
}

/// Twice the signed area of a closed loop (positive counter-clockwise).
fn area2(ring: &[(i64, i64)]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|k| {
            let (a, b) = (ring[k], ring[(k + 1) % n]);
            a.0 * b.1 - b.0 * a.1
        })
        .sum()
}

/// Drop vertices where the loop goes straight on.
fn corners(ring: &[(i64, i64)]) -> GridRing {
    let n = ring.len();
    (0..n)
        .filter(|&k| {
            let (p, c, q) = (ring[(k + n - 1) % n], ring[k], ring[(k + 1) % n]);
            (c.0 - p.0, c.1 - p.1) != (q.0 - c.0, q.1 - c.1)
        })
        .map(|k| ring[k])
        .collect()
}

/// Crossing-number test of a point at half-integer grid coordinates (never on an edge).
fn ring_contains(ring: &[(i64, i64)], px: f64, py: f64) -> bool {
    let n = ring.len();
    let mut inside = false;
    for k in 0..n {
        let (a, b) = (ring[k], ring[(k + 1) % n]);
        let (ay, by) = (a.1 as f64, b.1 as f64);
        if (ay > py) != (by > py) {
            let x = a.0 as f64 + (py - ay) / (by - ay) * (b.0 - a.0) as f64;
            if x > px {
                inside = !inside;
            }
        }
    }
    inside
}

/// Shells (counter-clockwise loops) with their holes (clockwise loops), each
/// hole going to the smallest shell around the cell on its left.
fn assemble(loops: Vec<GridRing>, origin: [f64; 2], cell_m: f64) -> MultiPolygon<f64> {
    struct Shell {
        ring: GridRing,
        area2: i64,
        bbox: [i64; 4],
        holes: Vec<GridRing>,
    }
    let mut shells: Vec<Shell> = Vec::new();
    let mut holes: Vec<(GridRing, f64, f64)> = Vec::new();
    for lp in loops {
        let a2 = area2(&lp);
        if a2 > 0 {
            let ring = corners(&lp);
            let mut bbox = [i64::MAX, i64::MAX, i64::MIN, i64::MIN];
            for &(x, y) in &ring {
                bbox = [
                    bbox[0].min(x),
                    bbox[1].min(y),
                    bbox[2].max(x),
                    bbox[3].max(y),
                ];
            }
            shells.push(Shell {
                ring,
                area2: a2,
                bbox,
                holes: Vec::new(),
            });
        } else if a2 < 0 {
            // The centre of the cell on the left of the first edge (inside the polygon).
            let (a, b) = (lp[0], lp[1]);
            let (dx, dy) = ((b.0 - a.0) as f64, (b.1 - a.1) as f64);
            let px = a.0 as f64 + 0.5 * dx - 0.5 * dy;
            let py = a.1 as f64 + 0.5 * dy + 0.5 * dx;
            holes.push((corners(&lp), px, py));
        }
    }
    // Smallest first, so the first shell around a point is the innermost.
    let mut order: Vec<usize> = (0..shells.len()).collect();
    order.sort_by_key(|&s| (shells[s].area2, s));
    for (ring, px, py) in holes {
        let owner = order.iter().copied().find(|&s| {
            let b = shells[s].bbox;
            (b[0] as f64) < px
                && px < b[2] as f64
                && (b[1] as f64) < py
                && py < b[3] as f64
                && ring_contains(&shells[s].ring, px, py)
        });
        if let Some(s) = owner {
            shells[s].holes.push(ring);
        }
    }
    let to_line = |ring: &[(i64, i64)]| {
        let mut pts: Vec<Coord<f64>> = ring
            .iter()
            .map(|&(i, j)| Coord {
                x: origin[0] + i as f64 * cell_m,
                y: origin[1] + j as f64 * cell_m,
            })
            .collect();
        if let Some(&p) = pts.first() {
            pts.push(p);
        }
        LineString(pts)
    };
    MultiPolygon(
        shells
            .iter()
            .map(|s| {
                Polygon::new(
                    to_line(&s.ring),
                    s.holes.iter().map(|h| to_line(h)).collect(),
                )
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, Contains, Point, Validation};

    fn line(coords: &[[f64; 2]], speed_kmh: f64) -> RoadLine {
        RoadLine {
            coords: coords.to_vec(),
            speed_kmh,
        }
    }

    #[test]
    fn heap_pops_in_order() {
        let mut h = MinHeap::with_capacity(4);
        let mut x: u64 = 12345;
        let mut all = Vec::new();
        for _ in 0..1000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            all.push(x >> 7);
            h.push(x >> 7);
        }
        all.sort_unstable();
        let popped: Vec<u64> = std::iter::from_fn(|| h.pop()).collect();
        assert_eq!(popped, all);
    }

    #[test]
    fn f32_limit_never_exceeds_max() {
        for m in [0.1, 1.0 / 3.0, 600.0, 1e-30, 12_345.678_9] {
            let v = f32_at_most(m).expect("finite");
            assert!(f64::from(v) <= m);
            assert!(f64::from(f32::from_bits(v.to_bits() + 1)) > m);
        }
        assert_eq!(f32_at_most(f64::INFINITY), Some(f32::INFINITY));
        assert_eq!(f32_at_most(-1.0), None);
        assert_eq!(f32_at_most(f64::NAN), None);
    }

    #[test]
    fn unusable_lines_are_left_out() {
        let lines = vec![
            line(&[[0.0, 0.0], [10.0, 0.0]], 30.0),
            line(&[[0.0, 0.0], [0.0, 0.0]], 30.0),
            line(&[[0.0, 0.0], [f64::NAN, 1.0]], 30.0),
            line(&[[0.0, 0.0], [5.0, 5.0]], 0.0),
            line(&[[3.0, 3.0]], 30.0),
        ];
        let net = RoadNetwork::from_lines(&lines, 0.5);
        assert_eq!(net.lines_left_out(), 4);
        assert_eq!((net.node_count(), net.edge_count()), (2, 1));
    }

    #[test]
    fn stubs_at_junctions_are_dropped() {
        // A vertex 0.2 m after the line's own start, a link 0.3 m long, and a
        // real loop road (400 m) back to its start.
        let lines = vec![
            line(&[[0.0, 0.0], [0.2, 0.0], [100.0, 0.0]], 36.0),
            line(&[[100.0, 0.0], [100.3, 0.0]], 36.0),
            line(
                &[
                    [100.0, 0.0],
                    [200.0, 0.0],
                    [200.0, 100.0],
                    [100.0, 100.0],
                    [100.0, 0.0],
                ],
                36.0,
            ),
        ];
        let net = RoadNetwork::from_lines(&lines, 0.5);
        assert_eq!(net.node_count(), 2);
        assert_eq!(net.edge_count(), 2, "{:?}", net.edges());
        assert_eq!(net.edge_geometry(0), &[[0.2, 0.0], [100.0, 0.0]]);
        assert_eq!(net.lines_left_out(), 1);
        assert!((net.total_length_m() - 499.8).abs() < 1e-9);
        assert_eq!(net.neighbours(1).count(), 1, "the loop does not route");
    }

    #[test]
    fn max_s_and_bad_sources() {
        let lines = vec![
            line(&[[0.0, 0.0], [100.0, 0.0]], 36.0),
            line(&[[100.0, 0.0], [200.0, 0.0]], 36.0),
        ];
        let net = RoadNetwork::from_lines(&lines, 0.5);
        assert_eq!(
            net.one_to_all(&[(0, 0.0)], 10.0),
            vec![0.0, 10.0, f32::INFINITY]
        );
        assert_eq!(
            net.one_to_all(&[(0, 0.0)], 9.999),
            vec![0.0, f32::INFINITY, f32::INFINITY]
        );
        let none = net.one_to_all(&[(7, 0.0), (0, -1.0), (0, f64::NAN)], 100.0);
        assert!(none.iter().all(|t| t.is_infinite()));
        assert_eq!(
            net.one_to_all(&[(2, -0.0), (0, 3.0)], 100.0),
            vec![3.0, 10.0, 0.0]
        );
    }

    /// A seeded mask generator (xorshift).
    fn masks(seed: u64, count: usize, nx: usize, ny: usize, fill: f64) -> Vec<Vec<bool>> {
        let mut x = seed | 1;
        (0..count)
            .map(|_| {
                (0..nx * ny)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        ((x >> 11) as f64 / (1u64 << 53) as f64) < fill
                    })
                    .collect()
            })
            .collect()
    }

    fn check_polygons(mask: &[bool], nx: usize, ny: usize) {
        let cell = 10.0;
        let origin = [1000.0, 2000.0];
        let mp = polygonise_cells(mask, nx, ny, origin, cell);
        let problems = mp.validation_errors();
        assert!(problems.is_empty(), "{problems:?} for {mask:?}");
        let cells = mask.iter().filter(|m| **m).count() as f64;
        assert!((mp.unsigned_area() - cells * cell * cell).abs() < 1e-6);
        assert!(
            (mp.signed_area() - cells * cell * cell).abs() < 1e-6,
            "shells CCW, holes CW"
        );
        for j in 0..ny {
            for i in 0..nx {
                let p = Point::new(
                    origin[0] + (i as f64 + 0.5) * cell,
                    origin[1] + (j as f64 + 0.5) * cell,
                );
                assert_eq!(
                    mp.contains(&p),
                    mask[j * nx + i],
                    "cell {i},{j} of {mask:?}"
                );
            }
        }
    }

    #[test]
    fn polygons_from_random_cells_are_valid_and_exact() {
        for (k, fill) in [0.3, 0.5, 0.7].into_iter().enumerate() {
            for m in masks(99 + k as u64, 60, 7, 6, fill) {
                check_polygons(&m, 7, 6);
            }
        }
    }

    #[test]
    fn polygons_for_pinches_pockets_and_islands() {
        let grid = |rows: &[&str]| -> (Vec<bool>, usize, usize) {
            let ny = rows.len();
            let nx = rows[0].len();
            // Rows are written north first.
            let mut m = vec![false; nx * ny];
            for (r, row) in rows.iter().enumerate() {
                for (i, c) in row.chars().enumerate() {
                    m[(ny - 1 - r) * nx + i] = c == '#';
                }
            }
            (m, nx, ny)
        };
        for rows in [
            &["#.", ".#"][..],
            &["###", "#.#", "##."],
            &["#####", "##.##", "#.#.#", "##.##", "#####"],
            &["#####", "#...#", "#.#.#", "#...#", "#####"],
            &[".#.", "#.#", ".#."],
        ] {
            let (m, nx, ny) = grid(rows);
            check_polygons(&m, nx, ny);
        }
        // A ring with an island inside: two polygons, the ring with one hole.
        let (m, nx, ny) = grid(&["#####", "#...#", "#.#.#", "#...#", "#####"]);
        let mp = polygonise_cells(&m, nx, ny, [0.0, 0.0], 1.0);
        assert_eq!(mp.0.len(), 2);
        assert_eq!(mp.0[0].interiors().len(), 1);
        assert_eq!(mp.0[0].exterior().0.len(), 5, "corners only");
    }
}
