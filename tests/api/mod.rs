//! In-process HTTP tests: `server::router(state)` driven with `oneshot`, on a
//! small demo region. Every route, bad requests, and the privacy guarantee
//! that no public response carries a referral or an unsuppressed small count.

mod auth;
mod boundaries;
mod disclosure;
mod export;
mod hardening;
mod hours;
#[cfg(feature = "postgis")]
mod pgtiles;
mod scenarios;
mod siting;
mod trends;
mod uploads;

use std::sync::{Arc, OnceLock};

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use axum::Router;
use serde_json::Value;
use tower::ServiceExt;

use needmap::demo::{write_demo, DemoSpec};
use needmap::io::workspace::{load_workspace, LoadOptions};
use needmap::server::{router, AppState, Prepared};
use needmap::Config;

struct Fixture {
    state: AppState,
    referrals_csv: String,
    _dir: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = DemoSpec {
            areas: 240,
            referrals: 6_000,
            seed: 11,
        };
        let summary = write_demo(dir.path(), &spec).expect("demo");
        let cfg = Config::load(&summary.config).expect("config");
        let atlas = match load_workspace(&cfg, &LoadOptions::default()) {
            Ok(a) => a,
            Err(r) => panic!("demo does not load: {r}"),
        };
        let referrals_csv =
            std::fs::read_to_string(dir.path().join("referrals.csv")).expect("referrals");
        Fixture {
            state: Arc::new(Prepared::new(atlas)),
            referrals_csv,
            _dir: dir,
        }
    })
}

fn app() -> Router {
    router(fixture().state.clone(), None)
}

async fn call(method: &str, uri: &str) -> (StatusCode, String, Option<String>) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .expect("request");
    let resp = app().oneshot(req).await.expect("response");
    let status = resp.status();
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = to_bytes(resp.into_body(), 64 << 20).await.expect("body");
    (
        status,
        String::from_utf8(body.to_vec()).expect("utf-8"),
        ctype,
    )
}

async fn get_json(uri: &str) -> Value {
    let (status, body, _) = call("GET", uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{uri}: not JSON ({e}): {body}"))
}

async fn expect_error(method: &str, uri: &str, status: StatusCode) -> Value {
    let (s, body, ctype) = call(method, uri).await;
    assert_eq!(s, status, "{method} {uri}: {body}");
    assert_eq!(ctype.as_deref(), Some("application/json"), "{uri}");
    let v: Value = serde_json::from_str(&body).expect("error body is JSON");
    assert!(
        v["error"].is_string() && v["message"].is_string(),
        "{uri}: {v}"
    );
    v
}

/// A published count: a string "<10", or a number that is 0 or a multiple of 5 at least 10.
fn assert_protected_count(v: &Value, what: &str) {
    match v {
        Value::String(s) => assert_eq!(s, "<10", "{what}"),
        Value::Number(n) => {
            let x = n.as_f64().expect("number");
            assert!(x >= 10.0 && x % 5.0 == 0.0, "{what}: unprotected count {x}");
        }
        other => panic!("{what}: count {other} is neither a number nor <10"),
    }
}

#[tokio::test]
async fn health_and_meta() {
    let h = get_json("/api/health").await;
    assert_eq!(h["status"], "ok");
    assert_eq!(h["areas"], 240);
    let m = get_json("/api/meta").await;
    assert_eq!(m["areas"], 240);
    assert_eq!(m["role"], "public");
    assert_eq!(
        m["boundary_sets"],
        serde_json::json!(["localities", "teams"])
    );
    let b = m["bbox_wgs84"].as_array().expect("bbox");
    assert!(b[0].as_f64() < b[2].as_f64() && b[1].as_f64() < b[3].as_f64());
}

#[tokio::test]
async fn areas_geojson_is_protected() {
    let (status, body, ctype) = call("GET", "/api/areas").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ctype.as_deref(), Some("application/geo+json"));
    let v: Value = serde_json::from_str(&body).expect("json");
    let feats = v["features"].as_array().expect("features");
    assert_eq!(feats.len(), 240);
    let mut suppressed = 0;
    for f in feats {
        let p = &f["properties"];
        assert_protected_count(&p["referrals"], "referrals");
        if p["referrals"] == "<10" {
            suppressed += 1;
            assert!(
                p["rate_per_1000"].is_null(),
                "rate shown where the count is suppressed: {p}"
            );
        }
        for (k, val) in p.as_object().expect("props") {
            if k.starts_with("referrals_") {
                assert_protected_count(val, k);
            }
        }
        assert!(matches!(
            f["geometry"]["type"].as_str(),
            Some("Polygon" | "MultiPolygon")
        ));
    }
    // The demo has quiet areas; the test is only meaningful if some counts were suppressed.
    assert!(suppressed > 0, "no suppressed area in the fixture");
}

#[tokio::test]
async fn one_area_and_unknown_area() {
    let a = get_json("/api/areas/DZ000001").await;
    assert_eq!(a["area_id"], "DZ000001");
    assert!(a["parents"]["council_code"].is_string());
    assert!(a["indicators"]["simd_rank"].is_number());
    for (g, c) in a["referrals_by_group"].as_object().expect("groups") {
        assert_protected_count(c, g);
    }
    expect_error("GET", "/api/areas/NOPE", StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn equity_table_has_five_quintiles() {
    let e = get_json("/api/equity").await;
    let rows = e["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 5);
    let pop: f64 = rows
        .iter()
        .map(|r| r["population"].as_f64().expect("pop"))
        .sum();
    assert_eq!(pop, e["total"]["population"].as_f64().expect("total"));
    for r in rows {
        assert_protected_count(&r["referrals"], "equity referrals");
    }
}

#[tokio::test]
async fn rollups_and_bad_rollups() {
    let r = get_json("/api/rollup?to=council_code").await;
    assert!(!r["units"].as_array().expect("units").is_empty());
    let t = get_json("/api/rollup?to=teams").await;
    let pop: f64 = t["units"]
        .as_array()
        .expect("units")
        .iter()
        .map(|u| u["population"].as_f64().unwrap_or(0.0))
        .sum();
    let total: f64 = fixture()
        .state
        .atlas
        .areas
        .iter()
        .filter_map(|a| a.population)
        .sum();
    // Unit populations are rounded to whole people in the response.
    assert!(
        (pop - total).abs() <= t["units"].as_array().map(|u| u.len()).unwrap_or(0) as f64,
        "{pop} vs {total}"
    );
    expect_error("GET", "/api/rollup?to=nonsense", StatusCode::NOT_FOUND).await;
    expect_error("GET", "/api/rollup", StatusCode::BAD_REQUEST).await;
    expect_error(
        "GET",
        "/api/rollup?to=teams&colour=red",
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn premises_and_boundaries() {
    let p = get_json("/api/premises").await;
    let feats = p["features"].as_array().expect("features");
    assert_eq!(feats.len(), fixture().state.atlas.premises.len());
    assert!(feats
        .iter()
        .all(|f| f["geometry"]["type"] == "Point" && f["properties"]["kind"].is_string()));
    let sets = get_json("/api/boundaries").await;
    assert_eq!(sets["boundary_sets"].as_array().map(|a| a.len()), Some(2));
    let teams = get_json("/api/boundaries/teams").await;
    assert!(!teams["features"].as_array().expect("features").is_empty());
    expect_error("GET", "/api/boundaries/nope", StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn search_and_bad_search() {
    let s = get_json("/api/search?q=dz00000").await;
    let results = s["results"].as_array().expect("results");
    assert!(!results.is_empty() && results.len() <= 20);
    assert!(results.iter().all(|r| r["area_id"]
        .as_str()
        .is_some_and(|c| c.starts_with("DZ00000"))));
    let exact = get_json("/api/search?q=DZ000017").await;
    assert_eq!(exact["results"][0]["area_id"], "DZ000017");
    expect_error("GET", "/api/search?q=", StatusCode::BAD_REQUEST).await;
    expect_error("GET", "/api/search", StatusCode::BAD_REQUEST).await;
    expect_error("GET", "/api/search?q=a&limit=x", StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json_4xx() {
    expect_error("GET", "/api/nothing/here", StatusCode::NOT_FOUND).await;
    expect_error("POST", "/api/areas", StatusCode::METHOD_NOT_ALLOWED).await;
    expect_error("DELETE", "/api/equity", StatusCode::METHOD_NOT_ALLOWED).await;
}

#[tokio::test]
async fn no_public_response_carries_a_referral() {
    let f = fixture();
    // Every referral's case reference and its exact easting/northing pair.
    let mut refs = Vec::new();
    let mut pairs = Vec::new();
    for line in f.referrals_csv.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        refs.push(cells[0].to_string());
        pairs.push(format!("{},{}", cells[1], cells[2]));
    }
    let routes = [
        "/api/health",
        "/api/meta",
        "/api/areas",
        "/api/areas/DZ000001",
        "/api/equity",
        "/api/rollup?to=council_code",
        "/api/rollup?to=iz_code",
        "/api/rollup?to=localities",
        "/api/premises",
        "/api/boundaries/teams",
        "/api/search?q=DZ",
        "/api/hours/gap?kind=social_work_office",
        "/api/hours/extensions?kind=social_work_office",
        "/api/hours/access?kind=social_work_office&hour=34",
        "/api/areas/DZ000001/hours?kind=social_work_office",
        "/api/premises/SOC-0001/hours",
    ];
    let premises: Vec<[f64; 2]> = f
        .state
        .atlas
        .premises
        .iter()
        .map(|p| [p.lon, p.lat])
        .collect();
    for r in routes {
        let (status, body, _) = call("GET", r).await;
        assert_eq!(status, StatusCode::OK, "{r}");
        for id in refs.iter().take(2000) {
            assert!(!body.contains(id.as_str()), "{r} carries referral {id}");
        }
        for p in pairs.iter().take(2000) {
            assert!(
                !body.contains(p.as_str()),
                "{r} carries referral coordinates {p}"
            );
        }
        // The only points in any response are premises.
        let v: Value = serde_json::from_str(&body).expect("json");
        if let Some(feats) = v["features"].as_array() {
            for ft in feats {
                if ft["geometry"]["type"] == "Point" {
                    let c = &ft["geometry"]["coordinates"];
                    let (x, y) = (c[0].as_f64().expect("x"), c[1].as_f64().expect("y"));
                    assert!(
                        premises
                            .iter()
                            .any(|p| (p[0] - x).abs() < 1e-6 && (p[1] - y).abs() < 1e-6),
                        "{r}: point ({x}, {y}) is not a premises"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn responses_are_compressed_when_asked() {
    let req = Request::builder()
        .uri("/api/areas")
        .header("accept-encoding", "gzip")
        .body(Body::empty())
        .expect("request");
    let resp = app().oneshot(req).await.expect("response");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
}

// ---------------------------------------------------------------------------
// OpenAPI

#[tokio::test]
async fn openapi_describes_every_route_and_every_described_route_answers() {
    let doc = get_json("/api/openapi.json").await;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    let routes = [
        "/api/health",
        "/api/meta",
        "/api/openapi.json",
        "/api/areas",
        "/api/areas/{id}",
        "/api/equity",
        "/api/rollup",
        "/api/premises",
        "/api/boundaries",
        "/api/boundaries/{name}",
        "/api/search",
        "/api/access",
        "/api/gaps",
        "/api/premises/{id}/reach",
        "/api/premises/{id}/isochrones",
        "/api/premises/{id}/hours",
        "/api/hours/gap",
        "/api/hours/access",
        "/api/hours/extensions",
        "/api/areas/{id}/hours",
        "/api/signpost",
        "/api/siting",
        "/api/referrals",
        "/api/coterminosity",
        "/api/coterminosity/splits",
        "/api/design",
        "/api/trends",
        "/api/uploads/referrals",
        "/api/uploads/premises/{layer}",
        "/api/uploads/boundaries/{name}",
        "/api/premises/{id}",
        "/api/hotspots",
        "/api/projection",
        "/api/early-warning",
        "/api/scenarios",
        "/api/scenarios/compare",
        "/api/scenarios/{name}",
        "/tiles/{layer}/{z}/{x}/{y}",
        "/tiles/{name}",
    ];
    for r in routes {
        assert!(paths.contains_key(r), "{r} is not in the OpenAPI document");
    }
    assert_eq!(
        paths.len(),
        routes.len(),
        "the document describes routes the test does not know"
    );
    for (p, item) in paths {
        if item.get("get").is_none() {
            // Uploads are POST only; their tests are in api::uploads.
            continue;
        }
        let first = &fixture().state.atlas.premises[0].code;
        let p = &p
            .replace(
                "/api/premises/{id}/reach",
                &format!("/api/premises/{first}/reach"),
            )
            .replace(
                "/api/premises/{id}/isochrones",
                &format!("/api/premises/{first}/isochrones"),
            )
            .replace(
                "/api/premises/{id}/hours",
                &format!("/api/premises/{first}/hours"),
            )
            .replace("/api/premises/{id}", &format!("/api/premises/{first}"));
        let uri = p
            .replace("{id}", "DZ000001")
            .replace("{name}", "teams")
            .replace("{layer}", "areas")
            .replace("{z}", "0")
            .replace("{x}", "0")
            .replace("{y}", "0.mvt")
            .replace("/tiles/teams", "/tiles/teams.json");
        let uri = match uri.as_str() {
            "/api/rollup" => "/api/rollup?to=teams".to_string(),
            "/api/search" => "/api/search?q=DZ".to_string(),
            "/api/access" => "/api/access?kind=school".to_string(),
            "/api/gaps" => "/api/gaps?kind=school".to_string(),
            "/api/hours/gap" => "/api/hours/gap?kind=school".to_string(),
            "/api/hours/access" => "/api/hours/access?kind=school&hour=10".to_string(),
            "/api/hours/extensions" => "/api/hours/extensions?kind=school".to_string(),
            "/api/areas/DZ000001/hours" => "/api/areas/DZ000001/hours?kind=school".to_string(),
            "/api/siting" => "/api/siting?model=mclp&candidates=school&p=3".to_string(),
            "/api/scenarios/compare" => "/api/scenarios/compare?b=baseline&kind=school".to_string(),
            "/api/scenarios/teams" => "/api/scenarios/baseline".to_string(),
            "/api/coterminosity" => "/api/coterminosity?a=teams&b=localities".to_string(),
            "/api/coterminosity/splits" => {
                "/api/coterminosity/splits?a=teams&b=localities".to_string()
            }
            "/api/design" => "/api/design?parent=council_code&target=localities".to_string(),
            "/api/referrals" => "/api/referrals?bbox=-4,55,-3,56".to_string(),
            "/api/hotspots" => "/api/hotspots?emerging=true".to_string(),
            "/api/signpost" => {
                let p = &fixture().state.atlas.premises[0];
                format!("/api/signpost?lon={}&lat={}", p.lon, p.lat)
            }
            "/api/premises/{id}/reach" => format!(
                "/api/premises/{}/reach",
                fixture().state.atlas.premises[0].code
            ),
            _ => uri,
        };
        let (status, body, _) = get_tile(&uri, false).await;
        if uri.starts_with("/api/referrals") {
            // Points need a token: anonymous requests are refused.
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            continue;
        }
        assert!(
            status.is_success(),
            "{uri}: {status} {}",
            String::from_utf8_lossy(&body)
        );
    }
}

// ---------------------------------------------------------------------------
// Vector tiles, read back with a protobuf reader written here.

fn read_varint(b: &[u8], i: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let byte = b[*i];
        *i += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return v;
        }
        shift += 7;
    }
}

/// (field, wire type, varint value or byte range)
fn fields(b: &[u8]) -> Vec<(u64, u64, u64, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let k = read_varint(b, &mut i);
        let (field, wire) = (k >> 3, k & 7);
        match wire {
            0 => {
                let v = read_varint(b, &mut i);
                out.push((field, wire, v, 0..0));
            }
            1 => {
                out.push((field, wire, 0, i..i + 8));
                i += 8;
            }
            2 => {
                let len = read_varint(b, &mut i) as usize;
                out.push((field, wire, 0, i..i + len));
                i += len;
            }
            other => panic!("unexpected wire type {other}"),
        }
    }
    out
}

struct DecodedFeature {
    id: u64,
    props: std::collections::BTreeMap<String, String>,
    rings: Vec<Vec<[i64; 2]>>,
}

fn decode_tile(b: &[u8]) -> (String, u64, Vec<DecodedFeature>) {
    let top = fields(b);
    assert_eq!(top.len(), 1, "one layer");
    let layer = &b[top[0].3.clone()];
    let mut name = String::new();
    let mut extent = 0;
    let mut keys = Vec::new();
    let mut values = Vec::new();
    let mut raw_features = Vec::new();
    for (f, _, v, r) in fields(layer) {
        match f {
            1 => name = String::from_utf8(layer[r].to_vec()).expect("name"),
            2 => raw_features.push(layer[r].to_vec()),
            3 => keys.push(String::from_utf8(layer[r].to_vec()).expect("key")),
            4 => {
                let vb = &layer[r];
                let (vf, _, vv, vr) = fields(vb).remove(0);
                values.push(match vf {
                    1 => String::from_utf8(vb[vr].to_vec()).expect("str"),
                    2 => f32::from_le_bytes(vb[vr].try_into().expect("4 bytes")).to_string(),
                    3 => f64::from_le_bytes(vb[vr].try_into().expect("8 bytes")).to_string(),
                    4 => (vv as i64).to_string(),
                    5 => vv.to_string(),
                    6 => (((vv >> 1) as i64) ^ -((vv & 1) as i64)).to_string(),
                    7 => (vv != 0).to_string(),
                    other => panic!("value field {other}"),
                });
            }
            5 => extent = v,
            15 => assert_eq!(v, 2, "version 2"),
            _ => {}
        }
    }
    let mut feats = Vec::new();
    for fb in raw_features {
        let mut id = 0;
        let mut props = std::collections::BTreeMap::new();
        let mut rings = Vec::new();
        for (f, _, v, r) in fields(&fb) {
            match f {
                1 => id = v,
                2 => {
                    let mut i = 0;
                    let tb = &fb[r];
                    while i < tb.len() {
                        let k = read_varint(tb, &mut i) as usize;
                        let val = read_varint(tb, &mut i) as usize;
                        props.insert(keys[k].clone(), values[val].clone());
                    }
                }
                3 => assert_eq!(v, 3, "polygon"),
                4 => {
                    let gb = &fb[r];
                    let mut ints = Vec::new();
                    let mut i = 0;
                    while i < gb.len() {
                        ints.push(read_varint(gb, &mut i) as u32);
                    }
                    let zz = |u: u32| ((u >> 1) as i64) ^ -((u & 1) as i64);
                    let (mut x, mut y) = (0i64, 0i64);
                    let mut j = 0;
                    let mut ring: Vec<[i64; 2]> = Vec::new();
                    while j < ints.len() {
                        let (cmd, count) = (ints[j] & 7, ints[j] >> 3);
                        j += 1;
                        match cmd {
                            1 | 2 => {
                                for _ in 0..count {
                                    x += zz(ints[j]);
                                    y += zz(ints[j + 1]);
                                    j += 2;
                                    if cmd == 1 && !ring.is_empty() {
                                        rings.push(std::mem::take(&mut ring));
                                    }
                                    ring.push([x, y]);
                                }
                            }
                            7 => rings.push(std::mem::take(&mut ring)),
                            other => panic!("command {other}"),
                        }
                    }
                }
                _ => {}
            }
        }
        feats.push(DecodedFeature { id, props, rings });
    }
    (name, extent, feats)
}

fn ring_area2(r: &[[i64; 2]]) -> i64 {
    (0..r.len())
        .map(|i| {
            let (a, b) = (r[i], r[(i + 1) % r.len()]);
            a[0] * b[1] - b[0] * a[1]
        })
        .sum()
}

fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor() as u32;
    let l = lat.to_radians();
    let y =
        ((1.0 - (l.tan() + 1.0 / l.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor() as u32;
    (x, y)
}

async fn get_tile(uri: &str, gzip: bool) -> (StatusCode, Vec<u8>, Option<String>) {
    let mut req = Request::builder().uri(uri);
    if gzip {
        req = req.header("accept-encoding", "gzip");
    }
    let resp = app()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = resp.status();
    let enc = resp
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = to_bytes(resp.into_body(), 64 << 20)
        .await
        .expect("body")
        .to_vec();
    (status, body, enc)
}

#[tokio::test]
async fn tiles_decode_cover_every_area_and_are_protected() {
    use geo::BoundingRect;
    let f = fixture();
    let b = f.state.atlas.bbox_wgs84();
    let z = 13u8;
    let (x0, y0) = tile_of(b[0], b[3], z);
    let (x1, y1) = tile_of(b[2], b[1], z);
    let mut seen = std::collections::BTreeSet::new();
    for x in x0..=x1 {
        for y in y0..=y1 {
            let (status, body, _) = get_tile(&format!("/tiles/areas/{z}/{x}/{y}.mvt"), false).await;
            if status == StatusCode::NO_CONTENT {
                continue;
            }
            assert_eq!(status, StatusCode::OK);
            let (name, extent, feats) = decode_tile(&body);
            assert_eq!(name, "areas");
            assert_eq!(extent, 4096);
            for ft in feats {
                let area = &f.state.atlas.areas[ft.id as usize];
                assert_eq!(
                    ft.props["area_id"], area.code,
                    "feature id and area_id agree"
                );
                let r = ft.props["referrals"].as_str();
                assert!(
                    r == "<10" || r.parse::<i64>().is_ok_and(|v| v >= 10 && v % 5 == 0),
                    "unprotected count {r}"
                );
                assert!(!ft.rings.is_empty());
                assert!(
                    ring_area2(&ft.rings[0]) > 0,
                    "exterior ring must have positive area in tile space"
                );
                for ring in &ft.rings {
                    for p in ring {
                        assert!(
                            (-64..=4160).contains(&p[0]) && (-64..=4160).contains(&p[1]),
                            "vertex {p:?} outside the buffered tile"
                        );
                    }
                }
                // The area's box must meet the tile.
                let rb = area.geometry_wgs84.bounding_rect().expect("bbox");
                let (ax0, ay1) = tile_of(rb.min().x, rb.min().y, z);
                let (ax1, ay0) = tile_of(rb.max().x, rb.max().y, z);
                assert!(
                    ax0 <= x + 1 && x <= ax1 + 1 && ay0 <= y + 1 && y <= ay1 + 1,
                    "area {} in tile {x}/{y}",
                    area.code
                );
                seen.insert(ft.id);
            }
        }
    }
    assert_eq!(
        seen.len(),
        f.state.atlas.areas.len(),
        "every area appears in some tile"
    );
}

#[tokio::test]
async fn tiles_gzip_empty_bad_and_tilejson() {
    let f = fixture();
    let b = f.state.atlas.bbox_wgs84();
    let (x, y) = tile_of((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, 10);
    let uri = format!("/tiles/areas/10/{x}/{y}.mvt");
    let (s1, raw, e1) = get_tile(&uri, false).await;
    let (s2, gz, e2) = get_tile(&uri, true).await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
    assert_eq!(e1, None);
    assert_eq!(e2.as_deref(), Some("gzip"));
    let mut dec = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut dec)
        .expect("gunzip");
    assert_eq!(dec, raw, "gzip and raw tiles hold the same bytes");
    // The far side of the world is empty.
    let (s, body, _) = get_tile("/tiles/areas/10/0/0.mvt", false).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(body.is_empty());
    expect_error("GET", "/tiles/areas/3/9/0.mvt", StatusCode::BAD_REQUEST).await;
    expect_error("GET", "/tiles/areas/x/0/0.mvt", StatusCode::BAD_REQUEST).await;
    expect_error("GET", "/tiles/areas/23/0/0.mvt", StatusCode::BAD_REQUEST).await;
    expect_error("GET", "/tiles/nolayer/1/0/0.mvt", StatusCode::NOT_FOUND).await;
    let tj = get_json("/tiles/areas.json").await;
    assert_eq!(tj["tilejson"], "3.0.0");
    assert!(tj["tiles"][0]
        .as_str()
        .is_some_and(|t| t.ends_with("/tiles/areas/{z}/{x}/{y}.mvt")));
    let teams = get_json("/tiles/teams.json").await;
    assert_eq!(teams["vector_layers"][0]["id"], "teams");
    expect_error("GET", "/tiles/nolayer.json", StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn attributes_without_geometry_match_the_geojson() {
    let attrs = get_json("/api/areas?geometry=false").await;
    let gj = get_json("/api/areas").await;
    let a = attrs["areas"].as_array().expect("areas");
    let feats = gj["features"].as_array().expect("features");
    assert_eq!(a.len(), feats.len());
    for (x, f) in a.iter().zip(feats) {
        assert_eq!(x, &f["properties"]);
    }
    expect_error("GET", "/api/areas?geometry=maybe", StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn oversized_bodies_get_a_json_413() {
    let body = vec![b'x'; (2 << 20) + 1];
    let req = Request::builder()
        .method("POST")
        .uri("/api/search?q=a")
        .header("content-length", body.len())
        .body(Body::from(body))
        .expect("request");
    let resp = app().oneshot(req).await.expect("response");
    let status = resp.status();
    let bytes = to_bytes(resp.into_body(), 1 << 20).await.expect("body");
    assert_eq!(
        status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    let v: Value = serde_json::from_slice(&bytes).expect("JSON error body");
    assert_eq!(v["error"], "too_large");
}

#[tokio::test]
async fn access_per_area_and_bad_access_requests() {
    let v = get_json("/api/access?kind=health_centre&threshold_min=10").await;
    let areas = v["areas"].as_array().expect("areas");
    assert_eq!(areas.len(), fixture().state.atlas.areas.len());
    assert_eq!(v["method"]["type"], "road_network", "{}", v["method"]);
    for a in areas {
        let d = a["distance_m"]
            .as_f64()
            .expect("every area has a nearest health centre");
        let t = a["travel_time_s"].as_f64().expect("time");
        // Timed over the demo's road network: never quicker than the straight
        // line at the fastest road speed (96 km/h).
        assert!(t + 1.0 >= d / (96.0 / 3.6), "{a}");
        assert!(a["premises_within"].as_u64() >= a["providers_within"].as_u64());
        assert_eq!(
            a["choice_desert"].as_bool(),
            Some(a["providers_within"].as_u64() < Some(2))
        );
    }
    let deserts = areas.iter().filter(|a| a["choice_desert"] == true).count();
    assert_eq!(v["choice_deserts"]["areas"].as_u64(), Some(deserts as u64));
    // The same request again comes from the cache, identical.
    let again = get_json("/api/access?kind=health_centre&threshold_min=10").await;
    assert_eq!(v, again);
    expect_error("GET", "/api/access", StatusCode::BAD_REQUEST).await;
    expect_error("GET", "/api/access?kind=spaceport", StatusCode::NOT_FOUND).await;
    expect_error(
        "GET",
        "/api/access?kind=school&threshold_min=0",
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect_error(
        "GET",
        "/api/access?kind=school&threshold_min=abc",
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect_error(
        "GET",
        "/api/access?kind=school&desert_below=100",
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn premises_reach_and_gaps() {
    let code = fixture().state.atlas.premises[0].code.clone();
    let r = get_json(&format!("/api/premises/{code}/reach?bands_min=5,10,20")).await;
    let bands = r["bands"].as_array().expect("bands");
    assert_eq!(bands.len(), 3);
    let pops: Vec<f64> = bands
        .iter()
        .map(|b| b["population"].as_f64().expect("pop"))
        .collect();
    assert!(
        pops[0] <= pops[1] && pops[1] <= pops[2],
        "cumulative bands grow: {pops:?}"
    );
    for b in bands {
        assert_protected_count(&b["referrals"], "reach referrals");
    }
    expect_error("GET", "/api/premises/NOPE/reach", StatusCode::NOT_FOUND).await;
    expect_error(
        "GET",
        &format!("/api/premises/{code}/reach?bands_min=ten"),
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect_error(
        "GET",
        &format!("/api/premises/{code}/reach?bands_min=500"),
        StatusCode::BAD_REQUEST,
    )
    .await;

    let g = get_json("/api/gaps?kind=social_work_office&threshold_min=5").await;
    let rows = g["gaps"].as_array().expect("gaps");
    assert!(
        !rows.is_empty(),
        "a 5-minute threshold leaves gaps in the demo region"
    );
    let scores: Vec<f64> = rows
        .iter()
        .map(|r| r["need_score"].as_f64().unwrap_or(-1.0))
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "ranked by need score"
    );
    for r in rows {
        assert!(r["travel_time_s"].as_f64().expect("time") > 300.0);
        assert_protected_count(&r["referrals"], "gap referrals");
    }
    expect_error("GET", "/api/gaps?kind=spaceport", StatusCode::NOT_FOUND).await;
    expect_error(
        "GET",
        "/api/gaps?kind=school&threshold_min=-3",
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn isochrones_nest_and_grow() {
    use geo::{Area, Contains, MultiPolygon};
    let code = fixture().state.atlas.premises[3].code.clone();
    let v = get_json(&format!("/api/premises/{code}/isochrones?bands_min=3,6,9")).await;
    let feats = v["features"].as_array().expect("features");
    assert_eq!(feats.len(), 3);
    // Largest band first.
    let mins: Vec<f64> = feats
        .iter()
        .map(|f| f["properties"]["minutes"].as_f64().expect("minutes"))
        .collect();
    assert_eq!(mins, vec![9.0, 6.0, 3.0]);
    let areas: Vec<f64> = feats
        .iter()
        .map(|f| f["properties"]["area_km2"].as_f64().expect("area"))
        .collect();
    assert!(
        areas[0] > areas[1] && areas[1] > areas[2] && areas[2] > 0.0,
        "{areas:?}"
    );
    // Nested: the vertices of a smaller band lie within (or on) the next larger band.
    // Bands nest exactly in metres (tests/engine/network.rs); here the shared cell
    // edges have been through OSTN15 and 6-decimal rounding, so a few vertices on a
    // shared edge may land a hair outside.
    let polys: Vec<MultiPolygon<f64>> = feats
        .iter()
        .map(|f| {
            let g: geojson_lite::Geometry =
                serde_json::from_value(f["geometry"].clone()).expect("geometry");
            g.into_multipolygon()
        })
        .collect();
    for k in 1..polys.len() {
        let (outer, inner) = (&polys[k - 1], &polys[k]);
        assert!(outer.unsigned_area() >= inner.unsigned_area());
        let total: usize = inner.0.iter().map(|p| p.exterior().0.len()).sum();
        let inside = inner
            .0
            .iter()
            .flat_map(|p| p.exterior().points())
            .filter(|pt| outer.contains(pt) || geo::Intersects::intersects(outer, pt))
            .count();
        assert!(
            inside as f64 >= total as f64 * 0.95,
            "band {k}: {inside} of {total} vertices inside the larger band"
        );
    }
    expect_error(
        "GET",
        "/api/premises/NOPE/isochrones",
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_error(
        "GET",
        &format!("/api/premises/{code}/isochrones?bands_min=x"),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

/// Just enough GeoJSON geometry parsing for the tests.
mod geojson_lite {
    use geo::{Coord, LineString, MultiPolygon, Polygon};
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[serde(tag = "type")]
    pub enum Geometry {
        Polygon {
            coordinates: Vec<Vec<[f64; 2]>>,
        },
        MultiPolygon {
            coordinates: Vec<Vec<Vec<[f64; 2]>>>,
        },
    }

    fn poly(rings: Vec<Vec<[f64; 2]>>) -> Polygon<f64> {
        let mut ls: Vec<LineString<f64>> = rings
            .into_iter()
            .map(|r| LineString(r.into_iter().map(|c| Coord { x: c[0], y: c[1] }).collect()))
            .collect();
        let ext = ls.remove(0);
        Polygon::new(ext, ls)
    }

    impl Geometry {
        pub fn into_multipolygon(self) -> MultiPolygon<f64> {
            match self {
                Geometry::Polygon { coordinates } => MultiPolygon(vec![poly(coordinates)]),
                Geometry::MultiPolygon { coordinates } => {
                    MultiPolygon(coordinates.into_iter().map(poly).collect())
                }
            }
        }
    }
}

#[tokio::test]
async fn access_demand_can_be_need_weighted() {
    let pop = get_json("/api/access?kind=nursery&threshold_min=20").await;
    let need = get_json("/api/access?kind=nursery&threshold_min=20&demand=need").await;
    assert_eq!(pop["method"]["demand"], "population");
    assert_eq!(need["method"]["demand"], "need");
    let differs = pop["areas"]
        .as_array()
        .expect("areas")
        .iter()
        .zip(need["areas"].as_array().expect("areas"))
        .filter(|(a, b)| a["access_2sfca"] != b["access_2sfca"])
        .count();
    assert!(differs > 0, "need-weighted demand changes the scores");
    // Nearest premises and provider counts do not depend on the demand measure.
    for (a, b) in pop["areas"]
        .as_array()
        .expect("areas")
        .iter()
        .zip(need["areas"].as_array().expect("areas"))
    {
        assert_eq!(a["nearest"], b["nearest"]);
        assert_eq!(a["providers_within"], b["providers_within"]);
    }
    expect_error(
        "GET",
        "/api/access?kind=nursery&demand=wishes",
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn access_decay_is_selectable_and_checked() {
    let step = get_json("/api/access?kind=school").await;
    let gauss = get_json("/api/access?kind=school&decay=gaussian:600").await;
    assert_eq!(gauss["method"]["decay"]["type"], "gaussian");
    assert_eq!(step["method"]["decay"]["type"], "step");
    let differs = step["areas"]
        .as_array()
        .expect("areas")
        .iter()
        .zip(gauss["areas"].as_array().expect("areas"))
        .filter(|(a, b)| a["access_e2sfca"] != b["access_e2sfca"])
        .count();
    assert!(differs > 0);
    expect_error(
        "GET",
        "/api/access?kind=school&decay=gaussian:-5",
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect_error(
        "GET",
        "/api/access?kind=school&decay=magic",
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect_error(
        "GET",
        "/api/access?kind=school&decay=step:600",
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn premises_hours_week_and_bad_requests() {
    let atlas = &fixture().state.atlas;
    let swo = atlas
        .premises
        .iter()
        .find(|p| p.opening_hours.as_deref() == Some("Mo-Fr 08:45-16:45; PH off"))
        .or_else(|| {
            atlas
                .premises
                .iter()
                .find(|p| p.kind == "social_work_office")
        })
        .expect("a social work office");
    // The week of Monday 5 August 2024, Scotland's summer bank holiday.
    let v = get_json(&format!(
        "/api/premises/{}/hours?week=2024-08-07&at=2024-08-05T10:00:00",
        swo.code
    ))
    .await;
    assert_eq!(v["week_start"], "2024-08-05");
    let share: Vec<f64> = v["open_share"]
        .as_array()
        .expect("168")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect();
    assert_eq!(share.len(), 168);
    // Closed all of the bank holiday Monday.
    assert!(share[..24].iter().all(|x| *x == 0.0), "{:?}", &share[..24]);
    assert_eq!(v["open"], false, "closed at 10:00 on the bank holiday");
    assert!(share[24 + 10] > 0.0, "open on Tuesday at 10:00");
    expect_error("GET", "/api/premises/NOPE/hours", StatusCode::NOT_FOUND).await;
    expect_error(
        "GET",
        &format!("/api/premises/{}/hours?week=someday", swo.code),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

/// A real server on loopback (with peer addresses, as `needmap serve` runs it).
pub fn serve_loopback(state: AppState) -> std::net::SocketAddr {
    serve_app(router(state, None))
}

/// Serve an app on loopback.
pub fn serve_app(app: Router) -> std::net::SocketAddr {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    std_listener.set_nonblocking(true).expect("nonblocking");
    let addr = std_listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
            .expect("serve");
        });
    });
    addr
}

/// `GET path` over HTTP/1.1 with extra headers: status, header block, body.
pub fn http_raw(
    addr: std::net::SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, String, String) {
    http_send(addr, "GET", path, headers, &[])
}

/// A request over HTTP/1.1 with extra headers and a body: status, header block, body.
pub fn http_send(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .expect("write");
    s.write_all(body).expect("body");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).expect("read");
    let text = String::from_utf8_lossy(&buf);
    let (head, body) = text.split_once("\r\n\r\n").expect("response");
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status");
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, head.to_string(), body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((len, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(len.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest.get(n + 2..).unwrap_or("");
    }
    out
}

/// The test database's connection string (`NEEDMAP_TEST_PG_URL`), or `None`
/// with the reason printed; CI builds the postgis feature with a database
/// (scripts/test starts one), so there its absence is a failure.
#[cfg(feature = "postgis")]
pub fn pg_url() -> Option<String> {
    match std::env::var("NEEDMAP_TEST_PG_URL") {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI builds the postgis feature with a database: NEEDMAP_TEST_PG_URL is not set"
            );
            eprintln!("skipping: NEEDMAP_TEST_PG_URL is not set");
            None
        }
    }
}

/// A new database of its own on the test server (`NEEDMAP_TEST_PG_URL`):
/// its connection string, and a function dropping it.
#[cfg(feature = "postgis")]
pub fn pg_database(url: &str, tag: &str) -> (String, impl FnOnce()) {
    let db = format!("needmap_{tag}_{}", std::process::id());
    let mut admin = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    // One statement each: CREATE DATABASE cannot run in the implicit
    // transaction of a multi-statement query.
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .expect("drop database");
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .expect("create database");
    let own = format!("{url} dbname={db}");
    let url = url.to_string();
    (own, move || {
        if let Ok(mut admin) = postgres::Client::connect(&url, postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
        }
    })
}

/// A GET through a router in-process, with an optional bearer token: the
/// status, the headers and the body.
pub async fn send_get(
    app: &Router,
    uri: &str,
    token: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = Request::builder().uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = to_bytes(resp.into_body(), 256 << 20).await.expect("body");
    (status, headers, body.to_vec())
}
