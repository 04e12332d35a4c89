//! The id an order carries at a venue: the daemon's id (`[daemon] id`), a dash, and the
//! engine's order id in decimal (`pennant-1042`). Several daemons on one exchange account
//! never collide, and after a restart a daemon recognises its own orders among the
//! account's by the prefix. It fits what exchanges take (Binance's `newClientOrderId`: at
//! most 36 of `[A-Za-z0-9._:/-]`): the daemon id is at most [`MAX_PREFIX`] characters of
//! `[A-Za-z0-9_-]`, and a u64 has at most 20 digits.

use pennant_sdk::OrderId;

/// The longest daemon id (checked with the configuration): 15 + 1 + 20 = 36.
pub const MAX_PREFIX: usize = crate::config::MAX_DAEMON_ID_LEN;
/// The longest client order id.
pub const MAX_LEN: usize = 36;

/// A client order id, kept inline (an order stays `Copy`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientOrderId {
    len: u8,
    bytes: [u8; MAX_LEN],
}

impl ClientOrderId {
    /// As text.
    pub fn as_str(&self) -> &str {
        // Built only from ASCII (a checked prefix, a dash, digits).
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("")
    }
}

impl std::fmt::Debug for ClientOrderId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a daemon id cannot prefix client order ids.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    /// Too long.
    #[error("{0:?} is longer than {MAX_PREFIX} characters: with an order id it would not fit the {MAX_LEN} characters exchanges take")]
    TooLong(String),
    /// Characters exchanges refuse.
    #[error("{0:?} must be letters, digits, - and _")]
    Characters(String),
}

/// Makes and recognises this daemon's client order ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOrderIds {
    prefix: String,
}

impl ClientOrderIds {
    /// Ids prefixed with `daemon_id`.
    pub fn new(daemon_id: &str) -> Result<Self, PrefixError> {
        if daemon_id.is_empty()
            || !daemon_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(PrefixError::Characters(daemon_id.to_owned()));
        }
        if daemon_id.len() > MAX_PREFIX {
            return Err(PrefixError::TooLong(daemon_id.to_owned()));
        }
        Ok(ClientOrderIds {
            prefix: daemon_id.to_owned(),
        })
    }

    /// The client order id of engine order `id`.
    pub fn of(&self, id: OrderId) -> ClientOrderId {
        let mut out = ClientOrderId {
            len: 0,
            bytes: [0; MAX_LEN],
        };
        let mut digits = [0u8; 20];
        let mut n = id;
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for &b in self
            .prefix
            .as_bytes()
            .iter()
            .chain(b"-")
            .chain(&digits[at..])
        {
            out.bytes[out.len as usize] = b;
            out.len += 1;
        }
        out
    }

    /// The engine order id of one of this daemon's client order ids; `None` for
    /// another client's (another daemon's, a person's on the exchange's website).
    pub fn parse(&self, client_id: &str) -> Option<OrderId> {
        let digits = client_id.strip_prefix(&self.prefix)?.strip_prefix('-')?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }
}

impl Default for ClientOrderIds {
    /// `[daemon] id`'s default.
    fn default() -> Self {
        ClientOrderIds {
            prefix: "pennant".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_fit_exchanges_and_are_recognised_by_their_daemon_only() {
        let ids = ClientOrderIds::new("desk-a_1").unwrap();
        let check = |id: OrderId, text: &str| {
            let client = ids.of(id);
            assert_eq!(client.as_str(), text);
            assert_eq!(ids.parse(text), Some(id), "{text}");
        };
        check(0, "desk-a_1-0");
        check(1042, "desk-a_1-1042");
        check(u64::MAX, "desk-a_1-18446744073709551615");
        let longest = ClientOrderIds::new("abcdefghijklmno").unwrap().of(u64::MAX);
        assert_eq!(longest.as_str().len(), MAX_LEN);
        for other in [
            "desk-a_2-1042",
            "desk-a_1",
            "desk-a_1-",
            "desk-a_1-12x",
            "desk-a_1--5",
            "desk-a_1-99999999999999999999999",
            "web_8812",
        ] {
            assert_eq!(ids.parse(other), None, "{other}");
        }
        // One daemon's prefix is not another's even when one starts the other.
        let short = ClientOrderIds::new("desk").unwrap();
        assert_eq!(short.parse("desk-a_1-1042"), None);
        assert_eq!(
            ClientOrderIds::new("abcdefghijklmnop"),
            Err(PrefixError::TooLong("abcdefghijklmnop".into()))
        );
        assert_eq!(
            ClientOrderIds::new("a.b"),
            Err(PrefixError::Characters("a.b".into()))
        );
    }
}
