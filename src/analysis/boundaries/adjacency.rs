//! Adjacency of small areas from their shared boundaries.
//!
//! Coordinates are snapped to a grid of `snap_m` metres (so that the same
//! vertex read twice through the same projection matches, and noise below the
//! snap does not split it), then:
//! - **rook**: two areas are neighbours when they share a boundary edge (the
//!   same two end vertices, in either direction);
//! - **queen**: when they share at least one vertex.
//!
//! Boundaries that share a line but not its vertices (a vertex of one lying
//! inside an edge of the other) are not matched; topology-preserving
//! generalisation, as in the SG data zones, keeps shared vertices shared.

use std::collections::VecDeque;

use geo::{BoundingRect, Centroid, MultiPolygon};

/// Which contact makes two areas neighbours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contiguity {
    /// A shared edge.
    Rook,
    /// A shared vertex.
    Queen,
}

/// Neighbour lists of `n` areas (compressed rows, sorted, symmetric).
#[derive(Clone, Debug, PartialEq)]
pub struct Adjacency {
    start: Vec<u32>,
    neighbours: Vec<u32>,
    /// A representative point per area (centroid, metres), used to link islands.
    pub centroids: Vec<[f64; 2]>,
}

impl Adjacency {
    /// Adjacency of polygons from shared edges (rook) or vertices (queen).
    pub fn from_polygons(
        geoms: &[&MultiPolygon<f64>],
        contiguity: Contiguity,
        snap_m: f64,
    ) -> Adjacency {
        let snap = if snap_m > 0.0 { snap_m } else { 1e-9 };
        let key = |x: f64, y: f64| ((x / snap).round() as i64, (y / snap).round() as i64);
        type Key = ((i64, i64), (i64, i64));
        let mut keys: Vec<(Key, u32)> = Vec::new();
        for (i, g) in geoms.iter().enumerate() {
            for poly in &g.0 {
                for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                    for w in ring.0.windows(2) {
                        let p = key(w[0].x, w[0].y);
                        match contiguity {
                            Contiguity::Queen => keys.push(((p, p), i as u32)),
                            Contiguity::Rook => {
                                let q = key(w[1].x, w[1].y);
                                if p != q {
                                    keys.push(((p.min(q), p.max(q)), i as u32));
                                }
                            }
                        }
                    }
                }
            }
        }
        keys.sort_unstable();
        keys.dedup();
        let mut pairs = Vec::new();
        let mut s = 0;
        while s < keys.len() {
            let mut e = s + 1;
            while e < keys.len() && keys[e].0 == keys[s].0 {
                e += 1;
            }
            for x in s..e {
                for y in x + 1..e {
                    pairs.push((keys[x].1, keys[y].1));
                }
            }
            s = e;
        }
        let centroids = geoms
            .iter()
            .map(|g| {
                g.centroid()
                    .map(|c| [c.x(), c.y()])
                    .or_else(|| g.bounding_rect().map(|r| [r.center().x, r.center().y]))
                    .unwrap_or([0.0, 0.0])
            })
            .collect();
        Adjacency::from_pairs(geoms.len(), &pairs, centroids)
    }

    /// Adjacency from undirected pairs (duplicates and self-pairs ignored).
    pub fn from_pairs(n: usize, pairs: &[(u32, u32)], centroids: Vec<[f64; 2]>) -> Adjacency {
        let mut all: Vec<(u32, u32)> = pairs
            .iter()
            .filter(|(a, b)| a != b && (*a as usize) < n && (*b as usize) < n)
            .flat_map(|&(a, b)| [(a, b), (b, a)])
            .collect();
        all.sort_unstable();
        all.dedup();
        let mut start = vec![0u32; n + 1];
        for &(a, _) in &all {
            start[a as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut centroids = centroids;
        centroids.resize(n, [0.0, 0.0]);
        Adjacency {
            start,
            neighbours: all.into_iter().map(|(_, b)| b).collect(),
            centroids,
        }
    }

    /// The same adjacency with extra links (for example bridges to islands).
    pub fn with_links(&self, links: &[(u32, u32)]) -> Adjacency {
        let mut pairs: Vec<(u32, u32)> = (0..self.len())
            .flat_map(|i| self.neighbours(i).iter().map(move |&j| (i as u32, j)))
            .collect();
        pairs.extend_from_slice(links);
        Adjacency::from_pairs(self.len(), &pairs, self.centroids.clone())
    }

    /// Number of areas.
    pub fn len(&self) -> usize {
        self.start.len() - 1
    }

    /// True when there are no areas.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Neighbours of area `i`, sorted.
    pub fn neighbours(&self, i: usize) -> &[u32] {
        &self.neighbours[self.start[i] as usize..self.start[i + 1] as usize]
    }

    /// Number of neighbour pairs.
    pub fn pairs(&self) -> usize {
        self.neighbours.len() / 2
    }

    /// Connected components of the subgraph on `members` (each sorted; the
    /// list sorted by first member).
    pub fn components(&self, members: &[u32]) -> Vec<Vec<u32>> {
        let mut inside = vec![false; self.len()];
        for &m in members {
            inside[m as usize] = true;
        }
        let mut seen = vec![false; self.len()];
        let mut sorted = members.to_vec();
        sorted.sort_unstable();
        let mut out = Vec::new();
        let mut queue = VecDeque::new();
        for &m in &sorted {
            if seen[m as usize] {
                continue;
            }
            let mut comp = vec![m];
            seen[m as usize] = true;
            queue.push_back(m);
            while let Some(x) = queue.pop_front() {
                for &y in self.neighbours(x as usize) {
                    if inside[y as usize] && !seen[y as usize] {
                        seen[y as usize] = true;
                        comp.push(y);
                        queue.push_back(y);
                    }
                }
            }
            comp.sort_unstable();
            out.push(comp);
        }
        out
    }

    /// Whether `members` form one connected piece (true when empty).
    pub fn is_connected(&self, members: &[u32]) -> bool {
        self.components(members).len() <= 1
    }
}
