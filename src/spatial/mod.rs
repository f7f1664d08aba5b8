//! Spatial machinery: CRS transforms and the area index (R-tree plus prepared,
//! edge-indexed polygons for fast point location).

pub mod crs;
pub mod index;
pub mod prepared;
pub mod tiles;

pub use crs::{Crs, CrsError};
pub use index::AreaIndex;
pub use prepared::PreparedPolygon;
