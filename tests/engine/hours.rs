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
                    v == "<10"
                        || v == "[c]"
                        || v.parse::<u64>().is_ok_and(|n| n >= 10 && n % 5 == 0),
                    "{path}: unprotected {v}"
                );
            }
        }
        assert!(rows > 0);
    }
    let bad = run(&["hours-gap", "--config", &cfg, "--kind", "spaceport"]);
    assert!(!bad.status.success());
    let bad = run(&[
        "hours-gap",
        "--config",
        &cfg,
        "--kind",
        "health_centre",
        "--group",
        "pirates",
    ]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("groups are"));

    // By client group (or at another threshold) only for planners: public
    // output could be differenced against the all-groups figures.
    let refused = run(&[
        "hours-gap",
        "--config",
        &cfg,
        "--kind",
        "social_work_office",
        "--group",
        "adults",
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--exact"));

    // GeoJSON of the public gap (the audited release: "[c]" where withheld).
    let gj = format!("{d}/gap.geojson");
    let out = run(&[
        "hours-gap",
        "--config",
        &cfg,
        "--kind",
        "social_work_office",
        "--geojson",
        &gj,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&gj).expect("geojson")).expect("json");
    let feats = v["features"].as_array().expect("features");
    assert_eq!(feats.len(), 150);
    for f in feats {
        let u = &f["properties"]["unmet"];
        assert!(
            u == "<10" || u == "[c]" || u.as_f64().is_some_and(|n| n >= 10.0 && n % 5.0 == 0.0),
            "unprotected {u}"
        );
    }

    // Hours-aware access: 168 hourly columns after the summary.
    let acc = format!("{d}/access.csv");
    let out = run(&[
        "hours-access",
        "--config",
        &cfg,
        "--kind",
        "social_work_office",
        "-o",
        &acc,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut rdr = csv::Reader::from_path(&acc).expect("csv");
    let headers = rdr.headers().expect("headers").clone();
    assert_eq!(headers.len(), 7 + 168);
    assert_eq!(&headers[7 + 34], "Tu_10_00-11_00");
    let mut rows = 0;
    for rec in rdr.records() {
        let rec = rec.expect("row");
        rows += 1;
        // Sunday 03:00 (slot 147): no office is open.
        let sun = &rec[7 + 147];
        assert!(sun.is_empty() || sun.parse::<f64>() == Ok(0.0), "{sun}");
        assert!(rec[4].parse::<usize>().expect("hours_none_open") >= 168 - 45);
    }
    assert_eq!(rows, 150);

    // Ranked extensions, protected.
    let ext = format!("{d}/extend.csv");
    let each = format!("{d}/extend_premises.csv");
    let out = run(&[
        "hours-extend",
        "--config",
        &cfg,
        "--kind",
        "social_work_office",
        "--limit",
        "5",
        "-o",
        &ext,
        "--premises-out",
        &each,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut rdr = csv::Reader::from_path(&ext).expect("csv");
    let mut ranks = Vec::new();
    for rec in rdr.records() {
        let rec = rec.expect("row");
        ranks.push(rec[0].to_string());
        let met = &rec[6];
        assert!(
            met == "<10" || met.parse::<u64>().is_ok_and(|n| n >= 10 && n % 5 == 0),
            "unprotected {met}"
        );
    }
    assert_eq!(ranks, ["1", "2", "3", "4", "5"]);
    assert!(
        csv::Reader::from_path(&each)
            .expect("csv")
            .records()
            .count()
            > 0
    );
}

#[test]
fn reference_week_skips_holiday_weeks() {
    use needmap::analysis::hours::reference_monday;
    // 2 January 2023 is a Scottish bank holiday (a Monday): the next week.
    assert_eq!(reference_monday(ymd(2023, 1, 1), &[]), ymd(2023, 1, 9));
    // From Wednesday 27 March 2024: Good Friday 29 March, Easter Monday is not a
    // Scottish bank holiday, so the week of 1 April is a plain week.
    assert_eq!(reference_monday(ymd(2024, 3, 27), &[]), ymd(2024, 4, 1));
    // A configured one-off holiday moves it on.
    assert_eq!(
        reference_monday(ymd(2024, 4, 1), &[ymd(2024, 4, 3)]),
        ymd(2024, 4, 8)
    );
}

/// Two areas and two offices, worked by hand. Office A (capacity 10) is open
/// Mo-Fr 09:00-17:00, office B (capacity 30) Mo-Fr 09:00-19:00. Area 1 (100
/// people) reaches both, area 2 (300 people) only B; plain 2SFCA.
#[test]
fn hours_aware_2sfca_worked_by_hand() {
    use needmap::analysis::access::{CostMatrix, Decay};
    use needmap::analysis::hours::{floating_catchment_by_hour, open_in_reach, open_slots};
    let a = hours("Mo-Fr 09:00-17:00");
    let b = hours("Mo-Fr 09:00-19:00");
    let open = open_slots(&[Some(&a), Some(&b)], ymd(2024, 8, 12));
    let costs = CostMatrix {
        n_supply: 2,
        rows: vec![vec![(0, 300.0), (1, 300.0)], vec![(1, 300.0)]],
    };
    let s = floating_catchment_by_hour(
        &[100.0, 300.0],
        &[10.0, 30.0],
        &open,
        &costs,
        None,
        &Decay::None,
    );
    // Tuesday 10:00 (slot 34): R_A = 10/100, R_B = 30/400; A_1 = 0.1 + 0.075, A_2 = 0.075.
    assert!((s[34][0].expect("a1") - 0.175).abs() < 1e-12);
    assert!((s[34][1].expect("a2") - 0.075).abs() < 1e-12);
    // Tuesday 18:00 (slot 42): only B: R_B = 30/400 for both areas.
    assert!((s[42][0].expect("a1") - 0.075).abs() < 1e-12);
    assert!((s[42][1].expect("a2") - 0.075).abs() < 1e-12);
    // Saturday noon: nothing open, scores 0 (not "no supply in reach").
    assert_eq!(s[5 * 24 + 12], vec![Some(0.0), Some(0.0)]);
    let n = open_in_reach(&costs, 600.0, &open);
    assert_eq!((n[0][34], n[0][42], n[1][34], n[0][132]), (2, 1, 1, 0));
}

#[test]
fn hours_aware_2sfca_equals_plain_2sfca_when_always_open() {
    use needmap::analysis::access::{floating_catchment, Decay};
    use needmap::analysis::hours::floating_catchment_by_hour;
    let atlas = super::demo_atlas();
    let st = atlas.kind_study("health_centre", 900.0).expect("kind");
    let open = vec![[1.0; 168]; st.idx.len()];
    let decay = Decay::e2sfca_default();
    let by_hour = floating_catchment_by_hour(
        &st.population(),
        &st.capacity(),
        &open,
        &st.costs,
        None,
        &decay,
    );
    let plain = floating_catchment(&st.population(), &st.capacity(), &st.costs, None, &decay);
    for h in [0, 50, 167] {
        assert_eq!(by_hour[h], plain, "hour {h}");
    }
}

/// The ranked extensions, checked by re-evaluating the gap from scratch: for
/// the first k picks, add each as an extra rule to its office's
/// opening_hours (`<hours>, <rule>`: an additional rule in the OSM syntax),
/// recount unmet referrals by brute force over every referral, and compare
/// the fall in unmet demand with the list's cumulative figure.
#[test]
fn ranked_extensions_meet_what_they_claim_when_the_hours_are_changed() {
    use needmap::analysis::extend::ranked_extensions;
    use needmap::analysis::hours::{holiday_calendar, unmet_demand};
    let atlas = super::demo_atlas();
    let threshold = 900.0;
    let st = atlas
        .kind_study("social_work_office", threshold)
        .expect("kind");
    let hours = st.hours();
    let unmet = unmet_demand(
        atlas.areas.len(),
        &atlas.referrals,
        &st.costs,
        threshold,
        &hours,
        |_| true,
    );
    let list = ranked_extensions(
        &unmet.by_area,
        unmet.weeks(),
        &st.costs,
        threshold,
        &st.open_slots(),
        6,
    );
    assert_eq!(list.len(), 6);
    let cal = holiday_calendar(2000, 2100, &[]);
    let brute_unmet = |texts: &[String]| -> u64 {
        let hs: Vec<Hours> = texts
            .iter()
            .map(|t| Hours::parse(t, &cal).expect("parses"))
            .collect();
        let mut n = 0;
        for r in &atlas.referrals.referrals {
            let (Some(a), Some(t)) = (r.area, r.received) else {
                continue;
            };
            let open = st.costs.rows[a.index()]
                .iter()
                .any(|&(j, c)| c <= threshold && hs[j as usize].is_open(t));
            if !open {
                n += 1;
            }
        }
        n
    };
    let mut texts: Vec<String> = hours
        .iter()
        .map(|h| h.expect("hours").text.clone())
        .collect();
    let before = brute_unmet(&texts);
    let total: u64 = unmet.by_area.iter().flatten().map(|&x| u64::from(x)).sum();
    assert_eq!(before, total, "unmet_demand equals the brute force");
    let mut cumulative = 0;
    for e in &list {
        assert!(e.referrals_covered > 0);
        assert!(e.extra_hours_per_week >= 1.0);
        let j = e.premises as usize;
        // The rule adds exactly the extra hours it claims to a plain week.
        let old = Hours::parse(&texts[j], &cal).expect("old");
        texts[j] = format!("{}, {}", texts[j], e.rule);
        let new = Hours::parse(&texts[j], &cal).expect("new");
        let plain = ymd(2023, 1, 9);
        let added: f64 = new.week_profile(plain).iter().sum::<f64>()
            - old.week_profile(plain).iter().sum::<f64>();
        assert_eq!(added, e.extra_hours_per_week, "{}", e.rule);
        cumulative += e.referrals_covered;
        assert_eq!(
            before - brute_unmet(&texts),
            cumulative,
            "after {} at office {j}",
            e.rule
        );
    }
}

#[test]
fn signpost_ranks_the_nearest_first_and_says_when_they_open() {
    use needmap::analysis::access::CostMatrix;
    use needmap::analysis::signpost::{signpost, OpenState};
    let a = hours("Mo-Fr 09:00-17:00; PH off");
    let b = hours("24/7");
    let c = hours("Sa 10:00-12:00");
    let sites = [[1000.0, 0.0], [5000.0, 0.0], [0.0, 200.0]];
    // Straight line at 30 km/h, circuity 1: 120 s, 600 s, 24 s.
    let costs = CostMatrix::straight_line(&[[0.0, 0.0]], &sites, 1.0, 30.0, 3600.0);
    // Friday 16:55 in August: A open (closes 17:00), B open, C closed until Saturday 10:00.
    let t = at("2024-08-16T16:55");
    let hits = signpost(
        &costs,
        [0.0, 0.0],
        &sites,
        &[Some(&a), Some(&b), Some(&c)],
        t,
        10,
    );
    let order: Vec<u32> = hits.iter().map(|h| h.premises).collect();
    assert_eq!(order, vec![2, 0, 1]);
    assert_eq!(hits[0].now, OpenState::Closed);
    assert_eq!(hits[0].opens_at, Some(at("2024-08-17T10:00")));
    assert_eq!(hits[0].earliest_visit, Some(at("2024-08-17T10:00")));
    assert_eq!(hits[1].now, OpenState::Open);
    assert_eq!(hits[1].closes_at, Some(at("2024-08-16T17:00")));
    // Two minutes' travel: there at 16:57, still open.
    assert_eq!(hits[1].open_on_arrival, OpenState::Open);
    assert_eq!(hits[2].now, OpenState::Open);
    assert_eq!(hits[2].closes_at, None, "24/7 never closes");
    assert!((hits[1].distance_m - 1000.0).abs() < 1e-9);
    // At 16:59 A closes before one gets there (2 min): next visit Monday 09:00.
    let late = signpost(
        &costs,
        [0.0, 0.0],
        &sites,
        &[Some(&a), Some(&b), Some(&c)],
        at("2024-08-16T16:59"),
        10,
    );
    assert_eq!(late[1].now, OpenState::Open);
    assert_eq!(late[1].open_on_arrival, OpenState::Closed);
    assert_eq!(late[1].earliest_visit, Some(at("2024-08-19T09:00")));
    // Limit.
    assert_eq!(
        signpost(&costs, [0.0, 0.0], &sites, &[None, None, None], t, 1)[0].now,
        OpenState::Unknown
    );
}
