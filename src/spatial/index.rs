//! The area index: an R-tree over the bounding boxes of the prepared area
//! polygons (rstar, bulk-loaded) for window and nearest queries, and a uniform
//! grid built from the same boxes for bulk point location. Grid cells that no
//! boundary passes through are classified once (inside area *i*, or empty),
//! so most points in them are answered without an edge test; the rest test
//! the cell's candidate areas with the slab-indexed crossing rule.
//!
//! Point location returns the first area, in id order, whose prepared polygon
//! contains the point, so the answer is deterministic even where generalised
//! boundaries overlap.

use geo::MultiPolygon;
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use super::prepared::PreparedPolygon;
use crate::model::AreaId;

type BoxEntry = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// Upper bound on grid cells (memory: 4 bytes a cell).
const MAX_CELLS: usize = 1 << 22;

/// Grid cell size as a fraction of the median area box size.
const CELL_FRACTION: f64 = 1.0;

/// Prepared polygons with an R-tree and a point-location grid.
pub struct AreaIndex {
    polys: Vec<PreparedPolygon>,
    rtree: RTree<BoxEntry>,
    grid: Grid,
}

struct Grid {
    x0: f64,
    y0: f64,
    inv_cell: f64,
    nx: usize,
    ny: usize,
    cell_start: Vec<u32>,
    items: Vec<u32>,
    /// Per cell: the area that contains the whole cell, [`EMPTY`] when no area
    /// meets it, or [`MIXED`] when a boundary passes through it (test the candidates).
    owner: Vec<u32>,
}

/// A cell no area meets.
const EMPTY: u32 = u32::MAX - 1;
/// A cell a boundary passes through.
const MIXED: u32 = u32::MAX;

impl AreaIndex {
    /// Build the index over polygons in working-CRS metres; `AreaId(i)` is `geoms[i]`.
    pub fn new(geoms: &[&MultiPolygon<f64>]) -> AreaIndex {
        let polys: Vec<PreparedPolygon> =
            geoms.par_iter().map(|g| PreparedPolygon::new(g)).collect();
        AreaIndex::from_prepared(polys)
    }

    /// Build the index from polygons prepared already.
    pub fn from_prepared(polys: Vec<PreparedPolygon>) -> AreaIndex {
        let entries: Vec<BoxEntry> = polys
            .iter()
            .enumerate()
            .filter(|(_, p)| p.bbox()[0] <= p.bbox()[2])
            .map(|(i, p)| {
                let b = p.bbox();
                GeomWithData::new(
                    Rectangle::from_corners([b[0], b[1]], [b[2], b[3]]),
                    i as u32,
                )
            })
            .collect();
        let rtree = RTree::bulk_load(entries);
        let grid = Grid::new(&polys);
        AreaIndex { polys, rtree, grid }
    }

    /// Number of areas indexed.
    pub fn len(&self) -> usize {
        self.polys.len()
    }

    /// True when no area is indexed.
    pub fn is_empty(&self) -> bool {
        self.polys.is_empty()
    }

    /// The prepared polygon of an area.
    pub fn prepared(&self, id: AreaId) -> &PreparedPolygon {
        &self.polys[id.index()]
    }

    /// The area containing a point (working CRS), through the grid.
    #[inline]
    pub fn locate(&self, x: f64, y: f64) -> Option<AreaId> {
        let g = &self.grid;
        let cx = (x - g.x0) * g.inv_cell;
        let cy = (y - g.y0) * g.inv_cell;
        if !(cx >= 0.0 && cy >= 0.0 && (cx as usize) < g.nx && (cy as usize) < g.ny) {
            return None;
        }
        let c = cy as usize * g.nx + cx as usize;
        match g.owner[c] {
            MIXED => {}
            EMPTY => return None,
            o => return Some(AreaId(o)),
        }
        let (a, b) = (g.cell_start[c] as usize, g.cell_start[c + 1] as usize);
        g.items[a..b]
            .iter()
            .find(|&&i| self.polys[i as usize].contains(x, y))
            .map(|&i| AreaId(i))
    }

    /// The area containing a point, through the R-tree (same answer as [`Self::locate`]).
    pub fn locate_rtree(&self, x: f64, y: f64) -> Option<AreaId> {
        self.rtree
            .locate_all_at_point(&[x, y])
            .map(|e| e.data)
            .filter(|&i| self.polys[i as usize].contains(x, y))
            .min()
            .map(AreaId)
    }

    /// Locate many points in parallel; `None` where a point is outside every area.
    ///
    /// Large batches are first bucketed by a coarse 64 × 64 grid (a counting
    /// sort), so that neighbouring points are located together while their
    /// grid cells and polygons are in cache; the answers come back in input order.
    pub fn locate_all(&self, xs: &[f64], ys: &[f64]) -> Vec<Option<AreaId>> {
        let n = xs.len().min(ys.len());
        if n < 65_536 || self.grid.nx == 0 {
            return xs[..n]
                .par_iter()
                .zip(ys[..n].par_iter())
                .with_min_len(4096)
                .map(|(&x, &y)| self.locate(x, y))
                .collect();
        }
        const B: usize = 128;
        let g = &self.grid;
        let (w, h) = (g.nx as f64 / g.inv_cell, g.ny as f64 / g.inv_cell);
        let (sx, sy) = (B as f64 / w, B as f64 / h);
        let bucket = |x: f64, y: f64| -> usize {
            let bx = (x - g.x0) * sx;
            let by = (y - g.y0) * sy;
            if bx >= 0.0 && by >= 0.0 && bx < B as f64 && by < B as f64 {
                by as usize * B + bx as usize
            } else {
                B * B // outside the grid: no area
            }
        };
        let keys: Vec<u16> = xs[..n]
            .par_iter()
            .zip(ys[..n].par_iter())
            .with_min_len(16_384)
            .map(|(&x, &y)| bucket(x, y) as u16)
            .collect();
        let mut start = vec![0u32; B * B + 2];
        for &k in &keys {
            start[k as usize + 1] += 1;
        }
        for i in 0..=B * B {
            start[i + 1] += start[i];
        }
        let inside = start[B * B] as usize;
        let mut fill = start.clone();
        let mut order = vec![0u32; n];
        let mut sorted = vec![[0.0f64; 2]; inside];
        for (i, &k) in keys.iter().enumerate() {
            let slot = fill[k as usize] as usize;
            fill[k as usize] += 1;
            order[slot] = i as u32;
            if slot < inside {
                sorted[slot] = [xs[i], ys[i]];
            }
        }
        let found: Vec<u32> = sorted
            .par_iter()
            .with_min_len(8192)
            .map(|p| self.locate(p[0], p[1]).map_or(u32::MAX, |a| a.0))
            .collect();
        let mut out = vec![None; n];
        for (slot, &a) in found.iter().enumerate() {
            if a != u32::MAX {
                out[order[slot] as usize] = Some(AreaId(a));
            }
        }
        out
    }

    /// Areas whose bounding box meets the window `[min_x, min_y, max_x, max_y]`, in id order.
    pub fn intersecting_bbox(&self, window: [f64; 4]) -> Vec<AreaId> {
        let env = AABB::from_corners([window[0], window[1]], [window[2], window[3]]);
        let mut ids: Vec<AreaId> = self
            .rtree
            .locate_in_envelope_intersecting(&env)
            .map(|e| AreaId(e.data))
            .collect();
        ids.sort_unstable();
        ids
    }
}

impl Grid {
    fn new(polys: &[PreparedPolygon]) -> Grid {
        let boxes: Vec<[f64; 4]> = polys
            .iter()
            .map(|p| p.bbox())
            .filter(|b| b[0] <= b[2])
            .collect();
        if boxes.is_empty() {
            return Grid {
                x0: 0.0,
                y0: 0.0,
                inv_cell: 0.0,
                nx: 0,
                ny: 0,
                cell_start: vec![0],
                items: Vec::new(),
                owner: vec![EMPTY],
            };
        }
        let x0 = boxes.iter().map(|b| b[0]).fold(f64::INFINITY, f64::min);
        let y0 = boxes.iter().map(|b| b[1]).fold(f64::INFINITY, f64::min);
        let x1 = boxes.iter().map(|b| b[2]).fold(f64::NEG_INFINITY, f64::max);
        let y1 = boxes.iter().map(|b| b[3]).fold(f64::NEG_INFINITY, f64::max);
        let (w, h) = ((x1 - x0).max(1e-9), (y1 - y0).max(1e-9));
        // Cells about the size of a typical (median) area box.
        let mut sizes: Vec<f64> = boxes
            .iter()
            .map(|b| ((b[2] - b[0]) * (b[3] - b[1])).sqrt())
            .collect();
        sizes.sort_by(f64::total_cmp);
        let median = sizes[sizes.len() / 2].max(1e-6);
        let mut cell = median * CELL_FRACTION;
        while (w / cell).ceil() * (h / cell).ceil() > MAX_CELLS as f64 {
            cell *= 1.25;
        }
        let nx = ((w / cell).ceil() as usize).max(1);
        let ny = ((h / cell).ceil() as usize).max(1);
        let inv_cell = 1.0 / cell;
        let range = |b: &[f64; 4]| {
            let cx0 = (((b[0] - x0) * inv_cell) as usize).min(nx - 1);
            let cy0 = (((b[1] - y0) * inv_cell) as usize).min(ny - 1);
            let cx1 = (((b[2] - x0) * inv_cell) as usize).min(nx - 1);
            let cy1 = (((b[3] - y0) * inv_cell) as usize).min(ny - 1);
            (cx0, cy0, cx1, cy1)
        };
        let mut counts = vec![0u32; nx * ny + 1];
        for p in polys {
            let b = p.bbox();
            if b[0] > b[2] {
                continue;
            }
            let (cx0, cy0, cx1, cy1) = range(&b);
            for cy in cy0..=cy1 {
                for c in &mut counts[cy * nx + cx0..=cy * nx + cx1] {
                    *c += 1;
                }
            }
        }
        let mut cell_start = vec![0u32; nx * ny + 1];
        for c in 0..nx * ny {
            cell_start[c + 1] = cell_start[c] + counts[c];
        }
        let mut fill = cell_start.clone();
        let mut items = vec![0u32; cell_start[nx * ny] as usize];
        for (i, p) in polys.iter().enumerate() {
            let b = p.bbox();
            if b[0] > b[2] {
                continue;
            }
            let (cx0, cy0, cx1, cy1) = range(&b);
            for cy in cy0..=cy1 {
                for cx in cx0..=cx1 {
                    let c = cy * nx + cx;
                    items[fill[c] as usize] = i as u32;
                    fill[c] += 1;
                }
            }
        }
        let owner = classify_cells(polys, x0, y0, cell, nx, ny, &cell_start);
        Grid {
            x0,
            y0,
            inv_cell,
            nx,
            ny,
            cell_start,
            items,
            owner,
        }
    }
}

/// Classify grid cells: a cell that no boundary edge touches lies wholly inside
/// the same areas as its centre, so its answer is stored once. Edges mark every
/// cell of their bounding box (widened by a millionth of a cell against
/// rounding); untouched cells get the lowest-id area whose interior holds the
/// cell centre, found by a scanline over each area's rows of cells.
fn classify_cells(
    polys: &[PreparedPolygon],
    x0: f64,
    y0: f64,
    cell: f64,
    nx: usize,
    ny: usize,
    cell_start: &[u32],
) -> Vec<u32> {
    let inv = 1.0 / cell;
    let eps = cell * 1e-6;
    let clamp_x = |v: f64| ((v - x0) * inv).floor().clamp(0.0, (nx - 1) as f64) as usize;
    let clamp_y = |v: f64| ((v - y0) * inv).floor().clamp(0.0, (ny - 1) as f64) as usize;
    let mut touched = vec![false; nx * ny];
    for p in polys {
        for e in p.boundary_edges() {
            let (cx0, cx1) = (clamp_x(e[0].min(e[2]) - eps), clamp_x(e[0].max(e[2]) + eps));
            let (cy0, cy1) = (clamp_y(e[1].min(e[3]) - eps), clamp_y(e[1].max(e[3]) + eps));
            for cy in cy0..=cy1 {
                for t in &mut touched[cy * nx + cx0..=cy * nx + cx1] {
                    *t = true;
                }
            }
        }
    }
    let mut owner = vec![MIXED; nx * ny];
    let mut xs = Vec::new();
    for (i, p) in polys.iter().enumerate() {
        let b = p.bbox();
        if b[0] > b[2] {
            continue;
        }
        for cy in clamp_y(b[1])..=clamp_y(b[3]) {
            let yc = y0 + (cy as f64 + 0.5) * cell;
            p.crossings(yc, &mut xs);
            if xs.len() % 2 != 0 {
                continue; // degenerate: leave these cells to the full test
            }
            for pair in xs.chunks_exact(2) {
                // Cells whose centre x lies in [pair[0], pair[1]).
                let first = ((pair[0] - x0) * inv - 0.5).ceil().max(0.0);
                let last = ((pair[1] - x0) * inv - 0.5).ceil() - 1.0;
                if last < first {
                    continue;
                }
                let (first, last) = (first as usize, (last as usize).min(nx - 1));
                for cx in first..=last {
                    let c = cy * nx + cx;
                    // The interval rule is `contains`' crossing rule at the centre;
                    // a centre within rounding of an edge lies in a touched cell.
                    if !touched[c] && owner[c] == MIXED {
                        owner[c] = i as u32;
                    }
                }
            }
        }
    }
    for c in 0..nx * ny {
        if !touched[c] && owner[c] == MIXED {
            owner[c] = EMPTY;
        }
        // A cell with no candidate is empty whatever it touches.
        if cell_start[c] == cell_start[c + 1] {
            owner[c] = EMPTY;
        }
    }
    owner
}
