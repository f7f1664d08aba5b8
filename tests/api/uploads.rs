//! Referral uploads over HTTP on loopback: validated in full before anything
//! is stored, stored once per idempotency key, swapped into what the server
//! answers, and refused to anyone but a data steward.

use std::sync::Arc;

use serde_json::Value;

use needmap::demo::{write_demo, DemoSpec};
use needmap::io::store::Store;
use needmap::io::workspace::{load_workspace, LoadOptions};
use needmap::privacy::auth::hash_token;
use needmap::server::uploads::LiveApp;
use needmap::server::{Prepared, ServeOptions};
use needmap::Config;

use super::{http_raw, http_send, serve_app};

const STEWARD: &str = "steward-token-upload-0123";
const PLANNER: &str = "planner-token-upload-0123";

/// A small demo workspace with a steward and a planner; the path of its file.
pub fn workspace(dir: &std::path::Path) -> std::path::PathBuf {
    let spec = DemoSpec {
        areas: 30,
        referrals: 300,
        seed: 8,
    };
    let summary = write_demo(dir, &spec).expect("demo");
    let mut text = std::fs::read_to_string(&summary.config).expect("toml");
    text.push_str(&format!(
        "\n[auth]\nusers = [\n  {{ name = \"sam\", role = \"steward\", token_hash = \"{}\" }},\n  {{ name = \"pat\", role = \"planner\", token_hash = \"{}\" }},\n]\n",
        hash_token(STEWARD).expect("hash"),
        hash_token(PLANNER).expect("hash"),
    ));
    std::fs::write(&summary.config, text).expect("write");
    summary.config
}

/// The workspace `file` (loaded as `atlas`) served as `needmap serve`
/// serves it, through the swap that uploads use, on a loopback port.
fn serve_live(
    atlas: needmap::io::workspace::Atlas,
    file: &std::path::Path,
    opts: ServeOptions,
) -> std::net::SocketAddr {
    let live = LiveApp::new(
        Arc::new(Prepared::with_options(atlas, &opts)),
        file.to_path_buf(),
        None,
        opts,
    );
    serve_app(live.router())
}

/// The header and the first `n` rows of a CSV.
fn head(csv: &str, n: usize) -> String {
    csv.lines().take(n + 1).map(|l| format!("{l}\n")).collect()
}

fn total(addr: std::net::SocketAddr) -> f64 {
    let (st, _, body) = http_raw(
        addr,
        "/api/equity",
        &[("Authorization", &format!("Bearer {PLANNER}"))],
    );
    assert_eq!(st, 200, "{body}");
    let v: Value = serde_json::from_str(&body).expect("json");
    v["total"]["referrals"]
        .as_f64()
        .expect("exact total for a planner")
}

fn post(
    addr: std::net::SocketAddr,
    token: Option<&str>,
    key: Option<&str>,
    body: &str,
) -> (u16, Value) {
    post_to(addr, token, "/api/uploads/referrals", "text/csv", key, body)
}

/// An upload: the status and the JSON answer.
fn post_to(
    addr: std::net::SocketAddr,
    token: Option<&str>,
    path: &str,
    content_type: &str,
    key: Option<&str>,
    body: &str,
) -> (u16, Value) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut h: Vec<(&str, &str)> = vec![("Content-Type", content_type)];
    if let Some(a) = &auth {
        h.push(("Authorization", a));
    }
    if let Some(k) = key {
        h.push(("Idempotency-Key", k));
    }
    let (st, _, b) = http_send(addr, "POST", path, &h, body.as_bytes());
    (st, serde_json::from_str(&b).unwrap_or(Value::Null))
}

#[test]
fn uploads_are_validated_stored_once_and_swapped_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = workspace(dir.path());
    let cfg = Config::load(&file).expect("config");
    let atlas = load_workspace(&cfg, &LoadOptions::default()).unwrap_or_else(|r| panic!("{r}"));
    let addr = serve_live(atlas, &file, ServeOptions::default());
    assert_eq!(total(addr), 300.0);

    let csv = std::fs::read_to_string(dir.path().join("referrals.csv")).expect("csv");
    let first_100 = head(&csv, 100);
    // Only data stewards.
    assert_eq!(post(addr, None, None, &first_100).0, 401);
    assert_eq!(post(addr, Some(PLANNER), None, &first_100).0, 403);
    // Stored, and what the server answers from now on.
    let (st, v) = post(addr, Some(STEWARD), Some("extract-1"), &first_100);
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["upload"]["rows"], 100);
    assert_eq!(total(addr), 100.0);
    // A retry with the same key: the first upload, not stored twice.
    let (st, v) = post(addr, Some(STEWARD), Some("extract-1"), &first_100);
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["replayed"], true);
    // The same key for other content: a conflict.
    let first_50 = head(&csv, 50);
    let (st, v) = post(addr, Some(STEWARD), Some("extract-1"), &first_50);
    assert_eq!(st, 409, "{v}");
    // Invalid extracts: named problems, nothing stored, nothing changed.
    let no_easting = first_100.replacen("easting", "eastings", 1);
    let (st, v) = post(addr, Some(STEWARD), Some("bad-1"), &no_easting);
    assert_eq!(st, 422, "{v}");
    assert!(
        v["message"].as_str().expect("message").contains("easting"),
        "{v}"
    );
    let (st, v) = post(addr, Some(STEWARD), None, "");
    assert_eq!(st, 422, "{v}");
    assert_eq!(total(addr), 100.0);
    let store = Store::open(&cfg.store_path()).expect("store");
    let ups = store.uploads().expect("uploads");
    assert_eq!(ups.len(), 1, "{ups:?}");
    assert!(ups[0].1, "content matches its hash");
    // A restart serves the same: the store's extract replaces the file.
    let again = load_workspace(&cfg, &LoadOptions::default()).unwrap_or_else(|r| panic!("{r}"));
    assert_eq!(again.referrals.referrals.len(), 100);
}

/// A `needmap serve` process on a free loopback port.
struct Server {
    child: std::process::Child,
    addr: std::net::SocketAddr,
}

fn start(file: &std::path::Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_needmap"))
        .args(["serve", "--config"])
        .arg(file)
        .args([
            "--addr",
            &addr.to_string(),
            "--client-rate",
            "0",
            "--web",
            "no-web",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("server starts");
    for _ in 0..600 {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Server { child, addr };
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not listen");
}

/// One upload over a fresh connection; `None` if the connection broke.
fn try_upload(addr: std::net::SocketAddr, key: &str, body: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    let head = format!(
        "POST /api/uploads/referrals HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {STEWARD}\r\nIdempotency-Key: {key}\r\nContent-Type: text/csv\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body.as_bytes()).ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    text.split(' ').nth(1)?.parse().ok()
}

/// SIGKILL at random moments during 200 uploads: after each restart the
/// client retries what was not acknowledged, with the same key. In the end
/// every acknowledged upload is in the store, whole (its content matches its
/// hash and what was sent), none is there twice, and nothing else is.
#[test]
fn uploads_survive_sigkill_at_random_moments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = workspace(dir.path());
    let csv = std::fs::read_to_string(dir.path().join("referrals.csv")).expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    let body = |i: usize| -> String {
        lines[..=(60 + i)]
            .iter()
            .map(|l| format!("{l}\n"))
            .collect()
    };
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut server = start(&file);
    let (mut kills, mut acked) = (0, 0);
    for i in 0..200 {
        let key = format!("upload-{i}");
        let content = body(i);
        loop {
            // One upload in five, kill the server part-way through it.
            let kill_after_ms = (next() % 5 == 0).then(|| next() % 120);
            let addr = server.addr;
            let (k, c) = (key.clone(), content.clone());
            let req = std::thread::spawn(move || try_upload(addr, &k, &c));
            if let Some(ms) = kill_after_ms {
                std::thread::sleep(std::time::Duration::from_millis(ms));
                server.child.kill().expect("SIGKILL");
                server.child.wait().expect("reaped");
                kills += 1;
            }
            let status = req.join().expect("client thread");
            if kill_after_ms.is_some() {
                server = start(&file);
            }
            match status {
                Some(200 | 201) => {
                    acked += 1;
                    break;
                }
                Some(s) => panic!("upload {i}: status {s}"),
                None => continue, // not acknowledged: retry with the same key
            }
        }
    }
    server.child.kill().expect("stop");
    server.child.wait().expect("reaped");
    assert_eq!(acked, 200);
    assert!(kills >= 25, "only {kills} kills");
    let cfg = Config::load(&file).expect("config");
    let store = Store::open(&cfg.store_path()).expect("store");
    let ups = store.uploads().expect("uploads");
    assert_eq!(ups.len(), 200, "each upload stored exactly once");
    for (u, whole) in &ups {
        assert!(whole, "upload #{} does not match its hash", u.id);
        let i: usize = u
            .idempotency_key
            .as_deref()
            .and_then(|k| k.strip_prefix("upload-"))
            .and_then(|n| n.parse().ok())
            .expect("a key we sent");
        assert_eq!(
            u.sha256,
            needmap::io::store::sha256_hex(body(i).as_bytes()),
            "upload {i}"
        );
        assert_eq!(u.rows as usize, 60 + i);
    }
    // The workspace now serves the last upload.
    let atlas = load_workspace(&cfg, &LoadOptions::default()).unwrap_or_else(|r| panic!("{r}"));
    assert_eq!(atlas.referrals.referrals.len(), 259);
    eprintln!("200 uploads acknowledged through {kills} SIGKILLs");
}

/// The ETag of a response's header block, if any.
fn etag(head: &str) -> Option<String> {
    head.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .starts_with("etag:")
            .then(|| l[5..].trim().to_string())
    })
}

fn put_premises(
    addr: std::net::SocketAddr,
    id: &str,
    if_match: Option<&str>,
    body: &str,
) -> (u16, String, Value) {
    let auth = format!("Bearer {PLANNER}");
    let mut h: Vec<(&str, &str)> = vec![
        ("Authorization", &auth),
        ("Content-Type", "application/json"),
    ];
    if let Some(m) = if_match {
        h.push(("If-Match", m));
    }
    let (st, head, b) = http_send(
        addr,
        "PUT",
        &format!("/api/premises/{id}"),
        &h,
        body.as_bytes(),
    );
    let tag = etag(&head).unwrap_or_default();
    (st, tag, serde_json::from_str(&b).unwrap_or(Value::Null))
}

fn get_premises(addr: std::net::SocketAddr, id: &str) -> (String, Value) {
    let (st, head, b) = http_raw(addr, &format!("/api/premises/{id}"), &[]);
    assert_eq!(st, 200, "{b}");
    let tag = etag(&head).expect("ETag");
    (tag, serde_json::from_str(&b).expect("json"))
}

/// Two clients edit one premises from the same version: the second gets 412
/// and the first's edit is kept; re-read and reapplied, both are there, also
/// after a restart. At the same moment, exactly one of two wins.
#[test]
fn concurrent_premises_edits_never_overwrite_each_other() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = workspace(dir.path());
    let cfg = Config::load(&file).expect("config");
    let atlas = load_workspace(&cfg, &LoadOptions::default()).unwrap_or_else(|r| panic!("{r}"));
    let id = atlas.premises[0].code.clone();
    let addr = serve_live(atlas, &file, ServeOptions::default());

    let (tag_a, _) = get_premises(addr, &id);
    let (tag_b, _) = get_premises(addr, &id);
    assert_eq!(tag_a, "\"v0\"");
    // Refused without a version, with a bad value, and for the public.
    assert_eq!(put_premises(addr, &id, None, r#"{"capacity": 50}"#).0, 428);
    assert_eq!(
        put_premises(
            addr,
            &id,
            Some(&tag_a),
            r#"{"opening_hours": "Mo-Fr 25:00-26:00"}"#
        )
        .0,
        422
    );
    assert_eq!(
        put_premises(addr, &id, Some(&tag_a), r#"{"capacity": -1}"#).0,
        422
    );
    let (st, _, _) = http_send(
        addr,
        "PUT",
        &format!("/api/premises/{id}"),
        &[("If-Match", "\"v0\""), ("Content-Type", "application/json")],
        b"{}",
    );
    assert_eq!(st, 401);
    // A edits first; B's edit from the same version is refused.
    let (st, tag, v) = put_premises(addr, &id, Some(&tag_a), r#"{"capacity": 50}"#);
    assert_eq!((st, tag.as_str()), (200, "\"v1\""), "{v}");
    let (st, tag, v) = put_premises(
        addr,
        &id,
        Some(&tag_b),
        r#"{"opening_hours": "Mo-Fr 08:00-18:00"}"#,
    );
    assert_eq!(st, 412, "{v}");
    assert_eq!(tag, "\"v1\"");
    let (_, now) = get_premises(addr, &id);
    assert_eq!(now["capacity"], 50.0);
    assert_ne!(now["opening_hours"], "Mo-Fr 08:00-18:00");
    // B reads again and reapplies: both edits hold.
    let (tag_b, _) = get_premises(addr, &id);
    let (st, tag, _) = put_premises(
        addr,
        &id,
        Some(&tag_b),
        r#"{"opening_hours": "Mo-Fr 08:00-18:00"}"#,
    );
    assert_eq!((st, tag.as_str()), (200, "\"v2\""));
    let (_, now) = get_premises(addr, &id);
    assert_eq!(
        (now["capacity"].as_f64(), now["opening_hours"].as_str()),
        (Some(50.0), Some("Mo-Fr 08:00-18:00"))
    );
    // Two at the same moment from v2: one wins, one gets 412.
    let go = |body: &'static str| {
        let id = id.clone();
        std::thread::spawn(move || put_premises(addr, &id, Some("\"v2\""), body).0)
    };
    let (x, y) = (
        go(r#"{"provider": "Council"}"#),
        go(r#"{"provider": "NHS"}"#),
    );
    let mut codes = [x.join().expect("x"), y.join().expect("y")];
    codes.sort_unstable();
    assert_eq!(codes, [200, 412]);
    // A restart loads the same record.
    let again = load_workspace(&cfg, &LoadOptions::default()).unwrap_or_else(|r| panic!("{r}"));
    let p = again
        .premises
        .iter()
        .find(|p| p.code == id)
        .expect("premises");
    assert_eq!(p.capacity, Some(50.0));
    assert_eq!(p.opening_hours.as_deref(), Some("Mo-Fr 08:00-18:00"));
    assert!(matches!(p.provider.as_deref(), Some("Council" | "NHS")));
}

fn post_layer(
    addr: std::net::SocketAddr,
    token: Option<&str>,
    path: &str,
    key: Option<&str>,
    body: &str,
) -> (u16, Value) {
    post_to(addr, token, path, "application/geo+json", key, body)
}

fn get_json(addr: std::net::SocketAddr, path: &str) -> Value {
    let (st, _, b) = http_raw(addr, path, &[]);
    assert_eq!(st, 200, "{path}: {b}");
    serde_json::from_str(&b).expect("json")
}

/// A premises layer and a boundary set uploaded through the API: validated
/// in full (a bad opening-hours expression or a missing id column is named,
/// nothing stored), stored once per key, swapped in, and loaded the same
/// after a restart. An upload of premises supersedes earlier edits of them,
/// and an ETag read before it no longer matches.
#[test]
fn premises_layers_and_boundary_sets_are_uploaded_validated_and_swapped_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = workspace(dir.path());
    let cfg = Config::load(&file).expect("config");
    let atlas = load_workspace(&cfg, &LoadOptions::default()).unwrap_or_else(|r| panic!("{r}"));
    let n = atlas.premises.len();
    let addr = serve_live(atlas, &file, ServeOptions::default());
    let layer: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("premises.geojson")).expect("premises"),
    )
    .expect("geojson");
    let id = layer["features"][0]["properties"]["premises_id"]
        .as_str()
        .expect("id")
        .to_string();

    // A planner's edit, then an upload of the layer without the last
    // premises and with a new capacity for the edited one.
    let (tag, _) = get_premises(addr, &id);
    let (st, tag1, _) = put_premises(addr, &id, Some(&tag), r#"{"capacity": 77}"#);
    assert_eq!((st, tag1.as_str()), (200, "\"v1\""));
    let mut new_layer = layer.clone();
    let feats = new_layer["features"].as_array_mut().expect("features");
    feats.pop();
    feats[0]["properties"]["capacity"] = serde_json::json!(12);
    let body = new_layer.to_string();
    let path = "/api/uploads/premises/premises";
    assert_eq!(post_layer(addr, None, path, None, &body).0, 401);
    let (st, v) = post_layer(
        addr,
        Some(PLANNER),
        "/api/uploads/premises/sites",
        None,
        &body,
    );
    assert_eq!(st, 404, "{v}");
    assert!(
        v["message"].as_str().expect("message").contains("premises"),
        "{v}"
    );
    // Invalid: a bad opening-hours expression, named; nothing stored or changed.
    let mut bad = new_layer.clone();
    bad["features"][1]["properties"]["opening_hours"] = serde_json::json!("Mo-Fr 25:00-26:00");
    let bad_id = bad["features"][1]["properties"]["premises_id"]
        .as_str()
        .expect("id")
        .to_string();
    let (st, v) = post_layer(addr, Some(PLANNER), path, Some("bad"), &bad.to_string());
    assert_eq!(st, 422, "{v}");
    let m = v["message"].as_str().expect("message");
    assert!(m.contains(&bad_id) && m.contains("opening_hours"), "{m}");
    assert_eq!(post_layer(addr, Some(PLANNER), path, None, "{").0, 422);
    assert_eq!(
        get_json(addr, "/api/premises")["features"]
            .as_array()
            .expect("features")
            .len(),
        n
    );
    // Stored, swapped in; the upload supersedes the earlier edit.
    let (st, v) = post_layer(addr, Some(PLANNER), path, Some("layer-1"), &body);
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["upload"]["rows"], (n - 1) as u64);
    assert_eq!(
        get_json(addr, "/api/premises")["features"]
            .as_array()
            .expect("features")
            .len(),
        n - 1
    );
    let (tag2, now) = get_premises(addr, &id);
    assert_eq!(now["capacity"], 12.0);
    assert_eq!(tag2, "\"v2\"");
    let (st, _, _) = put_premises(addr, &id, Some(&tag1), r#"{"capacity": 5}"#);
    assert_eq!(st, 412, "an ETag from before the upload no longer matches");
    let (st, v) = post_layer(addr, Some(PLANNER), path, Some("layer-1"), &body);
    assert_eq!((st, &v["replayed"]), (200, &Value::Bool(true)));

    // A boundary set: a unit renamed. Invalid: the id column missing.
    let loc: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("localities.geojson")).expect("localities"),
    )
    .expect("geojson");
    let mut renamed = loc.clone();
    renamed["features"][0]["properties"]["locality_name"] = serde_json::json!("Upload Town");
    let bpath = "/api/uploads/boundaries/localities";
    let mut no_id = loc.clone();
    for f in no_id["features"].as_array_mut().expect("features") {
        f["properties"]
            .as_object_mut()
            .expect("properties")
            .remove("locality_code");
    }
    let (st, v) = post_layer(addr, Some(PLANNER), bpath, None, &no_id.to_string());
    assert_eq!(st, 422, "{v}");
    assert!(
        v["message"]
            .as_str()
            .expect("message")
            .contains("locality_code"),
        "{v}"
    );
    let (st, v) = post_layer(
        addr,
        Some(PLANNER),
        "/api/uploads/boundaries/wards",
        None,
        &renamed.to_string(),
    );
    assert_eq!(st, 404, "{v}");
    assert!(
        v["message"]
            .as_str()
            .expect("message")
            .contains("localities, teams"),
        "{v}"
    );
    let (st, v) = post_layer(addr, Some(PLANNER), bpath, None, &renamed.to_string());
    assert_eq!(st, 201, "{v}");
    let shown = get_json(addr, "/api/boundaries/localities").to_string();
    assert!(shown.contains("Upload Town"), "the new set is served");

    // A restart loads the same; the store's trail names who did what.
    let again = load_workspace(&cfg, &LoadOptions::default()).unwrap_or_else(|r| panic!("{r}"));
    assert_eq!(again.premises.len(), n - 1);
    let p = again
        .premises
        .iter()
        .find(|p| p.code == id)
        .expect("premises");
    assert_eq!(p.capacity, Some(12.0));
    let set = again
        .boundary_sets
        .iter()
        .find(|b| b.name == "localities")
        .expect("set");
    assert!(set
        .units
        .iter()
        .any(|u| u.name.as_deref() == Some("Upload Town")));
    let mut store = Store::open(&cfg.store_path()).expect("store");
    let kinds: Vec<String> = store
        .uploads()
        .expect("uploads")
        .into_iter()
        .map(|(u, _)| u.kind)
        .collect();
    assert_eq!(kinds, ["premises:premises", "boundaries:localities"]);
    use needmap::io::store::UploadStore;
    let trail = store.audit_trail().expect("trail");
    needmap::privacy::audit::verify_records(trail.clone()).expect("chain");
    let actions: Vec<(String, String)> = trail
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap_or_default().to_string(),
                r["user"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("premises_edit".to_string(), "pat".to_string()),
            ("upload".to_string(), "pat".to_string()),
            ("upload".to_string(), "pat".to_string()),
        ]
    );
}

/// Two `needmap serve` processes sharing one store, as behind a load
/// balancer: what is uploaded or edited through one is served by the other
/// within its refresh interval; a retried upload sent to the other server is
/// not stored twice; an edit through one makes the other's ETag stale (412);
/// a scenario saved on one is listed by the other at once.
fn two_servers_share_one_store(store_toml: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = workspace(dir.path());
    let mut text = std::fs::read_to_string(&file).expect("toml");
    text.push_str(store_toml);
    std::fs::write(&file, text).expect("write");
    let mut a = start(&file);
    let mut b = start(&file);
    assert_eq!((total(a.addr), total(b.addr)), (300.0, 300.0));
    let wait_for = |what: &str, ok: &dyn Fn() -> bool| {
        let t0 = std::time::Instant::now();
        while !ok() {
            assert!(
                t0.elapsed().as_secs() < 60,
                "the other server never showed {what}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        t0.elapsed()
    };
    // An extract uploaded through A is served by B.
    let csv = std::fs::read_to_string(dir.path().join("referrals.csv")).expect("csv");
    let first_100 = head(&csv, 100);
    let (st, v) = post(a.addr, Some(STEWARD), Some("shared-1"), &first_100);
    assert_eq!(st, 201, "{v}");
    assert_eq!(total(a.addr), 100.0);
    let took = wait_for("the upload", &|| total(b.addr) == 100.0);
    // The client's retry lands on B: the same upload, not a second one.
    let (st, v) = post(b.addr, Some(STEWARD), Some("shared-1"), &first_100);
    assert_eq!((st, &v["replayed"]), (200, &Value::Bool(true)), "{v}");
    // Two planners on two servers edit one premises from the same version.
    let atlas_id = get_json(a.addr, "/api/premises")["features"][0]["properties"]["premises_id"]
        .as_str()
        .expect("id")
        .to_string();
    let (tag_a, _) = get_premises(a.addr, &atlas_id);
    let (tag_b, _) = get_premises(b.addr, &atlas_id);
    assert_eq!(tag_a, tag_b);
    let (st, _, _) = put_premises(a.addr, &atlas_id, Some(&tag_a), r#"{"capacity": 41}"#);
    assert_eq!(st, 200);
    let (st, tag, _) = put_premises(b.addr, &atlas_id, Some(&tag_b), r#"{"capacity": 42}"#);
    assert_eq!(st, 412, "B's version check goes to the shared store");
    assert_eq!(tag, "\"v1\"");
    wait_for("the edit", &|| {
        get_premises(b.addr, &atlas_id).1["capacity"] == 41.0
    });
    // Scenarios live in the store: saved on A, listed by B at once.
    let auth = format!("Bearer {PLANNER}");
    let (st, _, body) = http_send(
        a.addr,
        "PUT",
        "/api/scenarios/shared-plan",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        br#"{"description": "from A", "edits": []}"#,
    );
    assert_eq!(st, 200, "{body}");
    let listed = get_json(b.addr, "/api/scenarios");
    assert_eq!(listed["scenarios"][0]["name"], "shared-plan", "{listed}");
    // Raw-data access through both servers: one unbroken audit chain, in
    // the shared store (PostGIS) or the shared file (one machine).
    let cfg = Config::load(&file).expect("config");
    let atlas = load_workspace(&cfg, &LoadOptions::default()).unwrap_or_else(|r| panic!("{r}"));
    let bb = atlas.bbox_wgs84();
    let uri = format!(
        "/api/referrals?bbox={},{},{},{}&purpose=review",
        bb[0] - 0.01,
        bb[1] - 0.01,
        bb[2] + 0.01,
        bb[3] + 0.01
    );
    let steward = format!("Bearer {STEWARD}");
    for (k, s) in [&a, &b, &a, &b].iter().enumerate() {
        let (st, _, body) = http_raw(s.addr, &uri, &[("Authorization", &steward)]);
        assert_eq!(st, 200, "access {k}: {body}");
    }
    let records = match &cfg.store.url {
        Some(_) => {
            let mut store = needmap::io::store::open_store(&cfg, false)
                .expect("store")
                .expect("some");
            let trail = store.audit_trail().expect("trail");
            needmap::privacy::audit::verify_records(trail.clone()).expect("one chain");
            trail
                .iter()
                .filter(|r| r["action"] == "raw_data_access")
                .count()
        }
        None => {
            let log = dir.path().join("audit.jsonl");
            needmap::privacy::audit::verify(&log)
                .expect("one chain")
                .records as usize
        }
    };
    assert_eq!(records, 4);
    for s in [&mut a, &mut b] {
        s.child.kill().expect("stop");
        s.child.wait().expect("reaped");
    }
    eprintln!("the other server served the upload {took:?} after it was stored");
}

#[test]
fn two_servers_share_one_geopackage_store() {
    two_servers_share_one_store("\n[store]\nrefresh_s = 0.5\n");
}

#[cfg(feature = "postgis")]
#[test]
fn two_servers_share_one_postgis_store() {
    let Some(url) = super::pg_url() else {
        return;
    };
    // A database of its own, so that other tests' uploads are not this workspace's.
    let (own, drop_db) = super::pg_database(&url, "two_servers");
    two_servers_share_one_store(&format!("\n[store]\nurl = \"{own}\"\nrefresh_s = 0.5\n"));
    drop_db();
}

/// A planner's GET /api/equity over a fresh connection: the status and the
/// exact total, or what went wrong (never a panic).
fn try_total(addr: std::net::SocketAddr) -> Result<f64, String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
    let req = format!(
        "GET /api/equity HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {PLANNER}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&buf);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no header end")?;
    let status = head.split(' ').nth(1).unwrap_or("");
    if status != "200" {
        return Err(format!("status {status}: {body}"));
    }
    let v: Value = serde_json::from_str(body).map_err(|e| format!("{e}: {body}"))?;
    v["total"]["referrals"]
        .as_f64()
        .ok_or_else(|| format!("no total: {body}"))
}

/// While uploads are validated, stored and swapped in, two clients keep
/// asking: every request is answered (200), each from a whole state (the
/// totals before or after some upload, never anything else), and the last
/// answers are the last upload's.
#[test]
fn requests_are_answered_while_uploads_swap_the_state() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().expect("tempdir");
    let file = workspace(dir.path());
    let cfg = Config::load(&file).expect("config");
    let atlas = load_workspace(&cfg, &LoadOptions::default()).unwrap_or_else(|r| panic!("{r}"));
    // No per-client rate limit: the two readers ask as fast as they are answered.
    let opts = ServeOptions {
        client_rate_per_s: 0.0,
        ..ServeOptions::default()
    };
    let addr = serve_live(atlas, &file, opts);
    let csv = std::fs::read_to_string(dir.path().join("referrals.csv")).expect("csv");
    let sizes: Vec<usize> = (0..5).map(|i| 60 + 40 * i).collect();
    let mut valid: Vec<f64> = sizes.iter().map(|&n| n as f64).collect();
    valid.push(300.0);
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (stop, valid) = (stop.clone(), valid.clone());
            std::thread::spawn(move || {
                let (mut answered, mut bad) = (0usize, Vec::new());
                while !stop.load(Ordering::Relaxed) {
                    match try_total(addr) {
                        Ok(t) if valid.contains(&t) => answered += 1,
                        Ok(t) => bad.push(format!("total {t}")),
                        Err(e) => bad.push(e),
                    }
                    if bad.len() > 5 {
                        break;
                    }
                }
                (answered, bad)
            })
        })
        .collect();
    for (i, n) in sizes.iter().enumerate() {
        let body = head(&csv, *n);
        let (st, v) = post(addr, Some(STEWARD), Some(&format!("swap-{i}")), &body);
        assert_eq!(st, 201, "{v}");
    }
    stop.store(true, Ordering::Relaxed);
    let mut answered = 0;
    for r in readers {
        let (a, bad) = r.join().expect("reader");
        assert!(bad.is_empty(), "{bad:?}");
        answered += a;
    }
    assert!(
        answered >= 10,
        "only {answered} requests answered during the uploads"
    );
    assert_eq!(total(addr), *sizes.last().expect("sizes") as f64);
    eprintln!("{answered} requests answered during 5 uploads and swaps, none dropped");
}
