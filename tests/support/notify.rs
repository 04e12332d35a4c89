//! A notify socket as systemd holds one: `pennantd`'s sd_notify messages, collected with
//! their arrival times.

#![allow(dead_code)]

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A notify socket, its messages collected with their arrival times.
pub struct Notifications {
    messages: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl Notifications {
    pub fn listen(path: &Path) -> Notifications {
        let socket = UnixDatagram::bind(path).unwrap();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let sink = messages.clone();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = socket.recv(&mut buffer) {
                let text = String::from_utf8_lossy(&buffer[..n]).into_owned();
                sink.lock().unwrap().push((Instant::now(), text));
            }
        });
        Notifications { messages }
    }

    pub fn all(&self) -> Vec<(Instant, String)> {
        self.messages.lock().unwrap().clone()
    }

    /// Waits for a message with `part` after the `after`-th message; returns its index.
    pub fn wait_for(&self, part: &str, after: usize) -> usize {
        super::poll(&format!("an sd_notify message with {part}"), || {
            self.all()
                .iter()
                .enumerate()
                .skip(after)
                .find(|(_, (_, m))| m.contains(part))
                .map(|(i, _)| i)
        })
    }

    pub fn pings(&self) -> Vec<Instant> {
        self.all()
            .into_iter()
            .filter(|(_, m)| m.contains("WATCHDOG=1"))
            .map(|(at, _)| at)
            .collect()
    }
}
