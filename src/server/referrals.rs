//! `GET /api/referrals`: referral points, for the roles allowed to see them.
//! Public and admin: refused. Planner: points masked deterministically per
//! record (moved 100-400 m by default, the same way every time), no times or
//! row numbers. Steward: the raw points with their source row, time and
//! group, each request first written to the hash-chained audit log with its
//! purpose; if that write fails, nothing is returned.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::routes::Q;
use super::AppState;
use crate::privacy::auth::Principal;
use crate::privacy::Role;

/// Most points one request returns.
pub const MAX_POINTS: usize = 50_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralsQuery {
    /// `min_lon,min_lat,max_lon,max_lat` (WGS84).
    bbox: String,
    /// Why the data is needed (required for raw points; recorded in the audit log).
    #[serde(default)]
    purpose: Option<String>,
}

fn forbidden(m: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        Json(json!({"error": "forbidden", "message": m})),
    )
        .into_response()
}

/// `GET /api/referrals?bbox=-3.7,55.6,-3.6,55.7&purpose=case+review`
pub async fn referrals(
    State(s): State<AppState>,
    Extension(who): Extension<Principal>,
    Q(q): Q<ReferralsQuery>,
) -> Result<Response, ApiError> {
    match who.role {
        Role::Public => {
            return Ok((
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": "unauthorized", "message": "referral points need a planner or data steward token"})),
            )
                .into_response())
        }
        Role::Admin => return Ok(forbidden("the admin role sees no referral data")),
        Role::Planner | Role::Steward => {}
    }
    let b: Vec<f64> = q
        .bbox
        .split(',')
        .map(|t| t.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| {
            ApiError::BadRequest(
                "bbox must be four numbers: min_lon,min_lat,max_lon,max_lat".into(),
            )
        })?;
    if b.len() != 4 || !b.iter().all(|v| v.is_finite()) || b[0] >= b[2] || b[1] >= b[3] {
        return Err(ApiError::BadRequest(
            "bbox must be min_lon,min_lat,max_lon,max_lat with min below max".into(),
        ));
    }
    let purpose = q.purpose.as_deref().map(str::trim).unwrap_or("");
    if who.role == Role::Steward && (purpose.len() < 3 || purpose.len() > 500) {
        return Err(ApiError::BadRequest(
            "purpose is required for raw points (3 to 500 characters) and is recorded".into(),
        ));
    }
    let a = &s.atlas;
    let inside = |r: &crate::model::Referral| {
        crate::spatial::crs::bng_to_wgs84(r.x_m, r.y_m)
            .ok()
            .filter(|(lon, lat)| *lon >= b[0] && *lon <= b[2] && *lat >= b[1] && *lat <= b[3])
    };
    let picked: Vec<(&crate::model::Referral, (f64, f64))> = a
        .referrals
        .referrals
        .iter()
        .filter_map(|r| inside(r).map(|p| (r, p)))
        .take(MAX_POINTS + 1)
        .collect();
    if picked.len() > MAX_POINTS {
        return Err(ApiError::BadRequest(format!(
            "more than {MAX_POINTS} referrals in the box: ask for a smaller one"
        )));
    }
    let feats: Vec<serde_json::Value> = if who.role == Role::Steward {
        // The write may reach a database (a shared store): off the async threads.
        let (st, user, query, purpose, rows) = (
            s.clone(),
            who.name.clone(),
            q.bbox.clone(),
            purpose.to_string(),
            picked.len(),
        );
        tokio::task::spawn_blocking(move || {
            st.audit.append(&crate::privacy::audit::Access {
                user: &user,
                role: "steward",
                route: "/api/referrals",
                query: &query,
                purpose: &purpose,
                rows,
            })
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r)
        .map_err(|e| {
            tracing::error!("audit log write failed, no data returned: {e}");
            ApiError::Unavailable(
                "the audit log cannot be written, so no raw data is returned".into(),
            )
        })?;
        picked
            .iter()
            .map(|(r, (lon, lat))| {
                json!({"type": "Feature", "properties": {
                    "row": r.row,
                    "received": r.received,
                    "group": r.group.and_then(|g| a.referrals.groups.get(g as usize)),
                    "area_id": r.area.map(|x| a.areas[x.index()].code.clone()),
                }, "geometry": {"type": "Point", "coordinates": [crate::spatial::crs::trim6(*lon), crate::spatial::crs::trim6(*lat)]}})
            })
            .collect()
    } else {
        let Some(m) = &s.masker else {
            return Err(ApiError::Unavailable(
                "no masking secret: masked points are not available".into(),
            ));
        };
        picked
            .iter()
            .filter_map(|(r, _)| {
                let (x, y) = m.mask(&format!("{}", r.row), r.x_m, r.y_m);
                let (lon, lat) = crate::spatial::crs::bng_to_wgs84(x, y).ok()?;
                Some(json!({"type": "Feature", "properties": {"masked": true},
                    "geometry": {"type": "Point", "coordinates": [crate::spatial::crs::trim6(lon), crate::spatial::crs::trim6(lat)]}}))
            })
            .collect()
    };
    Ok(
        Json(json!({"type": "FeatureCollection", "role": who.role, "features": feats}))
            .into_response(),
    )
}
