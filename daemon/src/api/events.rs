//! `GET /api/v1/events`: the journal's records as Server-Sent Events, live.
//!
//! Each event is `event: <type>`, `id: <seq>`, `data: <JSON>` (see [`super::json::record`]).
//! A client that reads too slowly falls behind the broadcast channel: it gets a `lagged`
//! event with how many records it missed, then goes on with the newest.

use super::error::ApiError;
use super::json;
use super::query::Query;
use crate::records::Record;
use futures_util::stream::{self, Stream};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use warp::sse::Event;

/// The query parameters of the stream.
pub const PARAMS: &[&str] = &["strategy", "types"];
/// The record types a client can ask for.
pub const TYPES: &[&str] = &["order", "fill", "position", "risk", "signal", "lifecycle"];

/// What a client asked to see.
pub struct Subscription {
    strategy: Option<String>,
    types: Vec<&'static str>,
}

impl Subscription {
    /// From the query: `strategy` (one id) and `types` (a comma-separated list).
    pub fn from_query(query: &Query) -> Result<Subscription, ApiError> {
        let types = match query.get("types") {
            None => TYPES.to_vec(),
            Some(list) => list
                .split(',')
                .map(|t| {
                    TYPES
                        .iter()
                        .copied()
                        .find(|k| *k == t.trim())
                        .ok_or_else(|| {
                            ApiError::bad_request(format!(
                                "types: {t:?} is not one of {}",
                                TYPES.join(", ")
                            ))
                        })
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(Subscription {
            strategy: query.get("strategy").map(str::to_owned),
            types,
        })
    }

    fn wants(&self, record: &Record) -> bool {
        self.types.contains(&json::record_type(&record.body))
            && self
                .strategy
                .as_deref()
                .is_none_or(|id| json::record_strategy(&record.body) == Some(id))
    }
}

/// The SSE reply.
pub fn reply(
    receiver: broadcast::Receiver<Arc<Record>>,
    subscription: Subscription,
) -> warp::reply::Response {
    use warp::Reply;
    let events = stream_of(receiver, subscription);
    warp::sse::reply(
        warp::sse::keep_alive()
            .interval(Duration::from_secs(15))
            .stream(events),
    )
    .into_response()
}

fn stream_of(
    receiver: broadcast::Receiver<Arc<Record>>,
    subscription: Subscription,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    stream::unfold(
        (receiver, subscription),
        |(mut receiver, subscription)| async move {
            loop {
                match receiver.recv().await {
                    Ok(record) if subscription.wants(&record) => {
                        let event = Event::default()
                            .event(json::record_type(&record.body))
                            .id(record.seq.to_string())
                            .data(json::record(&record).to_string());
                        return Some((Ok(event), (receiver, subscription)));
                    }
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        let event = Event::default()
                            .event("lagged")
                            .data(serde_json::json!({ "missed": missed }).to_string());
                        return Some((Ok(event), (receiver, subscription)));
                    }
                    // The engine has stopped: the stream ends.
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    )
}
