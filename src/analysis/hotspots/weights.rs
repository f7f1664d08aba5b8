//! Spatial weights: a sparse `n × n` matrix `W` in compressed rows (each row
//! sorted by column), as PySAL's `libpysal.weights.W` holds it.
//!
//! - [`SpatialWeights::from_adjacency`]: binary contiguity (rook or queen)
//!   from [`Adjacency`] (`w_ij = 1` for neighbours);
//! - [`SpatialWeights::distance_band`]: binary, `w_ij = 1` where the
//!   distance between representative points is at most the threshold
//!   (libpysal `DistanceBand(binary=True)`), found through a uniform grid of
//!   threshold-sized cells;
//! - [`SpatialWeights::row_standardised`]: each row divided by its sum
//!   (libpysal `transform = "r"`); rows that sum to 0 (islands) stay empty;
//! - [`SpatialWeights::with_self`]: the diagonal set to a value (libpysal
//!   `fill_diagonal`), as Gi* needs.

use std::collections::HashMap;

use crate::analysis::boundaries::Adjacency;

/// A sparse spatial weights matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct SpatialWeights {
    start: Vec<usize>,
    columns: Vec<u32>,
    values: Vec<f64>,
}

impl SpatialWeights {
    /// From rows of `(column, weight)`; entries are sorted by column, zero
    /// weights and columns out of range dropped, duplicates summed.
    pub fn from_rows(rows: Vec<Vec<(u32, f64)>>) -> SpatialWeights {
        let n = rows.len();
        let mut start = Vec::with_capacity(n + 1);
        let mut columns = Vec::new();
        let mut values = Vec::new();
        start.push(0);
        for mut row in rows {
            row.retain(|&(j, w)| (j as usize) < n && w != 0.0 && w.is_finite());
            row.sort_by_key(|&(j, _)| j);
            let mut k = 0;
            while k < row.len() {
                let (j, mut w) = row[k];
                k += 1;
                while k < row.len() && row[k].0 == j {
                    w += row[k].1;
                    k += 1;
                }
                columns.push(j);
                values.push(w);
            }
            start.push(columns.len());
        }
        SpatialWeights {
            start,
            columns,
            values,
        }
    }

    /// Binary contiguity weights from an adjacency.
    pub fn from_adjacency(adj: &Adjacency) -> SpatialWeights {
        let rows = (0..adj.len())
            .map(|i| adj.neighbours(i).iter().map(|&j| (j, 1.0)).collect())
            .collect();
        SpatialWeights::from_rows(rows)
    }

    /// Binary distance-band weights: neighbours within `threshold_m` of each
    /// other (points with a non-finite coordinate have none).
    pub fn distance_band(points: &[[f64; 2]], threshold_m: f64) -> SpatialWeights {
        let n = points.len();
        if !(threshold_m.is_finite() && threshold_m > 0.0) {
            return SpatialWeights::from_rows(vec![Vec::new(); n]);
        }
        let cell = |p: [f64; 2]| {
            (
                (p[0] / threshold_m).floor() as i64,
                (p[1] / threshold_m).floor() as i64,
            )
        };
        let ok = |p: [f64; 2]| p[0].is_finite() && p[1].is_finite();
        let mut grid: HashMap<(i64, i64), Vec<u32>> = HashMap::new();
        for (i, &p) in points.iter().enumerate() {
            if ok(p) {
                grid.entry(cell(p)).or_default().push(i as u32);
            }
        }
        let t2 = threshold_m * threshold_m;
        let rows = points
            .iter()
            .enumerate()
            .map(|(i, &p)| {
                let mut row = Vec::new();
                if !ok(p) {
                    return row;
                }
                let (cx, cy) = cell(p);
                for dx in -1..=1 {
                    for dy in -1..=1 {
                        for &j in grid.get(&(cx + dx, cy + dy)).map_or(&[][..], |v| v) {
                            if j as usize == i {
                                continue;
                            }
                            let q = points[j as usize];
                            let d2 = (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2);
                            if d2 <= t2 {
                                row.push((j, 1.0));
                            }
                        }
                    }
                }
                row
            })
            .collect();
        SpatialWeights::from_rows(rows)
    }

    /// Number of areas (rows).
    pub fn len(&self) -> usize {
        self.start.len() - 1
    }

    /// True when there are no areas.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Columns and weights of row `i`.
    pub fn row(&self, i: usize) -> (&[u32], &[f64]) {
        let (a, b) = (self.start[i], self.start[i + 1]);
        (&self.columns[a..b], &self.values[a..b])
    }

    /// Number of non-zero entries in row `i` (the diagonal counts when set).
    pub fn cardinality(&self, i: usize) -> usize {
        self.start[i + 1] - self.start[i]
    }

    /// Sum of row `i`.
    pub fn row_sum(&self, i: usize) -> f64 {
        self.row(i).1.iter().sum()
    }

    /// Sum of squares of row `i`.
    pub fn row_sum_squares(&self, i: usize) -> f64 {
        self.row(i).1.iter().map(|w| w * w).sum()
    }

    /// Rows with no entry off the diagonal (areas with no neighbour).
    pub fn islands(&self) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| self.row(i).0.iter().all(|&j| j as usize == i))
            .collect()
    }

    /// Number of non-zero entries.
    pub fn nnz(&self) -> usize {
        self.columns.len()
    }

    /// Each row divided by its sum; empty and zero-sum rows stay as they are.
    pub fn row_standardised(&self) -> SpatialWeights {
        let mut values = self.values.clone();
        for i in 0..self.len() {
            let s = self.row_sum(i);
            if s != 0.0 {
                for v in &mut values[self.start[i]..self.start[i + 1]] {
                    *v /= s;
                }
            }
        }
        SpatialWeights {
            start: self.start.clone(),
            columns: self.columns.clone(),
            values,
        }
    }

    /// The same weights with the diagonal set to `value` (removed when 0).
    pub fn with_self(&self, value: f64) -> SpatialWeights {
        let rows = (0..self.len())
            .map(|i| {
                let (c, w) = self.row(i);
                let mut row: Vec<(u32, f64)> = c
                    .iter()
                    .zip(w)
                    .filter(|(&j, _)| j as usize != i)
                    .map(|(&j, &w)| (j, w))
                    .collect();
                row.push((i as u32, value));
                row
            })
            .collect();
        SpatialWeights::from_rows(rows)
    }

    /// The spatial lag `W·y`.
    pub fn lag(&self, y: &[f64]) -> Vec<f64> {
        (0..self.len())
            .map(|i| {
                let (c, w) = self.row(i);
                c.iter().zip(w).map(|(&j, &w)| w * y[j as usize]).sum()
            })
            .collect()
    }

    /// The weights among the areas `keep` (in that order): row and column
    /// `k` of the result is area `keep[k]`; links to areas left out are dropped.
    pub fn subset(&self, keep: &[usize]) -> SpatialWeights {
        let mut position = vec![u32::MAX; self.len()];
        for (k, &i) in keep.iter().enumerate() {
            position[i] = k as u32;
        }
        let rows = keep
            .iter()
            .map(|&i| {
                let (c, w) = self.row(i);
                c.iter()
                    .zip(w)
                    .filter(|(&j, _)| position[j as usize] != u32::MAX)
                    .map(|(&j, &w)| (position[j as usize], w))
                    .collect()
            })
            .collect();
        SpatialWeights::from_rows(rows)
    }

    /// Whether `W` equals its transpose (true of contiguity and distance bands).
    pub fn is_symmetric(&self) -> bool {
        (0..self.len()).all(|i| {
            let (c, w) = self.row(i);
            c.iter().zip(w).all(|(&j, &wij)| {
                let (cj, wj) = self.row(j as usize);
                cj.binary_search(&(i as u32))
                    .is_ok_and(|k| (wj[k] - wij).abs() <= 1e-12 * wij.abs())
            })
        })
    }

    /// Mean number of neighbours (off the diagonal).
    pub fn mean_neighbours(&self) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        let off: usize = (0..self.len())
            .map(|i| self.row(i).0.iter().filter(|&&j| j as usize != i).count())
            .sum();
        off as f64 / self.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_band_matches_brute_force() {
        let mut s = 12345u64;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64 * 10_000.0
        };
        let pts: Vec<[f64; 2]> = (0..400).map(|_| [next(), next()]).collect();
        let w = SpatialWeights::distance_band(&pts, 700.0);
        for i in 0..pts.len() {
            let want: Vec<u32> = (0..pts.len())
                .filter(|&j| {
                    j != i
                        && ((pts[i][0] - pts[j][0]).powi(2) + (pts[i][1] - pts[j][1]).powi(2))
                            .sqrt()
                            <= 700.0
                })
                .map(|j| j as u32)
                .collect();
            assert_eq!(w.row(i).0, &want[..]);
        }
        assert!(w.is_symmetric());
        let r = w.row_standardised();
        for i in 0..r.len() {
            if w.cardinality(i) > 0 {
                assert!((r.row_sum(i) - 1.0).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn self_weights_subsets_and_islands() {
        let w = SpatialWeights::from_rows(vec![vec![(1, 1.0)], vec![(0, 1.0)], vec![]]);
        assert_eq!(w.islands(), vec![2]);
        let s = w.with_self(1.0);
        assert_eq!(s.row(0), (&[0u32, 1][..], &[1.0, 1.0][..]));
        assert_eq!(s.row(2), (&[2u32][..], &[1.0][..]));
        assert_eq!(s.islands(), vec![2]);
        let sub = w.subset(&[1, 2]);
        assert_eq!(sub.len(), 2);
        assert_eq!(sub.nnz(), 0);
        assert_eq!(w.lag(&[3.0, 5.0, 7.0]), vec![5.0, 3.0, 0.0]);
    }
}
