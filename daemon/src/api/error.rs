//! The one error type of the API, and its JSON form: `{"error": {"code", "message"}}`.

use warp::http::{header, HeaderValue, StatusCode};
use warp::reply::Response;

/// What went wrong with a request; becomes a JSON error response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable, machine-readable code.
    pub code: &'static str,
    /// What a person reads.
    pub message: String,
    /// For 429: seconds until the token may try again.
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400: malformed JSON, wrong types, bad values.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 400: a query parameter the route does not take.
    pub fn unknown_parameter(name: &str, known: &[&str]) -> ApiError {
        let known = if known.is_empty() {
            "this route takes none".to_owned()
        } else {
            format!("this route takes {}", known.join(", "))
        };
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "unknown_parameter",
            format!("unknown query parameter {name:?}: {known}"),
        )
    }

    /// 401: no token, or not one we know.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: a token whose role may not do this.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 405.
    pub fn method_not_allowed(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            message,
        )
    }

    /// 409: not possible in the current state.
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// 413.
    pub fn payload_too_large(limit: u32) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than {limit} bytes"),
        )
    }

    /// 429, with the seconds to wait.
    pub fn rate_limited(retry_after: u64) -> ApiError {
        ApiError {
            retry_after: Some(retry_after),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many requests for this token: retry in {retry_after} s"),
            )
        }
    }

    /// 503: something the request needs is not there or did not answer in time.
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    /// 503 from `/readyz`.
    pub fn not_ready(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", message)
    }

    /// 500: a fault of ours (a store query that failed).
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// The JSON body, with `extra` fields beside `error` (the checks of `/readyz`).
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({"error": {"code": self.code, "message": self.message}})
    }

    /// The response.
    pub fn into_response(self) -> Response {
        let body = self.body();
        self.respond_with(body)
    }

    /// The response, with `body` as its JSON.
    pub fn respond_with(self, body: serde_json::Value) -> Response {
        let mut response = super::json_response(self.status, &body);
        let headers = response.headers_mut();
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"pennant\""),
            );
        }
        response
    }
}
