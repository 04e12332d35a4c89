//! `sma-cross`: a trend follower on bars.
//!
//! It keeps a fast and a slow simple moving average of bar closes. When the fast average
//! crosses above the slow one it goes long `qty`; when it crosses below it goes flat, or
//! short `qty` with `allow_short = true`. Orders are market orders for the difference
//! between the target and the current position, one at a time; a market order that
//! fills only in part is topped up at the next bar (a refused one, after a back-off of
//! 100 ms doubling up to 10 s). Each cross also emits an advisory signal.
//!
//! Parameters: `instrument` (symbol), `qty`, `fast` (bars, default 10), `slow` (bars,
//! default 30), `bar_interval_ms` (default 60000), `allow_short` (default false).

use pennant_sdk::prelude::*;
use pennant_sdk::state;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The strategy's state that survives a reload.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Trend {
    /// The last `slow` closes, oldest first.
    closes: VecDeque<Price>,
    /// Whether the fast average was above the slow one at the last bar.
    fast_above: Option<bool>,
    /// The position the last cross asked for; pursued bar after bar until reached (a
    /// market order may fill only in part).
    target: Option<Qty>,
}

/// See the crate docs.
pub struct SmaCross {
    instrument: InstrumentId,
    qty: Qty,
    fast: usize,
    slow: usize,
    allow_short: bool,
    trend: Trend,
    /// The order in flight, if any: no new order until it is done.
    pending: Option<OrderId>,
    /// After a refused order, the wait before the next try.
    backoff: Backoff,
}

fn average(closes: impl Iterator<Item = Price>, n: usize) -> Price {
    let sum: i128 = closes.map(|p| i128::from(p.raw())).sum();
    Price::from_raw((sum / n as i128) as i64)
}

impl SmaCross {
    fn target(&self, fast_above: bool) -> Qty {
        match (fast_above, self.allow_short) {
            (true, _) => self.qty,
            (false, true) => -self.qty,
            (false, false) => Qty::ZERO,
        }
    }

    fn trade_towards(&mut self, host: &mut dyn Host, target: Qty) {
        let current = host.position(self.instrument).qty;
        let (side, size) = if target > current {
            (Side::Buy, target - current)
        } else {
            (Side::Sell, current - target)
        };
        if size.is_zero() {
            return;
        }
        let now = host.now();
        if !self.backoff.ready(now) {
            return;
        }
        match host.submit_order(&OrderRequest::market(self.instrument, side, size)) {
            Ok(id) => {
                self.backoff.accepted();
                self.pending = Some(id);
            }
            Err(rejection) => {
                self.backoff.refused(now);
                host.log(LogLevel::Warn, &format!("order refused: {rejection}"));
            }
        }
    }
}

impl SmaCross {
    /// Logs a cross and emits it as a signal.
    fn announce(&self, host: &mut dyn Host, fast: Price, slow: Price, fast_above: bool) {
        host.log(
            LogLevel::Info,
            &format!(
                "fast SMA {fast} crossed {} slow SMA {slow}",
                if fast_above { "above" } else { "below" }
            ),
        );
        host.emit_signal(&Signal {
            instrument: self.instrument,
            side: if fast_above { Side::Buy } else { Side::Sell },
            strength: 1.0,
            target: None,
            stop: None,
            note: format!("sma {}/{} cross", self.fast, self.slow),
        });
    }
}

impl Strategy for SmaCross {
    fn init(host: &mut dyn Host, params: &Params) -> Result<Self, InitError> {
        params.deny_unknown(&[
            "instrument",
            "qty",
            "fast",
            "slow",
            "bar_interval_ms",
            "allow_short",
        ])?;
        let symbol: String = params.require("instrument")?;
        let info = host
            .lookup_instrument(&symbol)
            .ok_or_else(|| format!("unknown instrument `{symbol}`"))?;
        let qty: Qty = params.require("qty")?;
        let fast: usize = params.get_or("fast", 10)?;
        let slow: usize = params.get_or("slow", 30)?;
        if !qty.is_positive() {
            return Err("`qty` must be positive".into());
        }
        if fast == 0 || fast >= slow {
            return Err(format!("need 0 < fast < slow, got fast = {fast}, slow = {slow}").into());
        }
        host.subscribe_bars(info.id, params.get_or("bar_interval_ms", 60_000)?)?;
        Ok(SmaCross {
            instrument: info.id,
            qty,
            fast,
            slow,
            allow_short: params.get_or("allow_short", false)?,
            trend: Trend::default(),
            pending: None,
            backoff: Backoff::default(),
        })
    }

    fn on_bar(&mut self, host: &mut dyn Host, bar: &Bar) {
        let closes = &mut self.trend.closes;
        closes.push_back(bar.close);
        if closes.len() > self.slow {
            closes.pop_front();
        }
        if closes.len() < self.slow {
            return;
        }
        let fast = average(closes.iter().rev().take(self.fast).copied(), self.fast);
        let slow = average(closes.iter().copied(), self.slow);
        let fast_above = fast > slow;
        let crossed = self
            .trend
            .fast_above
            .is_some_and(|before| before != fast_above);
        self.trend.fast_above = Some(fast_above);
        if crossed {
            self.announce(host, fast, slow, fast_above);
            self.trend.target = Some(self.target(fast_above));
        }
        if let (None, Some(target)) = (self.pending, self.trend.target) {
            self.trade_towards(host, target);
        }
    }

    fn on_order_update(&mut self, _host: &mut dyn Host, update: &OrderUpdate) {
        if Some(update.order_id) == self.pending && update.status.is_final() {
            self.pending = None;
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        state::encode(&self.trend)
    }

    fn restore(&mut self, _host: &mut dyn Host, bytes: &[u8]) -> Result<(), InitError> {
        let mut trend: Trend = state::decode(bytes)?;
        // A reload may change `slow`: keep the newest closes that still matter.
        while trend.closes.len() > self.slow {
            trend.closes.pop_front();
        }
        self.trend = trend;
        Ok(())
    }
}

pennant_sdk::export_strategy!(SmaCross);

#[cfg(test)]
mod tests {
    use super::*;
    use pennant_sdk::testing::{px, qty, Harness};

    const SYMBOL: &str = "BTC-USDT";

    fn harness(extra: &[(&str, &str)]) -> Harness<SmaCross> {
        let mut h = Harness::new().with_instrument(SYMBOL, "0.01", "0.001");
        let mut params = vec![
            ("instrument", SYMBOL),
            ("qty", "0.5"),
            ("fast", "2"),
            ("slow", "4"),
        ];
        params.extend_from_slice(extra);
        h.init(&params).unwrap();
        h
    }

    /// Feeds closes as 1-minute bars, with a tight quote around each close.
    fn feed(h: &mut Harness<SmaCross>, closes: &[&str]) {
        for close in closes {
            let c = px(close);
            h.advance_by(60 * NANOS_PER_SECOND);
            h.quote(SYMBOL, c - px("0.01"), qty("10"), c + px("0.01"), qty("10"));
            h.bar(SYMBOL, 60_000, [c, c, c, c], qty("1"));
        }
    }

    #[test]
    fn subscribes_to_bars_of_the_configured_interval() {
        let h = harness(&[("bar_interval_ms", "5000")]);
        assert_eq!(h.host.bar_subscriptions, vec![(1, 5000)]);
    }

    #[test]
    fn goes_long_on_a_golden_cross_and_flat_on_a_death_cross() {
        let mut h = harness(&[]);
        feed(&mut h, &["100", "99", "98", "97", "96"]);
        assert!(h.orders().is_empty(), "no cross yet, no order");
        feed(&mut h, &["110"]);
        assert_eq!(h.position(SYMBOL).qty, qty("0.5"));
        assert_eq!(h.position(SYMBOL).avg_price, px("110.01"));
        assert_eq!(h.host.signals.len(), 1);
        assert_eq!(h.host.signals[0].side, Side::Buy);
        feed(&mut h, &["111", "90", "80"]);
        assert_eq!(h.position(SYMBOL).qty, Qty::ZERO);
        let sides: Vec<Side> = h.orders().iter().map(|o| o.side).collect();
        assert_eq!(sides, vec![Side::Buy, Side::Sell]);
    }

    #[test]
    fn tops_up_a_partial_fill_at_the_next_bar() {
        let mut h = harness(&[]);
        feed(&mut h, &["100", "99", "98", "97", "96"]);
        // Only 0.2 shown at the ask when the cross comes: the market order fills 0.2.
        h.advance_by(60 * NANOS_PER_SECOND);
        h.quote(SYMBOL, px("109.99"), qty("10"), px("110.01"), qty("0.2"));
        h.bar(SYMBOL, 60_000, [px("110"); 4], qty("1"));
        assert_eq!(h.orders()[0].qty, qty("0.5"));
        feed(&mut h, &["111"]);
        assert_eq!(h.orders()[1].qty, qty("0.3"), "the rest, at the next bar");
        feed(&mut h, &["112"]);
        assert_eq!(
            h.orders().len(),
            2,
            "nothing more once the target is reached"
        );
    }

    #[test]
    fn goes_short_when_allowed() {
        let mut h = harness(&[("allow_short", "true")]);
        feed(&mut h, &["90", "91", "92", "93", "94", "80"]);
        assert_eq!(h.position(SYMBOL).qty, qty("-0.5"));
    }

    #[test]
    fn refuses_bad_parameters_with_a_reason() {
        let mut h = Harness::<SmaCross>::new().with_instrument(SYMBOL, "0.01", "0.001");
        let err = h
            .init(&[
                ("instrument", SYMBOL),
                ("qty", "1"),
                ("fast", "5"),
                ("slow", "5"),
            ])
            .unwrap_err();
        assert_eq!(err.0, "need 0 < fast < slow, got fast = 5, slow = 5");
        let err = h.init(&[("instrument", "DOGE"), ("qty", "1")]).unwrap_err();
        assert_eq!(err.0, "unknown instrument `DOGE`");
        let err = h
            .init(&[("instrument", SYMBOL), ("qty", "1"), ("fats", "5")])
            .unwrap_err();
        assert_eq!(err.0, "unknown parameter `fats`");
    }

    #[test]
    fn the_trend_survives_a_reload() {
        let mut h = harness(&[]);
        feed(&mut h, &["100", "99", "98", "97", "96"]);
        h.reload().unwrap();
        assert_eq!(h.strategy().trend.closes.len(), 4);
        feed(&mut h, &["110"]);
        assert_eq!(
            h.position(SYMBOL).qty,
            qty("0.5"),
            "the cross is seen across the reload"
        );
    }
}
