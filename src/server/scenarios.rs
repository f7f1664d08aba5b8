//! Scenarios over HTTP: list, fetch, save (PUT) and delete the workspace's
//! saved scenarios, and compare two of them (or one with the baseline) for
//! one kind of premises. Saving checks every edit against the loaded
//! premises first, so nothing invalid is ever stored; a save is one
//! transaction in the workspace store.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::routes::Q;
use super::AppState;
use crate::analysis::scenario::{Edit, Measures, ScenarioMeasures};
use crate::io::scenarios::{check_name, Scenario, BASELINE};
use crate::privacy::Role;

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// `GET /api/scenarios`
pub async fn list(State(s): State<AppState>) -> Result<Json<Value>, ApiError> {
    let st = s.clone();
    let (all, problems) = blocking(move || st.atlas.scenario_store().list()).await?;
    for p in &problems {
        tracing::warn!("scenario skipped: {p}");
    }
    let rows: Vec<Value> = all
        .iter()
        .map(|x| json!({"name": x.name, "description": x.description, "edits": x.edits.len(), "updated": x.updated}))
        .collect();
    Ok(Json(
        json!({"scenarios": rows, "unreadable": problems.len()}),
    ))
}

/// `GET /api/scenarios/{name}`
pub async fn get(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if name == BASELINE {
        return Ok(Json(
            json!({"name": BASELINE, "description": "the premises as loaded", "edits": [], "updated": null}),
        ));
    }
    check_name(&name).map_err(ApiError::BadRequest)?;
    let st = s.clone();
    let n = name.clone();
    match blocking(move || st.atlas.scenario_store().get(&n)).await? {
        Ok(Some(x)) => Ok(Json(json!(x))),
        Ok(None) => Err(ApiError::NotFound(format!("no scenario {name:?}"))),
        Err(e) => Err(ApiError::Internal(e)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutBody {
    #[serde(default)]
    description: Option<String>,
    edits: Vec<Edit>,
}

/// `PUT /api/scenarios/{name}` with `{description?, edits: [...]}`.
pub async fn put(
    State(s): State<AppState>,
    axum::Extension(who): axum::Extension<crate::privacy::auth::Principal>,
    Path(name): Path<String>,
    body: Result<Json<PutBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    check_name(&name).map_err(ApiError::BadRequest)?;
    let Json(body) = body.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(format!(
                "the request body is larger than {} bytes (after inflating gzip)",
                super::MAX_BODY_BYTES
            ))
        } else {
            ApiError::BadRequest(e.body_text())
        }
    })?;
    if body.edits.len() > 10_000 {
        return Err(ApiError::BadRequest("at most 10,000 edits".into()));
    }
    if body.description.as_ref().is_some_and(|d| d.len() > 2000) {
        return Err(ApiError::BadRequest("description is too long".into()));
    }
    // Check the edits against the premises before anything is written.
    s.atlas
        .apply_edits(&body.edits)
        .map_err(ApiError::BadRequest)?;
    let scenario = Scenario {
        name: name.clone(),
        description: body.description,
        edits: body.edits,
        updated: Some(chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()),
    };
    let st = s.clone();
    let sc = scenario.clone();
    blocking(move || {
        let _guard = st.scenario_lock.lock();
        st.atlas.scenario_store().put(&sc, &who.name)
    })
    .await?
    .map_err(ApiError::Internal)?;
    Ok(Json(json!(scenario)))
}

/// `DELETE /api/scenarios/{name}`
pub async fn delete(
    State(s): State<AppState>,
    axum::Extension(who): axum::Extension<crate::privacy::auth::Principal>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    check_name(&name).map_err(ApiError::BadRequest)?;
    let st = s.clone();
    let n = name.clone();
    let gone = blocking(move || {
        let _guard = st.scenario_lock.lock();
        st.atlas.scenario_store().delete(&n, &who.name)
    })
    .await?
    .map_err(ApiError::Internal)?;
    if gone {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::NotFound(format!("no scenario {name:?}")))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareQuery {
    #[serde(default)]
    a: Option<String>,
    b: String,
    kind: String,
    #[serde(default)]
    threshold_min: Option<f64>,
}

fn edits_of(s: &super::Prepared, name: &str) -> Result<Vec<Edit>, ApiError> {
    if name == BASELINE {
        return Ok(Vec::new());
    }
    check_name(name).map_err(ApiError::BadRequest)?;
    match s.atlas.scenario_store().get(name) {
        Ok(Some(x)) => Ok(x.edits),
        Ok(None) => Err(ApiError::NotFound(format!("no scenario {name:?}"))),
        Err(e) => Err(ApiError::Internal(e)),
    }
}

fn minutes(v: Option<f64>) -> Value {
    json!(v.map(|x| (x / 6.0).round() / 10.0))
}

fn pct(v: Option<f64>) -> Value {
    // `+ 0.0` turns a negative zero into 0.
    json!(v.map(|x| (x * 1000.0).round() / 10.0 + 0.0))
}

fn measures_json(s: &super::Prepared, m: &Measures) -> Value {
    json!({
        "coverage_pct": pct(m.coverage),
        "mean_travel_min": minutes(m.mean_travel_s),
        "p95_travel_min": minutes(m.p95_travel_s),
        "hours_gap_pct": s.policy.percent(m.unmet as f64, m.timed as f64, Role::Public),
        "providers_mean": m.providers_mean.map(|x| (x * 100.0).round() / 100.0),
        "choice_desert_pct": pct(m.choice_desert),
    })
}

fn scenario_json(s: &super::Prepared, name: &str, m: &ScenarioMeasures) -> Value {
    let mut v = measures_json(s, &m.overall);
    v["name"] = json!(name);
    v["premises"] = json!(m.premises);
    v["by_quintile"] = json!((0..5)
        .map(|q| {
            let mut x = measures_json(s, &m.by_quintile[q]);
            x["simd_quintile"] = json!(q + 1);
            x
        })
        .collect::<Vec<_>>());
    v
}

/// `GET /api/scenarios/compare?a=baseline&b=NAME&kind=health_centre&threshold_min=15`
pub async fn compare(
    State(s): State<AppState>,
    Q(q): Q<CompareQuery>,
) -> Result<Json<Value>, ApiError> {
    let threshold_min = super::hours::threshold_s(q.threshold_min)? / 60.0;
    let a_name = q.a.clone().unwrap_or_else(|| BASELINE.to_string());
    let (ea, eb) = (edits_of(&s, &a_name)?, edits_of(&s, &q.b)?);
    let st = s.clone();
    let body = blocking(move || -> Result<Value, ApiError> {
        let at = &st.atlas;
        let pa = at.apply_edits(&ea).map_err(ApiError::BadRequest)?;
        let pb = at.apply_edits(&eb).map_err(ApiError::BadRequest)?;
        let has =
            |p: &crate::analysis::scenario::Applied| p.premises.iter().any(|x| x.kind == q.kind);
        if !has(&pa) && !has(&pb) {
            return Err(ApiError::NotFound(format!(
                "neither scenario has premises of kind {:?}; kinds are: {}",
                q.kind,
                at.premises_kinds().join(", ")
            )));
        }
        let t = threshold_min * 60.0;
        let ma = at.measure_kind(&pa, &q.kind, t);
        let mb = at.measure_kind(&pb, &q.kind, t);
        let (travel, params) = at.travel();
        let areas: Vec<Value> = at
            .areas
            .iter()
            .enumerate()
            .map(|(i, ar)| {
                json!({
                    "area_id": ar.code,
                    "travel_time_min_a": minutes(ma.area_travel_s[i]),
                    "travel_time_min_b": minutes(mb.area_travel_s[i]),
                    "covered_a": ma.area_covered[i],
                    "covered_b": mb.area_covered[i],
                })
            })
            .collect();
        Ok(json!({
            "kind": q.kind,
            "threshold_min": threshold_min,
            "method": travel.describe(&params),
            "a": scenario_json(&st, &a_name, &ma),
            "b": scenario_json(&st, &q.b, &mb),
            "areas": areas,
        }))
    })
    .await??;
    Ok(Json(body))
}
