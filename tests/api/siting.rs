//! `/api/siting` over HTTP: the answer is consistent with its own coverage
//! (recounted here from the access engine's costs), referral weights are
//! protected, and bad parameters are 4xx.

use axum::http::StatusCode;
use serde_json::Value;

use super::{assert_protected_count, expect_error, fixture, get_json};

#[tokio::test]
async fn siting_chooses_p_sites_and_reports_newly_covered_areas() {
    let a = &fixture().state.atlas;
    let v = get_json(
        "/api/siting?model=mclp&candidates=school,health_centre&p=4&threshold_min=5&baseline=social_work_office",
    )
    .await;
    let sites = v["sites"].as_array().expect("sites");
    assert_eq!(sites.len(), 4);
    assert!(v["gap_pct"].as_f64().expect("gap") < 5.0);
    let chosen: Vec<usize> = sites
        .iter()
        .map(|s| {
            let id = s["premises_id"].as_str().expect("id");
            a.premises
                .iter()
                .position(|p| p.code == id)
                .expect("premises")
        })
        .collect();
    for &j in &chosen {
        assert!(["school", "health_centre"].contains(&a.premises[j].kind.as_str()));
    }
    // Recount coverage from the access engine's costs, independently of the solver.
    let (travel, params) = a.travel();
    let points: Vec<[f64; 2]> = a
        .areas
        .iter()
        .map(|x| needmap::analysis::access::representative_point(&x.geometry).expect("point"))
        .collect();
    let csites: Vec<[f64; 2]> = chosen
        .iter()
        .map(|&j| [a.premises[j].x_m, a.premises[j].y_m])
        .collect();
    let costs = travel.matrix(&points, &csites, &params, 300.0);
    let offices: Vec<[f64; 2]> = a
        .premises
        .iter()
        .filter(|p| p.kind == "social_work_office")
        .map(|p| [p.x_m, p.y_m])
        .collect();
    let before = travel.matrix(&points, &offices, &params, 300.0);
    let mut covered_pop = 0.0;
    let mut newly = 0;
    for (i, row) in v["areas"].as_array().expect("areas").iter().enumerate() {
        let cov = costs.rows[i].iter().any(|(_, c)| *c <= 300.0);
        let was = before.rows[i].iter().any(|(_, c)| *c <= 300.0);
        assert_eq!(row["covered"], cov, "area {i}");
        assert_eq!(row["covered_before"], was, "area {i}");
        assert_eq!(row["newly_covered"], cov && !was);
        if cov {
            covered_pop += a.areas[i].population.unwrap_or(0.0);
        }
        if cov && !was {
            newly += 1;
        }
    }
    assert!(
        newly > 0,
        "four new sites cover some area the offices did not"
    );
    let obj = v["objective"].as_f64().expect("objective");
    assert!((obj - covered_pop).abs() < 0.01, "{obj} vs {covered_pop}");
    let eq = v["equity"].as_array().expect("equity");
    assert_eq!(eq.len(), 5);
    for q in eq {
        if let (Some(b), Some(c)) = (
            q["covered_before_pct"].as_f64(),
            q["covered_after_pct"].as_f64(),
        ) {
            assert!(c >= b);
        }
    }
}

#[tokio::test]
async fn siting_by_referrals_is_protected_and_other_models_answer() {
    let v = get_json("/api/siting?model=mclp&candidates=nursery&p=3&weight=referrals").await;
    assert_protected_count(&v["objective"], "covered referrals");
    assert_protected_count(&v["total_weight"], "total referrals");
    for s in v["sites"].as_array().expect("sites") {
        let w = &s["weight_served"];
        assert!(
            w == "<10" || w.as_f64().is_some_and(|x| x >= 10.0 && x % 5.0 == 0.0),
            "unprotected {w}"
        );
    }
    for model in ["p_median", "p_center", "lscp"] {
        let v: Value = get_json(&format!("/api/siting?model={model}&candidates=school&p=3")).await;
        assert!(v["gap_pct"].as_f64().is_some(), "{model}");
        assert!(!v["sites"].as_array().expect("sites").is_empty());
    }
}

#[tokio::test]
async fn siting_rejects_bad_parameters() {
    for (q, status) in [
        ("model=magic&candidates=school", StatusCode::BAD_REQUEST),
        ("model=mclp&candidates=spaceport", StatusCode::NOT_FOUND),
        ("model=mclp&candidates=", StatusCode::BAD_REQUEST),
        ("model=mclp&candidates=school&p=0", StatusCode::BAD_REQUEST),
        (
            "model=mclp&candidates=school&weight=vibes",
            StatusCode::BAD_REQUEST,
        ),
        (
            "model=mclp&candidates=school&threshold_min=0",
            StatusCode::BAD_REQUEST,
        ),
        (
            "model=mclp&candidates=school&keep=NOPE",
            StatusCode::BAD_REQUEST,
        ),
        (
            "model=mclp&candidates=school&baseline=spaceport",
            StatusCode::BAD_REQUEST,
        ),
        (
            "model=mclp&candidates=school&p=100000",
            StatusCode::BAD_REQUEST,
        ),
        ("model=mclp", StatusCode::BAD_REQUEST),
    ] {
        expect_error("GET", &format!("/api/siting?{q}"), status).await;
    }
}

#[tokio::test]
async fn capacitated_siting_serves_no_more_than_uncapacitated() {
    let base = "/api/siting?model=mclp&candidates=nursery&p=3&threshold_min=10";
    let free = get_json(base).await;
    let capped = get_json(&format!("{base}&capacitated=true")).await;
    assert_eq!(capped["capacitated"], true);
    let (f, c) = (
        free["objective"].as_f64().expect("objective"),
        capped["objective"].as_f64().expect("objective"),
    );
    assert!(c <= f + 1e-6, "{c} > {f}");
    // Each site serves at most its capacity (nursery places, in people here).
    let a = &fixture().state.atlas;
    let cap_sum: f64 = capped["sites"]
        .as_array()
        .expect("sites")
        .iter()
        .map(|s| {
            let id = s["premises_id"].as_str().expect("id");
            a.premises
                .iter()
                .find(|p| p.code == id)
                .and_then(|p| p.capacity)
                .expect("capacity")
        })
        .sum();
    assert!(c <= cap_sum + 1e-6, "{c} > {cap_sum}");
    expect_error(
        "GET",
        "/api/siting?model=p_median&candidates=nursery&capacitated=true",
        StatusCode::BAD_REQUEST,
    )
    .await;
}
