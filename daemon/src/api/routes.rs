//! The route table: the API's one list of what it serves. Requests are matched against
//! it, the OpenAPI document is checked against it (a test fails when they differ), and
//! the metrics label requests with its templates.

use crate::config::{PublicEndpoint, Role};
use warp::http::Method;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, always.
    Public,
    /// Anyone when the configuration lists the endpoint in `[api] public`; otherwise
    /// a viewer.
    PublicIf(PublicEndpoint),
    /// A token with at least this role.
    Token(Role),
}

/// What serves a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET /`: the dashboard's page.
    Dashboard,
    /// `GET /ui/{id}`: a file of the dashboard.
    DashboardAsset,
    /// `GET /healthz`.
    Health,
    /// `GET /readyz`.
    Ready,
    /// `GET /metrics`.
    Metrics,
    /// `GET /api/v1/openapi.json`.
    OpenApi,
    /// `GET /api/v1/session`.
    Session,
    /// `GET /api/v1/strategies`.
    Strategies,
    /// `GET /api/v1/strategies/{id}`.
    Strategy,
    /// `POST /api/v1/strategies/{id}/pause`.
    Pause,
    /// `POST /api/v1/strategies/{id}/resume`.
    Resume,
    /// `POST /api/v1/strategies/{id}/reload`.
    Reload,
    /// `GET /api/v1/strategies/{id}/versions`.
    Versions,
    /// `POST /api/v1/strategies/{id}/rollback`.
    Rollback,
    /// `GET /api/v1/orders`.
    Orders,
    /// `GET /api/v1/orders/open`.
    OpenOrders,
    /// `GET /api/v1/fills`.
    Fills,
    /// `GET /api/v1/signals`.
    Signals,
    /// `GET /api/v1/signals/stats`.
    SignalStats,
    /// `GET /api/v1/positions`.
    Positions,
    /// `GET /api/v1/balances`.
    Balances,
    /// `GET /api/v1/pnl`.
    Pnl,
    /// `GET /api/v1/pnl/intraday`.
    Intraday,
    /// `GET /api/v1/risk`.
    Risk,
    /// `PUT /api/v1/risk/limits`.
    Limits,
    /// `PUT /api/v1/risk/trading-state`.
    TradingState,
    /// `POST /api/v1/kill-switch`.
    KillSwitchOn,
    /// `DELETE /api/v1/kill-switch`.
    KillSwitchOff,
    /// `GET /api/v1/events`.
    Events,
}

/// One route.
#[derive(Debug, Clone)]
pub struct Route {
    /// Its method.
    pub method: Method,
    /// Its path template; `{id}` is a path parameter.
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// What serves it.
    pub endpoint: Endpoint,
}

const fn route(method: Method, path: &'static str, access: Access, endpoint: Endpoint) -> Route {
    Route {
        method,
        path,
        access,
        endpoint,
    }
}

use Access::{Public, PublicIf, Token};
use Endpoint as E;
use Role::{Admin, Operator, Viewer};

/// Every route the API serves.
pub const ROUTES: &[Route] = &[
    // The dashboard holds no data: its page asks the API below with the user's token.
    route(Method::GET, "/", Public, E::Dashboard),
    route(Method::GET, "/ui/{id}", Public, E::DashboardAsset),
    route(
        Method::GET,
        "/healthz",
        PublicIf(PublicEndpoint::Healthz),
        E::Health,
    ),
    route(
        Method::GET,
        "/readyz",
        PublicIf(PublicEndpoint::Readyz),
        E::Ready,
    ),
    route(
        Method::GET,
        "/metrics",
        PublicIf(PublicEndpoint::Metrics),
        E::Metrics,
    ),
    route(Method::GET, "/api/v1/openapi.json", Public, E::OpenApi),
    route(Method::GET, "/api/v1/session", Token(Viewer), E::Session),
    route(
        Method::GET,
        "/api/v1/strategies",
        Token(Viewer),
        E::Strategies,
    ),
    route(
        Method::GET,
        "/api/v1/strategies/{id}",
        Token(Viewer),
        E::Strategy,
    ),
    route(
        Method::POST,
        "/api/v1/strategies/{id}/pause",
        Token(Operator),
        E::Pause,
    ),
    route(
        Method::POST,
        "/api/v1/strategies/{id}/resume",
        Token(Operator),
        E::Resume,
    ),
    route(
        Method::POST,
        "/api/v1/strategies/{id}/reload",
        Token(Operator),
        E::Reload,
    ),
    route(
        Method::GET,
        "/api/v1/strategies/{id}/versions",
        Token(Viewer),
        E::Versions,
    ),
    route(
        Method::POST,
        "/api/v1/strategies/{id}/rollback",
        Token(Operator),
        E::Rollback,
    ),
    route(Method::GET, "/api/v1/orders", Token(Viewer), E::Orders),
    route(
        Method::GET,
        "/api/v1/orders/open",
        Token(Viewer),
        E::OpenOrders,
    ),
    route(Method::GET, "/api/v1/fills", Token(Viewer), E::Fills),
    route(Method::GET, "/api/v1/signals", Token(Viewer), E::Signals),
    route(
        Method::GET,
        "/api/v1/signals/stats",
        Token(Viewer),
        E::SignalStats,
    ),
    route(
        Method::GET,
        "/api/v1/positions",
        Token(Viewer),
        E::Positions,
    ),
    route(Method::GET, "/api/v1/balances", Token(Viewer), E::Balances),
    route(Method::GET, "/api/v1/pnl", Token(Viewer), E::Pnl),
    route(
        Method::GET,
        "/api/v1/pnl/intraday",
        Token(Viewer),
        E::Intraday,
    ),
    route(Method::GET, "/api/v1/risk", Token(Viewer), E::Risk),
    route(Method::PUT, "/api/v1/risk/limits", Token(Admin), E::Limits),
    route(
        Method::PUT,
        "/api/v1/risk/trading-state",
        Token(Admin),
        E::TradingState,
    ),
    route(
        Method::POST,
        "/api/v1/kill-switch",
        Token(Admin),
        E::KillSwitchOn,
    ),
    route(
        Method::DELETE,
        "/api/v1/kill-switch",
        Token(Admin),
        E::KillSwitchOff,
    ),
    route(Method::GET, "/api/v1/events", Token(Viewer), E::Events),
];

/// The route for a request, and its `{id}` if the template has one: `Err(None)` when no
/// template matches the path, `Err(Some(methods))` when the path exists for other
/// methods.
pub fn find(
    method: &Method,
    path: &str,
) -> Result<(&'static Route, Option<String>), Option<String>> {
    let mut allowed = Vec::new();
    for route in ROUTES {
        if let Some(id) = matches(route.path, path) {
            if route.method == method {
                return Ok((route, id));
            }
            allowed.push(route.method.as_str());
        }
    }
    if allowed.is_empty() {
        Err(None)
    } else {
        Err(Some(allowed.join(", ")))
    }
}

/// Matches `path` against `template`: `None` if it does not match, `Some(id)` with the
/// `{id}` segment (percent-decoded) if it does.
fn matches(template: &str, path: &str) -> Option<Option<String>> {
    let path = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    let mut id = None;
    let mut wanted = template.split('/');
    let mut given = path.split('/');
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return Some(id),
            (Some("{id}"), Some(segment)) if !segment.is_empty() => {
                let decoded = percent_encoding::percent_decode_str(segment).decode_utf8();
                id = Some(decoded.ok()?.into_owned());
            }
            (Some(w), Some(g)) if w == g => {}
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_their_templates_and_methods() {
        let (route, id) = find(&Method::POST, "/api/v1/strategies/sma-1/pause").unwrap();
        assert_eq!(route.endpoint, Endpoint::Pause);
        assert_eq!(id.as_deref(), Some("sma-1"));
        let (route, id) = find(&Method::GET, "/api/v1/strategies/").unwrap();
        assert_eq!((route.endpoint, id), (Endpoint::Strategies, None));
        assert_eq!(
            find(&Method::GET, "/api/v1/strategies/a%20b")
                .unwrap()
                .1
                .as_deref(),
            Some("a b")
        );
        assert_eq!(find(&Method::GET, "/api/v1/nothing").unwrap_err(), None);
        assert_eq!(
            find(&Method::GET, "/api/v1/kill-switch")
                .unwrap_err()
                .as_deref(),
            Some("POST, DELETE")
        );
        assert_eq!(
            find(&Method::GET, "/api/v1/strategies/x/y").unwrap_err(),
            None
        );
    }
}
