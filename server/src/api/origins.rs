//! Which browser pages may use this server: its own origin, plus the origins the operator
//! allows (`--allowed-origins`; `*` for any). REST answers carry CORS headers for them (and
//! preflights are answered); the realtime upgrade refuses a browser on any other page, since
//! WebSockets are not covered by CORS. Clients that are not browsers send no `Origin` and are
//! not affected. Tokens travel in headers, never cookies, so credentials are never allowed.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

#[derive(Debug, Clone)]
pub(crate) struct Origins {
    any: bool,
    /// Normalised `scheme://host[:port]`, lowercase.
    allowed: Arc<[String]>,
}

fn normalise(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

impl Origins {
    pub(crate) fn new(configured: &[String]) -> Origins {
        Origins {
            any: configured.iter().any(|o| o.trim() == "*"),
            allowed: configured
                .iter()
                .filter(|o| o.trim() != "*")
                .map(|o| normalise(o))
                .collect(),
        }
    }

    /// Whether a page on `origin` may call this server, reached as `host` (the request's Host
    /// header: a page served by this server has that host as its origin's).
    pub(crate) fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        if self.any {
            return true;
        }
        let origin = normalise(origin);
        if self.allowed.contains(&origin) {
            return true;
        }
        let authority = origin.split_once("://").map(|(_, rest)| rest);
        host.is_some_and(|h| authority == Some(h.to_ascii_lowercase().as_str()))
    }

    /// Whether the request may proceed: no `Origin` (not a browser), or an allowed one.
    pub(crate) fn admits(&self, headers: &HeaderMap) -> Result<(), String> {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(());
        };
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        match origin.to_str() {
            Ok(o) if self.allows(o, host) => Ok(()),
            Ok(o) => Err(format!(
                "pages on {o} may not use this server (see --allowed-origins)"
            )),
            Err(_) => Err("the Origin header is not readable".into()),
        }
    }

    /// CORS for the REST API.
    pub(crate) fn cors(&self) -> CorsLayer {
        let origins = self.clone();
        let allow = if self.any {
            AllowOrigin::any()
        } else {
            AllowOrigin::predicate(move |origin: &HeaderValue, parts| {
                let host = parts
                    .headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok());
                origin.to_str().is_ok_and(|o| origins.allows(o, host))
            })
        };
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([
                Method::GET,
                Method::HEAD,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_NONE_MATCH,
            ])
            .expose_headers([
                header::ETAG,
                header::RETRY_AFTER,
                HeaderName::from_static("x-request-id"),
            ])
            .max_age(Duration::from_secs(600))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_origin_and_listed_origins_only() {
        let o = Origins::new(&["https://Game.example.com/".into()]);
        assert!(
            o.allows("https://game.example.com", None),
            "listed (normalised)"
        );
        assert!(
            o.allows("https://127.0.0.1:8443", Some("127.0.0.1:8443")),
            "the server's own origin"
        );
        assert!(!o.allows("https://evil.example", Some("127.0.0.1:8443")));
        assert!(
            !o.allows("https://game.example.com.evil.example", None),
            "no prefix matches"
        );
        let any = Origins::new(&["*".into()]);
        assert!(any.allows("https://anything.example", None));
    }

    #[test]
    fn clients_without_an_origin_are_admitted() {
        let o = Origins::new(&[]);
        assert!(o.admits(&HeaderMap::new()).is_ok());
        let mut h = HeaderMap::new();
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8443"));
        assert!(o.admits(&h).is_err());
    }
}
