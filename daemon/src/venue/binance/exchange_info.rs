//! `GET /api/v3/exchangeInfo`: each symbol's trading status and filters, and a configured
//! instrument checked against them. Our symbols are `BASE-QUOTE` (`BTC-USDT`); Binance's
//! run the assets together (`BTCUSDT`), so a symbol is matched by its base and quote
//! assets, never by cutting a string.

use pennant_sdk::{Amount, InstrumentInfo, Price, Qty};
use serde::Deserialize;

/// Why the exchange's answer cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeInfoError {
    /// Not the JSON Binance documents.
    #[error("exchangeInfo: {0}")]
    Json(#[from] serde_json::Error),
    /// A filter value is not a decimal we can hold.
    #[error("exchangeInfo: {symbol} {filter}: {value:?} is not a decimal with at most 8 places")]
    Decimal {
        /// The symbol.
        symbol: String,
        /// The filter and field.
        filter: &'static str,
        /// As sent.
        value: String,
    },
}

/// Whether a symbol trades (`status` of a symbol).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SymbolStatus {
    /// Orders are taken.
    Trading,
    /// Trading has ended for the day.
    EndOfDay,
    /// Halted.
    Halt,
    /// A break.
    Break,
    /// Only cancels are taken.
    CancelOnly,
    /// A status this build does not know: treated as not trading.
    #[serde(other)]
    Other,
}

/// One symbol's rules, as the exchange states them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolRules {
    /// Binance's symbol (`BTCUSDT`).
    pub symbol: String,
    /// Ours (`BTC-USDT`).
    pub ours: String,
    /// Whether it trades.
    pub status: SymbolStatus,
    /// `PRICE_FILTER` tickSize (zero: no price step).
    pub tick_size: Price,
    /// `LOT_SIZE` stepSize.
    pub step_size: Qty,
    /// `LOT_SIZE` minQty.
    pub min_qty: Qty,
    /// `LOT_SIZE` maxQty.
    pub max_qty: Qty,
    /// `NOTIONAL` (or the older `MIN_NOTIONAL`) minNotional.
    pub min_notional: Amount,
    /// `NOTIONAL` maxNotional, if the symbol has one.
    pub max_notional: Option<Amount>,
}

#[derive(Deserialize)]
struct Answer {
    symbols: Vec<Symbol>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Symbol {
    symbol: String,
    status: SymbolStatus,
    base_asset: String,
    quote_asset: String,
    filters: Vec<Filter>,
}

#[derive(Deserialize)]
#[serde(tag = "filterType", rename_all = "SCREAMING_SNAKE_CASE")]
enum Filter {
    #[serde(rename = "PRICE_FILTER", rename_all = "camelCase")]
    Price { tick_size: String },
    #[serde(rename_all = "camelCase")]
    LotSize {
        min_qty: String,
        max_qty: String,
        step_size: String,
    },
    #[serde(rename_all = "camelCase")]
    MinNotional { min_notional: String },
    #[serde(rename_all = "camelCase")]
    Notional {
        min_notional: String,
        max_notional: Option<String>,
    },
    /// Filters the adapter does not enforce itself (the exchange does).
    #[serde(other)]
    Other,
}

/// Reads an `exchangeInfo` answer into each symbol's rules.
pub fn parse(body: &str) -> Result<Vec<SymbolRules>, ExchangeInfoError> {
    let answer: Answer = serde_json::from_str(body)?;
    answer.symbols.into_iter().map(rules).collect()
}

fn rules(s: Symbol) -> Result<SymbolRules, ExchangeInfoError> {
    let decimal = |filter: &'static str, value: &str| {
        value
            .parse::<Amount>()
            .map_err(|_| ExchangeInfoError::Decimal {
                symbol: s.symbol.clone(),
                filter,
                value: value.to_owned(),
            })
    };
    let mut rules = SymbolRules {
        symbol: s.symbol.clone(),
        ours: format!("{}-{}", s.base_asset, s.quote_asset),
        status: s.status,
        tick_size: Price::ZERO,
        step_size: Qty::ZERO,
        min_qty: Qty::ZERO,
        max_qty: Qty::ZERO,
        min_notional: Amount::ZERO,
        max_notional: None,
    };
    let price = |a: Amount| Price::from_raw(a.raw());
    let qty = |a: Amount| Qty::from_raw(a.raw());
    for filter in &s.filters {
        match filter {
            Filter::Price { tick_size } => {
                rules.tick_size = price(decimal("PRICE_FILTER tickSize", tick_size)?);
            }
            Filter::LotSize {
                min_qty,
                max_qty,
                step_size,
            } => {
                rules.min_qty = qty(decimal("LOT_SIZE minQty", min_qty)?);
                rules.max_qty = qty(decimal("LOT_SIZE maxQty", max_qty)?);
                rules.step_size = qty(decimal("LOT_SIZE stepSize", step_size)?);
            }
            // NOTIONAL replaced MIN_NOTIONAL; a symbol with both is held to the larger.
            Filter::MinNotional { min_notional } => {
                let min = decimal("MIN_NOTIONAL minNotional", min_notional)?;
                rules.min_notional = rules.min_notional.max(min);
            }
            Filter::Notional {
                min_notional,
                max_notional,
            } => {
                let min = decimal("NOTIONAL minNotional", min_notional)?;
                rules.min_notional = rules.min_notional.max(min);
                rules.max_notional = max_notional
                    .as_deref()
                    .map(|v| decimal("NOTIONAL maxNotional", v))
                    .transpose()?;
            }
            Filter::Other => {}
        }
    }
    Ok(rules)
}

/// Where a configured instrument and the exchange's rules disagree: each line names the
/// key, our value and Binance's. Empty when they agree.
pub fn mismatches(configured: &InstrumentInfo, rules: &SymbolRules) -> Vec<String> {
    const OFF_STEP: &str = "prices and quantities must be on the exchange's steps";
    const TOO_SMALL: &str = "smaller orders would be refused there";
    let c = configured;
    // (key, wrong, ours, Binance's, why)
    let checks = [
        (
            "tick_size",
            c.tick_size != rules.tick_size,
            c.tick_size.to_string(),
            rules.tick_size.to_string(),
            OFF_STEP,
        ),
        (
            "lot_size",
            c.lot_size != rules.step_size,
            c.lot_size.to_string(),
            rules.step_size.to_string(),
            OFF_STEP,
        ),
        (
            "min_qty",
            c.min_qty < rules.min_qty,
            c.min_qty.to_string(),
            rules.min_qty.to_string(),
            TOO_SMALL,
        ),
        (
            "min_notional",
            c.min_notional < rules.min_notional,
            c.min_notional.to_string(),
            rules.min_notional.to_string(),
            TOO_SMALL,
        ),
    ];
    checks
        .into_iter()
        .filter(|check| check.1)
        .map(|(key, _, ours, theirs, why)| {
            format!(
                "{}: {key} is {ours} in the configuration, {theirs} at Binance ({}): {why}",
                c.symbol, rules.symbol
            )
        })
        .collect()
}

/// The rules of our symbol `ours` (`BTC-USDT`), if the exchange lists it.
pub fn find<'a>(rules: &'a [SymbolRules], ours: &str) -> Option<&'a SymbolRules> {
    rules.iter().find(|r| r.ours == ours)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pennant_sdk::testing::{amount, px, qty};

    /// Shaped as the REST API documentation's `exchangeInfo` example, with the filters of
    /// filters.md; fields the adapter does not read are kept, as Binance sends them.
    const ANSWER: &str = r#"{
      "timezone": "UTC",
      "serverTime": 1565246363776,
      "rateLimits": [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 50}
      ],
      "exchangeFilters": [],
      "symbols": [
        {
          "symbol": "BTCUSDT",
          "status": "TRADING",
          "baseAsset": "BTC",
          "baseAssetPrecision": 8,
          "quoteAsset": "USDT",
          "quotePrecision": 8,
          "quoteAssetPrecision": 8,
          "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
          "icebergAllowed": true,
          "isSpotTradingAllowed": true,
          "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.01000000", "maxPrice": "1000000.00000000", "tickSize": "0.01000000"},
            {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000", "stepSize": "0.00001000"},
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": true, "maxNotional": "9000000.00000000", "applyMaxToMarket": false, "avgPriceMins": 5},
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200}
          ],
          "permissions": [],
          "defaultSelfTradePreventionMode": "EXPIRE_MAKER"
        },
        {
          "symbol": "ETHBTC",
          "status": "BREAK",
          "baseAsset": "ETH",
          "quoteAsset": "BTC",
          "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.00000100", "maxPrice": "100000.00000000", "tickSize": "0.00000100"},
            {"filterType": "LOT_SIZE", "minQty": "0.00100000", "maxQty": "100000.00000000", "stepSize": "0.00100000"},
            {"filterType": "MIN_NOTIONAL", "minNotional": "0.00100000", "applyToMarket": true, "avgPriceMins": 5}
          ]
        }
      ]
    }"#;

    fn instrument(
        symbol: &str,
        tick: &str,
        lot: &str,
        min_qty: &str,
        min_notional: &str,
    ) -> InstrumentInfo {
        InstrumentInfo {
            id: 1,
            symbol: symbol.into(),
            tick_size: px(tick),
            lot_size: qty(lot),
            min_qty: qty(min_qty),
            min_notional: amount(min_notional),
        }
    }

    #[test]
    fn reads_each_symbols_status_and_filters() {
        let rules = parse(ANSWER).unwrap();
        let btc = find(&rules, "BTC-USDT").unwrap();
        assert_eq!(btc.symbol, "BTCUSDT");
        assert_eq!(btc.status, SymbolStatus::Trading);
        assert_eq!(
            (btc.tick_size, btc.step_size, btc.min_qty, btc.max_qty),
            (px("0.01"), qty("0.00001"), qty("0.00001"), qty("9000"))
        );
        assert_eq!(
            (btc.min_notional, btc.max_notional),
            (amount("5"), Some(amount("9000000")))
        );
        let eth = find(&rules, "ETH-BTC").unwrap();
        assert_eq!(eth.status, SymbolStatus::Break);
        assert_eq!(
            (eth.min_notional, eth.max_notional),
            (amount("0.001"), None)
        );
        assert!(
            find(&rules, "BTCUSDT").is_none(),
            "matched by assets, not by a cut string"
        );
    }

    #[test]
    fn an_instrument_that_disagrees_with_the_exchange_is_named_key_by_key() {
        let rules = parse(ANSWER).unwrap();
        let btc = find(&rules, "BTC-USDT").unwrap();
        assert!(mismatches(
            &instrument("BTC-USDT", "0.01", "0.00001", "0.0001", "10"),
            btc
        )
        .is_empty());
        let wrong = mismatches(
            &instrument("BTC-USDT", "0.1", "0.001", "0.000001", "1"),
            btc,
        );
        assert_eq!(wrong.len(), 4, "{wrong:?}");
        assert_eq!(
            wrong[0],
            "BTC-USDT: tick_size is 0.1 in the configuration, 0.01 at Binance (BTCUSDT): prices and quantities must be on the exchange's steps"
        );
        assert!(
            wrong[3].contains("min_notional is 1 in the configuration, 5 at Binance"),
            "{}",
            wrong[3]
        );
    }

    #[test]
    fn a_status_or_filter_it_does_not_know_is_kept_apart() {
        let body = ANSWER.replace("\"BREAK\"", "\"AUCTION_MATCH\"");
        let rules = parse(&body).unwrap();
        assert_eq!(find(&rules, "ETH-BTC").unwrap().status, SymbolStatus::Other);
        let bad = ANSWER
            .replace("\"0.01000000\", \"maxPrice\"", "\"0.01\", \"maxPrice\"")
            .replace(
                "\"tickSize\": \"0.01000000\"",
                "\"tickSize\": \"0.000000001\"",
            );
        let err = parse(&bad).unwrap_err().to_string();
        assert!(
            err.contains("BTCUSDT PRICE_FILTER tickSize: \"0.000000001\""),
            "{err}"
        );
        assert!(parse("{\"symbols\": 3}").is_err());
    }
}
