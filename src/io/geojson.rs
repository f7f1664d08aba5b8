//! GeoJSON (RFC 7946) reading. Coordinates are WGS84 lon/lat unless the file
//! carries a legacy `crs` member naming another CRS (as GDAL writes for
//! EPSG:27700). Positions may carry a third value, which is ignored.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::report::Report;
use super::vector::{Feature, PropValue, RawGeometry, VectorLayer};
use crate::spatial::crs::Crs;

#[derive(Deserialize)]
struct RawCollection<'a> {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, borrow)]
    features: Option<Vec<RawFeature<'a>>>,
    #[serde(default)]
    crs: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawFeature<'a> {
    #[serde(default, borrow)]
    geometry: Option<RawGeom<'a>>,
    #[serde(default)]
    properties: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    id: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawGeom<'a> {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, borrow)]
    coordinates: Option<&'a RawValue>,
}

/// A position: two or more numbers, of which the first two are kept.
#[derive(Clone, Copy)]
struct Pos(f64, f64);

impl<'de> Deserialize<'de> for Pos {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Pos, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pos;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a position [x, y]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Pos, A::Error> {
                let x: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let y: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Pos(x, y))
            }
        }
        d.deserialize_seq(V)
    }
}

fn ring(v: Vec<Pos>) -> Vec<(f64, f64)> {
    v.into_iter().map(|p| (p.0, p.1)).collect()
}

fn parse_geometry(g: &RawGeom<'_>) -> Result<RawGeometry, String> {
    let raw = g
        .coordinates
        .ok_or_else(|| format!("{} geometry has no coordinates", g.kind))?
        .get();
    let err = |e: serde_json::Error| format!("{} coordinates: {e}", g.kind);
    Ok(match g.kind.as_str() {
        "Point" => {
            let p: Pos = serde_json::from_str(raw).map_err(err)?;
            RawGeometry::Point(p.0, p.1)
        }
        "MultiPoint" => {
            let ps: Vec<Pos> = serde_json::from_str(raw).map_err(err)?;
            match ps.as_slice() {
                [p] => RawGeometry::Point(p.0, p.1),
                _ => {
                    return Err(format!(
                        "MultiPoint with {} points: give one Point per feature",
                        ps.len()
                    ))
                }
            }
        }
        "LineString" => {
            let l: Vec<Pos> = serde_json::from_str(raw).map_err(err)?;
            RawGeometry::Lines(vec![ring(l)])
        }
        "MultiLineString" => {
            let ls: Vec<Vec<Pos>> = serde_json::from_str(raw).map_err(err)?;
            RawGeometry::Lines(ls.into_iter().map(ring).collect())
        }
        "Polygon" => {
            let p: Vec<Vec<Pos>> = serde_json::from_str(raw).map_err(err)?;
            RawGeometry::Polygons(vec![p.into_iter().map(ring).collect()])
        }
        "MultiPolygon" => {
            let mp: Vec<Vec<Vec<Pos>>> = serde_json::from_str(raw).map_err(err)?;
            RawGeometry::Polygons(
                mp.into_iter()
                    .map(|p| p.into_iter().map(ring).collect())
                    .collect(),
            )
        }
        other => return Err(format!("unsupported geometry type {other:?}")),
    })
}

fn prop_value(v: serde_json::Value) -> PropValue {
    match v {
        serde_json::Value::Null => PropValue::Null,
        serde_json::Value::Bool(b) => PropValue::Bool(b),
        serde_json::Value::Number(n) => n.as_f64().map(PropValue::Num).unwrap_or(PropValue::Null),
        serde_json::Value::String(s) => PropValue::Text(s),
        other => PropValue::Text(other.to_string()),
    }
}

fn declared_crs(crs: &serde_json::Value) -> Option<String> {
    crs.get("properties")?
        .get("name")?
        .as_str()
        .map(str::to_string)
}

/// Read a GeoJSON FeatureCollection (or a single Feature).
pub fn read_geojson(path: &Path, display: &str, report: &mut Report) -> Option<VectorLayer> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            report.error(display, None, format!("cannot read file: {e}"));
            return None;
        }
    };
    parse_geojson(&text, display, report)
}

/// Parse GeoJSON text (see [`read_geojson`]).
pub fn parse_geojson(text: &str, display: &str, report: &mut Report) -> Option<VectorLayer> {
    if text.trim().is_empty() {
        report.error(display, None, "the file is empty");
        return None;
    }
    let raw: RawCollection<'_> = match serde_json::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            report.error(display, None, format!("not valid GeoJSON: {e}"));
            return None;
        }
    };
    let declared = match raw.crs.as_ref().and_then(declared_crs) {
        Some(name) => match Crs::parse(&name) {
            Ok(c) => Some(c),
            Err(e) => {
                report.error(display, None, e.to_string());
                return None;
            }
        },
        // RFC 7946: GeoJSON is WGS84 lon/lat.
        None => Some(Crs::Wgs84),
    };
    let raw_features = match raw.kind.as_str() {
        "FeatureCollection" => raw.features.unwrap_or_default(),
        "Feature" => {
            // A single feature: parse it again as one.
            match serde_json::from_str::<RawFeature<'_>>(text) {
                Ok(f) => vec![f],
                Err(e) => {
                    report.error(display, None, format!("not valid GeoJSON: {e}"));
                    return None;
                }
            }
        }
        other => {
            report.error(
                display,
                None,
                format!("GeoJSON of type {other:?}: expected a FeatureCollection"),
            );
            return None;
        }
    };
    if raw_features.is_empty() {
        report.error(display, None, "the file has no features");
        return None;
    }
    let mut features = Vec::with_capacity(raw_features.len());
    for (index, f) in raw_features.into_iter().enumerate() {
        let mut properties: BTreeMap<String, PropValue> = f
            .properties
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, prop_value(v)))
            .collect();
        if let Some(id) = f.id {
            properties
                .entry("id".to_string())
                .or_insert_with(|| prop_value(id));
        }
        let geometry = match &f.geometry {
            None => None,
            Some(g) => match parse_geometry(g) {
                Ok(g) => Some(g),
                Err(problem) => {
                    report.error(display, Some(format!("feature {}", index + 1)), problem);
                    None
                }
            },
        };
        features.push(Feature {
            index,
            geometry,
            properties,
        });
    }
    Some(VectorLayer {
        declared_crs: declared,
        features,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_polygon_and_legacy_crs() {
        let text = r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::27700"}},
          "features":[{"type":"Feature","properties":{"code":"A","pop":"8%"},"geometry":{"type":"Polygon","coordinates":[[[0,0,5],[1,0],[1,1],[0,0]]]}}]}"#;
        let mut r = Report::new();
        let layer = parse_geojson(text, "t.geojson", &mut r).expect("parses");
        assert!(!r.has_errors());
        assert_eq!(layer.declared_crs, Some(Crs::Bng));
        assert_eq!(layer.features[0].properties["pop"].as_number(), Some(8.0));
        match &layer.features[0].geometry {
            Some(RawGeometry::Polygons(p)) => assert_eq!(p[0][0].len(), 4),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn bad_coordinates_name_the_feature() {
        let text = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":["a",1]}}]}"#;
        let mut r = Report::new();
        parse_geojson(text, "t.geojson", &mut r);
        assert_eq!(r.diagnostics[0].record.as_deref(), Some("feature 1"));
    }
}
