//! Opening hours in the OpenStreetMap `opening_hours` syntax (crate
//! `opening-hours`), evaluated in local wall-clock time (Europe/London) with
//! Scotland's bank holidays as `PH`.
//!
//! - [`scottish_bank_holidays`]: the Scottish bank holidays of a year, by rule:
//!   New Year's Day and 2 January, Good Friday, the early May bank holiday
//!   (first Monday of May), the spring bank holiday (last Monday of May), the
//!   summer bank holiday (first Monday of August), St Andrew's Day (30
//!   November), Christmas Day and Boxing Day, each moved to the next weekday
//!   not already a holiday when it falls at a weekend. One-off holidays (a
//!   coronation, a jubilee) are added in the workspace file.
//! - [`Hours`]: a parsed expression with that calendar; [`Hours::week_profile`]
//!   gives the share of each of the 168 hours of a week (Monday 00:00 first)
//!   during which the premises is open.
//! - [`hour_of_week`]: the slot (0-167) of a local date-time.

use std::sync::Arc;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Weekday};
use compact_calendar::CompactCalendar;
use opening_hours::{Context, ContextHolidays, OpeningHours, RuleKind};

/// Easter Sunday of a year (the anonymous Gregorian computus).
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32)
}

fn first_weekday_of(year: i32, month: u32, wd: Weekday) -> Option<NaiveDate> {
    let mut d = NaiveDate::from_ymd_opt(year, month, 1)?;
    while d.weekday() != wd {
        d = d.succ_opt()?;
    }
    Some(d)
}

fn last_weekday_of(year: i32, month: u32, wd: Weekday) -> Option<NaiveDate> {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    let mut d = next.pred_opt()?;
    while d.weekday() != wd {
        d = d.pred_opt()?;
    }
    Some(d)
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Scotland's bank holidays in `year`, sorted (see the module docs).
pub fn scottish_bank_holidays(year: i32) -> Vec<NaiveDate> {
    let mut out: Vec<NaiveDate> = Vec::new();
    // Fixed dates that move to the next free weekday at a weekend, in order.
    let fixed = [(1, 1), (1, 2), (11, 30), (12, 25), (12, 26)];
    let mut movable = Vec::new();
    if let Some(e) = easter_sunday(year) {
        movable.extend(e.checked_sub_signed(Duration::days(2)));
    }
    movable.extend(first_weekday_of(year, 5, Weekday::Mon));
    movable.extend(last_weekday_of(year, 5, Weekday::Mon));
    movable.extend(first_weekday_of(year, 8, Weekday::Mon));
    out.extend(movable);
    for (m, d) in fixed {
        let Some(mut day) = NaiveDate::from_ymd_opt(year, m, d) else {
            continue;
        };
        if is_weekend(day) || out.contains(&day) {
            while is_weekend(day) || out.contains(&day) {
                match day.succ_opt() {
                    Some(n) => day = n,
                    None => break,
                }
            }
        }
        out.push(day);
    }
    out.sort();
    out.dedup();
    out
}

/// A holiday calendar for `PH`: Scotland's bank holidays from `first_year` to
/// `last_year` plus `extra` dates.
pub fn holiday_calendar(first_year: i32, last_year: i32, extra: &[NaiveDate]) -> ContextHolidays {
    let mut cal = CompactCalendar::default();
    for y in first_year..=last_year {
        for d in scottish_bank_holidays(y) {
            cal.insert(d);
        }
    }
    for d in extra {
        cal.insert(*d);
    }
    ContextHolidays::new(Arc::new(cal), Arc::new(CompactCalendar::default()))
}

/// A parsed `opening_hours` expression with its holiday calendar.
#[derive(Clone)]
pub struct Hours {
    pub text: String,
    oh: OpeningHours,
}

impl std::fmt::Debug for Hours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hours").field("text", &self.text).finish()
    }
}

impl Hours {
    /// Parse an expression; the error text gives the position in the string.
    pub fn parse(text: &str, holidays: &ContextHolidays) -> Result<Hours, String> {
        let oh = text.parse::<OpeningHours>().map_err(|e| e.to_string())?;
        let oh = oh.with_context(Context::default().with_holidays(holidays.clone()));
        Ok(Hours {
            text: text.to_string(),
            oh,
        })
    }

    /// Open at this local date-time?
    pub fn is_open(&self, at: NaiveDateTime) -> bool {
        self.oh.is_open(at)
    }

    /// The next local date-time at which the state changes.
    pub fn next_change(&self, at: NaiveDateTime) -> Option<NaiveDateTime> {
        self.oh.next_change(at)
    }

    /// Minutes open in `[from, to)`.
    pub fn open_minutes(&self, from: NaiveDateTime, to: NaiveDateTime) -> i64 {
        self.oh
            .iter_range(from, to)
            .filter(|r| r.kind == RuleKind::Open)
            .map(|r| {
                (r.range.end.min(to) - r.range.start.max(from))
                    .num_minutes()
                    .max(0)
            })
            .sum()
    }

    /// Share of each hour of the week starting at `monday` (00:00 local) that
    /// the premises is open: 168 values in 0..=1, Monday 00:00-01:00 first.
    pub fn week_profile(&self, monday: NaiveDate) -> [f64; 168] {
        let mut out = [0.0; 168];
        let Some(start) = monday.and_hms_opt(0, 0, 0) else {
            return out;
        };
        let end = start + Duration::hours(168);
        for r in self.oh.iter_range(start, end) {
            if r.kind != RuleKind::Open {
                continue;
            }
            let (a, b) = (r.range.start.max(start), r.range.end.min(end));
            let mut t = a;
            while t < b {
                let slot = ((t - start).num_minutes() / 60) as usize;
                let slot_end = start + Duration::hours(slot as i64 + 1);
                let until = slot_end.min(b);
                if slot < 168 {
                    out[slot] += (until - t).num_seconds() as f64 / 3600.0;
                }
                t = until;
            }
        }
        out
    }
}

/// Hour of the week (0 = Monday 00:00-01:00, 167 = Sunday 23:00-24:00) of a local date-time.
pub fn hour_of_week(t: &NaiveDateTime) -> usize {
    t.weekday().num_days_from_monday() as usize * 24 + chrono::Timelike::hour(t) as usize
}

/// The Monday on or before a date.
pub fn monday_of(d: NaiveDate) -> NaiveDate {
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn easter_dates() {
        // Published Easter Sundays.
        assert_eq!(easter_sunday(2024), Some(ymd(2024, 3, 31)));
        assert_eq!(easter_sunday(2025), Some(ymd(2025, 4, 20)));
        assert_eq!(easter_sunday(2019), Some(ymd(2019, 4, 21)));
    }

    #[test]
    fn scottish_bank_holidays_2024_and_2022() {
        // Scotland's bank holidays as published for 2024 (St Andrew's Day on a
        // Saturday, so Monday 2 December).
        assert_eq!(
            scottish_bank_holidays(2024),
            vec![
                ymd(2024, 1, 1),
                ymd(2024, 1, 2),
                ymd(2024, 3, 29),
                ymd(2024, 5, 6),
                ymd(2024, 5, 27),
                ymd(2024, 8, 5),
                ymd(2024, 12, 2),
                ymd(2024, 12, 25),
                ymd(2024, 12, 26)
            ]
        );
        // 2022: New Year's Day on a Saturday -> 3 Jan, 2 Jan on a Sunday -> 4 Jan;
        // Christmas on a Sunday -> 27 Dec (Boxing Day stays on Monday 26th).
        let h = scottish_bank_holidays(2022);
        for d in [
            ymd(2022, 1, 3),
            ymd(2022, 1, 4),
            ymd(2022, 12, 26),
            ymd(2022, 12, 27),
        ] {
            assert!(h.contains(&d), "{d} missing from {h:?}");
        }
    }
}

impl Hours {
    /// Open intervals `[start, end)` between two local date-times, in order.
    pub fn open_intervals(
        &self,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Vec<(NaiveDateTime, NaiveDateTime)> {
        self.oh
            .iter_range(from, to)
            .filter(|r| r.kind == RuleKind::Open)
            .map(|r| (r.range.start, r.range.end))
            .collect()
    }
}

/// Whether `t` falls in one of the sorted, disjoint `intervals`.
pub fn within(intervals: &[(NaiveDateTime, NaiveDateTime)], t: NaiveDateTime) -> bool {
    let k = intervals.partition_point(|iv| iv.1 <= t);
    intervals.get(k).is_some_and(|iv| iv.0 <= t && t < iv.1)
}

/// Referrals by hour of the week (Monday 00:00-01:00 first) among those `keep` accepts.
pub fn demand_profile(
    referrals: &crate::model::ReferralSet,
    keep: impl Fn(&crate::model::Referral) -> bool,
) -> [u64; 168] {
    let mut out = [0u64; 168];
    for r in &referrals.referrals {
        if let Some(t) = &r.received {
            if keep(r) {
                out[hour_of_week(t)] += 1;
            }
        }
    }
    out
}

/// The hours gap of one area or premises.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct HoursGap {
    /// Referrals with a received time.
    pub timed: u64,
    /// Of those, referrals that arrived when no premises in reach was open.
    pub unmet: u64,
}

impl HoursGap {
    /// Share of the timed referrals left unmet.
    pub fn share(&self) -> Option<f64> {
        (self.timed > 0).then(|| self.unmet as f64 / self.timed as f64)
    }
}

/// Hours gaps over a set of premises of one kind.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct HoursGaps {
    /// Per area: its referrals that arrived when no premises within `threshold_s` was open.
    pub by_area: Vec<HoursGap>,
    /// Per premises: referrals from its nearest-premises catchment that arrived while it was closed.
    pub by_premises: Vec<HoursGap>,
}

/// The hours gap per area and per premises. `costs` runs from areas to the
/// premises; `hours[j]` are premises `j`'s opening hours (premises without
/// hours are never counted as open: their hours are unknown). A premises is in
/// reach of an area when its cost is at most `threshold_s`; its catchment is
/// the areas whose nearest premises (by cost) it is. Only referrals `keep`
/// accepts are counted (a client group, say).
pub fn hours_gaps(
    n_areas: usize,
    referrals: &crate::model::ReferralSet,
    costs: &super::access::CostMatrix,
    threshold_s: f64,
    hours: &[Option<&Hours>],
    keep: impl Fn(&crate::model::Referral) -> bool,
) -> HoursGaps {
    let mut by_area = vec![HoursGap { timed: 0, unmet: 0 }; n_areas];
    let mut by_premises = vec![HoursGap { timed: 0, unmet: 0 }; costs.n_supply];
    let flags = referral_hours(referrals, costs, threshold_s, hours, keep);
    for (r, f) in referrals.referrals.iter().zip(flags) {
        let (Some(a), Some(f)) = (r.area, f) else {
            continue;
        };
        let i = a.index();
        by_area[i].timed += 1;
        if f.unmet {
            by_area[i].unmet += 1;
        }
        if let Some((j, closed)) = f.nearest {
            let g = &mut by_premises[j as usize];
            g.timed += 1;
            if closed {
                g.unmet += 1;
            }
        }
    }
    HoursGaps {
        by_area,
        by_premises,
    }
}

/// How one timed referral fared against the premises' hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReferralHours {
    /// No premises within the threshold was open when it arrived.
    pub unmet: bool,
    /// Its area's nearest premises (by cost), and whether that was closed.
    pub nearest: Option<(u32, bool)>,
}

/// For each area, the outcomes (bit `2·unmet + nearest closed`) that public
/// facts leave possible: a premises in reach that is never closed makes
/// "unmet" impossible; a nearest premises in reach makes "unmet while the
/// nearest is open" impossible; a nearest that is the only one in reach makes
/// "met while the nearest is closed" impossible; no premises in reach makes
/// "met" impossible. `always_open[j]`: premises `j` is never closed.
pub fn possible_outcomes(
    costs: &super::access::CostMatrix,
    threshold_s: f64,
    always_open: &[bool],
) -> Vec<u8> {
    let nearest = super::access::nearest_by_cost(costs);
    costs
        .rows
        .iter()
        .zip(&nearest)
        .map(|(row, near)| {
            let reach: Vec<u32> = row
                .iter()
                .filter(|&&(_, c)| c <= threshold_s)
                .map(|&(j, _)| j)
                .collect();
            let mut m = 0u8;
            for unmet in [false, true] {
                for closed in [false, true] {
                    let ok = match (unmet, closed, near) {
                        // Without a nearest premises it is never "closed".
                        (_, true, None) => false,
                        (false, _, _) if reach.is_empty() => false,
                        (true, _, _) if reach.iter().any(|&j| always_open[j as usize]) => false,
                        (_, true, Some((j, _))) if always_open[*j as usize] => false,
                        (true, false, Some((j, _))) if reach.contains(j) => false,
                        (false, true, Some((j, _))) => reach.iter().any(|k| k != j),
                        _ => true,
                    };
                    if ok {
                        m |= 1 << (usize::from(unmet) * 2 + usize::from(closed));
                    }
                }
            }
            m
        })
        .collect()
}

/// [`ReferralHours`] for each referral in order; `None` for referrals without
/// an area or a time, or that `keep` refuses.
pub fn referral_hours(
    referrals: &crate::model::ReferralSet,
    costs: &super::access::CostMatrix,
    threshold_s: f64,
    hours: &[Option<&Hours>],
    keep: impl Fn(&crate::model::Referral) -> bool,
) -> Vec<Option<ReferralHours>> {
    let Some((intervals, _)) = period_intervals(referrals, hours, &keep) else {
        return vec![None; referrals.referrals.len()];
    };
    let nearest = super::access::nearest_by_cost(costs);
    referrals
        .referrals
        .iter()
        .map(|r| {
            let (Some(a), Some(t)) = (r.area, r.received) else {
                return None;
            };
            if !keep(r) {
                return None;
            }
            let i = a.index();
            Some(ReferralHours {
                unmet: !any_open(&costs.rows[i], threshold_s, &intervals, t),
                nearest: nearest[i].map(|(j, _)| (j, !within(&intervals[j as usize], t))),
            })
        })
        .collect()
}

/// The first Monday on or after `from` whose week (Monday to Sunday) holds no
/// Scottish bank holiday and none of `extra`: the week used as "a typical
/// week" for slot-by-slot analyses.
pub fn reference_monday(from: NaiveDate, extra: &[NaiveDate]) -> NaiveDate {
    let mut monday = monday_of(from);
    if monday < from {
        monday += Duration::days(7);
    }
    for _ in 0..60 {
        let end = monday + Duration::days(6);
        let mut holidays = scottish_bank_holidays(monday.year());
        holidays.extend(scottish_bank_holidays(end.year()));
        let clash = holidays
            .iter()
            .chain(extra)
            .any(|d| *d >= monday && *d <= end);
        if !clash {
            return monday;
        }
        monday += Duration::days(7);
    }
    monday
}

/// Open share of every hour of the week starting at `monday`, per premises
/// (all zeros where hours are unknown).
pub fn open_slots(hours: &[Option<&Hours>], monday: NaiveDate) -> Vec<[f64; 168]> {
    hours
        .iter()
        .map(|h| h.map(|h| h.week_profile(monday)).unwrap_or([0.0; 168]))
        .collect()
}

/// Hours-aware floating catchment: for each hour of the week `h`, the 2SFCA /
/// E2SFCA score of every area (see [`super::access::floating_catchment`])
/// with supply `S_j · open_j(h)`, so that only premises open in that hour
/// count, each in proportion to the share of the hour it is open. Demand is
/// the same in every hour. Result: `scores[h][area]`.
pub fn floating_catchment_by_hour(
    demand: &[f64],
    supply: &[f64],
    open: &[[f64; 168]],
    costs: &super::access::CostMatrix,
    max_cost_s: Option<f64>,
    decay: &super::access::Decay,
) -> Vec<Vec<Option<f64>>> {
    use rayon::prelude::*;
    (0..168usize)
        .into_par_iter()
        .map(|h| {
            let s: Vec<f64> = supply.iter().zip(open).map(|(s, o)| s * o[h]).collect();
            super::access::floating_catchment(demand, &s, costs, max_cost_s, decay)
        })
        .collect()
}

/// For each area and hour of the week, how many premises within `threshold_s`
/// are open for at least half of that hour.
pub fn open_in_reach(
    costs: &super::access::CostMatrix,
    threshold_s: f64,
    open: &[[f64; 168]],
) -> Vec<[u16; 168]> {
    costs
        .rows
        .iter()
        .map(|row| {
            let mut n = [0u16; 168];
            for &(j, c) in row {
                if c <= threshold_s {
                    for (h, v) in n.iter_mut().enumerate() {
                        if open[j as usize][h] >= 0.5 {
                            *v += 1;
                        }
                    }
                }
            }
            n
        })
        .collect()
}

/// Referrals by hour of the week for each area (timed referrals placed in an
/// area, among those `keep` accepts).
pub fn demand_by_area(
    n_areas: usize,
    referrals: &crate::model::ReferralSet,
    keep: impl Fn(&crate::model::Referral) -> bool,
) -> Vec<[u32; 168]> {
    let mut out = vec![[0u32; 168]; n_areas];
    for r in &referrals.referrals {
        if let (Some(a), Some(t)) = (r.area, &r.received) {
            if keep(r) {
                out[a.index()][hour_of_week(t)] += 1;
            }
        }
    }
    out
}

/// Open intervals of every premises over the span of the timed referrals
/// `keep` accepts (a day either side), with that span; `None` when no
/// referral is timed.
#[allow(clippy::type_complexity)]
fn period_intervals(
    referrals: &crate::model::ReferralSet,
    hours: &[Option<&Hours>],
    keep: &impl Fn(&crate::model::Referral) -> bool,
) -> Option<(
    Vec<Vec<(NaiveDateTime, NaiveDateTime)>>,
    (NaiveDateTime, NaiveDateTime),
)> {
    let mut span: Option<(NaiveDateTime, NaiveDateTime)> = None;
    for r in &referrals.referrals {
        if let Some(t) = r.received {
            if keep(r) {
                span = Some(match span {
                    None => (t, t),
                    Some((a, b)) => (a.min(t), b.max(t)),
                });
            }
        }
    }
    let (first, last) = span?;
    let (from, to) = (first - Duration::days(1), last + Duration::days(1));
    let intervals = hours
        .iter()
        .map(|h| h.map(|h| h.open_intervals(from, to)).unwrap_or_default())
        .collect();
    Some((intervals, (first, last)))
}

/// Whether any premises of `row` within `threshold_s` is open at `t`.
fn any_open(
    row: &[(u32, f64)],
    threshold_s: f64,
    intervals: &[Vec<(NaiveDateTime, NaiveDateTime)>],
    t: NaiveDateTime,
) -> bool {
    row.iter()
        .any(|&(j, c)| c <= threshold_s && within(&intervals[j as usize], t))
}

/// Unmet demand by area and hour of the week: the timed referrals `keep`
/// accepts that arrived when no premises within `threshold_s` of their area
/// was open (as in [`hours_gaps`]), counted by area and slot, with the span
/// of time the referrals cover (first and last timed referral).
pub struct UnmetDemand {
    pub by_area: Vec<[u32; 168]>,
    pub span: Option<(NaiveDateTime, NaiveDateTime)>,
}

impl UnmetDemand {
    /// Weeks covered by the referrals (at least one).
    pub fn weeks(&self) -> f64 {
        self.span
            .map(|(a, b)| ((b - a).num_seconds() as f64 / (7.0 * 86_400.0)).max(1.0))
            .unwrap_or(1.0)
    }
}

/// See [`UnmetDemand`].
pub fn unmet_demand(
    n_areas: usize,
    referrals: &crate::model::ReferralSet,
    costs: &super::access::CostMatrix,
    threshold_s: f64,
    hours: &[Option<&Hours>],
    keep: impl Fn(&crate::model::Referral) -> bool,
) -> UnmetDemand {
    let mut by_area = vec![[0u32; 168]; n_areas];
    let Some((intervals, span)) = period_intervals(referrals, hours, &keep) else {
        return UnmetDemand {
            by_area,
            span: None,
        };
    };
    for r in &referrals.referrals {
        let (Some(a), Some(t)) = (r.area, r.received) else {
            continue;
        };
        if keep(r) && !any_open(&costs.rows[a.index()], threshold_s, &intervals, t) {
            by_area[a.index()][hour_of_week(&t)] += 1;
        }
    }
    UnmetDemand {
        by_area,
        span: Some(span),
    }
}
