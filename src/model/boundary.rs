//! Named boundary sets (wards, localities, team areas, catchments).

use geo::MultiPolygon;

use super::BoundaryUnitId;

/// One unit of a boundary set.
#[derive(Clone, Debug)]
pub struct BoundaryUnit {
    pub id: BoundaryUnitId,
    pub code: String,
    pub name: Option<String>,
    /// Polygons in British National Grid metres.
    pub geometry: MultiPolygon<f64>,
    pub geometry_wgs84: MultiPolygon<f64>,
}

/// A named set of polygons.
#[derive(Clone, Debug)]
pub struct BoundarySet {
    pub name: String,
    pub units: Vec<BoundaryUnit>,
}
