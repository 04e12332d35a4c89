//! Binance spot: the adapter's parts, each tested against Binance's documented examples
//! and, over loopback HTTP, against the fake exchange of `pennant-testkit`
//! (`tests/binance.rs`). The venue's task (in [`venue`]) holds the REST client and the
//! user data stream; [`setup`] makes it from a `[[venue]] kind = "binance"`, and the
//! daemon starts it. The market data feed (`feed::binance`, above the engine) connects
//! to the market streams and reads their messages with [`market_stream`].
//!
//! - [`backoff`]: the wait before connecting again to a stream.
//! - [`setup`]: a `[[venue]] kind = "binance"` made ready to start: keys, instruments
//!   checked against `exchangeInfo`, rate limits, the stream's settings.
//! - [`sign`]: HMAC-SHA256 request signing and the timestamp window.
//! - [`exchange_info`]: `GET /api/v3/exchangeInfo` read into each symbol's trading
//!   status and filters, our symbols mapped to Binance's, and a configured instrument
//!   checked against what the exchange says.
//! - [`errors`]: Binance's error codes and HTTP statuses, as states the engine knows.
//! - [`keys`]: the API key and secret from systemd credentials or the environment.
//! - [`known_ids`]: Binance's ids of our orders, bounded.
//! - [`market_stream`]: trades and book tickers from the market streams, as events.
//! - [`orders`]: the REST forms of a new order and of a cancel or query by client id,
//!   and the clock offset.
//! - [`rate_limits`]: the venue's budgets and their use, and an order refused before it
//!   would pass one.
//! - [`rest`]: the REST client: signed requests with the clock offset, `-1021` resynced
//!   and retried once, Binance's waits kept before anything else is sent.
//! - [`venue`]: the venue behind the boundary: commands to a tokio task, answers back
//!   as engine inputs, an order without an answer asked about, never sent twice; the
//!   user data stream's fills, a reconnect's missed trades from `myTrades`, and open
//!   orders canceled after too long without the stream.
//! - [`user_stream`]: execution reports and balances from the user data stream, each
//!   trade once.

pub mod backoff;
pub mod depth;
pub mod errors;
pub mod exchange_info;
pub mod keys;
pub mod known_ids;
pub mod market_stream;
pub mod orders;
pub mod rate_limits;
pub mod rest;
pub mod setup;
pub mod sign;
pub mod user_stream;
pub mod venue;
