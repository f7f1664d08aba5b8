//! Dissolve small areas into the polygons of proposed units.
//!
//! Uses `geo`'s unary union (shared edges removed) inside `catch_unwind`; if
//! the union panics, the unit's polygon is the plain collection of its areas'
//! polygons (not dissolved) and the result says so.

use std::panic::{catch_unwind, AssertUnwindSafe};

use geo::{unary_union, MultiPolygon, Polygon};

use super::designer::Design;

/// A dissolved unit.
#[derive(Clone, Debug, PartialEq)]
pub struct Dissolved {
    pub geometry: MultiPolygon<f64>,
    /// False when the union failed and `geometry` is the undissolved parts.
    pub dissolved: bool,
}

/// Dissolve the areas `members` of `geoms` into one multipolygon.
pub fn dissolve(geoms: &[&MultiPolygon<f64>], members: &[u32]) -> Dissolved {
    let polys: Vec<&Polygon<f64>> = members
        .iter()
        .flat_map(|&m| geoms[m as usize].0.iter())
        .collect();
    match catch_unwind(AssertUnwindSafe(|| unary_union(polys.iter().copied()))) {
        Ok(geometry) => Dissolved {
            geometry,
            dissolved: true,
        },
        Err(_) => Dissolved {
            geometry: MultiPolygon(polys.into_iter().cloned().collect()),
            dissolved: false,
        },
    }
}

/// Dissolve every unit of a design, in unit order (in parallel).
pub fn dissolve_units(geoms: &[&MultiPolygon<f64>], design: &Design) -> Vec<Dissolved> {
    use rayon::prelude::*;
    design
        .units
        .par_iter()
        .map(|u| dissolve(geoms, &u.areas))
        .collect()
}
