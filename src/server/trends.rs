//! Routes for anticipatory need: trends per area (`/api/trends`), hot spots
//! and emerging hot spots (`/api/hotspots`), projected referrals
//! (`/api/projection`) and the early-warning list (`/api/early-warning`).
//!
//! The analyses are those of the CLI ([`crate::io::trends_study`]), run off
//! the async threads and cached by their parameters; disclosure control is
//! applied here, per request, from the exact results:
//!
//! - the public sees the workspace's fixed period (`[need] period`) and all
//!   client groups together; other periods and groups are for planners;
//! - the public's counts per area and period are the cells of the audited
//!   release ([`crate::privacy::CountRelease`]), so they equal what the public
//!   sees elsewhere, `[c]` included; projected values pass the policy (`<10`,
//!   others rounded to 5);
//! - rates are computed from the counts as shown and withheld where one is;
//!   growth is rounded to 5 % and withheld where the area's published total
//!   is; classes, directions, ranks and p/q-values (3 decimals) are published;
//!   z-scores, Gi* G, Moran's I and Sen's slopes are for planners only, since
//!   with the weights they could be solved back for the counts;
//! - for the public the early-warning rules are applied to the values as
//!   published, so that no choice of thresholds tells more than they do.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::hours::{cached, store};
use super::routes::Q;
use super::{AppState, Prepared};
use crate::analysis::early_warning::{Reason, WarningRules};
use crate::analysis::hotspots::{EmergingOptions, HotspotOptions};
use crate::analysis::projection::{ProjectionOptions, TrendModel};
use crate::analysis::trends::{
    parse_period, period_name, periods_per_year, Direction, PeriodKey, TrendOptions, TrendTable,
    TrendTest,
};
use crate::io::trends_study::{
    published_growth_pct, published_p, EarlyWarningRequest, EarlyWarningStudy, EmergingRequest,
    EmergingStudy, HotspotRequest, HotspotStudy, HotspotValue, ProjectionRequest, ProjectionStudy,
    SeriesRequest, WeightsSpec,
};
use crate::privacy::auth::Principal;
use crate::privacy::sdc::WITHHELD;
use crate::privacy::Count;

/// Longest projection horizon, in periods.
pub const MAX_HORIZON: usize = 24;
/// Widest distance band of the weights, metres.
pub const MAX_DISTANCE_M: f64 = 10_000.0;
/// Most neighbours an area may have on average under distance-band weights:
/// local Moran's permutations cost permutations × neighbours per area, and a
/// band that makes every area a neighbour of hundreds would hold a worker for
/// minutes.
pub const MAX_MEAN_NEIGHBOURS: f64 = 50.0;

type Cache<T> = Mutex<HashMap<String, Arc<T>>>;

/// Exact results by parameters (the same for every role; disclosure control
/// is applied when a response is written).
#[derive(Default)]
pub struct TrendsCache {
    trends: Cache<TrendTable>,
    hotspots: Cache<HotspotStudy>,
    emerging: Cache<EmergingStudy>,
    projection: Cache<ProjectionStudy>,
    early_warning: Cache<EarlyWarningStudy>,
}

/// A result from the cache, or computed off the async threads and cached.
/// Errors of the analysis (too few periods, …) depend on the parameters: 400.
async fn cached_or<T, F>(map: &Cache<T>, key: String, f: F) -> Result<Arc<T>, ApiError>
where
    T: Send + Sync + 'static,
    F: FnOnce() -> Result<T, String> + Send + 'static,
{
    if let Some(v) = cached(map, &key) {
        return Ok(v);
    }
    let v = tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::BadRequest)?;
    let v = Arc::new(v);
    store(map, key, v.clone());
    Ok(v)
}

/// The series asked for, checked: the public sees the configured period and
/// all client groups together.
fn series(
    s: &Prepared,
    who: &Principal,
    period: Option<&str>,
    group: Option<&str>,
) -> Result<SeriesRequest, ApiError> {
    let fixed = s.atlas.config.need.period;
    let period = match period {
        None => fixed,
        Some(p) => parse_period(p).map_err(ApiError::BadRequest)?,
    };
    if !who.role.exact() {
        if period != fixed {
            return Err(ApiError::BadRequest(format!(
                "the public sees counts by {} only, the workspace's fixed period (period={} is for signed-in planners)",
                period_name(fixed),
                period_name(period)
            )));
        }
        if group.is_some() {
            return Err(ApiError::BadRequest(
                "counts by client group are for signed-in planners; the public sees all groups together"
                    .into(),
            ));
        }
    }
    s.atlas
        .group_filter(group)
        .map(|_| ())
        .map_err(ApiError::BadRequest)?;
    Ok(SeriesRequest {
        period,
        group: group.map(String::from),
        range: None,
    })
}

fn series_key(r: &SeriesRequest) -> String {
    format!("{}|{:?}", period_name(r.period), r.group)
}

/// A share or significance level strictly between 0 and 1.
fn unit_interval(name: &str, v: Option<f64>, default: f64) -> Result<f64, ApiError> {
    let v = v.unwrap_or(default);
    if v > 0.0 && v < 1.0 {
        Ok(v)
    } else {
        Err(ApiError::BadRequest(format!(
            "{name} must be between 0 and 1 (e.g. {default})"
        )))
    }
}

fn parse_test(v: Option<&str>) -> Result<TrendTest, ApiError> {
    v.unwrap_or("mann-kendall")
        .parse()
        .map_err(ApiError::BadRequest)
}

fn test_name(t: TrendTest) -> &'static str {
    match t {
        TrendTest::MannKendall => "mann-kendall",
        TrendTest::Poisson => "poisson",
    }
}

fn parse_weights(v: Option<&str>) -> Result<WeightsSpec, ApiError> {
    let w: WeightsSpec = v.unwrap_or("rook").parse().map_err(ApiError::BadRequest)?;
    if let WeightsSpec::DistanceBand { threshold_m } = w {
        if threshold_m > MAX_DISTANCE_M {
            return Err(ApiError::BadRequest(format!(
                "weights distance:{threshold_m}: the band may be at most {MAX_DISTANCE_M} m"
            )));
        }
    }
    Ok(w)
}

/// Refuse a distance band that gives areas too many neighbours (run in the
/// blocking task: it builds the weights).
fn check_band(s: &Prepared, w: &WeightsSpec) -> Result<(), String> {
    if let WeightsSpec::DistanceBand { threshold_m } = w {
        let mean = s.atlas.spatial_weights(w).mean_neighbours();
        if mean > MAX_MEAN_NEIGHBOURS {
            return Err(format!(
                "weights distance:{threshold_m} give each area {mean:.0} neighbours on average; at most {MAX_MEAN_NEIGHBOURS} are allowed here: use a shorter band, rook or queen"
            ));
        }
    }
    Ok(())
}

fn parse_model(v: Option<&str>) -> Result<TrendModel, ApiError> {
    let m = v.unwrap_or("trend");
    m.parse().map_err(|e: String| {
        ApiError::BadRequest(if e.starts_with("model") {
            e
        } else {
            format!("model {m:?}: {e}")
        })
    })
}

fn parse_horizon(v: Option<usize>) -> Result<usize, ApiError> {
    let h = v.unwrap_or(3);
    if (1..=MAX_HORIZON).contains(&h) {
        Ok(h)
    } else {
        Err(ApiError::BadRequest(format!(
            "horizon must be between 1 and {MAX_HORIZON} periods"
        )))
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn num(v: Option<f64>) -> Value {
    v.filter(|x| x.is_finite())
        .map_or(Value::Null, |x| json!(x))
}

fn labels(p: &[PeriodKey]) -> Vec<String> {
    p.iter().map(|k| k.label()).collect()
}

/// `rising`, `falling` or `none` (no trend after the FDR, or not tested).
fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::Rising => "rising",
        Direction::Falling => "falling",
        Direction::NoTrend | Direction::Untested => "none",
    }
}

fn reason_name(r: Reason) -> &'static str {
    match r {
        Reason::HighRate => "rate",
        Reason::FastGrowth => "growth",
        Reason::HotSpot => "hotspot",
        Reason::EmergingHotSpot => "emerging",
    }
}

/// The public counts of one area in the given complete periods: the release's
/// cells of the need periods with the same labels (withheld where there is none).
fn public_counts(s: &Prepared, area: usize, periods: &[PeriodKey]) -> Vec<Count> {
    periods
        .iter()
        .map(|k| {
            let label = k.label();
            s.need
                .periods
                .iter()
                .position(|p| *p == label)
                .and_then(|p| s.public.counts.area_period(area, p))
                .unwrap_or_else(|| Count::Suppressed(WITHHELD.into()))
        })
        .collect()
}

/// The total of counts as shown; `None` where one is withheld.
fn shown_total(c: &[Count]) -> Option<f64> {
    c.iter().map(Count::value).sum()
}

/// A value passed through the policy: rounded to 2 decimals for planners,
/// `<10` or rounded to 5 for everyone else.
fn protected(s: &Prepared, who: &Principal, v: f64) -> Value {
    json!(s.policy.count(v, who.role))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrendsQuery {
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    test: Option<String>,
    #[serde(default)]
    alpha: Option<f64>,
}

async fn trend_table(
    s: &AppState,
    series: &SeriesRequest,
    opts: TrendOptions,
) -> Result<Arc<TrendTable>, ApiError> {
    let key = format!("{}|{:?}|{}", series_key(series), opts.test, opts.alpha);
    let (st, req) = (s.clone(), series.clone());
    cached_or(&s.trends_cache.trends, key, move || {
        st.atlas.trend_study(&req, &opts)
    })
    .await
}

/// `GET /api/trends?period=month&group=..&test=mann-kendall&alpha=0.05`:
/// referrals per area per complete period, the trend of each area after the
/// false discovery rate, and the significantly rising areas, fastest first.
pub async fn trends(
    State(s): State<AppState>,
    Extension(who): Extension<Principal>,
    Q(q): Q<TrendsQuery>,
) -> Result<Json<Value>, ApiError> {
    let req = series(&s, &who, q.period.as_deref(), q.group.as_deref())?;
    let opts = TrendOptions {
        test: parse_test(q.test.as_deref())?,
        alpha: unit_interval("alpha", q.alpha, 0.05)?,
        ..TrendOptions::default()
    };
    let t = trend_table(&s, &req, opts).await?;
    let exact = who.role.exact();
    let years = t.periods.len() as f64 / periods_per_year(t.period);
    let areas: Vec<Value> = t
        .areas
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let (counts, rate): (Vec<Value>, Option<f64>) = if exact {
                (
                    a.counts.iter().map(|&c| json!(c)).collect(),
                    a.rate_per_1000_per_year.map(round2),
                )
            } else {
                let shown = public_counts(&s, i, &t.periods);
                let rate = a
                    .rate_per_1000_per_year
                    .and(a.population)
                    .filter(|p| *p > 0.0 && years > 0.0)
                    .and_then(|p| shown_total(&shown).map(|n| round2(n * 1000.0 / p / years)));
                (shown.iter().map(|c| json!(c)).collect(), rate)
            };
            let total_shown = if exact {
                Count::Value(a.total as f64)
            } else {
                s.public.counts.area(i)
            };
            json!({
                "area_id": s.atlas.areas[i].code,
                "counts": counts,
                "direction": direction_name(a.direction),
                "p": num(published_p(a.p, exact)),
                "q": num(published_p(a.q, exact)),
                "rank": a.rank,
                "growth_pct_per_year": num(published_growth_pct(a.rate_ratio_per_year, &total_shown, exact)),
                "rate_per_1000_per_year": num(rate),
                "sen_slope_per_year": num(a.sen_slope_per_year.filter(|_| exact)),
            })
        })
        .collect();
    let rising: Vec<&str> = t
        .rising()
        .iter()
        .map(|a| s.atlas.areas[a.area.index()].code.as_str())
        .collect();
    Ok(Json(json!({
        "period": period_name(t.period),
        "periods": labels(&t.periods),
        "partial": labels(&t.partial),
        "test": test_name(opts.test),
        "alpha": opts.alpha,
        "group": req.group,
        "areas": areas,
        "rising": rising,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HotspotsQuery {
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    weights: Option<String>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    emerging: Option<bool>,
    #[serde(default)]
    alpha: Option<f64>,
    #[serde(default)]
    fdr: Option<bool>,
}

/// `GET /api/hotspots?weights=rook&value=rate&emerging=false&period=..`:
/// Getis-Ord Gi* classes (hot/cold at 90, 95, 99 %) and local Moran clusters
/// of the referral rate (or count) over the complete periods, and with
/// `emerging=true` the emerging hot spot category of each area.
pub async fn hotspots(
    State(s): State<AppState>,
    Extension(who): Extension<Principal>,
    Q(q): Q<HotspotsQuery>,
) -> Result<Json<Value>, ApiError> {
    let series = series(&s, &who, q.period.as_deref(), q.group.as_deref())?;
    let weights = parse_weights(q.weights.as_deref())?;
    let value = match q.value.as_deref().unwrap_or("rate") {
        "rate" => HotspotValue::Rate,
        "count" => HotspotValue::Count,
        v => {
            return Err(ApiError::BadRequest(format!(
                "value {v:?} is not one of rate, count"
            )))
        }
    };
    let emerging = q.emerging.unwrap_or(false);
    if emerging && value != HotspotValue::Rate {
        return Err(ApiError::BadRequest(
            "emerging=true works on the referral rate per period: leave out value or give value=rate"
                .into(),
        ));
    }
    let alpha = unit_interval("alpha", q.alpha, 0.05)?;
    let fdr = q.fdr.unwrap_or(true);
    let hreq = HotspotRequest {
        value: value.clone(),
        series: series.clone(),
        weights,
        options: HotspotOptions {
            alpha,
            fdr,
            ..HotspotOptions::default()
        },
    };
    let key = format!(
        "{}|{weights:?}|{value:?}|{alpha}|{fdr}",
        series_key(&series)
    );
    let st = s.clone();
    let hot = cached_or(&s.trends_cache.hotspots, key.clone(), move || {
        check_band(&st, &hreq.weights)?;
        st.atlas.hotspot_study(&hreq)
    })
    .await?;
    let categories = if emerging {
        let ereq = EmergingRequest {
            series: series.clone(),
            weights,
            options: EmergingOptions {
                alpha,
                fdr,
                ..EmergingOptions::default()
            },
        };
        let st = s.clone();
        let e = cached_or(&s.trends_cache.emerging, key, move || {
            check_band(&st, &ereq.weights)?;
            st.atlas.emerging_study(&ereq)
        })
        .await?;
        Some(e.categories())
    } else {
        None
    };
    let exact = who.role.exact();
    let classes = hot.classes();
    let t = &hot.table;
    let only = |v: f64| if exact { num(Some(v)) } else { Value::Null };
    let areas: Vec<Value> = s
        .atlas
        .areas
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let k = hot.position[i];
            json!({
                "area_id": a.code,
                "class": classes[i].name(),
                "q": num(k.and_then(|k| published_p(Some(t.gi_q[k]), exact))),
                "moran_quadrant": k.and_then(|k| t.cluster[k]).map(|c| c.name()),
                "emerging": categories.as_ref().map(|c| c[i].name()),
                "z": k.map_or(Value::Null, |k| only(t.gi.z[k])),
                "gi": k.map_or(Value::Null, |k| only(t.gi.g[k])),
                "moran_i": k.map_or(Value::Null, |k| only(t.moran.i[k])),
            })
        })
        .collect();
    Ok(Json(json!({
        "weights": weights.describe(),
        "value": if value == HotspotValue::Rate { "rate" } else { "count" },
        "alpha": alpha,
        "fdr": fdr,
        "period": period_name(series.period),
        "group": series.group,
        "periods": hot.series.as_ref().map(|c| labels(&c.periods)).unwrap_or_default(),
        "emerging": emerging,
        "areas": areas,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectionQuery {
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    horizon: Option<usize>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    level: Option<f64>,
}

/// `GET /api/projection?horizon=3&model=trend&level=0.95&period=..`:
/// projected referrals per area and for the region in each of the next
/// `horizon` periods, with prediction intervals.
pub async fn projection(
    State(s): State<AppState>,
    Extension(who): Extension<Principal>,
    Q(q): Q<ProjectionQuery>,
) -> Result<Json<Value>, ApiError> {
    let series = series(&s, &who, q.period.as_deref(), q.group.as_deref())?;
    let options = ProjectionOptions {
        horizon: parse_horizon(q.horizon)?,
        model: parse_model(q.model.as_deref())?,
        level: unit_interval("level", q.level, 0.95)?,
        ..ProjectionOptions::default()
    };
    let key = format!(
        "{}|{}|{}|{}",
        series_key(&series),
        options.horizon,
        options.model.label(),
        options.level
    );
    let (st, req) = (
        s.clone(),
        ProjectionRequest {
            series: series.clone(),
            options,
            population: None,
        },
    );
    let p = cached_or(&s.trends_cache.projection, key, move || {
        st.atlas.projection_study(&req)
    })
    .await?;
    let pr = &p.projection;
    let steps = |st: &[crate::analysis::projection::ProjectedStep]| {
        let pick = |f: fn(&crate::analysis::projection::ProjectedStep) -> f64| -> Vec<Value> {
            st.iter().map(|x| protected(&s, &who, f(x))).collect()
        };
        (pick(|x| x.mean), pick(|x| x.lower), pick(|x| x.upper))
    };
    let areas: Vec<Value> = pr
        .areas
        .iter()
        .map(|ap| {
            let (projected, lower, upper) = steps(&ap.steps);
            json!({
                "area_id": s.atlas.areas[ap.area.index()].code,
                "projected": projected,
                "lower": lower,
                "upper": upper,
            })
        })
        .collect();
    let (projected, lower, upper) = steps(&pr.total);
    Ok(Json(json!({
        "period": period_name(series.period),
        "group": series.group,
        "horizon": options.horizon,
        "model": options.model.label(),
        "level": options.level,
        "fitted": labels(&pr.fitted),
        "periods": labels(&pr.periods),
        "areas": areas,
        "region": {"projected": projected, "lower": lower, "upper": upper},
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyWarningQuery {
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    rate_min: Option<f64>,
    #[serde(default)]
    growth_min: Option<f64>,
    #[serde(default)]
    any_growth: Option<bool>,
    #[serde(default)]
    hotspot_confidence: Option<u8>,
    #[serde(default)]
    no_emerging: Option<bool>,
    #[serde(default)]
    min_reasons: Option<usize>,
    #[serde(default)]
    test: Option<String>,
    #[serde(default)]
    alpha: Option<f64>,
    #[serde(default)]
    weights: Option<String>,
    #[serde(default)]
    horizon: Option<usize>,
    #[serde(default)]
    model: Option<String>,
}

/// `GET /api/early-warning?rate_min=..&growth_min=0.1&hotspot_confidence=95&horizon=3`:
/// the areas that meet at least `min_reasons` of the rules (rate, growth,
/// hot spot, emerging hot spot), most reasons and most projected demand first.
pub async fn early_warning(
    State(s): State<AppState>,
    Extension(who): Extension<Principal>,
    Q(q): Q<EarlyWarningQuery>,
) -> Result<Json<Value>, ApiError> {
    let series = series(&s, &who, q.period.as_deref(), q.group.as_deref())?;
    let test = parse_test(q.test.as_deref())?;
    let alpha = unit_interval("alpha", q.alpha, 0.05)?;
    let weights = parse_weights(q.weights.as_deref())?;
    let horizon = parse_horizon(q.horizon)?;
    let model = parse_model(q.model.as_deref())?;
    if let Some(r) = q.rate_min {
        if !(r.is_finite() && r >= 0.0) {
            return Err(ApiError::BadRequest(
                "rate_min must be a rate per 1,000 residents per year, 0 or more".into(),
            ));
        }
    }
    let growth_min = q.growth_min.unwrap_or(0.10);
    if !growth_min.is_finite() {
        return Err(ApiError::BadRequest(
            "growth_min must be a share a year (0.1 = 10 %), negative to turn it off".into(),
        ));
    }
    let confidence = q.hotspot_confidence.unwrap_or(95);
    let hotspot_confidence = match confidence {
        0 => None,
        c @ (90 | 95 | 99) => Some(c),
        c => {
            return Err(ApiError::BadRequest(format!(
                "hotspot_confidence {c}: use 90, 95, 99 or 0 (off)"
            )))
        }
    };
    let min_reasons = q.min_reasons.unwrap_or(1);
    if !(1..=4).contains(&min_reasons) {
        return Err(ApiError::BadRequest(
            "min_reasons must be between 1 and 4".into(),
        ));
    }
    let any_growth = q.any_growth.unwrap_or(false);
    let no_emerging = q.no_emerging.unwrap_or(false);
    let rules = WarningRules {
        rate_per_1000_min: q.rate_min,
        growth_per_year_min: (growth_min >= 0.0).then_some(growth_min),
        require_significant_growth: !any_growth,
        hotspot_confidence,
        emerging: !no_emerging,
        min_reasons,
    };
    let req = EarlyWarningRequest {
        series: series.clone(),
        trend: TrendOptions {
            test,
            alpha,
            ..TrendOptions::default()
        },
        weights,
        hotspot: HotspotOptions {
            permutations: 0,
            alpha,
            ..HotspotOptions::default()
        },
        emerging: EmergingOptions {
            alpha,
            ..EmergingOptions::default()
        },
        projection: ProjectionOptions {
            horizon,
            model,
            ..ProjectionOptions::default()
        },
        population: None,
        rules,
    };
    let key = format!(
        "{}|{test:?}|{alpha}|{weights:?}|{horizon}|{}|{rules:?}",
        series_key(&series),
        model.label()
    );
    let st = s.clone();
    let ew = cached_or(&s.trends_cache.early_warning, key, move || {
        check_band(&st, &req.weights)?;
        st.atlas.early_warning_study(&req)
    })
    .await?;
    let areas = if who.role.exact() {
        planner_warnings(&s, &who, &ew)
    } else {
        public_warnings(&s, &who, &ew, &rules)
    };
    let trends = &ew.trends;
    let recent = ew.result.recent_periods;
    Ok(Json(json!({
        "period": period_name(trends.period),
        "group": series.group,
        "periods": labels(&trends.periods),
        "recent_periods": labels(&trends.periods[trends.periods.len() - recent..]),
        "projected_period": ew.projection.projection.periods.last().map(|k| k.label()),
        "rules": {
            "rate_min": q.rate_min,
            "growth_min": rules.growth_per_year_min,
            "any_growth": any_growth,
            "hotspot_confidence": confidence,
            "no_emerging": no_emerging,
            "min_reasons": min_reasons,
            "test": test_name(test),
            "alpha": alpha,
            "weights": weights.describe(),
            "horizon": horizon,
            "model": model.label(),
        },
        "areas": areas,
    })))
}

/// The list as the analysis made it, with exact values.
fn planner_warnings(s: &Prepared, who: &Principal, ew: &EarlyWarningStudy) -> Vec<Value> {
    ew.result
        .warnings
        .iter()
        .map(|w| {
            json!({
                "area_id": s.atlas.areas[w.area.index()].code,
                "reasons": w.reasons.iter().map(|r| reason_name(*r)).collect::<Vec<_>>(),
                "rate_per_1000": num(w.recent_rate_per_1000_per_year.map(round2)),
                "growth_pct_per_year": num(w.growth_per_year.map(|g| g * 100.0)),
                "projected": w.projected.map(|v| protected(s, who, v)),
            })
        })
        .collect()
}

/// The list for the public: every rule applied to the values as published
/// (the rate from the counts as shown, growth rounded to 5 % and withheld with
/// the area's total, the published classes), so that thresholds chosen by a
/// reader tell nothing the published values do not.
fn public_warnings(
    s: &Prepared,
    who: &Principal,
    ew: &EarlyWarningStudy,
    rules: &WarningRules,
) -> Vec<Value> {
    let trends = &ew.trends;
    let recent = ew.result.recent_periods;
    let recent_periods = &trends.periods[trends.periods.len() - recent..];
    let per_year = periods_per_year(trends.period) / recent.max(1) as f64;
    let classes = ew.hotspots.as_ref().map(|h| h.classes());
    let categories = ew.emerging.as_ref().map(|e| e.categories());
    let mut rows: Vec<(usize, f64, usize, Value)> = Vec::new();
    for (i, a) in trends.areas.iter().enumerate() {
        let rate = a
            .population
            .filter(|p| *p > 0.0 && recent > 0)
            .and_then(|p| {
                shown_total(&public_counts(s, i, recent_periods))
                    .map(|n| round2(n * 1000.0 / p * per_year))
            });
        let growth = published_growth_pct(a.rate_ratio_per_year, &s.public.counts.area(i), false);
        let mut reasons = Vec::new();
        if let (Some(min), Some(r)) = (rules.rate_per_1000_min, rate) {
            if r >= min {
                reasons.push(Reason::HighRate);
            }
        }
        if let (Some(min), Some(g)) = (rules.growth_per_year_min, growth) {
            let rising = a.direction == Direction::Rising;
            if g >= min * 100.0 - 1e-9 && (!rules.require_significant_growth || rising) {
                reasons.push(Reason::FastGrowth);
            }
        }
        if let (Some(conf), Some(h)) = (
            rules.hotspot_confidence,
            classes.as_ref().and_then(|c| c.get(i)),
        ) {
            if h.is_hot() && h.confidence().is_some_and(|c| c >= conf) {
                reasons.push(Reason::HotSpot);
            }
        }
        if rules.emerging
            && categories
                .as_ref()
                .and_then(|c| c.get(i))
                .is_some_and(|e| e.is_emerging_hot())
        {
            reasons.push(Reason::EmergingHotSpot);
        }
        if reasons.is_empty() || reasons.len() < rules.min_reasons {
            continue;
        }
        let projected = ew
            .projection
            .projection
            .areas
            .get(i)
            .and_then(|p| p.steps.last())
            .map(|st| s.policy.count(st.mean, who.role));
        let order = projected.as_ref().and_then(Count::value).unwrap_or(-1.0);
        rows.push((
            reasons.len(),
            order,
            i,
            json!({
                "area_id": s.atlas.areas[i].code,
                "reasons": reasons.iter().map(|r| reason_name(*r)).collect::<Vec<_>>(),
                "rate_per_1000": num(rate),
                "growth_pct_per_year": num(growth),
                "projected": projected,
            }),
        ));
    }
    rows.sort_by(|x, y| y.0.cmp(&x.0).then(y.1.total_cmp(&x.1)).then(x.2.cmp(&y.2)));
    rows.into_iter().map(|r| r.3).collect()
}
