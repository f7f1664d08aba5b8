//! One test suite for every store backend: the GeoPackage file always, and
//! PostgreSQL/PostGIS (built with `--features postgis`) when
//! `NEEDMAP_TEST_PG_URL` names a database; on CI with the feature the
//! database must be there (scripts/test starts one from Debian's packages).

use needmap::io::store::{Put, Store, UploadStore};

/// The suite, given two handles on the same store (as two servers would have).
fn suite(a: &mut dyn UploadStore, b: &mut dyn UploadStore, tag: &str) {
    let k1 = format!("{tag}-k1");
    // Stored once per key; a retry is the first upload; other content under the key is refused.
    let first = match a
        .put("referrals", Some(&k1), b"x,y\n1,2\n", 1, "sam")
        .expect("put")
    {
        Put::Stored(u) => u,
        other => panic!("{other:?}"),
    };
    match b
        .put("referrals", Some(&k1), b"x,y\n1,2\n", 1, "sam")
        .expect("retry")
    {
        Put::Replayed(u) => assert_eq!(u, first),
        other => panic!("{other:?}"),
    }
    assert!(b
        .put("referrals", Some(&k1), b"x,y\n9,9\n", 1, "sam")
        .is_err());
    // Without a key each upload is new; the newest is current, on either handle.
    let second = match b
        .put("referrals", None, b"x,y\n3,4\n5,6\n", 2, "sam")
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
    assert_eq!(edits, vec![(id.clone(), 1, e1), (id.clone(), 2, e2)]);
}

#[test]
fn the_geopackage_store_passes_the_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.gpkg");
    let mut a = Store::open(&path).expect("open");
    let mut b = Store::open(&path).expect("open again");
    suite(&mut a, &mut b, "gpkg");
}

#[cfg(feature = "postgis")]
#[test]
fn the_postgis_store_passes_the_suite() {
    use needmap::io::pgstore::PgStore;
    let Ok(url) = std::env::var("NEEDMAP_TEST_PG_URL") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI builds the postgis feature with a database: NEEDMAP_TEST_PG_URL is not set"
        );
        eprintln!("skipping the PostGIS store suite: NEEDMAP_TEST_PG_URL is not set");
        return;
    };
    let tag = format!("pg{}", std::process::id());
    let mut a = PgStore::connect(&url).expect("connect");
    let mut b = PgStore::connect(&url).expect("connect again");
    suite(&mut a, &mut b, &tag);
}
