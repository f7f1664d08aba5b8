//! Calendar periods (months, quarters, years) and referral counts per area
//! per complete period.
//!
//! **Complete periods only.** An extract covers a range of days (by default
//! from its first to its last timed referral; a planner may say otherwise).
//! A period that the range covers only in part (the first or the last) is
//! listed in [`PeriodCounts::partial`] and its referrals are left out of the
//! series, so that half a month does not read as a fall in demand.

use chrono::{Datelike, NaiveDate};
use serde::{Serialize, Serializer};

use crate::config::Period;
use crate::model::{Referral, ReferralSet};

/// Periods in a year.
pub fn periods_per_year(period: Period) -> f64 {
    match period {
        Period::Month => 12.0,
        Period::Quarter => 4.0,
        Period::Year => 1.0,
    }
}

/// The lower-case name of a period (`month`, `quarter`, `year`).
pub fn period_name(period: Period) -> &'static str {
    match period {
        Period::Month => "month",
        Period::Quarter => "quarter",
        Period::Year => "year",
    }
}

/// Parse `month`, `quarter` or `year`.
pub fn parse_period(s: &str) -> Result<Period, String> {
    match s {
        "month" => Ok(Period::Month),
        "quarter" => Ok(Period::Quarter),
        "year" => Ok(Period::Year),
        _ => Err(format!("period {s:?} is not one of month, quarter, year")),
    }
}

/// One calendar period: a month, a quarter or a year, by a running index
/// (months and quarters since year 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeriodKey {
    pub period: Period,
    /// `year·12 + month − 1`, `year·4 + quarter − 1`, or the year.
    pub index: i32,
}

impl PeriodKey {
    /// The period containing a day.
    pub fn containing(date: NaiveDate, period: Period) -> PeriodKey {
        let (y, m) = (date.year(), date.month0() as i32);
        let index = match period {
            Period::Month => y * 12 + m,
            Period::Quarter => y * 4 + m / 3,
            Period::Year => y,
        };
        PeriodKey { period, index }
    }

    /// The year the period starts in.
    pub fn year(&self) -> i32 {
        match self.period {
            Period::Month => self.index.div_euclid(12),
            Period::Quarter => self.index.div_euclid(4),
            Period::Year => self.index,
        }
    }

    /// First day.
    pub fn start(&self) -> NaiveDate {
        let (y, m0) = match self.period {
            Period::Month => (self.index.div_euclid(12), self.index.rem_euclid(12)),
            Period::Quarter => (self.index.div_euclid(4), self.index.rem_euclid(4) * 3),
            Period::Year => (self.index, 0),
        };
        NaiveDate::from_ymd_opt(y, m0 as u32 + 1, 1).unwrap_or(NaiveDate::MIN)
    }

    /// First day of the next period (the end, exclusive).
    pub fn end(&self) -> NaiveDate {
        self.offset(1).start()
    }

    /// The period `k` steps later (earlier when negative).
    pub fn offset(&self, k: i32) -> PeriodKey {
        PeriodKey {
            period: self.period,
            index: self.index + k,
        }
    }

    /// Number of days.
    pub fn days(&self) -> i64 {
        (self.end() - self.start()).num_days()
    }

    /// The middle of the period as a fractional year (2024.0 is 1 January 2024).
    pub fn mid_year(&self) -> f64 {
        let start = self.start();
        let days_in_year = |y: i32| {
            let a = NaiveDate::from_ymd_opt(y, 1, 1).unwrap_or(NaiveDate::MIN);
            let b = NaiveDate::from_ymd_opt(y + 1, 1, 1).unwrap_or(NaiveDate::MAX);
            (b - a).num_days() as f64
        };
        let y = start.year();
        let into = start.ordinal0() as f64 + self.days() as f64 / 2.0;
        y as f64 + into / days_in_year(y)
    }

    /// Label: `2024-03`, `2024-Q1` or `2024` (as the need map labels periods).
    pub fn label(&self) -> String {
        match self.period {
            Period::Month => format!(
                "{:04}-{:02}",
                self.index.div_euclid(12),
                self.index.rem_euclid(12) + 1
            ),
            Period::Quarter => format!(
                "{:04}-Q{}",
                self.index.div_euclid(4),
                self.index.rem_euclid(4) + 1
            ),
            Period::Year => format!("{:04}", self.index),
        }
    }
}

impl std::fmt::Display for PeriodKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label())
    }
}

impl Serialize for PeriodKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.label())
    }
}

/// Serialise a [`Period`] by name.
pub fn serialize_period<S: Serializer>(p: &Period, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(period_name(*p))
}

/// A range of whole days, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct DateRange {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

/// The days an extract covers: from its first to its last timed referral.
pub fn extract_range(referrals: &ReferralSet) -> Option<DateRange> {
    let mut it = referrals
        .referrals
        .iter()
        .filter_map(|r| r.received.map(|t| t.date()));
    let first = it.next()?;
    let (lo, hi) = it.fold((first, first), |(lo, hi), d| (lo.min(d), hi.max(d)));
    Some(DateRange {
        first: lo,
        last: hi,
    })
}

/// The complete periods of a range and the partly covered ones.
pub fn complete_periods(range: DateRange, period: Period) -> (Vec<PeriodKey>, Vec<PeriodKey>) {
    let mut partial = Vec::new();
    let mut first = PeriodKey::containing(range.first, period);
    if first.start() < range.first {
        partial.push(first);
        first = first.offset(1);
    }
    let mut last = PeriodKey::containing(range.last, period);
    if last.end().pred_opt().is_some_and(|d| d > range.last) {
        if partial.last() != Some(&last) {
            partial.push(last);
        }
        last = last.offset(-1);
    }
    let complete = (first.index..=last.index)
        .map(|index| PeriodKey { period, index })
        .collect();
    (complete, partial)
}

/// Referrals per area per complete period.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PeriodCounts {
    #[serde(serialize_with = "serialize_period")]
    pub period: Period,
    /// The days the extract covers (`None` when no referral has a time).
    pub range: Option<DateRange>,
    /// The complete periods, consecutive, in time order.
    pub periods: Vec<PeriodKey>,
    /// Periods the range covers only in part (their referrals are left out).
    pub partial: Vec<PeriodKey>,
    /// `counts[area][k]`: referrals of area `area` in `periods[k]`.
    pub counts: Vec<Vec<u64>>,
    /// Referrals kept by the filter but in a partly covered period.
    pub in_partial: u64,
    /// Referrals kept but without a valid time.
    pub untimed: u64,
    /// Referrals kept but outside every area.
    pub outside_areas: u64,
    /// Referrals kept but outside the range.
    pub outside_range: u64,
}

/// Count referrals (those `keep` accepts) per area and complete period.
/// `range`: the days the extract covers; by default [`extract_range`] of
/// all referrals (not only the kept ones: a client group's first referral
/// does not start the extract).
pub fn period_counts(
    n_areas: usize,
    referrals: &ReferralSet,
    period: Period,
    range: Option<DateRange>,
    keep: impl Fn(&Referral) -> bool,
) -> PeriodCounts {
    let range = range.or_else(|| extract_range(referrals));
    let (periods, partial) = match range {
        Some(r) if r.first <= r.last => complete_periods(r, period),
        _ => (Vec::new(), Vec::new()),
    };
    let mut out = PeriodCounts {
        period,
        range,
        counts: vec![vec![0; periods.len()]; n_areas],
        periods,
        partial,
        in_partial: 0,
        untimed: 0,
        outside_areas: 0,
        outside_range: 0,
    };
    let first = out.periods.first().map(|p| p.index);
    for r in &referrals.referrals {
        if !keep(r) {
            continue;
        }
        let Some(a) = r.area.filter(|a| a.index() < n_areas) else {
            out.outside_areas += 1;
            continue;
        };
        let Some(t) = r.received else {
            out.untimed += 1;
            continue;
        };
        let d = t.date();
        if range.is_none_or(|rg| d < rg.first || d > rg.last) {
            out.outside_range += 1;
            continue;
        }
        let key = PeriodKey::containing(d, period);
        match first {
            Some(f) if key.index >= f && ((key.index - f) as usize) < out.periods.len() => {
                out.counts[a.index()][(key.index - f) as usize] += 1;
            }
            _ => out.in_partial += 1,
        }
    }
    out
}

impl PeriodCounts {
    /// Number of complete periods.
    pub fn len(&self) -> usize {
        self.periods.len()
    }

    /// True when there is no complete period.
    pub fn is_empty(&self) -> bool {
        self.periods.is_empty()
    }

    /// Time of each period in years from the first (`k / periods per year`).
    pub fn times_years(&self) -> Vec<f64> {
        let ppy = periods_per_year(self.period);
        (0..self.len()).map(|k| k as f64 / ppy).collect()
    }

    /// Referrals per area over all complete periods.
    pub fn totals(&self) -> Vec<u64> {
        self.counts.iter().map(|c| c.iter().sum()).collect()
    }

    /// Referrals per period over all areas.
    pub fn region_series(&self) -> Vec<u64> {
        let mut s = vec![0; self.len()];
        for c in &self.counts {
            for (a, b) in s.iter_mut().zip(c) {
                *a += b;
            }
        }
        s
    }

    /// The first `k` complete periods only (for backtests).
    pub fn first_periods(&self, k: usize) -> PeriodCounts {
        let k = k.min(self.len());
        PeriodCounts {
            periods: self.periods[..k].to_vec(),
            counts: self.counts.iter().map(|c| c[..k].to_vec()).collect(),
            ..self.clone()
        }
    }

    /// Rates per 1,000 residents per period, by area (`None` where the
    /// population is unknown or not positive).
    pub fn rates_per_1000(&self, population: &[Option<f64>]) -> Vec<Option<Vec<f64>>> {
        self.counts
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let p = population.get(i).copied().flatten().filter(|p| *p > 0.0)?;
                Some(c.iter().map(|&n| n as f64 * 1000.0 / p).collect())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
    }

    #[test]
    fn keys_labels_and_bounds() {
        let k = PeriodKey::containing(ymd(2024, 3, 15), Period::Month);
        assert_eq!(k.label(), "2024-03");
        assert_eq!(k.start(), ymd(2024, 3, 1));
        assert_eq!(k.end(), ymd(2024, 4, 1));
        assert_eq!(k.offset(10).label(), "2025-01");
        let q = PeriodKey::containing(ymd(2024, 12, 31), Period::Quarter);
        assert_eq!(q.label(), "2024-Q4");
        assert_eq!(q.end(), ymd(2025, 1, 1));
        assert_eq!(q.days(), 92);
        let y = PeriodKey::containing(ymd(2023, 7, 1), Period::Year);
        assert_eq!((y.label(), y.days()), ("2023".to_string(), 365));
        assert!((y.mid_year() - 2023.5).abs() < 1e-12);
    }

    #[test]
    fn partly_covered_ends_are_left_out() {
        // The demo's range: Monday 2 January 2023 to Tuesday 31 December 2024.
        let r = DateRange {
            first: ymd(2023, 1, 2),
            last: ymd(2024, 12, 31),
        };
        let (m, partial) = complete_periods(r, Period::Month);
        assert_eq!(m.len(), 23);
        assert_eq!(m[0].label(), "2023-02");
        assert_eq!(m[22].label(), "2024-12");
        assert_eq!(partial.len(), 1);
        assert_eq!(partial[0].label(), "2023-01");
        let (q, _) = complete_periods(r, Period::Quarter);
        assert_eq!(
            q.iter().map(|k| k.label()).collect::<Vec<_>>(),
            ["2023-Q2", "2023-Q3", "2023-Q4", "2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"]
        );
        let (y, partial) = complete_periods(r, Period::Year);
        assert_eq!(y.iter().map(|k| k.label()).collect::<Vec<_>>(), ["2024"]);
        assert_eq!(partial[0].label(), "2023");
        // A range inside one month: that month is partial, none complete.
        let (m, partial) = complete_periods(
            DateRange {
                first: ymd(2024, 5, 3),
                last: ymd(2024, 5, 20),
            },
            Period::Month,
        );
        assert!(m.is_empty());
        assert_eq!(partial.len(), 1);
    }
}
