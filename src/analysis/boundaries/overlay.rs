//! Intersection areas of two polygon layers `A` and `B` (metres).
//!
//! 1. Both layers are validated ([`super::validate`]); unusable geometries are
//!    left out and reported.
//! 2. Candidate pairs come from an R-tree over the bounding boxes of `B`.
//! 3. For each pair, the edges of both polygons inside the common box are
//!    tested for any contact (crossing, touching or collinear overlap) with
//!    exact orientation predicates (`geo`'s robust kernel), by a sweep over x.
//!    - **No contact**: every ring of `A` lies wholly inside or wholly outside
//!      `B`, and every ring of `B` wholly inside or outside `A`. By Green's
//!      theorem the boundary of `A ∩ B` is the rings of `A` inside `B` plus
//!      the rings of `B` inside `A`, so the area is the sum of their
//!      (signed: shell +, hole −) ring areas, with one point-in-polygon test
//!      per ring. Exact, no clipping. Most small areas lie wholly in one unit.
//!    - **Proper crossings only** (every contact is a crossing interior to
//!      both edges): each edge is split at its crossings and each piece whose
//!      midpoint lies inside the other polygon adds its `x dy − y dx` term
//!      (ring orientation corrected); the sum over both boundaries is twice
//!      the area of `A ∩ B` (Green's theorem again). A midpoint within
//!      1e-9 of the box size of the other boundary sends the pair to clipping.
//!    - **Degenerate contact** (touching, a vertex on an edge, collinear
//!      overlap): the pair is clipped with `geo`'s `BooleanOps`, inside
//!      `catch_unwind`; a panic is reported and the area is estimated by
//!      sampling a 256 × 256 grid over the common box (method
//!      [`PieceMethod::Estimated`]). Pairs with an invalid (but usable)
//!      geometry take the same path.
//! 4. A piece is a **sliver** when its area is below `sliver.min_area_m2`, or
//!    below `sliver.min_share` of the smaller of the two polygons. Slivers are
//!    kept in the output, flagged, so that callers report them rather than
//!    count them as splits.
//!
//! Work is parallel over `A` (rayon); pieces are sorted by `(a, b)`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use geo::algorithm::kernels::{Kernel, Orientation, RobustKernel};
use geo::{Area as _, BooleanOps, BoundingRect, Coord, MultiPolygon};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use super::validate::{validate_layer, GeometryProblem};
use crate::spatial::PreparedPolygon;

/// When a piece counts as a sliver (generalisation noise, not a split).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SliverTolerance {
    /// Pieces smaller than this, in square metres, are slivers.
    pub min_area_m2: f64,
    /// Pieces smaller than this share of the smaller of their two polygons are slivers.
    pub min_share: f64,
}

impl Default for SliverTolerance {
    /// 100 m² or 1 % of the smaller polygon.
    fn default() -> Self {
        SliverTolerance {
            min_area_m2: 100.0,
            min_share: 0.01,
        }
    }
}

impl SliverTolerance {
    /// No tolerance: every piece of positive area counts.
    pub fn none() -> Self {
        SliverTolerance {
            min_area_m2: 0.0,
            min_share: 0.0,
        }
    }

    /// Whether a piece of `area_m2` between polygons of `a_m2` and `b_m2` is a sliver.
    pub fn is_sliver(&self, area_m2: f64, a_m2: f64, b_m2: f64) -> bool {
        area_m2 < self.min_area_m2 || area_m2 < self.min_share * a_m2.min(b_m2)
    }
}

/// Overlay settings.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct OverlayOptions {
    pub sliver: SliverTolerance,
}

/// How a piece's area was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PieceMethod {
    /// The boundaries do not meet: ring areas summed by containment (exact).
    Contained,
    /// The boundaries cross properly: boundary pieces inside the other polygon
    /// summed by Green's theorem (exact up to rounding of the crossing points).
    Crossings,
    /// Clipped with `geo` boolean operations.
    Clipped,
    /// Clipping panicked: area estimated on a 256 × 256 grid over the common box.
    Estimated,
}

/// The intersection of unit `a` of layer A with unit `b` of layer B.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OverlayPiece {
    pub a: u32,
    pub b: u32,
    pub area_m2: f64,
    pub sliver: bool,
    pub method: PieceMethod,
}

/// A pair whose clipping failed (panicked); its area was estimated.
#[derive(Clone, Debug, PartialEq)]
pub struct PairFailure {
    pub a: u32,
    pub b: u32,
    pub message: String,
}

/// Counts of the work done.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OverlayStats {
    /// Pairs whose bounding boxes meet.
    pub candidate_pairs: usize,
    /// Pairs answered without clipping (boundaries do not meet).
    pub contained_pairs: usize,
    /// Pairs whose boundaries cross properly, summed from boundary pieces.
    pub crossing_pairs: usize,
    /// Pairs clipped (degenerate contacts, or invalid geometry).
    pub clipped_pairs: usize,
    /// Pairs estimated after a failure.
    pub estimated_pairs: usize,
}

/// The overlay of layer A on layer B.
#[derive(Clone, Debug, PartialEq)]
pub struct Overlay {
    /// Area of each polygon of A (0 for excluded ones).
    pub a_area_m2: Vec<f64>,
    /// Area of each polygon of B (0 for excluded ones).
    pub b_area_m2: Vec<f64>,
    /// Pieces of positive area, sorted by `(a, b)`, slivers included and flagged.
    pub pieces: Vec<OverlayPiece>,
    /// `pieces[a_start[i]..a_start[i + 1]]` are the pieces of A's polygon `i`.
    pub a_start: Vec<usize>,
    /// Problems found in A.
    pub a_problems: Vec<GeometryProblem>,
    /// Problems found in B.
    pub b_problems: Vec<GeometryProblem>,
    /// Pairs whose clipping panicked.
    pub failures: Vec<PairFailure>,
    pub stats: OverlayStats,
    pub options: OverlayOptions,
}

impl Overlay {
    /// Pieces of A's polygon `a`.
    pub fn pieces_of(&self, a: usize) -> &[OverlayPiece] {
        &self.pieces[self.a_start[a]..self.a_start[a + 1]]
    }

    /// Area of A's polygon `a` covered by B (slivers included).
    pub fn covered_m2(&self, a: usize) -> f64 {
        self.pieces_of(a).iter().map(|p| p.area_m2).sum()
    }

    /// The same overlay seen from B: `a` and `b` swapped, pieces re-sorted.
    pub fn transposed(&self) -> Overlay {
        let mut pieces: Vec<OverlayPiece> = self
            .pieces
            .iter()
            .map(|p| OverlayPiece {
                a: p.b,
                b: p.a,
                ..*p
            })
            .collect();
        pieces.sort_by_key(|p| (p.a, p.b));
        let failures = self
            .failures
            .iter()
            .map(|f| PairFailure {
                a: f.b,
                b: f.a,
                message: f.message.clone(),
            })
            .collect();
        Overlay {
            a_start: starts(&pieces, self.b_area_m2.len()),
            a_area_m2: self.b_area_m2.clone(),
            b_area_m2: self.a_area_m2.clone(),
            pieces,
            a_problems: self.b_problems.clone(),
            b_problems: self.a_problems.clone(),
            failures,
            stats: self.stats,
            options: self.options,
        }
    }

    /// Apportion a weight of each A polygon (for example population) to B by
    /// area share, slivers included, *not* normalised: `(per B unit, not
    /// covered)`, as an area-weighted overlay does (geopandas: weight ×
    /// piece area / polygon area). Totals are conserved with the uncovered part.
    pub fn apportion(&self, weights: &[f64]) -> (Vec<f64>, f64) {
        let mut per_b = vec![0.0; self.b_area_m2.len()];
        let mut outside = 0.0;
        for (a, &w) in weights.iter().enumerate().take(self.a_area_m2.len()) {
            let total = self.a_area_m2[a];
            if total <= 0.0 {
                outside += w;
                continue;
            }
            let mut covered = 0.0;
            for p in self.pieces_of(a) {
                let s = p.area_m2 / total;
                per_b[p.b as usize] += w * s;
                covered += s;
            }
            outside += w * (1.0 - covered).max(0.0);
        }
        (per_b, outside)
    }
}

fn starts(pieces: &[OverlayPiece], n: usize) -> Vec<usize> {
    let mut start = vec![0usize; n + 1];
    for p in pieces {
        start[p.a as usize + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    start
}

/// A ring: its signed contribution (shell +area, hole −area), box and first vertex.
struct Ring {
    contribution_m2: f64,
    bbox: [f64; 4],
    first: Coord<f64>,
}

/// Edges per chunk (consecutive ring edges share a box for the window filter).
const CHUNK: usize = 16;

/// A polygon prepared for the pair tests.
struct Shape {
    bbox: [f64; 4],
    area_m2: f64,
    rings: Vec<Ring>,
    /// Every edge `[x0, y0, x1, y1]`.
    edges: Vec<[f64; 4]>,
    /// Per edge: +1 when its ring runs in the positive sense for the region
    /// (shell counter-clockwise, hole clockwise), −1 otherwise.
    edge_sign: Vec<f64>,
    /// Boxes of runs of up to [`CHUNK`] consecutive edges: `(first, end, box)`.
    chunks: Vec<(usize, usize, [f64; 4])>,
    prep: PreparedPolygon,
    /// Usable (not excluded).
    usable: bool,
    /// Passed every validity check.
    valid: bool,
}

fn ring_area(c: &[Coord<f64>]) -> f64 {
    signed_ring_area(c).abs()
}

/// Shoelace area, positive for a counter-clockwise ring.
fn signed_ring_area(c: &[Coord<f64>]) -> f64 {
    if c.len() < 3 {
        return 0.0;
    }
    // Shoelace relative to the first vertex, for precision far from the origin.
    let o = c[0];
    let mut s = 0.0;
    for w in c.windows(2) {
        s += (w[0].x - o.x) * (w[1].y - o.y) - (w[1].x - o.x) * (w[0].y - o.y);
    }
    s / 2.0
}

fn bbox_of(c: &[Coord<f64>]) -> [f64; 4] {
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for p in c {
        b[0] = b[0].min(p.x);
        b[1] = b[1].min(p.y);
        b[2] = b[2].max(p.x);
        b[3] = b[3].max(p.y);
    }
    b
}

impl Shape {
    fn new(mp: &MultiPolygon<f64>, problem: Option<&GeometryProblem>) -> Shape {
        let usable = problem.is_none_or(|p| !p.excluded);
        let valid = problem.is_none();
        if !usable {
            return Shape {
                bbox: [0.0; 4],
                area_m2: 0.0,
                rings: Vec::new(),
                edges: Vec::new(),
                edge_sign: Vec::new(),
                chunks: Vec::new(),
                prep: PreparedPolygon::new(&MultiPolygon(vec![])),
                usable,
                valid,
            };
        }
        let mut rings = Vec::new();
        let mut edges = Vec::new();
        let mut edge_sign = Vec::new();
        for poly in &mp.0 {
            for (ri, ring) in std::iter::once(poly.exterior())
                .chain(poly.interiors())
                .enumerate()
            {
                let c = &ring.0;
                let a = ring_area(c);
                let ccw = signed_ring_area(c) > 0.0;
                let sign = if ccw == (ri == 0) { 1.0 } else { -1.0 };
                rings.push(Ring {
                    contribution_m2: if ri == 0 { a } else { -a },
                    bbox: bbox_of(c),
                    first: c[0],
                });
                for w in c.windows(2) {
                    if w[0] != w[1] {
                        edges.push([w[0].x, w[0].y, w[1].x, w[1].y]);
                        edge_sign.push(sign);
                    }
                }
            }
        }
        let bbox = mp
            .bounding_rect()
            .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
            .unwrap_or([0.0; 4]);
        Shape {
            bbox,
            area_m2: mp.unsigned_area(),
            rings,
            chunks: (0..edges.len())
                .step_by(CHUNK)
                .map(|k| {
                    let end = (k + CHUNK).min(edges.len());
                    let mut b = edge_box(&edges[k]);
                    for e in &edges[k + 1..end] {
                        let x = edge_box(e);
                        b = [
                            b[0].min(x[0]),
                            b[1].min(x[1]),
                            b[2].max(x[2]),
                            b[3].max(x[3]),
                        ];
                    }
                    (k, end, b)
                })
                .collect(),
            edges,
            edge_sign,
            prep: PreparedPolygon::new(mp),
            usable,
            valid,
        }
    }
}

fn boxes_meet(a: &[f64; 4], b: &[f64; 4]) -> bool {
    a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3]
}

fn edge_box(e: &[f64; 4]) -> [f64; 4] {
    [
        e[0].min(e[2]),
        e[1].min(e[3]),
        e[0].max(e[2]),
        e[1].max(e[3]),
    ]
}

fn orient(p: Coord<f64>, q: Coord<f64>, r: Coord<f64>) -> Orientation {
    RobustKernel::orient2d(p, q, r)
}

/// `r` (collinear with `p`-`q`) lies within the box of `p`-`q`.
fn on_segment(p: Coord<f64>, q: Coord<f64>, r: Coord<f64>) -> bool {
    r.x >= p.x.min(q.x) && r.x <= p.x.max(q.x) && r.y >= p.y.min(q.y) && r.y <= p.y.max(q.y)
}

/// Exact test: the closed segments share at least one point.
pub(crate) fn segments_meet(e: &[f64; 4], f: &[f64; 4]) -> bool {
    let (p1, p2) = (Coord { x: e[0], y: e[1] }, Coord { x: e[2], y: e[3] });
    let (q1, q2) = (Coord { x: f[0], y: f[1] }, Coord { x: f[2], y: f[3] });
    let o1 = orient(p1, p2, q1);
    let o2 = orient(p1, p2, q2);
    let o3 = orient(q1, q2, p1);
    let o4 = orient(q1, q2, p2);
    if o1 != o2 && o3 != o4 {
        return true;
    }
    (o1 == Orientation::Collinear && on_segment(p1, p2, q1))
        || (o2 == Orientation::Collinear && on_segment(p1, p2, q2))
        || (o3 == Orientation::Collinear && on_segment(q1, q2, p1))
        || (o4 == Orientation::Collinear && on_segment(q1, q2, p2))
}

/// How the boundaries of a pair meet inside their common box.
enum Contacts {
    /// Not at all.
    None,
    /// Only at proper crossings (each point interior to both edges, not
    /// collinear): `(edge of a, edge of b, parameter on a, parameter on b, point)`.
    Proper(Vec<Crossing>),
    /// Touching, collinear overlap, or a vertex on an edge.
    Degenerate,
}

struct Crossing {
    ea: usize,
    eb: usize,
    ta: f64,
    tb: f64,
    at: Coord<f64>,
}

/// Classify one contact between edge `e` and `f` (their boxes meet):
/// `Ok(None)` no contact, `Ok(Some((t_e, t_f, point)))` a proper crossing,
/// `Err(())` a degenerate contact.
#[allow(clippy::result_unit_err)]
fn contact(e: &[f64; 4], f: &[f64; 4]) -> Result<Option<(f64, f64, Coord<f64>)>, ()> {
    let (p1, p2) = (Coord { x: e[0], y: e[1] }, Coord { x: e[2], y: e[3] });
    let (q1, q2) = (Coord { x: f[0], y: f[1] }, Coord { x: f[2], y: f[3] });
    let o1 = orient(p1, p2, q1);
    let o2 = orient(p1, p2, q2);
    let o3 = orient(q1, q2, p1);
    let o4 = orient(q1, q2, p2);
    use Orientation::Collinear;
    if o1 != Collinear && o2 != Collinear && o3 != Collinear && o4 != Collinear {
        if o1 != o2 && o3 != o4 {
            // Proper crossing: parameters relative to p1 for precision.
            let (rx, ry) = (p2.x - p1.x, p2.y - p1.y);
            let (sx, sy) = (q2.x - q1.x, q2.y - q1.y);
            let (qx, qy) = (q1.x - p1.x, q1.y - p1.y);
            let den = rx * sy - ry * sx;
            let t = ((qx * sy - qy * sx) / den).clamp(0.0, 1.0);
            let u = ((qx * ry - qy * rx) / den).clamp(0.0, 1.0);
            let at = Coord {
                x: p1.x + t * rx,
                y: p1.y + t * ry,
            };
            return Ok(Some((t, u, at)));
        }
        return Ok(None);
    }
    if segments_meet(e, f) {
        Err(())
    } else {
        Ok(None)
    }
}

/// The edges of `s` whose box meets `w`: `(edge index, box)`.
fn edges_in(s: &Shape, w: &[f64; 4], out: &mut Vec<(usize, [f64; 4])>) {
    out.clear();
    for &(k, end, cb) in &s.chunks {
        if !boxes_meet(&cb, w) {
            continue;
        }
        for i in k..end {
            let bx = edge_box(&s.edges[i]);
            if boxes_meet(&bx, w) {
                out.push((i, bx));
            }
        }
    }
}

/// All contacts between the boundaries of `a` and `b` inside the box `w`
/// (a sweep over x; each edge is tested against the active edges of the other).
fn contacts(
    ea: &mut [(usize, [f64; 4])],
    eb: &mut [(usize, [f64; 4])],
    a: &Shape,
    b: &Shape,
) -> Contacts {
    let mut out = Vec::new();
    if ea.is_empty() || eb.is_empty() {
        return Contacts::None;
    }
    let test = |i: usize, j: usize, out: &mut Vec<Crossing>| -> bool {
        match contact(&a.edges[i], &b.edges[j]) {
            Ok(None) => true,
            Ok(Some((ta, tb, at))) => {
                out.push(Crossing {
                    ea: i,
                    eb: j,
                    ta,
                    tb,
                    at,
                });
                true
            }
            Err(()) => false,
        }
    };
    ea.sort_by(|x, y| x.1[0].total_cmp(&y.1[0]));
    eb.sort_by(|x, y| x.1[0].total_cmp(&y.1[0]));
    let (mut ia, mut ib) = (0, 0);
    let mut active_a: Vec<usize> = Vec::new();
    let mut active_b: Vec<usize> = Vec::new();
    while ia < ea.len() || ib < eb.len() {
        let take_a = ib >= eb.len() || (ia < ea.len() && ea[ia].1[0] <= eb[ib].1[0]);
        if take_a {
            let (i, be) = ea[ia];
            active_b.retain(|&k| eb[k].1[2] >= be[0]);
            for &k in &active_b {
                let (j, bf) = eb[k];
                if bf[1] <= be[3] && be[1] <= bf[3] && !test(i, j, &mut out) {
                    return Contacts::Degenerate;
                }
            }
            active_a.push(ia);
            ia += 1;
        } else {
            let (j, bf) = eb[ib];
            active_a.retain(|&k| ea[k].1[2] >= bf[0]);
            for &k in &active_a {
                let (i, be) = ea[k];
                if bf[1] <= be[3] && be[1] <= bf[3] && !test(i, j, &mut out) {
                    return Contacts::Degenerate;
                }
            }
            active_b.push(ib);
            ib += 1;
        }
    }
    if out.is_empty() {
        Contacts::None
    } else {
        Contacts::Proper(out)
    }
}

/// Inside test with a margin: `None` when the point lies within `tol` (in x)
/// of a boundary crossing of its horizontal line, where rounding could flip it.
fn inside_clear(p: &PreparedPolygon, x: f64, y: f64, tol: f64, buf: &mut Vec<f64>) -> Option<bool> {
    p.crossings(y, buf);
    let mut n = 0;
    for &xi in buf.iter() {
        if (xi - x).abs() <= tol {
            return None;
        }
        if xi > x {
            n += 1;
        }
    }
    Some(n % 2 == 1)
}

/// Sum of the cross-product terms of the pieces of `s`'s edges (split at the
/// crossings in `splits`, sorted by edge then parameter) that lie inside
/// `other`, relative to origin `o`: twice a signed area.
fn inside_pieces(
    s: &Shape,
    edges: &[(usize, [f64; 4])],
    splits: &[(usize, f64, Coord<f64>)],
    other: &Shape,
    o: Coord<f64>,
    tol: f64,
    buf: &mut Vec<f64>,
) -> Option<f64> {
    let mut sum = 0.0;
    let mut pts: Vec<Coord<f64>> = Vec::new();
    for &(i, _) in edges {
        let e = &s.edges[i];
        let (p, q) = (Coord { x: e[0], y: e[1] }, Coord { x: e[2], y: e[3] });
        pts.clear();
        pts.push(p);
        let k = splits.partition_point(|x| x.0 < i);
        pts.extend(splits[k..].iter().take_while(|x| x.0 == i).map(|x| x.2));
        pts.push(q);
        let mut part = 0.0;
        for w in pts.windows(2) {
            let (m_x, m_y) = ((w[0].x + w[1].x) / 2.0, (w[0].y + w[1].y) / 2.0);
            let inside = inside_clear(&other.prep, m_x, m_y, tol, buf)?;
            if inside {
                part += (w[0].x - o.x) * (w[1].y - o.y) - (w[1].x - o.x) * (w[0].y - o.y);
            }
        }
        sum += s.edge_sign[i] * part;
    }
    Some(sum)
}

/// Area of `a ∩ b` from the pieces of both boundaries inside the other
/// (Green's theorem), when the boundaries meet only at proper crossings.
/// `None` when a piece's midpoint lies too close to the other boundary.
fn crossing_area(
    a: &Shape,
    b: &Shape,
    ea: &[(usize, [f64; 4])],
    eb: &[(usize, [f64; 4])],
    crossings: &[Crossing],
    w: &[f64; 4],
) -> Option<f64> {
    let mut split_a: Vec<(usize, f64, Coord<f64>)> =
        crossings.iter().map(|c| (c.ea, c.ta, c.at)).collect();
    let mut split_b: Vec<(usize, f64, Coord<f64>)> =
        crossings.iter().map(|c| (c.eb, c.tb, c.at)).collect();
    let by_edge = |x: &(usize, f64, Coord<f64>), y: &(usize, f64, Coord<f64>)| {
        x.0.cmp(&y.0).then(x.1.total_cmp(&y.1))
    };
    split_a.sort_by(by_edge);
    split_b.sort_by(by_edge);
    let o = Coord { x: w[0], y: w[1] };
    let scale = (w[2] - w[0]).abs().max((w[3] - w[1]).abs()).max(1.0);
    let tol = scale * 1e-9;
    let mut buf = Vec::new();
    let sa = inside_pieces(a, ea, &split_a, b, o, tol, &mut buf)?;
    let sb = inside_pieces(b, eb, &split_b, a, o, tol, &mut buf)?;
    Some(((sa + sb) / 2.0).max(0.0))
}

/// Area of `a ∩ b` when their boundaries do not meet.
fn contained_area(a: &Shape, b: &Shape) -> f64 {
    let mut s = 0.0;
    for r in &a.rings {
        if boxes_meet(&r.bbox, &b.bbox) && b.prep.contains(r.first.x, r.first.y) {
            s += r.contribution_m2;
        }
    }
    for r in &b.rings {
        if boxes_meet(&r.bbox, &a.bbox) && a.prep.contains(r.first.x, r.first.y) {
            s += r.contribution_m2;
        }
    }
    s.max(0.0)
}

/// The parts of `mp` whose box meets `w` (all of it when it has one part).
fn parts_near(mp: &MultiPolygon<f64>, w: &[f64; 4]) -> Option<MultiPolygon<f64>> {
    if mp.0.len() < 2 {
        return None;
    }
    Some(MultiPolygon(
        mp.0.iter()
            .filter(|p| {
                p.bounding_rect()
                    .is_some_and(|r| boxes_meet(&[r.min().x, r.min().y, r.max().x, r.max().y], w))
            })
            .cloned()
            .collect(),
    ))
}

/// Clip with `geo` boolean operations, isolated: `Err(message)` on a panic.
fn clipped_area(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>, w: &[f64; 4]) -> Result<f64, String> {
    let na = parts_near(a, w);
    let nb = parts_near(b, w);
    let (a, b) = (na.as_ref().unwrap_or(a), nb.as_ref().unwrap_or(b));
    catch_unwind(AssertUnwindSafe(|| a.intersection(b).unsigned_area())).map_err(|e| {
        e.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| e.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "boolean operation panicked".to_string())
    })
}

/// Area of `a ∩ b` estimated from cell centres of a 256 × 256 grid over `w`.
fn estimated_area(a: &Shape, b: &Shape, w: &[f64; 4]) -> f64 {
    const N: usize = 256;
    let (dx, dy) = ((w[2] - w[0]) / N as f64, (w[3] - w[1]) / N as f64);
    let mut hits = 0usize;
    for j in 0..N {
        let y = w[1] + (j as f64 + 0.5) * dy;
        for i in 0..N {
            let x = w[0] + (i as f64 + 0.5) * dx;
            if a.prep.contains(x, y) && b.prep.contains(x, y) {
                hits += 1;
            }
        }
    }
    hits as f64 * dx * dy
}

type PairResult = (Vec<OverlayPiece>, Vec<PairFailure>, OverlayStats);

/// Overlay layer `a` on layer `b` (polygons in metres).
pub fn overlay(
    a: &[&MultiPolygon<f64>],
    b: &[&MultiPolygon<f64>],
    options: &OverlayOptions,
) -> Overlay {
    let a_problems = validate_layer(a);
    let b_problems = validate_layer(b);
    let shapes = |geoms: &[&MultiPolygon<f64>], problems: &[GeometryProblem]| -> Vec<Shape> {
        let mut by_index: Vec<Option<&GeometryProblem>> = vec![None; geoms.len()];
        for p in problems {
            by_index[p.index as usize] = Some(p);
        }
        geoms
            .par_iter()
            .zip(by_index.par_iter())
            .map(|(g, p)| Shape::new(g, *p))
            .collect()
    };
    let sa = shapes(a, &a_problems);
    let sb = shapes(b, &b_problems);
    let tree: RTree<GeomWithData<Rectangle<[f64; 2]>, u32>> = RTree::bulk_load(
        sb.iter()
            .enumerate()
            .filter(|(_, s)| s.usable)
            .map(|(j, s)| {
                GeomWithData::new(
                    Rectangle::from_corners([s.bbox[0], s.bbox[1]], [s.bbox[2], s.bbox[3]]),
                    j as u32,
                )
            })
            .collect(),
    );
    let tol = options.sliver;
    let per_a: Vec<PairResult> = sa
        .par_iter()
        .enumerate()
        .map(|(i, s)| {
            let mut pieces = Vec::new();
            let mut failures = Vec::new();
            let mut stats = OverlayStats::default();
            if !s.usable {
                return (pieces, failures, stats);
            }
            let (mut ea, mut eb) = (Vec::new(), Vec::new());
            let env = AABB::from_corners([s.bbox[0], s.bbox[1]], [s.bbox[2], s.bbox[3]]);
            let mut cands: Vec<u32> = tree
                .locate_in_envelope_intersecting(&env)
                .map(|e| e.data)
                .collect();
            cands.sort_unstable();
            for j in cands {
                let t = &sb[j as usize];
                stats.candidate_pairs += 1;
                let w = [
                    s.bbox[0].max(t.bbox[0]),
                    s.bbox[1].max(t.bbox[1]),
                    s.bbox[2].min(t.bbox[2]),
                    s.bbox[3].min(t.bbox[3]),
                ];
                let exact = if s.valid && t.valid {
                    edges_in(s, &w, &mut ea);
                    edges_in(t, &w, &mut eb);
                    match contacts(&mut ea, &mut eb, s, t) {
                        Contacts::None => Some((contained_area(s, t), PieceMethod::Contained)),
                        Contacts::Proper(cr) => crossing_area(s, t, &ea, &eb, &cr, &w)
                            .map(|x| (x, PieceMethod::Crossings)),
                        Contacts::Degenerate => None,
                    }
                } else {
                    None
                };
                let (area, method) = if let Some((x, m)) = exact {
                    match m {
                        PieceMethod::Contained => stats.contained_pairs += 1,
                        _ => stats.crossing_pairs += 1,
                    }
                    (x, m)
                } else {
                    match clipped_area(a[i], b[j as usize], &w) {
                        Ok(x) => {
                            stats.clipped_pairs += 1;
                            (x, PieceMethod::Clipped)
                        }
                        Err(message) => {
                            stats.estimated_pairs += 1;
                            failures.push(PairFailure {
                                a: i as u32,
                                b: j,
                                message,
                            });
                            (estimated_area(s, t, &w), PieceMethod::Estimated)
                        }
                    }
                };
                if area > 0.0 {
                    pieces.push(OverlayPiece {
                        a: i as u32,
                        b: j,
                        area_m2: area,
                        sliver: tol.is_sliver(area, s.area_m2, t.area_m2),
                        method,
                    });
                }
            }
            (pieces, failures, stats)
        })
        .collect();
    let mut pieces = Vec::new();
    let mut failures = Vec::new();
    let mut stats = OverlayStats::default();
    for (p, f, st) in per_a {
        pieces.extend(p);
        failures.extend(f);
        stats.candidate_pairs += st.candidate_pairs;
        stats.contained_pairs += st.contained_pairs;
        stats.crossing_pairs += st.crossing_pairs;
        stats.clipped_pairs += st.clipped_pairs;
        stats.estimated_pairs += st.estimated_pairs;
    }
    Overlay {
        a_start: starts(&pieces, a.len()),
        a_area_m2: sa.iter().map(|s| s.area_m2).collect(),
        b_area_m2: sb.iter().map(|s| s.area_m2).collect(),
        pieces,
        a_problems,
        b_problems,
        failures,
        stats,
        options: *options,
    }
}

/// The intersection polygons of one pair (for maps of splits), clipped with
/// `geo` boolean operations inside `catch_unwind`: `Err(message)` on a panic.
pub fn pair_intersection(
    a: &MultiPolygon<f64>,
    b: &MultiPolygon<f64>,
) -> Result<MultiPolygon<f64>, String> {
    catch_unwind(AssertUnwindSafe(|| a.intersection(b)))
        .map_err(|_| "boolean operation panicked".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn sq(x0: f64, y0: f64, s: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![
            (x: x0, y: y0),
            (x: x0 + s, y: y0),
            (x: x0 + s, y: y0 + s),
            (x: x0, y: y0 + s),
        ]])
    }

    #[test]
    fn segments() {
        assert!(segments_meet(&[0., 0., 2., 2.], &[0., 2., 2., 0.]));
        assert!(segments_meet(&[0., 0., 2., 0.], &[1., 0., 3., 0.]));
        assert!(segments_meet(&[0., 0., 2., 0.], &[2., 0., 2., 5.]));
        assert!(!segments_meet(&[0., 0., 2., 0.], &[3., 0., 4., 0.]));
        assert!(!segments_meet(&[0., 0., 2., 0.], &[0., 1., 2., 1.]));
    }

    #[test]
    fn nested_square_and_hole() {
        let big = sq(0., 0., 10.);
        let small = sq(2., 2., 3.);
        let o = overlay(&[&small], &[&big], &OverlayOptions::default());
        assert_eq!(o.pieces.len(), 1);
        assert_eq!(o.pieces[0].area_m2, 9.0);
        assert_eq!(o.pieces[0].method, PieceMethod::Contained);
        // A unit with a hole wholly inside the small square.
        let holed = MultiPolygon(vec![polygon!(
            exterior: [(x: -5., y: -5.), (x: 20., y: -5.), (x: 20., y: 20.), (x: -5., y: 20.)],
            interiors: [[(x: 3., y: 3.), (x: 4., y: 3.), (x: 4., y: 4.), (x: 3., y: 4.)]],
        )]);
        let o = overlay(&[&small], &[&holed], &OverlayOptions::default());
        assert_eq!(o.pieces[0].area_m2, 8.0);
        assert_eq!(o.pieces[0].method, PieceMethod::Contained);
    }
}
