//! `market-maker`: two-sided quotes around the mid, skewed by inventory, capped in size.
//!
//! On every quote it computes a reservation price: the mid, moved against the current
//! inventory by up to `skew_bps` at a full position (long inventory lowers both quotes
//! so that selling becomes likelier). It bids and offers `qty` at `half_spread_bps` either
//! side of it, as post-only limit orders, never letting a fill take the position beyond
//! `max_position`. A working quote is replaced (cancel, then place once the cancel is
//! confirmed) when its target price moves by `requote_ticks` or more. A refused quote is
//! not retried at once: it backs off (100 ms, doubling up to 10 s) until one is accepted.
//!
//! Parameters: `instrument`, `qty`, `max_position`, `half_spread_bps` (default 5),
//! `skew_bps` (default 10), `requote_ticks` (default 2), `log_interval_ms` (default 0:
//! no periodic inventory log).

use pennant_sdk::prelude::*;

/// One side's working quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// No order on this side.
    Empty,
    /// An order working at `price`.
    Working { id: OrderId, price: Price },
    /// A cancel was sent; waiting for its confirmation before quoting again.
    Canceling { id: OrderId },
}

const LOG_TIMER: u64 = 1;

/// See the crate docs.
pub struct MarketMaker {
    instrument: InstrumentInfo,
    qty: Qty,
    max_position: Qty,
    half_spread_bps: f64,
    skew_bps: f64,
    requote_ticks: i64,
    log_interval_ms: i64,
    bid: Slot,
    ask: Slot,
    backoff: Backoff,
}

impl MarketMaker {
    /// Bid and ask prices for the current mid and inventory, on the tick grid.
    fn targets(&self, mid: Price, position: Qty) -> (Price, Price) {
        let inventory = (position.to_f64() / self.max_position.to_f64()).clamp(-1.0, 1.0);
        let mid = mid.to_f64();
        let reservation = mid * (1.0 - inventory * self.skew_bps / 10_000.0);
        let offset = mid * self.half_spread_bps / 10_000.0;
        let tick = self.instrument.tick_size;
        let bid = Price::from_f64(reservation - offset)
            .unwrap_or(Price::ZERO)
            .round_down_to(tick);
        let ask = Price::from_f64(reservation + offset).unwrap_or(Price::ZERO);
        // Round the ask up, so that both quotes are at least the half spread away.
        let ask = if ask.is_multiple_of(tick) {
            ask
        } else {
            ask.round_down_to(tick) + tick
        };
        (bid, ask)
    }

    fn slot(&mut self, side: Side) -> &mut Slot {
        match side {
            Side::Buy => &mut self.bid,
            Side::Sell => &mut self.ask,
        }
    }

    /// Brings one side's order to `target` (or to nothing when `size` is zero).
    fn requote(&mut self, host: &mut dyn Host, side: Side, target: Price, size: Qty) {
        let threshold = self
            .instrument
            .tick_size
            .checked_mul_int(self.requote_ticks)
            .unwrap_or(Price::MAX);
        match *self.slot(side) {
            Slot::Canceling { .. } => {}
            Slot::Working { id, price } => {
                let moved = (price - target).abs() >= threshold;
                if size.is_zero() || moved {
                    *self.slot(side) = match host.cancel_order(id) {
                        Ok(()) => Slot::Canceling { id },
                        // Already gone (filled or canceled): its final update is on its way.
                        Err(_) => Slot::Canceling { id },
                    };
                }
            }
            Slot::Empty if size.is_positive() && target.is_positive() => {
                let now = host.now();
                if !self.backoff.ready(now) {
                    return;
                }
                let order = OrderRequest::limit(self.instrument.id, side, target, size)
                    .with_time_in_force(TimeInForce::PostOnly);
                match host.submit_order(&order) {
                    Ok(id) => {
                        self.backoff.accepted();
                        *self.slot(side) = Slot::Working { id, price: target };
                    }
                    Err(rejection) => {
                        self.backoff.refused(now);
                        host.log(
                            LogLevel::Debug,
                            &format!("{side} quote refused: {rejection}"),
                        );
                    }
                }
            }
            Slot::Empty => {}
        }
    }
}

impl Strategy for MarketMaker {
    fn init(host: &mut dyn Host, params: &Params) -> Result<Self, InitError> {
        params.deny_unknown(&[
            "instrument",
            "qty",
            "max_position",
            "half_spread_bps",
            "skew_bps",
            "requote_ticks",
            "log_interval_ms",
        ])?;
        let symbol: String = params.require("instrument")?;
        let instrument = host
            .lookup_instrument(&symbol)
            .ok_or_else(|| format!("unknown instrument `{symbol}`"))?;
        let qty: Qty = params.require("qty")?;
        let max_position: Qty = params.require("max_position")?;
        let half_spread_bps: f64 = params.get_or("half_spread_bps", 5.0)?;
        if !qty.is_positive() || max_position < qty {
            return Err("need 0 < qty <= max_position".into());
        }
        if half_spread_bps.is_nan() || half_spread_bps <= 0.0 {
            return Err("`half_spread_bps` must be positive".into());
        }
        host.subscribe(instrument.id, Streams::QUOTES);
        let log_interval_ms: i64 = params.get_or("log_interval_ms", 0)?;
        if log_interval_ms > 0 {
            let now = host.now();
            host.set_timer(now + log_interval_ms * NANOS_PER_MILLI, LOG_TIMER);
        }
        Ok(MarketMaker {
            instrument,
            qty,
            max_position,
            half_spread_bps,
            skew_bps: params.get_or("skew_bps", 10.0)?,
            requote_ticks: params.get_or("requote_ticks", 2)?,
            log_interval_ms,
            bid: Slot::Empty,
            ask: Slot::Empty,
            backoff: Backoff::default(),
        })
    }

    fn on_quote(&mut self, host: &mut dyn Host, quote: &Quote) {
        if quote.bid_price >= quote.ask_price || !quote.bid_price.is_positive() {
            return; // crossed or empty book: no sensible mid
        }
        let position = host.position(self.instrument.id).qty;
        let (bid, ask) = self.targets(quote.mid(), position);
        // A skewed quote must still not cross the book: post-only would refuse it.
        let tick = self.instrument.tick_size;
        let bid = bid.min(quote.ask_price - tick);
        let ask = ask.max(quote.bid_price + tick);
        // Never let a fill take the position past the cap.
        let room_to_buy = (self.max_position - position).round_down_to(self.instrument.lot_size);
        let room_to_sell = (self.max_position + position).round_down_to(self.instrument.lot_size);
        let bid_size = self.qty.min(room_to_buy.max(Qty::ZERO));
        let ask_size = self.qty.min(room_to_sell.max(Qty::ZERO));
        self.requote(host, Side::Buy, bid, bid_size);
        self.requote(host, Side::Sell, ask, ask_size);
    }

    fn on_order_update(&mut self, _host: &mut dyn Host, update: &OrderUpdate) {
        if !update.status.is_final() {
            return;
        }
        let slot = self.slot(update.side);
        let ours = match *slot {
            Slot::Working { id, .. } | Slot::Canceling { id } => id == update.order_id,
            Slot::Empty => false,
        };
        if ours {
            *slot = Slot::Empty;
        }
    }

    fn on_timer(&mut self, host: &mut dyn Host, token: u64) {
        if token == LOG_TIMER {
            let p = host.position(self.instrument.id);
            host.log(
                LogLevel::Info,
                &format!(
                    "inventory {} avg {} unrealized {}",
                    p.qty, p.avg_price, p.unrealized_pnl
                ),
            );
            let now = host.now();
            host.set_timer(now + self.log_interval_ms * NANOS_PER_MILLI, LOG_TIMER);
        }
    }
}

pennant_sdk::export_strategy!(MarketMaker);

#[cfg(test)]
mod tests {
    use super::*;
    use pennant_sdk::testing::{px, qty, Harness};

    const SYMBOL: &str = "ETH-USDT";

    fn harness() -> Harness<MarketMaker> {
        let mut h = Harness::new().with_instrument(SYMBOL, "0.01", "0.01");
        h.init(&[
            ("instrument", SYMBOL),
            ("qty", "1"),
            ("max_position", "2"),
            ("half_spread_bps", "10"),
            ("skew_bps", "20"),
        ])
        .unwrap();
        h
    }

    fn working(h: &Harness<MarketMaker>) -> Vec<(Side, Price, Qty)> {
        let mut orders: Vec<_> = h
            .working_orders()
            .into_iter()
            .map(|(_, o)| (o.side, o.price, o.qty))
            .collect();
        orders.sort_by_key(|(side, _, _)| *side == Side::Sell);
        orders
    }

    #[test]
    fn quotes_both_sides_around_the_mid_when_flat() {
        let mut h = harness();
        h.quote(SYMBOL, px("999.5"), qty("5"), px("1000.5"), qty("5"));
        assert_eq!(
            working(&h),
            vec![
                (Side::Buy, px("999"), qty("1")),
                (Side::Sell, px("1001"), qty("1"))
            ]
        );
        assert!(h
            .orders()
            .iter()
            .all(|o| o.time_in_force == TimeInForce::PostOnly));
    }

    #[test]
    fn skews_against_inventory_and_respects_the_cap() {
        let mut h = harness();
        h.quote(SYMBOL, px("999.5"), qty("5"), px("1000.5"), qty("5"));
        // Our bid at 999 is hit twice: long 2 = the cap.
        h.trade(SYMBOL, px("999"), qty("1"), Side::Sell);
        h.quote(SYMBOL, px("999.5"), qty("5"), px("1000.5"), qty("5"));
        // Long 1: the bid is skewed down by 10 bps, to 998.
        assert_eq!(working(&h)[0], (Side::Buy, px("998"), qty("1")));
        h.trade(SYMBOL, px("998"), qty("1"), Side::Sell);
        assert_eq!(h.position(SYMBOL).qty, qty("2"));
        // At the cap: no bid at all, and the ask pulled down by the full skew (20 bps) to
        // 999, but no lower than a tick above the best bid, so as not to cross.
        h.quote(SYMBOL, px("999.5"), qty("5"), px("1000.5"), qty("5"));
        h.quote(SYMBOL, px("999.5"), qty("5"), px("1000.5"), qty("5"));
        assert_eq!(working(&h), vec![(Side::Sell, px("999.51"), qty("1"))]);
    }

    #[test]
    fn replaces_a_quote_only_after_its_cancel_is_confirmed() {
        let mut h = harness();
        h.quote(SYMBOL, px("999.5"), qty("5"), px("1000.5"), qty("5"));
        h.quote(SYMBOL, px("1000"), qty("5"), px("1001"), qty("5"));
        assert_eq!(
            h.host.cancels.len(),
            2,
            "both quotes moved by more than 2 ticks"
        );
        assert!(h.working_orders().is_empty());
        // The harness confirms cancels at once, so the next quote places new orders.
        h.quote(SYMBOL, px("1000"), qty("5"), px("1001"), qty("5"));
        assert_eq!(
            working(&h),
            vec![
                (Side::Buy, px("999.49"), qty("1")),
                (Side::Sell, px("1001.51"), qty("1"))
            ]
        );
    }

    #[test]
    fn logs_inventory_on_a_timer() {
        let mut h = Harness::<MarketMaker>::new().with_instrument(SYMBOL, "0.01", "0.01");
        h.init(&[
            ("instrument", SYMBOL),
            ("qty", "1"),
            ("max_position", "2"),
            ("log_interval_ms", "1000"),
        ])
        .unwrap();
        h.advance_by(2_500 * NANOS_PER_MILLI);
        let lines = h
            .host
            .logs
            .iter()
            .filter(|(_, l)| l.starts_with("inventory 0"))
            .count();
        assert_eq!(lines, 2);
    }

    #[test]
    fn refuses_a_quote_size_above_the_cap() {
        let mut h = Harness::<MarketMaker>::new().with_instrument(SYMBOL, "0.01", "0.01");
        let err = h
            .init(&[("instrument", SYMBOL), ("qty", "3"), ("max_position", "2")])
            .unwrap_err();
        assert_eq!(err.0, "need 0 < qty <= max_position");
    }
}
