//! Scenarios: the baseline premises plus edits (add, close, move, change
//! hours, change capacity), and the measures that compare two of them for
//! one kind of premises, overall and by SIMD quintile.
//!
//! Measures (population-weighted over the areas, travel from each area's
//! representative point to its nearest premises of the kind):
//! - coverage: share of the population within the threshold;
//! - mean and 95th-percentile travel time (the weighted percentile: the
//!   smallest time with at least 95 % of the population at or below it);
//! - hours gap: timed referrals that arrived when no premises of the kind
//!   within the threshold was open (see [`super::hours::hours_gaps`]);
//! - provider choice: mean distinct providers within the threshold, and the
//!   share of the population in a choice desert (fewer than `desert_below`).

use serde::{Deserialize, Serialize};

use super::access::{access_table_by, AccessParams, Travel};
use super::hours::{hours_gaps, Hours};
use crate::model::{Area, Premises, PremisesId, ReferralSet};

/// One change to the premises.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Edit {
    /// A new premises.
    Add {
        id: String,
        name: String,
        kind: String,
        lon: f64,
        lat: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        capacity: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        opening_hours: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        services: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider: Option<String>,
    },
    /// Close a premises.
    Close { id: String },
    /// Move a premises.
    Move { id: String, lon: f64, lat: f64 },
    /// New opening hours (OSM syntax).
    Hours { id: String, opening_hours: String },
    /// New capacity.
    Capacity { id: String, capacity: f64 },
}

/// Premises after edits, with their parsed hours.
pub struct Applied {
    pub premises: Vec<Premises>,
    pub hours: Vec<Option<Hours>>,
}

/// Apply edits in order. Errors name the edit (1-based) and the problem.
pub fn apply(
    base: &[Premises],
    base_hours: &[Option<Hours>],
    edits: &[Edit],
    holidays: &opening_hours::ContextHolidays,
) -> Result<Applied, String> {
    let mut premises: Vec<Premises> = base.to_vec();
    let mut hours: Vec<Option<Hours>> = base_hours.to_vec();
    let mut open: Vec<bool> = vec![true; premises.len()];
    let place = |lon: f64, lat: f64| -> Result<(f64, f64), String> {
        if !((-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat)) {
            return Err(format!("lon/lat {lon}, {lat} are not WGS84 degrees"));
        }
        crate::spatial::crs::wgs84_to_bng(lon, lat).map_err(|e| e.to_string())
    };
    let parse_hours = |text: &str| Hours::parse(text, holidays).map(Some);
    for (k, e) in edits.iter().enumerate() {
        let n = k + 1;
        let find = |id: &str, premises: &[Premises], open: &[bool]| {
            premises
                .iter()
                .position(|p| p.code == id)
                .filter(|&j| open[j])
                .ok_or_else(|| format!("edit {n}: no open premises {id:?}"))
        };
        match e {
            Edit::Add {
                id,
                name,
                kind,
                lon,
                lat,
                capacity,
                opening_hours,
                services,
                provider,
            } => {
                if id.trim().is_empty() || kind.trim().is_empty() {
                    return Err(format!("edit {n}: a new premises needs an id and a kind"));
                }
                if premises.iter().zip(&open).any(|(p, o)| *o && &p.code == id) {
                    return Err(format!("edit {n}: premises {id:?} exists already"));
                }
                if capacity.is_some_and(|c| !(c.is_finite() && c >= 0.0)) {
                    return Err(format!("edit {n}: capacity must be a number, 0 or more"));
                }
                let (x_m, y_m) = place(*lon, *lat).map_err(|m| format!("edit {n}: {m}"))?;
                let h = match opening_hours {
                    Some(t) => parse_hours(t)
                        .map_err(|m| format!("edit {n}: opening_hours {t:?} is not valid: {m}"))?,
                    None => None,
                };
                premises.push(Premises {
                    id: PremisesId(premises.len() as u32),
                    source: "scenario".into(),
                    code: id.clone(),
                    name: name.clone(),
                    kind: kind.trim().to_ascii_lowercase().replace([' ', '-'], "_"),
                    services: services.clone(),
                    capacity: *capacity,
                    provider: provider.clone(),
                    opening_hours: opening_hours.clone(),
                    eligibility: None,
                    x_m,
                    y_m,
                    lon: *lon,
                    lat: *lat,
                });
                hours.push(h);
                open.push(true);
            }
            Edit::Close { id } => {
                let j = find(id, &premises, &open)?;
                open[j] = false;
            }
            Edit::Move { id, lon, lat } => {
                let j = find(id, &premises, &open)?;
                let (x, y) = place(*lon, *lat).map_err(|m| format!("edit {n}: {m}"))?;
                let p = &mut premises[j];
                (p.x_m, p.y_m, p.lon, p.lat) = (x, y, *lon, *lat);
            }
            Edit::Hours { id, opening_hours } => {
                let j = find(id, &premises, &open)?;
                hours[j] = parse_hours(opening_hours).map_err(|m| {
                    format!("edit {n}: opening_hours {opening_hours:?} is not valid: {m}")
                })?;
                premises[j].opening_hours = Some(opening_hours.clone());
            }
            Edit::Capacity { id, capacity } => {
                let j = find(id, &premises, &open)?;
                if !(capacity.is_finite() && *capacity >= 0.0) {
                    return Err(format!("edit {n}: capacity must be a number, 0 or more"));
                }
                premises[j].capacity = Some(*capacity);
            }
        }
    }
    let keep: Vec<usize> = (0..premises.len()).filter(|&j| open[j]).collect();
    let mut out = Applied {
        premises: keep.iter().map(|&j| premises[j].clone()).collect(),
        hours: keep.iter().map(|&j| hours[j].clone()).collect(),
    };
    for (k, p) in out.premises.iter_mut().enumerate() {
        p.id = PremisesId(k as u32);
    }
    Ok(out)
}

/// Measures of one group of areas (all, or one SIMD quintile).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Measures {
    pub population: f64,
    /// Share of the population within the threshold, 0..1.
    pub coverage: Option<f64>,
    pub mean_travel_s: Option<f64>,
    pub p95_travel_s: Option<f64>,
    /// Timed referrals, and those that arrived when nothing in reach was open.
    pub timed: u64,
    pub unmet: u64,
    /// Population-weighted mean of distinct providers within the threshold.
    pub providers_mean: Option<f64>,
    /// Share of the population in choice deserts, 0..1.
    pub choice_desert: Option<f64>,
}

/// Measures of a scenario for one kind: overall, by quintile (index 0 = most
/// deprived), and per area (travel time to the nearest premises, covered).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScenarioMeasures {
    pub premises: usize,
    pub overall: Measures,
    pub by_quintile: [Measures; 5],
    pub area_travel_s: Vec<Option<f64>>,
    pub area_covered: Vec<bool>,
}

/// Per area: population, travel time, providers within reach, choice desert, timed, unmet.
type AreaRow = (f64, Option<f64>, usize, bool, u64, u64);

fn summarise(rows: &[AreaRow], threshold_s: f64) -> Measures {
    let population: f64 = rows.iter().map(|r| r.0).sum();
    let mut m = Measures {
        population,
        timed: rows.iter().map(|r| r.4).sum(),
        unmet: rows.iter().map(|r| r.5).sum(),
        ..Measures::default()
    };
    if population <= 0.0 {
        return m;
    }
    let mut times: Vec<(f64, f64)> = rows.iter().filter_map(|r| r.1.map(|t| (t, r.0))).collect();
    let reached: f64 = times.iter().map(|t| t.1).sum();
    m.coverage = Some(
        rows.iter()
            .filter(|r| r.1.is_some_and(|t| t <= threshold_s))
            .map(|r| r.0)
            .sum::<f64>()
            / population,
    );
    if reached > 0.0 {
        m.mean_travel_s = Some(times.iter().map(|(t, w)| t * w).sum::<f64>() / reached);
        times.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut acc = 0.0;
        for (t, w) in &times {
            acc += w;
            if acc >= 0.95 * reached - 1e-9 {
                m.p95_travel_s = Some(*t);
                break;
            }
        }
    }
    m.providers_mean = Some(rows.iter().map(|r| r.0 * r.2 as f64).sum::<f64>() / population);
    m.choice_desert = Some(rows.iter().filter(|r| r.3).map(|r| r.0).sum::<f64>() / population);
    m
}

/// Measure a scenario's premises of one kind (`premises`, with `hours` in
/// the same order) for the areas.
pub fn measure(
    areas: &[Area],
    premises: &[&Premises],
    hours: &[Option<&Hours>],
    referrals: &ReferralSet,
    params: &AccessParams,
    travel: Travel<'_>,
) -> ScenarioMeasures {
    let n = areas.len();
    let (table, gaps) = if premises.is_empty() {
        (Vec::new(), None)
    } else {
        let table = access_table_by(areas, premises, params, travel, None);
        let sites: Vec<[f64; 2]> = premises.iter().map(|p| [p.x_m, p.y_m]).collect();
        let points: Vec<[f64; 2]> = areas
            .iter()
            .map(|a| {
                super::access::representative_point(&a.geometry).unwrap_or([f64::NAN, f64::NAN])
            })
            .collect();
        let costs = travel.matrix(&points, &sites, params, params.threshold_s);
        let gaps = hours_gaps(n, referrals, &costs, params.threshold_s, hours, |_| true);
        (table, Some(gaps))
    };
    // With no premises at all every timed referral is unmet.
    let mut timed_by_area = vec![0u64; n];
    for r in &referrals.referrals {
        if let (Some(a), Some(_)) = (r.area, r.received) {
            timed_by_area[a.index()] += 1;
        }
    }
    let rows: Vec<AreaRow> = (0..n)
        .map(|i| {
            let pop = areas[i].population.unwrap_or(0.0);
            let (t, prov, desert) = match table.get(i) {
                Some(r) => (r.travel_time_s, r.providers_within, r.choice_desert),
                None => (None, 0, true),
            };
            let (timed, unmet) = match &gaps {
                Some(g) => (g.by_area[i].timed, g.by_area[i].unmet),
                None => (timed_by_area[i], timed_by_area[i]),
            };
            (pop, t, prov, desert, timed, unmet)
        })
        .collect();
    let overall = summarise(&rows, params.threshold_s);
    let by_quintile: [Measures; 5] = std::array::from_fn(|q| {
        let sub: Vec<_> = rows
            .iter()
            .zip(areas)
            .filter(|(_, a)| a.simd.is_some_and(|s| usize::from(s.quintile) == q + 1))
            .map(|(r, _)| *r)
            .collect();
        summarise(&sub, params.threshold_s)
    });
    ScenarioMeasures {
        premises: premises.len(),
        overall,
        by_quintile,
        area_travel_s: rows.iter().map(|r| r.1).collect(),
        area_covered: rows
            .iter()
            .map(|r| r.1.is_some_and(|t| t <= params.threshold_s))
            .collect(),
    }
}
