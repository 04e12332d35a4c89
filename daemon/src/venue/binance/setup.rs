//! From a `[[venue]] kind = "binance"` to what the venue starts with: the keys (systemd
//! credentials or the environment), Binance's clock, `exchangeInfo` checked against the
//! configured instruments (a disagreement is a start-up error naming the key; a symbol
//! not trading is said in the log, and Binance refuses its orders with a reason), the
//! rate limits, and the user data stream's settings.

use super::exchange_info::{self, SymbolStatus};
use super::keys::{self, KeyNames, KeysError};
use super::rate_limits::{self, RateBudget};
use super::rest::RestClient;
use super::venue::{BinanceSetup, StreamSettings, Symbol};
use crate::config::{BanPolicy, VenueConfig};
use crate::records::TradingState;
use crate::venue::ClientOrderIds;
use pennant_sdk::{InstrumentId, InstrumentInfo};
use std::path::Path;
use std::time::Duration;

/// Why a Binance venue cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The keys are not at hand.
    #[error("venue {venue}: {source}")]
    Keys {
        /// The venue.
        venue: String,
        /// Why.
        #[source]
        source: KeysError,
    },
    /// Binance (or the configured URL) did not answer as documented.
    #[error("venue {venue}: cannot read {url}: {message}")]
    Unreachable {
        /// The venue.
        venue: String,
        /// What it asked for.
        url: String,
        /// Why.
        message: String,
    },
    /// Binance refused the keys (`check-config --online`).
    #[error("venue {venue}: Binance refused a signed request with these keys: {message}")]
    KeysRefused {
        /// The venue.
        venue: String,
        /// Binance's answer.
        message: String,
    },
    /// Configured instruments and the exchange disagree.
    #[error("venue {venue}: the instruments disagree with Binance's exchangeInfo: {}", problems.join("; "))]
    Instruments {
        /// The venue.
        venue: String,
        /// One line per disagreement, naming the instrument and key.
        problems: Vec<String>,
    },
}

/// Reads what the venue needs; `instruments` are those routed to it, with their ids.
pub async fn prepare(
    config: &VenueConfig,
    instruments: &[InstrumentInfo],
    ids: ClientOrderIds,
    credentials: Option<&Path>,
) -> Result<BinanceSetup, SetupError> {
    let venue = config.name.get_ref().clone();
    let names = KeyNames {
        key: config.api_key_name.clone(),
        secret: config.api_secret_name.clone(),
    };
    let keys =
        keys::load(&names, credentials, |name| std::env::var(name).ok()).map_err(|source| {
            SetupError::Keys {
                venue: venue.clone(),
                source,
            }
        })?;
    let unreachable = |message: String| SetupError::Unreachable {
        venue: venue.clone(),
        url: format!(
            "{}/api/v3/exchangeInfo",
            config.rest_url.trim_end_matches('/')
        ),
        message,
    };
    let mut rest = RestClient::new(&config.rest_url, keys, config.recv_window_ms)
        .and_then(|rest| rest.with_timeout(Duration::from_millis(config.request_timeout_ms.max(1))))
        .map_err(|err| unreachable(err.to_string()))?;
    let info = rest
        .get_public("/api/v3/exchangeInfo")
        .await
        .map_err(|failure| unreachable(format!("{failure:?}")))?;
    let text = info.to_string();
    let rules = exchange_info::parse(&text).map_err(|err| unreachable(err.to_string()))?;
    rest.budget =
        RateBudget::new(rate_limits::parse(&text).map_err(|err| unreachable(err.to_string()))?);
    let mut problems = Vec::new();
    let mut symbols = rustc_hash::FxHashMap::default();
    for instrument in instruments {
        let Some(found) = exchange_info::find(&rules, &instrument.symbol) else {
            problems.push(format!("{}: Binance does not list it", instrument.symbol));
            continue;
        };
        problems.extend(exchange_info::mismatches(instrument, found));
        if found.status != SymbolStatus::Trading {
            log::warn!(venue = venue.as_str(), instrument = instrument.symbol.as_str(), status:? = found.status; "the symbol is not trading at Binance: its orders are refused (symbol_not_trading) until a restart finds it trading");
        }
        let (base, quote) = found.ours.split_once('-').unwrap_or((&found.ours, ""));
        symbols.insert(
            instrument.id as InstrumentId,
            Symbol {
                name: found.symbol.clone(),
                base: base.to_owned(),
                quote: quote.to_owned(),
                trading: found.status == SymbolStatus::Trading,
            },
        );
    }
    if !problems.is_empty() {
        return Err(SetupError::Instruments { venue, problems });
    }
    let cancel_after = (config.cancel_on_disconnect_secs > 0)
        .then(|| Duration::from_secs(config.cancel_on_disconnect_secs));
    Ok(BinanceSetup {
        name: venue,
        rest,
        symbols,
        ids,
        stream: Some(StreamSettings {
            url: config.ws_api_url.clone(),
            reconnect_min: Duration::from_millis(config.reconnect_min_ms.max(1)),
            reconnect_max: Duration::from_millis(config.reconnect_max_ms.max(1)),
            quiet: Duration::from_secs(60),
            cancel_after,
        }),
        clock_resync: super::venue::CLOCK_RESYNC,
        on_ban: match config.on_ban {
            BanPolicy::Reducing => TradingState::Reducing,
            BanPolicy::Halted => TradingState::Halted,
        },
    })
}

/// Verifies the keys with one signed request (`GET /api/v3/account`): what
/// `check-config --online` says of the venue.
pub async fn verify_keys(setup: &mut BinanceSetup) -> Result<String, SetupError> {
    use super::errors::Failure;
    let venue = setup.name.clone();
    match setup
        .rest
        .signed(reqwest::Method::GET, "/api/v3/account", "")
        .await
    {
        Ok(account) => {
            let assets = account["balances"].as_array().map_or(0, Vec::len);
            let can_trade = account["canTrade"].as_bool().unwrap_or(false);
            Ok(format!(
                "venue {venue}: Binance accepted the keys (canTrade {can_trade}, {assets} assets)"
            ))
        }
        Err(Failure::Credentials { message }) => Err(SetupError::KeysRefused { venue, message }),
        Err(failure) => Err(SetupError::Unreachable {
            venue,
            url: format!("{}/api/v3/account", setup.rest.base_url()),
            message: format!("{failure:?}"),
        }),
    }
}
