//! `?format=csv|geojson|gpkg` on the result routes.
//!
//! A middleware on `/api`: it takes `format` (and `table`) off the query, runs
//! the route as usual (so the JSON is exactly what the requester's role may
//! see, after disclosure control), and converts the JSON body into a
//! [`Table`] by this module's registry, [`ROUTES`]: which array of the JSON is
//! the table (`areas`, `rows`, `premises`, ...; the first one listed unless
//! `table=` names another) and which column joins the rows to a place (an
//! area's polygon, a premises' point, a boundary unit's polygon, or the
//! feature's own geometry for routes that answer GeoJSON). Then the table is
//! written by [`crate::io::export`] with the right `Content-Type` and a
//! `Content-Disposition` naming the file.
//!
//! `format=json` or no `format` leaves the route alone. An unknown format, a
//! route without a table, or an unknown `table` is a 400; `/api/referrals`
//! (referral points: special-category data) is refused with 403 for every role.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::ApiError;
use super::AppState;
use crate::io::export::{layer_name, to_bytes, Format, Shape, Table};
use crate::io::gpkg::Geometry;
use crate::io::Atlas;

/// Where a table's rows are in the route's JSON.
#[derive(Clone, Copy, Debug)]
pub enum Source {
    /// The array at this JSON pointer (e.g. `/areas`).
    Array(&'static str),
    /// The features of a GeoJSON FeatureCollection (their properties).
    Features,
    /// The whole object as one row.
    Object,
    /// Parallel arrays of one value per hour of the week (168, Monday 00:00
    /// first): a row per hour, `hour_of_week` then one column per array, named after it.
    Series(&'static [&'static str]),
}

/// Which layer a unit join looks the code up in.
#[derive(Clone, Copy, Debug)]
pub enum SetName {
    /// The value of this query parameter (e.g. `to` of `/api/rollup`).
    Query(&'static str),
    /// The path segment at this index (e.g. 1 of `/boundaries/{name}`).
    Segment(usize),
}

/// How the rows get their places.
#[derive(Clone, Copy, Debug)]
pub enum Join {
    None,
    /// The column holds an area code: the area's polygon.
    Area(&'static str),
    /// The column holds a premises id: the premises' point.
    Premises(&'static str),
    /// The column holds a unit code of a boundary set (or an area code when
    /// the set named is `areas`); no place when there is no such set.
    Unit(SetName, &'static str),
    /// The feature's own GeoJSON geometry (for [`Source::Features`]).
    Feature,
}

/// One table of a route.
#[derive(Clone, Copy, Debug)]
pub struct TableSpec {
    /// The name `table=` picks it by.
    pub name: &'static str,
    pub source: Source,
    pub join: Join,
}

/// What a route offers for export.
#[derive(Clone, Copy, Debug)]
pub enum Exportable {
    /// Its tables, the default first.
    Tables(&'static [TableSpec]),
    /// Never exported through this path, with the reason.
    Refused(&'static str),
}

const fn t(name: &'static str, source: Source, join: Join) -> TableSpec {
    TableSpec { name, source, join }
}

use Join::{Area, Premises, Unit};
use Source::{Array, Features, Object, Series};

/// The registry: route pattern (under `/api`) and its tables. Routes not
/// listed have no table (`/health`, `/meta`, `/openapi.json`, uploads).
pub const ROUTES: &[(&str, Exportable)] = &[
    (
        "/areas",
        Exportable::Tables(&[t("areas", Features, Area("area_id"))]),
    ),
    (
        "/areas/{id}",
        Exportable::Tables(&[t("area", Object, Area("area_id"))]),
    ),
    (
        "/areas/{id}/hours",
        Exportable::Tables(&[t(
            "by_hour",
            Series(&["/open_in_reach", "/catchment_demand"]),
            Join::None,
        )]),
    ),
    (
        "/equity",
        Exportable::Tables(&[t("rows", Array("/rows"), Join::None)]),
    ),
    (
        "/rollup",
        Exportable::Tables(&[t("units", Array("/units"), Unit(SetName::Query("to"), "code"))]),
    ),
    (
        "/premises",
        Exportable::Tables(&[t("premises", Features, Premises("premises_id"))]),
    ),
    (
        "/premises/{id}",
        Exportable::Tables(&[t("premises", Object, Premises("premises_id"))]),
    ),
    (
        "/premises/{id}/reach",
        Exportable::Tables(&[t("bands", Array("/bands"), Join::None)]),
    ),
    (
        "/premises/{id}/isochrones",
        Exportable::Tables(&[t("isochrones", Features, Join::Feature)]),
    ),
    (
        "/premises/{id}/hours",
        Exportable::Tables(&[t(
            "by_hour",
            Series(&["/open_share", "/catchment_demand"]),
            Join::None,
        )]),
    ),
    (
        "/boundaries",
        Exportable::Tables(&[t("sets", Array("/boundary_sets"), Join::None)]),
    ),
    (
        "/boundaries/{name}",
        Exportable::Tables(&[t(
            "units",
            Features,
            Unit(SetName::Segment(1), "boundary_id"),
        )]),
    ),
    (
        "/search",
        Exportable::Tables(&[t("results", Array("/results"), Area("area_id"))]),
    ),
    (
        "/access",
        Exportable::Tables(&[t("areas", Array("/areas"), Area("area_id"))]),
    ),
    (
        "/gaps",
        Exportable::Tables(&[t("gaps", Array("/gaps"), Area("area_id"))]),
    ),
    (
        "/hours/gap",
        Exportable::Tables(&[
            t("areas", Array("/areas"), Area("area_id")),
            t("premises", Array("/premises"), Premises("premises_id")),
            t(
                "by_hour",
                Series(&["/demand_by_hour", "/unmet_by_hour"]),
                Join::None,
            ),
        ]),
    ),
    (
        "/hours/access",
        Exportable::Tables(&[t("areas", Array("/areas"), Area("area_id"))]),
    ),
    (
        "/hours/extensions",
        Exportable::Tables(&[
            t("ranked", Array("/ranked"), Premises("premises_id")),
            t("by_premises", Array("/by_premises"), Premises("premises_id")),
        ]),
    ),
    (
        "/signpost",
        Exportable::Tables(&[t("results", Array("/results"), Premises("premises_id"))]),
    ),
    (
        "/siting",
        Exportable::Tables(&[
            t("areas", Array("/areas"), Area("area_id")),
            t("sites", Array("/sites"), Premises("premises_id")),
            t("equity", Array("/equity"), Join::None),
        ]),
    ),
    (
        "/coterminosity",
        Exportable::Tables(&[
            t("units_a", Array("/units_a"), Unit(SetName::Query("a"), "code")),
            t("units_b", Array("/units_b"), Unit(SetName::Query("b"), "code")),
            t("matrix", Array("/matrix"), Join::None),
            t("splits", Array("/splits"), Join::None),
            t("lookup", Array("/lookup"), Area("area_id")),
        ]),
    ),
    (
        "/coterminosity/splits",
        Exportable::Tables(&[t("splits", Features, Join::Feature)]),
    ),
    (
        "/design",
        Exportable::Tables(&[
            t("units", Features, Join::Feature),
            t("lookup", Array("/lookup"), Area("area_id")),
        ]),
    ),
    (
        "/trends",
        Exportable::Tables(&[t("areas", Array("/areas"), Area("area_id"))]),
    ),
    (
        "/hotspots",
        Exportable::Tables(&[t("areas", Array("/areas"), Area("area_id"))]),
    ),
    (
        "/projection",
        Exportable::Tables(&[t("areas", Array("/areas"), Area("area_id"))]),
    ),
    (
        "/early-warning",
        Exportable::Tables(&[t("areas", Array("/areas"), Area("area_id"))]),
    ),
    (
        "/scenarios",
        Exportable::Tables(&[t("scenarios", Array("/scenarios"), Join::None)]),
    ),
    (
        "/scenarios/compare",
        Exportable::Tables(&[t("areas", Array("/areas"), Area("area_id"))]),
    ),
    (
        "/scenarios/{name}",
        Exportable::Tables(&[t("edits", Array("/edits"), Join::None)]),
    ),
    (
        "/referrals",
        Exportable::Refused(
            "referral points are special-category data and are never exported; export an aggregate (areas, trends, hours gap...) instead",
        ),
    ),
];

/// The registry entry of a path under `/api` (with or without the prefix)
/// and its path segments.
pub fn lookup(path: &str) -> Option<(&'static str, Exportable)> {
    let path = path.strip_prefix("/api").unwrap_or(path);
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    ROUTES.iter().copied().find(|(pattern, _)| {
        let p: Vec<&str> = pattern.trim_matches('/').split('/').collect();
        p.len() == segs.len()
            && p.iter()
                .zip(&segs)
                .all(|(a, b)| (a.starts_with('{') && !b.is_empty()) || a == b)
    })
}

/// A query split into `format`, `table` and the rest (left as sent).
struct ExportQuery {
    format: Option<String>,
    table: Option<String>,
    rest: String,
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn split_query(q: &str) -> ExportQuery {
    let mut e = ExportQuery {
        format: None,
        table: None,
        rest: String::new(),
    };
    let mut rest: Vec<&str> = Vec::new();
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match decode(k).as_str() {
            "format" => e.format = Some(decode(v)),
            "table" => e.table = Some(decode(v)),
            _ => rest.push(pair),
        }
    }
    e.rest = rest.join("&");
    e
}

/// A query parameter's (decoded) value.
fn query_value(q: &str, name: &str) -> Option<String> {
    q.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k) == name).then(|| decode(v))
    })
}

fn without_query(uri: &Uri, rest: &str) -> Result<Uri, ApiError> {
    let pq = if rest.is_empty() {
        uri.path().to_string()
    } else {
        format!("{}?{rest}", uri.path())
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(
        pq.parse()
            .map_err(|_| ApiError::BadRequest("the query is not valid".into()))?,
    );
    Uri::from_parts(parts).map_err(|_| ApiError::BadRequest("the query is not valid".into()))
}

/// The middleware.
pub async fn export(
    State(s): State<AppState>,
    mut req: Request,
    next: axum::middleware::Next,
) -> Response {
    if req.method() != Method::GET {
        return next.run(req).await;
    }
    let q = split_query(req.uri().query().unwrap_or(""));
    let Some(fmt) = q.format.clone() else {
        return next.run(req).await;
    };
    match without_query(req.uri(), &q.rest) {
        Ok(u) => *req.uri_mut() = u,
        Err(e) => return e.into_response(),
    }
    if fmt.eq_ignore_ascii_case("json") {
        return next.run(req).await;
    }
    let Some(format) = Format::parse(&fmt) else {
        return ApiError::BadRequest(format!(
            "unknown format {fmt:?}: use one of {}",
            Format::NAMES
        ))
        .into_response();
    };
    let path = req.uri().path().to_string();
    let tables = match lookup(&path) {
        Some((_, Exportable::Refused(why))) => {
            return ApiError::Forbidden(why.into()).into_response()
        }
        Some((_, Exportable::Tables(t))) => Some(t),
        None => None,
    };
    let spec = match (tables, q.table.as_deref()) {
        (None, _) => None,
        (Some(ts), None) => ts.first(),
        (Some(ts), Some(name)) => match ts.iter().find(|t| t.name == name) {
            Some(t) => Some(t),
            None => {
                let names: Vec<&str> = ts.iter().map(|t| t.name).collect();
                return ApiError::BadRequest(format!(
                    "{} has no table {name:?}; its tables: {}",
                    display_path(&path),
                    names.join(", ")
                ))
                .into_response();
            }
        },
    };
    let rest = q.rest.clone();
    let resp = next.run(req).await;
    if !resp.status().is_success() {
        return resp;
    }
    let Some(spec) = spec else {
        return ApiError::BadRequest(format!(
            "{} has no table to export as {}; exportable: {}",
            display_path(&path),
            format.extension(),
            exportable_list()
        ))
        .into_response();
    };
    let body = match axum::body::to_bytes(resp.into_body(), usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            return ApiError::Internal(format!("export: reading the body: {e}")).into_response()
        }
    };
    let json: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return ApiError::Internal(format!("export: the body is not JSON: {e}")).into_response()
        }
    };
    let state = s.clone();
    let spec = *spec;
    let name = table_name(&path, spec.name);
    let built = tokio::task::spawn_blocking(move || {
        let t = table_of(&state.atlas, &spec, &json, &name, &path, &rest)?;
        let bytes = to_bytes(&t, format).map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok::<_, ApiError>((t.name, bytes))
    })
    .await;
    match built {
        Ok(Ok((name, bytes))) => (
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(format.content_type()),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_str(&format!(
                        "attachment; filename=\"{name}.{}\"",
                        format.extension()
                    ))
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
                ),
            ],
            Body::from(bytes),
        )
            .into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(e) => ApiError::Internal(format!("export: {e}")).into_response(),
    }
}

fn display_path(path: &str) -> String {
    if path.starts_with("/api") {
        path.to_string()
    } else {
        format!("/api{path}")
    }
}

/// The exportable routes, for error messages.
pub fn exportable_list() -> String {
    ROUTES
        .iter()
        .filter(|(_, e)| matches!(e, Exportable::Tables(_)))
        .map(|(p, _)| format!("/api{p}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The layer name: the path's segments, then the table's name unless the path ends with it.
fn table_name(path: &str, table: &str) -> String {
    let path = path.strip_prefix("/api").unwrap_or(path);
    let base = layer_name(path);
    if base == table || base.ends_with(&format!("_{table}")) {
        base
    } else {
        layer_name(&format!("{base}_{table}"))
    }
}

/// A route's JSON as a table, with places joined.
pub fn table_of(
    atlas: &Atlas,
    spec: &TableSpec,
    json: &Value,
    name: &str,
    path: &str,
    query: &str,
) -> Result<Table, ApiError> {
    let missing = || ApiError::Internal(format!("export: the answer has no table {:?}", spec.name));
    let (items, feature_geoms): (Vec<Value>, Option<Vec<Value>>) = match spec.source {
        Source::Array(ptr) => (
            json.pointer(ptr)
                .and_then(Value::as_array)
                .cloned()
                .ok_or_else(missing)?,
            None,
        ),
        Source::Object => (vec![json.clone()], None),
        Source::Series(ptrs) => {
            let cols: Vec<(&str, &Vec<Value>)> = ptrs
                .iter()
                .map(|p| {
                    json.pointer(p)
                        .and_then(Value::as_array)
                        .map(|a| (p.trim_start_matches('/'), a))
                        .ok_or_else(missing)
                })
                .collect::<Result<_, _>>()?;
            let n = cols.iter().map(|c| c.1.len()).max().unwrap_or(0);
            let rows = (0..n)
                .map(|i| {
                    let mut m = serde_json::Map::new();
                    m.insert("hour_of_week".into(), Value::from(i));
                    for (name, a) in &cols {
                        m.insert(
                            (*name).to_string(),
                            a.get(i).cloned().unwrap_or(Value::Null),
                        );
                    }
                    Value::Object(m)
                })
                .collect();
            (rows, None)
        }
        Source::Features => {
            let fs = json["features"].as_array().ok_or_else(missing)?;
            (
                fs.iter().map(|f| f["properties"].clone()).collect(),
                Some(fs.iter().map(|f| f["geometry"].clone()).collect()),
            )
        }
    };
    let mut table = Table::from_items(name, &items);
    if let Join::Area(c) | Join::Premises(c) | Join::Unit(_, c) = spec.join {
        table.put_first(c);
    }
    let column_shapes =
        |col: &str, f: &dyn Fn(&str) -> Option<Shape>| -> Option<Vec<Option<Shape>>> {
            let k = table.column(col)?;
            Some(
                table
                    .rows
                    .iter()
                    .map(|r| r[k].as_str().and_then(f))
                    .collect(),
            )
        };
    let areas: std::collections::HashMap<&str, &crate::model::Area> = match spec.join {
        Join::Area(_) | Join::Unit(..) => {
            atlas.areas.iter().map(|a| (a.code.as_str(), a)).collect()
        }
        _ => Default::default(),
    };
    let area_shape = |code: &str| {
        areas.get(code).map(|a| Shape {
            bng: Geometry::MultiPolygon(a.geometry.clone()),
            wgs84: Geometry::MultiPolygon(a.geometry_wgs84.clone()),
        })
    };
    let shapes = match spec.join {
        Join::None => None,
        Join::Area(col) => column_shapes(col, &area_shape),
        Join::Premises(col) => {
            let by_code: std::collections::HashMap<&str, &crate::model::Premises> = atlas
                .premises
                .iter()
                .map(|p| (p.code.as_str(), p))
                .collect();
            column_shapes(col, &|code: &str| {
                by_code.get(code).map(|p| Shape {
                    bng: Geometry::Point(geo::Point::new(p.x_m, p.y_m)),
                    wgs84: Geometry::Point(geo::Point::new(p.lon, p.lat)),
                })
            })
        }
        Join::Unit(set, col) => {
            let set_name = match set {
                SetName::Query(q) => query_value(query, q),
                SetName::Segment(i) => path
                    .strip_prefix("/api")
                    .unwrap_or(path)
                    .trim_matches('/')
                    .split('/')
                    .nth(i)
                    .map(decode),
            };
            match set_name.as_deref() {
                Some("areas") => column_shapes(col, &area_shape),
                Some(n) => match atlas.boundary_sets.iter().find(|b| b.name == n) {
                    Some(b) => column_shapes(col, &|code: &str| {
                        let k = b.units.iter().position(|u| u.code == code)?;
                        let u = &b.units[k];
                        Some(Shape {
                            bng: Geometry::MultiPolygon(u.geometry.clone()),
                            wgs84: Geometry::MultiPolygon(u.geometry_wgs84.clone()),
                        })
                    }),
                    None => None,
                },
                None => None,
            }
        }
        Join::Feature => feature_geoms.map(|g| g.iter().map(Shape::from_geojson).collect()),
    };
    table.shapes = shapes;
    Ok(table)
}
