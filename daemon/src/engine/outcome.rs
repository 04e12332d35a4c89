//! What a session came to, in a form two runs can be compared by: a digest of every
//! order the engine accepted and every update it booked, in order, and the positions at
//! the end. A recorded session keeps its outcome; a replay computes its own and compares.
//! Off unless asked for: it costs a hash per order and update.

use super::StrategyIdx;
use pennant_sdk::{OrderId, OrderRequest, OrderUpdate, Position};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;

/// Hashes orders and updates as the engine books them.
#[derive(Default)]
pub struct OutcomeDigest {
    hasher: Sha256,
    orders: u64,
    updates: u64,
    fills: u64,
    scratch: Vec<u8>,
}

impl OutcomeDigest {
    /// An order accepted by risk and handed to its venue.
    pub fn order(&mut self, strategy: StrategyIdx, id: OrderId, request: &OrderRequest) {
        self.orders += 1;
        self.scratch.clear();
        let _ = writeln!(self.scratch, "order {strategy} {id} {request:?}");
        self.hasher.update(&self.scratch);
    }

    /// An update booked for a strategy (accepted, filled, canceled, rejected ...).
    pub fn update(&mut self, strategy: StrategyIdx, update: &OrderUpdate) {
        self.updates += 1;
        if update.is_fill() {
            self.fills += 1;
        }
        self.scratch.clear();
        let _ = writeln!(self.scratch, "update {strategy} {update:?}");
        self.hasher.update(&self.scratch);
    }

    /// The outcome so far, with the positions at the end.
    pub fn outcome(&self, positions: Vec<PositionOutcome>) -> Outcome {
        Outcome {
            digest: hex::encode(self.hasher.clone().finalize()),
            orders: self.orders,
            updates: self.updates,
            fills: self.fills,
            positions,
        }
    }
}

/// A strategy's position in one instrument at the end of a session, to the unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionOutcome {
    /// The strategy id.
    pub strategy: String,
    /// The instrument's symbol.
    pub instrument: String,
    /// Net quantity, raw fixed point.
    pub qty: i64,
    /// Average entry price, raw.
    pub avg_price: i64,
    /// Realized PnL, raw.
    pub realized_pnl: i64,
    /// Fees paid, raw.
    pub fees: i64,
}

impl PositionOutcome {
    /// From a strategy's position.
    pub fn new(strategy: &str, instrument: &str, p: &Position) -> Self {
        PositionOutcome {
            strategy: strategy.to_owned(),
            instrument: instrument.to_owned(),
            qty: p.qty.raw(),
            avg_price: p.avg_price.raw(),
            realized_pnl: p.realized_pnl.raw(),
            fees: p.fees.raw(),
        }
    }
}

/// What a session came to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// SHA-256 of every order and update, in order, hex.
    pub digest: String,
    /// Orders accepted.
    pub orders: u64,
    /// Updates booked.
    pub updates: u64,
    /// Of which fills.
    pub fills: u64,
    /// Every position at the end.
    pub positions: Vec<PositionOutcome>,
}
