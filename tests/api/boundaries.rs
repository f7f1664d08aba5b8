//! Boundary harmonisation over HTTP: co-terminosity equals the analysis,
//! identical layers are co-terminous, the designer nests and does not lower
//! co-terminosity, and bad parameters are 4xx.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;

use super::{expect_error, fixture, get_json};

#[tokio::test]
async fn coterminosity_of_teams_and_localities() {
    let a = &fixture().state.atlas;
    let v = get_json("/api/coterminosity?a=teams&b=localities").await;
    let study = a
        .coterminosity_study("teams", "localities", 0.01)
        .expect("study");
    assert_eq!(v["units_a_split"], study.result.split_units_a);
    assert!((v["fragmentation"].as_f64().expect("f") - study.result.fragmentation).abs() < 1e-4);
    // The matrix's population adds up to the areas' population (all inside both sets).
    let pop: f64 = a.areas.iter().filter_map(|x| x.population).sum();
    let cells: f64 = v["matrix"]
        .as_array()
        .expect("matrix")
        .iter()
        .map(|c| c["population"].as_f64().expect("pop"))
        .sum();
    assert!((cells - pop).abs() < 1.0 + 1e-6 * pop, "{cells} vs {pop}");
    assert_eq!(v["lookup"].as_array().expect("lookup").len(), a.areas.len());
    // A layer against itself: index 1 everywhere, nothing split.
    let same = get_json("/api/coterminosity?a=localities&b=localities").await;
    assert_eq!(same["fragmentation"], 0.0);
    assert_eq!(same["units_a_split"], 0);
    for u in same["units_a"].as_array().expect("units") {
        assert_eq!(u["index"], 1.0);
        assert_eq!(u["dominant"], u["code"]);
    }
    // Against the small areas: each team's areas by best fit.
    let areas = get_json("/api/coterminosity?a=areas&b=teams").await;
    assert_eq!(
        areas["units_a"].as_array().expect("units").len(),
        a.areas.len()
    );
    let gj = get_json("/api/coterminosity/splits?a=teams&b=localities").await;
    let n_split_a = v["splits"]
        .as_array()
        .expect("splits")
        .iter()
        .filter(|x| x["side"] == "a")
        .count();
    assert_eq!(
        gj["features"].as_array().expect("features").len(),
        n_split_a
    );
}

#[tokio::test]
async fn designer_nests_is_contiguous_in_lookup_and_beats_the_current_teams() {
    let a = &fixture().state.atlas;
    let v =
        get_json("/api/design?parent=council_code&target=localities&current=teams&tolerance=0.2")
            .await;
    let before = v["coterminosity_before"].as_f64().expect("before");
    let after = v["coterminosity_after"].as_f64().expect("after");
    assert!(after >= before, "{after} < {before}");
    // Every unit's areas share one council.
    let mut councils: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in v["lookup"].as_array().expect("lookup") {
        let area = a
            .area_by_code(row["area_id"].as_str().expect("id"))
            .expect("area");
        councils
            .entry(row["unit_id"].as_str().expect("unit").to_string())
            .or_default()
            .insert(area.attribute_text("council_code").expect("council"));
    }
    assert_eq!(
        councils.len(),
        v["features"].as_array().expect("units").len()
    );
    for (u, c) in &councils {
        assert_eq!(c.len(), 1, "unit {u} spans councils {c:?}");
    }
    for f in v["features"].as_array().expect("units") {
        assert_eq!(f["properties"]["within_tolerance"], true);
    }
}

#[tokio::test]
async fn boundary_routes_reject_bad_parameters() {
    for (q, status) in [
        ("/api/coterminosity?a=teams", StatusCode::BAD_REQUEST),
        ("/api/coterminosity?a=teams&b=moon", StatusCode::NOT_FOUND),
        (
            "/api/coterminosity?a=teams&b=localities&split_share=2",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/coterminosity/splits?a=ghost&b=teams",
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/design?parent=council_code&target=moon",
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/design?parent=shoe_size&target=teams",
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/design?parent=council_code&target=teams&tolerance=5",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/design?parent=council_code&target=teams&balance=vibes",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        expect_error("GET", q, status).await;
    }
}
