//! A vector layer read from GeoJSON or Shapefile, before projection: features
//! with raw coordinates in the source CRS and typed properties.
//! [`polygons_to_working`] and [`point_to_working`] validate and project them.

use std::collections::BTreeMap;
use std::path::Path;

use geo::{Coord, LineString, MultiPolygon, Polygon, Validation};

use super::report::Report;
use crate::spatial::crs::{Crs, ToWorking};

/// A coordinate pair.
pub type Xy = (f64, f64);

/// A polygon in the working CRS and the same in WGS84.
pub type ProjectedPolygons = (MultiPolygon<f64>, MultiPolygon<f64>);

/// A property value.
#[derive(Clone, Debug, PartialEq)]
pub enum PropValue {
    Null,
    Bool(bool),
    Num(f64),
    Text(String),
}

impl PropValue {
    /// The value as text (numbers without a trailing `.0`); `None` for null.
    pub fn as_text(&self) -> Option<String> {
        match self {
            PropValue::Null => None,
            PropValue::Bool(b) => Some(b.to_string()),
            PropValue::Num(v) => Some(if v.fract() == 0.0 && v.abs() < 1e15 {
                format!("{}", *v as i64)
            } else {
                v.to_string()
            }),
            PropValue::Text(s) => {
                let t = s.trim();
                if t.is_empty() {
                    None
                } else {
                    Some(t.to_string())
                }
            }
        }
    }

    /// The value as a number: numbers, and text such as `12`, `8%` or `1,234`.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            PropValue::Num(v) if v.is_finite() => Some(*v),
            PropValue::Text(s) => super::table::parse_number(s),
            _ => None,
        }
    }
}

/// Raw geometry in the source CRS.
#[derive(Clone, Debug, PartialEq)]
pub enum RawGeometry {
    Point(f64, f64),
    /// Polygons, each a list of rings (outer first), each a list of positions.
    Polygons(Vec<Vec<Vec<(f64, f64)>>>),
    /// Line strings.
    Lines(Vec<Vec<(f64, f64)>>),
}

/// One feature.
#[derive(Clone, Debug)]
pub struct Feature {
    /// 0-based position in the file.
    pub index: usize,
    pub geometry: Option<RawGeometry>,
    pub properties: BTreeMap<String, PropValue>,
}

/// A layer read from a file.
#[derive(Clone, Debug)]
pub struct VectorLayer {
    /// The CRS the file declares (GeoJSON is WGS84 unless a legacy `crs` member says
    /// otherwise; a Shapefile's comes from its `.prj`, and is `None` without one).
    pub declared_crs: Option<Crs>,
    pub features: Vec<Feature>,
}

impl VectorLayer {
    /// Property names present in any feature.
    pub fn columns(&self) -> Vec<String> {
        let mut set = std::collections::BTreeSet::new();
        for f in &self.features {
            set.extend(f.properties.keys().cloned());
        }
        set.into_iter().collect()
    }
}

/// Read a GeoJSON (`.geojson`, `.json`) or ESRI Shapefile (`.shp`) layer.
/// File-level problems go into `report` as errors and give `None`.
pub fn read_vector(path: &Path, display: &str, report: &mut Report) -> Option<VectorLayer> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "geojson" | "json" => super::geojson::read_geojson(path, display, report),
        "shp" => super::shapefile::read_shapefile(path, display, report),
        other => {
            report.error(
                display,
                None,
                format!("unsupported file type {other:?}: use GeoJSON (.geojson) or ESRI Shapefile (.shp)"),
            );
            None
        }
    }
}

/// A label for a feature in reports: `feature 3 (S01006506)`.
pub fn feature_label(f: &Feature, id_column: Option<&str>) -> String {
    let id = id_column
        .and_then(|c| f.properties.get(c))
        .and_then(|v| v.as_text());
    match id {
        Some(id) => format!("feature {} ({id})", f.index + 1),
        None => format!("feature {}", f.index + 1),
    }
}

/// What kind of mistake a coordinate pair looks like under a CRS.
pub fn coordinate_mistake(crs: &Crs, x: f64, y: f64) -> Option<String> {
    if !x.is_finite() || !y.is_finite() {
        return Some(format!("coordinate ({x}, {y}) is not a finite number"));
    }
    match crs {
        Crs::Wgs84 => {
            if (-90.0..=90.0).contains(&y) && (-180.0..=180.0).contains(&x) {
                // Plausible lon/lat; a swapped UK pair has "longitude" 49..61.
                if (49.0..=62.0).contains(&x) && (-9.5..=2.5).contains(&y) {
                    return Some(format!(
                        "coordinate ({x}, {y}) looks like latitude, longitude in the wrong order (GeoJSON and x/y columns are longitude first)"
                    ));
                }
                None
            } else if (0.0..=800_000.0).contains(&x) && (0.0..=1_400_000.0).contains(&y) {
                Some(format!(
                    "coordinate ({x}, {y}) looks like British National Grid metres but the CRS is EPSG:4326 (WGS84 degrees): set crs = \"EPSG:27700\""
                ))
            } else {
                Some(format!(
                    "coordinate ({x}, {y}) is outside the range of longitude/latitude"
                ))
            }
        }
        Crs::Bng => {
            if (-10.0..=3.0).contains(&x) && (49.0..=62.0).contains(&y) {
                Some(format!(
                    "coordinate ({x}, {y}) looks like WGS84 longitude/latitude but the CRS is EPSG:27700: set crs = \"EPSG:4326\""
                ))
            } else if !(-100_000.0..=800_000.0).contains(&x)
                || !(-100_000.0..=1_400_000.0).contains(&y)
            {
                Some(format!(
                    "coordinate ({x}, {y}) is outside the British National Grid"
                ))
            } else {
                None
            }
        }
        #[cfg(feature = "proj")]
        Crs::Proj(_) => None,
    }
}

/// Validate and project polygons: ring length and closure, coordinate ranges,
/// the transform, and geometric validity (self-intersections). Problems go to
/// `report` as errors against `record`; the result is `(working, wgs84)`.
pub fn polygons_to_working(
    raw: &[Vec<Vec<(f64, f64)>>],
    tf: &ToWorking,
    file: &str,
    record: &str,
    report: &mut Report,
) -> Option<(MultiPolygon<f64>, MultiPolygon<f64>)> {
    if raw.is_empty() {
        report.error(file, Some(record.to_string()), "empty geometry");
        return None;
    }
    let mut work = Vec::with_capacity(raw.len());
    let mut wgs = Vec::with_capacity(raw.len());
    for (pi, poly) in raw.iter().enumerate() {
        if poly.is_empty() {
            report.error(
                file,
                Some(record.to_string()),
                format!("polygon {} has no rings", pi + 1),
            );
            return None;
        }
        let mut rings_w = Vec::with_capacity(poly.len());
        let mut rings_g = Vec::with_capacity(poly.len());
        for (ri, ring) in poly.iter().enumerate() {
            let which = if ri == 0 {
                "outer ring".to_string()
            } else {
                format!("hole {ri}")
            };
            if ring.len() < 4 {
                report.error(
                    file,
                    Some(record.to_string()),
                    format!(
                        "{which} of polygon {} has {} positions; a ring needs at least 4",
                        pi + 1,
                        ring.len()
                    ),
                );
                return None;
            }
            if ring.first() != ring.last() {
                report.error(
                    file,
                    Some(record.to_string()),
                    format!(
                        "{which} of polygon {} is not closed: its first and last positions differ",
                        pi + 1
                    ),
                );
                return None;
            }
            let mut cw = Vec::with_capacity(ring.len());
            let mut cg = Vec::with_capacity(ring.len());
            for &(x, y) in ring {
                if let Some(m) = coordinate_mistake(tf.crs(), x, y) {
                    report.error(file, Some(record.to_string()), m);
                    return None;
                }
                let (bx, by) = match tf.to_bng(x, y) {
                    Ok(v) => v,
                    Err(e) => {
                        report.error(file, Some(record.to_string()), e.to_string());
                        return None;
                    }
                };
                let (lon, lat) = match tf.to_wgs84(x, y) {
                    Ok(v) => v,
                    Err(e) => {
                        report.error(file, Some(record.to_string()), e.to_string());
                        return None;
                    }
                };
                cw.push(Coord { x: bx, y: by });
                cg.push(Coord { x: lon, y: lat });
            }
            rings_w.push(LineString(cw));
            rings_g.push(LineString(cg));
        }
        let ext_w = rings_w.remove(0);
        let ext_g = rings_g.remove(0);
        work.push(Polygon::new(ext_w, rings_w));
        wgs.push(Polygon::new(ext_g, rings_g));
    }
    let mp = MultiPolygon(work);
    if let Some(problem) = mp.validation_errors().into_iter().next() {
        report.error(
            file,
            Some(record.to_string()),
            format!("invalid polygon: {problem}"),
        );
        return None;
    }
    Some((mp, MultiPolygon(wgs)))
}

/// Validate and project a point; problems are returned as text.
pub fn point_to_working(tf: &ToWorking, x: f64, y: f64) -> Result<(Xy, Xy), String> {
    if let Some(m) = coordinate_mistake(tf.crs(), x, y) {
        return Err(m);
    }
    let b = tf.to_bng(x, y).map_err(|e| e.to_string())?;
    let g = tf.to_wgs84(x, y).map_err(|e| e.to_string())?;
    Ok((b, g))
}
