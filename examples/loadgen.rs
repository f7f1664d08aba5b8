//! Constant-rate (open-model) HTTP load on loopback, for `scripts/loadrate`.
//!
//! `cargo run --release --example loadgen -- ADDR RATE SECONDS PATHS_FILE [CONNECTIONS]`
//!
//! Requests are scheduled at fixed intervals (RATE per second) whatever the
//! server does, and each one's latency is measured from its *scheduled*
//! time, so a slow server shows as long latencies instead of a lower rate
//! (no coordinated omission). Requests go over CONNECTIONS keep-alive
//! HTTP/1.1 connections (default 128), cycling through the paths. Prints one
//! JSON line: sent, status counts, other errors, latency percentiles (ms),
//! and the latency percentiles of the 503s alone.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Mutex};

#[derive(Default)]
struct Tally {
    status: BTreeMap<u16, u64>,
    errors: BTreeMap<String, u64>,
    latency_ms: Vec<f64>,
    shed_ms: Vec<f64>,
}

async fn one(
    conn: &mut Option<BufReader<TcpStream>>,
    addr: &str,
    path: &str,
) -> Result<u16, String> {
    if conn.is_none() {
        let s = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        s.set_nodelay(true).ok();
        *conn = Some(BufReader::new(s));
    }
    let c = conn.as_mut().expect("connection");
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept-Encoding: gzip\r\n\r\n");
    c.get_mut()
        .write_all(req.as_bytes())
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut line = String::new();
    c.read_line(&mut line)
        .await
        .map_err(|e| format!("read: {e}"))?;
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {line:?}"))?;
    let (mut len, mut chunked, mut close) = (0usize, false, false);
    loop {
        line.clear();
        c.read_line(&mut line)
            .await
            .map_err(|e| format!("read: {e}"))?;
        let l = line.trim_end().to_ascii_lowercase();
        if l.is_empty() {
            break;
        }
        if let Some(v) = l.strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        } else if l.starts_with("transfer-encoding:") && l.contains("chunked") {
            chunked = true;
        } else if l.starts_with("connection:") && l.contains("close") {
            close = true;
        }
    }
    if chunked {
        loop {
            line.clear();
            c.read_line(&mut line)
                .await
                .map_err(|e| format!("read: {e}"))?;
            let n = usize::from_str_radix(line.trim(), 16).map_err(|e| format!("chunk: {e}"))?;
            let mut buf = vec![0u8; n + 2];
            c.read_exact(&mut buf)
                .await
                .map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                break;
            }
        }
    } else {
        let mut buf = vec![0u8; len];
        c.read_exact(&mut buf)
            .await
            .map_err(|e| format!("read: {e}"))?;
    }
    if close {
        *conn = None;
    }
    Ok(status)
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
    (v[i] * 100.0).round() / 100.0
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: loadgen ADDR RATE SECONDS PATHS_FILE [CONNECTIONS]");
        std::process::exit(2);
    }
    let addr = args[1].clone();
    let rate: f64 = args[2].parse().expect("RATE");
    let secs: f64 = args[3].parse().expect("SECONDS");
    let paths: Vec<String> = std::fs::read_to_string(&args[4])
        .expect("PATHS_FILE")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(String::from)
        .collect();
    let conns: usize = args.get(5).and_then(|c| c.parse().ok()).unwrap_or(128);
    let total = (rate * secs).round() as usize;
    let (tx, rx) = mpsc::unbounded_channel::<(Instant, usize)>();
    let rx = Arc::new(Mutex::new(rx));
    let tally = Arc::new(std::sync::Mutex::new(Tally::default()));
    let paths = Arc::new(paths);
    let mut workers = Vec::new();
    for _ in 0..conns {
        let (rx, tally, paths, addr) = (rx.clone(), tally.clone(), paths.clone(), addr.clone());
        workers.push(tokio::spawn(async move {
            let mut conn = None;
            loop {
                let job = rx.lock().await.recv().await;
                let Some((due, i)) = job else { break };
                let path = &paths[i % paths.len()];
                let r = tokio::time::timeout(Duration::from_secs(10), one(&mut conn, &addr, path))
                    .await
                    .unwrap_or_else(|_| Err("timeout after 10 s".into()));
                let ms = due.elapsed().as_secs_f64() * 1000.0;
                let mut t = tally.lock().expect("tally");
                match r {
                    Ok(s) => {
                        *t.status.entry(s).or_default() += 1;
                        if s == 503 {
                            t.shed_ms.push(ms);
                        } else {
                            t.latency_ms.push(ms);
                        }
                    }
                    Err(e) => {
                        conn = None;
                        let key = e.split(':').next().unwrap_or("error").to_string();
                        *t.errors.entry(key).or_default() += 1;
                    }
                }
            }
        }));
    }
    let start = Instant::now();
    let step = Duration::from_secs_f64(1.0 / rate);
    for i in 0..total {
        let due = start + step * i as u32;
        tokio::time::sleep_until(due.into()).await;
        if tx.send((due, i)).is_err() {
            break;
        }
    }
    drop(tx);
    for w in workers {
        let _ = w.await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut t = tally.lock().expect("tally");
    let sent = total;
    let mut lat = std::mem::take(&mut t.latency_ms);
    let mut shed = std::mem::take(&mut t.shed_ms);
    let status: Vec<String> = t
        .status
        .iter()
        .map(|(k, v)| format!("\"{k}\": {v}"))
        .collect();
    let errors: Vec<String> = t
        .errors
        .iter()
        .map(|(k, v)| format!("\"{k}\": {v}"))
        .collect();
    println!(
        "{{\"rate\": {rate}, \"seconds\": {secs}, \"sent\": {sent}, \"elapsed_s\": {:.2}, \"status\": {{{}}}, \"errors\": {{{}}}, \"p50_ms\": {}, \"p90_ms\": {}, \"p99_ms\": {}, \"p999_ms\": {}, \"max_ms\": {}, \"shed_p99_ms\": {}}}",
        elapsed,
        status.join(", "),
        errors.join(", "),
        pct(&mut lat, 50.0),
        pct(&mut lat, 90.0),
        pct(&mut lat, 99.0),
        pct(&mut lat, 99.9),
        pct(&mut lat, 100.0),
        pct(&mut shed, 99.0),
    );
}
