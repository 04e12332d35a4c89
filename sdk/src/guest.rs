//! The WebAssembly side of the contract: generated bindings, conversions between them and
//! the SDK's types, and the adapter behind [`crate::export_strategy!`]. Compiled only for
//! `wasm32` targets; strategy authors never use this module directly.

use crate::batch::Batch;
use crate::book::{BookTop, Level};
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
pub use wit::{Bar as WitBar, OrderUpdate as WitOrderUpdate, Param};

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

/// Where a handler is in the batch `on-market` is running.
struct Cursor {
    /// The event being handled.
    index: u32,
    /// Whether the host answers as of `index` already: true for the batch's first
    /// event (where the host starts), and after `seek`.
    synced: bool,
    /// Whether the handler acted, which ends the call after it.
    acted: bool,
}

/// [`Host`] backed by the component's imports: every call goes to the daemon. In a
/// batch, the first call of a handler tells the host which event it is for (`seek`).
pub struct WasmHost<'a> {
    cursor: Option<Cursor>,
    /// The batch being handled, which may carry the strategy's positions.
    batch: Option<Batch<'a>>,
}

impl WasmHost<'_> {
    /// Outside a batch.
    fn plain() -> Self {
        WasmHost {
            cursor: None,
            batch: None,
        }
    }

    /// Before any host call: the host must answer as of the event being handled.
    fn sync(&mut self) {
        if let Some(cursor) = &mut self.cursor {
            if !cursor.synced {
                wit_host::seek(cursor.index);
                cursor.synced = true;
            }
        }
    }

    /// Before a call that acts: the batch ends after this handler.
    fn act(&mut self) {
        self.sync();
        if let Some(cursor) = &mut self.cursor {
            cursor.acted = true;
        }
    }
}

impl Host for WasmHost<'_> {
    fn submit_order(&mut self, order: &sdk::OrderRequest) -> Result<sdk::OrderId, sdk::Rejection> {
        self.act();
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
        self.act();
        wit_host::cancel_order(id).map_err(rejection_from)
    }

    fn cancel_all(&mut self, instrument: Option<sdk::InstrumentId>) -> u32 {
        self.act();
        wit_host::cancel_all(instrument)
    }

    fn position(&mut self, instrument: sdk::InstrumentId) -> sdk::Position {
        // Served from the batch until the handler acts (the host's answer is the same).
        if let (Some(cursor), Some(batch)) = (&self.cursor, &self.batch) {
            if !cursor.acted {
                if let Some(position) = batch.position(instrument, cursor.index as usize) {
                    return position;
                }
            }
        }
        self.sync();
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
        self.sync();
        wit_host::get_instrument(id).map(instrument_from)
    }

    fn lookup_instrument(&mut self, symbol: &str) -> Option<sdk::InstrumentInfo> {
        self.sync();
        wit_host::lookup_instrument(symbol).map(instrument_from)
    }

    fn book_top(&mut self, instrument: sdk::InstrumentId, depth: usize) -> Option<BookTop> {
        self.sync();
        let depth = u32::try_from(depth).unwrap_or(u32::MAX);
        let top = wit_host::book_top(instrument, depth)?;
        let levels = |entries: Vec<wit::BookEntry>| {
            entries
                .into_iter()
                .map(|e| Level {
                    price: Price::from_raw(e.price),
                    qty: Qty::from_raw(e.qty),
                })
                .collect()
        };
        Some(BookTop {
            instrument: top.instrument,
            ts: top.ts,
            seq: top.seq,
            bids: levels(top.bids),
            asks: levels(top.asks),
        })
    }

    fn subscribe(&mut self, instrument: sdk::InstrumentId, streams: sdk::Streams) {
        self.act();
        let mut flags = wit::Streams::empty();
        if streams.trades {
            flags |= wit::Streams::TRADES;
        }
        if streams.quotes {
            flags |= wit::Streams::QUOTES;
        }
        if streams.book {
            flags |= wit::Streams::BOOK;
        }
        wit_host::subscribe(instrument, flags);
    }

    fn subscribe_bars(
        &mut self,
        instrument: sdk::InstrumentId,
        interval_ms: u32,
    ) -> Result<(), String> {
        self.act();
        wit_host::subscribe_bars(instrument, interval_ms)
    }

    fn now(&mut self) -> sdk::Timestamp {
        self.sync();
        wit_host::now()
    }

    fn set_timer(&mut self, at: sdk::Timestamp, token: u64) {
        self.act();
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
        self.sync();
        wit_host::log(level, message)
    }

    fn emit_signal(&mut self, signal: &sdk::Signal) {
        self.sync();
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

fn with_strategy<S: Strategy>(slot: &Slot<S>, f: impl FnOnce(&mut S, &mut WasmHost<'_>)) {
    // Before a successful init there is no strategy; the host never sends events then.
    if let Some(strategy) = slot.borrow_mut().as_mut() {
        f(strategy, &mut WasmHost::plain());
    }
}

/// `init` export.
pub fn init<S: Strategy>(slot: &Slot<S>, params: Vec<Param>) -> Result<(), String> {
    let params = Params::new(params.into_iter().map(|p| (p.key, p.value)));
    let strategy = S::init(&mut WasmHost::plain(), &params).map_err(|err| err.0)?;
    *slot.borrow_mut() = Some(strategy);
    Ok(())
}

/// `on-market` export: each event to its handler, in order, until one acts.
pub fn on_market<S: Strategy>(slot: &Slot<S>, bytes: Vec<u8>) -> u32 {
    let mut slot = slot.borrow_mut();
    let Some(strategy) = slot.as_mut() else {
        return 0;
    };
    let batch = match Batch::parse(&bytes) {
        Ok(batch) => batch,
        Err(err) => {
            // Nothing in it can be read: say so, and take it as handled.
            wit_host::log(
                wit::LogLevel::Error,
                &format!("market events refused: {err}"),
            );
            return u32::MAX;
        }
    };
    let mut host = WasmHost {
        cursor: None,
        batch: Some(batch),
    };
    for index in 0..batch.len() {
        host.cursor = Some(Cursor {
            index: index as u32,
            synced: index == 0,
            acted: false,
        });
        match batch.get(index) {
            Some(Ok(sdk::MarketEvent::Trade(trade))) => strategy.on_trade(&mut host, &trade),
            Some(Ok(sdk::MarketEvent::Quote(quote))) => strategy.on_quote(&mut host, &quote),
            Some(Ok(sdk::MarketEvent::Book(level))) => strategy.on_book(&mut host, &level),
            Some(Err(err)) => {
                host.sync();
                wit_host::log(
                    wit::LogLevel::Error,
                    &format!("market event {index} of a batch refused: {err}"),
                );
            }
            None => {}
        }
        if host.cursor.as_ref().is_some_and(|c| c.acted) {
            return index as u32 + 1;
        }
    }
    batch.len() as u32
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
        Some(strategy) => strategy
            .restore(&mut WasmHost::plain(), &state)
            .map_err(|err| err.0),
        None => Err("restore called before a successful init".to_owned()),
    }
}
