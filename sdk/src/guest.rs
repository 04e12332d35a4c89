//! The WebAssembly side of the contract: generated bindings, conversions between them and
//! the SDK's types, and the adapter behind [`crate::export_strategy!`]. Compiled only for
//! `wasm32` targets; strategy authors never use this module directly.

use crate::params::Params;
use crate::strategy::{Host, Strategy};
use crate::types as sdk;
use crate::{Amount, Price, Qty};
use std::cell::RefCell;

#[allow(missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "__export_plugin",
        default_bindings_module: "pennant_sdk::__private::bindings",
        runtime_path: "pennant_sdk::__private::wit_bindgen::rt",
    });
}

use bindings::pennant::strategy::host as wit_host;
use bindings::pennant::strategy::types as wit;

pub use bindings::exports::pennant::strategy::strategy::Guest;
pub use wit::{
    Bar as WitBar, OrderUpdate as WitOrderUpdate, Param, Quote as WitQuote, Trade as WitTrade,
};

fn side_from(side: wit::Side) -> sdk::Side {
    match side {
        wit::Side::Buy => sdk::Side::Buy,
        wit::Side::Sell => sdk::Side::Sell,
    }
}

fn side_to(side: sdk::Side) -> wit::Side {
    match side {
        sdk::Side::Buy => wit::Side::Buy,
        sdk::Side::Sell => wit::Side::Sell,
    }
}

fn reason_from(reason: wit::RejectReason) -> sdk::RejectReason {
    use sdk::RejectReason as R;
    use wit::RejectReason as W;
    match reason {
        W::UnknownInstrument => R::UnknownInstrument,
        W::InvalidQuantity => R::InvalidQuantity,
        W::InvalidPrice => R::InvalidPrice,
        W::TickSize => R::TickSize,
        W::LotSize => R::LotSize,
        W::MinQuantity => R::MinQuantity,
        W::MaxQuantity => R::MaxQuantity,
        W::MinNotional => R::MinNotional,
        W::MaxNotional => R::MaxNotional,
        W::PriceBand => R::PriceBand,
        W::NoReferencePrice => R::NoReferencePrice,
        W::MaxPosition => R::MaxPosition,
        W::MaxGrossExposure => R::MaxGrossExposure,
        W::MaxOpenOrders => R::MaxOpenOrders,
        W::RateLimit => R::RateLimit,
        W::MaxDailyLoss => R::MaxDailyLoss,
        W::SelfTrade => R::SelfTrade,
        W::InstrumentNotAllowed => R::InstrumentNotAllowed,
        W::DuplicateClientOrderId => R::DuplicateClientOrderId,
        W::TradingHalted => R::TradingHalted,
        W::ReduceOnly => R::ReduceOnly,
        W::PostOnlyWouldCross => R::PostOnlyWouldCross,
        W::NoLiquidity => R::NoLiquidity,
        W::UnknownOrder => R::UnknownOrder,
        W::VenueRejected => R::VenueRejected,
        W::InsufficientBalance => R::InsufficientBalance,
        W::VenueRateBudget => R::VenueRateBudget,
        W::SymbolNotTrading => R::SymbolNotTrading,
    }
}

fn rejection_from(rejection: wit::Rejection) -> sdk::Rejection {
    sdk::Rejection::new(reason_from(rejection.reason), rejection.message)
}

fn instrument_from(info: wit::InstrumentInfo) -> sdk::InstrumentInfo {
    sdk::InstrumentInfo {
        id: info.id,
        symbol: info.symbol,
        tick_size: Price::from_raw(info.tick_size),
        lot_size: Qty::from_raw(info.lot_size),
        min_qty: Qty::from_raw(info.min_qty),
        min_notional: Amount::from_raw(info.min_notional),
    }
}

/// [`Host`] backed by the component's imports: every call goes to the daemon.
pub struct WasmHost;

impl Host for WasmHost {
    fn submit_order(&mut self, order: &sdk::OrderRequest) -> Result<sdk::OrderId, sdk::Rejection> {
        let request = wit::OrderRequest {
            instrument: order.instrument,
            side: side_to(order.side),
            kind: match order.kind {
                sdk::OrderKind::Market => wit::OrderKind::Market,
                sdk::OrderKind::Limit => wit::OrderKind::Limit,
            },
            price: order.price.raw(),
            qty: order.qty.raw(),
            time_in_force: match order.time_in_force {
                sdk::TimeInForce::Gtc => wit::TimeInForce::Gtc,
                sdk::TimeInForce::Ioc => wit::TimeInForce::Ioc,
                sdk::TimeInForce::PostOnly => wit::TimeInForce::PostOnly,
            },
            client_order_id: order.client_order_id,
        };
        wit_host::submit_order(request).map_err(rejection_from)
    }

    fn cancel_order(&mut self, id: sdk::OrderId) -> Result<(), sdk::Rejection> {
        wit_host::cancel_order(id).map_err(rejection_from)
    }

    fn cancel_all(&mut self, instrument: Option<sdk::InstrumentId>) -> u32 {
        wit_host::cancel_all(instrument)
    }

    fn position(&mut self, instrument: sdk::InstrumentId) -> sdk::Position {
        let p = wit_host::get_position(instrument);
        sdk::Position {
            instrument: p.instrument,
            qty: Qty::from_raw(p.qty),
            avg_price: Price::from_raw(p.avg_price),
            realized_pnl: Amount::from_raw(p.realized_pnl),
            unrealized_pnl: Amount::from_raw(p.unrealized_pnl),
            fees: Amount::from_raw(p.fees),
        }
    }

    fn instrument(&mut self, id: sdk::InstrumentId) -> Option<sdk::InstrumentInfo> {
        wit_host::get_instrument(id).map(instrument_from)
    }

    fn lookup_instrument(&mut self, symbol: &str) -> Option<sdk::InstrumentInfo> {
        wit_host::lookup_instrument(symbol).map(instrument_from)
    }

    fn subscribe(&mut self, instrument: sdk::InstrumentId, streams: sdk::Streams) {
        let mut flags = wit::Streams::empty();
        if streams.trades {
            flags |= wit::Streams::TRADES;
        }
        if streams.quotes {
            flags |= wit::Streams::QUOTES;
        }
        if streams.book {
            // Contract 0.2 has no book stream: say so rather than deliver nothing quietly.
            wit_host::log(
                wit::LogLevel::Warn,
                "book levels are not delivered to components yet (they need contract 0.3): subscribed to trades and quotes only",
            );
        }
        wit_host::subscribe(instrument, flags);
    }

    fn subscribe_bars(
        &mut self,
        instrument: sdk::InstrumentId,
        interval_ms: u32,
    ) -> Result<(), String> {
        wit_host::subscribe_bars(instrument, interval_ms)
    }

    fn now(&mut self) -> sdk::Timestamp {
        wit_host::now()
    }

    fn set_timer(&mut self, at: sdk::Timestamp, token: u64) {
        wit_host::set_timer(at, token)
    }

    fn log(&mut self, level: sdk::LogLevel, message: &str) {
        let level = match level {
            sdk::LogLevel::Trace => wit::LogLevel::Trace,
            sdk::LogLevel::Debug => wit::LogLevel::Debug,
            sdk::LogLevel::Info => wit::LogLevel::Info,
            sdk::LogLevel::Warn => wit::LogLevel::Warn,
            sdk::LogLevel::Error => wit::LogLevel::Error,
        };
        wit_host::log(level, message)
    }

    fn emit_signal(&mut self, signal: &sdk::Signal) {
        wit_host::emit_signal(&wit::Signal {
            instrument: signal.instrument,
            side: side_to(signal.side),
            strength: signal.strength,
            target: signal.target.map(Price::raw),
            stop: signal.stop.map(Price::raw),
            note: signal.note.clone(),
        })
    }
}

/// The strategy instance of a component, created by `init`.
pub type Slot<S> = RefCell<Option<S>>;

fn with_strategy<S: Strategy>(slot: &Slot<S>, f: impl FnOnce(&mut S, &mut WasmHost)) {
    // Before a successful init there is no strategy; the host never sends events then.
    if let Some(strategy) = slot.borrow_mut().as_mut() {
        f(strategy, &mut WasmHost);
    }
}

/// `init` export.
pub fn init<S: Strategy>(slot: &Slot<S>, params: Vec<Param>) -> Result<(), String> {
    let params = Params::new(params.into_iter().map(|p| (p.key, p.value)));
    let strategy = S::init(&mut WasmHost, &params).map_err(|err| err.0)?;
    *slot.borrow_mut() = Some(strategy);
    Ok(())
}

/// `on-trade` export.
pub fn on_trade<S: Strategy>(slot: &Slot<S>, t: WitTrade) {
    let trade = sdk::Trade {
        instrument: t.instrument,
        ts: t.ts,
        price: Price::from_raw(t.price),
        qty: Qty::from_raw(t.qty),
        aggressor: side_from(t.aggressor),
    };
    with_strategy(slot, |s, host| s.on_trade(host, &trade));
}

/// `on-quote` export.
pub fn on_quote<S: Strategy>(slot: &Slot<S>, q: WitQuote) {
    let quote = sdk::Quote {
        instrument: q.instrument,
        ts: q.ts,
        bid_price: Price::from_raw(q.bid_price),
        bid_qty: Qty::from_raw(q.bid_qty),
        ask_price: Price::from_raw(q.ask_price),
        ask_qty: Qty::from_raw(q.ask_qty),
    };
    with_strategy(slot, |s, host| s.on_quote(host, &quote));
}

/// `on-bar` export.
pub fn on_bar<S: Strategy>(slot: &Slot<S>, b: WitBar) {
    let bar = sdk::Bar {
        instrument: b.instrument,
        start: b.start,
        end: b.end,
        open: Price::from_raw(b.open),
        high: Price::from_raw(b.high),
        low: Price::from_raw(b.low),
        close: Price::from_raw(b.close),
        volume: Qty::from_raw(b.volume),
        trades: b.trades,
    };
    with_strategy(slot, |s, host| s.on_bar(host, &bar));
}

/// `on-order-update` export.
pub fn on_order_update<S: Strategy>(slot: &Slot<S>, u: WitOrderUpdate) {
    let update = sdk::OrderUpdate {
        order_id: u.order_id,
        client_order_id: u.client_order_id,
        instrument: u.instrument,
        side: side_from(u.side),
        status: match u.status {
            wit::OrderStatus::Accepted => sdk::OrderStatus::Accepted,
            wit::OrderStatus::Rejected => sdk::OrderStatus::Rejected,
            wit::OrderStatus::PartiallyFilled => sdk::OrderStatus::PartiallyFilled,
            wit::OrderStatus::Filled => sdk::OrderStatus::Filled,
            wit::OrderStatus::Canceled => sdk::OrderStatus::Canceled,
        },
        ts: u.ts,
        fill_price: Price::from_raw(u.fill_price),
        fill_qty: Qty::from_raw(u.fill_qty),
        fee: Amount::from_raw(u.fee),
        liquidity: match u.liquidity {
            wit::Liquidity::None => sdk::Liquidity::None,
            wit::Liquidity::Maker => sdk::Liquidity::Maker,
            wit::Liquidity::Taker => sdk::Liquidity::Taker,
        },
        filled_qty: Qty::from_raw(u.filled_qty),
        leaves_qty: Qty::from_raw(u.leaves_qty),
        reason: u.reason.map(reason_from),
    };
    with_strategy(slot, |s, host| s.on_order_update(host, &update));
}

/// `on-timer` export.
pub fn on_timer<S: Strategy>(slot: &Slot<S>, token: u64) {
    with_strategy(slot, |s, host| s.on_timer(host, token));
}

/// `snapshot` export.
pub fn snapshot<S: Strategy>(slot: &Slot<S>) -> Vec<u8> {
    slot.borrow().as_ref().map(S::snapshot).unwrap_or_default()
}

/// `restore` export.
pub fn restore<S: Strategy>(slot: &Slot<S>, state: Vec<u8>) -> Result<(), String> {
    match slot.borrow_mut().as_mut() {
        Some(strategy) => strategy.restore(&mut WasmHost, &state).map_err(|err| err.0),
        None => Err("restore called before a successful init".to_owned()),
    }
}
