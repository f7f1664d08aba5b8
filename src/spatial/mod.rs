//! Spatial machinery: CRS transforms, the area index (R-tree plus prepared,
//! edge-indexed polygons for fast point location) and the road network.

pub mod crs;
pub mod index;
pub mod network;
pub mod prepared;
pub mod tiles;

pub use crs::{Crs, CrsError};
pub use index::AreaIndex;
pub use network::{RoadLine, RoadNetwork};
pub use prepared::PreparedPolygon;
