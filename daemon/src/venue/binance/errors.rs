//! What a failed Binance request means for the engine. Binance answers an error with an
//! HTTP status and, usually, a body `{"code": -1013, "msg": "Filter failure: LOT_SIZE"}`
//! (errors.md); the adapter turns the pair into one of these states, and never into a
//! retry of a request that may have been executed.

use pennant_sdk::RejectReason;
use serde::Deserialize;
use std::time::Duration;

/// What became of a request Binance did not answer with success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Refused, nothing done: an order is rejected with `reason` and Binance's message.
    Refused {
        /// The code strategies see: `insufficient_balance` and `symbol_not_trading`
        /// where Binance's message says so (errors.md, the messages of `-2010`), else
        /// `venue_rejected`.
        reason: RejectReason,
        /// Binance's code.
        code: i64,
        /// Binance's message.
        message: String,
    },
    /// The order to cancel is not open there (`-2011` "Unknown order sent.", `-2013`).
    UnknownOrder {
        /// Binance's message.
        message: String,
    },
    /// `-1021`: the timestamp is outside the window; resync the clock offset and retry
    /// once (nothing was done).
    Timestamp,
    /// HTTP 429: send nothing until `retry_after` has passed.
    RateLimited {
        /// From `Retry-After` (seconds), else a minute.
        retry_after: Duration,
    },
    /// HTTP 418: the IP is banned; send nothing until it ends, and alert.
    Banned {
        /// From `Retry-After`, else two minutes (the shortest ban).
        retry_after: Duration,
    },
    /// The key or the signature is refused (`-2015`, `-1022`, HTTP 401): stop and alert.
    Credentials {
        /// Binance's message.
        message: String,
    },
    /// HTTP 5xx, `-1007` or no answer: the request may have been executed. An order's
    /// status is unknown until it is queried by its client order id; it is never sent
    /// again.
    Unknown,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: i64,
    msg: String,
}

/// The failure an answer with HTTP `status`, `body` and `Retry-After` header means.
pub fn classify(status: u16, body: &str, retry_after: Option<&str>) -> Failure {
    let wait = |default: u64| {
        Duration::from_secs(
            retry_after
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(default),
        )
    };
    match status {
        429 => {
            return Failure::RateLimited {
                retry_after: wait(60),
            }
        }
        418 => {
            return Failure::Banned {
                retry_after: wait(120),
            }
        }
        500..=599 => return Failure::Unknown,
        _ => {}
    }
    let Ok(error) = serde_json::from_str::<ErrorBody>(body) else {
        return match status {
            401 => Failure::Credentials {
                message: format!("HTTP {status}"),
            },
            // A 4xx without Binance's body (a WAF's 403, say): refused, nothing done.
            _ => Failure::Refused {
                reason: RejectReason::VenueRejected,
                code: 0,
                message: format!(
                    "HTTP {status}: {}",
                    body.chars().take(200).collect::<String>()
                ),
            },
        };
    };
    match error.code {
        -1021 => Failure::Timestamp,
        -1007 => Failure::Unknown,
        -2015 | -1022 => Failure::Credentials { message: error.msg },
        -2011 | -2013 => Failure::UnknownOrder { message: error.msg },
        code => Failure::Refused {
            reason: refusal_reason(&error.msg),
            code,
            message: error.msg,
        },
    }
}

/// The reason code a refusal's message means (errors.md: "Messages for -1010, -2010,
/// -2011 and -2038").
fn refusal_reason(message: &str) -> RejectReason {
    match message.trim_end_matches('.') {
        "Account has insufficient balance for requested action" => {
            RejectReason::InsufficientBalance
        }
        "Market is closed" => RejectReason::SymbolNotTrading,
        _ => RejectReason::VenueRejected,
    }
}

impl Failure {
    /// The code an order refused with this failure carries.
    pub fn reason(&self) -> RejectReason {
        match self {
            Failure::Refused { reason, .. } => *reason,
            Failure::RateLimited { .. } | Failure::Banned { .. } => RejectReason::VenueRateBudget,
            Failure::UnknownOrder { .. }
            | Failure::Timestamp
            | Failure::Credentials { .. }
            | Failure::Unknown => RejectReason::VenueRejected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(code: i64, message: &str) -> Failure {
        Failure::Refused {
            reason: RejectReason::VenueRejected,
            code,
            message: message.into(),
        }
    }

    #[test]
    fn each_documented_answer_is_a_state() {
        let cases: Vec<(u16, &str, Option<&str>, Failure)> = vec![
            (
                400,
                r#"{"code":-1013,"msg":"Filter failure: LOT_SIZE"}"#,
                None,
                refused(-1013, "Filter failure: LOT_SIZE"),
            ),
            (
                400,
                r#"{"code":-2010,"msg":"Account has insufficient balance for requested action."}"#,
                None,
                Failure::Refused {
                    reason: RejectReason::InsufficientBalance,
                    code: -2010,
                    message: "Account has insufficient balance for requested action.".into(),
                },
            ),
            (
                400,
                r#"{"code":-2010,"msg":"Market is closed."}"#,
                None,
                Failure::Refused {
                    reason: RejectReason::SymbolNotTrading,
                    code: -2010,
                    message: "Market is closed.".into(),
                },
            ),
            (
                400,
                r#"{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}"#,
                None,
                Failure::Timestamp,
            ),
            (
                400,
                r#"{"code":-2011,"msg":"Unknown order sent."}"#,
                None,
                Failure::UnknownOrder {
                    message: "Unknown order sent.".into(),
                },
            ),
            (
                400,
                r#"{"code":-2013,"msg":"Order does not exist."}"#,
                None,
                Failure::UnknownOrder {
                    message: "Order does not exist.".into(),
                },
            ),
            (
                401,
                r#"{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}"#,
                None,
                Failure::Credentials {
                    message: "Invalid API-key, IP, or permissions for action.".into(),
                },
            ),
            (
                400,
                r#"{"code":-1022,"msg":"Signature for this request is not valid."}"#,
                None,
                Failure::Credentials {
                    message: "Signature for this request is not valid.".into(),
                },
            ),
            (
                408,
                r#"{"code":-1007,"msg":"Timeout waiting for response from backend server. Send status unknown; execution status unknown."}"#,
                None,
                Failure::Unknown,
            ),
            (
                429,
                r#"{"code":-1003,"msg":"Too many requests."}"#,
                Some("7"),
                Failure::RateLimited {
                    retry_after: Duration::from_secs(7),
                },
            ),
            (
                429,
                "",
                None,
                Failure::RateLimited {
                    retry_after: Duration::from_secs(60),
                },
            ),
            (
                418,
                r#"{"code":-1003,"msg":"Way too many requests; IP banned until 1700000000000."}"#,
                Some("300"),
                Failure::Banned {
                    retry_after: Duration::from_secs(300),
                },
            ),
            (502, "<html>Bad Gateway</html>", None, Failure::Unknown),
            (
                503,
                r#"{"code":-1008,"msg":"Server is currently overloaded with other requests."}"#,
                None,
                Failure::Unknown,
            ),
            (
                403,
                "<html>forbidden</html>",
                None,
                refused(0, "HTTP 403: <html>forbidden</html>"),
            ),
        ];
        for (status, body, retry_after, expected) in cases {
            assert_eq!(
                classify(status, body, retry_after),
                expected,
                "{status} {body}"
            );
        }
        let waits = Failure::RateLimited {
            retry_after: Duration::from_secs(1),
        };
        assert_eq!(waits.reason(), RejectReason::VenueRateBudget);
        assert_eq!(Failure::Unknown.reason(), RejectReason::VenueRejected);
    }
}
