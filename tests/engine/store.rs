//! One test suite for every store backend: the GeoPackage file always, and
//! PostgreSQL/PostGIS (built with `--features postgis`) when
//! `NEEDMAP_TEST_PG_URL` names a database; on CI with the feature the
//! database must be there (scripts/test starts one from Debian's packages).

use needmap::io::store::{Put, Store, UploadStore, RESET};
use needmap::privacy::audit::verify_records;

/// The suite, given two handles on the same store (as two servers would have).
fn suite(a: &mut dyn UploadStore, b: &mut dyn UploadStore, tag: &str) {
    let k1 = format!("{tag}-k1");
    // Stored once per key; a retry is the first upload; other content under the key is refused.
    let first = match a
        .put("referrals", Some(&k1), b"x,y\n1,2\n", 1, "sam", &[])
        .expect("put")
    {
        Put::Stored(u) => u,
        other => panic!("{other:?}"),
    };
    match b
        .put("referrals", Some(&k1), b"x,y\n1,2\n", 1, "sam", &[])
        .expect("retry")
    {
        Put::Replayed(u) => assert_eq!(u, first),
        other => panic!("{other:?}"),
    }
    assert!(b
        .put("referrals", Some(&k1), b"x,y\n9,9\n", 1, "sam", &[])
        .is_err());
    // Without a key each upload is new; the newest is current, on either handle.
    let second = match b
        .put("referrals", None, b"x,y\n3,4\n5,6\n", 2, "sam", &[])
        .expect("put")
    {
        Put::Stored(u) => u,
        other => panic!("{other:?}"),
    };
    let (cur, content) = a.current("referrals").expect("current").expect("some");
    assert_eq!(cur, second);
    assert_eq!(content, b"x,y\n3,4\n5,6\n");
    assert!(a.current("premises").expect("current").is_none());
    let all = a.uploads().expect("uploads");
    let mine: Vec<_> = all
        .iter()
        .filter(|(u, _)| u.id == first.id || u.id == second.id)
        .collect();
    assert_eq!(mine.len(), 2);
    assert!(all.iter().all(|(_, whole)| *whole));
    // Premises edits: compare and set, across handles.
    let id = format!("{tag}-P1");
    assert_eq!(a.premises_version(&id).expect("v"), 0);
    let e1 = serde_json::json!({"capacity": 50.0});
    let e2 = serde_json::json!({"opening_hours": "Mo-Fr 08:00-18:00", "lon": -3.2, "lat": 55.95});
    assert_eq!(a.edit_premises(&id, 0, &e1, "pat").expect("edit"), Ok(1));
    assert_eq!(b.edit_premises(&id, 0, &e2, "kim").expect("edit"), Err(1));
    assert_eq!(b.edit_premises(&id, 1, &e2, "kim").expect("edit"), Ok(2));
    assert_eq!(a.premises_version(&id).expect("v"), 2);
    let edits: Vec<_> = b
        .premises_edits()
        .expect("edits")
        .into_iter()
        .filter(|e| e.0 == id)
        .collect();
    assert_eq!(
        edits,
        vec![(id.clone(), 1, e1.clone()), (id.clone(), 2, e2)]
    );

    // An upload of a premises layer supersedes earlier edits of its premises:
    // each gets a reset version in the same transaction, so an ETag read
    // before the upload no longer matches.
    let g0 = a.generation().expect("generation");
    let layer = match b
        .put(
            "premises:sites",
            None,
            b"{}",
            1,
            "sam",
            std::slice::from_ref(&id),
        )
        .expect("put layer")
    {
        Put::Stored(u) => u,
        other => panic!("{other:?}"),
    };
    assert_eq!(a.premises_version(&id).expect("v"), 3);
    assert_eq!(a.edit_premises(&id, 2, &e1, "pat").expect("edit"), Err(3));
    let last = b
        .premises_edits()
        .expect("edits")
        .into_iter()
        .rfind(|e| e.0 == id);
    assert_eq!(
        last,
        Some((id.clone(), 3, serde_json::json!({ RESET: layer.id })))
    );
    // The generation grows with every upload and edit, seen from either handle.
    let g1 = a.generation().expect("generation");
    assert!(g1.0 > g0.0 && g1.1 > g0.1, "{g0:?} -> {g1:?}");

    // Scenarios: saved, replaced, deleted; each handle sees the other's.
    let sc = format!("{tag}-plan");
    assert!(!a
        .scenario_put(&sc, Some(r#"{"v":1}"#), "pat")
        .expect("save"));
    assert!(b
        .scenario_put(&sc, Some(r#"{"v":2}"#), "kim")
        .expect("replace"));
    let listed = a.scenario_list().expect("list");
    assert_eq!(
        listed
            .iter()
            .find(|(n, _)| n == &sc)
            .map(|(_, b)| b.as_str()),
        Some(r#"{"v":2}"#)
    );
    assert!(a.scenario_put(&sc, None, "pat").expect("delete"));
    assert!(!b.scenario_put(&sc, None, "kim").expect("delete again"));
    assert!(b
        .scenario_list()
        .expect("list")
        .iter()
        .all(|(n, _)| n != &sc));

    // The audit trail holds every change above, chained, with who made it.
    let trail = b.audit_trail().expect("trail");
    verify_records(trail.clone()).expect("the chain verifies");
    let has = |f: &dyn Fn(&serde_json::Value) -> bool| trail.iter().any(f);
    assert!(has(&|r| r["action"] == "upload"
        && r["upload"] == first.id
        && r["user"] == "sam"));
    assert!(has(&|r| r["action"] == "upload"
        && r["upload"] == layer.id
        && r["superseded_edits_of"] == 1));
    assert!(has(&|r| r["action"] == "premises_edit"
        && r["premises_id"] == id.as_str()
        && r["version"] == 2
        && r["user"] == "kim"));
    let scen: Vec<&str> = trail
        .iter()
        .filter(|r| r["scenario"] == sc.as_str())
        .filter_map(|r| r["action"].as_str())
        .collect();
    assert_eq!(scen, ["scenario_save", "scenario_save", "scenario_delete"]);
    // A replayed upload and a refused edit change nothing, so are not in the trail.
    assert_eq!(
        trail
            .iter()
            .filter(|r| r["action"] == "upload" && r["upload"] == first.id)
            .count(),
        1
    );
    // Any alteration breaks the chain, and the error names the record.
    let mut forged = trail.clone();
    let k = forged.len() - 2;
    forged[k]["user"] = serde_json::json!("mallory");
    let e = verify_records(forged).expect_err("forgery detected");
    assert!(e.contains(&format!("record {}", k + 1)), "{e}");
}

/// Appends from two handles at once (as two servers would) keep one unbroken chain.
fn concurrent_audit(mut a: Box<dyn UploadStore>, mut b: Box<dyn UploadStore>) {
    let before = a.audit_trail().expect("trail").len();
    let ta = std::thread::spawn(move || {
        for k in 0..20 {
            a.append_audit(serde_json::json!({"action": "test", "from": "a", "k": k}))
                .expect("append");
        }
        a
    });
    let tb = std::thread::spawn(move || {
        for k in 0..20 {
            b.append_audit(serde_json::json!({"action": "test", "from": "b", "k": k}))
                .expect("append");
        }
        b
    });
    let mut a = ta.join().expect("thread a");
    tb.join().expect("thread b");
    let trail = a.audit_trail().expect("trail");
    assert!(trail.len() >= before + 40);
    verify_records(trail).expect("one unbroken chain");
}

#[test]
fn the_geopackage_store_passes_the_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.gpkg");
    let mut a = Store::open(&path).expect("open");
    let mut b = Store::open(&path).expect("open again");
    suite(&mut a, &mut b, "gpkg");
    concurrent_audit(Box::new(a), Box::new(b));
}

#[cfg(feature = "postgis")]
#[test]
fn the_postgis_store_passes_the_suite() {
    use needmap::io::pgstore::PgStore;
    let Some(url) = crate::api::pg_url() else {
        return;
    };
    let tag = format!("pg{}", std::process::id());
    let mut a = PgStore::connect(&url).expect("connect");
    let mut b = PgStore::connect(&url).expect("connect again");
    suite(&mut a, &mut b, &tag);
    concurrent_audit(Box::new(a), Box::new(b));
}
