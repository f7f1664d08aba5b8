//! A polygon prepared for fast point-in-polygon tests.
//!
//! The edges of every ring (outer rings and holes alike) are bucketed into
//! horizontal slabs of equal height. A point is tested with the crossing-number
//! (even-odd) rule against the edges of its own slab only, so a test touches a
//! handful of edges instead of every edge of the polygon. The half-open
//! crossing rule gives a point on an edge shared by two polygons to exactly one
//! of them.

use geo::{BoundingRect, MultiPolygon};

/// One polygon (or multipolygon) with its edges bucketed by slab.
#[derive(Clone, Debug)]
pub struct PreparedPolygon {
    min_x: f64,
    min_y: f64,
    max_x: f64,
    max_y: f64,
    inv_slab_h: f64,
    n_slabs: usize,
    /// `slab_start[s]..slab_start[s + 1]` indexes `edges` for slab `s`.
    slab_start: Vec<u32>,
    /// Edges `[x0, y0, x1, y1]`, copied into every slab they span.
    edges: Vec<[f64; 4]>,
    /// Horizontal edges (never crossed by the test, but part of the boundary).
    flat_edges: Vec<[f64; 4]>,
}

/// Average number of edges per slab aimed for.
const EDGES_PER_SLAB: usize = 2;

impl PreparedPolygon {
    /// Prepare a multipolygon. Empty input gives a polygon that contains nothing.
    pub fn new(mp: &MultiPolygon<f64>) -> PreparedPolygon {
        let mut raw: Vec<[f64; 4]> = Vec::new();
        let mut flat_edges: Vec<[f64; 4]> = Vec::new();
        for poly in &mp.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for w in ring.0.windows(2) {
                    let (a, b) = (w[0], w[1]);
                    if a.y != b.y {
                        raw.push([a.x, a.y, b.x, b.y]);
                    } else if a.x != b.x {
                        flat_edges.push([a.x, a.y, b.x, b.y]);
                    }
                }
                // geo rings are closed, but guard against an open one anyway.
                if let (Some(first), Some(last)) = (ring.0.first(), ring.0.last()) {
                    if first != last && first.y != last.y {
                        raw.push([last.x, last.y, first.x, first.y]);
                    }
                }
            }
        }
        let Some(rect) = mp.bounding_rect() else {
            return PreparedPolygon {
                min_x: f64::INFINITY,
                min_y: f64::INFINITY,
                max_x: f64::NEG_INFINITY,
                max_y: f64::NEG_INFINITY,
                inv_slab_h: 0.0,
                n_slabs: 1,
                slab_start: vec![0, 0],
                edges: Vec::new(),
                flat_edges: Vec::new(),
            };
        };
        let (min_y, max_y) = (rect.min().y, rect.max().y);
        let height = max_y - min_y;
        let n_slabs = if height > 0.0 {
            (raw.len() / EDGES_PER_SLAB).clamp(1, 4096)
        } else {
            1
        };
        let inv_slab_h = if height > 0.0 {
            n_slabs as f64 / height
        } else {
            0.0
        };
        let slab_of = |y: f64| -> usize { (((y - min_y) * inv_slab_h) as usize).min(n_slabs - 1) };
        let mut counts = vec![0u32; n_slabs + 1];
        for e in &raw {
            let (lo, hi) = (slab_of(e[1].min(e[3])), slab_of(e[1].max(e[3])));
            for c in &mut counts[lo..=hi] {
                *c += 1;
            }
        }
        let mut slab_start = vec![0u32; n_slabs + 1];
        for s in 0..n_slabs {
            slab_start[s + 1] = slab_start[s] + counts[s];
        }
        let mut fill = slab_start.clone();
        let mut edges = vec![[0.0; 4]; slab_start[n_slabs] as usize];
        for e in &raw {
            let (lo, hi) = (slab_of(e[1].min(e[3])), slab_of(e[1].max(e[3])));
            for f in &mut fill[lo..=hi] {
                edges[*f as usize] = *e;
                *f += 1;
            }
        }
        PreparedPolygon {
            min_x: rect.min().x,
            min_y,
            max_x: rect.max().x,
            max_y,
            inv_slab_h,
            n_slabs,
            slab_start,
            edges,
            flat_edges,
        }
    }

    /// Bounding box `[min_x, min_y, max_x, max_y]`.
    pub fn bbox(&self) -> [f64; 4] {
        [self.min_x, self.min_y, self.max_x, self.max_y]
    }

    /// Even-odd point-in-polygon test.
    #[inline]
    pub fn contains(&self, x: f64, y: f64) -> bool {
        if !(x >= self.min_x && x <= self.max_x && y >= self.min_y && y <= self.max_y) {
            return false;
        }
        let s = (((y - self.min_y) * self.inv_slab_h) as usize).min(self.n_slabs - 1);
        let (a, b) = (self.slab_start[s] as usize, self.slab_start[s + 1] as usize);
        let mut inside = false;
        for e in &self.edges[a..b] {
            if (e[1] > y) != (e[3] > y) {
                let xi = e[0] + (y - e[1]) * (e[2] - e[0]) / (e[3] - e[1]);
                if x < xi {
                    inside = !inside;
                }
            }
        }
        inside
    }

    /// Every boundary edge `[x0, y0, x1, y1]` (edges spanning several slabs come
    /// once per slab).
    pub fn boundary_edges(&self) -> impl Iterator<Item = &[f64; 4]> {
        self.edges.iter().chain(&self.flat_edges)
    }

    /// Sorted x positions where the horizontal line at `y` crosses the boundary,
    /// under the same half-open rule as [`Self::contains`]: a point `(x, y)` is
    /// inside exactly when an odd number of these are greater than `x`.
    pub fn crossings(&self, y: f64, out: &mut Vec<f64>) {
        out.clear();
        if !(y >= self.min_y && y <= self.max_y) {
            return;
        }
        let s = (((y - self.min_y) * self.inv_slab_h) as usize).min(self.n_slabs - 1);
        let (a, b) = (self.slab_start[s] as usize, self.slab_start[s + 1] as usize);
        for e in &self.edges[a..b] {
            if (e[1] > y) != (e[3] > y) {
                out.push(e[0] + (y - e[1]) * (e[2] - e[0]) / (e[3] - e[1]));
            }
        }
        out.sort_by(f64::total_cmp);
    }

    /// Number of stored edge copies (a measure of the index size).
    pub fn edge_copies(&self) -> usize {
        self.edges.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, Contains, MultiPolygon, Point};

    #[test]
    fn square_with_hole() {
        let p = polygon!(
            exterior: [(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 10.0), (x: 0.0, y: 10.0), (x: 0.0, y: 0.0)],
            interiors: [[(x: 4.0, y: 4.0), (x: 6.0, y: 4.0), (x: 6.0, y: 6.0), (x: 4.0, y: 6.0), (x: 4.0, y: 4.0)]],
        );
        let mp = MultiPolygon(vec![p.clone()]);
        let prep = PreparedPolygon::new(&mp);
        for (x, y) in [
            (1.0, 1.0),
            (5.0, 5.0),
            (9.9, 0.1),
            (11.0, 5.0),
            (5.0, 3.9),
            (-1.0, 5.0),
        ] {
            assert_eq!(
                prep.contains(x, y),
                p.contains(&Point::new(x, y)),
                "({x}, {y})"
            );
        }
    }

    #[test]
    fn empty_contains_nothing() {
        let prep = PreparedPolygon::new(&MultiPolygon(vec![]));
        assert!(!prep.contains(0.0, 0.0));
    }
}
