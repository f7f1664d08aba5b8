//! Intersection areas of two polygon layers `A` and `B` (metres).
//!
//! 1. Each polygon is validated ([`super::validate`]) and prepared once, in
//!    the same pass: its ring edges in order under a shallow tree of boxes
//!    over runs of consecutive edges ([`super::edges`]), which the validity
//!    check uses too. Unusable geometries are left out and reported.
//! 2. Candidate pairs come from an R-tree over the bounding boxes of `B`.
//! 3. For each pair, the edges of both polygons inside the common box are
//!    tested for any contact (crossing, touching or collinear overlap) with
//!    exact orientation predicates (`geo`'s robust kernel). The side with
//!    fewer edge runs in the common box is taken edge by edge against the
//!    other's tree; runs and edges wholly on one side of an edge's line are
//!    skipped by a floating-point side test trusted only well beyond its
//!    rounding error.
//!    - **No contact**: every ring of `A` lies wholly inside or wholly outside
//!      `B`, and every ring of `B` wholly inside or outside `A`. By Green's
//!      theorem the boundary of `A ∩ B` is the rings of `A` inside `B` plus
//!      the rings of `B` inside `A`, so the area is the sum of their
//!      (signed: shell +, hole −) ring areas, with one exact point location
//!      per ring. Exact, no clipping. Most small areas lie wholly in one unit.
//!    - **Proper crossings only** (every contact is a crossing interior to
//!      both edges): each edge is split at its crossings and each piece
//!      inside the other polygon adds its `x dy − y dx` term (ring
//!      orientation corrected); the sum over both boundaries is twice the
//!      area of `A ∩ B` (Green's theorem again). Inside or outside is known
//!      without testing each piece: it flips at every crossing along a run
//!      of consecutive edges, and a run starts either just after an edge
//!      outside the common box (outside) or at a vertex located exactly.
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
//! Work is parallel over `A` (rayon, runs of polygons per task, buffers
//! reused per thread); pieces are sorted by `(a, b)`. [`overlay_timed`]
//! gives the time of each phase.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use geo::algorithm::kernels::Orientation;
use geo::{Area as _, BooleanOps, BoundingRect, Coord, MultiPolygon};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use super::edges::{box_meet, boxes_meet, edge_box, on_segment, orient, RingEdges};
use super::validate::{check_rings, usable_area, GeometryProblem};

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

/// A polygon prepared for the pair tests (once per overlay).
struct Shape {
    bbox: [f64; 4],
    area_m2: f64,
    edges: RingEdges,
    /// Usable (not excluded).
    usable: bool,
    /// Passed every validity check.
    valid: bool,
}

impl Shape {
    /// Validate geometry `index` and prepare it: the shape and its problem, if any.
    fn prepare(index: u32, mp: &MultiPolygon<f64>) -> (Shape, Option<GeometryProblem>) {
        let area_m2 = match usable_area(index, mp) {
            Ok(a) => a,
            Err(p) => {
                let s = Shape {
                    bbox: [0.0; 4],
                    area_m2: 0.0,
                    edges: RingEdges::default(),
                    usable: false,
                    valid: false,
                };
                return (s, Some(p));
            }
        };
        let edges = RingEdges::new(mp);
        let problem = check_rings(index, mp, &edges);
        let s = Shape {
            bbox: edges.bbox,
            area_m2,
            edges,
            usable: true,
            valid: problem.is_none(),
        };
        (s, problem)
    }
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

/// A proper crossing: edge `ea` of `a` at parameter `ta` meets edge `eb` of
/// `b` at parameter `tb`, at `at`.
#[derive(Clone, Copy)]
struct Crossing {
    ea: u32,
    eb: u32,
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
    use Orientation::Collinear;
    if o1 != Collinear && o2 != Collinear && o1 == o2 {
        // Both ends of f strictly on one side of e's line: no contact.
        return Ok(None);
    }
    let o3 = orient(q1, q2, p1);
    let o4 = orient(q1, q2, p2);
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

/// Buffers reused from pair to pair on one thread.
#[derive(Default)]
struct Scratch {
    candidates: Vec<u32>,
    crossings: Vec<Crossing>,
    la: Vec<u32>,
    lb: Vec<u32>,
    ea: Vec<u32>,
    eb: Vec<u32>,
    split_a: Vec<(u32, f64, Coord<f64>)>,
    split_b: Vec<(u32, f64, Coord<f64>)>,
}

/// All contacts between the boundaries of `a` and `b` inside the box `w`.
///
/// The leaves (runs of edges) of `b` meeting `w` are listed first: none, no
/// contact. Otherwise the side with fewer leaves in `w` is taken edge by
/// edge (for small areas against larger units, the unit's few long edges
/// near the area): an edge whose part inside `w` lies on one side of its own
/// line is skipped (it passes `w` by), and the other side's tree is searched
/// within the edge's box, skipping leaves beside the edge's line and edges
/// with both ends on one side of it. The remaining pairs are tested exactly.
/// Proper crossings go to `scratch.crossings`; false at the first degenerate
/// contact.
fn contacts(a: &Shape, b: &Shape, w: &[f64; 4], scratch: &mut Scratch) -> bool {
    let Scratch {
        crossings: out,
        la,
        lb,
        ..
    } = scratch;
    out.clear();
    let (ta, tb) = (&a.edges, &b.edges);
    leaves_in(tb, w, lb);
    if lb.is_empty() {
        return true;
    }
    let b_outer = lb.len() <= ta.leaf_count() || {
        leaves_in(ta, w, la);
        lb.len() <= la.len()
    };
    let mut found = |i: usize, j: usize| -> bool {
        match contact(&ta.edges[i], &tb.edges[j]) {
            Ok(None) => true,
            Ok(Some((t, u, at))) => {
                out.push(Crossing {
                    ea: i as u32,
                    eb: j as u32,
                    ta: t,
                    tb: u,
                    at,
                });
                true
            }
            Err(()) => false,
        }
    };
    // Every edge of the `outer` leaves against the `inner` tree; `pair`
    // orders (outer edge, inner edge) as (edge of a, edge of b).
    let sweep = |outer: &RingEdges,
                 leaves: &[u32],
                 inner: &RingEdges,
                 pair: &mut dyn FnMut(usize, usize) -> bool|
     -> bool {
        for &k in leaves {
            for j in outer.leaf_edges(k as usize) {
                let f = &outer.edges[j];
                let bf = box_meet(&edge_box(f), w);
                if beside(f, &bf) {
                    continue;
                }
                let clear = inner.visit_leaves(&bf, &mut |ki| {
                    if beside(f, &box_meet(inner.leaf_box(ki), &bf)) {
                        return true;
                    }
                    inner.leaf_edges(ki).all(|i| {
                        let e = &inner.edges[i];
                        one_side(f, e) || !boxes_meet(&edge_box(e), &bf) || pair(j, i)
                    })
                });
                if !clear {
                    return false;
                }
            }
        }
        true
    };
    if b_outer {
        sweep(tb, lb, ta, &mut |j, i| found(i, j))
    } else {
        sweep(ta, la, tb, &mut |i, j| found(i, j))
    }
}

/// Side of the point `(x, y)` from the line through edge `e`: 1 left, −1
/// right, 0 when the floating-point value is within a bound well above its
/// rounding error of zero (the exact predicates then decide).
#[inline]
fn side(e: &[f64; 4], x: f64, y: f64) -> i8 {
    let (u, v) = ((x - e[0]) * (e[3] - e[1]), (y - e[1]) * (e[2] - e[0]));
    let d = u - v;
    let bound = 1e-12 * (u.abs() + v.abs());
    if d > bound {
        -1
    } else if d < -bound {
        1
    } else {
        0
    }
}

/// Both ends of `f` lie strictly on one side of the line through `e`, so
/// the two edges cannot meet.
#[inline]
fn one_side(e: &[f64; 4], f: &[f64; 4]) -> bool {
    let s = side(e, f[0], f[1]);
    s != 0 && side(e, f[2], f[3]) == s
}

/// Whether the box `b` lies strictly on one side of the line through edge
/// `e`, so that no segment inside `b` can meet `e` (true for an empty box).
fn beside(e: &[f64; 4], b: &[f64; 4]) -> bool {
    if b[0] > b[2] || b[1] > b[3] {
        return true;
    }
    let s = side(e, b[0], b[1]);
    s != 0 && side(e, b[2], b[1]) == s && side(e, b[0], b[3]) == s && side(e, b[2], b[3]) == s
}

/// The leaves of `t` whose box meets `w`.
fn leaves_in(t: &RingEdges, w: &[f64; 4], out: &mut Vec<u32>) {
    out.clear();
    t.visit_leaves(w, &mut |k| {
        out.push(k as u32);
        true
    });
}

/// Twice the signed area term of the segment `p`-`q` relative to `o`.
fn cross(p: Coord<f64>, q: Coord<f64>, o: Coord<f64>) -> f64 {
    (p.x - o.x) * (q.y - o.y) - (q.x - o.x) * (p.y - o.y)
}

/// Sum of the cross-product terms (relative to `o`, ring sense corrected) of
/// the parts of `s`'s boundary inside `other`: twice a signed area. `edges`
/// are the edges of `s` whose box meets `w` (the common box), in order;
/// `splits` the crossings on them, sorted by edge then parameter.
///
/// Inside/outside is tracked along each run of consecutive edges: it flips
/// at every crossing (all are proper), and a run starts either after an edge
/// outside `w` (so at a vertex outside `other`'s box: outside) or with one
/// exact point location of its first vertex. `None` when that vertex lies
/// on `other`'s boundary (not expected once contacts are proper).
fn boundary_inside(
    s: &Shape,
    edges: &[u32],
    splits: &[(u32, f64, Coord<f64>)],
    other: &Shape,
    w: &[f64; 4],
    o: Coord<f64>,
) -> Option<f64> {
    let t = &s.edges;
    let mut sum = 0.0;
    let mut k = 0;
    let mut prev = usize::MAX;
    let mut inside = false;
    for &i in edges {
        let i = i as usize;
        let ring = &t.rings[t.edge_ring[i] as usize];
        if !(i == prev.wrapping_add(1) && i != ring.start) {
            let before = if i == ring.start { ring.end - 1 } else { i - 1 };
            inside = if boxes_meet(&edge_box(&t.edges[before]), w) {
                let e = &t.edges[i];
                other.edges.locate(e[0], e[1])?
            } else {
                false
            };
        }
        let e = &t.edges[i];
        let mut from = Coord { x: e[0], y: e[1] };
        let mut part = 0.0;
        while k < splits.len() && (splits[k].0 as usize) < i {
            k += 1;
        }
        while k < splits.len() && splits[k].0 as usize == i {
            let at = splits[k].2;
            if inside {
                part += cross(from, at, o);
            }
            inside = !inside;
            from = at;
            k += 1;
        }
        if inside {
            part += cross(from, Coord { x: e[2], y: e[3] }, o);
        }
        sum += ring.sense() * part;
        prev = i;
    }
    Some(sum)
}

/// Area of `a ∩ b` from the pieces of both boundaries inside the other
/// (Green's theorem), when the boundaries meet only at proper crossings
/// (in `scratch.crossings`). `None` when a point could not be located.
fn crossing_area(a: &Shape, b: &Shape, w: &[f64; 4], scratch: &mut Scratch) -> Option<f64> {
    let Scratch {
        crossings,
        ea,
        eb,
        split_a,
        split_b,
        ..
    } = scratch;
    split_a.clear();
    split_b.clear();
    split_a.extend(crossings.iter().map(|c| (c.ea, c.ta, c.at)));
    split_b.extend(crossings.iter().map(|c| (c.eb, c.tb, c.at)));
    let by_edge = |x: &(u32, f64, Coord<f64>), y: &(u32, f64, Coord<f64>)| {
        x.0.cmp(&y.0).then(x.1.total_cmp(&y.1))
    };
    split_a.sort_unstable_by(by_edge);
    split_b.sort_unstable_by(by_edge);
    a.edges.edges_in(w, ea);
    b.edges.edges_in(w, eb);

    let o = Coord { x: w[0], y: w[1] };
    let sa = boundary_inside(a, ea, split_a, b, w, o)?;
    let sb = boundary_inside(b, eb, split_b, a, w, o)?;
    Some(((sa + sb) / 2.0).max(0.0))
}

/// Area of `a ∩ b` when their boundaries do not meet: the rings of each
/// inside the other, located exactly by their first vertex.
fn contained_area(a: &Shape, b: &Shape) -> Option<f64> {
    let mut s = 0.0;
    for (x, y) in [(a, b), (b, a)] {
        for r in &x.edges.rings {
            if boxes_meet(&r.bbox, &y.bbox) {
                let p = &x.edges.edges[r.start];
                if y.edges.locate(p[0], p[1])? {
                    s += r.contribution_m2();
                }
            }
        }
    }
    Some(s.max(0.0))
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

/// Area of `a ∩ b` estimated from cell centres of a 256 × 256 grid over `w`
/// (centres on a boundary count as outside).
fn estimated_area(a: &Shape, b: &Shape, w: &[f64; 4]) -> f64 {
    const N: usize = 256;
    let (dx, dy) = ((w[2] - w[0]) / N as f64, (w[3] - w[1]) / N as f64);
    let mut hits = 0usize;
    for j in 0..N {
        let y = w[1] + (j as f64 + 0.5) * dy;
        for i in 0..N {
            let x = w[0] + (i as f64 + 0.5) * dx;
            if a.edges.locate(x, y) == Some(true) && b.edges.locate(x, y) == Some(true) {
                hits += 1;
            }
        }
    }
    hits as f64 * dx * dy
}

/// Pieces, failures and counts from a run of A's polygons.
type ChunkResult = (Vec<OverlayPiece>, Vec<PairFailure>, OverlayStats);

/// Wall-clock time of the phases of one overlay, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct OverlayTimings {
    /// Validation and preparation of both layers (edge arrays and box trees).
    pub prepare_ms: f64,
    /// Candidate pairs (R-tree) and the area of every pair.
    pub pairs_ms: f64,
    /// Merging the per-thread results.
    pub collect_ms: f64,
}

/// A's polygons per parallel task.
const A_PER_TASK: usize = 16;

/// Overlay layer `a` on layer `b` (polygons in metres).
pub fn overlay(
    a: &[&MultiPolygon<f64>],
    b: &[&MultiPolygon<f64>],
    options: &OverlayOptions,
) -> Overlay {
    overlay_timed(a, b, options).0
}

/// [`overlay`], with the time taken by each phase.
pub fn overlay_timed(
    a: &[&MultiPolygon<f64>],
    b: &[&MultiPolygon<f64>],
    options: &OverlayOptions,
) -> (Overlay, OverlayTimings) {
    let t0 = Instant::now();
    let prepare = |geoms: &[&MultiPolygon<f64>]| -> (Vec<Shape>, Vec<GeometryProblem>) {
        let both: Vec<(Shape, Option<GeometryProblem>)> = geoms
            .par_iter()
            .enumerate()
            .with_min_len(A_PER_TASK)
            .map(|(i, g)| Shape::prepare(i as u32, g))
            .collect();
        let mut problems = Vec::new();
        let shapes = both
            .into_iter()
            .map(|(s, p)| {
                problems.extend(p);
                s
            })
            .collect();
        (shapes, problems)
    };
    let (sa, a_problems) = prepare(a);
    let (sb, b_problems) = prepare(b);
    let t1 = Instant::now();
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
    let indices: Vec<usize> = (0..sa.len()).collect();
    let per_chunk: Vec<ChunkResult> = indices
        .par_chunks(A_PER_TASK)
        .map_init(Scratch::default, |scratch, chunk| {
            let mut pieces = Vec::new();
            let mut failures = Vec::new();
            let mut stats = OverlayStats::default();
            for &i in chunk {
                let s = &sa[i];
                if !s.usable {
                    continue;
                }
                let env = AABB::from_corners([s.bbox[0], s.bbox[1]], [s.bbox[2], s.bbox[3]]);
                let mut cands = std::mem::take(&mut scratch.candidates);
                cands.clear();
                cands.extend(tree.locate_in_envelope_intersecting(&env).map(|e| e.data));
                cands.sort_unstable();
                for &j in &cands {
                    let t = &sb[j as usize];
                    stats.candidate_pairs += 1;
                    let w = box_meet(&s.bbox, &t.bbox);
                    let exact = if s.valid && t.valid {
                        if !contacts(s, t, &w, scratch) {
                            None
                        } else if scratch.crossings.is_empty() {
                            contained_area(s, t).map(|x| (x, PieceMethod::Contained))
                        } else {
                            crossing_area(s, t, &w, scratch).map(|x| (x, PieceMethod::Crossings))
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
                scratch.candidates = cands;
            }
            (pieces, failures, stats)
        })
        .collect();
    let t2 = Instant::now();
    let mut pieces = Vec::with_capacity(per_chunk.iter().map(|c| c.0.len()).sum());
    let mut failures = Vec::new();
    let mut stats = OverlayStats::default();
    for (p, f, st) in per_chunk {
        pieces.extend(p);
        failures.extend(f);
        stats.candidate_pairs += st.candidate_pairs;
        stats.contained_pairs += st.contained_pairs;
        stats.crossing_pairs += st.crossing_pairs;
        stats.clipped_pairs += st.clipped_pairs;
        stats.estimated_pairs += st.estimated_pairs;
    }
    let o = Overlay {
        a_start: starts(&pieces, a.len()),
        a_area_m2: sa.iter().map(|s| s.area_m2).collect(),
        b_area_m2: sb.iter().map(|s| s.area_m2).collect(),
        pieces,
        a_problems,
        b_problems,
        failures,
        stats,
        options: *options,
    };
    let ms = |x: Instant, y: Instant| (y - x).as_secs_f64() * 1e3;
    let timings = OverlayTimings {
        prepare_ms: ms(t0, t1),
        pairs_ms: ms(t1, t2),
        collect_ms: ms(t2, Instant::now()),
    };
    (o, timings)
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
