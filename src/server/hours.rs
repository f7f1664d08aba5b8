//! Routes for service hours against need: the hours gap, hours-aware access
//! by hour of the week, recommended extensions, the week heatmaps of the
//! area and premises panels, and the signpost look-up.
//!
//! Every referral-derived figure passes the disclosure-control policy of the
//! public role: counts by hour are published as `<10` or rounded to 5, and
//! shares are computed from the published counts.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Extension;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::routes::Q;
use super::AppState;
use crate::analysis::access::{nearest_by_cost, CostMatrix, Decay};
use crate::analysis::hours::{
    demand_by_area, floating_catchment_by_hour, hours_gaps, open_in_reach, unmet_demand, HoursGaps,
    UnmetDemand,
};
use crate::io::study::slot_label;
use crate::privacy::Role;

const ROLE: Role = Role::Public;
/// Entries kept in each hours cache.
const CACHE_ENTRIES: usize = 32;

/// Everything the hours routes need for one kind, threshold and client group.
pub struct GapBundle {
    pub method: String,
    pub week_start: chrono::NaiveDate,
    /// Indices into `atlas.premises`.
    pub idx: Vec<usize>,
    pub costs: CostMatrix,
    pub threshold_s: f64,
    pub gaps: HoursGaps,
    pub unmet: UnmetDemand,
    /// Timed referrals by area and hour of the week.
    pub demand: Vec<[u32; 168]>,
    /// Nearest premises of each area (its catchment).
    pub nearest: Vec<Option<(u32, f64)>>,
    pub open: Vec<[f64; 168]>,
    pub open_in_reach: Vec<[u16; 168]>,
    /// The audited public counts (at the public threshold, all groups).
    pub public: Option<crate::privacy::release::HoursRelease>,
}

/// The public threshold for hours analyses, seconds.
pub(super) fn public_threshold_s(s: &super::Prepared) -> f64 {
    s.atlas.config.privacy.public_hours_threshold_min() * 60.0
}

/// The public sees hours analyses at one threshold and for all client groups
/// together; planners and data stewards may choose.
pub(super) fn check_public(
    s: &super::Prepared,
    who: &crate::privacy::auth::Principal,
    threshold_s: f64,
    group: Option<&str>,
) -> Result<(), ApiError> {
    if who.role.exact() {
        return Ok(());
    }
    let p = public_threshold_s(s);
    if (threshold_s - p).abs() > 1e-9 {
        return Err(ApiError::BadRequest(format!(
            "the public sees hours analyses at threshold_min={} only (other thresholds are for signed-in planners)",
            p / 60.0
        )));
    }
    if group.is_some() {
        return Err(ApiError::BadRequest(
            "hours by client group are for signed-in planners; the public sees all groups together"
                .into(),
        ));
    }
    Ok(())
}

/// Scores of hours-aware access for one kind, threshold and decay.
pub struct AccessBundle {
    pub method: String,
    pub week_start: chrono::NaiveDate,
    pub idx: Vec<usize>,
    /// `scores[hour][area]`.
    pub scores: Vec<Vec<Option<f64>>>,
    pub open: Vec<[f64; 168]>,
    pub open_in_reach: Vec<[u16; 168]>,
    /// 95th percentile of the positive scores over all hours, for one colour scale.
    pub scale_max: f64,
}

/// Caches of the bundles, by key.
#[derive(Default)]
pub struct HoursCache {
    gap: std::sync::Mutex<std::collections::HashMap<String, Arc<GapBundle>>>,
    access: std::sync::Mutex<std::collections::HashMap<String, Arc<AccessBundle>>>,
}

/// A result cached under `key`, if any.
pub(super) fn cached<V: Clone>(
    map: &std::sync::Mutex<std::collections::HashMap<String, V>>,
    key: &str,
) -> Option<V> {
    map.lock().ok().and_then(|m| m.get(key).cloned())
}

/// Cache a result; a full cache is emptied first (results are cheap to redo).
pub(super) fn store<V>(
    map: &std::sync::Mutex<std::collections::HashMap<String, V>>,
    key: String,
    v: V,
) {
    if let Ok(mut m) = map.lock() {
        if m.len() >= CACHE_ENTRIES {
            m.clear();
        }
        m.insert(key, v);
    }
}

/// A travel-time threshold in seconds from `threshold_min` (1-180, default 15).
pub(super) fn threshold_s(min: Option<f64>) -> Result<f64, ApiError> {
    let m = min.unwrap_or(15.0);
    if !(1.0..=180.0).contains(&m) {
        return Err(ApiError::BadRequest(
            "threshold_min must be between 1 and 180".into(),
        ));
    }
    Ok(m * 60.0)
}

fn count(s: &super::Prepared, n: f64) -> Value {
    json!(s.policy.count(n, ROLE))
}

fn counts168(s: &super::Prepared, v: &[u64; 168]) -> Vec<Value> {
    v.iter().map(|&n| count(s, n as f64)).collect()
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// The gap bundle of a kind, threshold and group, built on first use.
async fn gap_bundle(
    s: &AppState,
    kind: &str,
    threshold_s: f64,
    group: Option<&str>,
) -> Result<Arc<GapBundle>, ApiError> {
    let key = format!("{kind}|{threshold_s}|{group:?}");
    if let Some(b) = cached(&s.hours_cache.gap, &key) {
        return Ok(b);
    }
    // Check the parameters before the heavy work, so mistakes answer 4xx.
    s.atlas.check_kind(kind).map_err(ApiError::NotFound)?;
    s.atlas
        .group_filter(group)
        .map(|_| ())
        .map_err(ApiError::NotFound)?;
    let (st, kind_owned, group_owned) = (s.clone(), kind.to_string(), group.map(String::from));
    let bundle = tokio::task::spawn_blocking(move || -> Result<GapBundle, String> {
        let a = &st.atlas;
        let study = a.kind_study(&kind_owned, threshold_s)?;
        let keep = a.group_filter(group_owned.as_deref())?;
        let hours = study.hours();
        let open = study.open_slots();
        let n = a.areas.len();
        let nearest = nearest_by_cost(&study.costs);
        let public = (group_owned.is_none()
            && (threshold_s - public_threshold_s(&st)).abs() < 1e-9)
            .then(|| study.public_hours(&st.public.counts));
        Ok(GapBundle {
            public,
            method: study.method.clone(),
            week_start: a.reference_monday(),
            gaps: hours_gaps(n, &a.referrals, &study.costs, threshold_s, &hours, &keep),
            unmet: unmet_demand(n, &a.referrals, &study.costs, threshold_s, &hours, &keep),
            demand: demand_by_area(n, &a.referrals, &keep),
            nearest,
            open_in_reach: open_in_reach(&study.costs, threshold_s, &open),
            open,
            idx: study.idx,
            costs: study.costs,
            threshold_s,
        })
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(ApiError::NotFound)?;
    let b = Arc::new(bundle);
    store(&s.hours_cache.gap, key, b.clone());
    Ok(b)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GapQuery {
    kind: String,
    #[serde(default)]
    threshold_min: Option<f64>,
    #[serde(default)]
    group: Option<String>,
}

/// `GET /api/hours/gap?kind=social_work_office&threshold_min=15&group=adults`:
/// per area, the timed referrals that arrived when no premises of the kind
/// within the threshold was open; per premises, the referrals of its
/// nearest-premises catchment that arrived while it was closed; and the
/// region's demand and unmet demand by hour of the week.
pub async fn gap(
    State(s): State<AppState>,
    Extension(who): Extension<crate::privacy::auth::Principal>,
    Q(q): Q<GapQuery>,
) -> Result<Json<Value>, ApiError> {
    let t = threshold_s(q.threshold_min)?;
    check_public(&s, &who, t, q.group.as_deref())?;
    let b = gap_bundle(&s, &q.kind, t, q.group.as_deref()).await?;
    let rel = b.public.as_ref().filter(|_| !who.role.exact());
    let a = &s.atlas;
    let pol = &s.policy;
    let areas: Vec<Value> = a
        .areas
        .iter()
        .zip(&b.gaps.by_area)
        .enumerate()
        .map(|(i, (ar, g))| {
            let (timed, unmet) = match rel {
                Some(r) => r.area(i),
                None => (
                    pol.count(g.timed as f64, ROLE),
                    pol.count(g.unmet as f64, ROLE),
                ),
            };
            json!({
                "area_id": ar.code,
                "unmet_pct": crate::privacy::percent_shown(&unmet, &timed),
                "timed": timed,
                "unmet": unmet,
            })
        })
        .collect();
    let premises: Vec<Value> = b
        .idx
        .iter()
        .zip(&b.gaps.by_premises)
        .zip(&b.open)
        .enumerate()
        .map(|(k, ((&j, g), open))| {
            let p = &a.premises[j];
            let (timed, closed) = match rel {
                Some(r) => r.premises(k),
                None => (
                    pol.count(g.timed as f64, ROLE),
                    pol.count(g.unmet as f64, ROLE),
                ),
            };
            json!({
                "premises_id": p.code,
                "name": p.name,
                "opening_hours": p.opening_hours,
                "open_hours_per_week": round3(open.iter().sum::<f64>()),
                "while_closed_pct": crate::privacy::percent_shown(&closed, &timed),
                "catchment_timed": timed,
                "while_closed": closed,
            })
        })
        .collect();
    let mut demand = [0u64; 168];
    let mut unmet = [0u64; 168];
    for (d, u) in b.demand.iter().zip(&b.unmet.by_area) {
        for h in 0..168 {
            demand[h] += u64::from(d[h]);
            unmet[h] += u64::from(u[h]);
        }
    }
    let timed: u64 = b.gaps.by_area.iter().map(|g| g.timed).sum();
    let missed: u64 = b.gaps.by_area.iter().map(|g| g.unmet).sum();
    let (t_shown, u_shown) = match rel {
        Some(r) => r.total(),
        None => (
            pol.count(timed as f64, ROLE),
            pol.count(missed as f64, ROLE),
        ),
    };
    Ok(Json(json!({
        "kind": q.kind,
        "group": q.group,
        "threshold_min": t / 60.0,
        "method": b.method,
        "week_start": b.week_start,
        "note": "Premises without opening hours count as closed. Counts are disclosure-controlled: <10 or rounded to 5.",
        "totals": {
            "unmet_pct": crate::privacy::percent_shown(&u_shown, &t_shown),
            "timed": t_shown,
            "unmet": u_shown,
        },
        "demand_by_hour": counts168(&s, &demand),
        "unmet_by_hour": counts168(&s, &unmet),
        "areas": areas,
        "premises": premises,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionsQuery {
    kind: String,
    #[serde(default)]
    threshold_min: Option<f64>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

/// `GET /api/hours/extensions?kind=..&limit=20`: the extensions of opening
/// hours that would meet the most unmet demand per extra hour opened, ranked
/// across the region (greedy: each counts only referrals not met by those
/// above it), and each premises' best three on their own.
pub async fn extensions(
    State(s): State<AppState>,
    Extension(who): Extension<crate::privacy::auth::Principal>,
    Q(q): Q<ExtensionsQuery>,
) -> Result<Json<Value>, ApiError> {
    use crate::analysis::extend::{best_per_premises, ranked_extensions, Extension};
    let t = threshold_s(q.threshold_min)?;
    check_public(&s, &who, t, q.group.as_deref())?;
    let limit = q.limit.unwrap_or(20);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 200".into(),
        ));
    }
    let b = gap_bundle(&s, &q.kind, t, q.group.as_deref()).await?;
    let st = s.clone();
    let body = tokio::task::spawn_blocking(move || {
        let weeks = b.unmet.weeks();
        let ranked = ranked_extensions(&b.unmet.by_area, weeks, &b.costs, b.threshold_s, &b.open, limit);
        let each = best_per_premises(&b.unmet.by_area, weeks, &b.costs, b.threshold_s, &b.open, 3);
        let a = &st.atlas;
        let row = |e: &Extension| {
            let p = &a.premises[b.idx[e.premises as usize]];
            let shown = st.policy.count(e.referrals_covered as f64, ROLE);
            let per_week = shown.value().map(|v| (v / weeks * 100.0).round() / 100.0);
            json!({
                "premises_id": p.code,
                "name": p.name,
                "opening_hours": p.opening_hours,
                "extension": e.rule,
                "extra_hours_per_week": e.extra_hours_per_week,
                "referrals_covered": count(&st, e.referrals_covered as f64),
                "covered_per_week": per_week,
                "covered_per_extra_hour": per_week.map(|w| (w / e.extra_hours_per_week * 1000.0).round() / 1000.0),
            })
        };
        let mut cumulative = 0u64;
        let ranked: Vec<Value> = ranked
            .iter()
            .enumerate()
            .map(|(k, e)| {
                cumulative += e.referrals_covered;
                let mut v = row(e);
                v["rank"] = json!(k + 1);
                v["cumulative_covered"] = count(&st, cumulative as f64);
                v
            })
            .collect();
        let by_premises: Vec<Value> = each
            .iter()
            .enumerate()
            .filter(|(_, list)| !list.is_empty())
            .map(|(j, list)| {
                json!({
                    "premises_id": a.premises[b.idx[j]].code,
                    "best": list.iter().map(&row).collect::<Vec<_>>(),
                })
            })
            .collect();
        let unmet_total: u64 = b
            .unmet
            .by_area
            .iter()
            .map(|r| r.iter().map(|&x| u64::from(x)).sum::<u64>())
            .sum();
        json!({
            "kind": q.kind,
            "group": q.group,
            "threshold_min": b.threshold_s / 60.0,
            "method": b.method,
            "weeks": (weeks * 10.0).round() / 10.0,
            "unmet_referrals": count(&st, unmet_total as f64),
            "note": "Ranked greedily: each extension counts only unmet referrals not met by those ranked above it. Extensions are weekly rules; referrals on public holidays count for their weekday.",
            "ranked": ranked,
            "by_premises": by_premises,
        })
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessHourQuery {
    kind: String,
    /// Hour of the week, 0 (Monday 00:00-01:00) to 167.
    hour: usize,
    #[serde(default)]
    threshold_min: Option<f64>,
    #[serde(default)]
    decay: Option<String>,
}

/// `GET /api/hours/access?kind=..&hour=41`: E2SFCA (or the decay given) per
/// area counting only premises open in that hour of a typical week, with the
/// number of premises open within the threshold of each area.
pub async fn access(
    State(s): State<AppState>,
    Q(q): Q<AccessHourQuery>,
) -> Result<Json<Value>, ApiError> {
    let t = threshold_s(q.threshold_min)?;
    if q.hour >= 168 {
        return Err(ApiError::BadRequest(
            "hour must be an hour of the week, 0 (Monday 00:00) to 167 (Sunday 23:00)".into(),
        ));
    }
    let decay_text = q.decay.clone().unwrap_or_else(|| "e2sfca".into());
    if decay_text.len() > 200 {
        return Err(ApiError::BadRequest("decay is too long".into()));
    }
    let decay = Decay::parse(&decay_text).map_err(ApiError::BadRequest)?;
    s.atlas.check_kind(&q.kind).map_err(ApiError::NotFound)?;
    let key = format!("{}|{t}|{decay_text}", q.kind);
    let b = match cached(&s.hours_cache.access, &key) {
        Some(b) => b,
        None => {
            let (st, kind) = (s.clone(), q.kind.clone());
            let b = tokio::task::spawn_blocking(move || -> Result<AccessBundle, String> {
                let a = &st.atlas;
                let study = a.kind_study(&kind, t)?;
                let open = study.open_slots();
                let scores = floating_catchment_by_hour(
                    &study.population(),
                    &study.capacity(),
                    &open,
                    &study.costs,
                    None,
                    &decay,
                );
                let mut all: Vec<f64> = scores
                    .iter()
                    .flatten()
                    .filter_map(|x| *x)
                    .filter(|x| *x > 0.0)
                    .collect();
                all.sort_by(f64::total_cmp);
                let scale_max = all
                    .get((all.len() as f64 * 0.95) as usize)
                    .or(all.last())
                    .copied()
                    .unwrap_or(0.0);
                Ok(AccessBundle {
                    method: study.method.clone(),
                    week_start: a.reference_monday(),
                    open_in_reach: open_in_reach(&study.costs, t, &open),
                    idx: study.idx,
                    scores,
                    open,
                    scale_max,
                })
            })
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .map_err(ApiError::NotFound)?;
            let b = Arc::new(b);
            store(&s.hours_cache.access, key, b.clone());
            b
        }
    };
    let h = q.hour;
    let areas: Vec<Value> = s
        .atlas
        .areas
        .iter()
        .enumerate()
        .map(|(i, ar)| {
            json!({
                "area_id": ar.code,
                "score": b.scores[h][i].map(|v| (v * 1e6).round() / 1e6),
                "open_in_reach": b.open_in_reach[i][h],
            })
        })
        .collect();
    let open_premises: Vec<&str> = b
        .idx
        .iter()
        .zip(&b.open)
        .filter(|(_, o)| o[h] >= 0.5)
        .map(|(&j, _)| s.atlas.premises[j].code.as_str())
        .collect();
    Ok(Json(json!({
        "kind": q.kind,
        "hour": h,
        "label": slot_label(h),
        "week_start": b.week_start,
        "threshold_min": t / 60.0,
        "decay": decay_text,
        "method": b.method,
        "demand": "population",
        "scale_max": b.scale_max,
        "premises_open": open_premises,
        "premises_total": b.idx.len(),
        "areas": areas,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaHoursQuery {
    kind: String,
    #[serde(default)]
    threshold_min: Option<f64>,
    #[serde(default)]
    group: Option<String>,
}

/// `GET /api/areas/{id}/hours?kind=..`: for the week heatmap of the area
/// panel, the premises of the kind open within the threshold in each hour of
/// a typical week, and the demand by hour of the area's catchment (the areas
/// sharing its nearest premises), disclosure-controlled.
pub async fn area_hours(
    State(s): State<AppState>,
    Extension(who): Extension<crate::privacy::auth::Principal>,
    Path(id): Path<String>,
    Q(q): Q<AreaHoursQuery>,
) -> Result<Json<Value>, ApiError> {
    let t = threshold_s(q.threshold_min)?;
    check_public(&s, &who, t, q.group.as_deref())?;
    let i = s
        .atlas
        .areas
        .iter()
        .position(|a| a.code == id)
        .ok_or_else(|| ApiError::NotFound(format!("no area {id:?}")))?;
    let b = gap_bundle(&s, &q.kind, t, q.group.as_deref()).await?;
    let g = &b.gaps.by_area[i];
    let nearest = b.nearest[i].map(|(j, _)| j);
    let mut v = json!({
        "area_id": id,
        "kind": q.kind,
        "group": q.group,
        "threshold_min": t / 60.0,
        "week_start": b.week_start,
        "open_in_reach": b.open_in_reach[i].to_vec(),
        "timed": count(&s, g.timed as f64),
        "unmet": count(&s, g.unmet as f64),
        "unmet_pct": s.policy.percent(g.unmet as f64, g.timed as f64, ROLE),
        "catchment_premises": nearest.map(|j| s.atlas.premises[b.idx[j as usize]].code.clone()),
    });
    if let Some(j) = nearest {
        v["catchment_demand"] = json!(counts168(&s, &catchment_demand(&b, j)));
    }
    Ok(Json(v))
}

/// Demand by hour of the areas whose nearest premises is `j`.
fn catchment_demand(b: &GapBundle, j: u32) -> [u64; 168] {
    let mut out = [0u64; 168];
    for (d, n) in b.demand.iter().zip(&b.nearest) {
        if n.map(|x| x.0) == Some(j) {
            for h in 0..168 {
                out[h] += u64::from(d[h]);
            }
        }
    }
    out
}

/// The catchment demand of a premises for the premises panel's heatmap:
/// `(threshold_min, demand by hour)` at the default threshold, all groups.
pub async fn premises_catchment_demand(s: &AppState, j: usize) -> Option<Value> {
    let kind = s.atlas.premises.get(j)?.kind.clone();
    let b = gap_bundle(s, &kind, threshold_s(None).ok()?, None)
        .await
        .ok()?;
    let k = b.idx.iter().position(|&x| x == j)? as u32;
    let g = &b.gaps.by_premises[k as usize];
    Some(json!({
        "catchment_demand": counts168(s, &catchment_demand(&b, k)),
        "catchment_timed": count(s, g.timed as f64),
        "while_closed": count(s, g.unmet as f64),
        "while_closed_pct": s.policy.percent(g.unmet as f64, g.timed as f64, ROLE),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignpostQuery {
    lon: f64,
    lat: f64,
    #[serde(default)]
    service: Option<String>,
    /// Local date-time (Europe/London), or RFC 3339 with an offset; default now.
    #[serde(default)]
    at: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    max_min: Option<f64>,
}

/// `GET /api/signpost?lon=..&lat=..&service=gp&at=2024-03-05T17:30`: the
/// premises offering a service (matched against their services and their
/// kind) within `max_min` minutes of a point, ranked by travel time, each
/// open now or not, when it closes or next opens, and its eligibility text.
pub async fn signpost(
    State(s): State<AppState>,
    Q(q): Q<SignpostQuery>,
) -> Result<Json<Value>, ApiError> {
    use crate::analysis::signpost::{signpost as rank, OpenState};
    let a = &s.atlas;
    if !((-180.0..=180.0).contains(&q.lon) && (-90.0..=90.0).contains(&q.lat)) {
        return Err(ApiError::BadRequest(
            "lon and lat must be WGS84 degrees (lon -180..180, lat -90..90)".into(),
        ));
    }
    let bb = a.bbox_wgs84();
    let pad = 0.25;
    if q.lon < bb[0] - pad || q.lon > bb[2] + pad || q.lat < bb[1] - pad || q.lat > bb[3] + pad {
        return Err(ApiError::BadRequest(format!(
            "the point {:.5}, {:.5} is outside the region ({:.3}, {:.3} to {:.3}, {:.3})",
            q.lon, q.lat, bb[0], bb[1], bb[2], bb[3]
        )));
    }
    let limit = q.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 50".into(),
        ));
    }
    let max_min = q.max_min.unwrap_or(60.0);
    if !(1.0..=180.0).contains(&max_min) {
        return Err(ApiError::BadRequest(
            "max_min must be between 1 and 180".into(),
        ));
    }
    let at = match q.at.as_deref() {
        None => chrono::Utc::now()
            .with_timezone(&chrono_tz::Europe::London)
            .naive_local(),
        Some(text) => crate::io::referrals::parse_time(text).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "at {text:?} is not a date-time: use 2024-03-05T17:30 (UK local time) or RFC 3339 with an offset"
            ))
        })?,
    };
    let service: Option<String> = q
        .service
        .as_deref()
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(String::from);
    let idx: Vec<usize> = (0..a.premises.len())
        .filter(|&j| {
            let p = &a.premises[j];
            service
                .as_deref()
                .is_none_or(|sv| p.kind == sv || p.services.iter().any(|x| x == sv))
        })
        .collect();
    if idx.is_empty() {
        let mut all: Vec<&str> = a
            .premises
            .iter()
            .flat_map(|p| {
                p.services
                    .iter()
                    .map(String::as_str)
                    .chain([p.kind.as_str()])
            })
            .collect();
        all.sort_unstable();
        all.dedup();
        return Err(ApiError::NotFound(format!(
            "no premises offer {:?}; services and kinds are: {}",
            service.clone().unwrap_or_default(),
            all.join(", ")
        )));
    }
    let (x, y) = crate::spatial::crs::wgs84_to_bng(q.lon, q.lat)
        .map_err(|e| ApiError::BadRequest(format!("the point cannot be placed: {e}")))?;
    let st = s.clone();
    let body = tokio::task::spawn_blocking(move || {
        let a = &st.atlas;
        let sites: Vec<[f64; 2]> = idx
            .iter()
            .map(|&j| [a.premises[j].x_m, a.premises[j].y_m])
            .collect();
        let hours: Vec<_> = idx.iter().map(|&j| a.hours[j].as_ref()).collect();
        let (travel, params) = a.travel();
        let costs = travel.matrix(&[[x, y]], &sites, &params, max_min * 60.0);
        let hits = rank(&costs, [x, y], &sites, &hours, at, limit);
        let state = |o: OpenState| match o {
            OpenState::Open => "open",
            OpenState::Closed => "closed",
            OpenState::Unknown => "unknown",
        };
        let results: Vec<Value> = hits
            .iter()
            .enumerate()
            .map(|(k, h)| {
                let p = &a.premises[idx[h.premises as usize]];
                json!({
                    "rank": k + 1,
                    "premises_id": p.code,
                    "name": p.name,
                    "kind": p.kind,
                    "services": p.services,
                    "provider": p.provider,
                    "eligibility": p.eligibility,
                    "opening_hours": p.opening_hours,
                    "lon": crate::spatial::crs::trim6(p.lon),
                    "lat": crate::spatial::crs::trim6(p.lat),
                    "travel_time_min": (h.travel_time_s / 6.0).round() / 10.0,
                    "distance_m": h.distance_m.round(),
                    "now": state(h.now),
                    "closes_at": h.closes_at,
                    "opens_at": h.opens_at,
                    "open_on_arrival": state(h.open_on_arrival),
                    "earliest_visit": h.earliest_visit,
                })
            })
            .collect();
        json!({
            "lon": q.lon,
            "lat": q.lat,
            "area_id": a.index.locate(x, y).map(|id| a.areas[id.index()].code.clone()),
            "service": service,
            "at": at,
            "max_min": max_min,
            "method": travel.describe(&params),
            "results": results,
        })
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(body))
}
