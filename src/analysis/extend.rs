//! Recommended extensions of opening hours: which extra hours, at which
//! premises, would meet the most demand that now arrives when nothing in
//! reach is open, per extra hour opened.
//!
//! The unmet demand is [`super::hours::UnmetDemand`]: timed referrals counted
//! by area and hour of the week (Monday 00:00 = slot 0) that arrived when no
//! premises of the kind within the travel threshold was open. An extension
//! opens premises `j` for whole hours `[start, end)` on a group of days (every
//! weekday, one weekday, Saturday, Sunday) when it is closed for all of those
//! hours in a typical week; it covers the unmet referrals of areas within the
//! threshold of `j` whose hour of the week falls in it. Candidates are 1 to
//! [`MAX_HOURS`] hours long, lie between 07:00 and 22:00, and either touch the
//! premises' present hours on each of the days or fill a day on which it is
//! closed all day (a Saturday morning). Extensions are weekly rules: a
//! referral on a public holiday counts as covered by the rule for its weekday.
//!
//! - [`best_per_premises`]: each premises' best extensions on their own.
//! - [`ranked_extensions`]: a ranked list across the region, built greedily:
//!   each step takes the extension with the most still-uncovered referrals
//!   per extra hour, then counts those referrals as covered and the hours as
//!   open, so the list never counts a referral twice and its cumulative
//!   column is what the first `k` changes together would cover.

use serde::Serialize;

use super::access::CostMatrix;

/// Longest extension considered, hours a day.
pub const MAX_HOURS: u8 = 4;
const EARLIEST: u8 = 7;
const LATEST: u8 = 22;

/// Day groups an extension can apply to: bit 0 = Monday ... bit 6 = Sunday.
const DAY_GROUPS: [(u8, &str); 9] = [
    (0b001_1111, "Mo-Fr"),
    (0b000_1111, "Mo-Th"),
    (0b000_0001, "Mo"),
    (0b000_0010, "Tu"),
    (0b000_0100, "We"),
    (0b000_1000, "Th"),
    (0b001_0000, "Fr"),
    (0b010_0000, "Sa"),
    (0b100_0000, "Su"),
];

/// One proposed extension of one premises' hours.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Extension {
    /// Index of the premises among those given.
    pub premises: u32,
    /// The extra opening as an OSM `opening_hours` rule, e.g. `Mo-Fr 18:00-20:00`.
    pub rule: String,
    /// Days as a bit mask (bit 0 = Monday).
    pub days: u8,
    pub start_hour: u8,
    pub end_hour: u8,
    pub extra_hours_per_week: f64,
    /// Unmet referrals it covers over the whole period (in a ranked list, only
    /// those not covered by an extension ranked above it).
    pub referrals_covered: u64,
    /// The same per week of the period.
    pub covered_per_week: f64,
    /// Covered referrals per week for each extra weekly hour opened.
    pub covered_per_extra_hour: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Candidate {
    group: usize,
    start: u8,
    end: u8,
}

fn days_of(mask: u8) -> impl Iterator<Item = usize> {
    (0..7).filter(move |d| mask & (1 << d) != 0)
}

/// Candidate extensions of a premises with this typical-week open profile.
fn candidates(open: &[f64; 168]) -> Vec<Candidate> {
    let mut out = Vec::new();
    for (group, &(mask, _)) in DAY_GROUPS.iter().enumerate() {
        let closed_all_day: Vec<(usize, bool)> = days_of(mask)
            .map(|d| (d, open[d * 24..d * 24 + 24].iter().all(|&x| x == 0.0)))
            .collect();
        for start in EARLIEST..LATEST {
            for len in 1..=MAX_HOURS {
                let end = start + len;
                if end > LATEST {
                    break;
                }
                let all_closed = closed_all_day
                    .iter()
                    .all(|&(d, _)| (start..end).all(|h| open[d * 24 + usize::from(h)] == 0.0));
                if !all_closed {
                    // A longer block from the same start would overlap opening too.
                    break;
                }
                let fits = closed_all_day.iter().all(|&(d, whole)| {
                    let before = open[d * 24 + usize::from(start) - 1] > 0.0;
                    let after = end < 24 && open[d * 24 + usize::from(end)] > 0.0;
                    whole || before || after
                });
                if fits {
                    out.push(Candidate { group, start, end });
                }
            }
        }
    }
    out
}

/// Everything the search needs: reach lists and still-uncovered counts.
struct State {
    /// Areas within the threshold of each premises.
    reach: Vec<Vec<u32>>,
    /// Premises within the threshold of each area.
    reach_of_area: Vec<Vec<u32>>,
    /// Uncovered unmet referrals by area and slot.
    uncovered: Vec<[u32; 168]>,
    /// Σ over the areas in reach of each premises of `uncovered`.
    count: Vec<[u64; 168]>,
}

impl State {
    fn new(unmet: &[[u32; 168]], costs: &CostMatrix, threshold_s: f64) -> State {
        let mut reach = vec![Vec::new(); costs.n_supply];
        let mut reach_of_area = vec![Vec::new(); unmet.len()];
        for (i, row) in costs.rows.iter().enumerate() {
            for &(j, c) in row {
                if c <= threshold_s {
                    reach[j as usize].push(i as u32);
                    reach_of_area[i].push(j);
                }
            }
        }
        let count = reach
            .iter()
            .map(|areas| {
                let mut n = [0u64; 168];
                for &i in areas {
                    for (h, v) in n.iter_mut().enumerate() {
                        *v += u64::from(unmet[i as usize][h]);
                    }
                }
                n
            })
            .collect();
        State {
            reach,
            reach_of_area,
            uncovered: unmet.to_vec(),
            count,
        }
    }

    fn gain(&self, j: usize, c: &Candidate) -> u64 {
        days_of(DAY_GROUPS[c.group].0)
            .flat_map(|d| (c.start..c.end).map(move |h| d * 24 + usize::from(h)))
            .map(|s| self.count[j][s])
            .sum()
    }

    /// Count the referrals `c` at `j` covers as covered.
    fn apply(&mut self, j: usize, c: &Candidate) {
        let slots: Vec<usize> = days_of(DAY_GROUPS[c.group].0)
            .flat_map(|d| (c.start..c.end).map(move |h| d * 24 + usize::from(h)))
            .collect();
        for &i in &self.reach[j] {
            let i = i as usize;
            for &s in &slots {
                let n = std::mem::take(&mut self.uncovered[i][s]);
                if n > 0 {
                    for &k in &self.reach_of_area[i] {
                        self.count[k as usize][s] -= u64::from(n);
                    }
                }
            }
        }
    }
}

fn extension(j: usize, c: &Candidate, covered: u64, weeks: f64) -> Extension {
    let (mask, label) = DAY_GROUPS[c.group];
    let extra = f64::from(mask.count_ones()) * f64::from(c.end - c.start);
    let per_week = covered as f64 / weeks;
    Extension {
        premises: j as u32,
        rule: format!("{label} {:02}:00-{:02}:00", c.start, c.end),
        days: mask,
        start_hour: c.start,
        end_hour: c.end,
        extra_hours_per_week: extra,
        referrals_covered: covered,
        covered_per_week: per_week,
        covered_per_extra_hour: per_week / extra,
    }
}

/// Better by covered-per-hour, then by covered, then earlier in the search order.
fn better(gain: u64, extra: f64, best: Option<(u64, f64)>) -> bool {
    match best {
        None => gain > 0,
        Some((bg, be)) => {
            let (a, b) = (gain as f64 / extra, bg as f64 / be);
            a > b || (a == b && gain > bg)
        }
    }
}

/// Each premises' best `k` extensions on their own (no interaction between
/// premises), ranked within the premises; premises with no open hours known
/// get none. `open[j]` is premises `j`'s typical-week profile, `unmet` the
/// unmet demand by area and slot over `weeks` weeks.
pub fn best_per_premises(
    unmet: &[[u32; 168]],
    weeks: f64,
    costs: &CostMatrix,
    threshold_s: f64,
    open: &[[f64; 168]],
    k: usize,
) -> Vec<Vec<Extension>> {
    let state = State::new(unmet, costs, threshold_s);
    open.iter()
        .enumerate()
        .map(|(j, profile)| {
            if profile.iter().all(|&x| x == 0.0) {
                return Vec::new();
            }
            let mut scored: Vec<(Candidate, u64, f64)> = candidates(profile)
                .into_iter()
                .map(|c| {
                    let extra =
                        f64::from(DAY_GROUPS[c.group].0.count_ones()) * f64::from(c.end - c.start);
                    (c, state.gain(j, &c), extra)
                })
                .filter(|x| x.1 > 0)
                .collect();
            scored.sort_by(|a, b| {
                (b.1 as f64 / b.2)
                    .total_cmp(&(a.1 as f64 / a.2))
                    .then(b.1.cmp(&a.1))
            });
            scored
                .into_iter()
                .take(k)
                .map(|(c, g, _)| extension(j, &c, g, weeks))
                .collect()
        })
        .collect()
}

/// The ranked list across the region (see the module docs): up to `limit`
/// extensions, stopping early when none covers anything more.
pub fn ranked_extensions(
    unmet: &[[u32; 168]],
    weeks: f64,
    costs: &CostMatrix,
    threshold_s: f64,
    open: &[[f64; 168]],
    limit: usize,
) -> Vec<Extension> {
    let mut state = State::new(unmet, costs, threshold_s);
    let mut profiles: Vec<[f64; 168]> = open.to_vec();
    let known: Vec<bool> = open.iter().map(|p| p.iter().any(|&x| x > 0.0)).collect();
    let mut out = Vec::new();
    while out.len() < limit {
        let mut best: Option<(usize, Candidate, u64, f64)> = None;
        for (j, profile) in profiles.iter().enumerate() {
            if !known[j] {
                continue;
            }
            for c in candidates(profile) {
                let extra =
                    f64::from(DAY_GROUPS[c.group].0.count_ones()) * f64::from(c.end - c.start);
                let g = state.gain(j, &c);
                if better(g, extra, best.map(|b| (b.2, b.3))) {
                    best = Some((j, c, g, extra));
                }
            }
        }
        let Some((j, c, g, _)) = best else {
            break;
        };
        state.apply(j, &c);
        for d in days_of(DAY_GROUPS[c.group].0) {
            for h in c.start..c.end {
                profiles[j][d * 24 + usize::from(h)] = 1.0;
            }
        }
        out.push(extension(j, &c, g, weeks));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weekday_office() -> [f64; 168] {
        let mut p = [0.0; 168];
        for d in 0..5 {
            for h in 9..17 {
                p[d * 24 + h] = 1.0;
            }
        }
        p
    }

    #[test]
    fn candidates_touch_the_hours_or_fill_a_closed_day() {
        let c = candidates(&weekday_office());
        let rules: Vec<String> = c
            .iter()
            .map(|c| format!("{} {}-{}", DAY_GROUPS[c.group].1, c.start, c.end))
            .collect();
        assert!(rules.contains(&"Mo-Fr 17-19".to_string()));
        assert!(rules.contains(&"Mo-Fr 7-9".to_string()));
        assert!(rules.contains(&"We 17-21".to_string()));
        assert!(rules.contains(&"Sa 10-13".to_string()));
        // Not touching the hours on a day with opening: no.
        assert!(!rules.contains(&"Mo-Fr 18-20".to_string()));
        // Longer than the limit, or past 22:00: no.
        assert!(!rules.contains(&"Mo-Fr 17-22".to_string()));
        assert!(!rules.iter().any(|r| r.ends_with("-23")));
    }

    #[test]
    fn greedy_takes_the_best_ratio_and_never_counts_twice() {
        // One area, two offices in reach, both 9-17 on weekdays. Unmet: 10
        // referrals on Monday 17-18, 30 on Saturday 10-11.
        let mut unmet = vec![[0u32; 168]];
        unmet[0][17] = 10;
        unmet[0][5 * 24 + 10] = 30;
        let costs = CostMatrix {
            n_supply: 2,
            rows: vec![vec![(0, 60.0), (1, 60.0)]],
        };
        let open = vec![weekday_office(), weekday_office()];
        let list = ranked_extensions(&unmet, 2.0, &costs, 600.0, &open, 10);
        // Saturday 10:00-11:00 at office 0: 30 referrals for 1 hour.
        assert_eq!(list[0].rule, "Sa 10:00-11:00");
        assert_eq!((list[0].premises, list[0].referrals_covered), (0, 30));
        assert_eq!(list[0].covered_per_extra_hour, 15.0);
        // Then Monday 17:00-18:00 at office 0: 10 for 1 hour.
        assert_eq!(list[1].rule, "Mo 17:00-18:00");
        assert_eq!(list[1].referrals_covered, 10);
        // Nothing left for office 1.
        assert_eq!(list.len(), 2);
        let each = best_per_premises(&unmet, 2.0, &costs, 600.0, &open, 3);
        assert_eq!(each[1][0].rule, "Sa 10:00-11:00");
    }
}
