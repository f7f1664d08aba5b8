//! The audit log of raw-data access: JSON lines, each record carrying the
//! SHA-256 of the one before it (`prev`) and its own (`hash`, over `prev`
//! and the record's canonical JSON without `hash`), so any edit, deletion or
//! reordering breaks the chain. A record is flushed to disk before the data
//! it describes is returned; if it cannot be written, no data is returned.
//! Appends hold an exclusive lock on the file, so that processes sharing
//! one log keep one chain. Where servers share a store (`[store] url`),
//! records go to the store's trail instead ([`AuditLog::in_store`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The next record of a hash chain after `(seq, hash)` of the last one:
/// `seq`, `time` (unless given) and `prev` are set and `hash` computed over
/// the rest. Returns `(seq, hash, the record's JSON text)`. Used for the log
/// file and the store's trail alike.
pub fn chain(last: Option<(i64, String)>, mut record: Value) -> (i64, String, String) {
    let (seq, prev) = match last {
        Some((s, h)) => (s + 1, h),
        None => (0, GENESIS.to_string()),
    };
    record["seq"] = json!(seq);
    if record.get("time").is_none() {
        record["time"] = json!(chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string());
    }
    record["prev"] = json!(prev);
    let hash = record_hash(&prev, &record);
    record["hash"] = json!(hash);
    (seq, hash, record.to_string())
}

/// Where a log's records go instead of a file: a function appending one
/// record to a shared trail (the workspace store, given by the server) and
/// returning its hash.
pub type Sink = Box<dyn Fn(Value) -> Result<String, String> + Send + Sync>;

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

/// An append-only, hash-chained log file, or a shared trail (the store's,
/// where servers share a store, so that one trail covers them all).
pub struct AuditLog {
    path: PathBuf,
    /// Append here instead of the file.
    sink: Option<Sink>,
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

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.path)
            .field("sink", &self.sink.is_some())
            .finish()
    }
}

impl AuditLog {
    pub fn new(path: PathBuf) -> AuditLog {
        AuditLog {
            path,
            sink: None,
            state: std::sync::Mutex::new(None),
        }
    }

    /// A log whose records go to `sink` (which chains them, as the store's
    /// trail does, in one transaction each) before the data is returned.
    pub fn with_sink(sink: Sink) -> AuditLog {
        AuditLog {
            path: PathBuf::new(),
            sink: Some(sink),
            state: std::sync::Mutex::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append a record (flushed to disk) and return its hash.
    pub fn append(&self, a: &Access<'_>) -> Result<String, String> {
        let record = json!({
            "user": a.user,
            "role": a.role,
            "route": a.route,
            "query": a.query,
            "purpose": a.purpose,
            "rows": a.rows,
        });
        if let Some(sink) = &self.sink {
            let mut record = record;
            record["action"] = json!("raw_data_access");
            return sink(record);
        }
        let mut verified = self
            .state
            .lock()
            .map_err(|_| "audit log lock poisoned".to_string())?;
        let shown = |e: std::io::Error| format!("{}: {e}", self.path.display());
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&self.path)
            .map_err(shown)?;
        // An exclusive lock on the file while the chain is read and extended,
        // so that several processes writing one log (servers sharing a
        // workspace) keep one unbroken chain. Released when `f` is dropped.
        f.lock().map_err(shown)?;
        let (seq, prev) = if verified.is_none() {
            // First use: the whole chain must verify.
            let v = verify(&self.path).or_else(|e| {
                if f.metadata().map(|m| m.len() == 0).unwrap_or(false) {
                    Ok(Verified {
                        records: 0,
                        last_hash: GENESIS.to_string(),
                    })
                } else {
                    Err(format!("the audit log does not verify: {e}"))
                }
            })?;
            (v.records, v.last_hash)
        } else {
            last_record(&mut f).map_err(|e| format!("{}: {e}", self.path.display()))?
        };
        let last = (seq > 0).then(|| (seq as i64 - 1, prev));
        let (_, hash, rec) = chain(last, record);
        writeln!(f, "{rec}").map_err(|e| format!("{}: {e}", self.path.display()))?;
        f.sync_all()
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        *verified = Some((seq + 1, hash.clone()));
        Ok(hash)
    }
}

/// The sequence number due next and the hash of the last record of a log
/// (read back from its end).
fn last_record(f: &mut std::fs::File) -> Result<(u64, String), String> {
    use std::io::{Read, Seek, SeekFrom};
    let len = f.seek(SeekFrom::End(0)).map_err(|e| e.to_string())?;
    let mut tail: Vec<u8> = Vec::new();
    let mut pos = len;
    // Read back until the start of the last non-empty line is in hand.
    loop {
        let body = tail.strip_suffix(b"\n").unwrap_or(&tail);
        if body.contains(&b'\n') || pos == 0 {
            break;
        }
        let step = pos.min(4096);
        pos -= step;
        f.seek(SeekFrom::Start(pos)).map_err(|e| e.to_string())?;
        let mut chunk = vec![0u8; step as usize];
        f.read_exact(&mut chunk).map_err(|e| e.to_string())?;
        chunk.extend_from_slice(&tail);
        tail = chunk;
    }
    let text = String::from_utf8_lossy(&tail);
    let Some(line) = text.lines().rev().find(|l| !l.trim().is_empty()) else {
        return Ok((0, GENESIS.to_string()));
    };
    let rec: Value =
        serde_json::from_str(line).map_err(|e| format!("the last record is not JSON: {e}"))?;
    match (rec["seq"].as_u64(), rec["hash"].as_str()) {
        (Some(seq), Some(hash)) => Ok((seq + 1, hash.to_string())),
        _ => Err("the last record has no seq or hash".into()),
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
