//! In-process HTTP tests: `server::router(state)` driven with `oneshot`, on a
//! small demo region. Every route, bad requests, and the privacy guarantee
//! that no public response carries a referral or an unsuppressed small count.

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
        let referrals_csv = std::fs::read_to_string(dir.path().join("referrals.csv")).expect("referrals");
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
    let req = Request::builder().method(method).uri(uri).body(Body::empty()).expect("request");
    let resp = app().oneshot(req).await.expect("response");
    let status = resp.status();
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = to_bytes(resp.into_body(), 64 << 20).await.expect("body");
    (status, String::from_utf8(body.to_vec()).expect("utf-8"), ctype)
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
    assert!(v["error"].is_string() && v["message"].is_string(), "{uri}: {v}");
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
    assert_eq!(m["boundary_sets"], serde_json::json!(["localities", "teams"]));
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
            assert!(p["rate_per_1000"].is_null(), "rate shown where the count is suppressed: {p}");
        }
        for (k, val) in p.as_object().expect("props") {
            if k.starts_with("referrals_") {
                assert_protected_count(val, k);
            }
        }
        assert!(matches!(f["geometry"]["type"].as_str(), Some("Polygon" | "MultiPolygon")));
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
    let pop: f64 = rows.iter().map(|r| r["population"].as_f64().expect("pop")).sum();
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
    let pop: f64 = t["units"].as_array().expect("units").iter().map(|u| u["population"].as_f64().unwrap_or(0.0)).sum();
    let total: f64 = fixture().state.atlas.areas.iter().filter_map(|a| a.population).sum();
    // Unit populations are rounded to whole people in the response.
    assert!((pop - total).abs() <= t["units"].as_array().map(|u| u.len()).unwrap_or(0) as f64, "{pop} vs {total}");
    expect_error("GET", "/api/rollup?to=nonsense", StatusCode::NOT_FOUND).await;
    expect_error("GET", "/api/rollup", StatusCode::BAD_REQUEST).await;
    expect_error("GET", "/api/rollup?to=teams&colour=red", StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn premises_and_boundaries() {
    let p = get_json("/api/premises").await;
    let feats = p["features"].as_array().expect("features");
    assert_eq!(feats.len(), fixture().state.atlas.premises.len());
    assert!(feats.iter().all(|f| f["geometry"]["type"] == "Point" && f["properties"]["kind"].is_string()));
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
    assert!(results.iter().all(|r| r["area_id"].as_str().is_some_and(|c| c.starts_with("DZ00000"))));
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
    ];
    let premises: Vec<[f64; 2]> = f.state.atlas.premises.iter().map(|p| [p.lon, p.lat]).collect();
    for r in routes {
        let (status, body, _) = call("GET", r).await;
        assert_eq!(status, StatusCode::OK, "{r}");
        for id in refs.iter().take(2000) {
            assert!(!body.contains(id.as_str()), "{r} carries referral {id}");
        }
        for p in pairs.iter().take(2000) {
            assert!(!body.contains(p.as_str()), "{r} carries referral coordinates {p}");
        }
        // The only points in any response are premises.
        let v: Value = serde_json::from_str(&body).expect("json");
        if let Some(feats) = v["features"].as_array() {
            for ft in feats {
                if ft["geometry"]["type"] == "Point" {
                    let c = &ft["geometry"]["coordinates"];
                    let (x, y) = (c[0].as_f64().expect("x"), c[1].as_f64().expect("y"));
                    assert!(
                        premises.iter().any(|p| (p[0] - x).abs() < 1e-6 && (p[1] - y).abs() < 1e-6),
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
    assert_eq!(resp.headers().get("content-encoding").and_then(|v| v.to_str().ok()), Some("gzip"));
}
