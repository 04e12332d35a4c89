//! Host-side bindings of the `pennant:strategy` contract, generated from the SDK's WIT by
//! wasmtime, one module per contract version the daemon hosts ([`v0_1`], [`v0_2`],
//! [`v0_3`]), and the conversions between them and the SDK's types (written once, in
//! [`contract!`], for every version; [`typed_market!`] for the versions that take market
//! data one typed call per event). [`PluginPre`] finds which version a component was
//! built against.
//!
//! Host calls are implemented once, by whatever implements [`pennant_sdk::Host`] (the
//! engine's strategy context); this module only translates.

use super::HostState;
use wasmtime::component::{HasSelf, InstancePre, Linker};

/// The conversions and the host functions of one contract version, in the module of its
/// generated bindings. `added` maps the SDK's reason codes that version lacks to the
/// nearest it has (nothing for the newest); `book` reads the version's book stream flag
/// (false before 0.3); `host` holds the host functions only that version has.
macro_rules! contract {
    (added: { $($added:tt)* }, book: $book:expr, host: { $($host:tt)* }) => {
        use super::super::HostState;
        use pennant_sdk as sdk;
        use pennant_sdk::{Price, Qty};

        use pennant::strategy::types as wit;

        pub use exports::pennant::strategy::strategy::{
            Bar as WitBar, OrderUpdate as WitOrderUpdate, Param,
        };

    fn side_to(side: sdk::Side) -> wit::Side {
        match side {
            sdk::Side::Buy => wit::Side::Buy,
            sdk::Side::Sell => wit::Side::Sell,
        }
    }

    fn side_from(side: wit::Side) -> sdk::Side {
        match side {
            wit::Side::Buy => sdk::Side::Buy,
            wit::Side::Sell => sdk::Side::Sell,
        }
    }

    /// The code the component sees: its own, or for a reason added after its contract
    /// version, the nearest it has.
    fn reason_to(reason: sdk::RejectReason) -> wit::RejectReason {
        use sdk::RejectReason as R;
        use wit::RejectReason as W;
        match reason {
            R::UnknownInstrument => W::UnknownInstrument,
            R::InvalidQuantity => W::InvalidQuantity,
            R::InvalidPrice => W::InvalidPrice,
            R::TickSize => W::TickSize,
            R::LotSize => W::LotSize,
            R::MinQuantity => W::MinQuantity,
            R::MaxQuantity => W::MaxQuantity,
            R::MinNotional => W::MinNotional,
            R::MaxNotional => W::MaxNotional,
            R::PriceBand => W::PriceBand,
            R::NoReferencePrice => W::NoReferencePrice,
            R::MaxPosition => W::MaxPosition,
            R::MaxGrossExposure => W::MaxGrossExposure,
            R::MaxOpenOrders => W::MaxOpenOrders,
            R::RateLimit => W::RateLimit,
            R::MaxDailyLoss => W::MaxDailyLoss,
            R::SelfTrade => W::SelfTrade,
            R::InstrumentNotAllowed => W::InstrumentNotAllowed,
            R::DuplicateClientOrderId => W::DuplicateClientOrderId,
            R::TradingHalted => W::TradingHalted,
            R::ReduceOnly => W::ReduceOnly,
            R::PostOnlyWouldCross => W::PostOnlyWouldCross,
            R::NoLiquidity => W::NoLiquidity,
            R::UnknownOrder => W::UnknownOrder,
            R::VenueRejected => W::VenueRejected,
            $($added)*
        }
    }

    fn rejection_to(rejection: sdk::Rejection) -> wit::Rejection {
        wit::Rejection {
            reason: reason_to(rejection.reason),
            message: rejection.message,
        }
    }

    fn instrument_to(info: sdk::InstrumentInfo) -> wit::InstrumentInfo {
        wit::InstrumentInfo {
            id: info.id,
            symbol: info.symbol,
            tick_size: info.tick_size.raw(),
            lot_size: info.lot_size.raw(),
            min_qty: info.min_qty.raw(),
            min_notional: info.min_notional.raw(),
        }
    }

    /// A bar for the guest.
    pub fn bar_to(b: &sdk::Bar) -> WitBar {
        WitBar {
            instrument: b.instrument,
            start: b.start,
            end: b.end,
            open: b.open.raw(),
            high: b.high.raw(),
            low: b.low.raw(),
            close: b.close.raw(),
            volume: b.volume.raw(),
            trades: b.trades,
        }
    }

    /// An order update for the guest.
    pub fn order_update_to(u: &sdk::OrderUpdate) -> WitOrderUpdate {
        WitOrderUpdate {
            order_id: u.order_id,
            client_order_id: u.client_order_id,
            instrument: u.instrument,
            side: side_to(u.side),
            status: match u.status {
                sdk::OrderStatus::Accepted => wit::OrderStatus::Accepted,
                sdk::OrderStatus::Rejected => wit::OrderStatus::Rejected,
                sdk::OrderStatus::PartiallyFilled => wit::OrderStatus::PartiallyFilled,
                sdk::OrderStatus::Filled => wit::OrderStatus::Filled,
                sdk::OrderStatus::Canceled => wit::OrderStatus::Canceled,
            },
            ts: u.ts,
            fill_price: u.fill_price.raw(),
            fill_qty: u.fill_qty.raw(),
            fee: u.fee.raw(),
            liquidity: match u.liquidity {
                sdk::Liquidity::None => wit::Liquidity::None,
                sdk::Liquidity::Maker => wit::Liquidity::Maker,
                sdk::Liquidity::Taker => wit::Liquidity::Taker,
            },
            filled_qty: u.filled_qty.raw(),
            leaves_qty: u.leaves_qty.raw(),
            reason: u.reason.map(reason_to),
        }
    }

    /// Parameters for the guest's `init`.
    pub fn params_to(params: &[(String, String)]) -> Vec<Param> {
        params
            .iter()
            .map(|(key, value)| Param {
                key: key.clone(),
                value: value.clone(),
            })
            .collect()
    }

    impl<C: Send> wit::Host for HostState<C> {}

    impl<C: sdk::batch::BatchHost + Send> pennant::strategy::host::Host for HostState<C> {
        fn submit_order(
            &mut self,
            order: wit::OrderRequest,
        ) -> wasmtime::Result<Result<u64, wit::Rejection>> {
            let request = sdk::OrderRequest {
                instrument: order.instrument,
                side: side_from(order.side),
                kind: match order.kind {
                    wit::OrderKind::Market => sdk::OrderKind::Market,
                    wit::OrderKind::Limit => sdk::OrderKind::Limit,
                },
                price: Price::from_raw(order.price),
                qty: Qty::from_raw(order.qty),
                time_in_force: match order.time_in_force {
                    wit::TimeInForce::Gtc => sdk::TimeInForce::Gtc,
                    wit::TimeInForce::Ioc => sdk::TimeInForce::Ioc,
                    wit::TimeInForce::PostOnly => sdk::TimeInForce::PostOnly,
                },
                client_order_id: order.client_order_id,
            };
            Ok(self.ctx()?.submit_order(&request).map_err(rejection_to))
        }

        fn cancel_order(&mut self, id: u64) -> wasmtime::Result<Result<(), wit::Rejection>> {
            Ok(self.ctx()?.cancel_order(id).map_err(rejection_to))
        }

        fn cancel_all(&mut self, instrument: Option<u32>) -> wasmtime::Result<u32> {
            Ok(self.ctx()?.cancel_all(instrument))
        }

        fn get_position(&mut self, instrument: u32) -> wasmtime::Result<wit::Position> {
            let p = self.ctx()?.position(instrument);
            Ok(wit::Position {
                instrument: p.instrument,
                qty: p.qty.raw(),
                avg_price: p.avg_price.raw(),
                realized_pnl: p.realized_pnl.raw(),
                unrealized_pnl: p.unrealized_pnl.raw(),
                fees: p.fees.raw(),
            })
        }

        fn get_instrument(&mut self, id: u32) -> wasmtime::Result<Option<wit::InstrumentInfo>> {
            Ok(self.ctx()?.instrument(id).map(instrument_to))
        }

        fn lookup_instrument(
            &mut self,
            symbol: String,
        ) -> wasmtime::Result<Option<wit::InstrumentInfo>> {
            Ok(self.ctx()?.lookup_instrument(&symbol).map(instrument_to))
        }

        fn subscribe(&mut self, instrument: u32, streams: wit::Streams) -> wasmtime::Result<()> {
            let book: fn(wit::Streams) -> bool = $book;
            let streams = sdk::Streams {
                trades: streams.contains(wit::Streams::TRADES),
                quotes: streams.contains(wit::Streams::QUOTES),
                book: book(streams),
            };
            self.ctx()?.subscribe(instrument, streams);
            Ok(())
        }

        fn subscribe_bars(
            &mut self,
            instrument: u32,
            interval_ms: u32,
        ) -> wasmtime::Result<Result<(), String>> {
            Ok(self.ctx()?.subscribe_bars(instrument, interval_ms))
        }

        fn now(&mut self) -> wasmtime::Result<i64> {
            Ok(self.ctx()?.now())
        }

        fn set_timer(&mut self, at: i64, token: u64) -> wasmtime::Result<()> {
            self.ctx()?.set_timer(at, token);
            Ok(())
        }

        fn log(&mut self, level: wit::LogLevel, message: String) -> wasmtime::Result<()> {
            let level = match level {
                wit::LogLevel::Trace => sdk::LogLevel::Trace,
                wit::LogLevel::Debug => sdk::LogLevel::Debug,
                wit::LogLevel::Info => sdk::LogLevel::Info,
                wit::LogLevel::Warn => sdk::LogLevel::Warn,
                wit::LogLevel::Error => sdk::LogLevel::Error,
            };
            self.ctx()?.log(level, &message);
            Ok(())
        }

        fn emit_signal(&mut self, signal: wit::Signal) -> wasmtime::Result<()> {
            let signal = sdk::Signal {
                instrument: signal.instrument,
                side: side_from(signal.side),
                strength: signal.strength,
                target: signal.target.map(Price::from_raw),
                stop: signal.stop.map(Price::from_raw),
                note: signal.note,
            };
            self.ctx()?.emit_signal(&signal);
            Ok(())
        }

        $($host)*
    }

    };
}

/// The typed market data exports of the versions before 0.3 (`on-trade`, `on-quote`).
macro_rules! typed_market {
    () => {
        use exports::pennant::strategy::strategy::{Quote as WitQuote, Trade as WitTrade};

        /// A trade for the guest.
        fn trade_to(t: &sdk::Trade) -> WitTrade {
            WitTrade {
                instrument: t.instrument,
                ts: t.ts,
                price: t.price.raw(),
                qty: t.qty.raw(),
                aggressor: side_to(t.aggressor),
            }
        }

        /// A quote for the guest.
        fn quote_to(q: &sdk::Quote) -> WitQuote {
            WitQuote {
                instrument: q.instrument,
                ts: q.ts,
                bid_price: q.bid_price.raw(),
                bid_qty: q.bid_qty.raw(),
                ask_price: q.ask_price.raw(),
                ask_qty: q.ask_qty.raw(),
            }
        }

        /// The first of `events` in its typed export: a book level is not in this
        /// contract, so there is nothing to call for it. Handles one event.
        pub fn call_first<S>(
            plugin: &Plugin,
            store: S,
            event: &sdk::MarketEvent,
        ) -> wasmtime::Result<usize>
        where
            S: wasmtime::AsContextMut,
            S::Data: Send,
        {
            use sdk::MarketEvent;
            let exports = plugin.pennant_strategy_strategy();
            match event {
                MarketEvent::Trade(t) => exports.call_on_trade(store, trade_to(t)),
                MarketEvent::Quote(q) => exports.call_on_quote(store, quote_to(q)),
                MarketEvent::Book(_) => Ok(()),
            }
            .map(|()| 1)
        }
    };
}

/// `pennant:strategy@0.1.0` (`sdk/wit-0.1`): components built before 0.2.
pub mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../sdk/wit-0.1",
        world: "plugin",
        imports: { default: trappable },
    });

    contract!(added: {
        R::InsufficientBalance | R::SymbolNotTrading => W::VenueRejected,
        R::VenueRateBudget => W::RateLimit,
    }, book: |_| false, host: {});
    typed_market!();
}

/// `pennant:strategy@0.2.0` (`sdk/wit-0.2`): components built before 0.3.
pub mod v0_2 {
    wasmtime::component::bindgen!({
        path: "../sdk/wit-0.2",
        world: "plugin",
        imports: { default: trappable },
    });

    contract!(added: {
        R::InsufficientBalance => W::InsufficientBalance,
        R::VenueRateBudget => W::VenueRateBudget,
        R::SymbolNotTrading => W::SymbolNotTrading,
    }, book: |_| false, host: {});
    typed_market!();
}

/// `pennant:strategy@0.3.0` (`sdk/wit`): the contract the SDK builds against.
pub mod v0_3 {
    wasmtime::component::bindgen!({
        path: "../sdk/wit",
        world: "plugin",
        imports: { default: trappable },
    });

    contract!(added: {
        R::InsufficientBalance => W::InsufficientBalance,
        R::VenueRateBudget => W::VenueRateBudget,
        R::SymbolNotTrading => W::SymbolNotTrading,
    }, book: |streams| streams.contains(wit::Streams::BOOK), host: {
        fn book_top(
            &mut self,
            instrument: u32,
            depth: u32,
        ) -> wasmtime::Result<Option<wit::BookDepth>> {
            let depth = usize::try_from(depth).unwrap_or(usize::MAX);
            let entries = |levels: Vec<sdk::book::Level>| {
                levels
                    .into_iter()
                    .map(|l| wit::BookEntry {
                        price: l.price.raw(),
                        qty: l.qty.raw(),
                    })
                    .collect()
            };
            Ok(self.ctx()?.book_top(instrument, depth).map(|top| wit::BookDepth {
                instrument: top.instrument,
                ts: top.ts,
                seq: top.seq,
                bids: entries(top.bids),
                asks: entries(top.asks),
            }))
        }

        fn seek(&mut self, index: u32) -> wasmtime::Result<()> {
            self.ctx()?.seek(index);
            Ok(())
        }
    });
}

/// Adds the host functions of every contract version to `linker`.
pub fn add_to_linker<C: pennant_sdk::batch::BatchHost + Send + 'static>(
    linker: &mut Linker<HostState<C>>,
) -> wasmtime::Result<()> {
    v0_1::Plugin::add_to_linker::<HostState<C>, HasSelf<HostState<C>>>(linker, |state| state)?;
    v0_2::Plugin::add_to_linker::<HostState<C>, HasSelf<HostState<C>>>(linker, |state| state)?;
    v0_3::Plugin::add_to_linker::<HostState<C>, HasSelf<HostState<C>>>(linker, |state| state)
}

/// A component's exports, of the contract version it was built against.
pub enum Plugin {
    /// Built against 0.1.
    V0_1(v0_1::Plugin),
    /// Built against 0.2.
    V0_2(v0_2::Plugin),
    /// Built against 0.3.
    V0_3(v0_3::Plugin),
}

/// A component type-checked against one of the contract versions, ready to instantiate.
pub enum PluginPre<T: 'static> {
    /// Built against 0.1.
    V0_1(v0_1::PluginPre<T>),
    /// Built against 0.2.
    V0_2(v0_2::PluginPre<T>),
    /// Built against 0.3.
    V0_3(v0_3::PluginPre<T>),
}

impl<T: 'static> PluginPre<T> {
    /// The newest version the component fits; the error names each when it fits none.
    pub fn new(pre: InstancePre<T>) -> wasmtime::Result<Self> {
        let v0_3 = match v0_3::PluginPre::new(pre.clone()) {
            Ok(pre) => return Ok(PluginPre::V0_3(pre)),
            Err(err) => err,
        };
        let v0_2 = match v0_2::PluginPre::new(pre.clone()) {
            Ok(pre) => return Ok(PluginPre::V0_2(pre)),
            Err(err) => err,
        };
        v0_1::PluginPre::new(pre)
            .map(PluginPre::V0_1)
            .map_err(|v0_1| {
                wasmtime::format_err!(
                    "not pennant:strategy@0.3 ({v0_3:#}), nor 0.2 ({v0_2:#}), nor 0.1 ({v0_1:#})"
                )
            })
    }

    /// The contract version, for logs: `0.1`, `0.2` or `0.3`.
    pub fn version(&self) -> &'static str {
        match self {
            PluginPre::V0_1(_) => "0.1",
            PluginPre::V0_2(_) => "0.2",
            PluginPre::V0_3(_) => "0.3",
        }
    }

    /// A new instance in `store`.
    pub fn instantiate(&self, store: &mut wasmtime::Store<T>) -> wasmtime::Result<Plugin> {
        match self {
            PluginPre::V0_1(pre) => pre.instantiate(store).map(Plugin::V0_1),
            PluginPre::V0_2(pre) => pre.instantiate(store).map(Plugin::V0_2),
            PluginPre::V0_3(pre) => pre.instantiate(store).map(Plugin::V0_3),
        }
    }
}
