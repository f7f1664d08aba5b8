//! Scenarios over HTTP: save, list, fetch, compare and delete; invalid
//! edits are refused with the edit named and nothing stored.

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

use super::{app, expect_error, fixture, get_json};

async fn send(method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req
        .body(body.map_or(Body::empty(), |b| Body::from(b.to_string())))
        .expect("request");
    let resp = app().oneshot(req).await.expect("response");
    let status = resp.status();
    let bytes = to_bytes(resp.into_body(), 16 << 20).await.expect("body");
    let v = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    (status, v)
}

#[tokio::test]
async fn save_compare_and_delete_a_scenario() {
    let a = &fixture().state.atlas;
    let office = a
        .premises
        .iter()
        .find(|p| p.kind == "social_work_office")
        .expect("an office");
    // An extra office at every area's point that is not yet within 10 minutes of one.
    let before =
        get_json("/api/scenarios/compare?b=baseline&kind=social_work_office&threshold_min=10")
            .await;
    let gaps: Vec<&Value> = before["areas"]
        .as_array()
        .expect("areas")
        .iter()
        .filter(|x| x["covered_b"] == false)
        .collect();
    assert!(!gaps.is_empty());
    let mut edits = vec![json!({"op": "hours", "id": office.code, "opening_hours": "24/7"})];
    for (k, g) in gaps.iter().enumerate() {
        let code = g["area_id"].as_str().expect("id");
        let area = a.areas.iter().find(|x| x.code == code).expect("area");
        let q = needmap::analysis::access::representative_point(&area.geometry).expect("point");
        let (lon, lat) = needmap::spatial::crs::bng_to_wgs84(q[0], q[1]).expect("lon/lat");
        edits.push(json!({"op": "add", "id": format!("T-{k}"), "name": "test office", "kind": "social_work_office", "lon": lon, "lat": lat}));
    }
    let name = "api-test-more-offices";
    let (s, v) = send(
        "PUT",
        &format!("/api/scenarios/{name}"),
        Some(json!({"description": "test", "edits": edits})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["edits"].as_array().expect("edits").len(), gaps.len() + 1);
    let list = get_json("/api/scenarios").await;
    assert!(list["scenarios"]
        .as_array()
        .expect("list")
        .iter()
        .any(|x| x["name"] == name));
    let got = get_json(&format!("/api/scenarios/{name}")).await;
    assert_eq!(got["description"], "test");
    let c = get_json(&format!(
        "/api/scenarios/compare?a=baseline&b={name}&kind=social_work_office&threshold_min=10"
    ))
    .await;
    assert_eq!(c["b"]["coverage_pct"], 100.0);
    assert!(c["a"]["coverage_pct"].as_f64() < c["b"]["coverage_pct"].as_f64());
    assert_eq!(
        c["b"]["premises"],
        c["a"]["premises"].as_u64().expect("n") + gaps.len() as u64
    );
    for row in c["areas"].as_array().expect("areas") {
        assert_eq!(row["covered_b"], true);
    }
    assert_eq!(c["a"]["by_quintile"].as_array().expect("q").len(), 5);
    let (s, _) = send("DELETE", &format!("/api/scenarios/{name}"), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    expect_error(
        "GET",
        &format!("/api/scenarios/{name}"),
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn invalid_scenarios_are_refused_and_nothing_is_stored() {
    let bad = [
        json!({"edits": [{"op": "close", "id": "NOPE"}]}),
        json!({"edits": [{"op": "teleport", "id": "X"}]}),
        json!({"edits": [{"op": "close", "id": "X", "colour": "red"}]}),
        json!({"edits": [{"op": "add", "id": "N", "name": "n", "kind": "school", "lon": 500, "lat": 55}]}),
        json!({"edits": [{"op": "hours", "id": fixture().state.atlas.premises[0].code, "opening_hours": "whenever"}]}),
        json!({"nope": []}),
    ];
    for b in bad {
        let (s, v) = send("PUT", "/api/scenarios/api-test-bad", Some(b.clone())).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b} -> {v}");
        assert!(v["message"].is_string());
    }
    let (s, v) = send(
        "PUT",
        "/api/scenarios/api-test-bad",
        Some(json!({"edits": [{"op": "close", "id": "NOPE"}]})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["message"].as_str().expect("m").starts_with("edit 1"),
        "{v}"
    );
    let list = get_json("/api/scenarios").await;
    assert!(!list["scenarios"]
        .as_array()
        .expect("list")
        .iter()
        .any(|x| x["name"] == "api-test-bad"));
    expect_error("PUT", "/api/scenarios/baseline", StatusCode::BAD_REQUEST).await;
    expect_error(
        "GET",
        "/api/scenarios/compare?b=ghost&kind=school",
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_error(
        "GET",
        "/api/scenarios/compare?b=baseline&kind=spaceport",
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_error(
        "GET",
        "/api/scenarios/compare?b=baseline&kind=school&threshold_min=0",
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect_error("DELETE", "/api/scenarios/ghost", StatusCode::NOT_FOUND).await;
    expect_error("POST", "/api/scenarios/x", StatusCode::METHOD_NOT_ALLOWED).await;
}
