//! # pennant-sdk: trading strategies for Pennant, in plain Rust
//!
//! A Pennant strategy is a type that implements [`Strategy`]: it is built from its
//! parameters in [`Strategy::init`], reacts to market data and order updates, and acts
//! through the [`Host`] it is handed: submitting and canceling orders, reading its
//! position, setting timers, logging and emitting signals. [`export_strategy!`] turns it
//! into a WebAssembly component that the `pennantd` daemon loads; [`testing::Harness`]
//! runs it natively in unit tests, filling its orders with the paper venue's own fill model
//! ([`matching`]), so a unit test sees the fills a paper session gives.
//!
//! Money is fixed-point ([`Price`], [`Qty`], [`Amount`]: 8 decimal places on an `i64`):
//! parse them from decimal strings, do checked arithmetic, and convert to `f64` only for
//! indicators.
//!
//! ## A complete strategy
//!
//! ```
//! use pennant_sdk::prelude::*;
//!
//! /// Buys `qty` when the price drops `drop` below the first trade seen, sells it back on
//! /// the way up.
//! pub struct DipBuyer {
//!     instrument: InstrumentId,
//!     qty: Qty,
//!     drop: Price,
//!     anchor: Option<Price>,
//! }
//!
//! impl Strategy for DipBuyer {
//!     fn init(host: &mut dyn Host, params: &Params) -> Result<Self, InitError> {
//!         params.deny_unknown(&["instrument", "qty", "drop"])?;
//!         let symbol: String = params.require("instrument")?;
//!         let info = host
//!             .lookup_instrument(&symbol)
//!             .ok_or_else(|| format!("unknown instrument {symbol}"))?;
//!         host.subscribe(info.id, Streams::TRADES);
//!         Ok(DipBuyer {
//!             instrument: info.id,
//!             qty: params.require("qty")?,
//!             drop: params.require("drop")?,
//!             anchor: None,
//!         })
//!     }
//!
//!     fn on_trade(&mut self, host: &mut dyn Host, trade: &Trade) {
//!         let anchor = *self.anchor.get_or_insert(trade.price);
//!         let long = host.position(self.instrument).qty.is_positive();
//!         let order = if !long && trade.price <= anchor - self.drop {
//!             OrderRequest::market(self.instrument, Side::Buy, self.qty)
//!         } else if long && trade.price >= anchor {
//!             OrderRequest::market(self.instrument, Side::Sell, self.qty)
//!         } else {
//!             return;
//!         };
//!         if let Err(rejection) = host.submit_order(&order) {
//!             host.log(LogLevel::Warn, &format!("order refused: {rejection}"));
//!         }
//!     }
//!
//!     fn snapshot(&self) -> Vec<u8> {
//!         pennant_sdk::state::encode(&self.anchor)
//!     }
//!
//!     fn restore(&mut self, _host: &mut dyn Host, state: &[u8]) -> Result<(), InitError> {
//!         self.anchor = pennant_sdk::state::decode(state)?;
//!         Ok(())
//!     }
//! }
//!
//! // In the strategy crate (crate-type = ["cdylib", "rlib"]):
//! pennant_sdk::export_strategy!(DipBuyer);
//!
//! // And its unit test:
//! use pennant_sdk::testing::{Harness, px, qty};
//! let mut h = Harness::<DipBuyer>::new().with_instrument("BTC-USDT", "0.01", "0.0001");
//! h.init(&[("instrument", "BTC-USDT"), ("qty", "0.5"), ("drop", "100")]).unwrap();
//! h.quote("BTC-USDT", px("49899"), qty("1"), px("49901"), qty("1"));
//! h.trade("BTC-USDT", px("50000"), qty("0.1"), Side::Buy);
//! h.trade("BTC-USDT", px("49900"), qty("0.1"), Side::Sell); // the dip: buys at the ask
//! assert_eq!(h.position("BTC-USDT").qty, qty("0.5"));
//! assert_eq!(h.position("BTC-USDT").avg_price, px("49901"));
//! ```
//!
//! Build the component with `cargo build --target wasm32-wasip2 --release`; the `.wasm`
//! file in `target/wasm32-wasip2/release/` is what the daemon loads. The contract itself
//! is the WIT package in this crate's `wit/` folder.

#![warn(missing_docs)]

extern crate self as pennant_sdk;

pub mod backoff;
pub mod batch;
pub mod book;
pub mod fixed;
pub mod matching;
pub mod params;
pub mod record;
pub mod state;
pub mod strategy;
pub mod testing;
pub mod types;

#[cfg(target_arch = "wasm32")]
pub mod guest;

pub use fixed::{Amount, ParseFixedError, Price, Qty};
pub use params::{InitError, ParamError, Params};
pub use strategy::{Host, Strategy};
pub use types::*;

/// Everything a strategy usually needs, in one `use`.
pub mod prelude {
    pub use crate::backoff::Backoff;
    pub use crate::fixed::{Amount, Price, Qty};
    pub use crate::params::{InitError, Params};
    pub use crate::strategy::{Host, Strategy};
    pub use crate::types::{
        Bar, BookFlags, BookLevel, InstrumentId, InstrumentInfo, Liquidity, LogLevel, OrderId,
        OrderKind, OrderRequest, OrderStatus, OrderUpdate, Position, Quote, RejectReason,
        Rejection, Side, Signal, Streams, TimeInForce, Timestamp, Trade, NANOS_PER_MILLI,
        NANOS_PER_SECOND,
    };
}

/// Not public API: used by [`export_strategy!`].
#[doc(hidden)]
pub mod __private {
    #[cfg(target_arch = "wasm32")]
    pub use crate::guest::{self, bindings};
    #[cfg(target_arch = "wasm32")]
    pub use wit_bindgen;
}

/// Exports a [`Strategy`] as the component's implementation of the `pennant:strategy`
/// contract. Use it once, in the strategy crate's `lib.rs`. On other targets than
/// `wasm32` it expands to nothing, so the crate still builds natively for tests.
#[macro_export]
macro_rules! export_strategy {
    ($strategy:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::__private::guest;

            ::std::thread_local! {
                static SLOT: guest::Slot<$strategy> = const { ::core::cell::RefCell::new(None) };
            }

            struct Component;

            impl guest::Guest for Component {
                fn init(params: ::std::vec::Vec<guest::Param>) -> Result<(), ::std::string::String> {
                    SLOT.with(|slot| guest::init::<$strategy>(slot, params))
                }
                fn on_market(batch: ::std::vec::Vec<u8>) -> u32 {
                    SLOT.with(|slot| guest::on_market::<$strategy>(slot, batch))
                }
                fn on_bar(bar: guest::WitBar) {
                    SLOT.with(|slot| guest::on_bar::<$strategy>(slot, bar))
                }
                fn on_order_update(update: guest::WitOrderUpdate) {
                    SLOT.with(|slot| guest::on_order_update::<$strategy>(slot, update))
                }
                fn on_timer(token: u64) {
                    SLOT.with(|slot| guest::on_timer::<$strategy>(slot, token))
                }
                fn snapshot() -> ::std::vec::Vec<u8> {
                    SLOT.with(|slot| guest::snapshot::<$strategy>(slot))
                }
                fn restore(state: ::std::vec::Vec<u8>) -> Result<(), ::std::string::String> {
                    SLOT.with(|slot| guest::restore::<$strategy>(slot, state))
                }
            }

            $crate::__private::bindings::__export_plugin!(Component with_types_in $crate::__private::bindings);
        };
    };
}
