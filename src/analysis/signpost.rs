//! Signposting: which premises offering a service can help at a place, how
//! far they are in travel time, and whether they are open now or when they
//! next open.

use chrono::{Duration, NaiveDateTime};
use serde::Serialize;

use super::access::CostMatrix;
use super::hours::Hours;

/// Whether a premises is open at a time, as far as its hours say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpenState {
    Open,
    Closed,
    /// No opening hours are known.
    Unknown,
}

/// One premises that can help, in ranked order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SignpostHit {
    /// Index of the premises among those given.
    pub premises: u32,
    pub travel_time_s: f64,
    /// Straight-line distance, metres.
    pub distance_m: f64,
    /// At the time asked about.
    pub now: OpenState,
    /// When open: when it closes (None for always open).
    pub closes_at: Option<NaiveDateTime>,
    /// When closed: when it next opens (None if never within a year).
    pub opens_at: Option<NaiveDateTime>,
    /// Open when one would get there, leaving at the time asked about.
    pub open_on_arrival: OpenState,
    /// The earliest time one could be there while it is open: arrival, or
    /// the next opening after arrival.
    pub earliest_visit: Option<NaiveDateTime>,
}

/// Premises reachable from one point (row 0 of `costs`, to the premises
/// given), ranked by travel time then index, with their state at `at`
/// (local time). `sites` are the premises' positions and `origin` the point,
/// in metres, for the straight-line distance.
pub fn signpost(
    costs: &CostMatrix,
    origin: [f64; 2],
    sites: &[[f64; 2]],
    hours: &[Option<&Hours>],
    at: NaiveDateTime,
    limit: usize,
) -> Vec<SignpostHit> {
    let Some(row) = costs.rows.first() else {
        return Vec::new();
    };
    let mut ranked: Vec<(u32, f64)> = row.clone();
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    ranked.truncate(limit);
    let horizon = at + Duration::days(366);
    ranked
        .into_iter()
        .map(|(j, cost_s)| {
            let h = hours[j as usize];
            let q = sites[j as usize];
            let distance_m = ((q[0] - origin[0]).powi(2) + (q[1] - origin[1]).powi(2)).sqrt();
            let arrival = at + Duration::seconds(cost_s.round() as i64);
            let state = |t: NaiveDateTime| match h {
                None => OpenState::Unknown,
                Some(h) if h.is_open(t) => OpenState::Open,
                Some(_) => OpenState::Closed,
            };
            let now = state(at);
            let change = h.and_then(|h| h.next_change(at)).filter(|t| *t <= horizon);
            let open_on_arrival = state(arrival);
            let earliest_visit = match (h, open_on_arrival) {
                (Some(_), OpenState::Open) => Some(arrival),
                (Some(h), OpenState::Closed) => h.next_change(arrival).filter(|t| *t <= horizon),
                _ => None,
            };
            SignpostHit {
                premises: j,
                travel_time_s: cost_s,
                distance_m,
                now,
                closes_at: if now == OpenState::Open { change } else { None },
                opens_at: if now == OpenState::Closed {
                    change
                } else {
                    None
                },
                open_on_arrival,
                earliest_visit,
            }
        })
        .collect()
}
