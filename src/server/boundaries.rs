//! Boundary harmonisation over HTTP: co-terminosity of two layers, the split
//! pieces as GeoJSON for the map, and the boundary designer's proposal.
//! Populations are census counts (public); caseload balancing passes the
//! disclosure-control policy. Results are cached by their parameters.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::routes::Q;
use super::AppState;
use crate::io::boundaries_study::coterminosity_json;
use crate::privacy::Role;

fn cached(s: &super::Prepared, key: &str) -> Option<bytes::Bytes> {
    super::hours::cached(&s.boundary_cache, key)
}

fn store(s: &super::Prepared, key: String, b: bytes::Bytes) {
    super::hours::store(&s.boundary_cache, key, b)
}

fn respond(b: bytes::Bytes, geo: bool) -> Response {
    use axum::http::{header, HeaderValue};
    use axum::response::IntoResponse;
    let ct = if geo {
        "application/geo+json"
    } else {
        "application/json"
    };
    ([(header::CONTENT_TYPE, HeaderValue::from_static(ct))], b).into_response()
}

fn check_layer(s: &super::Prepared, name: &str) -> Result<(), ApiError> {
    s.atlas.layer(name).map(|_| ()).map_err(ApiError::NotFound)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CotermQuery {
    a: String,
    b: String,
    #[serde(default)]
    split_share: Option<f64>,
}

fn split_share(q: &CotermQuery) -> Result<f64, ApiError> {
    let v = q.split_share.unwrap_or(0.01);
    if !(0.0..0.5).contains(&v) {
        return Err(ApiError::BadRequest(
            "split_share must be at least 0 and below 0.5".into(),
        ));
    }
    Ok(v)
}

/// `GET /api/coterminosity?a=teams&b=localities&split_share=0.01`
pub async fn coterminosity(
    State(s): State<AppState>,
    Q(q): Q<CotermQuery>,
) -> Result<Response, ApiError> {
    let share = split_share(&q)?;
    check_layer(&s, &q.a)?;
    check_layer(&s, &q.b)?;
    let key = format!("coterm|{}|{}|{share}", q.a, q.b);
    if let Some(b) = cached(&s, &key) {
        return Ok(respond(b, false));
    }
    let st = s.clone();
    let body = tokio::task::spawn_blocking(move || -> Result<bytes::Bytes, String> {
        let study = st.atlas.coterminosity_study(&q.a, &q.b, share)?;
        let codes: Vec<String> = st.atlas.areas.iter().map(|x| x.code.clone()).collect();
        Ok(bytes::Bytes::from(
            coterminosity_json(&study, Some(&codes)).to_string(),
        ))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(ApiError::BadRequest)?;
    store(&s, key, body.clone());
    Ok(respond(body, false))
}

/// `GET /api/coterminosity/splits?a=teams&b=localities`: the pieces of A's
/// units that lie outside their dominant counterpart in B (the splits), as
/// GeoJSON polygons with the unit, the counterpart and the population share.
pub async fn splits(State(s): State<AppState>, Q(q): Q<CotermQuery>) -> Result<Response, ApiError> {
    use crate::analysis::boundaries::{overlay::pair_intersection, Side};
    let share = split_share(&q)?;
    check_layer(&s, &q.a)?;
    check_layer(&s, &q.b)?;
    let key = format!("splits|{}|{}|{share}", q.a, q.b);
    if let Some(b) = cached(&s, &key) {
        return Ok(respond(b, true));
    }
    let st = s.clone();
    let body = tokio::task::spawn_blocking(move || -> Result<bytes::Bytes, String> {
        let study = st.atlas.coterminosity_study(&q.a, &q.b, share)?;
        let mut feats = Vec::new();
        for x in study
            .result
            .splits
            .iter()
            .filter(|x| x.side == Side::A)
            .take(5000)
        {
            let (ga, gb) = (
                study.a.geoms[x.unit as usize],
                study.b.geoms[x.counterpart as usize],
            );
            let Ok(piece) = pair_intersection(ga, gb) else {
                continue;
            };
            let Ok(wgs) = crate::io::writers::to_wgs84(&piece) else {
                continue;
            };
            feats.push(json!({
                "type": "Feature",
                "id": feats.len(),
                "properties": {
                    "unit": study.a.codes[x.unit as usize],
                    "counterpart": study.b.codes[x.counterpart as usize],
                    "population": (x.population * 10.0).round() / 10.0,
                    "share": (x.share * 1e4).round() / 1e4,
                },
                "geometry": crate::io::writers::multipolygon_json(&wgs),
            }));
        }
        Ok(bytes::Bytes::from(
            json!({"type": "FeatureCollection", "a": q.a, "b": q.b, "features": feats}).to_string(),
        ))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(ApiError::BadRequest)?;
    store(&s, key, body.clone());
    Ok(respond(body, true))
}

/// A constraint the designer could not meet, with codes rather than indices.
fn infeasible_json(
    a: &crate::io::workspace::Atlas,
    d: &crate::io::boundaries_study::DesignStudy,
    i: &crate::analysis::boundaries::Infeasibility,
) -> Value {
    use crate::analysis::boundaries::Infeasibility;
    match i {
        Infeasibility::AreaTooHeavy {
            area, weight, high, ..
        } => {
            let code = a.areas.get(*area as usize).map(|x| x.code.clone());
            json!({"kind": "area_too_heavy", "area_id": code, "weight": weight.round(), "max": high.round(),
                "message": format!("area {} weighs {:.0}, more than a unit may ({:.0})", code.as_deref().unwrap_or("?"), weight, high)})
        }
        Infeasibility::Unbalanced {
            unit, weight, band, ..
        } => {
            let k = *unit as usize;
            let parent = d.parent_codes.get(k).cloned().unwrap_or_default();
            json!({"kind": "unbalanced", "unit_id": format!("U{:03}", k + 1), "parent": parent, "weight": weight.round(),
                "band": [band[0].round(), band[1].round()],
                "message": format!("unit U{:03} in {parent} weighs {:.0}, outside {:.0}-{:.0}", k + 1, weight, band[0], band[1])})
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DesignQuery {
    parent: String,
    target: String,
    #[serde(default)]
    current: Option<String>,
    #[serde(default)]
    tolerance: Option<f64>,
    #[serde(default)]
    balance: Option<String>,
}

/// `GET /api/design?parent=council_code&target=localities&current=teams&tolerance=0.2`:
/// the designer's units as GeoJSON (WGS84) with co-terminosity before and after.
pub async fn design(State(s): State<AppState>, Q(q): Q<DesignQuery>) -> Result<Response, ApiError> {
    let tolerance = q.tolerance.unwrap_or(0.1);
    if !(0.01..=0.9).contains(&tolerance) {
        return Err(ApiError::BadRequest(
            "tolerance must be between 0.01 and 0.9 (0.1 = ±10 %)".into(),
        ));
    }
    let by_referrals = match q.balance.as_deref().unwrap_or("population") {
        "population" => false,
        "referrals" => true,
        other => {
            return Err(ApiError::BadRequest(format!(
                "balance {other:?} is not population or referrals"
            )))
        }
    };
    if !s.atlas.parent_columns.iter().any(|c| c == &q.parent) {
        return Err(ApiError::NotFound(format!(
            "no parent column {:?}; parent columns are: {}",
            q.parent,
            s.atlas.parent_columns.join(", ")
        )));
    }
    check_layer(&s, &q.target)?;
    if let Some(c) = &q.current {
        check_layer(&s, c)?;
    }
    let key = format!(
        "design|{}|{}|{:?}|{tolerance}|{by_referrals}",
        q.parent, q.target, q.current
    );
    if let Some(b) = cached(&s, &key) {
        return Ok(respond(b, true));
    }
    let st = s.clone();
    let body = tokio::task::spawn_blocking(move || -> Result<bytes::Bytes, String> {
        let a = &st.atlas;
        let d = a.design_study(&q.parent, &q.target, q.current.as_deref(), tolerance, by_referrals)?;
        let weight = |w: f64| -> Value {
            if by_referrals {
                json!(st.policy.count(w, Role::Public))
            } else {
                json!(w.round())
            }
        };
        let mut feats = Vec::new();
        for (k, (u, poly)) in d.design.units.iter().zip(&d.polygons).enumerate() {
            let wgs = crate::io::writers::to_wgs84(&poly.geometry).map_err(|e| e.to_string())?;
            feats.push(json!({
                "type": "Feature",
                "id": k,
                "properties": {
                    "unit_id": format!("U{:03}", k + 1),
                    "parent": d.parent_codes[k],
                    "aligned_with": d.labels[k],
                    "areas": u.areas.len(),
                    "weight": weight(u.weight),
                    "within_tolerance": u.within_tolerance,
                },
                "geometry": crate::io::writers::multipolygon_json(&wgs),
            }));
        }
        let lookup: Vec<Value> = a
            .areas
            .iter()
            .zip(&d.design.unit_of_area)
            .map(|(ar, &u)| json!({"area_id": ar.code, "unit_id": format!("U{:03}", u + 1)}))
            .collect();
        Ok(bytes::Bytes::from(
            json!({
                "type": "FeatureCollection",
                "parent": q.parent,
                "target": q.target,
                "current": q.current,
                "tolerance": tolerance,
                "balance": if by_referrals { "referrals" } else { "population" },
                "coterminosity_before": d.before.map(|b| (b * 1e4).round() / 1e4),
                "coterminosity_after": (d.after * 1e4).round() / 1e4,
                "ceiling": (d.design.ceiling_coterminosity * 1e4).round() / 1e4,
                "infeasible": d.design.infeasible.iter().map(|i| infeasible_json(a, &d, i)).collect::<Vec<_>>(),
                "features": feats,
                "lookup": lookup,
            })
            .to_string(),
        ))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(ApiError::BadRequest)?;
    store(&s, key, body.clone());
    Ok(respond(body, true))
}
