//! The boundary of a polygon prepared once for the overlay and the validity
//! checks: every ring edge in ring order, and a hierarchy of boxes over runs
//! of consecutive edges.
//!
//! Consecutive edges of a ring lie close together, so a box over each run of
//! [`FAN`] edges is tight, and boxes over runs of [`FAN`] of those boxes form
//! a shallow tree (a 2,000-edge ring has four levels). The tree answers "which
//! edges meet this box" in edge order, without sorting, and a point-in-polygon
//! test visits only the edges whose box meets the ray from the point. The
//! side tests use exact orientation predicates (`geo`'s robust kernel), so a
//! point is located exactly: inside, outside, or on the boundary.

use geo::algorithm::kernels::{Kernel, Orientation, RobustKernel};
use geo::{Coord, MultiPolygon};

/// Children per node of the box tree (edges per leaf box).
pub(crate) const FAN: usize = 8;

/// One ring of a multipolygon: its edges are `edges[start..end]`.
#[derive(Clone, Debug)]
pub(crate) struct RingSpan {
    /// Position of the polygon in the multipolygon.
    pub part: u32,
    /// 0 for the outer ring, `k` for hole `k`.
    pub ring: u32,
    pub start: usize,
    pub end: usize,
    /// Shoelace area, positive for a counter-clockwise ring.
    pub signed_area_m2: f64,
    pub bbox: [f64; 4],
}

impl RingSpan {
    /// Area the ring adds to its polygon: + for an outer ring, − for a hole.
    pub fn contribution_m2(&self) -> f64 {
        let a = self.signed_area_m2.abs();
        if self.ring == 0 {
            a
        } else {
            -a
        }
    }

    /// +1 when the ring runs in the positive sense for the region it bounds
    /// (outer ring counter-clockwise, hole clockwise), −1 otherwise.
    pub fn sense(&self) -> f64 {
        if (self.signed_area_m2 > 0.0) == (self.ring == 0) {
            1.0
        } else {
            -1.0
        }
    }
}

/// Every ring edge `[x0, y0, x1, y1]` of a multipolygon (zero-length ones
/// included, so that an edge's position in its ring is its position in the
/// input), with the box tree.
#[derive(Clone, Debug, Default)]
pub(crate) struct RingEdges {
    pub edges: Vec<[f64; 4]>,
    /// Ring of each edge (index into `rings`).
    pub edge_ring: Vec<u32>,
    pub rings: Vec<RingSpan>,
    /// Box of every edge (empty, min > max, without edges).
    pub bbox: [f64; 4],
    /// `levels[0][k]`: box of `edges[k * FAN..]` (up to FAN edges);
    /// `levels[l][k]`: box of `levels[l - 1][k * FAN..]`. The last level has at most FAN boxes.
    levels: Vec<Vec<[f64; 4]>>,
}

/// The box that meets nothing.
pub(crate) const EMPTY_BOX: [f64; 4] = [
    f64::INFINITY,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NEG_INFINITY,
];

pub(crate) fn boxes_meet(a: &[f64; 4], b: &[f64; 4]) -> bool {
    a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3]
}

/// The common part of two boxes (may be empty: min > max).
pub(crate) fn box_meet(a: &[f64; 4], b: &[f64; 4]) -> [f64; 4] {
    [
        a[0].max(b[0]),
        a[1].max(b[1]),
        a[2].min(b[2]),
        a[3].min(b[3]),
    ]
}

fn box_union(a: &[f64; 4], b: &[f64; 4]) -> [f64; 4] {
    [
        a[0].min(b[0]),
        a[1].min(b[1]),
        a[2].max(b[2]),
        a[3].max(b[3]),
    ]
}

pub(crate) fn edge_box(e: &[f64; 4]) -> [f64; 4] {
    [
        e[0].min(e[2]),
        e[1].min(e[3]),
        e[0].max(e[2]),
        e[1].max(e[3]),
    ]
}

pub(crate) fn orient(p: Coord<f64>, q: Coord<f64>, r: Coord<f64>) -> Orientation {
    RobustKernel::orient2d(p, q, r)
}

/// `r` (collinear with `p`-`q`) lies within the box of `p`-`q`.
pub(crate) fn on_segment(p: Coord<f64>, q: Coord<f64>, r: Coord<f64>) -> bool {
    r.x >= p.x.min(q.x) && r.x <= p.x.max(q.x) && r.y >= p.y.min(q.y) && r.y <= p.y.max(q.y)
}

/// Shoelace area relative to the first vertex (for precision far from the
/// origin), positive for a counter-clockwise ring.
fn signed_ring_area(c: &[Coord<f64>]) -> f64 {
    if c.len() < 3 {
        return 0.0;
    }
    let o = c[0];
    let mut s = 0.0;
    for w in c.windows(2) {
        s += (w[0].x - o.x) * (w[1].y - o.y) - (w[1].x - o.x) * (w[0].y - o.y);
    }
    s / 2.0
}

impl RingEdges {
    /// Prepare the rings of `mp` (coordinates assumed finite).
    pub fn new(mp: &MultiPolygon<f64>) -> RingEdges {
        let n: usize =
            mp.0.iter()
                .map(|p| {
                    std::iter::once(p.exterior())
                        .chain(p.interiors())
                        .map(|r| r.0.len().saturating_sub(1))
                        .sum::<usize>()
                })
                .sum();
        let mut edges = Vec::with_capacity(n);
        let mut edge_ring = Vec::with_capacity(n);
        let mut rings = Vec::new();
        for (pi, poly) in mp.0.iter().enumerate() {
            for (ri, ring) in std::iter::once(poly.exterior())
                .chain(poly.interiors())
                .enumerate()
            {
                let c = &ring.0;
                let start = edges.len();
                let mut bbox = EMPTY_BOX;
                for p in c {
                    bbox = box_union(&bbox, &[p.x, p.y, p.x, p.y]);
                }
                for w in c.windows(2) {
                    edges.push([w[0].x, w[0].y, w[1].x, w[1].y]);
                    edge_ring.push(rings.len() as u32);
                }
                rings.push(RingSpan {
                    part: pi as u32,
                    ring: ri as u32,
                    start,
                    end: edges.len(),
                    signed_area_m2: signed_ring_area(c),
                    bbox,
                });
            }
        }
        let mut levels: Vec<Vec<[f64; 4]>> = Vec::new();
        if !edges.is_empty() {
            levels.push(
                edges
                    .chunks(FAN)
                    .map(|ch| {
                        ch.iter()
                            .skip(1)
                            .fold(edge_box(&ch[0]), |b, e| box_union(&b, &edge_box(e)))
                    })
                    .collect(),
            );
            while levels[levels.len() - 1].len() > FAN {
                let up = levels[levels.len() - 1]
                    .chunks(FAN)
                    .map(|ch| ch.iter().skip(1).fold(ch[0], |b, x| box_union(&b, x)))
                    .collect();
                levels.push(up);
            }
        }
        let bbox = levels.last().map_or(EMPTY_BOX, |top| {
            top.iter().fold(EMPTY_BOX, |b, x| box_union(&b, x))
        });
        RingEdges {
            edges,
            edge_ring,
            rings,
            bbox,
            levels,
        }
    }

    /// Number of leaf boxes (runs of up to FAN edges).
    pub fn leaf_count(&self) -> usize {
        self.levels.first().map_or(0, Vec::len)
    }

    pub fn leaf_box(&self, k: usize) -> &[f64; 4] {
        &self.levels[0][k]
    }

    /// The edges under leaf `k`.
    pub fn leaf_edges(&self, k: usize) -> std::ops::Range<usize> {
        k * FAN..((k + 1) * FAN).min(self.edges.len())
    }

    /// Calls `f` with every leaf whose box meets `w`, in order, until `f`
    /// returns false; false when stopped.
    pub fn visit_leaves(&self, w: &[f64; 4], f: &mut impl FnMut(usize) -> bool) -> bool {
        self.visit_leaves_from(0, w, f)
    }

    /// [`Self::visit_leaves`] for the leaves from `first` on only.
    pub fn visit_leaves_from(
        &self,
        first: usize,
        w: &[f64; 4],
        f: &mut impl FnMut(usize) -> bool,
    ) -> bool {
        let Some(top) = self.levels.len().checked_sub(1) else {
            return true;
        };
        if !boxes_meet(&self.bbox, w) {
            return true;
        }
        let span = FAN.pow(top as u32);
        (first / span..self.levels[top].len()).all(|k| self.descend(top, k, span, first, w, f))
    }

    /// Node `k` of `level`, covering leaves `k * span..(k + 1) * span`.
    fn descend(
        &self,
        level: usize,
        k: usize,
        span: usize,
        first: usize,
        w: &[f64; 4],
        f: &mut impl FnMut(usize) -> bool,
    ) -> bool {
        if !boxes_meet(&self.levels[level][k], w) {
            return true;
        }
        if level == 0 {
            return f(k);
        }
        let sub = span / FAN;
        let end = ((k + 1) * FAN).min(self.levels[level - 1].len());
        (k * FAN..end)
            .filter(|c| (c + 1) * sub > first)
            .all(|c| self.descend(level - 1, c, sub, first, w, f))
    }

    /// Calls `f` with every edge whose box meets `w`, in order, until `f`
    /// returns false; false when stopped.
    pub fn visit_edges(&self, w: &[f64; 4], f: &mut impl FnMut(usize) -> bool) -> bool {
        self.visit_leaves(w, &mut |k| {
            self.leaf_edges(k)
                .all(|i| !boxes_meet(&edge_box(&self.edges[i]), w) || f(i))
        })
    }

    /// The edges whose box meets `w`, in order.
    pub fn edges_in(&self, w: &[f64; 4], out: &mut Vec<u32>) {
        out.clear();
        self.visit_edges(w, &mut |i| {
            out.push(i as u32);
            true
        });
    }

    /// Exact location of a point (even-odd rule over every ring): `Some(true)`
    /// inside, `Some(false)` outside, `None` on the boundary.
    pub fn locate(&self, x: f64, y: f64) -> Option<bool> {
        if !(x >= self.bbox[0] && x <= self.bbox[2] && y >= self.bbox[1] && y <= self.bbox[3]) {
            return Some(false);
        }
        let p = Coord { x, y };
        let mut inside = false;
        let clear = self.visit_edges(&[x, y, f64::INFINITY, y], &mut |i| {
            let e = &self.edges[i];
            let (a, b) = (Coord { x: e[0], y: e[1] }, Coord { x: e[2], y: e[3] });
            if (a.y > y) != (b.y > y) {
                // Half-open crossing of the line at y; the edge crosses to the
                // right of p when p lies left of it taken upwards.
                let (lo, hi) = if a.y < b.y { (a, b) } else { (b, a) };
                match orient(lo, hi, p) {
                    Orientation::CounterClockwise => inside = !inside,
                    Orientation::Collinear => return false,
                    Orientation::Clockwise => {}
                }
                true
            } else {
                // An edge ending at height y: p is on it only at a vertex or
                // along a horizontal edge.
                !(orient(a, b, p) == Orientation::Collinear && on_segment(a, b, p))
            }
        });
        clear.then_some(inside)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, Contains, Point};

    #[test]
    fn locate_matches_geo_and_finds_the_boundary() {
        let p = polygon!(
            exterior: [(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 10.0), (x: 5.0, y: 12.0), (x: 0.0, y: 10.0)],
            interiors: [[(x: 4.0, y: 4.0), (x: 6.0, y: 4.0), (x: 6.0, y: 6.0), (x: 4.0, y: 6.0)]],
        );
        let e = RingEdges::new(&MultiPolygon(vec![p.clone()]));
        assert_eq!(e.rings.len(), 2);
        assert_eq!(e.rings[0].contribution_m2(), 110.0);
        assert_eq!(e.rings[1].contribution_m2(), -4.0);
        for (x, y) in [
            (1.0, 1.0),
            (5.0, 5.0),
            (9.9, 0.1),
            (11.0, 5.0),
            (5.0, 3.9),
            (-1.0, 5.0),
            (5.0, 11.9),
            (5.0, 12.1),
            (3.0, 6.0),
        ] {
            assert_eq!(
                e.locate(x, y),
                Some(p.contains(&Point::new(x, y))),
                "({x}, {y})"
            );
        }
        for (x, y) in [(0.0, 0.0), (5.0, 0.0), (10.0, 3.0), (2.5, 11.0), (5.0, 6.0)] {
            assert_eq!(e.locate(x, y), None, "({x}, {y})");
        }
    }

    #[test]
    fn edges_in_a_box_match_a_scan() {
        // A long zigzag ring, so the tree has several levels.
        let mut pts: Vec<(f64, f64)> = (0..1000)
            .map(|k| (k as f64, if k % 2 == 0 { 0.0 } else { 1.0 }))
            .collect();
        pts.push((999.0, -5.0));
        pts.push((0.0, -5.0));
        pts.push(pts[0]);
        let mp = MultiPolygon(vec![geo::Polygon::new(pts.into(), vec![])]);
        let e = RingEdges::new(&mp);
        assert!(e.levels.len() >= 3);
        let mut out = Vec::new();
        for w in [
            [10.5, 0.2, 40.2, 0.3],
            [-1.0, -6.0, 600.0, 2.0],
            [250.0, -5.0, 250.0, -5.0],
            [600.0, 0.0, 700.0, 1.0],
        ] {
            e.edges_in(&w, &mut out);
            let scan: Vec<u32> = (0..e.edges.len() as u32)
                .filter(|&i| boxes_meet(&edge_box(&e.edges[i as usize]), &w))
                .collect();
            assert_eq!(out, scan, "{w:?}");
            for first in [0, 5, 63, 64, 100] {
                let mut leaves = Vec::new();
                e.visit_leaves_from(first, &w, &mut |k| {
                    leaves.push(k);
                    true
                });
                let scan: Vec<usize> = (first..e.leaf_count())
                    .filter(|&k| boxes_meet(e.leaf_box(k), &w))
                    .collect();
                assert_eq!(leaves, scan, "{w:?} from {first}");
            }
        }
    }
}
