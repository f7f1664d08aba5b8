//! Export of any result as CSV, GeoJSON or GeoPackage.
//!
//! A result is first turned into a [`Table`]: a name, columns, rows of JSON
//! values (already disclosure-controlled by whoever built them) and, where
//! the rows have places, one [`Shape`] per row held both in British National
//! Grid metres (EPSG:27700, for the GeoPackage) and in WGS84 lon/lat (for
//! RFC 7946 GeoJSON). The writers only change the format:
//!
//! - CSV: a header of the columns, then one record per row (RFC 4180 quoting
//!   by the `csv` crate); null is an empty cell, arrays and objects are JSON text.
//! - GeoJSON: a FeatureCollection, one feature per row in row order, the row's
//!   values as properties (nested values kept as JSON), geometry `null` for a
//!   row without a shape; coordinates trimmed to 6 decimals.
//! - GeoPackage: a feature layer in EPSG:27700 when the table has shapes, else
//!   an attribute table; nested values as JSON text.

use std::io::Write;
use std::path::Path;

use geo::{Coord, LineString, MultiPolygon, Point, Polygon};
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::io::gpkg::{FieldType, GeoPackage, Geometry, Layer};
use crate::spatial::crs::trim6;

/// The formats a table can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    GeoJson,
    Gpkg,
}

impl Format {
    /// The names accepted for `format=` and `--format`.
    pub const NAMES: &'static str = "json, csv, geojson, gpkg";

    /// `csv`, `geojson` or `gpkg` (case-insensitive); `None` for anything else.
    pub fn parse(s: &str) -> Option<Format> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "geojson" => Some(Format::GeoJson),
            "gpkg" | "geopackage" => Some(Format::Gpkg),
            _ => None,
        }
    }

    /// The format a file name's extension implies.
    pub fn from_path(p: &Path) -> Option<Format> {
        match p.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "geojson" => Some(Format::GeoJson),
            "gpkg" => Some(Format::Gpkg),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::GeoJson => "geojson",
            Format::Gpkg => "gpkg",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::GeoJson => "application/geo+json",
            Format::Gpkg => "application/geopackage+sqlite3",
        }
    }
}

/// The place of one row, in British National Grid and in WGS84.
#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    pub bng: Geometry,
    pub wgs84: Geometry,
}

impl Shape {
    /// From a GeoJSON geometry in WGS84 (Point, Polygon or MultiPolygon),
    /// projected to British National Grid; `None` for other or broken geometries.
    pub fn from_geojson(g: &Value) -> Option<Shape> {
        let coord = |c: &Value| -> Option<Coord<f64>> {
            Some(Coord {
                x: c.get(0)?.as_f64()?,
                y: c.get(1)?.as_f64()?,
            })
        };
        let polygon = |rings: &Value| -> Option<Polygon<f64>> {
            let mut rs = rings
                .as_array()?
                .iter()
                .map(|r| r.as_array()?.iter().map(coord).collect::<Option<Vec<_>>>())
                .collect::<Option<Vec<_>>>()?
                .into_iter()
                .map(LineString);
            let exterior = rs.next()?;
            Some(Polygon::new(exterior, rs.collect()))
        };
        let coords = g.get("coordinates")?;
        let wgs84 = match g.get("type")?.as_str()? {
            "Point" => Geometry::Point(Point::from(coord(coords)?)),
            "Polygon" => Geometry::MultiPolygon(MultiPolygon(vec![polygon(coords)?])),
            "MultiPolygon" => Geometry::MultiPolygon(MultiPolygon(
                coords
                    .as_array()?
                    .iter()
                    .map(polygon)
                    .collect::<Option<Vec<_>>>()?,
            )),
            _ => return None,
        };
        let bng = project(&wgs84, crate::spatial::crs::wgs84_to_bng).ok()?;
        Some(Shape { bng, wgs84 })
    }
}

/// A geometry with every coordinate transformed.
fn project<E>(
    g: &Geometry,
    f: impl Fn(f64, f64) -> std::result::Result<(f64, f64), E>,
) -> std::result::Result<Geometry, E> {
    let ring = |ls: &LineString<f64>| -> std::result::Result<LineString<f64>, E> {
        ls.0.iter()
            .map(|c| f(c.x, c.y).map(|(x, y)| Coord { x, y }))
            .collect::<std::result::Result<Vec<_>, E>>()
            .map(LineString)
    };
    Ok(match g {
        Geometry::Point(p) => {
            let (x, y) = f(p.x(), p.y())?;
            Geometry::Point(Point::new(x, y))
        }
        Geometry::MultiPolygon(mp) => Geometry::MultiPolygon(MultiPolygon(
            mp.0.iter()
                .map(|p| {
                    Ok(Polygon::new(
                        ring(p.exterior())?,
                        p.interiors()
                            .iter()
                            .map(ring)
                            .collect::<std::result::Result<Vec<_>, E>>()?,
                    ))
                })
                .collect::<std::result::Result<Vec<_>, E>>()?,
        )),
    })
}

/// One result as rows and columns, with an optional place per row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// Layer or table name (letters, digits and `_`).
    pub name: String,
    pub columns: Vec<String>,
    /// One value per column (JSON scalars; arrays and objects are written as JSON text).
    pub rows: Vec<Vec<Value>>,
    /// `None`: a table without places; else one entry per row.
    pub shapes: Option<Vec<Option<Shape>>>,
}

impl Table {
    /// A table from JSON items: objects give one column per key (in the order
    /// first seen), anything else one column named `value`.
    pub fn from_items(name: &str, items: &[Value]) -> Table {
        let mut columns: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for it in items {
            match it.as_object() {
                Some(o) => {
                    for k in o.keys() {
                        if seen.insert(k.clone()) {
                            columns.push(k.clone());
                        }
                    }
                }
                None => {
                    if seen.insert("value".to_string()) {
                        columns.push("value".into());
                    }
                }
            }
        }
        let rows = items
            .iter()
            .map(|it| {
                columns
                    .iter()
                    .map(|c| match it.as_object() {
                        Some(o) => o.get(c).cloned().unwrap_or(Value::Null),
                        None if c == "value" => it.clone(),
                        None => Value::Null,
                    })
                    .collect()
            })
            .collect();
        Table {
            name: layer_name(name),
            columns,
            rows,
            shapes: None,
        }
    }

    /// The index of a column.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// Move a column to the front (the id a row is known by), if there is one.
    pub fn put_first(&mut self, name: &str) {
        if let Some(k) = self.column(name) {
            let c = self.columns.remove(k);
            self.columns.insert(0, c);
            for r in &mut self.rows {
                let v = r.remove(k);
                r.insert(0, v);
            }
        }
    }
}

/// A usable layer name: letters, digits and `_` (others become `_`), not empty.
pub fn layer_name(s: &str) -> String {
    let n: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let n = n.trim_matches('_').to_string();
    if n.is_empty() {
        "result".into()
    } else {
        n
    }
}

/// The text of a value in a CSV cell: empty for null, JSON for arrays and
/// objects, whole numbers without a decimal point (`25`, not `25.0`).
pub fn cell_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(x) if n.is_f64() && x.fract() == 0.0 && x.abs() < 1e15 => format!("{x:.0}"),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// Write a table as CSV.
pub fn write_csv<W: Write>(t: &Table, w: W) -> Result<()> {
    let mut c = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(w);
    let err = |e: csv::Error| Error::BadInput(format!("cannot write CSV: {e}"));
    c.write_record(&t.columns).map_err(err)?;
    for r in &t.rows {
        c.write_record(r.iter().map(cell_text)).map_err(err)?;
    }
    c.flush()
        .map_err(|e| Error::BadInput(format!("cannot write CSV: {e}")))
}

fn geometry_json(g: &Geometry) -> Value {
    match g {
        Geometry::Point(p) if p.x().is_nan() => Value::Null,
        Geometry::Point(p) => json!({"type": "Point", "coordinates": [trim6(p.x()), trim6(p.y())]}),
        Geometry::MultiPolygon(mp) if mp.0.is_empty() => Value::Null,
        Geometry::MultiPolygon(mp) => crate::io::writers::multipolygon_json(mp),
    }
}

/// The table as a GeoJSON FeatureCollection (WGS84).
pub fn geojson(t: &Table) -> Value {
    let features: Vec<Value> = t
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let props: Map<String, Value> = t.columns.iter().cloned().zip(r.clone()).collect();
            let geometry = t
                .shapes
                .as_ref()
                .and_then(|s| s.get(i))
                .and_then(Option::as_ref)
                .map(|s| geometry_json(&s.wgs84))
                .unwrap_or(Value::Null);
            json!({"type": "Feature", "properties": props, "geometry": geometry})
        })
        .collect();
    json!({"type": "FeatureCollection", "name": t.name, "features": features})
}

/// Write a table as GeoJSON.
pub fn write_geojson<W: Write>(t: &Table, mut w: W) -> Result<()> {
    serde_json::to_writer(&mut w, &geojson(t))
        .map_err(|e| Error::BadInput(format!("cannot write GeoJSON: {e}")))?;
    w.flush()
        .map_err(|e| Error::BadInput(format!("cannot write GeoJSON: {e}")))
}

/// A column name the GeoPackage accepts (`fid` and `geom` are its own).
fn gpkg_column(c: &str) -> String {
    let c = c.replace('"', "'");
    match c.as_str() {
        "fid" | "geom" | "id" => format!("{c}_"),
        "" => "column".into(),
        _ => c,
    }
}

/// Write a table into a GeoPackage (EPSG:27700), replacing a layer of the
/// same name: a feature layer when the table has shapes, else an attribute table.
pub fn write_gpkg(t: &Table, path: &Path) -> Result<()> {
    let mut gp = GeoPackage::open(path)?;
    // A file to hand over: one file, and each page written once (a
    // write-ahead log would write the layer twice, to the log and back).
    // Where another program holds the file open, it stays in WAL mode.
    let _ = gp
        .connection()
        .pragma_update(None, "journal_mode", "DELETE");
    let rows: Vec<Vec<crate::io::gpkg::Value>> = t
        .rows
        .iter()
        .map(|r| r.iter().map(crate::io::gpkg::Value::from).collect())
        .collect();
    let fields: Vec<(String, FieldType)> = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| (gpkg_column(c), FieldType::of(rows.iter().map(|r| &r[i]))))
        .collect();
    match &t.shapes {
        Some(shapes) => {
            let points = shapes
                .iter()
                .flatten()
                .next()
                .is_some_and(|s| matches!(s.bng, Geometry::Point(_)));
            // A row without a place gets the layer type's empty geometry.
            let empty = if points {
                Geometry::Point(Point::new(f64::NAN, f64::NAN))
            } else {
                Geometry::MultiPolygon(MultiPolygon(vec![]))
            };
            let layer = Layer {
                name: t.name.clone(),
                srs_id: 27700,
                fields,
                features: rows
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let g = shapes
                            .get(i)
                            .and_then(Option::as_ref)
                            .map(|s| s.bng.clone())
                            .unwrap_or_else(|| empty.clone());
                        (g, r)
                    })
                    .collect(),
            };
            gp.write_layer(&layer)
        }
        None => gp.write_table(&t.name, &fields, &rows),
    }
}

/// A GeoPackage holding only this table, as bytes (one self-contained file,
/// without a write-ahead log).
pub fn gpkg_bytes(t: &Table) -> Result<Vec<u8>> {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir();
    let path = dir.join(format!(
        "needmap-export-{}-{n}-{nanos}.gpkg",
        std::process::id()
    ));
    // A new file readable by this user only (it may hold a planner's exact
    // counts); an existing one is never touched.
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
    }
    let result = (|| {
        write_gpkg(t, &path)?;
        {
            let mut gp = GeoPackage::open(&path)?;
            gp.connection()
                .pragma_update(None, "journal_mode", "DELETE")
                .map_err(|e| Error::BadInput(format!("{}: {e}", path.display())))?;
        }
        std::fs::read(&path).map_err(|e| Error::io(&path, e))
    })();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    result
}

/// The table in a format, as bytes.
pub fn to_bytes(t: &Table, f: Format) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    match f {
        Format::Csv => write_csv(t, &mut out)?,
        Format::GeoJson => write_geojson(t, &mut out)?,
        Format::Gpkg => out = gpkg_bytes(t)?,
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_commas_quotes_and_newlines() {
        let t = Table::from_items(
            "t",
            &[
                json!({"name": "Smith, \"Jo\"\nline 2", "n": 3, "list": [1, 2], "none": null}),
                json!({"name": "plain", "n": 2.5}),
            ],
        );
        let mut out = Vec::new();
        write_csv(&t, &mut out).expect("csv");
        let mut r = csv::Reader::from_reader(out.as_slice());
        let header: Vec<String> = r
            .headers()
            .expect("header")
            .iter()
            .map(String::from)
            .collect();
        // Keys in JSON objects' order (sorted: serde_json keeps maps sorted).
        assert_eq!(header, ["list", "n", "name", "none"]);
        let recs: Vec<csv::StringRecord> = r.records().map(|x| x.expect("record")).collect();
        assert_eq!(recs.len(), 2);
        assert_eq!(&recs[0][2], "Smith, \"Jo\"\nline 2");
        assert_eq!(&recs[0][0], "[1,2]");
        assert_eq!(&recs[0][3], "");
        assert_eq!(&recs[1][1], "2.5");
        assert_eq!(cell_text(&json!(25.0)), "25");
        assert_eq!(cell_text(&json!(-3.0)), "-3");
        // Too large to be sure of as a whole number: as serde_json writes it.
        assert_eq!(cell_text(&json!(1e300)), json!(1e300).to_string());
        assert_eq!(&recs[1][0], "");
    }

    #[test]
    fn names_and_formats() {
        assert_eq!(layer_name("/hours/gap areas"), "hours_gap_areas");
        assert_eq!(layer_name("//"), "result");
        assert_eq!(Format::parse("GeoJSON"), Some(Format::GeoJson));
        assert_eq!(Format::parse("xlsx"), None);
        assert_eq!(Format::from_path(Path::new("a/b.gpkg")), Some(Format::Gpkg));
        assert_eq!(gpkg_column("fid"), "fid_");
    }

    #[test]
    fn shapes_from_geojson() {
        let s = Shape::from_geojson(&json!({"type": "Point", "coordinates": [-3.19, 55.95]}))
            .expect("point");
        let Geometry::Point(p) = s.bng else {
            panic!("not a point")
        };
        assert!((p.x() - 325_000.0).abs() < 5_000.0 && (p.y() - 673_000.0).abs() < 5_000.0);
        assert!(Shape::from_geojson(&json!({"type": "LineString", "coordinates": []})).is_none());
        assert!(Shape::from_geojson(&json!({"type": "Polygon", "coordinates": [[[1]]]})).is_none());
    }
}
