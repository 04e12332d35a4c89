//! What a strategy instance may use: WASI with nothing in it but clocks that read the
//! engine clock, a seeded random generator and a stdout and stderr that go to the
//! daemon's log within the strategy's log budget; and a capped linear memory.

use super::strategy_log::StrategyLog;
use super::SharedClock;
use rand::rngs::StdRng;
use rand::SeedableRng;
use sha2::{Digest, Sha256};
use std::sync::atomic::Ordering;
use std::time::Duration;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx};

/// What a guest may write in one call of its output stream.
const MAX_WRITE: usize = 4096;

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

/// A strategy's stdout and stderr, logged line by line with its id (within its log
/// budget): a panic message shows up in the daemon's log next to the quarantine that
/// follows.
#[derive(Clone)]
struct GuestOutput {
    log: StrategyLog,
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
            keep: self.log.limits().max_line_bytes,
            log: self.log.clone(),
            pending: Vec::new(),
            length: 0,
        })
    }
}

/// Collects a line of output: its first `keep` bytes, and its length.
struct LineLogger {
    log: StrategyLog,
    keep: usize,
    pending: Vec<u8>,
    /// The length of the line so far, kept or not.
    length: usize,
}

impl LineLogger {
    /// Takes bytes up to the end of a line; logs each line that ends.
    fn take(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let (part, ended) = match bytes.iter().position(|&b| b == b'\n') {
                Some(end) => (&bytes[..end], true),
                None => (bytes, false),
            };
            let room = self.keep.saturating_sub(self.pending.len());
            self.pending
                .extend_from_slice(&part[..part.len().min(room)]);
            self.length += part.len();
            bytes = &bytes[(part.len() + usize::from(ended))..];
            if ended {
                self.emit();
            }
        }
    }

    fn emit(&mut self) {
        let text = String::from_utf8_lossy(&self.pending);
        let kept = text.trim_end();
        if !kept.is_empty() {
            let line = format!("output: {kept}");
            if self.length > self.pending.len() {
                // Only the start of the line was kept: the log says how long it was.
                let total = self.length + (line.len() - kept.len());
                self.log.log_part(log::Level::Warn, &line, total);
            } else {
                self.log.log(log::Level::Warn, &line);
            }
        }
        self.pending.clear();
        self.length = 0;
    }
}

impl Drop for LineLogger {
    fn drop(&mut self) {
        self.emit();
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for LineLogger {
    async fn ready(&mut self) {}
}

impl OutputStream for LineLogger {
    fn write(&mut self, bytes: bytes::Bytes) -> StreamResult<()> {
        self.take(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        self.emit();
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(MAX_WRITE)
    }
}

/// A WASI context with no files, sockets, environment or arguments; stdout and stderr
/// written to `log`; clocks reading the engine clock; random numbers seeded from `seed`
/// and the strategy id, so that each strategy gets its own reproducible sequence.
pub fn wasi_context(strategy_id: &str, seed: u64, clock: SharedClock, log: StrategyLog) -> WasiCtx {
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
    let output = GuestOutput { log };
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
