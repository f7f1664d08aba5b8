//! GeoPackage (OGC 12-128r18, version 1.3) files: written and read with
//! SQLite, openable in QGIS and GDAL.
//!
//! A file holds feature layers (a table with an integer `fid`, a `geom`
//! blob in the GeoPackage binary format and attribute columns, registered in
//! `gpkg_contents` and `gpkg_geometry_columns`) and attribute tables. The
//! spatial reference systems British National Grid (EPSG:27700) and WGS84
//! (EPSG:4326) are registered besides the two the standard requires.
//!
//! Writes are transactions with SQLite's write-ahead log and
//! `synchronous=FULL`: a layer is replaced whole or not at all, and once a
//! write returns it survives a crash or power cut.
//!
//! Geometry blobs: `GP`, version 0, flags (little-endian, envelope
//! `[minx, maxx, miny, maxy]`, or none for an empty geometry), the SRS id,
//! the envelope, then the geometry as ISO WKB (little-endian).

use std::path::Path;

use geo::{BoundingRect, Coord, LineString, MultiPolygon, Point, Polygon};
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{Error, Result};

/// `application_id` of a GeoPackage ("GPKG").
const APPLICATION_ID: i32 = 0x4750_4B47;
/// `user_version` of GeoPackage 1.3.0.
const USER_VERSION: i32 = 10300;

/// A geometry of a feature.
#[derive(Clone, Debug, PartialEq)]
pub enum Geometry {
    Point(Point<f64>),
    MultiPolygon(MultiPolygon<f64>),
}

impl Geometry {
    fn type_name(&self) -> &'static str {
        match self {
            Geometry::Point(_) => "POINT",
            Geometry::MultiPolygon(_) => "MULTIPOLYGON",
        }
    }
}

/// An attribute value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
}

impl From<&serde_json::Value> for Value {
    fn from(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Integer(i64::from(*b)),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Integer(i),
                None => n.as_f64().map(Value::Real).unwrap_or(Value::Null),
            },
            serde_json::Value::String(s) => Value::Text(s.clone()),
            other => Value::Text(other.to_string()),
        }
    }
}

/// Column types of a layer or table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    Integer,
    Real,
    Text,
}

impl FieldType {
    fn sql(self) -> &'static str {
        match self {
            FieldType::Integer => "INTEGER",
            FieldType::Real => "REAL",
            FieldType::Text => "TEXT",
        }
    }

    /// The narrowest type holding all `values` (text when they disagree).
    pub fn of<'a>(values: impl IntoIterator<Item = &'a Value>) -> FieldType {
        let mut t: Option<FieldType> = None;
        for v in values {
            let this = match v {
                Value::Null => continue,
                Value::Integer(_) => FieldType::Integer,
                Value::Real(_) => FieldType::Real,
                Value::Text(_) => FieldType::Text,
            };
            t = Some(match (t, this) {
                (None, x) => x,
                (Some(a), b) if a == b => a,
                (Some(FieldType::Integer), FieldType::Real)
                | (Some(FieldType::Real), FieldType::Integer) => FieldType::Real,
                _ => FieldType::Text,
            });
        }
        t.unwrap_or(FieldType::Text)
    }
}

/// A feature layer to write.
#[derive(Clone, Debug)]
pub struct Layer {
    pub name: String,
    /// EPSG code of the coordinates (27700 or 4326).
    pub srs_id: i32,
    pub fields: Vec<(String, FieldType)>,
    /// Geometry and one value per field.
    pub features: Vec<(Geometry, Vec<Value>)>,
}

/// An open GeoPackage.
pub struct GeoPackage {
    conn: Connection,
    path: std::path::PathBuf,
}

fn sql_err(path: &Path, e: rusqlite::Error) -> Error {
    Error::BadInput(format!("{}: {e}", path.display()))
}

/// A safe SQL identifier (layer and column names are quoted, and may not hold quotes).
fn ident(name: &str) -> Result<String> {
    if name.is_empty() || name.contains('"') || name.chars().any(|c| c.is_control()) {
        return Err(Error::BadInput(format!(
            "{name:?} is not a usable layer or column name"
        )));
    }
    Ok(format!("\"{name}\""))
}

impl GeoPackage {
    /// Open a GeoPackage, creating it (with the standard's tables) if absent.
    pub fn open(path: &Path) -> Result<GeoPackage> {
        let conn = Connection::open(path).map_err(|e| sql_err(path, e))?;
        let gp = GeoPackage {
            conn,
            path: path.to_path_buf(),
        };
        gp.init()?;
        Ok(gp)
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        sql_err(&self.path, e)
    }

    fn init(&self) -> Result<()> {
        let c = &self.conn;
        c.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| self.err(e))?;
        c.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| self.err(e))?;
        c.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| self.err(e))?;
        let app: i32 = c
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let tables: i64 = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        if app != APPLICATION_ID && tables > 0 {
            return Err(Error::BadInput(format!(
                "{} is an SQLite file but not a GeoPackage",
                self.path.display()
            )));
        }
        // Opened before: nothing to write (each write would be a synced transaction).
        if app == APPLICATION_ID {
            let ready: i64 = c
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table'
                     AND name IN ('gpkg_spatial_ref_sys', 'gpkg_contents', 'gpkg_geometry_columns')",
                    [],
                    |r| r.get(0),
                )
                .map_err(|e| self.err(e))?;
            if ready == 3 {
                let srs: i64 = c
                    .query_row(
                        "SELECT count(*) FROM gpkg_spatial_ref_sys WHERE srs_id IN (-1, 0, 4326, 27700)",
                        [],
                        |r| r.get(0),
                    )
                    .map_err(|e| self.err(e))?;
                if srs == 4 {
                    return Ok(());
                }
            }
        }
        c.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(|e| self.err(e))?;
        c.pragma_update(None, "user_version", USER_VERSION)
            .map_err(|e| self.err(e))?;
        c.execute_batch(
            "BEGIN;
            CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
              srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
              organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
              definition TEXT NOT NULL, description TEXT);
            CREATE TABLE IF NOT EXISTS gpkg_contents (
              table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
              identifier TEXT UNIQUE, description TEXT DEFAULT '',
              last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
              min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
              srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
            CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
              table_name TEXT NOT NULL, column_name TEXT NOT NULL,
              geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
              z TINYINT NOT NULL, m TINYINT NOT NULL,
              CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
              CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
              CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
            COMMIT;",
        )
        .map_err(|e| self.err(e))?;
        let srs: [(&str, i32, &str, i32, &str, &str); 4] = [
            (
                "Undefined cartesian SRS",
                -1,
                "NONE",
                -1,
                "undefined",
                "undefined cartesian coordinate reference system",
            ),
            (
                "Undefined geographic SRS",
                0,
                "NONE",
                0,
                "undefined",
                "undefined geographic coordinate reference system",
            ),
            (
                "WGS 84 geodetic",
                4326,
                "EPSG",
                4326,
                WGS84_WKT,
                "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid",
            ),
            (
                "OSGB36 / British National Grid",
                27700,
                "EPSG",
                27700,
                BNG_WKT,
                "British National Grid, metres",
            ),
        ];
        for (name, id, org, org_id, def, desc) in srs {
            c.execute(
                "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![name, id, org, org_id, def, desc],
            )
            .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// Write a feature layer, replacing any of the same name, in one transaction.
    pub fn write_layer(&mut self, layer: &Layer) -> Result<()> {
        let t = ident(&layer.name)?;
        let cols: Vec<String> = layer
            .fields
            .iter()
            .map(|(n, ty)| Ok(format!("{} {}", ident(n)?, ty.sql())))
            .collect::<Result<_>>()?;
        if layer.fields.iter().any(|(n, _)| n == "fid" || n == "geom") {
            return Err(Error::BadInput(format!(
                "layer {}: fid and geom are reserved column names",
                layer.name
            )));
        }
        let geometry_type = layer
            .features
            .first()
            .map(|f| f.0.type_name())
            .unwrap_or("GEOMETRY");
        let mut env = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(|e| sql_err(&path, e))?;
        let e = |e: rusqlite::Error| sql_err(&path, e);
        tx.execute(&format!("DROP TABLE IF EXISTS {t}"), [])
            .map_err(e)?;
        tx.execute(
            "DELETE FROM gpkg_geometry_columns WHERE table_name = ?1",
            [&layer.name],
        )
        .map_err(e)?;
        tx.execute(
            "DELETE FROM gpkg_contents WHERE table_name = ?1",
            [&layer.name],
        )
        .map_err(e)?;
        let mut ddl = format!(
            "CREATE TABLE {t} (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom {geometry_type}"
        );
        for c in &cols {
            ddl.push_str(", ");
            ddl.push_str(c);
        }
        ddl.push(')');
        tx.execute(&ddl, []).map_err(e)?;
        {
            let names: Vec<String> = layer
                .fields
                .iter()
                .map(|(n, _)| ident(n))
                .collect::<Result<_>>()?;
            let marks: Vec<String> = (0..=layer.fields.len())
                .map(|i| format!("?{}", i + 1))
                .collect();
            let sql = format!(
                "INSERT INTO {t} (geom{}{}) VALUES ({})",
                if names.is_empty() { "" } else { ", " },
                names.join(", "),
                marks.join(", ")
            );
            let mut stmt = tx.prepare(&sql).map_err(e)?;
            for (k, (g, vals)) in layer.features.iter().enumerate() {
                if vals.len() != layer.fields.len() {
                    return Err(Error::BadInput(format!(
                        "layer {}: feature {} has {} values for {} fields",
                        layer.name,
                        k + 1,
                        vals.len(),
                        layer.fields.len()
                    )));
                }
                if let Some(b) = bbox(g) {
                    env = [
                        env[0].min(b[0]),
                        env[1].min(b[1]),
                        env[2].max(b[2]),
                        env[3].max(b[3]),
                    ];
                }
                let blob = encode(g, layer.srs_id);
                let mut p: Vec<rusqlite::types::Value> = vec![rusqlite::types::Value::Blob(blob)];
                p.extend(vals.iter().map(to_sql));
                stmt.execute(rusqlite::params_from_iter(p)).map_err(e)?;
            }
        }
        let has_env = env[0].is_finite();
        tx.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, min_x, min_y, max_x, max_y, srs_id)
             VALUES (?1, 'features', ?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                layer.name,
                has_env.then_some(env[0]),
                has_env.then_some(env[1]),
                has_env.then_some(env[2]),
                has_env.then_some(env[3]),
                layer.srs_id
            ],
        )
        .map_err(e)?;
        tx.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?1, 'geom', ?2, ?3, 0, 0)",
            params![layer.name, geometry_type, layer.srs_id],
        )
        .map_err(e)?;
        tx.commit().map_err(e)
    }

    /// Write an attribute table (no geometry), replacing any of the same name.
    pub fn write_table(
        &mut self,
        name: &str,
        fields: &[(String, FieldType)],
        rows: &[Vec<Value>],
    ) -> Result<()> {
        let t = ident(name)?;
        let path = self.path.clone();
        let e = |e: rusqlite::Error| sql_err(&path, e);
        let tx = self.conn.transaction().map_err(e)?;
        tx.execute(&format!("DROP TABLE IF EXISTS {t}"), [])
            .map_err(e)?;
        tx.execute("DELETE FROM gpkg_contents WHERE table_name = ?1", [name])
            .map_err(e)?;
        let cols: Vec<String> = fields
            .iter()
            .map(|(n, ty)| Ok(format!("{} {}", ident(n)?, ty.sql())))
            .collect::<Result<_>>()?;
        let sep = if cols.is_empty() { "" } else { ", " };
        tx.execute(
            &format!(
                "CREATE TABLE {t} (id INTEGER PRIMARY KEY AUTOINCREMENT{sep}{})",
                cols.join(", ")
            ),
            [],
        )
        .map_err(e)?;
        if !fields.is_empty() {
            let names: Vec<String> = fields
                .iter()
                .map(|(n, _)| ident(n))
                .collect::<Result<_>>()?;
            let marks: Vec<String> = (1..=fields.len()).map(|i| format!("?{i}")).collect();
            let mut stmt = tx
                .prepare(&format!(
                    "INSERT INTO {t} ({}) VALUES ({})",
                    names.join(", "),
                    marks.join(", ")
                ))
                .map_err(e)?;
            for r in rows {
                stmt.execute(rusqlite::params_from_iter(r.iter().map(to_sql)))
                    .map_err(e)?;
            }
        }
        tx.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier) VALUES (?1, 'attributes', ?1)",
            [name],
        )
        .map_err(e)?;
        tx.commit().map_err(e)
    }

    /// The layers and tables registered in `gpkg_contents`: `(name, data_type, srs_id)`.
    pub fn contents(&self) -> Result<Vec<(String, String, Option<i32>)>> {
        let mut s = self
            .conn
            .prepare("SELECT table_name, data_type, srs_id FROM gpkg_contents ORDER BY table_name")
            .map_err(|e| self.err(e))?;
        let rows = s
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(|e| self.err(e))
    }

    /// Read a feature layer back: geometries and the named columns as text.
    pub fn read_layer(
        &self,
        name: &str,
        columns: &[&str],
    ) -> Result<Vec<(Geometry, Vec<Option<String>>)>> {
        let t = ident(name)?;
        let exists: Option<String> = self
            .conn
            .query_row(
                "SELECT table_name FROM gpkg_geometry_columns WHERE table_name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        if exists.is_none() {
            return Err(Error::BadInput(format!(
                "{}: no feature layer {name:?}",
                self.path.display()
            )));
        }
        let cols: Vec<String> = columns.iter().map(|c| ident(c)).collect::<Result<_>>()?;
        let sep = if cols.is_empty() { "" } else { ", " };
        let mut s = self
            .conn
            .prepare(&format!(
                "SELECT geom{sep}{} FROM {t} ORDER BY fid",
                cols.join(", ")
            ))
            .map_err(|e| self.err(e))?;
        let n = columns.len();
        let rows = s
            .query_map([], |r| {
                let blob: Vec<u8> = r.get(0)?;
                let mut vals = Vec::with_capacity(n);
                for i in 0..n {
                    let v: rusqlite::types::Value = r.get(i + 1)?;
                    vals.push(match v {
                        rusqlite::types::Value::Null => None,
                        rusqlite::types::Value::Integer(i) => Some(i.to_string()),
                        rusqlite::types::Value::Real(f) => Some(f.to_string()),
                        rusqlite::types::Value::Text(s) => Some(s),
                        rusqlite::types::Value::Blob(_) => Some("<blob>".into()),
                    });
                }
                Ok((blob, vals))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (blob, vals) = row.map_err(|e| self.err(e))?;
            let g = decode(&blob).map_err(|m| {
                Error::BadInput(format!("{}: layer {name}: {m}", self.path.display()))
            })?;
            out.push((g, vals));
        }
        Ok(out)
    }

    /// The SQLite connection, for stores built on the file.
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The SQLite connection, to read.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }
}

fn to_sql(v: &Value) -> rusqlite::types::Value {
    match v {
        Value::Null => rusqlite::types::Value::Null,
        Value::Integer(i) => rusqlite::types::Value::Integer(*i),
        Value::Real(f) if f.is_finite() => rusqlite::types::Value::Real(*f),
        Value::Real(_) => rusqlite::types::Value::Null,
        Value::Text(s) => rusqlite::types::Value::Text(s.clone()),
    }
}

fn bbox(g: &Geometry) -> Option<[f64; 4]> {
    match g {
        // A point of NaN coordinates is the empty point.
        Geometry::Point(p) if p.x().is_nan() || p.y().is_nan() => None,
        Geometry::Point(p) => Some([p.x(), p.y(), p.x(), p.y()]),
        Geometry::MultiPolygon(mp) => mp
            .bounding_rect()
            .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]),
    }
}

/// GeoPackage binary geometry: header, envelope, ISO WKB.
pub fn encode(g: &Geometry, srs_id: i32) -> Vec<u8> {
    let mut b = Vec::with_capacity(64);
    b.extend_from_slice(b"GP");
    b.push(0); // version 1
    let env = bbox(g);
    // Flags: little-endian (bit 0); envelope type 1 in bits 1-3; empty (bit 4).
    let flags = 0x01 | if env.is_some() { 0x02 } else { 0x10 };
    b.push(flags);
    b.extend_from_slice(&srs_id.to_le_bytes());
    if let Some([minx, miny, maxx, maxy]) = env {
        for v in [minx, maxx, miny, maxy] {
            b.extend_from_slice(&v.to_le_bytes());
        }
    }
    match g {
        Geometry::Point(p) => {
            b.push(1);
            b.extend_from_slice(&1u32.to_le_bytes());
            b.extend_from_slice(&p.x().to_le_bytes());
            b.extend_from_slice(&p.y().to_le_bytes());
        }
        Geometry::MultiPolygon(mp) => {
            b.push(1);
            b.extend_from_slice(&6u32.to_le_bytes());
            b.extend_from_slice(&(mp.0.len() as u32).to_le_bytes());
            for poly in &mp.0 {
                b.push(1);
                b.extend_from_slice(&3u32.to_le_bytes());
                let rings: Vec<&LineString<f64>> = std::iter::once(poly.exterior())
                    .chain(poly.interiors())
                    .collect();
                b.extend_from_slice(&(rings.len() as u32).to_le_bytes());
                for r in rings {
                    b.extend_from_slice(&(r.0.len() as u32).to_le_bytes());
                    for c in &r.0 {
                        b.extend_from_slice(&c.x.to_le_bytes());
                        b.extend_from_slice(&c.y.to_le_bytes());
                    }
                }
            }
        }
    }
    b
}

/// Read a GeoPackage geometry blob (points and (multi)polygons, either byte order).
pub fn decode(b: &[u8]) -> std::result::Result<Geometry, String> {
    if b.len() < 8 || &b[0..2] != b"GP" {
        return Err("not a GeoPackage geometry".into());
    }
    let flags = b[3];
    let env_len = match (flags >> 1) & 0x07 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        e => return Err(format!("bad envelope type {e}")),
    };
    let start = 8 + env_len;
    if b.len() < start {
        return Err("truncated geometry header".into());
    }
    let mut r = Wkb {
        b: &b[start..],
        i: 0,
    };
    r.geometry()
}

struct Wkb<'a> {
    b: &'a [u8],
    i: usize,
}

impl Wkb<'_> {
    fn take(&mut self, n: usize) -> std::result::Result<&[u8], String> {
        let s = self.b.get(self.i..self.i + n).ok_or("truncated WKB")?;
        self.i += n;
        Ok(s)
    }

    fn u32(&mut self, le: bool) -> std::result::Result<u32, String> {
        let a: [u8; 4] = self.take(4)?.try_into().map_err(|_| "truncated WKB")?;
        Ok(if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    }

    fn f64(&mut self, le: bool) -> std::result::Result<f64, String> {
        let a: [u8; 8] = self.take(8)?.try_into().map_err(|_| "truncated WKB")?;
        Ok(if le {
            f64::from_le_bytes(a)
        } else {
            f64::from_be_bytes(a)
        })
    }

    fn count(&mut self, le: bool) -> std::result::Result<usize, String> {
        let n = self.u32(le)? as usize;
        // Each element takes at least 4 bytes: a count beyond the blob is damage.
        if n > self.b.len() / 4 + 1 {
            return Err(format!("count {n} larger than the geometry"));
        }
        Ok(n)
    }

    fn polygon(&mut self, le: bool) -> std::result::Result<Polygon<f64>, String> {
        let n = self.count(le)?;
        let mut rings = Vec::with_capacity(n);
        for _ in 0..n {
            let m = self.count(le)?;
            let mut cs = Vec::with_capacity(m);
            for _ in 0..m {
                let (x, y) = (self.f64(le)?, self.f64(le)?);
                cs.push(Coord { x, y });
            }
            rings.push(LineString(cs));
        }
        let mut it = rings.into_iter();
        let ext = it.next().unwrap_or_else(|| LineString(Vec::new()));
        Ok(Polygon::new(ext, it.collect()))
    }

    fn geometry(&mut self) -> std::result::Result<Geometry, String> {
        let le = self.take(1)?[0] == 1;
        let ty = self.u32(le)?;
        match ty {
            1 => Ok(Geometry::Point(Point::new(self.f64(le)?, self.f64(le)?))),
            3 => Ok(Geometry::MultiPolygon(MultiPolygon(
                vec![self.polygon(le)?],
            ))),
            6 => {
                let n = self.count(le)?;
                let mut polys = Vec::with_capacity(n);
                for _ in 0..n {
                    let le2 = self.take(1)?[0] == 1;
                    if self.u32(le2)? != 3 {
                        return Err("a multipolygon member is not a polygon".into());
                    }
                    polys.push(self.polygon(le2)?);
                }
                Ok(Geometry::MultiPolygon(MultiPolygon(polys)))
            }
            t => Err(format!("WKB geometry type {t} is not read here")),
        }
    }
}

/// OGC WKT of EPSG:4326 (as the GeoPackage standard's example gives it).
const WGS84_WKT: &str = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#;

/// OGC WKT of EPSG:27700 (parameters from the EPSG registry).
const BNG_WKT: &str = r#"PROJCS["OSGB36 / British National Grid",GEOGCS["OSGB36",DATUM["Ordnance_Survey_of_Great_Britain_1936",SPHEROID["Airy 1830",6377563.396,299.3249646,AUTHORITY["EPSG","7001"]],AUTHORITY["EPSG","6277"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4277"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",49],PARAMETER["central_meridian",-2],PARAMETER["scale_factor",0.9996012717],PARAMETER["false_easting",400000],PARAMETER["false_northing",-100000],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],AUTHORITY["EPSG","27700"]]"#;

/// Write a workspace to a GeoPackage in British National Grid: the need
/// map (`areas`, with the counts `d` allows), the premises, every boundary
/// set, and the equity table by SIMD quintile. Each layer is one transaction.
pub fn export_workspace(
    path: &Path,
    atlas: &crate::io::workspace::Atlas,
    need: &crate::analysis::NeedMap,
    d: crate::privacy::Disclosure,
) -> Result<Vec<(String, usize)>> {
    let mut gp = GeoPackage::open(path)?;
    let mut written = Vec::new();
    // Areas: the need attributes as the writers give them.
    let props: Vec<serde_json::Map<String, serde_json::Value>> = atlas
        .areas
        .iter()
        .zip(&need.areas)
        .map(|(a, n)| crate::io::writers::area_properties(a, n, need, d))
        .collect();
    let mut names: Vec<String> = Vec::new();
    for p in &props {
        for k in p.keys() {
            if !names.contains(k) {
                names.push(k.clone());
            }
        }
    }
    let rows: Vec<Vec<Value>> = props
        .iter()
        .map(|p| {
            names
                .iter()
                .map(|k| p.get(k).map(Value::from).unwrap_or(Value::Null))
                .collect()
        })
        .collect();
    let fields: Vec<(String, FieldType)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.clone(), FieldType::of(rows.iter().map(|r| &r[i]))))
        .collect();
    let areas = Layer {
        name: "areas".into(),
        srs_id: 27700,
        fields,
        features: atlas
            .areas
            .iter()
            .zip(rows)
            .map(|(a, r)| (Geometry::MultiPolygon(a.geometry.clone()), r))
            .collect(),
    };
    gp.write_layer(&areas)?;
    written.push(("areas".to_string(), areas.features.len()));
    if !atlas.premises.is_empty() {
        let text = |s: &Option<String>| s.clone().map(Value::Text).unwrap_or(Value::Null);
        let layer = Layer {
            name: "premises".into(),
            srs_id: 27700,
            fields: [
                ("premises_id", FieldType::Text),
                ("name", FieldType::Text),
                ("kind", FieldType::Text),
                ("services", FieldType::Text),
                ("capacity", FieldType::Real),
                ("provider", FieldType::Text),
                ("opening_hours", FieldType::Text),
                ("eligibility", FieldType::Text),
            ]
            .iter()
            .map(|(n, t)| (n.to_string(), *t))
            .collect(),
            features: atlas
                .premises
                .iter()
                .map(|p| {
                    (
                        Geometry::Point(Point::new(p.x_m, p.y_m)),
                        vec![
                            Value::Text(p.code.clone()),
                            Value::Text(p.name.clone()),
                            Value::Text(p.kind.clone()),
                            Value::Text(p.services.join(";")),
                            p.capacity.map(Value::Real).unwrap_or(Value::Null),
                            text(&p.provider),
                            text(&p.opening_hours),
                            text(&p.eligibility),
                        ],
                    )
                })
                .collect(),
        };
        gp.write_layer(&layer)?;
        written.push(("premises".into(), layer.features.len()));
    }
    for set in &atlas.boundary_sets {
        let layer = Layer {
            name: set.name.clone(),
            srs_id: 27700,
            fields: vec![
                ("code".into(), FieldType::Text),
                ("name".into(), FieldType::Text),
            ],
            features: set
                .units
                .iter()
                .map(|u| {
                    (
                        Geometry::MultiPolygon(u.geometry.clone()),
                        vec![
                            Value::Text(u.code.clone()),
                            u.name.clone().map(Value::Text).unwrap_or(Value::Null),
                        ],
                    )
                })
                .collect(),
        };
        gp.write_layer(&layer)?;
        written.push((set.name.clone(), layer.features.len()));
    }
    let table = crate::analysis::equity::equity_table(&atlas.areas, need);
    let (h, rows) = crate::io::writers::equity_rows(&table, d);
    let cells: Vec<Vec<Value>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| match c.parse::<i64>() {
                    Ok(i) => Value::Integer(i),
                    Err(_) => c.parse::<f64>().map(Value::Real).unwrap_or_else(|_| {
                        if c.is_empty() {
                            Value::Null
                        } else {
                            Value::Text(c.clone())
                        }
                    }),
                })
                .collect()
        })
        .collect();
    let fields: Vec<(String, FieldType)> = h
        .iter()
        .enumerate()
        .map(|(i, n)| (n.clone(), FieldType::of(cells.iter().map(|r| &r[i]))))
        .collect();
    gp.write_table("equity", &fields, &cells)?;
    written.push(("equity".into(), cells.len()));
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_blobs_round_trip() {
        let sq = Polygon::new(
            LineString::from(vec![(0.0, 0.0), (10.0, 0.0), (10.0, 5.0), (0.0, 0.0)]),
            vec![LineString::from(vec![
                (1.0, 1.0),
                (2.0, 1.0),
                (2.0, 2.0),
                (1.0, 1.0),
            ])],
        );
        for g in [
            Geometry::Point(Point::new(326_000.5, 673_000.25)),
            Geometry::MultiPolygon(MultiPolygon(vec![sq.clone(), sq])),
        ] {
            let b = encode(&g, 27700);
            assert_eq!(&b[0..2], b"GP");
            assert_eq!(i32::from_le_bytes(b[4..8].try_into().expect("srs")), 27700);
            assert_eq!(decode(&b).expect("decodes"), g);
        }
        // Damage is an error, never a panic.
        let b = encode(&Geometry::MultiPolygon(MultiPolygon(vec![])), 27700);
        for cut in 0..b.len() {
            let _ = decode(&b[..cut]);
        }
        assert!(decode(b"GP\0\x03\0\0\0\0\x01\x06\0\0\0\xff\xff\xff\xff").is_err());
    }
}
