//! Opening hours: hand-checked weekly schedules, Scotland's bank holidays as
//! PH, times across both clock changes, and invalid syntax reported by premises.

use chrono::{NaiveDate, NaiveDateTime};
use needmap::analysis::hours::{holiday_calendar, hour_of_week, Hours};
use needmap::io::referrals::parse_time;
use needmap::io::report::Severity;

use super::{expect_diag, load_toml};

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").expect("date-time")
}

fn hours(text: &str) -> Hours {
    Hours::parse(text, &holiday_calendar(2020, 2030, &[])).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Expected 168-hour profile from (day 0 = Monday, from hour, to hour) runs of whole open hours.
fn profile(runs: &[(usize, usize, usize)]) -> [f64; 168] {
    let mut p = [0.0; 168];
    for &(day, from, to) in runs {
        for h in from..to {
            p[day * 24 + h] = 1.0;
        }
    }
    p
}

#[test]
fn office_hours_with_a_bank_holiday_off() {
    let h = hours("Mo-Fr 09:00-17:00; PH off");
    // An ordinary week (Monday 12 August 2024): 9-17 on each weekday.
    let ordinary = profile(&[(0, 9, 17), (1, 9, 17), (2, 9, 17), (3, 9, 17), (4, 9, 17)]);
    assert_eq!(h.week_profile(ymd(2024, 8, 12)), ordinary);
    // The week of Scotland's summer bank holiday (Monday 5 August 2024): Monday closed.
    let holiday = profile(&[(1, 9, 17), (2, 9, 17), (3, 9, 17), (4, 9, 17)]);
    assert_eq!(h.week_profile(ymd(2024, 8, 5)), holiday);
    assert!(!h.is_open(at("2024-08-05T10:00")));
    assert!(h.is_open(at("2024-08-06T10:00")));
    // St Andrew's Day 2024 fell on a Saturday: the holiday is Monday 2 December.
    assert!(!h.is_open(at("2024-12-02T10:00")));
    // England's August bank holiday (26 August 2024) is an ordinary day in Scotland.
    assert!(h.is_open(at("2024-08-26T10:00")));
    // Next opening after Friday evening is Monday morning.
    assert_eq!(
        h.next_change(at("2024-08-16T18:00")),
        Some(at("2024-08-19T09:00"))
    );
}

#[test]
fn always_open_split_shifts_and_overnight() {
    assert_eq!(hours("24/7").week_profile(ymd(2024, 8, 12)), [1.0; 168]);
    // Split shift on Mondays: 09:00-12:00 and 13:30-17:00 (half of the 13:00 hour).
    let split = hours("Mo 09:00-12:00,13:30-17:00").week_profile(ymd(2024, 8, 12));
    let mut want = profile(&[(0, 9, 12), (0, 14, 17)]);
    want[13] = 0.5;
    assert_eq!(split, want);
    // Overnight: Friday 22:00 to Saturday 02:00.
    let night = hours("Fr 22:00-02:00").week_profile(ymd(2024, 8, 12));
    assert_eq!(night, profile(&[(4, 22, 24), (5, 0, 2)]));
    // Quarter hours are counted as shares of the hour.
    let q = hours("Tu 08:45-09:15").week_profile(ymd(2024, 8, 12));
    assert_eq!((q[24 + 8], q[24 + 9]), (0.25, 0.25));
}

#[test]
fn configured_extra_holidays_close_ph_premises() {
    let cal = holiday_calendar(2020, 2030, &[ymd(2023, 5, 8)]);
    let h = Hours::parse("Mo-Fr 09:00-17:00; PH off", &cal).expect("parses");
    assert!(
        !h.is_open(at("2023-05-08T10:00")),
        "the coronation bank holiday, added in the workspace"
    );
    let plain = hours("Mo-Fr 09:00-17:00; PH off");
    assert!(
        plain.is_open(at("2023-05-08T10:00")),
        "not a holiday by rule"
    );
}

#[test]
fn referral_times_cross_both_clock_changes() {
    // Spring 2024: clocks went forward at 01:00 GMT on 31 March.
    assert_eq!(
        parse_time("2024-03-31T00:30:00Z"),
        Some(at("2024-03-31T00:30"))
    );
    assert_eq!(
        parse_time("2024-03-31T01:30:00Z"),
        Some(at("2024-03-31T02:30"))
    );
    // Autumn 2024: clocks went back at 01:00 GMT on 27 October; 01:xx local happens twice.
    assert_eq!(
        parse_time("2024-10-27T00:30:00Z"),
        Some(at("2024-10-27T01:30"))
    );
    assert_eq!(
        parse_time("2024-10-27T01:30:00Z"),
        Some(at("2024-10-27T01:30"))
    );
    assert_eq!(
        parse_time("2024-10-27T02:30:00Z"),
        Some(at("2024-10-27T02:30"))
    );
    // Summer time: 13:00 UTC is 14:00 in the UK; winter: the same.
    assert_eq!(
        parse_time("2024-07-01T13:00:00Z"),
        Some(at("2024-07-01T14:00"))
    );
    assert_eq!(
        parse_time("2024-01-15T13:00:00Z"),
        Some(at("2024-01-15T13:00"))
    );
    // Times without a zone are UK local already.
    assert_eq!(
        parse_time("2024-07-01T13:00:00"),
        Some(at("2024-07-01T13:00"))
    );
    // The hour of the week follows local time: Sunday 31 March 2024, 02:30 BST.
    assert_eq!(hour_of_week(&at("2024-03-31T02:30")), 6 * 24 + 2);
}

#[test]
fn invalid_opening_hours_name_the_premises_and_the_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let areas = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"A"},"geometry":{"type":"Polygon","coordinates":[[[-3.2,55.9],[-3.1,55.9],[-3.1,56.0],[-3.2,56.0],[-3.2,55.9]]]}}]}"#;
    let prem = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"premises_id":"P1","name":"Good","kind":"office","opening_hours":"Mo-Fr 09:00-17:00"},"geometry":{"type":"Point","coordinates":[-3.15,55.95]}},
      {"type":"Feature","properties":{"premises_id":"P2","name":"Typo House","kind":"office","opening_hours":"Mo-Fr 09:00-17:00; Sa 25:00-26:00 banana"},"geometry":{"type":"Point","coordinates":[-3.16,55.95]}}]}"#;
    std::fs::write(dir.path().join("areas.geojson"), areas).expect("write");
    std::fs::write(dir.path().join("premises.geojson"), prem).expect("write");
    let err = load_toml(
        dir.path(),
        "[areas]\npath = \"areas.geojson\"\nid = \"code\"\n[[premises]]\npath = \"premises.geojson\"\n",
    )
    .err()
    .expect("bad hours stop the load");
    let d = expect_diag(
        &err,
        Severity::Error,
        "premises.geojson",
        Some("P2"),
        &["opening_hours", "banana"],
    );
    assert!(d
        .record
        .as_deref()
        .is_some_and(|r| r.contains("Typo House")));
    // The parser's message gives the position (line and column) in the string.
    assert!(d.problem.contains("1:"), "no position in: {}", d.problem);
    assert_eq!(
        err.error_count(),
        1,
        "only the bad premises is reported:\n{err}"
    );
}

#[test]
fn hours_gap_per_area_and_premises_equals_brute_force_over_every_referral() {
    use needmap::analysis::access::{nearest_by_cost, representative_point, CostMatrix};
    use needmap::analysis::hours::{demand_profile, hours_gaps};
    let atlas = super::demo_atlas();
    let idx: Vec<usize> = (0..atlas.premises.len())
        .filter(|&j| atlas.premises[j].kind == "social_work_office")
        .collect();
    let sites: Vec<[f64; 2]> = idx
        .iter()
        .map(|&j| [atlas.premises[j].x_m, atlas.premises[j].y_m])
        .collect();
    let hours: Vec<Option<&Hours>> = idx.iter().map(|&j| atlas.hours[j].as_ref()).collect();
    assert!(
        hours.iter().all(Option::is_some),
        "every demo office has hours"
    );
    let points: Vec<[f64; 2]> = atlas
        .areas
        .iter()
        .map(|a| representative_point(&a.geometry).expect("point"))
        .collect();
    let threshold = 600.0;
    let costs = CostMatrix::straight_line(&points, &sites, 1.3, 30.0, 1800.0);
    let gaps = hours_gaps(
        atlas.areas.len(),
        &atlas.referrals,
        &costs,
        threshold,
        &hours,
        |_| true,
    );

    // Brute force: every referral, every premises, OpeningHours::is_open.
    let nearest = nearest_by_cost(&costs);
    let mut area_timed = vec![0u64; atlas.areas.len()];
    let mut area_unmet = vec![0u64; atlas.areas.len()];
    let mut prem_timed = vec![0u64; sites.len()];
    let mut prem_unmet = vec![0u64; sites.len()];
    for r in &atlas.referrals.referrals {
        let (Some(a), Some(t)) = (r.area, r.received) else {
            continue;
        };
        let i = a.index();
        area_timed[i] += 1;
        let open = (0..sites.len()).any(|j| {
            costs.get(i, j as u32).is_some_and(|c| c <= threshold)
                && hours[j].expect("hours").is_open(t)
        });
        if !open {
            area_unmet[i] += 1;
        }
        if let Some((j, _)) = nearest[i] {
            prem_timed[j as usize] += 1;
            if !hours[j as usize].expect("hours").is_open(t) {
                prem_unmet[j as usize] += 1;
            }
        }
    }
    for i in 0..atlas.areas.len() {
        assert_eq!(
            (gaps.by_area[i].timed, gaps.by_area[i].unmet),
            (area_timed[i], area_unmet[i]),
            "area {i}"
        );
    }
    for j in 0..sites.len() {
        assert_eq!(
            (gaps.by_premises[j].timed, gaps.by_premises[j].unmet),
            (prem_timed[j], prem_unmet[j]),
            "premises {j}"
        );
    }
    // The demo's evening and weekend referrals leave a real gap, and the per-area totals add up.
    let unmet: u64 = gaps.by_area.iter().map(|g| g.unmet).sum();
    let timed: u64 = gaps.by_area.iter().map(|g| g.timed).sum();
    assert!(unmet > 0 && unmet < timed, "{unmet} of {timed}");
    let profile = demand_profile(&atlas.referrals, |r| r.area.is_some());
    assert_eq!(
        profile.iter().sum::<u64>(),
        timed,
        "the week profile counts every timed referral once"
    );
}

#[test]
fn hours_gap_command_writes_protected_tables() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = env!("CARGO_BIN_EXE_needmap");
    let d = dir.path().to_str().expect("utf-8 path");
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .args(args)
            .output()
            .expect("runs")
    };
    assert!(run(&[
        "demo",
        "--out",
        d,
        "--areas",
        "150",
        "--referrals",
        "3000",
        "--seed",
        "5"
    ])
    .status
    .success());
    let cfg = format!("{d}/needmap.toml");
    let (areas_csv, prem_csv) = (format!("{d}/gap.csv"), format!("{d}/gap_premises.csv"));
    let out = run(&[
        "hours-gap",
        "--config",
        &cfg,
        "--kind",
        "health_centre",
        "-o",
        &areas_csv,
        "--premises-out",
        &prem_csv,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("timed referrals"));
    for (path, cols) in [(&areas_csv, vec![2usize, 3]), (&prem_csv, vec![3, 4])] {
        let mut rdr = csv::Reader::from_path(path).expect("csv");
        let mut rows = 0;
        for rec in rdr.records() {
            let rec = rec.expect("row");
            rows += 1;
            for &c in &cols {
                let v = &rec[c];
                assert!(
                    v == "<10" || v.parse::<u64>().is_ok_and(|n| n >= 10 && n % 5 == 0),
                    "{path}: unprotected {v}"
                );
            }
        }
        assert!(rows > 0);
    }
    let bad = run(&["hours-gap", "--config", &cfg, "--kind", "spaceport"]);
    assert!(!bad.status.success());
}
