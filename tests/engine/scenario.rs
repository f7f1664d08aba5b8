//! Scenarios: edits applied in order with errors naming the edit, measures
//! checked by hand and against a brute force, and scenarios kept in the
//! workspace store with every version.

use needmap::analysis::hours::holiday_calendar;
use needmap::analysis::scenario::{apply, Edit};
use needmap::io::scenarios::{Scenario, ScenarioStore};

#[test]
fn edits_apply_in_order_and_errors_name_the_edit() {
    let a = super::demo_atlas();
    let cal = holiday_calendar(2000, 2100, &[]);
    let first = a.premises[0].code.clone();
    let second = a.premises[1].code.clone();
    let edits = vec![
        Edit::Add {
            id: "NEW-1".into(),
            name: "New hub".into(),
            kind: "Family Hub".into(),
            lon: a.premises[0].lon,
            lat: a.premises[0].lat,
            capacity: Some(40.0),
            opening_hours: Some("Mo-Fr 09:00-19:00".into()),
            services: vec!["family_support".into()],
            provider: None,
        },
        Edit::Close { id: first.clone() },
        Edit::Move {
            id: second.clone(),
            lon: a.premises[2].lon,
            lat: a.premises[2].lat,
        },
        Edit::Hours {
            id: second.clone(),
            opening_hours: "24/7".into(),
        },
        Edit::Capacity {
            id: second.clone(),
            capacity: 999.0,
        },
    ];
    let out = apply(&a.premises, &a.hours, &edits, &cal).expect("applies");
    assert_eq!(out.premises.len(), a.premises.len());
    assert!(!out.premises.iter().any(|p| p.code == first), "closed");
    let hub = out
        .premises
        .iter()
        .find(|p| p.code == "NEW-1")
        .expect("added");
    assert_eq!(hub.kind, "family_hub");
    assert!(
        (hub.x_m - a.premises[0].x_m).abs() < 0.01 && (hub.y_m - a.premises[0].y_m).abs() < 0.01
    );
    let k = out
        .premises
        .iter()
        .position(|p| p.code == second)
        .expect("moved");
    assert!((out.premises[k].x_m - a.premises[2].x_m).abs() < 0.01);
    assert_eq!(out.premises[k].capacity, Some(999.0));
    assert_eq!(out.hours[k].as_ref().map(|h| h.text.as_str()), Some("24/7"));
    for (k, p) in out.premises.iter().enumerate() {
        assert_eq!(p.id.index(), k, "ids renumbered");
    }
    // Errors name the edit.
    let bad = |e: Vec<Edit>| {
        apply(&a.premises, &a.hours, &e, &cal)
            .err()
            .expect("an error")
    };
    assert!(bad(vec![Edit::Close { id: "NOPE".into() }]).starts_with("edit 1: no open premises"));
    let twice = vec![
        Edit::Close { id: first.clone() },
        Edit::Close { id: first.clone() },
    ];
    assert!(bad(twice).starts_with("edit 2:"));
    let e = bad(vec![Edit::Hours {
        id: second.clone(),
        opening_hours: "Mo-Fr 9-5".into(),
    }]);
    assert!(e.contains("edit 1") && e.contains("not valid"), "{e}");
    let e = bad(vec![Edit::Move {
        id: second,
        lon: 200.0,
        lat: 55.0,
    }]);
    assert!(e.contains("WGS84"), "{e}");
}

#[test]
fn measures_equal_a_brute_force_and_improve_when_premises_are_added() {
    use needmap::analysis::access::representative_point;
    let a = super::demo_atlas();
    let base = a.apply_edits(&[]).expect("baseline");
    let t = 600.0;
    let m = a.measure_kind(&base, "social_work_office", t);
    // Brute force coverage: travel from each area's point to every office through the same engine.
    let (travel, params) = a.travel();
    let offices: Vec<[f64; 2]> = a
        .premises
        .iter()
        .filter(|p| p.kind == "social_work_office")
        .map(|p| [p.x_m, p.y_m])
        .collect();
    let points: Vec<[f64; 2]> = a
        .areas
        .iter()
        .map(|x| representative_point(&x.geometry).expect("point"))
        .collect();
    let costs = travel.matrix(&points, &offices, &params, t);
    let pop: f64 = a.areas.iter().filter_map(|x| x.population).sum();
    let covered: f64 = a
        .areas
        .iter()
        .enumerate()
        .filter(|(i, _)| costs.rows[*i].iter().any(|(_, c)| *c <= t))
        .map(|(_, x)| x.population.unwrap_or(0.0))
        .sum();
    let cov = m.overall.coverage.expect("coverage");
    assert!(
        (cov - covered / pop).abs() < 1e-12,
        "{cov} vs {}",
        covered / pop
    );
    let q_pop: f64 = m.by_quintile.iter().map(|q| q.population).sum();
    assert!(
        (q_pop - pop).abs() < 1e-6,
        "quintiles partition the population"
    );
    assert!(m.overall.mean_travel_s.expect("mean") <= m.overall.p95_travel_s.expect("p95"));
    // An office at every uncovered area's point covers everything.
    let adds: Vec<Edit> = a
        .areas
        .iter()
        .enumerate()
        .filter(|(i, _)| !m.area_covered[*i])
        .map(|(i, x)| {
            let (lon, lat) =
                needmap::spatial::crs::bng_to_wgs84(points[i][0], points[i][1]).expect("lon/lat");
            Edit::Add {
                id: format!("X-{}", x.code),
                name: "added".into(),
                kind: "social_work_office".into(),
                lon,
                lat,
                capacity: None,
                opening_hours: Some("24/7".into()),
                services: Vec::new(),
                provider: None,
            }
        })
        .collect();
    assert!(!adds.is_empty());
    let more = a.apply_edits(&adds).expect("edits");
    let m2 = a.measure_kind(&more, "social_work_office", t);
    assert_eq!(m2.overall.coverage, Some(1.0));
    assert!(m2.overall.mean_travel_s < m.overall.mean_travel_s);
    assert!(
        m2.overall.unmet < m.overall.unmet,
        "24/7 offices meet more referrals"
    );
    assert_eq!(m2.overall.timed, m.overall.timed);
}

#[test]
fn scenarios_are_kept_in_the_store_with_their_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = super::demo_atlas().config.clone();
    let gpkg = dir.path().join("store.gpkg");
    cfg.store.path = Some(gpkg.clone());
    let store = ScenarioStore::new(&cfg);
    let s = |name: &str, n: usize| Scenario {
        name: name.into(),
        description: Some(format!("{n} closures")),
        edits: (0..n)
            .map(|k| Edit::Close {
                id: format!("P{k}"),
            })
            .collect(),
        updated: None,
    };
    // Nothing stored yet: an empty list, and no store file made by reading.
    assert_eq!(store.list(), (vec![], vec![]));
    assert!(!gpkg.exists());
    store.put(&s("alpha", 2), "pat").expect("saved");
    store.put(&s("beta", 3), "kim").expect("saved");
    let (all, problems) = store.list();
    assert_eq!(
        all.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(),
        ["alpha", "beta"]
    );
    assert!(problems.is_empty());
    // A damaged stored scenario is reported by name, the others still listed.
    let conn = rusqlite::Connection::open(&gpkg).expect("open");
    conn.execute(
        "INSERT INTO needmap_scenarios (name, body, user, at) VALUES ('broken', 'not json', 'x', 'now')",
        [],
    )
    .expect("insert");
    let (all, problems) = store.list();
    assert_eq!(all.len(), 2);
    assert!(problems[0].contains("broken"), "{problems:?}");
    // Replace and delete; every version stays in the store.
    store.put(&s("beta", 1), "pat").expect("replaced");
    assert_eq!(
        store.get("beta").expect("read").expect("some").edits.len(),
        1
    );
    assert_eq!(store.get("alpha").expect("read"), Some(s("alpha", 2)));
    assert!(store.delete("beta", "pat").expect("deleted"));
    assert!(!store.delete("beta", "pat").expect("gone"));
    assert_eq!(store.get("beta").expect("read"), None);
    let versions: i64 = conn
        .query_row(
            "SELECT count(*) FROM needmap_scenarios WHERE name = 'beta'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(versions, 3, "two saves and a deletion, each kept");
    assert!(
        store.get("../etc").is_err(),
        "names are checked before the store is asked"
    );
    assert!(store.put(&s("baseline", 0), "pat").is_err());
}
