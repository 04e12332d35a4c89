//! What a sink sends: the request body of each `[[alert]]` format.

use super::Alert;
use crate::config::AlertFormat;
use serde_json::{json, Value};

/// An alert as it goes out: the first of its kind and subject, or a group of `count`
/// (the same event again within `group_secs`), the last one's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The (last) alert.
    pub alert: Alert,
    /// How many it stands for.
    pub count: u64,
    /// When the first of them was raised.
    pub first_at: std::time::SystemTime,
}

/// The JSON body of `message` in `format`; `daemon` is the daemon's id, `chat_id`
/// Telegram's chat.
pub fn body(format: AlertFormat, message: &Message, daemon: &str, chat_id: &str) -> Value {
    let alert = &message.alert;
    match format {
        AlertFormat::Webhook => json!({
            "source": "pennantd",
            "daemon": daemon,
            "kind": alert.kind.name(),
            "severity": alert.kind.severity().name(),
            "subject": alert.subject,
            "message": alert.message,
            "count": message.count,
            "first_at": rfc3339(message.first_at),
            "at": rfc3339(alert.at),
        }),
        AlertFormat::Slack => json!({ "text": text(message, daemon) }),
        AlertFormat::Telegram => json!({
            "chat_id": chat_id,
            "text": text(message, daemon),
            "disable_web_page_preview": true,
        }),
    }
}

/// One line for people: `[pennant] CRITICAL strategy_quarantined mm: ... (3 times in 60 s)`.
pub fn text(message: &Message, daemon: &str) -> String {
    let alert = &message.alert;
    let mut line = format!(
        "[{daemon}] {} {} {}: {}",
        alert.kind.severity().name().to_uppercase(),
        alert.kind.name(),
        alert.subject,
        alert.message
    );
    if message.count > 1 {
        let secs = alert
            .at
            .duration_since(message.first_at)
            .unwrap_or_default()
            .as_secs();
        line.push_str(&format!(" ({} times in {secs} s)", message.count));
    }
    line
}

fn rfc3339(time: std::time::SystemTime) -> String {
    let secs = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    jiff::Timestamp::from_second(secs).map_or_else(|_| secs.to_string(), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::AlertKind;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn each_format_says_what_and_how_often() {
        let first_at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let message = Message {
            alert: Alert {
                kind: AlertKind::StrategyQuarantined,
                subject: "mm".into(),
                message: "call budget exceeded".into(),
                at: first_at + Duration::from_secs(42),
            },
            count: 3,
            first_at,
        };
        let check = |format, want: Value| {
            assert_eq!(body(format, &message, "desk", "-100"), want, "{format:?}")
        };
        let line =
            "[desk] CRITICAL strategy_quarantined mm: call budget exceeded (3 times in 42 s)";
        check(AlertFormat::Slack, json!({ "text": line }));
        check(
            AlertFormat::Telegram,
            json!({"chat_id": "-100", "text": line, "disable_web_page_preview": true}),
        );
        check(
            AlertFormat::Webhook,
            json!({
                "source": "pennantd", "daemon": "desk", "kind": "strategy_quarantined",
                "severity": "critical", "subject": "mm", "message": "call budget exceeded",
                "count": 3, "first_at": "2023-11-14T22:13:20Z", "at": "2023-11-14T22:14:02Z",
            }),
        );
        let once = Message {
            count: 1,
            ..message
        };
        assert!(!text(&once, "desk").contains("times"));
    }
}
