//! The venue's budgets: `exchangeInfo.rateLimits` states them (request weight per minute,
//! orders per 10 seconds and per day), and every answer says how much is used
//! (`X-MBX-USED-WEIGHT-1M`, `X-MBX-ORDER-COUNT-10S`, `X-MBX-ORDER-COUNT-1D`). An order that
//! would pass a budget is refused before it is sent: sending it would earn a 429, and
//! repeated 429s a ban (418).

use serde::Deserialize;
use std::time::{Duration, Instant};

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LimitKind {
    /// The weight of every request.
    RequestWeight,
    /// New orders.
    Orders,
    /// Raw requests (not reported in headers; not tracked).
    RawRequests,
    /// A kind this build does not know.
    #[serde(other)]
    Other,
}

/// One of `exchangeInfo.rateLimits`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    /// What it counts.
    pub rate_limit_type: LimitKind,
    /// `SECOND`, `MINUTE` or `DAY`.
    pub interval: String,
    /// How many intervals.
    pub interval_num: u32,
    /// The most allowed in that window.
    pub limit: u64,
}

impl RateLimit {
    /// How long its window lasts.
    pub fn window(&self) -> Duration {
        let unit = match self.interval.as_str() {
            "SECOND" => 1,
            "MINUTE" => 60,
            "HOUR" => 3_600,
            _ => 86_400,
        };
        Duration::from_secs(unit * u64::from(self.interval_num.max(1)))
    }

    /// The header that reports its use, lowercase: `x-mbx-used-weight-1m`,
    /// `x-mbx-order-count-10s`.
    pub fn header(&self) -> Option<String> {
        let unit = match self.interval.as_str() {
            "SECOND" => "S",
            "MINUTE" => "M",
            "HOUR" => "H",
            "DAY" => "D",
            _ => return None,
        };
        let name = match self.rate_limit_type {
            LimitKind::RequestWeight => "x-mbx-used-weight",
            LimitKind::Orders => "x-mbx-order-count",
            LimitKind::RawRequests | LimitKind::Other => return None,
        };
        Some(format!("{name}-{}{unit}", self.interval_num).to_ascii_lowercase())
    }
}

/// Reads the `rateLimits` of an `exchangeInfo` answer.
pub fn parse(exchange_info: &str) -> Result<Vec<RateLimit>, serde_json::Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Answer {
        rate_limits: Vec<RateLimit>,
    }
    Ok(serde_json::from_str::<Answer>(exchange_info)?.rate_limits)
}

/// The share of the request weight limit that queries may use before they wait for the
/// window to roll (numerator, denominator): the rest is kept for orders and cancels.
pub const PACED_SHARE: (u64, u64) = (8, 10);

/// One budget: the limit, the header that reports its use, the use last reported and
/// when.
#[derive(Debug, Clone)]
struct Tracked {
    limit: RateLimit,
    header: Option<String>,
    used: u64,
    seen: Option<Instant>,
}

/// The budgets and their use as the last answers reported it. A use reported longer ago
/// than its window is over: the window has rolled since.
#[derive(Debug, Clone)]
pub struct RateBudget {
    limits: Vec<Tracked>,
}

impl RateBudget {
    /// Budgets for these limits, nothing used yet.
    pub fn new(limits: Vec<RateLimit>) -> Self {
        RateBudget {
            limits: limits
                .into_iter()
                .map(|limit| Tracked {
                    header: limit.header(),
                    limit,
                    used: 0,
                    seen: None,
                })
                .collect(),
        }
    }

    /// Takes the use an answer's headers report (names in any case).
    pub fn observe<'a>(&mut self, headers: impl IntoIterator<Item = (&'a str, &'a str)>) {
        let now = Instant::now();
        for (name, value) in headers {
            let name = name.to_ascii_lowercase();
            let Ok(used) = value.trim().parse::<u64>() else {
                continue;
            };
            for tracked in &mut self.limits {
                if tracked.header.as_deref() == Some(name.as_str()) {
                    tracked.used = used;
                    tracked.seen = Some(now);
                }
            }
        }
    }

    /// Whether one more order of request weight `weight` fits every budget; else which
    /// budget it would pass, for the refusal's message.
    pub fn allows_order(&self, weight: u64) -> Result<(), String> {
        self.allows_order_at(weight, Instant::now())
    }

    /// How long a request of `weight` that can wait (a query, not an order or a
    /// cancel) should wait: until the window rolls when it would take the request
    /// weight used past [`PACED_SHARE`] of the limit, else not at all. Start-up and
    /// reconnects ask many such questions at once; orders keep the rest.
    pub fn wait_before(&self, weight: u64) -> std::time::Duration {
        self.wait_before_at(weight, Instant::now())
    }

    fn wait_before_at(&self, weight: u64, now: Instant) -> std::time::Duration {
        let mut wait = Duration::ZERO;
        for tracked in &self.limits {
            if tracked.limit.rate_limit_type != LimitKind::RequestWeight {
                continue;
            }
            let Some(seen) = tracked.seen else { continue };
            let age = now.duration_since(seen);
            let window = tracked.limit.window();
            if age >= window {
                continue;
            }
            let share = tracked.limit.limit * PACED_SHARE.0 / PACED_SHARE.1;
            if tracked.used + weight > share {
                wait = wait.max(window - age);
            }
        }
        wait
    }

    fn allows_order_at(&self, weight: u64, now: Instant) -> Result<(), String> {
        for Tracked {
            limit,
            header,
            used,
            seen,
        } in &self.limits
        {
            let cost = match limit.rate_limit_type {
                LimitKind::RequestWeight => weight,
                LimitKind::Orders => 1,
                LimitKind::RawRequests | LimitKind::Other => continue,
            };
            let current = seen.is_some_and(|at| now.duration_since(at) < limit.window());
            let used = if current { *used } else { 0 };
            if used + cost > limit.limit {
                return Err(format!(
                    "the venue's budget of {} {:?} per {} {} is used ({used}, {})",
                    limit.limit,
                    limit.rate_limit_type,
                    limit.interval_num,
                    limit.interval.to_lowercase(),
                    header.as_deref().unwrap_or("not reported")
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// rateLimits as the REST API documentation's exchangeInfo example gives them.
    const INFO: &str = r#"{"timezone":"UTC","serverTime":1565246363776,"rateLimits":[
        {"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000},
        {"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50},
        {"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,"limit":160000},
        {"rateLimitType":"RAW_REQUESTS","interval":"MINUTE","intervalNum":5,"limit":61000}
    ],"exchangeFilters":[],"symbols":[]}"#;

    #[test]
    fn limits_name_their_headers() {
        let limits = parse(INFO).unwrap();
        let headers: Vec<_> = limits.iter().map(RateLimit::header).collect();
        assert_eq!(
            headers,
            [
                Some("x-mbx-used-weight-1m".to_owned()),
                Some("x-mbx-order-count-10s".to_owned()),
                Some("x-mbx-order-count-1d".to_owned()),
                None
            ]
        );
    }

    #[test]
    fn an_order_past_a_budget_is_refused_before_it_is_sent() {
        let mut budget = RateBudget::new(parse(INFO).unwrap());
        assert!(budget.allows_order(1).is_ok());
        budget.observe([
            ("X-MBX-USED-WEIGHT-1M", "120"),
            ("X-MBX-ORDER-COUNT-10S", "49"),
        ]);
        assert!(
            budget.allows_order(1).is_ok(),
            "the 50th order of the window fits"
        );
        budget.observe([("x-mbx-order-count-10s", "50")]);
        let why = budget.allows_order(1).unwrap_err();
        assert!(why.contains("budget of 50 Orders per 10 second"), "{why}");
        budget.observe([
            ("X-MBX-ORDER-COUNT-10S", "3"),
            ("X-MBX-USED-WEIGHT-1M", "5999"),
        ]);
        assert!(budget.allows_order(1).is_ok());
        assert!(budget.allows_order(2).is_err(), "weight 2 would pass 6000");
        // A header it cannot read changes nothing.
        budget.observe([("X-MBX-USED-WEIGHT-1M", "lots")]);
        assert!(budget.allows_order(2).is_err());
        // A minute on, the weight's window has rolled.
        let later = Instant::now() + Duration::from_secs(61);
        assert!(budget.allows_order_at(2, later).is_ok());
    }

    #[test]
    fn queries_wait_for_the_window_when_the_weight_nears_the_limit() {
        let mut budget = RateBudget::new(parse(INFO).unwrap());
        assert_eq!(budget.wait_before(20), Duration::ZERO, "nothing used yet");
        budget.observe([("X-MBX-USED-WEIGHT-1M", "4780")]);
        assert_eq!(
            budget.wait_before(20),
            Duration::ZERO,
            "4800 of 6000: within the share"
        );
        let now = Instant::now();
        let wait = budget.wait_before_at(21, now);
        assert!(
            wait > Duration::from_secs(59) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        let later = now + Duration::from_secs(61);
        assert_eq!(budget.wait_before_at(21, later), Duration::ZERO, "rolled");
    }
}
