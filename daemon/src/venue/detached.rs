//! A venue whose answers come from elsewhere: an exchange's venue when the engine is
//! put together without its connection (`check-config`, which trades nothing, and
//! `replay-session`, where the recorded `EngineInput::Venue` inputs bring the reports
//! the exchange sent). It sends nothing and answers nothing.

use super::{ExecutionReport, Venue, VenueOrder, VenueSnapshot};
use pennant_sdk::{OrderId, Timestamp};

/// See the module docs.
pub struct DetachedVenue {
    name: String,
}

impl DetachedVenue {
    /// A stand-in for the venue `name`.
    pub fn new(name: &str) -> Self {
        DetachedVenue {
            name: name.to_owned(),
        }
    }
}

impl Venue for DetachedVenue {
    fn name(&self) -> &str {
        &self.name
    }

    fn submit(&mut self, _order: VenueOrder, _now: Timestamp, _out: &mut Vec<ExecutionReport>) {}

    fn cancel(&mut self, _id: OrderId, _now: Timestamp, _out: &mut Vec<ExecutionReport>) {}

    fn snapshot(&mut self) -> Option<VenueSnapshot> {
        None
    }
}
