//! The admin API of a running `pennantd`, over loopback HTTP.

use super::Daemon;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::sync::{Arc, Mutex};

/// A response: status, headers we look at, body.
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub retry_after: Option<String>,
    pub next_cursor: Option<String>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.body))
    }

    /// Asserts a JSON error with this status and code.
    pub fn error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert!(self.content_type.starts_with("application/json"));
        let body = self.json();
        assert_eq!(body["error"]["code"], code, "{body}");
        assert!(body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
}

pub struct Api {
    pub base: String,
}

impl Api {
    /// The API of a daemon, from its "admin API listening" log line.
    pub fn of(daemon: &Daemon) -> Api {
        let line = daemon.wait_for(&["admin API listening"]);
        let addr = line
            .split_whitespace()
            .find_map(|word| word.strip_prefix("addr="))
            .unwrap_or_else(|| panic!("no addr in {line}"));
        Api {
            base: format!("http://{addr}"),
        }
    }

    pub fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> Reply {
        let mut request = ureq::request(method, &format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.set("Authorization", &format!("Bearer {token}"));
        }
        let outcome = match body {
            Some(body) => request
                .set("Content-Type", "application/json")
                .send_string(body),
            None => request.call(),
        };
        let response = match outcome {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(err) => panic!("{method} {path}: {err}"),
        };
        Reply {
            status: response.status(),
            content_type: response.content_type().to_owned(),
            retry_after: response.header("retry-after").map(str::to_owned),
            next_cursor: response.header("x-next-cursor").map(str::to_owned),
            body: response.into_string().unwrap_or_default(),
        }
    }

    pub fn get(&self, path: &str, token: &str) -> Reply {
        self.call("GET", path, Some(token), None)
    }

    pub fn ok(&self, method: &str, path: &str, token: &str, body: Option<&str>) -> Value {
        let reply = self.call(method, path, Some(token), body);
        assert_eq!(reply.status, 200, "{method} {path}: {}", reply.body);
        reply.json()
    }

    /// Reads the event stream in a thread; returns the lines as they come.
    pub fn stream(&self, path: &str, token: &str) -> Arc<Mutex<Vec<String>>> {
        let response = ureq::get(&format!("{}{path}", self.base))
            .set("Authorization", &format!("Bearer {token}"))
            .call()
            .expect("the event stream opens");
        assert_eq!(response.content_type(), "text/event-stream");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(response.into_reader())
                .lines()
                .map_while(Result::ok)
            {
                sink.lock().unwrap().push(line);
            }
        });
        lines
    }
}
