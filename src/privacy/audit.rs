//! The audit log of raw-data access: JSON lines, each record carrying the
//! SHA-256 of the one before it (`prev`) and its own (`hash`, over `prev`
//! and the record's canonical JSON without `hash`), so any edit, deletion or
//! reordering breaks the chain. A record is flushed to disk before the data
//! it describes is returned; if it cannot be written, no data is returned.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The `prev` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One access, as recorded.
#[derive(Clone, Debug)]
pub struct Access<'a> {
    pub user: &'a str,
    pub role: &'a str,
    pub route: &'a str,
    /// The query as asked (bounding box, ids).
    pub query: &'a str,
    pub purpose: &'a str,
    pub rows: usize,
}

/// An append-only, hash-chained log file.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    /// (next sequence number, last hash), read from the file on first use.
    state: std::sync::Mutex<Option<(u64, String)>>,
}

/// SHA-256 (hex) of `prev` followed by the record's JSON without `hash`.
pub fn record_hash(prev: &str, record: &Value) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(record.to_string().as_bytes());
    format!("{:x}", h.finalize())
}

impl AuditLog {
    pub fn new(path: PathBuf) -> AuditLog {
        AuditLog {
            path,
            state: std::sync::Mutex::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append a record (flushed to disk) and return its hash.
    pub fn append(&self, a: &Access<'_>) -> Result<String, String> {
        let mut st = self
            .state
            .lock()
            .map_err(|_| "audit log lock poisoned".to_string())?;
        if st.is_none() {
            *st = Some(match verify(&self.path) {
                Ok(v) => (v.records, v.last_hash),
                Err(e) if !self.path.exists() => {
                    let _ = e;
                    (0, GENESIS.to_string())
                }
                Err(e) => return Err(format!("the audit log does not verify: {e}")),
            });
        }
        let (seq, prev) = st.clone().unwrap_or((0, GENESIS.to_string()));
        let mut rec = json!({
            "seq": seq,
            "time": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            "user": a.user,
            "role": a.role,
            "route": a.route,
            "query": a.query,
            "purpose": a.purpose,
            "rows": a.rows,
            "prev": prev,
        });
        let hash = record_hash(&prev, &rec);
        rec["hash"] = json!(hash);
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        writeln!(f, "{rec}").map_err(|e| format!("{}: {e}", self.path.display()))?;
        f.sync_all()
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        *st = Some((seq + 1, hash.clone()));
        Ok(hash)
    }
}

/// The result of verifying a log.
#[derive(Clone, Debug, PartialEq)]
pub struct Verified {
    pub records: u64,
    pub last_hash: String,
}

/// Check every record's sequence number, link and hash; the error names the line.
pub fn verify(path: &Path) -> Result<Verified, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut records = Vec::new();
    for (k, line) in text.lines().enumerate() {
        let line_no = k + 1;
        if line.trim().is_empty() {
            return Err(format!("line {line_no}: empty line"));
        }
        records.push(
            serde_json::from_str(line).map_err(|e| format!("line {line_no}: not JSON: {e}"))?,
        );
    }
    verify_chain(records, "line")
}

/// Check a chain of records (the store's audit trail, say); the error names the record (from 1).
pub fn verify_records(records: Vec<Value>) -> Result<Verified, String> {
    verify_chain(records, "record")
}

fn verify_chain(records: Vec<Value>, unit: &str) -> Result<Verified, String> {
    let mut prev = GENESIS.to_string();
    let mut n = 0u64;
    for (k, mut rec) in records.into_iter().enumerate() {
        let at = format!("{unit} {}", k + 1);
        let hash = rec
            .as_object_mut()
            .and_then(|o| o.remove("hash"))
            .and_then(|h| h.as_str().map(String::from))
            .ok_or_else(|| format!("{at}: no hash"))?;
        if rec["seq"].as_u64() != Some(n) {
            return Err(format!(
                "{at}: sequence number {} where {n} was due",
                rec["seq"]
            ));
        }
        if rec["prev"].as_str() != Some(prev.as_str()) {
            return Err(format!("{at}: does not link to the record before it"));
        }
        if record_hash(&prev, &rec) != hash {
            return Err(format!("{at}: the record was altered (hash mismatch)"));
        }
        prev = hash;
        n += 1;
    }
    Ok(Verified {
        records: n,
        last_hash: prev,
    })
}
