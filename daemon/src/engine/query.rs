//! Queries: reads of the engine's state exactly as it stands between two inputs, asked
//! over the same control channel as [`super::Command`]s and answered the same way. The
//! published view is enough for most readers (it is at most `PUBLISH_INTERVAL` old and
//! costs the engine nothing per reader); a query is for what must be exact now or is
//! too big for every view (each working order with its venue state).
//!
//! A query changes nothing, so it is not recorded: a replay without it makes the same
//! orders and fills.

use super::lifecycle::Version;
use super::Engine;
use crate::records::{OrderEvent, OrderState};
use pennant_sdk::Timestamp;
use tokio::sync::oneshot;

/// Something to read from the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// The working orders, oldest first (all, or one strategy's).
    OpenOrders {
        /// Only this strategy's.
        strategy: Option<String>,
    },
    /// The versions a strategy kept ([`Engine::versions`]).
    Versions {
        /// The strategy id.
        strategy: String,
    },
}

/// What a query found.
#[derive(Debug, Clone)]
pub enum QueryAnswer {
    /// Each working order as it would be recorded now (its state `pending_cancel` or
    /// `unknown` where the venue has not answered), with when it was created.
    OpenOrders(Vec<(OrderEvent, Timestamp)>),
    /// A strategy's versions, oldest first; `None` for a strategy the engine does not
    /// know.
    Versions(Option<Vec<Version>>),
}

/// Where the answer to a query goes.
pub type QueryReply = oneshot::Sender<QueryAnswer>;

impl Engine {
    /// Answers a query, on the engine thread.
    pub fn query(&self, query: &Query) -> QueryAnswer {
        match query {
            Query::OpenOrders { strategy } => {
                let core = self.core_ref();
                let mut open = core.orders.all_open();
                open.retain(|o| {
                    strategy
                        .as_deref()
                        .is_none_or(|id| core.strategy_ids[o.strategy].as_ref() == id)
                });
                open.sort_by_key(|o| o.id);
                let orders = open
                    .iter()
                    .map(|o| {
                        let mut event = core.order_event(o, o.status, o.filled, None);
                        if o.status_unknown {
                            event.status = OrderState::Unknown;
                        } else if o.cancel_pending {
                            event.status = OrderState::PendingCancel;
                        }
                        (event, o.created)
                    })
                    .collect();
                QueryAnswer::OpenOrders(orders)
            }
            Query::Versions { strategy } => QueryAnswer::Versions(self.versions(strategy)),
        }
    }
}
