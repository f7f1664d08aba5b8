//! The hours routes over HTTP: figures equal the analyses computed here
//! directly (or by brute force), counts are protected, and bad parameters
//! get a 4xx naming the problem.

use axum::http::StatusCode;
use chrono::{Duration, NaiveDateTime};
use serde_json::Value;

use needmap::analysis::access::floating_catchment;
use needmap::analysis::access::Decay;
use needmap::analysis::hours::{hour_of_week, hours_gaps};
use needmap::privacy::{Policy, Role};

use super::{assert_protected_count, call, expect_error, fixture, get_json};

const KIND: &str = "social_work_office";

fn published(n: f64) -> Value {
    match Policy::default().count(n, Role::Public) {
        needmap::privacy::Count::Value(v) => serde_json::json!(v),
        needmap::privacy::Count::Suppressed(s) => serde_json::json!(s),
    }
}

#[tokio::test]
async fn hours_gap_equals_the_analysis_and_every_count_is_protected() {
    let a = &fixture().state.atlas;
    let v = get_json(&format!("/api/hours/gap?kind={KIND}")).await;
    let study = a.kind_study(KIND, 900.0).expect("kind");
    let gaps = hours_gaps(
        a.areas.len(),
        &a.referrals,
        &study.costs,
        900.0,
        &study.hours(),
        |_| true,
    );
    let timed: u64 = gaps.by_area.iter().map(|g| g.timed).sum();
    let unmet: u64 = gaps.by_area.iter().map(|g| g.unmet).sum();
    assert!(unmet > 0 && unmet < timed, "{unmet} of {timed}");
    assert_eq!(v["totals"]["timed"], published(timed as f64));
    assert_eq!(v["totals"]["unmet"], published(unmet as f64));
    for (row, g) in v["areas"]
        .as_array()
        .expect("areas")
        .iter()
        .zip(&gaps.by_area)
    {
        // As the policy publishes it, unless the audit withheld it.
        for (k, n) in [("timed", g.timed), ("unmet", g.unmet)] {
            assert!(
                row[k] == published(n as f64) || row[k] == "[c]",
                "{k}: {} for {n}",
                row[k]
            );
        }
        assert_protected_count(&row["timed"], "area timed");
    }
    for p in v["premises"].as_array().expect("premises") {
        assert_protected_count(&p["catchment_timed"], "catchment");
        assert_protected_count(&p["while_closed"], "while closed");
    }
    // Demand by hour of the week, by brute force over the referrals.
    let mut by_hour = [0u64; 168];
    for r in &a.referrals.referrals {
        if let (Some(_), Some(t)) = (r.area, r.received) {
            by_hour[hour_of_week(&t)] += 1;
        }
    }
    let shown = v["demand_by_hour"].as_array().expect("demand");
    assert_eq!(shown.len(), 168);
    for (h, c) in shown.iter().enumerate() {
        assert_eq!(*c, published(by_hour[h] as f64), "hour {h}");
        assert_protected_count(c, "demand by hour");
    }
    for c in v["unmet_by_hour"].as_array().expect("unmet") {
        assert_protected_count(c, "unmet by hour");
    }
    // Client groups and other thresholds are for signed-in planners: the
    // public cannot difference nested catchments or groups.
    let g = &a.referrals.groups[0];
    for uri in [
        format!("/api/hours/gap?kind={KIND}&group={g}"),
        format!("/api/hours/gap?kind={KIND}&threshold_min=20"),
        format!("/api/hours/extensions?kind={KIND}&threshold_min=10"),
        format!("/api/areas/DZ000001/hours?kind={KIND}&group={g}"),
    ] {
        let e = expect_error("GET", &uri, StatusCode::BAD_REQUEST).await;
        assert!(
            e["message"].as_str().expect("message").contains("planners"),
            "{e}"
        );
    }
}

#[tokio::test]
async fn hours_access_counts_only_premises_open_in_that_hour() {
    let a = &fixture().state.atlas;
    let study = a.kind_study(KIND, 900.0).expect("kind");
    let monday = a.reference_monday();
    let pop = study.population();
    let cap = study.capacity();
    let hours = study.hours();
    // Tuesday 10:00 (slot 34): offices open. Monday 21:00 (slot 21): none.
    for (slot, expect_open) in [(34usize, true), (21, false)] {
        let v = get_json(&format!("/api/hours/access?kind={KIND}&hour={slot}")).await;
        // Independent: each office's open minutes in that hour of the week.
        let start: NaiveDateTime =
            monday.and_hms_opt(0, 0, 0).expect("midnight") + Duration::hours(slot as i64);
        let supply: Vec<f64> = cap
            .iter()
            .zip(&hours)
            .map(|(c, h)| {
                let mins = h.map_or(0, |h| h.open_minutes(start, start + Duration::hours(1)));
                c * mins as f64 / 60.0
            })
            .collect();
        let want = floating_catchment(&pop, &supply, &study.costs, None, &Decay::e2sfca_default());
        let rows = v["areas"].as_array().expect("areas");
        let mut positive = 0;
        for (row, w) in rows.iter().zip(&want) {
            match (row["score"].as_f64(), w) {
                (Some(x), Some(y)) => {
                    assert!((x - y).abs() <= 1e-6 * y.abs().max(1.0), "{x} vs {y}");
                    if x > 0.0 {
                        positive += 1;
                    }
                }
                (None, None) => {}
                (x, y) => panic!("slot {slot}: {x:?} vs {y:?}"),
            }
        }
        let open = v["premises_open"].as_array().expect("open").len();
        if expect_open {
            assert!(positive > 0 && open > 0, "slot {slot}");
        } else {
            assert_eq!((positive, open), (0, 0), "slot {slot}");
        }
        assert_eq!(v["premises_total"], study.idx.len());
    }
}

#[tokio::test]
async fn extensions_and_heatmap_routes_are_protected() {
    let a = &fixture().state.atlas;
    let v = get_json(&format!("/api/hours/extensions?kind={KIND}&limit=5")).await;
    let ranked = v["ranked"].as_array().expect("ranked");
    assert!(!ranked.is_empty());
    for (k, r) in ranked.iter().enumerate() {
        assert_eq!(r["rank"], k + 1);
        assert_protected_count(&r["referrals_covered"], "covered");
        assert_protected_count(&r["cumulative_covered"], "cumulative");
        let rule = r["extension"].as_str().expect("rule");
        let cal = needmap::analysis::hours::holiday_calendar(2020, 2030, &[]);
        needmap::analysis::hours::Hours::parse(rule, &cal)
            .unwrap_or_else(|e| panic!("{rule} is not opening_hours: {e}"));
    }
    let id = &a.areas[0].code;
    let h = get_json(&format!("/api/areas/{id}/hours?kind={KIND}")).await;
    assert_eq!(h["open_in_reach"].as_array().expect("open").len(), 168);
    for c in h["catchment_demand"].as_array().expect("demand") {
        assert_protected_count(c, "catchment demand");
    }
    let p = a.premises.iter().find(|p| p.kind == KIND).expect("office");
    let ph = get_json(&format!("/api/premises/{}/hours", p.code)).await;
    let cd = ph["catchment_demand"].as_array().expect("catchment demand");
    assert_eq!(cd.len(), 168);
    for c in cd {
        assert_protected_count(c, "premises catchment demand");
    }
}

#[tokio::test]
async fn signpost_ranks_by_travel_time_with_open_state_and_eligibility() {
    let a = &fixture().state.atlas;
    let p = a
        .premises
        .iter()
        .find(|p| p.services.iter().any(|s| s == "gp"))
        .expect("a gp");
    let at = "2024-03-05T17:30";
    let v = get_json(&format!(
        "/api/signpost?lon={}&lat={}&service=gp&at={at}&limit=5",
        p.lon, p.lat
    ))
    .await;
    let res = v["results"].as_array().expect("results");
    assert!(!res.is_empty());
    assert_eq!(
        res[0]["premises_id"],
        p.code.as_str(),
        "the premises under the click is first"
    );
    let t = NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M").expect("at");
    let mut last = -1.0;
    for (k, r) in res.iter().enumerate() {
        assert_eq!(r["rank"], k + 1);
        let tt = r["travel_time_min"].as_f64().expect("time");
        assert!(tt >= last, "ranked by travel time");
        last = tt;
        let prem = a
            .premises
            .iter()
            .position(|x| x.code == r["premises_id"].as_str().expect("id"))
            .expect("known premises");
        assert!(a.premises[prem].services.iter().any(|s| s == "gp"));
        assert!(r["eligibility"].is_string());
        let h = a.hours[prem].as_ref().expect("hours");
        let open = h.is_open(t);
        assert_eq!(r["now"], if open { "open" } else { "closed" });
        let change = h
            .next_change(t)
            .map(|c| c.format("%Y-%m-%dT%H:%M:%S").to_string());
        let key = if open { "closes_at" } else { "opens_at" };
        assert_eq!(r[key].as_str().map(String::from), change, "{key}");
    }
}

#[tokio::test]
async fn hours_and_signpost_reject_bad_parameters() {
    let a = &fixture().state.atlas;
    let p = &a.premises[0];
    let here = format!("lon={}&lat={}", p.lon, p.lat);
    let bad = [
        (
            format!("/api/hours/gap?kind={KIND}&threshold_min=0"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/hours/gap?kind=spaceport".to_string(),
            StatusCode::NOT_FOUND,
        ),
        (
            // Groups are for planners: refused before the group is looked at.
            format!("/api/hours/gap?kind={KIND}&group=pirates"),
            StatusCode::BAD_REQUEST,
        ),
        ("/api/hours/gap".to_string(), StatusCode::BAD_REQUEST),
        (
            format!("/api/hours/access?kind={KIND}&hour=168"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/api/hours/access?kind={KIND}&hour=-1"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/api/hours/access?kind={KIND}&hour=3&decay=zigzag"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/api/hours/extensions?kind={KIND}&limit=0"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/api/areas/NOPE/hours?kind={KIND}"),
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/signpost?lat=55.7".to_string(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/signpost?lon=east&lat=55.7".to_string(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/signpost?lon=200&lat=55.7".to_string(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/signpost?lon=-0.12&lat=51.5".to_string(),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/api/signpost?{here}&service=astrology"),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/api/signpost?{here}&at=teatime"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/api/signpost?{here}&limit=0"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/api/signpost?{here}&max_min=1000"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/api/signpost?{here}&colour=blue"),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (uri, status) in bad {
        let e = expect_error("GET", &uri, status).await;
        assert!(!e["message"].as_str().expect("message").is_empty(), "{uri}");
    }
    // The messages name the problem.
    let e = expect_error(
        "GET",
        "/api/signpost?lon=-0.12&lat=51.5",
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(e["message"]
        .as_str()
        .expect("m")
        .contains("outside the region"));
    let e = expect_error(
        "GET",
        &format!("/api/signpost?{here}&service=astrology"),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(
        e["message"].as_str().expect("m").contains("gp"),
        "lists the services"
    );
    // And a good request still answers after the bad ones.
    let (s, _, _) = call("GET", &format!("/api/signpost?{here}")).await;
    assert_eq!(s, StatusCode::OK);
}
