// The body of a component written with wit-bindgen alone, as strategies built before the
// SDK's current contract are: included by `contract-v0-1` and `contract-v0-2` after each
// generates the bindings of its own version and names it in `CONTRACT`. It subscribes to
// the quotes of its `instrument`, bids `qty` (raw, 8 decimal places) at the first best
// bid, and logs every refusal and order update with the reason code as its version names
// it: the daemon's tests read those lines.

use exports::pennant::strategy::strategy::Guest;
use pennant::strategy::host;
use pennant::strategy::types::{
    Bar, LogLevel, OrderKind, OrderRequest, OrderUpdate, Param, Quote, Side, Streams,
    TimeInForce, Trade,
};
use std::cell::Cell;

thread_local! {
    static INSTRUMENT: Cell<u32> = const { Cell::new(0) };
    static QTY: Cell<i64> = const { Cell::new(0) };
    static SENT: Cell<bool> = const { Cell::new(false) };
}

struct Legacy;

impl Guest for Legacy {
    fn init(params: Vec<Param>) -> Result<(), String> {
        let value = |key: &str| {
            params
                .iter()
                .find(|p| p.key == key)
                .map(|p| p.value.clone())
                .ok_or_else(|| format!("missing `{key}`"))
        };
        let symbol = value("instrument")?;
        let info = host::lookup_instrument(&symbol)
            .ok_or_else(|| format!("unknown instrument `{symbol}`"))?;
        let qty: i64 = value("qty")?
            .parse()
            .map_err(|_| "`qty` is raw units".to_owned())?;
        INSTRUMENT.set(info.id);
        QTY.set(qty);
        host::subscribe(info.id, Streams::QUOTES);
        Ok(())
    }

    fn on_trade(_trade: Trade) {}

    fn on_quote(quote: Quote) {
        if SENT.replace(true) {
            return;
        }
        let order = OrderRequest {
            instrument: INSTRUMENT.get(),
            side: Side::Buy,
            kind: OrderKind::Limit,
            price: quote.bid_price,
            qty: QTY.get(),
            time_in_force: TimeInForce::Gtc,
            client_order_id: 1,
        };
        if let Err(rejection) = host::submit_order(order) {
            host::log(
                LogLevel::Info,
                &format!("contract {CONTRACT} refusal: {:?}", rejection.reason),
            );
        }
    }

    fn on_bar(_bar: Bar) {}

    fn on_order_update(update: OrderUpdate) {
        host::log(
            LogLevel::Info,
            &format!(
                "contract {CONTRACT} update: {:?} reason {:?}",
                update.status, update.reason
            ),
        );
    }

    fn on_timer(_token: u64) {}

    fn snapshot() -> Vec<u8> {
        Vec::new()
    }

    fn restore(_state: Vec<u8>) -> Result<(), String> {
        Ok(())
    }
}

export!(Legacy);
