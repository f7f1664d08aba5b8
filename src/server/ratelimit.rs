//! Per-client rate limits: a token bucket per client address.
//!
//! The client is the TCP peer address. Forwarding headers
//! (`X-Forwarded-For`, `Forwarded`, `X-Real-IP`) are ignored, so a client
//! cannot spread its requests over made-up addresses, unless the peer is the
//! configured trusted proxy: then the right-most address of
//! `X-Forwarded-For` (the one the proxy itself appended) is the client.
//! Over the limit the answer is 429 with `Retry-After`, at once.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::AppState;

/// Buckets kept before full ones are dropped.
const MAX_CLIENTS: usize = 100_000;

/// A token bucket per client.
#[derive(Debug)]
pub struct RateLimiter {
    per_s: f64,
    burst: f64,
    trusted_proxy: Option<IpAddr>,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimiter {
    /// `per_s` requests a second sustained, up to `burst` at once; `per_s` 0 means no limit.
    pub fn new(per_s: f64, burst: f64, trusted_proxy: Option<IpAddr>) -> RateLimiter {
        RateLimiter {
            per_s,
            burst: burst.max(1.0),
            trusted_proxy,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether limits apply.
    pub fn enabled(&self) -> bool {
        self.per_s > 0.0
    }

    /// The client a request comes from.
    pub fn client(&self, peer: IpAddr, headers: &axum::http::HeaderMap) -> IpAddr {
        if Some(peer) != self.trusted_proxy {
            return peer;
        }
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .next_back()
            .unwrap_or(peer)
    }

    /// Take one token for `client` at `now`; `Err(seconds)` to wait when none is left.
    pub fn take(&self, client: IpAddr, now: Instant) -> Result<(), u64> {
        let mut b = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if b.len() >= MAX_CLIENTS {
            let (per_s, burst) = (self.per_s, self.burst);
            b.retain(|_, (t, at)| *t + now.duration_since(*at).as_secs_f64() * per_s < burst);
        }
        let (tokens, at) = b.entry(client).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.per_s).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / self.per_s).ceil().max(1.0) as u64)
        }
    }
}

/// Middleware: 429 for a client over its limit (`/api/health` is never limited).
pub async fn limit(
    axum::extract::State(s): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let rl = &s.rate_limiter;
    if !rl.enabled() || req.uri().path() == "/api/health" {
        return next.run(req).await;
    }
    // Without a peer address (in-process calls) there is no client to limit.
    let Some(&ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>() else {
        return next.run(req).await;
    };
    let client = rl.client(peer.ip(), req.headers());
    match rl.take(client, Instant::now()) {
        Ok(()) => next.run(req).await,
        Err(wait) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(
                header::RETRY_AFTER,
                HeaderValue::from_str(&wait.to_string()).unwrap_or(HeaderValue::from_static("1")),
            )],
            axum::Json(serde_json::json!({
                "error": "rate_limited",
                "message": "too many requests from this client; slow down",
            })),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_refills_at_the_rate_and_caps_at_the_burst() {
        let rl = RateLimiter::new(10.0, 3.0, None);
        let c: IpAddr = "192.0.2.1".parse().expect("ip");
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(rl.take(c, t0).is_ok());
        }
        assert_eq!(rl.take(c, t0), Err(1));
        // 0.25 s later: 2.5 tokens back.
        let t1 = t0 + std::time::Duration::from_millis(250);
        assert!(rl.take(c, t1).is_ok());
        assert!(rl.take(c, t1).is_ok());
        assert!(rl.take(c, t1).is_err());
        // Another client has its own bucket.
        assert!(rl.take("192.0.2.2".parse().expect("ip"), t1).is_ok());
    }

    #[test]
    fn forwarding_headers_count_only_from_the_trusted_proxy() {
        let mut h = axum::http::HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7".parse().expect("h"),
        );
        let proxy: IpAddr = "10.0.0.1".parse().expect("ip");
        let rl = RateLimiter::new(1.0, 1.0, Some(proxy));
        assert_eq!(
            rl.client(proxy, &h),
            "198.51.100.7".parse::<IpAddr>().expect("ip")
        );
        let other: IpAddr = "10.0.0.2".parse().expect("ip");
        assert_eq!(rl.client(other, &h), other);
        let none = RateLimiter::new(1.0, 1.0, None);
        assert_eq!(none.client(proxy, &h), proxy);
    }
}
