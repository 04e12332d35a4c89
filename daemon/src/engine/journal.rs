//! The engine's journal: every order state change, fill, position, lifecycle event,
//! strategy state, risk decision and signal, numbered in the order it happened and handed
//! to the store's writer without ever waiting for it.
//!
//! Records collect in a buffer while the engine handles one input and leave at the end of
//! it as one batch, through a bounded channel (`try_send`). If the writer is behind and
//! the channel is full, batches wait here, in order, and go with the next flush: the
//! engine neither blocks nor drops. Without a store (backtests, benchmarks, tests) the
//! journal is off and recording costs one branch.
//!
//! The same records feed the admin API's live event stream: with [`Journal::stream_to`]
//! the journal also broadcasts each batch (snapshots of strategy state excepted), but
//! only while someone listens; a listener that falls behind misses records (and is told),
//! the engine never waits for it.

use crate::records::WriterStats;
use crate::records::{Body, Record};
use pennant_sdk::Timestamp;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc};

/// Where the journal sends its batches.
pub struct JournalSink {
    /// The writer's channel.
    pub records: mpsc::Sender<Vec<Record>>,
    /// The writer's counters (the journal keeps `queued`).
    pub stats: Arc<WriterStats>,
}

/// See the module docs.
#[derive(Default)]
pub struct Journal {
    seq: u64,
    buffer: Vec<Record>,
    backlog: VecDeque<Vec<Record>>,
    sink: Option<JournalSink>,
    stream: Option<broadcast::Sender<Arc<Record>>>,
    /// Whether the stream had listeners at the last flush (checked once per input, not
    /// per record).
    listening: bool,
    /// Records in `backlog`.
    backlog_records: usize,
}

impl Journal {
    /// A journal sending to `sink`, numbering on from `last_seq`.
    pub fn new(sink: JournalSink, last_seq: u64) -> Self {
        Journal {
            seq: last_seq,
            sink: Some(sink),
            ..Journal::default()
        }
    }

    /// Also broadcasts every record to `stream`'s receivers, while there are any.
    pub fn stream_to(&mut self, stream: broadcast::Sender<Arc<Record>>) {
        self.stream = Some(stream);
    }

    /// True when records are kept or streamed: callers skip building them otherwise.
    #[inline]
    pub fn enabled(&self) -> bool {
        self.sink.is_some() || self.listening
    }

    /// The last sequence number given.
    pub fn last_seq(&self) -> u64 {
        self.seq
    }

    /// Records one thing that happened at `ts`.
    pub fn record(&mut self, ts: Timestamp, body: Body) {
        if !self.enabled() {
            return;
        }
        self.seq += 1;
        self.buffer.push(Record {
            seq: self.seq,
            ts,
            body,
        });
    }

    /// Hands what was recorded to the writer and the stream, without waiting.
    pub fn flush(&mut self) {
        if let Some(stream) = &self.stream {
            if self.listening {
                for record in &self.buffer {
                    if !matches!(record.body, Body::State(_) | Body::Shutdown) {
                        let _ = stream.send(Arc::new(record.clone()));
                    }
                }
            }
            self.listening = stream.receiver_count() > 0;
        }
        let Some(sink) = &self.sink else {
            self.buffer.clear();
            return;
        };
        if !self.buffer.is_empty() {
            self.backlog_records += self.buffer.len();
            self.backlog.push_back(std::mem::take(&mut self.buffer));
        }
        while let Some(batch) = self.backlog.pop_front() {
            let len = batch.len();
            // Counted before the writer can take it off, so the count never goes below 0.
            sink.stats.queued.fetch_add(len as u64, Ordering::Relaxed);
            match sink.records.try_send(batch) {
                Ok(()) => self.backlog_records -= len,
                Err(mpsc::error::TrySendError::Full(batch)) => {
                    sink.stats.queued.fetch_sub(len as u64, Ordering::Relaxed);
                    self.backlog.push_front(batch);
                    return;
                }
                Err(mpsc::error::TrySendError::Closed(batch)) => {
                    log::error!(records = batch.len(); "the store writer is gone: records not kept");
                    self.sink = None;
                    self.backlog.clear();
                    self.backlog_records = 0;
                    return;
                }
            }
        }
    }

    /// The writer's counters, when there is a store.
    pub fn stats(&self) -> Option<&Arc<WriterStats>> {
        self.sink.as_ref().map(|sink| &sink.stats)
    }

    /// Batches the writer has not taken yet, held here.
    pub fn backlog(&self) -> usize {
        self.backlog.len()
    }

    /// Records in those batches.
    pub fn backlog_records(&self) -> usize {
        self.backlog_records
    }

    /// True when records wait in memory, here or in the writer, that neither the
    /// database nor the spool has taken.
    pub fn undurable(&self) -> bool {
        self.sink
            .as_ref()
            .is_some_and(|s| s.stats.undurable.load(Ordering::Relaxed) > 0)
    }

    /// Sends everything left, waiting for room if need be (at shutdown), and closes the
    /// channel so that the writer finishes.
    pub fn close(&mut self) {
        if !self.buffer.is_empty() {
            self.backlog.push_back(std::mem::take(&mut self.buffer));
        }
        self.backlog_records = 0;
        if let Some(sink) = self.sink.take() {
            for batch in self.backlog.drain(..) {
                let len = batch.len() as u64;
                sink.stats.queued.fetch_add(len, Ordering::Relaxed);
                if sink.records.blocking_send(batch).is_err() {
                    sink.stats.queued.fetch_sub(len, Ordering::Relaxed);
                }
            }
        }
    }
}
