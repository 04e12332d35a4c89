//! The pre-trade checks, in the order they run: each refuses with its reason code and a
//! message, and the first refusal wins. [`RiskEngine::check`] resolves the limits and
//! counts what passes; this file only decides.

use super::{amount, notional, reject, Books, Resolved, RiskEngine, TradingState};
use crate::account::{OrderRecord, StrategyIdx};
use pennant_sdk::{
    InstrumentId, InstrumentInfo, OrderKind, OrderRequest, Price, Qty, RejectReason, Rejection,
    Side,
};

/// An order being checked, and what several checks read.
#[derive(Clone, Copy)]
struct Checked<'a> {
    strategy: StrategyIdx,
    id: &'a str,
    order: &'a OrderRequest,
    limits: &'a Resolved,
    books: &'a Books<'a>,
    /// The strategy's position in the instrument.
    position: Qty,
    /// What its working orders on the order's side still have to fill.
    open_same_side: Qty,
}

impl<'a> Checked<'a> {
    /// The strategy's working orders in the instrument.
    fn working(&self) -> impl Iterator<Item = &'a OrderRecord> + 'a {
        self.books.orders.book(self.strategy, self.order.instrument)
    }
}

impl RiskEngine {
    /// Every check, in order; the price the order is valued at when all pass.
    pub(super) fn run_checks(
        &self,
        strategy: StrategyIdx,
        order: &OrderRequest,
        limits: &Resolved,
        books: &Books,
    ) -> Result<Price, Rejection> {
        let id = self.strategy_ids[strategy].as_str();
        let position = books
            .ledger
            .position(strategy, order.instrument, books.market)
            .qty;
        let open_same_side: Qty = books
            .orders
            .book(strategy, order.instrument)
            .filter(|o| o.request.side == order.side)
            .fold(Qty::ZERO, |sum, o| {
                sum.checked_add(o.leaves()).unwrap_or(Qty::MAX)
            });
        let c = Checked {
            strategy,
            id,
            order,
            limits,
            books,
            position,
            open_same_side,
        };
        self.state_allows(&c)?;
        let info = self.instrument_allows(&c)?;
        Self::quantity_allows(&c)?;
        let (priced_at, order_notional) = self.valuation_allows(&c, info)?;
        Self::balance_allows(&c, info, priced_at)?;
        Self::open_orders_allow(&c)?;
        self.position_allows(&c)?;
        self.exposure_allows(&c, order_notional)?;
        self.rate_allows(&c)?;
        Self::self_trade_allows(&c)?;
        self.daily_loss_allows(&c)?;
        Ok(priced_at)
    }

    /// At a venue that reports its balances, the order needs the free asset it spends:
    /// the quote asset for a buy, the base asset for a sell.
    fn balance_allows(
        c: &Checked,
        info: &InstrumentInfo,
        priced_at: Price,
    ) -> Result<(), Rejection> {
        let Some(balances) = c.books.balances else {
            return Ok(());
        };
        let Some((asset, needed)) = crate::account::balances::needs(info, c.order, priced_at)
        else {
            return Ok(());
        };
        match balances.free(asset) {
            Some(free) if free < needed => reject(
                RejectReason::InsufficientBalance,
                format!("needs {needed} {asset} free at the venue, which has {free}"),
            ),
            _ => Ok(()),
        }
    }

    /// Halted refuses everything; reducing lets through only what shrinks the position.
    fn state_allows(&self, c: &Checked) -> Result<(), Rejection> {
        let Checked {
            strategy,
            id,
            order,
            position,
            open_same_side,
            ..
        } = *c;
        match self.state(strategy) {
            TradingState::Halted => {
                return reject(
                    RejectReason::TradingHalted,
                    format!("trading is halted for {id}"),
                );
            }
            TradingState::Reducing => {
                let reduces = match order.side {
                    Side::Buy => position.is_negative(),
                    Side::Sell => position.is_positive(),
                };
                let after = open_same_side.checked_add(order.qty).unwrap_or(Qty::MAX);
                if !reduces || after > position.abs() {
                    let why = match &self.store_hold {
                        Some(hold) => format!(" (the store is not writable: {hold})"),
                        None => String::new(),
                    };
                    return reject(
                        RejectReason::ReduceOnly,
                        format!("only orders reducing the position pass{why}: position {position}, {} {} with {open_same_side} working", order.side, order.qty),
                    );
                }
            }
            TradingState::Active => {}
        }
        Ok(())
    }

    /// A known instrument, on the allow-list, passing the venue's filters, with a client
    /// order id not already working.
    fn instrument_allows<'a>(&self, c: &Checked<'a>) -> Result<&'a InstrumentInfo, Rejection> {
        let Checked {
            strategy,
            id,
            order,
            limits,
            books,
            ..
        } = *c;
        let Some(info) = books.instruments.get(order.instrument) else {
            return reject(
                RejectReason::UnknownInstrument,
                format!("no instrument with handle {}", order.instrument),
            );
        };
        if !limits.allowed {
            let allowed = self
                .config
                .strategy
                .get(id)
                .and_then(|l| l.instruments.as_ref());
            return reject(
                RejectReason::InstrumentNotAllowed,
                format!(
                    "{id} may trade only {}",
                    allowed.map(|a| a.join(", ")).unwrap_or_default()
                ),
            );
        }
        // Venue filters.
        info.check_order(order)?;
        // Duplicate client order id.
        if order.client_order_id != 0
            && books
                .orders
                .has_client_order_id(strategy, order.client_order_id)
        {
            return reject(
                RejectReason::DuplicateClientOrderId,
                format!(
                    "client order id {} is already working",
                    order.client_order_id
                ),
            );
        }
        Ok(info)
    }

    /// `max_order_qty`.
    fn quantity_allows(c: &Checked) -> Result<(), Rejection> {
        let Checked { order, limits, .. } = *c;
        if let Some(max) = limits.max_order_qty {
            if order.qty > max {
                return reject(
                    RejectReason::MaxQuantity,
                    format!("quantity {} > max_order_qty {max}", order.qty),
                );
            }
        }
        Ok(())
    }

    /// What the order is worth: its limit price, or for a market order the reference price
    /// (the last trade, else the mid), which the notional and exposure limits need;
    /// `max_order_notional`; the price band. Returns the price and the notional.
    fn valuation_allows(
        &self,
        c: &Checked,
        info: &InstrumentInfo,
    ) -> Result<(Price, i128), Rejection> {
        let Checked {
            order,
            limits,
            books,
            ..
        } = *c;
        let symbol = info.symbol.as_str();
        let reference = books.market.mark(order.instrument);
        let band = limits.price_band_bps;
        let priced_at = match (order.kind, reference) {
            (OrderKind::Limit, _) => Some(order.price),
            (OrderKind::Market, Some(reference)) => Some(reference),
            (OrderKind::Market, None) => None,
        };
        let needs_reference = band.is_some()
            || limits.max_order_notional.is_some()
            || limits.max_gross_exposure.is_some()
            || self.config.global.max_gross_exposure.is_some();
        let Some(priced_at) = priced_at.or(if needs_reference {
            None
        } else {
            Some(Price::ZERO)
        }) else {
            return reject(
                RejectReason::NoReferencePrice,
                format!("no trade or quote yet in {symbol} to value a market order"),
            );
        };
        let order_notional = notional(priced_at, order.qty);
        // Order notional.
        if let Some(max) = limits.max_order_notional {
            if order_notional > i128::from(max.raw()) {
                return reject(
                    RejectReason::MaxNotional,
                    format!(
                        "notional {} > max_order_notional {max}",
                        amount(order_notional)
                    ),
                );
            }
        }
        // Price band; with no reference price there is nothing to hold a price to.
        if let (Some(_), OrderKind::Limit, None) = (band, order.kind, reference) {
            return reject(
                RejectReason::NoReferencePrice,
                format!("no trade or quote yet in {symbol} to hold a limit price to its band"),
            );
        }
        if let (Some(bps), OrderKind::Limit, Some(reference)) = (band, order.kind, reference) {
            let distance = (i128::from(order.price.raw()) - i128::from(reference.raw())).abs();
            if distance * 10_000 > i128::from(reference.raw()) * i128::from(bps.get()) {
                return reject(
                    RejectReason::PriceBand,
                    format!(
                        "price {} is more than {bps} bps from the reference {reference}",
                        order.price
                    ),
                );
            }
        }
        Ok((priced_at, order_notional))
    }

    /// `max_open_orders`.
    fn open_orders_allow(c: &Checked) -> Result<(), Rejection> {
        let Checked { limits, .. } = *c;
        if let Some(max) = limits.max_open_orders {
            let open = c.working().count();
            if open >= max as usize {
                return reject(
                    RejectReason::MaxOpenOrders,
                    format!("{open} orders working, max_open_orders {max}"),
                );
            }
        }
        Ok(())
    }

    /// `max_position`, the strategy's and all strategies' together, counting open orders
    /// on the same side.
    fn position_allows(&self, c: &Checked) -> Result<(), Rejection> {
        let Checked {
            order,
            limits,
            books,
            position,
            open_same_side,
            ..
        } = *c;
        let resulting = |position: Qty, open: Qty| -> i128 {
            let signed = i128::from(
                order
                    .side
                    .signed(open.checked_add(order.qty).unwrap_or(Qty::MAX))
                    .raw(),
            );
            (i128::from(position.raw()) + signed).abs()
        };
        if let Some(max) = limits.max_position {
            let after = resulting(position, open_same_side);
            if after > i128::from(max.raw()) {
                return reject(
                    RejectReason::MaxPosition,
                    format!(
                        "position would reach {} > max_position {max}",
                        Qty::from_raw(after.min(i128::from(i64::MAX)) as i64)
                    ),
                );
            }
        }
        if let Some(max) = self.config.global.max_position {
            let all_open: Qty = (0..self.strategies.len())
                .flat_map(|s| books.orders.book(s, order.instrument))
                .filter(|o| o.request.side == order.side)
                .fold(Qty::ZERO, |sum, o| {
                    sum.checked_add(o.leaves()).unwrap_or(Qty::MAX)
                });
            let after = resulting(books.ledger.net(order.instrument), all_open);
            if after > i128::from(max.raw()) {
                return reject(
                    RejectReason::MaxPosition,
                    format!(
                        "all strategies' position would reach {} > global max_position {max}",
                        Qty::from_raw(after.min(i128::from(i64::MAX)) as i64)
                    ),
                );
            }
        }
        Ok(())
    }

    /// `max_gross_exposure`, the strategy's and all strategies' together.
    fn exposure_allows(&self, c: &Checked, order_notional: i128) -> Result<(), Rejection> {
        let Checked {
            strategy,
            limits,
            books,
            ..
        } = *c;
        let exposure = |positions: &mut dyn Iterator<Item = (InstrumentId, Qty)>| -> i128 {
            positions
                .map(|(instrument, qty)| {
                    books
                        .market
                        .mark(instrument)
                        .map_or(0, |mark| notional(mark, qty).abs())
                })
                .sum()
        };
        if let Some(max) = limits.max_gross_exposure {
            let mut positions = books.ledger.of(strategy).map(|p| (p.instrument, p.qty));
            let gross = exposure(&mut positions)
                + books.orders.open_notional(Some(strategy))
                + order_notional;
            if gross > i128::from(max.raw()) {
                return reject(
                    RejectReason::MaxGrossExposure,
                    format!(
                        "gross exposure would reach {} > max_gross_exposure {max}",
                        amount(gross)
                    ),
                );
            }
        }
        if let Some(max) = self.config.global.max_gross_exposure {
            let gross = exposure(&mut books.ledger.all().map(|(_, p)| (p.instrument, p.qty)))
                + books.orders.open_notional(None)
                + order_notional;
            if gross > i128::from(max.raw()) {
                return reject(
                    RejectReason::MaxGrossExposure,
                    format!("all strategies' gross exposure would reach {} > global max_gross_exposure {max}", amount(gross)),
                );
            }
        }
        Ok(())
    }

    /// `max_orders_per_window`, the strategy's and all strategies' together.
    fn rate_allows(&self, c: &Checked) -> Result<(), Rejection> {
        let Checked {
            strategy, limits, ..
        } = *c;
        if let Some(max) = limits.max_orders_per_window {
            let sent = self.strategies[strategy].messages.len() + 1;
            if sent > max.get() as usize {
                return reject(
                    RejectReason::RateLimit,
                    format!(
                        "{sent} messages in {} ms > max_orders_per_window {max}",
                        self.config.rate_window_ms
                    ),
                );
            }
        }
        if let Some(max) = self.config.global.max_orders_per_window {
            let sent = self.global_messages.len() + 1;
            if sent > max.get() as usize {
                return reject(
                    RejectReason::RateLimit,
                    format!(
                        "all strategies: {sent} messages in {} ms > max_orders_per_window {max}",
                        self.config.rate_window_ms
                    ),
                );
            }
        }
        Ok(())
    }

    /// The order would cross one of the strategy's own resting orders.
    fn self_trade_allows(c: &Checked) -> Result<(), Rejection> {
        let Checked { order, .. } = *c;
        let crosses = c.working().find(|o| {
            o.request.side != order.side
                && (order.kind == OrderKind::Market
                    || match order.side {
                        Side::Buy => o.request.price <= order.price,
                        Side::Sell => o.request.price >= order.price,
                    })
        });
        if let Some(resting) = crosses {
            return reject(
                RejectReason::SelfTrade,
                format!(
                    "would cross own order {} ({} at {})",
                    resting.id, resting.request.side, resting.request.price
                ),
            );
        }
        Ok(())
    }

    /// `max_daily_loss`, the strategy's and all strategies' together.
    fn daily_loss_allows(&self, c: &Checked) -> Result<(), Rejection> {
        let Checked {
            strategy,
            limits,
            books,
            ..
        } = *c;
        if let Some(max) = limits.max_daily_loss {
            let baseline = self.strategies[strategy]
                .day_baseline
                .map_or(0, |b| i128::from(b.raw()));
            let today = Self::net_pnl(Some(strategy), books) - baseline;
            if today < -i128::from(max.raw()) {
                return reject(
                    RejectReason::MaxDailyLoss,
                    format!("today's PnL {} < -max_daily_loss {max}", amount(today)),
                );
            }
        }
        if let Some(max) = self.config.global.max_daily_loss {
            let baseline = self.global_day_baseline.map_or(0, |b| i128::from(b.raw()));
            let today = Self::net_pnl(None, books) - baseline;
            if today < -i128::from(max.raw()) {
                return reject(
                    RejectReason::MaxDailyLoss,
                    format!(
                        "all strategies: today's PnL {} < -max_daily_loss {max}",
                        amount(today)
                    ),
                );
            }
        }
        Ok(())
    }
}
