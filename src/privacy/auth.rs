//! Bearer tokens and roles. Tokens are stored only as Argon2 hashes in the
//! workspace file; a token seen once is remembered by its SHA-256 so the slow
//! hash is not paid on every request. Tokens are never logged. Planners get
//! points masked deterministically per record (keyed by a server secret), so
//! asking again returns the same displaced point and nothing averages out.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::Role;

/// Who is asking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub role: Role,
}

impl Principal {
    pub fn anonymous() -> Principal {
        Principal {
            name: "anonymous".into(),
            role: Role::Public,
        }
    }
}

/// A configured user.
#[derive(Clone, Debug)]
pub struct User {
    pub name: String,
    pub role: Role,
    hash: String,
}

/// The users and the tokens already verified.
#[derive(Debug, Default)]
pub struct Users {
    users: Vec<User>,
    seen: std::sync::Mutex<std::collections::HashMap<[u8; 32], usize>>,
}

/// Hash a token for the workspace file (Argon2id, random salt).
pub fn hash_token(token: &str) -> Result<String, String> {
    if token.len() < 16 {
        return Err("a token needs at least 16 characters".into());
    }
    let mut salt = [0u8; 16];
    random_bytes(&mut salt)?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(token.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Fill with random bytes from the operating system.
pub fn random_bytes(out: &mut [u8]) -> Result<(), String> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(out))
        .map_err(|e| format!("no random source: {e}"))
}

impl Users {
    /// From the workspace's `[auth]` users; errors name the user.
    pub fn from_config(cfg: &crate::config::AuthConfig) -> Result<Users, String> {
        let mut users = Vec::new();
        for u in &cfg.users {
            let role =
                Role::parse(&u.role).map_err(|e| format!("[auth] user {:?}: {e}", u.name))?;
            if role == Role::Public {
                return Err(format!("[auth] user {:?}: public needs no token", u.name));
            }
            PasswordHash::new(&u.token_hash).map_err(|e| {
                format!(
                    "[auth] user {:?}: token_hash is not an Argon2 PHC string: {e}",
                    u.name
                )
            })?;
            users.push(User {
                name: u.name.clone(),
                role,
                hash: u.token_hash.clone(),
            });
        }
        Ok(Users {
            users,
            seen: Default::default(),
        })
    }

    /// The principal of an `Authorization` header value; `Ok(anonymous)`
    /// without one, `Err` for a token that matches no user (default deny).
    pub fn authenticate(&self, header: Option<&str>) -> Result<Principal, String> {
        let Some(h) = header else {
            return Ok(Principal::anonymous());
        };
        let token = h
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or("the Authorization header must be \"Bearer <token>\"")?;
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(&k) = self
            .seen
            .lock()
            .ok()
            .and_then(|m| m.get(&key).copied())
            .as_ref()
        {
            return Ok(self.principal(k));
        }
        for (k, u) in self.users.iter().enumerate() {
            let Ok(parsed) = PasswordHash::new(&u.hash) else {
                continue;
            };
            if Argon2::default()
                .verify_password(token.as_bytes(), &parsed)
                .is_ok()
            {
                if let Ok(mut m) = self.seen.lock() {
                    m.insert(key, k);
                }
                return Ok(self.principal(k));
            }
        }
        Err("the token matches no user".into())
    }

    /// Add a user of `role` with a fresh random token, and return the token:
    /// for running routes in-process as that role (`needmap export --exact`
    /// acts as a planner). The token lives only as long as these users.
    pub fn add_session(&mut self, name: &str, role: Role) -> Result<String, String> {
        let mut b = [0u8; 24];
        random_bytes(&mut b)?;
        let token: String = b.iter().map(|x| format!("{x:02x}")).collect();
        let hash = hash_token(&token)?;
        self.users.push(User {
            name: name.to_string(),
            role,
            hash,
        });
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Ok(mut m) = self.seen.lock() {
            m.insert(key, self.users.len() - 1);
        }
        Ok(token)
    }

    fn principal(&self, k: usize) -> Principal {
        Principal {
            name: self.users[k].name.clone(),
            role: self.users[k].role,
        }
    }
}

/// Deterministic masking of points for planners.
#[derive(Clone)]
pub struct Masker {
    secret: Vec<u8>,
    min_m: f64,
    max_m: f64,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Masker")
            .field("min_m", &self.min_m)
            .field("max_m", &self.max_m)
            .finish()
    }
}

impl Masker {
    pub fn new(secret: Vec<u8>, min_m: f64, max_m: f64) -> Masker {
        Masker {
            secret,
            min_m,
            max_m,
        }
    }

    /// The point moved by a distance in `[min_m, max_m]` at an angle, both
    /// from an HMAC-SHA256 of the record key: the same record always moves
    /// the same way (donut masking, with the area of the ring uniform).
    pub fn mask(&self, key: &str, x: f64, y: f64) -> (f64, f64) {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.secret) else {
            return (x, y);
        };
        mac.update(key.as_bytes());
        let h = mac.finalize().into_bytes();
        let u = |k: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&h[k..k + 8]);
            (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
        };
        let theta = u(0) * std::f64::consts::TAU;
        let (a, b) = (self.min_m * self.min_m, self.max_m * self.max_m);
        let r = (a + u(8) * (b - a)).sqrt();
        (x + r * theta.cos(), y + r * theta.sin())
    }
}
