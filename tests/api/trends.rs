//! Trends, hot spots, projections and the early-warning list over HTTP: the
//! figures equal the analyses run here directly, every public count is
//! protected (and the trend counts are the audited release's cells), the
//! public is held to the fixed period and all groups while planners are not,
//! and bad parameters get a 400 naming the parameter.

use std::sync::{Arc, OnceLock};

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

use needmap::analysis::early_warning::{Reason, WarningRules};
use needmap::analysis::hotspots::{EmergingOptions, HotspotClass, HotspotOptions};
use needmap::analysis::projection::ProjectionOptions;
use needmap::analysis::trends::{Direction, TrendOptions, TrendTest};
use needmap::config::Period;
use needmap::demo::{write_demo, DemoSpec};
use needmap::io::trends_study::{
    EarlyWarningRequest, EmergingRequest, HotspotRequest, HotspotValue, ProjectionRequest,
    SeriesRequest, WeightsSpec,
};
use needmap::io::workspace::{load_workspace, LoadOptions};
use needmap::privacy::auth::hash_token;
use needmap::server::{router, AppState, Prepared};
use needmap::Config;

use super::{assert_protected_count, expect_error, fixture, get_json};

const PLANNER: &str = "planner-token-trends-0123456789";

/// The demo of the shared fixture (same spec, so the same data) with a planner.
struct Planned {
    state: AppState,
    _dir: tempfile::TempDir,
}

fn planned() -> &'static AppState {
    static F: OnceLock<Planned> = OnceLock::new();
    &F.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = DemoSpec {
            areas: 240,
            referrals: 6_000,
            seed: 11,
        };
        let summary = write_demo(dir.path(), &spec).expect("demo");
        let mut text = std::fs::read_to_string(&summary.config).expect("toml");
        text.push_str(&format!(
            "\n[auth]\naudit_log = \"audit.jsonl\"\nusers = [\n  {{ name = \"pat\", role = \"planner\", token_hash = \"{}\" }},\n]\n",
            hash_token(PLANNER).expect("hash")
        ));
        let path = dir.path().join("planner.toml");
        std::fs::write(&path, text).expect("write");
        let cfg = Config::load(&path).expect("config");
        let atlas = load_workspace(&cfg, &LoadOptions::default()).unwrap_or_else(|r| panic!("{r}"));
        Planned {
            state: Arc::new(Prepared::new(atlas)),
            _dir: dir,
        }
    })
    .state
}

/// GET on the planner fixture, as the planner or anonymously.
async fn get_as(uri: &str, planner: bool) -> (StatusCode, Value) {
    let mut req = Request::builder().uri(uri);
    if planner {
        req = req.header("authorization", format!("Bearer {PLANNER}"));
    }
    let resp = router(planned().clone(), None)
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = resp.status();
    let bytes = to_bytes(resp.into_body(), 64 << 20).await.expect("body");
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, v)
}

async fn planner_json(uri: &str) -> Value {
    let (st, v) = get_as(uri, true).await;
    assert_eq!(st, StatusCode::OK, "{uri}: {v}");
    v
}

/// A public count: protected, or withheld by the audit.
fn assert_public_count(v: &Value, what: &str) {
    if v != "[c]" {
        assert_protected_count(v, what);
    }
}

fn series(period: Period, group: Option<&str>) -> SeriesRequest {
    SeriesRequest {
        period,
        group: group.map(String::from),
        range: None,
    }
}

/// Equal up to JSON's parsing of floats (serde_json may be off by an ulp).
fn assert_close(got: Option<f64>, want: Option<f64>) {
    match (got, want) {
        (Some(g), Some(w)) => assert!((g - w).abs() <= 1e-12 * w.abs().max(1.0), "{g} is not {w}"),
        (g, w) => assert_eq!(g, w),
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn array<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is not an array: {v}"))
}

#[tokio::test]
async fn public_trend_counts_are_the_release_cells_and_statistics_are_published_safely() {
    let s = &fixture().state;
    let v = get_json("/api/trends").await;
    assert_eq!(v["period"], "month");
    assert_eq!(v["test"], "mann-kendall");
    assert_eq!(v["alpha"], 0.05);
    assert!(v["group"].is_null());
    let periods: Vec<String> = array(&v, "periods")
        .iter()
        .map(|p| p.as_str().expect("label").to_string())
        .collect();
    assert!(periods.len() >= 12, "{periods:?}");
    // The demo's extract starts on 2 January 2023: January is partial.
    assert!(array(&v, "partial").contains(&json!("2023-01")), "{v}");
    assert!(!periods.contains(&"2023-01".to_string()));
    let table = s
        .atlas
        .trend_study(&series(Period::Month, None), &TrendOptions::default())
        .expect("trend table");
    let areas = array(&v, "areas");
    assert_eq!(areas.len(), s.atlas.areas.len());
    let mut small = 0;
    for (i, a) in areas.iter().enumerate() {
        let what = a["area_id"].as_str().expect("area_id");
        assert_eq!(what, s.atlas.areas[i].code);
        let counts = array(a, "counts");
        assert_eq!(counts.len(), periods.len());
        for (label, c) in periods.iter().zip(counts) {
            let p = s
                .need
                .periods
                .iter()
                .position(|x| x == label)
                .expect("a need period");
            let cell = s.public.counts.area_period(i, p).expect("a release cell");
            assert_eq!(*c, json!(cell), "{what} {label}");
            assert_public_count(c, what);
            small += usize::from(c == "<10");
        }
        let t = &table.areas[i];
        let dir = match t.direction.name() {
            "rising" | "falling" => t.direction.name(),
            _ => "none",
        };
        assert_eq!(a["direction"], dir, "{what}");
        assert_eq!(a["rank"], json!(t.rank), "{what}");
        assert!(a["sen_slope_per_year"].is_null(), "slopes are for planners");
        for k in ["p", "q"] {
            if let Some(x) = a[k].as_f64() {
                assert_eq!(x, (x * 1000.0).round() / 1000.0, "{what} {k} to 3 decimals");
            }
        }
        assert_eq!(a["q"].as_f64(), t.q.map(|q| (q * 1000.0).round() / 1000.0));
        if let Some(g) = a["growth_pct_per_year"].as_f64() {
            assert_eq!(g % 5.0, 0.0, "{what}: growth rounded to 5 %");
            assert!(s.public.counts.area(i).value().is_some());
        }
        // The rate comes from the counts as shown, and is withheld with them.
        let shown: Option<f64> = counts.iter().map(Value::as_f64).sum();
        match (shown, t.population) {
            (Some(n), Some(pop)) => {
                let years = periods.len() as f64 / 12.0;
                assert_eq!(
                    a["rate_per_1000_per_year"],
                    json!(round2(n * 1000.0 / pop / years))
                );
            }
            _ => assert!(a["rate_per_1000_per_year"].is_null(), "{what}: {a}"),
        }
    }
    assert!(
        small > 0,
        "no small count in the fixture: the test would show nothing"
    );
    // The demo has no real trend: at a loose false discovery rate the
    // Poisson test finds some, and the rising list is the table's, fastest first.
    let v = get_json("/api/trends?test=poisson&alpha=0.9").await;
    assert_eq!(v["test"], "poisson");
    assert_eq!(v["alpha"], 0.9);
    let opts = TrendOptions {
        test: TrendTest::Poisson,
        alpha: 0.9,
        ..TrendOptions::default()
    };
    let table = s
        .atlas
        .trend_study(&series(Period::Month, None), &opts)
        .expect("trend table");
    let rising: Vec<&str> = table
        .rising()
        .iter()
        .map(|t| s.atlas.areas[t.area.index()].code.as_str())
        .collect();
    assert!(!rising.is_empty(), "no rising area in the demo");
    assert_eq!(v["rising"], json!(rising));
    for (a, t) in array(&v, "areas").iter().zip(&table.areas) {
        assert_eq!(a["rank"], json!(t.rank));
        if t.direction == Direction::Rising {
            assert_eq!(a["direction"], "rising");
        }
    }
}

#[tokio::test]
async fn planner_trend_counts_equal_the_period_counts() {
    let s = planned();
    let v = planner_json("/api/trends").await;
    let counts = s
        .atlas
        .period_counts(&series(Period::Month, None))
        .expect("counts");
    let labels: Vec<String> = counts.periods.iter().map(|k| k.label()).collect();
    assert_eq!(v["periods"], json!(labels));
    let table = s
        .atlas
        .trend_study(&series(Period::Month, None), &TrendOptions::default())
        .expect("table");
    for (i, a) in array(&v, "areas").iter().enumerate() {
        assert_eq!(a["counts"], json!(counts.counts[i]), "area {i}");
        assert_close(
            a["sen_slope_per_year"].as_f64(),
            table.areas[i].sen_slope_per_year,
        );
        assert_close(a["p"].as_f64(), table.areas[i].p);
    }
    // A group and another period.
    let group = &s.atlas.referrals.groups[0];
    let v = planner_json(&format!("/api/trends?period=quarter&group={group}")).await;
    assert_eq!(v["period"], "quarter");
    assert_eq!(v["group"], json!(group));
    let counts = s
        .atlas
        .period_counts(&series(Period::Quarter, Some(group)))
        .expect("counts");
    assert!(counts.len() >= 3);
    for (i, a) in array(&v, "areas").iter().enumerate() {
        assert_eq!(a["counts"], json!(counts.counts[i]), "area {i}");
    }
    // The same state answers the public with protected counts and no slopes.
    let (st, p) = get_as("/api/trends", false).await;
    assert_eq!(st, StatusCode::OK);
    for a in array(&p, "areas") {
        assert!(a["sen_slope_per_year"].is_null());
        for c in array(a, "counts") {
            assert_public_count(c, "public count");
        }
    }
}

#[tokio::test]
async fn the_public_sees_the_fixed_period_and_all_groups_only() {
    let group = fixture().state.atlas.referrals.groups[0].clone();
    for route in ["trends", "hotspots", "projection", "early-warning"] {
        for q in [format!("group={group}"), "period=quarter".to_string()] {
            let e =
                expect_error("GET", &format!("/api/{route}?{q}"), StatusCode::BAD_REQUEST).await;
            let m = e["message"].as_str().expect("message");
            assert!(m.contains("planners"), "{route}?{q}: {m}");
        }
        // Planners choose.
        let v = planner_json(&format!("/api/{route}?period=quarter&group={group}")).await;
        assert_eq!(v["period"], "quarter", "{route}");
        assert_eq!(v["group"], json!(group), "{route}");
    }
    // The configured period by name is the default.
    let v = get_json("/api/trends?period=month").await;
    assert_eq!(v["period"], "month");
    // Not a period, not a group, not a parameter.
    let e = expect_error("GET", "/api/trends?period=week", StatusCode::BAD_REQUEST).await;
    assert!(e["message"].as_str().expect("m").contains("period"), "{e}");
    let (st, e) = get_as("/api/trends?group=nobody", true).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    assert!(e["message"].as_str().expect("m").contains(&group), "{e}");
    expect_error(
        "GET",
        "/api/trends?from=2024-01-01",
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect_error(
        "GET",
        "/api/hotspots?permutations=9",
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn hot_spot_classes_equal_the_analysis_and_z_is_for_planners() {
    let s = &fixture().state;
    for (query, weights, value) in [
        ("", WeightsSpec::Rook, HotspotValue::Rate),
        (
            "?weights=queen&value=count",
            WeightsSpec::Queen,
            HotspotValue::Count,
        ),
        (
            "?weights=distance:1500",
            WeightsSpec::DistanceBand {
                threshold_m: 1500.0,
            },
            HotspotValue::Rate,
        ),
    ] {
        let v = get_json(&format!("/api/hotspots{query}")).await;
        let study = s
            .atlas
            .hotspot_study(&HotspotRequest {
                value: value.clone(),
                series: series(Period::Month, None),
                weights,
                options: HotspotOptions::default(),
            })
            .expect("study");
        assert_eq!(v["weights"], weights.describe());
        assert_eq!(v["fdr"], true);
        assert_eq!(v["alpha"], 0.05);
        let classes: Vec<&str> = study.classes().iter().map(|c| c.name()).collect();
        let got: Vec<&str> = array(&v, "areas")
            .iter()
            .map(|a| a["class"].as_str().expect("class"))
            .collect();
        assert_eq!(got, classes, "{query}");
        for a in array(&v, "areas") {
            for k in ["z", "gi", "moran_i"] {
                assert!(a[k].is_null(), "{query}: {k} for the public: {a}");
            }
            assert!(a["emerging"].is_null());
            if let Some(q) = a["q"].as_f64() {
                assert_eq!(q, (q * 1000.0).round() / 1000.0);
            }
        }
    }
    let v = get_json("/api/hotspots").await;
    let hot = array(&v, "areas")
        .iter()
        .filter(|a| a["class"].as_str().is_some_and(|c| c.starts_with("hot")))
        .count();
    assert!(
        hot > 0,
        "the demo has no hot spot: the comparison shows little"
    );
    // Planners get z and G* where the area was analysed; classes as the public's.
    let study = planned()
        .atlas
        .hotspot_study(&HotspotRequest {
            series: series(Period::Month, None),
            ..HotspotRequest::default()
        })
        .expect("study");
    let p = planner_json("/api/hotspots").await;
    let mut with_z = 0;
    for (i, a) in array(&p, "areas").iter().enumerate() {
        assert_eq!(a["class"], study.classes()[i].name());
        match study.position[i] {
            Some(k) => {
                assert_close(
                    a["z"].as_f64(),
                    Some(study.table.gi.z[k]).filter(|z| z.is_finite()),
                );
                with_z += usize::from(a["z"].is_number());
            }
            None => assert!(a["z"].is_null()),
        }
    }
    assert!(with_z > 0);
    assert_eq!(array(&p, "areas").len(), array(&v, "areas").len());
}

#[tokio::test]
async fn emerging_hot_spots_equal_the_analysis() {
    let s = &fixture().state;
    let v = get_json("/api/hotspots?emerging=true").await;
    assert_eq!(v["emerging"], true);
    let e = s
        .atlas
        .emerging_study(&EmergingRequest {
            series: series(Period::Month, None),
            weights: WeightsSpec::Rook,
            options: EmergingOptions::default(),
        })
        .expect("emerging");
    let want: Vec<&str> = e.categories().iter().map(|c| c.name()).collect();
    let got: Vec<&str> = array(&v, "areas")
        .iter()
        .map(|a| a["emerging"].as_str().expect("category"))
        .collect();
    assert_eq!(got, want);
    let e = expect_error(
        "GET",
        "/api/hotspots?emerging=true&value=count",
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(e["message"].as_str().expect("m").contains("rate"));
}

#[tokio::test]
async fn projections_are_protected_for_the_public_and_exact_for_planners() {
    let v = get_json("/api/projection?horizon=4").await;
    assert_eq!(v["horizon"], 4);
    assert_eq!(v["model"], "trend");
    assert_eq!(v["level"], 0.95);
    assert_eq!(array(&v, "periods").len(), 4);
    let mut small = 0;
    for a in array(&v, "areas") {
        for k in ["projected", "lower", "upper"] {
            let vals = array(a, k);
            assert_eq!(vals.len(), 4);
            for x in vals {
                assert_protected_count(x, k);
                small += usize::from(x == "<10");
            }
        }
    }
    for k in ["projected", "lower", "upper"] {
        for x in array(&v["region"], k) {
            assert_protected_count(x, "region");
        }
    }
    assert!(small > 0, "no small projection in the fixture");
    // Planners: the analysis to 2 decimals.
    let s = planned();
    let p = planner_json("/api/projection?horizon=4&model=damped:0.9&level=0.8").await;
    let st = s
        .atlas
        .projection_study(&ProjectionRequest {
            series: series(Period::Month, None),
            options: ProjectionOptions {
                horizon: 4,
                model: "damped:0.9".parse().expect("model"),
                level: 0.8,
                ..ProjectionOptions::default()
            },
            population: None,
        })
        .expect("projection");
    assert_eq!(p["model"], "damped:0.9");
    let labels: Vec<String> = st.projection.periods.iter().map(|k| k.label()).collect();
    assert_eq!(p["periods"], json!(labels));
    let nums = |v: &Value| -> Vec<f64> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|x| x.as_f64().expect("a number for planners"))
            .collect()
    };
    for (a, ap) in array(&p, "areas").iter().zip(&st.projection.areas) {
        assert_eq!(
            nums(&a["projected"]),
            ap.steps.iter().map(|x| round2(x.mean)).collect::<Vec<_>>()
        );
        assert_eq!(
            nums(&a["lower"]),
            ap.steps.iter().map(|x| round2(x.lower)).collect::<Vec<_>>()
        );
        assert_eq!(
            nums(&a["upper"]),
            ap.steps.iter().map(|x| round2(x.upper)).collect::<Vec<_>>()
        );
    }
    assert_eq!(
        nums(&p["region"]["projected"]),
        st.projection
            .total
            .iter()
            .map(|x| round2(x.mean))
            .collect::<Vec<_>>()
    );
    for h in ["0", "25"] {
        let e = expect_error(
            "GET",
            &format!("/api/projection?horizon={h}"),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(e["message"].as_str().expect("m").contains("horizon"), "{e}");
    }
}

#[tokio::test]
async fn early_warning_lists_flagged_areas_with_published_values() {
    let s = &fixture().state;
    let v = get_json("/api/early-warning?rate_min=50&growth_min=0.05").await;
    assert_eq!(v["rules"]["rate_min"], 50.0);
    assert_eq!(v["rules"]["growth_min"], 0.05);
    assert_eq!(v["rules"]["hotspot_confidence"], 95);
    assert_eq!(v["rules"]["horizon"], 3);
    let study = s
        .atlas
        .hotspot_study(&HotspotRequest {
            series: series(Period::Month, None),
            ..HotspotRequest::default()
        })
        .expect("hot spots");
    let classes = study.classes();
    let areas = array(&v, "areas");
    assert!(!areas.is_empty(), "nothing flagged in the demo");
    for a in areas {
        let code = a["area_id"].as_str().expect("id");
        let i = s
            .atlas
            .areas
            .iter()
            .position(|x| x.code == code)
            .expect("area");
        let reasons: Vec<&str> = array(a, "reasons")
            .iter()
            .map(|r| r.as_str().expect("reason"))
            .collect();
        assert!(!reasons.is_empty());
        for r in &reasons {
            assert!(["rate", "growth", "hotspot", "emerging"].contains(r), "{r}");
        }
        assert_protected_count(&a["projected"], "projected");
        if let Some(g) = a["growth_pct_per_year"].as_f64() {
            assert_eq!(g % 5.0, 0.0);
        }
        // Each reason holds for the values as published.
        if reasons.contains(&"rate") {
            assert!(a["rate_per_1000"].as_f64().expect("rate shown") >= 50.0);
        }
        if reasons.contains(&"growth") {
            assert!(a["growth_pct_per_year"].as_f64().expect("growth shown") >= 5.0);
        }
        assert_eq!(
            reasons.contains(&"hotspot"),
            classes[i] == HotspotClass::Hot95 || classes[i] == HotspotClass::Hot99,
            "{code}"
        );
    }
    // Planners: the analysis' list, in its order.
    let p = planner_json("/api/early-warning?rate_min=50&growth_min=0.05").await;
    let st = planned()
        .atlas
        .early_warning_study(&EarlyWarningRequest {
            series: series(Period::Month, None),
            trend: TrendOptions::default(),
            weights: WeightsSpec::Rook,
            hotspot: HotspotOptions {
                permutations: 0,
                ..HotspotOptions::default()
            },
            emerging: EmergingOptions::default(),
            projection: ProjectionOptions::default(),
            population: None,
            rules: WarningRules {
                rate_per_1000_min: Some(50.0),
                growth_per_year_min: Some(0.05),
                ..WarningRules::default()
            },
        })
        .expect("early warning");
    let want: Vec<&str> = st
        .result
        .warnings
        .iter()
        .map(|w| planned().atlas.areas[w.area.index()].code.as_str())
        .collect();
    let got: Vec<&str> = array(&p, "areas")
        .iter()
        .map(|a| a["area_id"].as_str().expect("id"))
        .collect();
    assert_eq!(got, want);
    assert!(
        st.result
            .warnings
            .iter()
            .any(|w| w.reasons.contains(&Reason::HighRate)),
        "no area over the rate threshold: the rule is not exercised"
    );
    for (a, w) in array(&p, "areas").iter().zip(&st.result.warnings) {
        let names: Vec<&str> = w
            .reasons
            .iter()
            .map(|r| match r.name() {
                "high_rate" => "rate",
                "fast_growth" => "growth",
                "hot_spot" => "hotspot",
                _ => "emerging",
            })
            .collect();
        assert_eq!(a["reasons"], json!(names));
        assert_close(
            a["rate_per_1000"].as_f64(),
            w.recent_rate_per_1000_per_year.map(round2),
        );
        assert_eq!(a["projected"].as_f64(), w.projected.map(round2));
    }
}

#[tokio::test]
async fn bad_values_are_400_naming_the_parameter() {
    for (uri, name) in [
        ("/api/hotspots?weights=hexagon", "weights"),
        ("/api/hotspots?weights=distance:-5", "weights"),
        ("/api/hotspots?weights=distance:1e9", "weights"),
        ("/api/hotspots?weights=distance:9000", "weights"),
        ("/api/early-warning?weights=knn:5", "weights"),
        ("/api/projection?model=cubic", "model"),
        ("/api/projection?model=damped:2", "model"),
        ("/api/early-warning?model=cubic", "model"),
        ("/api/trends?alpha=abc", "alpha"),
        ("/api/trends?alpha=1.5", "alpha"),
        ("/api/hotspots?alpha=0", "alpha"),
        ("/api/early-warning?alpha=x", "alpha"),
        ("/api/trends?test=t-test", "test"),
        ("/api/projection?level=1", "level"),
        ("/api/projection?horizon=-1", "horizon"),
        ("/api/hotspots?value=population", "value"),
        ("/api/hotspots?emerging=maybe", "emerging"),
        (
            "/api/early-warning?hotspot_confidence=80",
            "hotspot_confidence",
        ),
        ("/api/early-warning?min_reasons=0", "min_reasons"),
        ("/api/early-warning?rate_min=-1", "rate_min"),
    ] {
        let e = expect_error("GET", uri, StatusCode::BAD_REQUEST).await;
        let m = e["message"].as_str().expect("message");
        assert!(m.contains(name), "{uri}: {m}");
    }
}
