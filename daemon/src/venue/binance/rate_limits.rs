//! The venue's budgets: `exchangeInfo.rateLimits` states them (request weight per minute,
//! orders per 10 seconds and per day), and every answer says how much is used
//! (`X-MBX-USED-WEIGHT-1M`, `X-MBX-ORDER-COUNT-10S`, `X-MBX-ORDER-COUNT-1D`). An order that
//! would pass a budget is refused before it is sent: sending it would earn a 429, and
//! repeated 429s a ban (418).

use serde::Deserialize;

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

/// The budgets and their use as the last answers reported it.
#[derive(Debug, Clone)]
pub struct RateBudget {
    limits: Vec<(RateLimit, Option<String>, u64)>,
}

impl RateBudget {
    /// Budgets for these limits, nothing used yet.
    pub fn new(limits: Vec<RateLimit>) -> Self {
        RateBudget {
            limits: limits
                .into_iter()
                .map(|l| {
                    let header = l.header();
                    (l, header, 0)
                })
                .collect(),
        }
    }

    /// Takes the use an answer's headers report (names in any case).
    pub fn observe<'a>(&mut self, headers: impl IntoIterator<Item = (&'a str, &'a str)>) {
        for (name, value) in headers {
            let name = name.to_ascii_lowercase();
            let Ok(used) = value.trim().parse::<u64>() else {
                continue;
            };
            for (_, header, seen) in &mut self.limits {
                if header.as_deref() == Some(name.as_str()) {
                    *seen = used;
                }
            }
        }
    }

    /// Whether one more order of request weight `weight` fits every budget; else which
    /// budget it would pass, for the refusal's message.
    pub fn allows_order(&self, weight: u64) -> Result<(), String> {
        for (limit, header, used) in &self.limits {
            let cost = match limit.rate_limit_type {
                LimitKind::RequestWeight => weight,
                LimitKind::Orders => 1,
                LimitKind::RawRequests | LimitKind::Other => continue,
            };
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
    }
}
