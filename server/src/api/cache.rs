//! HTTP caching of GETs. Public, shared answers (the game list, the match list, leaderboard
//! pages, the OpenAPI document) say how long they stay fresh and carry an `ETag`, so clients
//! and CDNs revalidate with `If-None-Match` and get a bodiless 304; anything per account (and
//! anything not listed) is `no-store`, so no shared cache keeps one player's answer for another.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

/// The largest body an ETag is computed for; larger answers are sent uncached.
const MAX_HASHED_BODY: usize = 4 << 20;

/// How a GET may be cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Policy {
    /// Shared: `public, max-age=N` and an ETag.
    Public(u32),
    /// Revalidate every time (static files, which carry `Last-Modified`).
    Revalidate,
    NoStore,
}

/// The policy of `path` (GET only; other methods are never cached).
pub(crate) fn policy(path: &str) -> Policy {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["v1", "openapi.json"] => Policy::Public(300),
        ["v1", "games"] | ["v1", "games", _, "maps", _] => Policy::Public(60),
        ["v1", "matches"] => Policy::Public(2),
        ["v1", "leaderboards"] => Policy::Public(30),
        ["v1", "leaderboards", _, "around", "me"] => Policy::NoStore,
        ["v1", "leaderboards", _]
        | ["v1", "leaderboards", _, "around", _]
        | ["v1", "leaderboards", _, "accounts", _]
        | ["v1", "leaderboards", _, "records"] => Policy::Public(5),
        ["v1", ..] | ["healthz"] | ["readyz"] | ["metrics"] => Policy::NoStore,
        _ => Policy::Revalidate,
    }
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn matches(if_none_match: &HeaderValue, etag: &str) -> bool {
    if_none_match.to_str().is_ok_and(|v| {
        v.split(',').map(str::trim).any(|tag| {
            tag == "*" || tag == etag || tag.strip_prefix("W/").is_some_and(|t| t == etag)
        })
    })
}

pub(crate) async fn cache(req: Request, next: Next) -> Response {
    let get = req.method() == Method::GET || req.method() == Method::HEAD;
    let policy = policy(req.uri().path());
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
    let mut response = next.run(req).await;
    if !get {
        return response;
    }
    let public = match policy {
        Policy::Public(max_age) if response.status() == StatusCode::OK => max_age,
        Policy::Public(_) | Policy::NoStore => {
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return response;
        }
        Policy::Revalidate => {
            response
                .headers_mut()
                .entry(header::CACHE_CONTROL)
                .or_insert(HeaderValue::from_static("no-cache"));
            return response;
        }
    };
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_HASHED_BODY).await else {
        // Too large to hash (or the body failed): not worth caching; say so.
        parts
            .headers
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return Response::from_parts(parts, Body::empty());
    };
    let etag = format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(&bytes));
    let cache_control = format!("public, max-age={public}");
    if let Ok(v) = HeaderValue::from_str(&etag) {
        parts.headers.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&cache_control) {
        parts.headers.insert(header::CACHE_CONTROL, v);
    }
    if if_none_match.is_some_and(|v| matches(&v, &etag)) {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        parts.headers.remove(header::CONTENT_TYPE);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_answers_are_public_and_per_account_ones_are_not() {
        assert_eq!(policy("/v1/leaderboards/score"), Policy::Public(5));
        assert_eq!(
            policy("/v1/leaderboards/score/around/42"),
            Policy::Public(5)
        );
        assert_eq!(policy("/v1/leaderboards/score/around/me"), Policy::NoStore);
        assert_eq!(policy("/v1/matches"), Policy::Public(2));
        assert_eq!(policy("/v1/openapi.json"), Policy::Public(300));
        assert_eq!(policy("/v1/accounts/me"), Policy::NoStore);
        assert_eq!(policy("/v1/admin/matches"), Policy::NoStore);
        assert_eq!(policy("/v1/matches/m_1/join"), Policy::NoStore);
        // A replay never changes, but a pruned one must not outlive its retention in caches.
        assert_eq!(policy("/v1/matches/m_1/replay"), Policy::NoStore);
        assert_eq!(policy("/healthz"), Policy::NoStore);
        assert_eq!(policy("/app.js"), Policy::Revalidate);
        assert_eq!(policy("/"), Policy::Revalidate);
    }

    #[test]
    fn if_none_match_lists_and_weak_tags_match() {
        let etag = "\"00000000000000ab\"";
        let h = |s: &'static str| HeaderValue::from_static(s);
        assert!(matches(&h("\"00000000000000ab\""), etag));
        assert!(matches(&h("\"x\", W/\"00000000000000ab\""), etag));
        assert!(matches(&h("*"), etag));
        assert!(!matches(&h("\"00000000000000ac\""), etag));
    }
}
