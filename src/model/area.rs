//! Small areas (for example 2011 data zones) with population and indicators.

use std::collections::BTreeMap;

use geo::MultiPolygon;

use super::AreaId;

/// SIMD position of an area. Rank 1 is the most deprived; decile and quintile 1
/// are the most deprived tenth and fifth.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Simd {
    pub rank: u32,
    pub decile: u8,
    pub quintile: u8,
}

/// One small area.
#[derive(Clone, Debug)]
pub struct Area {
    pub id: AreaId,
    /// The area code, unique within the atlas (for example `S01006506`).
    pub code: String,
    pub name: Option<String>,
    /// Polygons in British National Grid metres.
    pub geometry: MultiPolygon<f64>,
    /// Polygons in WGS84 lon/lat, as read (or transformed back) for output.
    pub geometry_wgs84: MultiPolygon<f64>,
    /// Resident population, where known.
    pub population: Option<f64>,
    pub simd: Option<Simd>,
    /// Numeric attributes and joined indicators by column name (`8%` is read as 8).
    pub numbers: BTreeMap<String, f64>,
    /// Text attributes by column name (names, parent codes).
    pub texts: BTreeMap<String, String>,
}

impl Area {
    /// The value of a text attribute, or of a numeric one written as text.
    pub fn attribute_text(&self, column: &str) -> Option<String> {
        if let Some(t) = self.texts.get(column) {
            return Some(t.clone());
        }
        self.numbers.get(column).map(|v| {
            if v.fract() == 0.0 && v.abs() < 1e15 {
                format!("{}", *v as i64)
            } else {
                format!("{v}")
            }
        })
    }
}
