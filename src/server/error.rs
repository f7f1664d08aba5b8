//! API errors: every failure is a JSON body `{"error": code, "message": text}`
//! with a 4xx status for client mistakes; 5xx internals are logged, not sent.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// An error answered to a client.
#[derive(Debug)]
pub enum ApiError {
    BadRequest(String),
    NotFound(String),
    /// The body is over the limit (counted after inflating gzip).
    TooLarge(String),
    /// No credentials where some are needed.
    Unauthorized(String),
    /// Credentials that do not allow this.
    Forbidden(String),
    /// In conflict with what is stored (a reused idempotency key).
    Conflict(String),
    /// Well-formed but invalid content (an upload that fails validation).
    Unprocessable(String),
    /// A write without the version it is based on (`If-Match`).
    PreconditionRequired(String),
    /// The service cannot answer safely now (e.g. the audit log cannot be written).
    Unavailable(String),
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m),
            ApiError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large", m),
            ApiError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, "unauthorized", m),
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, "conflict", m),
            ApiError::Unprocessable(m) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid", m),
            ApiError::PreconditionRequired(m) => (
                StatusCode::PRECONDITION_REQUIRED,
                "precondition_required",
                m,
            ),
            ApiError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", m),
            ApiError::Internal(m) => {
                tracing::error!("internal error: {m}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error".to_string(),
                )
            }
        };
        (status, Json(json!({"error": code, "message": message}))).into_response()
    }
}
