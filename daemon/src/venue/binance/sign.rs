//! Signed requests (Binance's `SIGNED` endpoints): the query string (or the body, after
//! it, without a separator) is signed with HMAC-SHA256 under the API secret and the
//! signature sent, lowercase hex, as the last parameter. The request carries `timestamp`
//! (milliseconds) and `recvWindow`; Binance accepts it only while
//! `timestamp < serverTime + 1000` and `serverTime - timestamp <= recvWindow`, else `-1021`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The longest `recvWindow` Binance takes, in milliseconds.
pub const MAX_RECV_WINDOW_MS: u64 = 60_000;

/// The lowercase hex HMAC-SHA256 of `payload` (query string, then body) under `secret`.
pub fn signature(secret: &[u8], payload: &str) -> String {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    mac.update(payload.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// `params` with `recvWindow`, `timestamp` and the `signature` of it all appended: the
/// query string of a signed request.
pub fn signed_query(secret: &[u8], params: &str, recv_window_ms: u64, timestamp_ms: i64) -> String {
    let sep = if params.is_empty() { "" } else { "&" };
    let payload = format!("{params}{sep}recvWindow={recv_window_ms}&timestamp={timestamp_ms}");
    let signature = signature(secret, &payload);
    format!("{payload}&signature={signature}")
}

/// The WebSocket API's signed parameters (web-socket-api.md, "SIGNED request example
/// (HMAC)"): `params` with `recvWindow` and `timestamp`, sorted by name, joined as
/// `name=value&...` and signed; returned with the `signature` added, in that order.
pub fn signed_ws_params(
    secret: &[u8],
    params: &[(&str, String)],
    recv_window_ms: u64,
    timestamp_ms: i64,
) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .chain([
            ("recvWindow".to_owned(), recv_window_ms.to_string()),
            ("timestamp".to_owned(), timestamp_ms.to_string()),
        ])
        .collect();
    all.sort();
    let payload = all
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let signature = signature(secret, &payload);
    all.push(("signature".to_owned(), signature));
    all
}

/// Whether Binance takes a request stamped `timestamp_ms` with `recv_window_ms` when its
/// clock reads `server_ms` (what the fake exchange checks, and what a clock offset must
/// keep true).
pub fn within_window(timestamp_ms: i64, recv_window_ms: u64, server_ms: i64) -> bool {
    timestamp_ms < server_ms + 1000 && server_ms - timestamp_ms <= recv_window_ms as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of Binance's REST API documentation ("SIGNED endpoint examples").
    const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
    const PAYLOAD: &str = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";

    /// The WebSocket API documentation's example: its parameters, sorted, are the
    /// payload it prints.
    #[test]
    fn signs_websocket_api_parameters_sorted() {
        let key = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
        let params = [
            ("symbol", "BTCUSDT".to_owned()),
            ("side", "SELL".to_owned()),
            ("type", "LIMIT".to_owned()),
            ("timeInForce", "GTC".to_owned()),
            ("quantity", "0.01000000".to_owned()),
            ("price", "52000.00".to_owned()),
            ("apiKey", key.to_owned()),
        ];
        let signed = signed_ws_params(SECRET.as_bytes(), &params, 100, 1_645_423_376_532);
        let payload = format!("apiKey={key}&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT");
        let (last, rest) = signed.split_last().unwrap();
        let joined: Vec<String> = rest.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(joined.join("&"), payload);
        assert_eq!(last.0, "signature");
        assert_eq!(last.1, signature(SECRET.as_bytes(), &payload));
    }

    #[test]
    fn signs_the_documentations_example() {
        assert_eq!(
            signature(SECRET.as_bytes(), PAYLOAD),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
        let query = signed_query(
            SECRET.as_bytes(),
            "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1",
            5000,
            1_499_827_319_559,
        );
        assert_eq!(
            query,
            format!("{PAYLOAD}&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71")
        );
        assert!(
            signed_query(b"k", "", 5000, 1).starts_with("recvWindow=5000&timestamp=1&signature=")
        );
    }

    #[test]
    fn the_timestamp_window_is_binances() {
        let server = 1_000_000;
        for (timestamp, window, taken) in [
            (server, 5000, true),
            (server + 999, 5000, true),
            (server + 1000, 5000, false),
            (server - 5000, 5000, true),
            (server - 5001, 5000, false),
            (server - 60_000, MAX_RECV_WINDOW_MS, true),
        ] {
            assert_eq!(
                within_window(timestamp, window, server),
                taken,
                "{timestamp} {window}"
            );
        }
    }
}
