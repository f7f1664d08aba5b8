//! `?format=csv|geojson|gpkg` on the result routes, checked against the
//! route's own JSON for the same role: the CSV has the JSON table's rows,
//! columns and values; the GeoJSON one feature per row with the joined area's
//! or premises' own geometry; the GeoPackage opens in GDAL with the layer,
//! EPSG:27700 and the feature count. Public exports carry only protected
//! counts, and referral points are never exported.

use std::collections::HashMap;

use axum::http::StatusCode;
use serde_json::Value;

use needmap::server::{router, AppState};

use super::{assert_protected_count, expect_error, fixture, get_json};

/// Status, headers and body of a GET, with an optional bearer token.
async fn fetch(
    state: &AppState,
    uri: &str,
    token: Option<&str>,
) -> (StatusCode, HashMap<String, String>, Vec<u8>) {
    let (status, headers, body) = super::send_get(&router(state.clone(), None), uri, token).await;
    let headers = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    (status, headers, body)
}

fn with_format(uri: &str, format: &str) -> String {
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}format={format}")
}

/// The text a JSON value has in a CSV cell (the oracle, written apart from the writer).
fn expected_cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// The rows of a result's table in its JSON: an array, or a FeatureCollection's properties.
fn json_rows(v: &Value, pointer: &str) -> Vec<Value> {
    if pointer == "features" {
        v["features"]
            .as_array()
            .expect("features")
            .iter()
            .map(|f| f["properties"].clone())
            .collect()
    } else {
        v.pointer(pointer)
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("no {pointer} in {v}"))
            .clone()
    }
}

/// The CSV has exactly the JSON table: the same columns, rows and values.
fn assert_csv_matches(what: &str, csv_bytes: &[u8], rows: &[Value]) {
    let mut r = csv::Reader::from_reader(csv_bytes);
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let mut keys: Vec<String> = Vec::new();
    for row in rows {
        for k in row.as_object().expect("object rows").keys() {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    let mut a = header.clone();
    let mut b = keys.clone();
    a.sort();
    b.sort();
    assert_eq!(a, b, "{what}: CSV columns");
    let records: Vec<csv::StringRecord> = r.records().map(|x| x.expect("record")).collect();
    assert_eq!(records.len(), rows.len(), "{what}: CSV rows");
    for (i, (rec, row)) in records.iter().zip(rows).enumerate() {
        for (k, col) in header.iter().enumerate() {
            match &row[col] {
                // Numbers compare as numbers (25.0 may be written 25).
                Value::Number(n) => assert_eq!(
                    rec[k].parse::<f64>().ok(),
                    n.as_f64(),
                    "{what}: row {i} column {col}"
                ),
                v => assert_eq!(rec[k], expected_cell(v), "{what}: row {i} column {col}"),
            }
        }
    }
}

fn in_scotland(lon: f64, lat: f64) -> bool {
    (-9.5..=0.0).contains(&lon) && (54.5..=61.0).contains(&lat)
}

fn all_coords(g: &Value, out: &mut Vec<(f64, f64)>) {
    match g {
        Value::Array(a) if a.len() == 2 && a.iter().all(Value::is_number) => {
            out.push((a[0].as_f64().expect("lon"), a[1].as_f64().expect("lat")))
        }
        Value::Array(a) => a.iter().for_each(|x| all_coords(x, out)),
        _ => {}
    }
}

/// How the rows of a table are placed, for the GeoJSON check.
enum Place {
    None,
    Area(&'static str),
    Premises(&'static str),
}

/// The GeoJSON has one feature per row, in order, with the row's values,
/// lon/lat in Scotland, and the joined area's (or premises') own geometry.
async fn assert_geojson_matches(what: &str, body: &[u8], rows: &[Value], place: &Place) {
    let v: Value = serde_json::from_slice(body).expect("GeoJSON");
    assert_eq!(v["type"], "FeatureCollection", "{what}");
    let feats = v["features"].as_array().expect("features");
    assert_eq!(feats.len(), rows.len(), "{what}: features");
    let areas = get_json("/api/areas").await;
    let area_geom: HashMap<String, Value> = areas["features"]
        .as_array()
        .expect("areas")
        .iter()
        .map(|f| {
            (
                f["properties"]["area_id"].as_str().expect("id").to_string(),
                f["geometry"].clone(),
            )
        })
        .collect();
    let premises = get_json("/api/premises").await;
    let premises_geom: HashMap<String, Value> = premises["features"]
        .as_array()
        .expect("premises")
        .iter()
        .map(|f| {
            (
                f["properties"]["premises_id"]
                    .as_str()
                    .expect("id")
                    .to_string(),
                f["geometry"].clone(),
            )
        })
        .collect();
    for (i, (f, row)) in feats.iter().zip(rows).enumerate() {
        for (k, val) in row.as_object().expect("row") {
            assert_eq!(&f["properties"][k], val, "{what}: feature {i} {k}");
        }
        let g = &f["geometry"];
        let want = match place {
            Place::None => {
                assert!(
                    g.is_null(),
                    "{what}: a table without places has null geometry"
                );
                continue;
            }
            Place::Area(col) => &area_geom[row[*col].as_str().expect("area code")],
            Place::Premises(col) => &premises_geom[row[*col].as_str().expect("premises id")],
        };
        assert_eq!(g, want, "{what}: feature {i} geometry");
        let mut cs = Vec::new();
        all_coords(&g["coordinates"], &mut cs);
        assert!(!cs.is_empty(), "{what}: feature {i} has coordinates");
        assert!(
            cs.iter().all(|&(x, y)| in_scotland(x, y)),
            "{what}: feature {i} is not lon/lat in Scotland"
        );
    }
}

/// (uri, table= or "", rows in the JSON, place of a row)
fn results() -> Vec<(String, &'static str, &'static str, Place)> {
    let kind = "social_work_office";
    vec![
        ("/api/areas".into(), "", "features", Place::Area("area_id")),
        (
            format!("/api/hours/gap?kind={kind}"),
            "",
            "/areas",
            Place::Area("area_id"),
        ),
        (
            format!("/api/hours/gap?kind={kind}"),
            "premises",
            "/premises",
            Place::Premises("premises_id"),
        ),
        (
            "/api/siting?model=mclp&candidates=school&p=3".into(),
            "",
            "/areas",
            Place::Area("area_id"),
        ),
        (
            "/api/siting?model=mclp&candidates=school&p=3".into(),
            "sites",
            "/sites",
            Place::Premises("premises_id"),
        ),
        (
            "/api/access?kind=school".into(),
            "",
            "/areas",
            Place::Area("area_id"),
        ),
        ("/api/trends".into(), "", "/areas", Place::Area("area_id")),
        (
            "/api/early-warning?rate_min=50&growth_min=0.05".into(),
            "",
            "/areas",
            Place::Area("area_id"),
        ),
        ("/api/equity".into(), "", "/rows", Place::None),
    ]
}

fn table_uri(uri: &str, table: &str, format: &str) -> String {
    let u = with_format(uri, format);
    if table.is_empty() {
        u
    } else {
        format!("{u}&table={table}")
    }
}

#[tokio::test]
async fn csv_and_geojson_exports_equal_the_json_of_each_result() {
    let state = &fixture().state;
    for (uri, table, pointer, place) in results() {
        let json = get_json(&uri).await;
        let rows = json_rows(&json, pointer);
        assert!(!rows.is_empty(), "{uri}: the fixture gives rows");
        let what = format!("{uri} table {table:?}");

        let (st, h, body) = fetch(state, &table_uri(&uri, table, "csv"), None).await;
        assert_eq!(
            st,
            StatusCode::OK,
            "{what}: {}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(h["content-type"], "text/csv; charset=utf-8", "{what}");
        assert!(
            h["content-disposition"].starts_with("attachment; filename=\"")
                && h["content-disposition"].ends_with(".csv\""),
            "{what}: {}",
            h["content-disposition"]
        );
        assert_csv_matches(&what, &body, &rows);

        let (st, h, body) = fetch(state, &table_uri(&uri, table, "geojson"), None).await;
        assert_eq!(st, StatusCode::OK, "{what}");
        assert_eq!(h["content-type"], "application/geo+json", "{what}");
        assert_geojson_matches(&what, &body, &rows, &place).await;

        // format=json is the route unchanged.
        let (st, _, body) = fetch(state, &with_format(&uri, "json"), None).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(serde_json::from_slice::<Value>(&body).expect("json"), json);
    }
}

fn ogrinfo() -> bool {
    let found = std::process::Command::new("ogrinfo")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "ogrinfo (gdal-bin) is missing on CI: scripts/test installs it"
        );
        eprintln!("skipping the GDAL check: ogrinfo (Debian gdal-bin) is not installed");
    }
    found
}

#[tokio::test]
async fn geopackage_exports_open_in_gdal_with_layer_crs_and_count() {
    let state = &fixture().state;
    let dir = tempfile::tempdir().expect("tempdir");
    let gdal = ogrinfo();
    for (k, (uri, table, pointer, place)) in results().into_iter().enumerate() {
        let json = get_json(&uri).await;
        let n = json_rows(&json, pointer).len();
        let (st, h, body) = fetch(state, &table_uri(&uri, table, "gpkg"), None).await;
        assert_eq!(st, StatusCode::OK, "{uri}");
        assert_eq!(h["content-type"], "application/geopackage+sqlite3");
        let name = h["content-disposition"]
            .trim_start_matches("attachment; filename=\"")
            .trim_end_matches(".gpkg\"")
            .to_string();
        let path = dir.path().join(format!("{k}.gpkg"));
        std::fs::write(&path, &body).expect("write");
        // Read back with our own reader first (no GDAL needed).
        let gp = needmap::io::gpkg::GeoPackage::open(&path).expect("a GeoPackage");
        let contents = gp.contents().expect("contents");
        assert_eq!(contents.len(), 1, "{uri}: one layer: {contents:?}");
        assert_eq!(contents[0].0, name, "{uri}");
        match place {
            Place::None => assert_eq!(contents[0].1, "attributes", "{uri}"),
            _ => {
                assert_eq!(contents[0].1, "features", "{uri}");
                assert_eq!(contents[0].2, Some(27700), "{uri}");
            }
        }
        drop(gp);
        if !gdal {
            continue;
        }
        let out = std::process::Command::new("ogrinfo")
            .args(["-ro", "-so"])
            .arg(&path)
            .arg(&name)
            .output()
            .expect("ogrinfo runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{uri}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains(&format!("Feature Count: {n}")),
            "{uri}: {n} features wanted: {text}"
        );
        if !matches!(place, Place::None) {
            assert!(
                text.contains("27700") && text.contains("British National Grid"),
                "{uri}: not EPSG:27700: {text}"
            );
        }
    }
}

#[tokio::test]
async fn public_exports_show_only_protected_counts_and_planners_exact_ones() {
    let fx = super::auth::fx();
    let state = &fx.state;
    let planner = Some(super::auth::PLANNER);
    // The need map: the public CSV holds what the public JSON holds, never a
    // count the JSON suppressed; the planner's export holds exact counts.
    let (_, _, public_csv) = fetch(state, "/api/areas?format=csv", None).await;
    let (_, _, exact_csv) = fetch(state, "/api/areas?format=csv", planner).await;
    let (_, _, exact_json) = fetch(state, "/api/areas", planner).await;
    let exact_json: Value = serde_json::from_slice(&exact_json).expect("json");
    let exact: HashMap<String, f64> = json_rows(&exact_json, "features")
        .iter()
        .map(|p| {
            (
                p["area_id"].as_str().expect("id").to_string(),
                p["referrals"].as_f64().expect("planners see numbers"),
            )
        })
        .collect();
    let read = |b: &[u8]| -> Vec<HashMap<String, String>> {
        let mut r = csv::Reader::from_reader(b);
        let h: Vec<String> = r.headers().expect("h").iter().map(str::to_string).collect();
        r.records()
            .map(|x| {
                let x = x.expect("record");
                h.iter()
                    .cloned()
                    .zip(x.iter().map(str::to_string))
                    .collect()
            })
            .collect()
    };
    let mut small = 0;
    for row in read(&public_csv) {
        let c = &row["referrals"];
        if c != "[c]" {
            // "[c]": withheld by the differencing audit.
            assert_protected_count(
                &c.parse::<f64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| Value::from(c.as_str())),
                "public CSV referrals",
            );
        }
        let e = exact[&row["area_id"]];
        if e > 0.0 && e < 10.0 {
            small += 1;
            assert_eq!(c, "<10", "a small count leaks in the public export");
            assert_eq!(
                row["rate_per_1000"], "",
                "a rate where the count is suppressed"
            );
        }
    }
    assert!(small > 0, "the fixture has small counts");
    for row in read(&exact_csv) {
        assert_eq!(
            row["referrals"].parse::<f64>().ok(),
            Some(exact[&row["area_id"]]),
            "planner export is exact"
        );
    }
    // The hours gap: the public export equals the public JSON, counts protected.
    let uri = "/api/hours/gap?kind=social_work_office";
    let (_, _, public_json) = fetch(state, uri, None).await;
    let public_json: Value = serde_json::from_slice(&public_json).expect("json");
    let (st, _, csv) = fetch(state, &with_format(uri, "csv"), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_csv_matches(uri, &csv, &json_rows(&public_json, "/areas"));
    // No public export carries a point other than a premises.
    let premises: Vec<(f64, f64)> = state
        .atlas
        .premises
        .iter()
        .map(|p| (p.lon, p.lat))
        .collect();
    for uri in [
        "/api/areas?format=geojson",
        "/api/hours/gap?kind=social_work_office&table=premises&format=geojson",
        "/api/trends?format=geojson",
    ] {
        let (st, _, body) = fetch(state, uri, None).await;
        assert_eq!(st, StatusCode::OK, "{uri}");
        let v: Value = serde_json::from_slice(&body).expect("geojson");
        for f in v["features"].as_array().expect("features") {
            if f["geometry"]["type"] == "Point" {
                let c = &f["geometry"]["coordinates"];
                let (x, y) = (c[0].as_f64().expect("x"), c[1].as_f64().expect("y"));
                assert!(
                    premises
                        .iter()
                        .any(|&(px, py)| (px - x).abs() < 1e-6 && (py - y).abs() < 1e-6),
                    "{uri}: a point that is not a premises"
                );
            }
        }
    }
}

#[tokio::test]
async fn referral_points_are_never_exported_for_any_role() {
    let fx = super::auth::fx();
    let state = &fx.state;
    let b = state.atlas.bbox_wgs84();
    let bbox = format!("{},{},{},{}", b[0], b[1], b[2], b[3]);
    let purpose = "export-test-must-not-be-audited";
    for token in [None, Some(super::auth::PLANNER), Some(super::auth::STEWARD)] {
        for format in ["csv", "geojson", "gpkg", "CSV"] {
            let uri = format!("/api/referrals?bbox={bbox}&purpose={purpose}&format={format}");
            let (st, h, body) = fetch(state, &uri, token).await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{uri} as {token:?}");
            assert_eq!(h["content-type"], "application/json");
            let v: Value = serde_json::from_slice(&body).expect("JSON error");
            assert_eq!(v["error"], "forbidden");
            assert!(v["message"]
                .as_str()
                .is_some_and(|m| m.contains("referral")));
        }
    }
    // Refused before the route ran: the steward's request was never audited.
    let log = std::fs::read_to_string(state.audit.path()).unwrap_or_default();
    assert!(
        !log.contains(purpose),
        "a refused export reached the audit log"
    );
}

#[tokio::test]
async fn bad_export_requests_are_json_400s() {
    let v = expect_error("GET", "/api/areas?format=xlsx", StatusCode::BAD_REQUEST).await;
    let m = v["message"].as_str().expect("message");
    for f in ["csv", "geojson", "gpkg", "xlsx"] {
        assert!(m.contains(f), "{m}");
    }
    let v = expect_error("GET", "/api/meta?format=csv", StatusCode::BAD_REQUEST).await;
    assert!(
        v["message"].as_str().expect("m").contains("no table"),
        "{v}"
    );
    let v = expect_error(
        "GET",
        "/api/siting?model=mclp&candidates=school&p=3&format=csv&table=nope",
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(v["message"].as_str().expect("m").contains("sites"), "{v}");
    // The route's own errors come through unchanged.
    expect_error("GET", "/api/hours/gap?format=csv", StatusCode::BAD_REQUEST).await;
    expect_error("GET", "/api/areas/NOPE?format=csv", StatusCode::NOT_FOUND).await;
    expect_error("GET", "/api/nothing?format=csv", StatusCode::NOT_FOUND).await;
}

/// A request for each route of the export registry.
fn sample_uri(pattern: &str) -> String {
    let f = fixture();
    let premises = &f.state.atlas.premises[0].code;
    let area = &f.state.atlas.areas[0].code;
    let p = &f.state.atlas.premises[0];
    match pattern {
        "/areas" => "/api/areas".into(),
        "/areas/{id}" => format!("/api/areas/{area}"),
        "/areas/{id}/hours" => format!("/api/areas/{area}/hours?kind=social_work_office"),
        "/equity" => "/api/equity".into(),
        "/rollup" => "/api/rollup?to=teams".into(),
        "/premises" => "/api/premises".into(),
        "/premises/{id}" => format!("/api/premises/{premises}"),
        "/premises/{id}/reach" => format!("/api/premises/{premises}/reach"),
        "/premises/{id}/isochrones" => format!("/api/premises/{premises}/isochrones?bands_min=3,6"),
        "/premises/{id}/hours" => format!("/api/premises/{premises}/hours"),
        "/boundaries" => "/api/boundaries".into(),
        "/boundaries/{name}" => "/api/boundaries/teams".into(),
        "/search" => "/api/search?q=dz0000".into(),
        "/access" => "/api/access?kind=school".into(),
        "/gaps" => "/api/gaps?kind=school&threshold_min=5".into(),
        "/hours/gap" => "/api/hours/gap?kind=social_work_office".into(),
        "/hours/access" => "/api/hours/access?kind=social_work_office&hour=10".into(),
        "/hours/extensions" => "/api/hours/extensions?kind=social_work_office".into(),
        "/signpost" => format!(
            "/api/signpost?lon={}&lat={}&service={}&at=2024-03-05T10:00",
            p.lon, p.lat, p.kind
        ),
        "/siting" => "/api/siting?model=mclp&candidates=school&p=3".into(),
        "/coterminosity" => "/api/coterminosity?a=teams&b=localities".into(),
        "/coterminosity/splits" => "/api/coterminosity/splits?a=teams&b=localities".into(),
        "/design" => "/api/design?parent=council_code&target=localities".into(),
        "/trends" => "/api/trends".into(),
        "/hotspots" => "/api/hotspots".into(),
        "/projection" => "/api/projection".into(),
        "/early-warning" => "/api/early-warning?rate_min=50&growth_min=0.05".into(),
        "/scenarios" => "/api/scenarios".into(),
        "/scenarios/compare" => "/api/scenarios/compare?b=baseline&kind=school".into(),
        "/scenarios/{name}" => "/api/scenarios/baseline".into(),
        other => panic!("no sample request for the exportable route {other}: add one"),
    }
}

#[tokio::test]
async fn every_registered_table_exports_its_rows_in_every_format() {
    use needmap::server::export::{Exportable, Join, Source, ROUTES};
    let state = &fixture().state;
    let mut tested = 0;
    for (pattern, what) in ROUTES {
        let Exportable::Tables(tables) = what else {
            continue;
        };
        let uri = sample_uri(pattern);
        let json = get_json(&uri).await;
        for t in tables.iter() {
            let rows = match t.source {
                Source::Array(ptr) => json.pointer(ptr).and_then(Value::as_array).map(Vec::len),
                Source::Features => json["features"].as_array().map(Vec::len),
                Source::Object => Some(1),
                Source::Series(ptrs) => json
                    .pointer(ptrs[0])
                    .and_then(Value::as_array)
                    .map(Vec::len),
            }
            .unwrap_or_else(|| panic!("{uri}: no table {} in {json}", t.name));
            let what = format!("{uri} table {}", t.name);
            let (st, _, csv) = fetch(state, &table_uri(&uri, t.name, "csv"), None).await;
            assert_eq!(
                st,
                StatusCode::OK,
                "{what}: {}",
                String::from_utf8_lossy(&csv)
            );
            let n = csv::Reader::from_reader(csv.as_slice()).records().count();
            assert_eq!(n, rows, "{what}: CSV rows");
            let (st, _, gj) = fetch(state, &table_uri(&uri, t.name, "geojson"), None).await;
            assert_eq!(st, StatusCode::OK, "{what}");
            let gj: Value = serde_json::from_slice(&gj).expect("geojson");
            let feats = gj["features"].as_array().expect("features");
            assert_eq!(feats.len(), rows, "{what}: features");
            if !matches!(t.join, Join::None) && rows > 0 {
                assert!(
                    feats.iter().all(|f| f["geometry"].is_object()),
                    "{what}: every row has its place"
                );
            }
            let (st, _, gp) = fetch(state, &table_uri(&uri, t.name, "gpkg"), None).await;
            assert_eq!(st, StatusCode::OK, "{what}");
            assert!(gp.starts_with(b"SQLite format 3\0"), "{what}: not SQLite");
            tested += 1;
        }
    }
    assert!(tested >= 40, "only {tested} tables");
}
