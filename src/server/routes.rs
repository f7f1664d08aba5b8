//! Route handlers. No geometry logic here: look-ups in the prepared state and
//! serialisation through [`crate::io::writers`] with the public role.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use geo::BoundingRect;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::error::ApiError;
use super::AppState;
use crate::analysis::NeedMap;
use crate::analysis::{rollup_by_column, rollup_to_boundaries};
use crate::io::writers::{area_properties, equity_json, multipolygon_json, rollup_json};
use crate::io::Atlas;
use crate::privacy::auth::Principal;
use crate::privacy::Disclosure;
use crate::privacy::Role;
use crate::server::Prepared;
use crate::spatial::crs::trim6;

const ROLE: Role = Role::Public;

fn geojson(bytes: bytes::Bytes) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/geo+json"),
        )],
        bytes,
    )
        .into_response()
}

/// Query parameters, rejected with a JSON 400 rather than axum's plain text.
pub struct Q<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Q<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(Q(v)),
            Err(e) => Err(ApiError::BadRequest(e.body_text())),
        }
    }
}

/// `GET /api/health`
pub async fn health(State(s): State<AppState>) -> Json<Value> {
    Json(json!({"status": "ok", "areas": s.atlas.areas.len()}))
}

/// `GET /api/openapi.json`
pub async fn openapi() -> Json<Value> {
    Json(super::openapi::document())
}

/// `GET /api/meta`
pub async fn meta(State(s): State<AppState>, Extension(who): Extension<Principal>) -> Json<Value> {
    let a = &s.atlas;
    let kinds = a.premises_kinds();
    let b = a.bbox_wgs84();
    Json(json!({
        "region": a.region,
        "bbox_wgs84": [trim6(b[0]), trim6(b[1]), trim6(b[2]), trim6(b[3])],
        "areas": a.areas.len(),
        "boundary_sets": a.boundary_sets.iter().map(|b| &b.name).collect::<Vec<_>>(),
        "premises_kinds": kinds,
        "groups": a.referrals.groups,
        "periods": s.need.periods,
        "rollup_levels": a.parent_columns,
        "parent_columns": a.parent_columns,
        "role": who.role,
        "user": (who.role != Role::Public).then_some(who.name.as_str()),
        "attribution": a.config.attribution,
        "basemap_style": a.config.map.basemap_style,
        "disclosure": {"threshold": s.policy.threshold, "rounding": s.policy.rounding},
        "public_hours_threshold_min": super::hours::public_threshold_s(&s) / 60.0,
    }))
}

/// A route that takes no parameters: any given is a 400 (no date windows,
/// no breakdowns the route does not publish).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoQuery {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreasQuery {
    /// `false` gives the attributes only (for legends and tables), without polygons.
    #[serde(default)]
    geometry: Option<bool>,
}

/// `GET /api/areas`: every area with its public need attributes, as GeoJSON;
/// `?geometry=false` gives `{"areas": [properties...]}` without polygons.
/// Planners and data stewards get exact counts (built per request, as for
/// `/api/areas/{id}`); everyone else the public layer serialised at start-up.
pub async fn areas(
    State(s): State<AppState>,
    Extension(who): Extension<Principal>,
    Q(q): Q<AreasQuery>,
) -> Response {
    if who.role.exact() {
        let fc = crate::io::writers::need_geojson(&s.atlas.areas, &s.need, Disclosure::Exact);
        if q.geometry == Some(false) {
            let attributes: Vec<Value> = fc["features"]
                .as_array()
                .map(|f| f.iter().map(|x| x["properties"].clone()).collect())
                .unwrap_or_default();
            return Json(json!({ "areas": attributes })).into_response();
        }
        return geojson(bytes::Bytes::from(fc.to_string()));
    }
    if q.geometry == Some(false) {
        return (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            s.areas_attributes.clone(),
        )
            .into_response();
    }
    geojson(s.areas_geojson.clone())
}

/// `GET /api/areas/{id}`
pub async fn area(
    State(s): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let role = who.role;
    let a = &s.atlas;
    let area = a
        .areas
        .iter()
        .find(|x| x.code == id)
        .ok_or_else(|| ApiError::NotFound(format!("no area {id:?}")))?;
    let n = &s.need.areas[area.id.index()];
    let d = Disclosure::for_role(role, &s.public.counts);
    let i = area.id.index();
    let n = if role.exact() {
        n
    } else {
        &s.public.need.areas[i]
    };
    let mut m = area_properties(area, n, &s.need, d);
    let parents: Map<String, Value> = a
        .parent_columns
        .iter()
        .filter_map(|c| area.attribute_text(c).map(|v| (c.clone(), json!(v))))
        .collect();
    m.insert("parents".into(), Value::Object(parents));
    let groups: Map<String, Value> = s
        .need
        .groups
        .iter()
        .zip(&n.by_group)
        .enumerate()
        .filter_map(|(g, (name, &c))| {
            let shown = d.count(c as f64, |r| r.area_group(i, g))?;
            Some((
                name.clone(),
                serde_json::to_value(shown).unwrap_or(Value::Null),
            ))
        })
        .collect();
    m.insert("referrals_by_group".into(), Value::Object(groups));
    let indicators: Map<String, Value> = a
        .indicator_columns
        .iter()
        .map(|c| (c.clone(), json!(area.numbers.get(c))))
        .collect();
    m.insert("indicators".into(), Value::Object(indicators));
    Ok(Json(Value::Object(m)))
}

/// `GET /api/equity` (exact for planners and data stewards).
pub async fn equity(
    State(s): State<AppState>,
    Extension(who): Extension<Principal>,
    Q(_): Q<NoQuery>,
) -> Json<Value> {
    Json(equity_json(
        &s.equity,
        Disclosure::for_role(who.role, &s.public.counts),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollupQuery {
    to: String,
}

/// `GET /api/rollup?to=ca_code` or `?to=<boundary set>`
pub async fn rollup(
    State(s): State<AppState>,
    Extension(who): Extension<Principal>,
    Q(q): Q<RollupQuery>,
) -> Result<Json<Value>, ApiError> {
    let a = &s.atlas;
    let state = s.clone();
    let to = q.to.clone();
    let exact = who.role.exact();
    let need = move |st: &Prepared| -> NeedMap {
        if exact {
            st.need.clone()
        } else {
            st.public.need.clone()
        }
    };
    let r = if a.boundary_sets.iter().any(|b| b.name == q.to) {
        tokio::task::spawn_blocking(move || {
            let set = state.atlas.boundary_sets.iter().find(|b| b.name == to);
            let need = need(&state);
            set.map(|set| rollup_to_boundaries(&state.atlas.areas, &need, set))
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or_else(|| ApiError::NotFound(format!("no boundary set {:?}", q.to)))?
    } else if a.parent_columns.contains(&q.to) {
        rollup_by_column(
            &a.areas,
            if exact { &s.need } else { &s.public.need },
            &q.to,
        )
    } else {
        return Err(ApiError::NotFound(format!(
            "{:?} is neither a roll-up level ({}) nor a boundary set",
            q.to,
            a.parent_columns.join(", ")
        )));
    };
    Ok(Json(rollup_json(
        &r,
        Disclosure::for_role(who.role, &s.public.counts),
    )))
}

/// The premises layer as GeoJSON.
pub fn premises_geojson(a: &Atlas) -> Value {
    let features: Vec<Value> = a
        .premises
        .iter()
        .map(|p| {
            json!({
                "type": "Feature",
                "id": p.id.0,
                "properties": {
                    "premises_id": p.code,
                    "name": p.name,
                    "kind": p.kind,
                    "services": p.services.join(";"),
                    "capacity": p.capacity,
                    "provider": p.provider,
                    "opening_hours": p.opening_hours,
                    "eligibility": p.eligibility,
                },
                "geometry": {"type": "Point", "coordinates": [trim6(p.lon), trim6(p.lat)]},
            })
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}

/// `GET /api/premises`
pub async fn premises(State(s): State<AppState>) -> Response {
    geojson(s.premises_geojson.clone())
}

/// `GET /api/boundaries`
pub async fn boundary_sets(State(s): State<AppState>) -> Json<Value> {
    let sets: Vec<Value> = s
        .atlas
        .boundary_sets
        .iter()
        .map(|b| json!({"name": b.name, "units": b.units.len()}))
        .collect();
    Json(json!({"boundary_sets": sets}))
}

/// `GET /api/boundaries/{name}`
pub async fn boundary_set(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let set = s
        .atlas
        .boundary_sets
        .iter()
        .find(|b| b.name == name)
        .ok_or_else(|| ApiError::NotFound(format!("no boundary set {name:?}")))?;
    let features: Vec<Value> = set
        .units
        .iter()
        .map(|u| {
            json!({
                "type": "Feature",
                "id": u.id.0,
                "properties": {"boundary_id": u.code, "name": u.name},
                "geometry": multipolygon_json(&u.geometry_wgs84),
            })
        })
        .collect();
    Ok(geojson(bytes::Bytes::from(
        json!({"type": "FeatureCollection", "features": features}).to_string(),
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    q: String,
    #[serde(default)]
    limit: Option<usize>,
}

/// `GET /api/search?q=` by area code or name (case-insensitive), codes first.
pub async fn search(
    State(s): State<AppState>,
    Q(q): Q<SearchQuery>,
) -> Result<Json<Value>, ApiError> {
    let needle = q.q.trim().to_lowercase();
    if needle.is_empty() {
        return Err(ApiError::BadRequest("q must not be empty".into()));
    }
    if needle.len() > 100 {
        return Err(ApiError::BadRequest(
            "q is longer than 100 characters".into(),
        ));
    }
    let limit = q.limit.unwrap_or(20).clamp(1, 100);
    let mut hits: Vec<(u8, &crate::model::Area)> = s
        .atlas
        .areas
        .iter()
        .filter_map(|a| {
            let code = a.code.to_lowercase();
            let name = a.name.as_deref().unwrap_or("").to_lowercase();
            if code == needle {
                Some((0, a))
            } else if code.starts_with(&needle) {
                Some((1, a))
            } else if name.starts_with(&needle) {
                Some((2, a))
            } else if name.contains(&needle) {
                Some((3, a))
            } else {
                None
            }
        })
        .collect();
    hits.sort_by(|x, y| x.0.cmp(&y.0).then(x.1.code.cmp(&y.1.code)));
    let results: Vec<Value> = hits
        .into_iter()
        .take(limit)
        .map(|(_, a)| {
            let b = a.geometry_wgs84.bounding_rect();
            let bbox = b.map(|r| {
                [
                    trim6(r.min().x),
                    trim6(r.min().y),
                    trim6(r.max().x),
                    trim6(r.max().y),
                ]
            });
            json!({"area_id": a.code, "name": a.name, "bbox_wgs84": bbox})
        })
        .collect();
    Ok(Json(json!({"results": results})))
}

/// Unknown `/api/...` route.
pub async fn api_not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no route {}", uri.path()))
}

/// A known route with the wrong method.
pub async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(json!({"error": "method_not_allowed", "message": "this route answers GET only"})),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessQuery {
    kind: String,
    #[serde(default)]
    decay: Option<String>,
    #[serde(default)]
    demand: Option<crate::analysis::access::DemandMeasure>,
    #[serde(default)]
    threshold_min: Option<f64>,
    #[serde(default)]
    desert_below: Option<usize>,
}

/// `GET /api/access?kind=school&threshold_min=15&desert_below=2`: per-area access
/// to one kind of premises over straight-line travel (distance × 1.3 at 30 km/h),
/// and choice deserts by SIMD quintile. Premises and population are public, so
/// nothing here needs disclosure control.
pub async fn access(State(s): State<AppState>, Q(q): Q<AccessQuery>) -> Result<Response, ApiError> {
    let threshold_min = q.threshold_min.unwrap_or(15.0);
    if !(1.0..=180.0).contains(&threshold_min) {
        return Err(ApiError::BadRequest(
            "threshold_min must be between 1 and 180".into(),
        ));
    }
    let desert_below = q.desert_below.unwrap_or(2);
    if !(1..=50).contains(&desert_below) {
        return Err(ApiError::BadRequest(
            "desert_below must be between 1 and 50".into(),
        ));
    }
    if !s.atlas.premises.iter().any(|p| p.kind == q.kind) {
        let kinds = s.atlas.premises_kinds();
        return Err(ApiError::NotFound(format!(
            "no premises of kind {:?}; kinds are: {}",
            q.kind,
            kinds.join(", ")
        )));
    }
    let demand = q.demand.unwrap_or_default();
    let decay_text = q.decay.clone().unwrap_or_else(|| "e2sfca".into());
    if decay_text.len() > 200 {
        return Err(ApiError::BadRequest("decay is too long".into()));
    }
    let decay = crate::analysis::access::Decay::parse(&decay_text).map_err(ApiError::BadRequest)?;
    let key = format!(
        "{}|{threshold_min}|{desert_below}|{demand:?}|{decay_text}",
        q.kind
    );
    if let Some(b) = s
        .access_cache
        .lock()
        .ok()
        .and_then(|c| c.get(&key).cloned())
    {
        return Ok(json_bytes(b));
    }
    let state = s.clone();
    let kind = q.kind.clone();
    let body = tokio::task::spawn_blocking(move || {
        access_body(&state, &kind, threshold_min, desert_below, (demand, decay))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Ok(mut c) = s.access_cache.lock() {
        if c.len() < 64 {
            c.insert(key, body.clone());
        }
    }
    Ok(json_bytes(body))
}

fn json_bytes(b: bytes::Bytes) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        b,
    )
        .into_response()
}

fn access_body(
    s: &super::Prepared,
    kind: &str,
    threshold_min: f64,
    desert_below: usize,
    (demand, decay): (
        crate::analysis::access::DemandMeasure,
        crate::analysis::access::Decay,
    ),
) -> bytes::Bytes {
    use crate::analysis::access::{access_table_by, AccessParams, Travel};
    let a = &s.atlas;
    let prem: Vec<&crate::model::Premises> = a.premises.iter().filter(|p| p.kind == kind).collect();
    let (travel, base) = a.travel();
    let params = AccessParams {
        threshold_s: threshold_min * 60.0,
        desert_below,
        demand,
        decay,
        ..base
    };
    let table = access_table_by(&a.areas, &prem, &params, travel, Some(&s.need));
    let travel_type = match travel {
        Travel::StraightLine => "straight_line",
        Travel::Network(..) => "road_network",
    };
    let mut desert_pop = [0.0f64; 5];
    let mut desert_pop_no_simd = 0.0f64;
    let mut deserts = 0usize;
    let areas: Vec<Value> = a
        .areas
        .iter()
        .zip(&table)
        .map(|(area, t)| {
            if t.choice_desert {
                deserts += 1;
                match area.simd {
                    Some(simd) => {
                        desert_pop[(simd.quintile.clamp(1, 5) - 1) as usize] +=
                            area.population.unwrap_or(0.0)
                    }
                    None => desert_pop_no_simd += area.population.unwrap_or(0.0),
                }
            }
            let near = t.nearest.map(|j| prem[j as usize]);
            json!({
                "area_id": area.code,
                "nearest": near.map(|p| &p.code),
                "nearest_name": near.map(|p| &p.name),
                "distance_m": t.distance_m.map(f64::round),
                "travel_time_s": t.travel_time_s.map(f64::round),
                "providers_within": t.providers_within,
                "premises_within": t.premises_within,
                "choice_desert": t.choice_desert,
                "access_2sfca": t.access_2sfca,
                "access_e2sfca": t.access_e2sfca,
            })
        })
        .collect();
    let v = json!({
        "kind": kind,
        "premises": prem.len(),
        "threshold_min": threshold_min,
        "method": {
            "type": travel_type,
            "description": travel.describe(&params),
            "circuity": params.circuity,
            "speed_kmh": params.speed_kmh,
            "supply": if prem.iter().all(|p| p.capacity.is_some()) { "capacity" } else { "capacity, 1 per premises where unknown" },
            "e2sfca_steps": {"minutes": [10, 20, 30], "weights": [1.0, 0.68, 0.22]},
            "e2sfca_uses_threshold": false,
            "demand": params.demand,
            "decay": params.decay,
        },
        "choice_deserts": {
            "below": desert_below,
            "areas": deserts,
            "population_by_simd_quintile": desert_pop,
            "population_no_simd": desert_pop_no_simd,
            "population": desert_pop.iter().sum::<f64>() + desert_pop_no_simd,
        },
        "areas": areas,
    });
    bytes::Bytes::from(v.to_string())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReachQuery {
    #[serde(default)]
    bands_min: Option<String>,
}

fn parse_bands(text: Option<&str>) -> Result<Vec<f64>, ApiError> {
    let text = text.unwrap_or("10,20,30");
    let mut bands = Vec::new();
    for part in text.split(',') {
        let v: f64 = part.trim().parse().map_err(|_| {
            ApiError::BadRequest(format!("bands_min: {part:?} is not a number of minutes"))
        })?;
        if !(0.0..=180.0).contains(&v) {
            return Err(ApiError::BadRequest(
                "bands_min values must be between 0 and 180".into(),
            ));
        }
        bands.push(v * 60.0);
    }
    if bands.is_empty() || bands.len() > 8 {
        return Err(ApiError::BadRequest("give 1 to 8 bands".into()));
    }
    bands.sort_by(f64::total_cmp);
    Ok(bands)
}

/// `GET /api/premises/{id}/reach?bands_min=10,20,30`: residents, need-weighted
/// residents and (protected) referrals within each travel-time band of one
/// premises, and the SIMD profile of its nearest-premises catchment among
/// premises of the same kind.
pub async fn premises_reach(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<ReachQuery>,
) -> Result<Json<Value>, ApiError> {
    let bands = parse_bands(q.bands_min.as_deref())?;
    let target = s
        .atlas
        .premises
        .iter()
        .find(|p| p.code == id)
        .ok_or_else(|| ApiError::NotFound(format!("no premises {id:?}")))?;
    let kind = target.kind.clone();
    let state = s.clone();
    let id2 = id.clone();
    let v = tokio::task::spawn_blocking(move || {
        use crate::analysis::access::premises_reach;
        let a = &state.atlas;
        let prem: Vec<&crate::model::Premises> = a.premises.iter().filter(|p| p.kind == kind).collect();
        let (travel, params) = a.travel();
        let all = premises_reach(&a.areas, &state.need, &prem, &bands, &params, travel);
        let j = prem.iter().position(|p| p.code == id2).unwrap_or(0);
        let r = &all[j];
        let bands_json: Vec<Value> = r
            .bands_s
            .iter()
            .enumerate()
            .map(|(b, t)| {
                json!({
                    "minutes": t / 60.0,
                    "population": r.population[b].round(),
                    "need_weighted_population": r.need[b].round(),
                    "referrals": serde_json::to_value(state.policy.count(r.referrals[b], ROLE)).unwrap_or(Value::Null),
                })
            })
            .collect();
        json!({
            "premises_id": prem[j].code,
            "name": prem[j].name,
            "kind": prem[j].kind,
            "method": {"description": travel.describe(&params)},
            "bands": bands_json,
            "catchment": {"population": r.catchment_population.round(), "simd_quintile_share": r.catchment_simd_share},
        })
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GapsQuery {
    kind: String,
    #[serde(default)]
    threshold_min: Option<f64>,
    #[serde(default)]
    limit: Option<usize>,
}

/// `GET /api/gaps?kind=health_centre&threshold_min=15`: areas beyond the
/// threshold of every premises of a kind, ranked by need score.
pub async fn gaps(State(s): State<AppState>, Q(q): Q<GapsQuery>) -> Result<Json<Value>, ApiError> {
    let threshold_min = q.threshold_min.unwrap_or(15.0);
    if !(1.0..=180.0).contains(&threshold_min) {
        return Err(ApiError::BadRequest(
            "threshold_min must be between 1 and 180".into(),
        ));
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 10_000);
    if !s.atlas.premises.iter().any(|p| p.kind == q.kind) {
        return Err(ApiError::NotFound(format!(
            "no premises of kind {:?}",
            q.kind
        )));
    }
    let state = s.clone();
    let kind = q.kind.clone();
    let v = tokio::task::spawn_blocking(move || {
        use crate::analysis::access::{access_table_by, coverage_gaps, AccessParams};
        let a = &state.atlas;
        let prem: Vec<&crate::model::Premises> = a.premises.iter().filter(|p| p.kind == kind).collect();
        let (travel, base) = a.travel();
        let params = AccessParams {
            threshold_s: threshold_min * 60.0,
            ..base
        };
        let table = access_table_by(&a.areas, &prem, &params, travel, Some(&state.need));
        let gaps = coverage_gaps(&table, &state.need, params.threshold_s);
        let total_pop: f64 = gaps.iter().filter_map(|g| g.population).sum();
        let rows: Vec<Value> = gaps
            .iter()
            .take(limit)
            .map(|g| {
                let area = &a.areas[g.area as usize];
                json!({
                    "area_id": area.code,
                    "name": area.name,
                    "travel_time_s": g.travel_time_s.map(f64::round),
                    "need_score": g.need_score.map(|x| (x * 100.0).round() / 100.0),
                    "population": g.population,
                    "simd_quintile": area.simd.map(|s| s.quintile),
                    "referrals": serde_json::to_value(state.policy.count(g.referrals as f64, ROLE)).unwrap_or(Value::Null),
                })
            })
            .collect();
        json!({"kind": kind, "threshold_min": threshold_min, "method": {"description": travel.describe(&params)}, "areas": gaps.len(), "population": total_pop, "gaps": rows})
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(v))
}

/// `GET /api/premises/{id}/isochrones?bands_min=5,10,15`: GeoJSON polygons of
/// the places within each travel-time band of a premises (cumulative, largest
/// first so smaller bands draw on top). Over the road network when one is
/// configured (100 m raster, connector legs at the configured speed);
/// otherwise circles of radius speed × time / circuity.
pub async fn premises_isochrones(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<ReachQuery>,
) -> Result<Response, ApiError> {
    let bands = parse_bands(q.bands_min.as_deref().or(Some("5,10,15")))?;
    let target = s
        .atlas
        .premises
        .iter()
        .position(|p| p.code == id)
        .ok_or_else(|| ApiError::NotFound(format!("no premises {id:?}")))?;
    let state = s.clone();
    let body = tokio::task::spawn_blocking(move || -> Result<Value, String> {
        use crate::analysis::access::Travel;
        use crate::io::writers::multipolygon_json;
        use geo::{Area as _, Coord, LineString, MultiPolygon, Polygon};
        let a = &state.atlas;
        let p = &a.premises[target];
        let (travel, params) = a.travel();
        let polys: Vec<MultiPolygon<f64>> = match travel {
            Travel::Network(net, connector) => {
                let mps = connector / 3.6;
                let (node, d) = net.nearest_node(p.x_m, p.y_m).ok_or("the road network has no nodes")?;
                let max = bands.iter().copied().fold(0.0, f64::max);
                let times = net.one_to_all(&[(node, d / mps)], max);
                net.isochrones(&times, &bands, connector, 100.0)
            }
            Travel::StraightLine => bands
                .iter()
                .map(|t| {
                    let r = t * params.speed_kmh / 3.6 / params.circuity;
                    let ring: Vec<Coord<f64>> = (0..=64)
                        .map(|k| {
                            let ang = std::f64::consts::TAU * f64::from(k % 64) / 64.0;
                            Coord { x: p.x_m + r * ang.cos(), y: p.y_m + r * ang.sin() }
                        })
                        .collect();
                    MultiPolygon(vec![Polygon::new(LineString(ring), vec![])])
                })
                .collect(),
        };
        let mut features = Vec::new();
        for (t, mp) in bands.iter().zip(&polys).rev() {
            let wgs = crate::io::writers::to_wgs84(mp).map_err(|e| e.to_string())?;
            features.push(json!({
                "type": "Feature",
                "properties": {"premises_id": p.code, "minutes": t / 60.0, "area_km2": (mp.unsigned_area() / 1e4).round() / 100.0},
                "geometry": multipolygon_json(&wgs),
            }));
        }
        Ok(json!({"type": "FeatureCollection", "method": travel.describe(&params), "features": features}))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(ApiError::Internal)?;
    Ok(geojson(bytes::Bytes::from(body.to_string())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursQuery {
    /// Any date in the week wanted (ISO); default: the week of `at`, or the typical week
    /// (the first week without a bank holiday from the first referral).
    #[serde(default)]
    week: Option<chrono::NaiveDate>,
    /// A local date-time (ISO, Europe/London) for `open` and `next_change`.
    #[serde(default)]
    at: Option<chrono::NaiveDateTime>,
}

/// `GET /api/premises/{id}/hours?week=2024-08-05&at=2024-08-06T10:00:00`: the
/// opening hours of a premises as the share of each of the 168 hours of a
/// week that it is open (Monday 00:00 first, Scotland's bank holidays as PH),
/// and whether it is open at a time and when that next changes.
pub async fn premises_hours(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<HoursQuery>,
) -> Result<Json<Value>, ApiError> {
    use crate::analysis::hours::monday_of;
    let a = &s.atlas;
    let j = a
        .premises
        .iter()
        .position(|p| p.code == id)
        .ok_or_else(|| ApiError::NotFound(format!("no premises {id:?}")))?;
    let p = &a.premises[j];
    let day = q
        .week
        .or(q.at.map(|t| t.date()))
        .unwrap_or_else(|| a.reference_monday());
    let monday = monday_of(day);
    let Some(h) = a.hours.get(j).and_then(|h| h.as_ref()) else {
        return Ok(Json(
            json!({"premises_id": p.code, "opening_hours": null, "week_start": monday, "open_share": null}),
        ));
    };
    let profile: Vec<f64> = h
        .week_profile(monday)
        .iter()
        .map(|x| (x * 1000.0).round() / 1000.0)
        .collect();
    let mut v = json!({
        "premises_id": p.code,
        "opening_hours": h.text,
        "week_start": monday,
        "open_share": profile,
        "open_hours_in_week": profile.iter().sum::<f64>(),
    });
    if let Some(at) = q.at {
        v["at"] = json!(at);
        v["open"] = json!(h.is_open(at));
        v["next_change"] = json!(h.next_change(at));
    }
    if let Some(c) = super::hours::premises_catchment_demand(&s, j).await {
        if let (Some(v), Some(c)) = (v.as_object_mut(), c.as_object()) {
            v.extend(c.clone());
        }
    }
    Ok(Json(v))
}
