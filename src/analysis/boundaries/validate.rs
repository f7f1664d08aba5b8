//! Geometry checks run before an overlay.
//!
//! Problems that make a geometry unusable (non-finite coordinates, a ring with
//! fewer than 4 positions, an unclosed ring, zero area) exclude it from the
//! overlay. Problems that leave an area to measure (rings crossing themselves
//! or each other, rings overlapping along a line, holes outside their shell,
//! parts inside other parts) are reported and the geometry is still overlaid,
//! through the isolated clipping path. The ring checks test the edge pairs
//! whose boxes meet, found with the box tree of [`super::edges`] (the same
//! one the overlay then uses), with exact orientation predicates (`geo`'s own
//! `Validation` took 280 ms on the 6,976 data zones, too slow to run on every
//! overlay; an earlier sweep over x took about 25 ms, the tree about 10 ms on
//! one thread); rings touching at single points are allowed, as OGC allows.

use geo::algorithm::kernels::{Kernel, Orientation, RobustKernel};
use geo::{Area as _, Coord, MultiPolygon};
use rayon::prelude::*;

use super::edges::{box_meet, boxes_meet, edge_box, RingEdges, FAN};

/// What is wrong with a geometry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProblemKind {
    /// NaN or infinite coordinate.
    NonFinite,
    /// A ring with fewer than 4 positions (3 distinct and the closing one).
    TooFewPoints,
    /// A ring whose first and last positions differ.
    Unclosed,
    /// No polygon, or zero area.
    ZeroArea,
    /// A ring crosses itself or another ring, rings overlap along a line, a
    /// hole lies outside its shell, or a part lies inside another.
    Invalid,
}

/// One problem with one geometry of a layer.
#[derive(Clone, Debug, PartialEq)]
pub struct GeometryProblem {
    /// Position of the geometry in its layer.
    pub index: u32,
    pub kind: ProblemKind,
    /// Human-readable detail (the first problem found).
    pub detail: String,
    /// True when the geometry is left out of the overlay.
    pub excluded: bool,
}

/// Check one geometry; `None` when it is valid.
pub fn check(index: u32, mp: &MultiPolygon<f64>) -> Option<GeometryProblem> {
    match usable_area(index, mp) {
        Err(p) => Some(p),
        Ok(_) => check_rings(index, mp, &RingEdges::new(mp)),
    }
}

/// The checks that make a geometry unusable (empty, non-finite, too few
/// positions, unclosed, zero area): its area, or the problem.
pub(crate) fn usable_area(index: u32, mp: &MultiPolygon<f64>) -> Result<f64, GeometryProblem> {
    let bad = |kind, detail: String| GeometryProblem {
        index,
        kind,
        detail,
        excluded: true,
    };
    if mp.0.is_empty() {
        return Err(bad(ProblemKind::ZeroArea, "no polygon".into()));
    }
    for (pi, poly) in mp.0.iter().enumerate() {
        for (ri, ring) in std::iter::once(poly.exterior())
            .chain(poly.interiors())
            .enumerate()
        {
            let which = || {
                if ri == 0 {
                    format!("outer ring of polygon {pi}")
                } else {
                    format!("hole {ri} of polygon {pi}")
                }
            };
            if let Some(c) = ring.0.iter().find(|c| !c.x.is_finite() || !c.y.is_finite()) {
                return Err(bad(
                    ProblemKind::NonFinite,
                    format!("{} has a non-finite coordinate ({}, {})", which(), c.x, c.y),
                ));
            }
            if ring.0.len() < 4 {
                return Err(bad(
                    ProblemKind::TooFewPoints,
                    format!("{} has {} positions", which(), ring.0.len()),
                ));
            }
            if ring.0.first() != ring.0.last() {
                return Err(bad(
                    ProblemKind::Unclosed,
                    format!("{} is not closed", which()),
                ));
            }
        }
    }
    let area = mp.unsigned_area();
    if area.is_nan() || area <= 0.0 {
        return Err(bad(ProblemKind::ZeroArea, format!("area {area} m²")));
    }
    Ok(area)
}

/// The ring checks of a usable geometry, with its edges prepared: `None` when valid.
pub(crate) fn check_rings(
    index: u32,
    mp: &MultiPolygon<f64>,
    edges: &RingEdges,
) -> Option<GeometryProblem> {
    ring_contacts(mp, edges).map(|detail| GeometryProblem {
        index,
        kind: ProblemKind::Invalid,
        detail,
        excluded: false,
    })
}

/// Crossing-number test of a point against one closed ring.
fn in_ring(ring: &[Coord<f64>], x: f64, y: f64) -> bool {
    let mut inside = false;
    for w in ring.windows(2) {
        let (a, b) = (w[0], w[1]);
        if (a.y > y) != (b.y > y) && x < a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y) {
            inside = !inside;
        }
    }
    inside
}

/// `in_ring` behind a box test (a point outside the ring's box is outside).
fn in_ring_boxed(ring: &[Coord<f64>], bbox: &[f64; 4], c: Coord<f64>) -> bool {
    c.x >= bbox[0] && c.x <= bbox[2] && c.y >= bbox[1] && c.y <= bbox[3] && in_ring(ring, c.x, c.y)
}

/// Whether edges `i` and `j` (`i != j`) follow one another in their ring
/// (they share a vertex by construction, which is not a contact).
fn consecutive(e: &RingEdges, i: usize, j: usize) -> bool {
    let r = e.edge_ring[i];
    if r != e.edge_ring[j] {
        return false;
    }
    let ring = &e.rings[r as usize];
    let d = i.abs_diff(j);
    d <= 1 || d == ring.end - ring.start - 1
}

/// Rings that cross or overlap along a line (themselves, each other, or
/// across parts), holes outside their shell, and parts inside other parts.
/// Rings touching at single points are allowed (as OGC allows). Edge pairs
/// come from the box tree: each leaf against the leaves from it onwards.
fn ring_contacts(mp: &MultiPolygon<f64>, e: &RingEdges) -> Option<String> {
    let ring_box = |pi: usize, ri: usize| -> &[f64; 4] {
        let k = e
            .rings
            .partition_point(|r| (r.part as usize, r.ring as usize) < (pi, ri));
        &e.rings[k].bbox
    };
    for (pi, poly) in mp.0.iter().enumerate() {
        for (hi, hole) in poly.interiors().iter().enumerate() {
            let c = hole.0[0];
            let on_shell = poly.exterior().0.contains(&c);
            if !on_shell && !in_ring_boxed(&poly.exterior().0, ring_box(pi, 0), c) {
                return Some(format!(
                    "hole {} of polygon {pi} lies outside its shell",
                    hi + 1
                ));
            }
        }
    }
    let mut found: Option<(usize, usize, &'static str)> = None;
    for la in 0..e.leaf_count() {
        let complete = e.visit_leaves_from(la, e.leaf_box(la), &mut |lb| {
            let both = box_meet(e.leaf_box(la), e.leaf_box(lb));
            for i in e.leaf_edges(la) {
                let bi = edge_box(&e.edges[i]);
                if !boxes_meet(&bi, &both) {
                    continue;
                }
                let from = if la == lb { i + 1 } else { lb * FAN };
                for j in from..e.leaf_edges(lb).end {
                    if !boxes_meet(&bi, &edge_box(&e.edges[j])) || consecutive(e, i, j) {
                        continue;
                    }
                    if let Some(kind) = line_contact(&e.edges[i], &e.edges[j]) {
                        found = Some((i, j, kind));
                        return false;
                    }
                }
            }
            true
        });
        if !complete {
            break;
        }
    }
    if let Some((i, j, kind)) = found {
        let (ri, rj) = (
            &e.rings[e.edge_ring[i] as usize],
            &e.rings[e.edge_ring[j] as usize],
        );
        return Some(format!(
            "ring {} of polygon {} and ring {} of polygon {} {kind} near ({:.3}, {:.3})",
            ri.ring, ri.part, rj.ring, rj.part, e.edges[i][0], e.edges[i][1]
        ));
    }
    // Parts inside other parts (without crossing).
    for (i, p) in mp.0.iter().enumerate() {
        let c = p.exterior().0[0];
        for (j, q) in mp.0.iter().enumerate() {
            if i != j
                && !q.exterior().0.contains(&c)
                && in_ring_boxed(&q.exterior().0, ring_box(j, 0), c)
                && !q.interiors().iter().any(|h| in_ring(&h.0, c.x, c.y))
            {
                return Some(format!("polygon {i} lies inside polygon {j}"));
            }
        }
    }
    None
}

/// `Some("cross")` for a proper crossing, `Some("overlap along a line")` for
/// collinear overlap of positive length; `None` for no contact or a point touch.
fn line_contact(e: &[f64; 4], f: &[f64; 4]) -> Option<&'static str> {
    let (p1, p2) = (Coord { x: e[0], y: e[1] }, Coord { x: e[2], y: e[3] });
    let (q1, q2) = (Coord { x: f[0], y: f[1] }, Coord { x: f[2], y: f[3] });
    let o = |a, b, c| RobustKernel::orient2d(a, b, c);
    let (o1, o2, o3, o4) = (o(p1, p2, q1), o(p1, p2, q2), o(q1, q2, p1), o(q1, q2, p2));
    use Orientation::Collinear;
    if o1 != Collinear && o2 != Collinear && o3 != Collinear && o4 != Collinear {
        return (o1 != o2 && o3 != o4).then_some("cross");
    }
    if o1 == Collinear && o2 == Collinear {
        // Collinear: overlap length along the dominant axis.
        let (a0, a1, b0, b1) = if (e[2] - e[0]).abs() >= (e[3] - e[1]).abs() {
            (
                e[0].min(e[2]),
                e[0].max(e[2]),
                f[0].min(f[2]),
                f[0].max(f[2]),
            )
        } else {
            (
                e[1].min(e[3]),
                e[1].max(e[3]),
                f[1].min(f[3]),
                f[1].max(f[3]),
            )
        };
        return (a1.min(b1) > a0.max(b0)).then_some("overlap along a line");
    }
    None
}

/// Check every geometry of a layer (in parallel); problems sorted by index.
pub fn validate_layer(geoms: &[&MultiPolygon<f64>]) -> Vec<GeometryProblem> {
    geoms
        .par_iter()
        .enumerate()
        .filter_map(|(i, g)| check(i as u32, g))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, Polygon};

    /// The earlier sweep over x (every edge against the active edges), kept
    /// as the reference for the box-tree search.
    fn sweep_contacts(mp: &MultiPolygon<f64>) -> Option<String> {
        // (part, ring, edge index, ring edge count, edge)
        let mut edges: Vec<(usize, usize, usize, usize, [f64; 4])> = Vec::new();
        for (pi, poly) in mp.0.iter().enumerate() {
            for (ri, ring) in std::iter::once(poly.exterior())
                .chain(poly.interiors())
                .enumerate()
            {
                let n = ring.0.len() - 1;
                for (k, w) in ring.0.windows(2).enumerate() {
                    edges.push((pi, ri, k, n, [w[0].x, w[0].y, w[1].x, w[1].y]));
                }
            }
            for (hi, hole) in poly.interiors().iter().enumerate() {
                let c = hole.0[0];
                let on_shell = poly.exterior().0.contains(&c);
                if !on_shell && !in_ring(&poly.exterior().0, c.x, c.y) {
                    return Some(format!(
                        "hole {} of polygon {pi} lies outside its shell",
                        hi + 1
                    ));
                }
            }
        }
        let minx = |e: &[f64; 4]| e[0].min(e[2]);
        edges.sort_by(|a, b| minx(&a.4).total_cmp(&minx(&b.4)));
        let mut active: Vec<usize> = Vec::new();
        for i in 0..edges.len() {
            let (pi, ri, ki, ni, e) = edges[i];
            let x0 = minx(&e);
            active.retain(|&j| edges[j].4[0].max(edges[j].4[2]) >= x0);
            for &j in &active {
                let (pj, rj, kj, _, f) = edges[j];
                if pi == pj && ri == rj {
                    let d = ki.abs_diff(kj);
                    if d <= 1 || d == ni - 1 {
                        continue; // consecutive edges share their vertex
                    }
                }
                if e[1].min(e[3]) > f[1].max(f[3]) || f[1].min(f[3]) > e[1].max(e[3]) {
                    continue;
                }
                if let Some(kind) = line_contact(&e, &f) {
                    return Some(format!(
                        "ring {ri} of polygon {pi} and ring {rj} of polygon {pj} {kind} near ({:.3}, {:.3})",
                        e[0], e[1]
                    ));
                }
            }
            active.push(i);
        }
        // Parts inside other parts (without crossing).
        for (i, p) in mp.0.iter().enumerate() {
            let c = p.exterior().0[0];
            for (j, q) in mp.0.iter().enumerate() {
                if i != j
                    && !q.exterior().0.contains(&c)
                    && in_ring(&q.exterior().0, c.x, c.y)
                    && !q.interiors().iter().any(|h| in_ring(&h.0, c.x, c.y))
                {
                    return Some(format!("polygon {i} lies inside polygon {j}"));
                }
            }
        }
        None
    }

    /// Seeded ring around a centre, with jitter large enough that some cross.
    fn ring(seed: &mut u64, cx: f64, cy: f64, r: f64, n: usize, wild: f64) -> LineString<f64> {
        let mut next = || {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (*seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut pts: Vec<(f64, f64)> = (0..n)
            .map(|k| {
                let t = (k as f64 + wild * (next() - 0.5)) / n as f64 * std::f64::consts::TAU;
                let rr = r * (0.4 + 0.6 * next());
                // Snap to a coarse grid so collinear overlaps and touches occur.
                ((cx + rr * t.cos()).round(), (cy + rr * t.sin()).round())
            })
            .collect();
        pts.push(pts[0]);
        pts.into()
    }

    #[test]
    fn box_tree_search_agrees_with_the_sweep() {
        let mut seed = 42u64;
        let (mut valid, mut invalid) = (0, 0);
        for case in 0..400 {
            let wild = [0.0, 1.0, 3.0][case % 3];
            let n = 5 + case % 60;
            let mut polys = vec![Polygon::new(
                ring(&mut seed, 0.0, 0.0, 100.0, n, wild),
                if case % 4 == 0 {
                    vec![ring(&mut seed, 5.0, 0.0, 30.0, 6, wild)]
                } else {
                    vec![]
                },
            )];
            if case % 5 == 0 {
                polys.push(Polygon::new(
                    ring(&mut seed, 150.0, 20.0, 60.0, n, wild),
                    vec![],
                ));
            }
            let mp = MultiPolygon(polys);
            if usable_area(0, &mp).is_err() {
                continue;
            }
            let ours = ring_contacts(&mp, &RingEdges::new(&mp));
            let reference = sweep_contacts(&mp);
            assert_eq!(
                ours.is_some(),
                reference.is_some(),
                "case {case}: {ours:?} vs {reference:?}"
            );
            if ours.is_some() {
                invalid += 1;
            } else {
                valid += 1;
            }
        }
        assert!(
            valid > 50 && invalid > 50,
            "{valid} valid, {invalid} invalid"
        );
    }
}
