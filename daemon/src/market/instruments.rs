//! The instrument registry: symbols, handles and venue filters, fixed at start.

use pennant_sdk::{InstrumentId, InstrumentInfo};
use std::collections::HashMap;

/// Every tradable instrument. Handles are `1..=len` in configuration order and never
/// change while the daemon runs.
#[derive(Debug, Clone, Default)]
pub struct Instruments {
    list: Vec<InstrumentInfo>,
    by_symbol: HashMap<String, InstrumentId>,
}

impl Instruments {
    /// A registry of `infos`; their `id` fields are overwritten with the handles.
    pub fn new(infos: impl IntoIterator<Item = InstrumentInfo>) -> Self {
        let mut registry = Instruments::default();
        for mut info in infos {
            info.id = registry.list.len() as InstrumentId + 1;
            registry.by_symbol.insert(info.symbol.clone(), info.id);
            registry.list.push(info);
        }
        registry
    }

    /// An instrument by handle.
    pub fn get(&self, id: InstrumentId) -> Option<&InstrumentInfo> {
        let index = usize::try_from(id).ok()?.checked_sub(1)?;
        self.list.get(index)
    }

    /// An instrument by symbol.
    pub fn by_symbol(&self, symbol: &str) -> Option<&InstrumentInfo> {
        self.by_symbol.get(symbol).and_then(|&id| self.get(id))
    }

    /// The symbol of a handle, or `"?"` for logs about an unknown one.
    pub fn symbol(&self, id: InstrumentId) -> &str {
        self.get(id).map_or("?", |i| i.symbol.as_str())
    }

    /// All instruments, in handle order.
    pub fn iter(&self) -> impl Iterator<Item = &InstrumentInfo> {
        self.list.iter()
    }

    /// The number of instruments.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}
