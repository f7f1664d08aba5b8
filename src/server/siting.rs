//! `GET /api/siting`: location-allocation on the served workspace.
//! Candidates are premises (public); demand weights from population or need
//! are public aggregates; with `weight=referrals` every weight and covered
//! total passes the disclosure-control policy.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::routes::Q;
use super::AppState;
use crate::io::study::{SitingModel, SitingRequest, SitingWeight};
use crate::privacy::Role;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SitingQuery {
    model: String,
    /// Comma-separated premises kinds.
    candidates: String,
    #[serde(default)]
    p: Option<usize>,
    #[serde(default)]
    threshold_min: Option<f64>,
    #[serde(default)]
    weight: Option<String>,
    /// Comma-separated premises ids that must stay open.
    #[serde(default)]
    keep: Option<String>,
    #[serde(default)]
    baseline: Option<String>,
    #[serde(default)]
    seed: Option<u64>,
    /// MCLP with each site serving at most its capacity.
    #[serde(default)]
    capacitated: Option<bool>,
}

fn list(s: Option<&str>) -> Vec<String> {
    s.unwrap_or("")
        .split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// `GET /api/siting?model=mclp&candidates=school,health_centre&p=10&threshold_min=15&weight=need`
pub async fn siting(
    State(s): State<AppState>,
    Q(q): Q<SitingQuery>,
) -> Result<Json<Value>, ApiError> {
    let model: SitingModel = q.model.parse().map_err(ApiError::BadRequest)?;
    let weight: SitingWeight = q
        .weight
        .as_deref()
        .unwrap_or("population")
        .parse()
        .map_err(ApiError::BadRequest)?;
    let threshold_min = super::hours::threshold_s(q.threshold_min)? / 60.0;
    let p = q.p.unwrap_or(5);
    if model != SitingModel::Lscp && !(1..=500).contains(&p) {
        return Err(ApiError::BadRequest("p must be between 1 and 500".into()));
    }
    let candidates = list(Some(&q.candidates));
    if candidates.is_empty() {
        return Err(ApiError::BadRequest(
            "candidates must name at least one premises kind".into(),
        ));
    }
    for k in &candidates {
        s.atlas.check_kind(k).map_err(ApiError::NotFound)?;
    }
    let req = SitingRequest {
        model,
        candidates,
        p,
        threshold_s: threshold_min * 60.0,
        weight,
        keep: list(q.keep.as_deref()),
        baseline: q.baseline.clone().filter(|b| !b.is_empty()),
        seed: q.seed.unwrap_or(1),
        capacitated: q.capacitated.unwrap_or(false),
    };
    let st = s.clone();
    let req_capacitated = req.capacitated;
    let body = tokio::task::spawn_blocking(move || -> Result<Value, String> {
        let a = &st.atlas;
        let r = a.site(&req)?;
        let protect = weight == SitingWeight::Referrals;
        let num = |v: f64| -> Value {
            if protect {
                json!(st.policy.count(v, Role::Public))
            } else {
                json!((v * 100.0).round() / 100.0)
            }
        };
        let sites: Vec<Value> = r
            .sites
            .iter()
            .map(|c| {
                let p = &a.premises[c.premises];
                json!({
                    "premises_id": p.code,
                    "name": p.name,
                    "kind": p.kind,
                    "lon": crate::spatial::crs::trim6(p.lon),
                    "lat": crate::spatial::crs::trim6(p.lat),
                    "weight_served": num(c.weight_served),
                    "areas_served": c.areas_served,
                })
            })
            .collect();
        let areas: Vec<Value> = a
            .areas
            .iter()
            .zip(&r.areas)
            .map(|(ar, (site, cost, within, before))| {
                json!({
                    "area_id": ar.code,
                    "site": site.map(|j| a.premises[j].code.clone()),
                    "travel_time_min": cost.map(|c| (c / 6.0).round() / 10.0),
                    "covered": within,
                    "covered_before": before,
                    "newly_covered": *within && !before,
                })
            })
            .collect();
        let e = &r.equity;
        let equity: Vec<Value> = (0..5)
            .map(|q| {
                let share =
                    |x: f64| (e.demand[q] > 0.0).then(|| (x / e.demand[q] * 1000.0).round() / 10.0);
                json!({
                    "simd_quintile": q + 1,
                    "demand": num(e.demand[q]),
                    "covered_before_pct": share(e.covered_before[q]),
                    "covered_after_pct": share(e.covered_after[q]),
                })
            })
            .collect();
        let sol = &r.solution;
        let objective = match model {
            SitingModel::Mclp => num(sol.objective),
            SitingModel::Lscp => json!(sol.objective),
            // Weighted minutes, and the largest travel time in minutes.
            SitingModel::PMedian => json!((sol.objective / 60.0).round()),
            SitingModel::PCenter => json!((sol.objective / 6.0).round() / 10.0),
        };
        Ok(json!({
            "model": model,
            "weight": weight,
            "p": sites.len(),
            "threshold_min": threshold_min,
            "method": r.method,
            "objective": objective,
            "objective_unit": match model {
                SitingModel::Mclp => "demand weight within the threshold",
                SitingModel::Lscp => "sites",
                SitingModel::PMedian => "weighted minutes of travel",
                SitingModel::PCenter => "minutes to the farthest area",
            },
            "gap_pct": (sol.gap * 1e5).round() / 1e3,
            "proven_optimal": sol.gap <= 1e-9,
            "capacitated": req_capacitated,
            "total_weight": num(r.total_weight),
            "sites": sites,
            "areas": areas,
            "equity": equity,
        }))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(ApiError::BadRequest)?;
    Ok(Json(body))
}
