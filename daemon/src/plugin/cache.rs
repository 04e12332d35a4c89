//! The on-disk cache of compiled components, keyed by the SHA-256 of the component file.
//!
//! An entry is wasmtime's serialized native code. wasmtime checks on load that an entry
//! was made by the same wasmtime version with a compatible configuration; an entry that
//! fails that check (or is corrupt) is ignored and replaced by a fresh compile. Entries
//! are written to a temporary file and renamed, so a crash never leaves half an entry.

use sha2::{Digest, Sha256};
use std::path::PathBuf;
use wasmtime::component::Component;
use wasmtime::Engine;

/// Hex SHA-256 of a component file.
pub fn content_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A copy of a component with a custom section named `label` appended: the same code
/// under another content hash. Tests and benchmarks make "new versions" with it.
pub fn relabel(component: &[u8], label: &str) -> Vec<u8> {
    fn leb128(out: &mut Vec<u8>, mut n: usize) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let mut section = Vec::new();
    leb128(&mut section, label.len());
    section.extend_from_slice(label.as_bytes());
    let mut bytes = component.to_vec();
    bytes.push(0); // custom section id
    leb128(&mut bytes, section.len());
    bytes.extend_from_slice(&section);
    bytes
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct CompileCache {
    dir: PathBuf,
}

impl CompileCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: PathBuf) -> Self {
        CompileCache { dir }
    }

    fn entry(&self, hash: &str) -> PathBuf {
        self.dir.join(format!("{hash}.cwasm"))
    }

    /// The cached compile of a component, if there is a usable one.
    pub fn get(&self, engine: &Engine, hash: &str) -> Option<Component> {
        let path = self.entry(hash);
        // Read into memory rather than map the file: a mapped entry truncated by another
        // process would crash the daemon with SIGBUS.
        let bytes = std::fs::read(&path).ok()?;
        // SAFETY: entries are written only by `put`, from wasmtime's own serialization,
        // into the daemon's private state folder; wasmtime validates the header
        // (version, configuration) before using the code.
        match unsafe { Component::deserialize(engine, &bytes) } {
            Ok(component) => {
                log::debug!(hash; "loaded compiled component from cache");
                Some(component)
            }
            Err(err) => {
                log::warn!(path:% = path.display(), error:% = err; "ignoring unusable compile cache entry");
                None
            }
        }
    }

    /// Stores a compiled component. Failure only costs a recompile later, so it is
    /// logged, not returned.
    pub fn put(&self, hash: &str, component: &Component) {
        let result = (|| -> Result<(), String> {
            let bytes = component.serialize().map_err(|err| err.to_string())?;
            std::fs::create_dir_all(&self.dir).map_err(|err| err.to_string())?;
            // Unique per writer: the threads of a sweep may store the same entry at once.
            static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let tmp = self
                .dir
                .join(format!(".{hash}.{}.{n}.tmp", std::process::id()));
            std::fs::write(&tmp, bytes).map_err(|err| err.to_string())?;
            std::fs::rename(&tmp, self.entry(hash)).map_err(|err| err.to_string())
        })();
        if let Err(error) = result {
            log::warn!(dir:% = self.dir.display(), error; "cannot write the compile cache");
        }
    }

    /// Whether a compile of `hash` is cached (for tests and tools).
    pub fn contains(&self, hash: &str) -> bool {
        self.entry(hash).exists()
    }
}
