//! Query strings: each route names the parameters it takes; anything else is a 400.

use super::error::ApiError;
use crate::records::Named;
use crate::store::{Filter, PageRequest};

/// The largest page a list route returns.
pub const MAX_LIMIT: u32 = 1000;
/// The page size when none is given.
pub const DEFAULT_LIMIT: u32 = 100;
/// The parameters of one request's query string.
#[derive(Debug, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

/// How a list is returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/json` (the default).
    Json,
    /// `text/csv`, with a header row.
    Csv,
}

impl Query {
    /// Parses `raw`, refusing a parameter not in `allowed` or given twice.
    pub fn parse(raw: &str, allowed: &[&str]) -> Result<Query, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)
            .map_err(|err| ApiError::bad_request(format!("malformed query string: {err}")))?;
        for (i, (name, _)) in pairs.iter().enumerate() {
            if !allowed.contains(&name.as_str()) {
                return Err(ApiError::unknown_parameter(name, allowed));
            }
            if pairs[..i].iter().any(|(n, _)| n == name) {
                return Err(ApiError::bad_request(format!(
                    "query parameter {name:?} is given twice"
                )));
            }
        }
        Ok(Query { pairs })
    }

    /// A parameter's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// An integer parameter.
    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse().map_err(|_| {
                    ApiError::bad_request(format!(
                        "query parameter {name}: {v:?} is not an integer"
                    ))
                })
            })
            .transpose()
    }

    /// A value of a closed set, by its name.
    pub fn named<T: Named>(&self, name: &str) -> Result<Option<T>, ApiError> {
        self.get(name)
            .map(|v| {
                T::parse(v)
                    .map_err(|err| ApiError::bad_request(format!("query parameter {name}: {err}")))
            })
            .transpose()
    }

    /// One of `values`.
    pub fn one_of(&self, name: &str, values: &[&str]) -> Result<Option<String>, ApiError> {
        match self.get(name) {
            Some(v) if values.contains(&v) => Ok(Some(v.to_owned())),
            Some(v) => Err(ApiError::bad_request(format!(
                "query parameter {name}: {v:?} is not one of {}",
                values.join(", ")
            ))),
            None => Ok(None),
        }
    }

    /// The record filters: strategy, instrument, status, side, from, to.
    pub fn filter(&self) -> Result<Filter, ApiError> {
        let filter = Filter {
            strategy: self.get("strategy").map(str::to_owned),
            instrument: self.get("instrument").map(str::to_owned),
            status: self.named("status")?,
            side: self.named("side")?,
            from: self.int("from")?,
            to: self.int("to")?,
        };
        // `from` at or after `to` is an empty interval: it selects nothing.
        Ok(filter)
    }

    /// The page asked for: `limit` (1 to [`MAX_LIMIT`]) and `cursor`.
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let limit = match self.int("limit")? {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=i64::from(MAX_LIMIT)).contains(&n) => n as u32,
            Some(n) => {
                return Err(ApiError::bad_request(format!(
                    "limit {n}: give 1 to {MAX_LIMIT}"
                )))
            }
        };
        Ok(PageRequest {
            limit,
            cursor: self.int("cursor")?,
        })
    }

    /// What a record list takes: filters, page, format.
    pub fn list(&self) -> Result<(Filter, PageRequest, Format), ApiError> {
        Ok((self.filter()?, self.page()?, self.format()?))
    }

    /// `format`.
    pub fn format(&self) -> Result<Format, ApiError> {
        Ok(match self.one_of("format", &["json", "csv"])?.as_deref() {
            Some("csv") => Format::Csv,
            _ => Format::Json,
        })
    }
}

/// The parameters of the record lists.
pub const ORDER_PARAMS: &[&str] = &[
    "strategy",
    "instrument",
    "status",
    "side",
    "from",
    "to",
    "limit",
    "cursor",
    "format",
];
/// See [`ORDER_PARAMS`]: fills have no status.
pub const FILL_PARAMS: &[&str] = &[
    "strategy",
    "instrument",
    "side",
    "from",
    "to",
    "limit",
    "cursor",
    "format",
];
/// The parameters of `/signals/stats`: the list's filters.
pub const SIGNAL_STATS_PARAMS: &[&str] = &["strategy", "instrument", "from", "to"];
/// See [`ORDER_PARAMS`]: signals have neither status nor side filter.
pub const SIGNAL_PARAMS: &[&str] = &[
    "strategy",
    "instrument",
    "from",
    "to",
    "limit",
    "cursor",
    "format",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_repeated_and_mistyped_parameters_are_refused() {
        assert_eq!(
            Query::parse("strategy=a&bogus=1", ORDER_PARAMS)
                .unwrap_err()
                .code,
            "unknown_parameter"
        );
        assert_eq!(
            Query::parse("limit=1&limit=2", ORDER_PARAMS)
                .unwrap_err()
                .code,
            "bad_request"
        );
        let q = Query::parse("limit=abc", ORDER_PARAMS).unwrap();
        assert_eq!(q.page().unwrap_err().code, "bad_request");
        let q = Query::parse("limit=0", ORDER_PARAMS).unwrap();
        assert!(q.page().is_err());
        let q = Query::parse("side=up", ORDER_PARAMS).unwrap();
        assert!(q.filter().is_err());
        // An empty interval is not an error: it selects nothing.
        let q = Query::parse("from=5&to=1", ORDER_PARAMS).unwrap();
        assert_eq!(q.filter().unwrap().from, Some(5));
        let q = Query::parse("status=pending_cancel&side=sell", ORDER_PARAMS).unwrap();
        let filter = q.filter().unwrap();
        assert_eq!(
            filter.status,
            Some(crate::records::OrderState::PendingCancel)
        );
        assert_eq!(filter.side, Some(pennant_sdk::Side::Sell));
        let q = Query::parse("status=expired", ORDER_PARAMS).unwrap();
        let err = q.filter().unwrap_err();
        assert!(err.message.contains("pending_cancel"), "{}", err.message);
        let q = Query::parse("strategy=a%20b&limit=5&cursor=9&format=csv", ORDER_PARAMS).unwrap();
        assert_eq!(q.filter().unwrap().strategy.as_deref(), Some("a b"));
        assert_eq!(
            q.page().unwrap(),
            PageRequest {
                limit: 5,
                cursor: Some(9)
            }
        );
        assert_eq!(q.format().unwrap(), Format::Csv);
    }
}
