//! The closed sets of values records hold, and their names: one name per value, the
//! same in the tables, the spool file, the API, the metrics and the logs. Serde's names
//! are these names (a test checks each set), so a spool written before a value became a
//! type still reads back.

use pennant_sdk::{Liquidity, OrderKind, OrderStatus, RejectReason, Side, TimeInForce};
use serde::{Deserialize, Serialize};

/// A value of a closed set, stored as its name.
pub trait Named: Copy + Sized + 'static {
    /// What the set is, in an error message (`"side"`).
    const WHAT: &'static str;
    /// Every value, in documentation order.
    const ALL: &'static [Self];

    /// Its name.
    fn name(self) -> &'static str;

    /// Back from [`name`](Named::name).
    fn from_name(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == text)
    }

    /// Back from [`name`](Named::name), or an error naming the set and its values.
    fn parse(text: &str) -> Result<Self, UnknownName> {
        Self::from_name(text).ok_or_else(|| UnknownName {
            what: Self::WHAT,
            text: text.to_owned(),
            known: Self::ALL
                .iter()
                .map(|v| v.name())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

/// A name that is not one of its set's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a {what} (one of {known})")]
pub struct UnknownName {
    /// The set.
    pub what: &'static str,
    /// What was read.
    pub text: String,
    /// The names it could have been.
    pub known: String,
}

/// Where an order stands, as recorded: the venue's statuses, and the engine's own
/// states before and between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// Sent, no answer from the venue yet.
    Submitted,
    /// Working at the venue.
    Accepted,
    /// Partly filled, the rest working.
    PartiallyFilled,
    /// A cancel was asked for: the order works until the venue confirms (recovery asks
    /// again for the cancel of an order left so).
    PendingCancel,
    /// Sent and the venue did not answer in time: it may or may not be working until
    /// the venue says (recovery keeps it open for reconciliation).
    Unknown,
    /// Completely filled.
    Filled,
    /// Canceled.
    Canceled,
    /// Refused (by the venue, or ended at recovery).
    Rejected,
}

impl OrderState {
    /// The state of an order with this venue status (`None`: not yet answered).
    pub fn of(status: Option<OrderStatus>) -> OrderState {
        match status {
            None => OrderState::Submitted,
            Some(OrderStatus::Accepted) => OrderState::Accepted,
            Some(OrderStatus::Rejected) => OrderState::Rejected,
            Some(OrderStatus::PartiallyFilled) => OrderState::PartiallyFilled,
            Some(OrderStatus::Filled) => OrderState::Filled,
            Some(OrderStatus::Canceled) => OrderState::Canceled,
        }
    }

    /// True while the order can still fill.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            OrderState::Submitted
                | OrderState::Accepted
                | OrderState::PartiallyFilled
                | OrderState::PendingCancel
                | OrderState::Unknown
        )
    }
}

impl Named for OrderState {
    const WHAT: &'static str = "order status";
    const ALL: &'static [Self] = &[
        OrderState::Submitted,
        OrderState::Accepted,
        OrderState::PartiallyFilled,
        OrderState::PendingCancel,
        OrderState::Unknown,
        OrderState::Filled,
        OrderState::Canceled,
        OrderState::Rejected,
    ];
    fn name(self) -> &'static str {
        match self {
            OrderState::Submitted => "submitted",
            OrderState::Accepted => "accepted",
            OrderState::PartiallyFilled => "partially_filled",
            OrderState::PendingCancel => "pending_cancel",
            OrderState::Unknown => "unknown",
            OrderState::Filled => "filled",
            OrderState::Canceled => "canceled",
            OrderState::Rejected => "rejected",
        }
    }
}

/// What happened to a strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleKind {
    /// Started (`init`).
    Started,
    /// Its code was swapped for a new version (hot reload).
    Swapped,
    /// Re-`init`ed with new parameters.
    Reconfigured,
    /// Rebuilt from the code it had.
    Restarted,
    /// Stopped.
    Stopped,
    /// Stopped by a fault (a trap, a budget).
    Quarantined,
    /// A new version was refused; the old one runs on.
    Refused,
    /// A new version failed to start; the old one was put back.
    Failed,
    /// Put back on an earlier version.
    RolledBack,
    /// Paused by an operator.
    Paused,
    /// Resumed by an operator.
    Resumed,
}

impl Named for LifecycleKind {
    const WHAT: &'static str = "lifecycle event";
    const ALL: &'static [Self] = &[
        LifecycleKind::Started,
        LifecycleKind::Swapped,
        LifecycleKind::Reconfigured,
        LifecycleKind::Restarted,
        LifecycleKind::Stopped,
        LifecycleKind::Quarantined,
        LifecycleKind::Refused,
        LifecycleKind::Failed,
        LifecycleKind::RolledBack,
        LifecycleKind::Paused,
        LifecycleKind::Resumed,
    ];
    fn name(self) -> &'static str {
        match self {
            LifecycleKind::Started => "started",
            LifecycleKind::Swapped => "swapped",
            LifecycleKind::Reconfigured => "reconfigured",
            LifecycleKind::Restarted => "restarted",
            LifecycleKind::Stopped => "stopped",
            LifecycleKind::Quarantined => "quarantined",
            LifecycleKind::Refused => "refused",
            LifecycleKind::Failed => "failed",
            LifecycleKind::RolledBack => "rolled_back",
            LifecycleKind::Paused => "paused",
            LifecycleKind::Resumed => "resumed",
        }
    }
}

/// What a risk record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskKind {
    /// An order refused by a check.
    Rejection,
    /// A summary of refusals not recorded one by one.
    Rejections,
    /// An operator changed limits (the audit of the change).
    Limits,
    /// The limits a scope has after a run-time change, as TOML (what recovery reads).
    LimitsSet,
    /// A trading state was set.
    State,
    /// A kill switch was engaged.
    KillSwitch,
    /// The circuit breaker quarantined a strategy.
    Breaker,
    /// Trading held at reduce-only while records are not durable.
    StoreHold,
    /// The store's hold lifted.
    StoreRelease,
    /// A trading day began: a scope's PnL baseline.
    DayStart,
    /// Reconciliation with a venue corrected the engine's orders (an order the store
    /// never recorded adopted, one the venue does not have closed, one only the venue
    /// has canceled there).
    Reconciled,
}

impl Named for RiskKind {
    const WHAT: &'static str = "risk record kind";
    const ALL: &'static [Self] = &[
        RiskKind::Rejection,
        RiskKind::Rejections,
        RiskKind::Limits,
        RiskKind::LimitsSet,
        RiskKind::State,
        RiskKind::KillSwitch,
        RiskKind::Breaker,
        RiskKind::StoreHold,
        RiskKind::StoreRelease,
        RiskKind::DayStart,
        RiskKind::Reconciled,
    ];
    fn name(self) -> &'static str {
        match self {
            RiskKind::Rejection => "rejection",
            RiskKind::Rejections => "rejections",
            RiskKind::Limits => "limits",
            RiskKind::LimitsSet => "limits_set",
            RiskKind::State => "state",
            RiskKind::KillSwitch => "kill_switch",
            RiskKind::Breaker => "breaker",
            RiskKind::StoreHold => "store_hold",
            RiskKind::StoreRelease => "store_release",
            RiskKind::DayStart => "day_start",
            RiskKind::Reconciled => "reconciled",
        }
    }
}

/// Whether new orders may go out (the risk engine enforces it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TradingState {
    /// Orders pass the checks as usual.
    Active,
    /// Only orders that reduce an existing position pass.
    Reducing,
    /// No new orders; cancels still pass. Left only by an operator.
    Halted,
}

impl Named for TradingState {
    const WHAT: &'static str = "trading state";
    const ALL: &'static [Self] = &[
        TradingState::Active,
        TradingState::Reducing,
        TradingState::Halted,
    ];
    fn name(self) -> &'static str {
        match self {
            TradingState::Active => "ACTIVE",
            TradingState::Reducing => "REDUCING",
            TradingState::Halted => "HALTED",
        }
    }
}

/// The SDK's sets, named by their own methods.
macro_rules! sdk_named {
    ($($ty:ty, $what:literal, $name:ident;)*) => {$(
        impl Named for $ty {
            const WHAT: &'static str = $what;
            const ALL: &'static [Self] = &<$ty>::ALL;
            fn name(self) -> &'static str {
                self.$name()
            }
        }
    )*};
}

sdk_named! {
    Side, "side", as_str;
    OrderKind, "order kind", as_str;
    TimeInForce, "time in force", as_str;
    Liquidity, "liquidity", as_str;
    RejectReason, "reason", code;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value of a set: its name is unique, reads back, and is serde's name.
    fn check<T: Named + Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>() {
        let names: std::collections::BTreeSet<&str> = T::ALL.iter().map(|v| v.name()).collect();
        assert_eq!(names.len(), T::ALL.len(), "{}: names are unique", T::WHAT);
        for &value in T::ALL {
            let name = value.name();
            assert_eq!(T::from_name(name), Some(value), "{name}");
            let json = serde_json::to_string(&value).unwrap();
            assert_eq!(json, format!("\"{name}\""), "{}: serde's name", T::WHAT);
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), value);
        }
        let err = T::parse("nonsense").unwrap_err();
        assert_eq!(err.what, T::WHAT);
        assert!(err.known.contains(T::ALL[0].name()), "{err}");
    }

    #[test]
    fn every_set_names_each_value_once_and_as_serde_does() {
        check::<OrderState>();
        check::<LifecycleKind>();
        check::<RiskKind>();
        check::<TradingState>();
        check::<Side>();
        check::<OrderKind>();
        check::<TimeInForce>();
        check::<Liquidity>();
        check::<RejectReason>();
    }

    #[test]
    fn open_states_are_those_that_can_still_fill() {
        let open: Vec<&str> = OrderState::ALL
            .iter()
            .filter(|s| s.is_open())
            .map(|s| s.name())
            .collect();
        assert_eq!(
            open,
            [
                "submitted",
                "accepted",
                "partially_filled",
                "pending_cancel",
                "unknown"
            ]
        );
        for status in OrderStatus::ALL {
            assert_eq!(OrderState::of(Some(status)).is_open(), !status.is_final());
        }
    }
}
