//! ESRI Shapefile reading (`.shp` with its `.shx` and `.dbf`); the CRS comes
//! from the `.prj` file beside it.

use std::collections::BTreeMap;
use std::path::Path;

use shapefile::dbase::FieldValue;
use shapefile::{PolygonRing, Shape};

use super::report::Report;
use super::vector::{Feature, PropValue, RawGeometry, VectorLayer};
use crate::spatial::crs::Crs;

fn field_value(v: FieldValue) -> PropValue {
    match v {
        FieldValue::Character(Some(s)) | FieldValue::Memo(s) => {
            PropValue::Text(s.trim().to_string())
        }
        FieldValue::Numeric(Some(n)) => PropValue::Num(n),
        FieldValue::Float(Some(f)) => PropValue::Num(f as f64),
        FieldValue::Integer(i) => PropValue::Num(i as f64),
        FieldValue::Double(d) | FieldValue::Currency(d) => PropValue::Num(d),
        FieldValue::Logical(Some(b)) => PropValue::Bool(b),
        FieldValue::Date(Some(d)) => {
            PropValue::Text(format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()))
        }
        _ => PropValue::Null,
    }
}

fn rings_to_polygons<P>(
    rings: &[PolygonRing<P>],
    xy: impl Fn(&P) -> (f64, f64),
) -> Vec<Vec<Vec<(f64, f64)>>> {
    let mut polys: Vec<Vec<Vec<(f64, f64)>>> = Vec::new();
    for r in rings {
        let pts: Vec<(f64, f64)> = r.points().iter().map(&xy).collect();
        match r {
            PolygonRing::Outer(_) => polys.push(vec![pts]),
            PolygonRing::Inner(_) => match polys.last_mut() {
                Some(p) => p.push(pts),
                // A hole before any outer ring: keep it as its own polygon so validation reports it.
                None => polys.push(vec![pts]),
            },
        }
    }
    polys
}

/// Read a Shapefile layer. Without a `.prj` the layer's `declared_crs` is
/// `None`, and loading needs a `crs` from the workspace file.
pub fn read_shapefile(path: &Path, display: &str, report: &mut Report) -> Option<VectorLayer> {
    if !path.exists() {
        report.error(display, None, "file not found");
        return None;
    }
    let prj = path.with_extension("prj");
    let declared = match std::fs::read_to_string(&prj) {
        Ok(wkt) => match Crs::from_prj_wkt(&wkt) {
            Ok(c) => Some(c),
            Err(e) => {
                report.error(display, None, format!("{}: {e}", prj.display()));
                return None;
            }
        },
        // No .prj: the CRS is unknown here; the workspace may give it (`crs`).
        Err(_) => None,
    };
    let mut reader = match shapefile::Reader::from_path(path) {
        Ok(r) => r,
        Err(e) => {
            report.error(display, None, format!("cannot read shapefile: {e}"));
            return None;
        }
    };
    let mut features = Vec::new();
    for (index, item) in reader.iter_shapes_and_records().enumerate() {
        let (shape, record) = match item {
            Ok(v) => v,
            Err(e) => {
                report.error(
                    display,
                    Some(format!("record {}", index + 1)),
                    format!("cannot read record: {e}"),
                );
                continue;
            }
        };
        let properties: BTreeMap<String, PropValue> = record
            .into_iter()
            .map(|(k, v)| (k, field_value(v)))
            .collect();
        let geometry = match shape {
            Shape::NullShape => None,
            Shape::Point(p) => Some(RawGeometry::Point(p.x, p.y)),
            Shape::PointZ(p) => Some(RawGeometry::Point(p.x, p.y)),
            Shape::PointM(p) => Some(RawGeometry::Point(p.x, p.y)),
            Shape::Polygon(p) => Some(RawGeometry::Polygons(rings_to_polygons(p.rings(), |q| {
                (q.x, q.y)
            }))),
            Shape::PolygonZ(p) => Some(RawGeometry::Polygons(rings_to_polygons(p.rings(), |q| {
                (q.x, q.y)
            }))),
            Shape::PolygonM(p) => Some(RawGeometry::Polygons(rings_to_polygons(p.rings(), |q| {
                (q.x, q.y)
            }))),
            Shape::Polyline(l) => Some(RawGeometry::Lines(
                l.parts()
                    .iter()
                    .map(|part| part.iter().map(|q| (q.x, q.y)).collect())
                    .collect(),
            )),
            other => {
                report.error(
                    display,
                    Some(format!("record {}", index + 1)),
                    format!("unsupported shape type {}", other.shapetype()),
                );
                None
            }
        };
        features.push(Feature {
            index,
            geometry,
            properties,
        });
    }
    if features.is_empty() {
        report.error(display, None, "the file has no features");
        return None;
    }
    Some(VectorLayer {
        declared_crs: declared,
        features,
    })
}
