//! What a strategy instance may use: WASI with nothing in it but clocks that read the
//! engine clock, a seeded random generator and a stderr that goes to the daemon's log;
//! and a capped linear memory.

use super::SharedClock;
use rand::rngs::StdRng;
use rand::SeedableRng;
use sha2::{Digest, Sha256};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx};

/// Longest guest output line kept before it is logged as is.
const MAX_LINE: usize = 4096;

/// The engine clock, as WASI's wall and monotonic clocks.
struct EngineClock(SharedClock);

impl HostWallClock for EngineClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed).max(0) as u64)
    }
}

impl HostMonotonicClock for EngineClock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        self.0.load(Ordering::Relaxed).max(0) as u64
    }
}

/// A strategy's stdout and stderr, logged line by line with its id: a panic message shows
/// up in the daemon's log next to the quarantine that follows.
#[derive(Clone)]
struct GuestOutput {
    strategy: Arc<str>,
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        // Only WASIp2 guests are loaded, and they use `p2_stream`.
        Box::new(tokio::io::sink())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(LineLogger {
            strategy: self.strategy.clone(),
            pending: Vec::new(),
        })
    }
}

struct LineLogger {
    strategy: Arc<str>,
    pending: Vec<u8>,
}

impl LineLogger {
    fn emit(&mut self, upto: usize) {
        let line: Vec<u8> = self.pending.drain(..upto).collect();
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end();
        if !text.is_empty() {
            log::warn!(target: "strategy", strategy = &*self.strategy; "output: {text}");
        }
    }
}

impl Drop for LineLogger {
    fn drop(&mut self) {
        self.emit(self.pending.len());
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for LineLogger {
    async fn ready(&mut self) {}
}

impl OutputStream for LineLogger {
    fn write(&mut self, bytes: bytes::Bytes) -> StreamResult<()> {
        self.pending.extend_from_slice(&bytes);
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            self.emit(end + 1);
        }
        if self.pending.len() >= MAX_LINE {
            self.emit(self.pending.len());
        }
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        self.emit(self.pending.len());
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(MAX_LINE)
    }
}

/// A WASI context with no files, sockets, environment or arguments; stdout and stderr
/// logged; clocks reading the engine clock; random numbers seeded from `seed` and the
/// strategy id, so that each strategy gets its own reproducible sequence.
pub fn wasi_context(strategy_id: &str, seed: u64, clock: SharedClock) -> WasiCtx {
    let digest = Sha256::new()
        .chain_update(seed.to_le_bytes())
        .chain_update(strategy_id.as_bytes())
        .finalize();
    let mut key = [0u8; 32];
    key.copy_from_slice(&digest);
    let insecure_seed = u128::from_le_bytes([
        key[0], key[1], key[2], key[3], key[4], key[5], key[6], key[7], key[8], key[9], key[10],
        key[11], key[12], key[13], key[14], key[15],
    ]);
    let output = GuestOutput {
        strategy: Arc::from(strategy_id),
    };
    WasiCtx::builder()
        .stdout(output.clone())
        .stderr(output)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .wall_clock(EngineClock(clock.clone()))
        .monotonic_clock(EngineClock(clock))
        .secure_random(StdRng::from_seed(key))
        .insecure_random(StdRng::from_seed(key))
        .insecure_random_seed(insecure_seed)
        .build()
}

/// Caps an instance's linear memory and remembers whether the cap was hit, so that the
/// resulting trap can be reported as what it is.
pub struct MemoryLimiter {
    limit: usize,
    exceeded: bool,
    /// The largest linear memory granted so far (memories never shrink).
    granted: usize,
}

impl MemoryLimiter {
    pub fn new(limit: usize) -> Self {
        MemoryLimiter {
            limit,
            exceeded: false,
            granted: 0,
        }
    }

    pub fn exceeded(&self) -> bool {
        self.exceeded
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The size of the instance's largest linear memory, in bytes.
    pub fn granted(&self) -> usize {
        self.granted
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.exceeded = true;
            wasmtime::bail!(
                "memory limit of {} bytes exceeded (wanted {desired})",
                self.limit
            );
        }
        self.granted = self.granted.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Tables hold function references; a strategy needing more than this is broken.
        Ok(desired <= 1_000_000)
    }
}
