//! Vector-tile geometry: polygons in Web Mercator, simplified once per zoom
//! level, found through an R-tree, clipped to a buffered tile and quantised to
//! tile coordinates (extent 4096, y down) with Mapbox Vector Tile winding
//! (exterior rings positive area, holes negative).

use geo::{BoundingRect, Coord, LineString, MultiPolygon, Polygon, Simplify};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

/// Tile coordinate extent.
pub const EXTENT: i32 = 4096;
/// Buffer around a tile, in tile units, kept so that outlines meet across tiles.
pub const BUFFER: i32 = 64;
/// Highest zoom with its own simplified geometry; deeper zooms reuse it (clipped).
pub const MAX_PREPARED_ZOOM: u8 = 14;
/// Highest zoom served.
pub const MAX_ZOOM: u8 = 22;

const EARTH_RADIUS_M: f64 = 6_378_137.0;
const HALF_WORLD_M: f64 = std::f64::consts::PI * EARTH_RADIUS_M;

/// WGS84 lon/lat to Web Mercator metres (EPSG:3857); latitude clamped to ±85.05°.
pub fn lonlat_to_mercator(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-85.051_128_78, 85.051_128_78);
    let x = EARTH_RADIUS_M * lon.to_radians();
    let y = EARTH_RADIUS_M
        * (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
            .tan()
            .ln();
    (x, y)
}

/// Web Mercator bounds of tile z/x/y: `[min_x, min_y, max_x, max_y]` in metres.
pub fn tile_bounds(z: u8, x: u32, y: u32) -> [f64; 4] {
    let w = 2.0 * HALF_WORLD_M / f64::from(1u32 << z);
    let min_x = -HALF_WORLD_M + f64::from(x) * w;
    let max_y = HALF_WORLD_M - f64::from(y) * w;
    [min_x, max_y - w, min_x + w, max_y]
}

/// True when z/x/y names a tile.
pub fn valid_tile(z: u8, x: u32, y: u32) -> bool {
    z <= MAX_ZOOM && u64::from(x) < (1u64 << z) && u64::from(y) < (1u64 << z)
}

/// Polygons of one layer prepared for tiling.
pub struct TileGeometry {
    /// `levels[z][feature]`: Web Mercator polygons simplified for zoom z.
    levels: Vec<Vec<MultiPolygon<f64>>>,
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, u32>>,
}

/// One clipped, quantised polygon feature: rings in tile coordinates, closed
/// implicitly (the last point is not repeated), exterior rings first in each group.
#[derive(Clone, Debug, PartialEq)]
pub struct TilePolygon {
    pub feature: u32,
    pub rings: Vec<Vec<[i32; 2]>>,
}

fn to_mercator(mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    let ring = |ls: &LineString<f64>| {
        LineString(
            ls.0.iter()
                .map(|c| {
                    let (x, y) = lonlat_to_mercator(c.x, c.y);
                    Coord { x, y }
                })
                .collect(),
        )
    };
    MultiPolygon(
        mp.0.iter()
            .map(|p| Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect()))
            .collect(),
    )
}

impl TileGeometry {
    /// Prepare WGS84 polygons (feature `i` is `polys[i]`).
    pub fn new(polys_wgs84: &[&MultiPolygon<f64>]) -> TileGeometry {
        let full: Vec<MultiPolygon<f64>> = polys_wgs84.par_iter().map(|p| to_mercator(p)).collect();
        let entries = full
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                p.bounding_rect().map(|r| {
                    GeomWithData::new(
                        Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                        i as u32,
                    )
                })
            })
            .collect();
        let tree = RTree::bulk_load(entries);
        let levels = (0..=MAX_PREPARED_ZOOM)
            .map(|z| {
                // Half a tile unit at this zoom.
                let tol = 2.0 * HALF_WORLD_M / f64::from(1u32 << z) / f64::from(EXTENT) * 0.5;
                full.par_iter().map(|p| p.simplify(tol)).collect()
            })
            .collect();
        TileGeometry { levels, tree }
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.levels.first().map_or(0, Vec::len)
    }

    /// True when there are no features.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Clipped, quantised polygons meeting tile z/x/y, in feature order.
    pub fn tile(&self, z: u8, x: u32, y: u32) -> Vec<TilePolygon> {
        let b = tile_bounds(z, x, y);
        let w = b[2] - b[0];
        let scale = f64::from(EXTENT) / w;
        let pad = f64::from(BUFFER) / scale;
        let env = AABB::from_corners([b[0] - pad, b[1] - pad], [b[2] + pad, b[3] + pad]);
        let mut ids: Vec<u32> = self
            .tree
            .locate_in_envelope_intersecting(&env)
            .map(|e| e.data)
            .collect();
        ids.sort_unstable();
        let level = &self.levels[usize::from(z.min(MAX_PREPARED_ZOOM))];
        let lo = -f64::from(BUFFER);
        let hi = f64::from(EXTENT + BUFFER);
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let mp = &level[id as usize];
            let mut rings = Vec::new();
            for poly in &mp.0 {
                let mut first = true;
                for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                    let pts: Vec<[f64; 2]> = ring
                        .0
                        .iter()
                        .map(|c| [(c.x - b[0]) * scale, (b[3] - c.y) * scale])
                        .collect();
                    let clipped = clip_ring(&pts, lo, hi);
                    let q = quantise(&clipped);
                    if q.len() < 3 {
                        if first {
                            break; // exterior gone: skip its holes too
                        }
                        continue;
                    }
                    let area = signed_area(&q);
                    if area == 0 {
                        if first {
                            break;
                        }
                        continue;
                    }
                    // Exterior positive, holes negative (y down in tile space).
                    let want_positive = first;
                    let mut q = q;
                    if (area > 0) != want_positive {
                        q.reverse();
                    }
                    rings.push(q);
                    first = false;
                }
            }
            if !rings.is_empty() {
                out.push(TilePolygon { feature: id, rings });
            }
        }
        out
    }
}

/// Sutherland–Hodgman clip of a closed ring (first point may repeat at the end) to a square.
fn clip_ring(pts: &[[f64; 2]], lo: f64, hi: f64) -> Vec<[f64; 2]> {
    let mut ring: Vec<[f64; 2]> = pts.to_vec();
    if ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    // Fast path: wholly inside.
    if ring
        .iter()
        .all(|p| p[0] >= lo && p[0] <= hi && p[1] >= lo && p[1] <= hi)
    {
        return ring;
    }
    for edge in 0..4 {
        if ring.is_empty() {
            break;
        }
        let inside = |p: &[f64; 2]| match edge {
            0 => p[0] >= lo,
            1 => p[0] <= hi,
            2 => p[1] >= lo,
            _ => p[1] <= hi,
        };
        let cross = |a: &[f64; 2], b: &[f64; 2]| -> [f64; 2] {
            let (k, v) = match edge {
                0 => (0, lo),
                1 => (0, hi),
                2 => (1, lo),
                _ => (1, hi),
            };
            let t = (v - a[k]) / (b[k] - a[k]);
            let mut p = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
            p[k] = v;
            p
        };
        let input = std::mem::take(&mut ring);
        let n = input.len();
        for i in 0..n {
            let cur = &input[i];
            let prev = &input[(i + n - 1) % n];
            match (inside(prev), inside(cur)) {
                (true, true) => ring.push(*cur),
                (true, false) => ring.push(cross(prev, cur)),
                (false, true) => {
                    ring.push(cross(prev, cur));
                    ring.push(*cur);
                }
                (false, false) => {}
            }
        }
    }
    ring
}

fn quantise(pts: &[[f64; 2]]) -> Vec<[i32; 2]> {
    let mut out: Vec<[i32; 2]> = Vec::with_capacity(pts.len());
    for p in pts {
        let q = [p[0].round() as i32, p[1].round() as i32];
        if out.last() != Some(&q) {
            out.push(q);
        }
    }
    while out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    out
}

/// Twice the signed area (shoelace) of an implicitly closed ring.
fn signed_area(r: &[[i32; 2]]) -> i64 {
    let n = r.len();
    let mut s = 0i64;
    for i in 0..n {
        let (a, b) = (r[i], r[(i + 1) % n]);
        s += i64::from(a[0]) * i64::from(b[1]) - i64::from(b[0]) * i64::from(a[1]);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn tile_bounds_cover_the_world() {
        let b = tile_bounds(0, 0, 0);
        assert!((b[0] + HALF_WORLD_M).abs() < 1e-6 && (b[3] - HALF_WORLD_M).abs() < 1e-6);
        let (x, y) = lonlat_to_mercator(0.0, 0.0);
        assert!(x.abs() < 1e-9 && y.abs() < 1e-9);
    }

    #[test]
    fn square_clips_and_winds() {
        // A square around Edinburgh, tile at z10 containing it.
        let p = polygon![(x: -3.3, y: 55.9), (x: -3.1, y: 55.9), (x: -3.1, y: 56.0), (x: -3.3, y: 56.0), (x: -3.3, y: 55.9)];
        let mp = MultiPolygon(vec![p]);
        let g = TileGeometry::new(&[&mp]);
        // z10 tile of lon -3.2, lat 55.95: x = floor((lon+180)/360*2^10).
        let n = 1024.0f64;
        let tx = ((-3.2 + 180.0) / 360.0 * n).floor() as u32;
        let lat = 55.95f64.to_radians();
        let ty = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n)
            .floor() as u32;
        let t = g.tile(10, tx, ty);
        assert_eq!(t.len(), 1);
        assert!(signed_area(&t[0].rings[0]) > 0);
        for p in &t[0].rings[0] {
            assert!(
                p[0] >= -BUFFER
                    && p[0] <= EXTENT + BUFFER
                    && p[1] >= -BUFFER
                    && p[1] <= EXTENT + BUFFER
            );
        }
        assert!(g.tile(10, tx + 5, ty).is_empty());
    }
}
