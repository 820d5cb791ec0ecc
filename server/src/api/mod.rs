//! The REST API: one [`app`] builds the whole router. Each route module owns its handlers and
//! request/response types; the OpenAPI document is generated from the same handlers, so every
//! route is documented by construction.

pub mod accounts;
pub mod admin;
pub mod auth;
mod cache;
pub mod error;
pub mod health;
pub mod leaderboards;
pub mod limits;
pub mod lobby;
pub mod nodes;
mod origins;
pub mod replays;
pub mod sessions;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use auth::Caller;
pub use error::{ApiError, Json};
pub use limits::AuthLimiter;

use crate::auth::TokenKeys;
use crate::clock::Clock;
use crate::config::{Config, Role};
use crate::game::Games;
use crate::leaderboards::Leaderboards;
use crate::matches::Registry;
use crate::metrics::Metrics;
use crate::net::Realtime;
use crate::store::Store;

/// What every handler can reach. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

#[derive(Debug)]
pub struct Shared {
    pub store: Store,
    pub tokens: TokenKeys,
    pub config: Config,
    pub games: Games,
    pub limiter: AuthLimiter,
    pub admin_key: String,
    pub node_id: String,
    pub clock: Clock,
    pub started_at: std::time::Instant,
    pub registry: Registry,
    pub leaderboards: Arc<Leaderboards>,
    pub metrics: Metrics,
    /// What realtime sessions use (they get only that, not this whole state).
    pub(crate) realtime: Realtime,
    /// This node's place in the cluster: placement, cross-node events.
    pub node: crate::cluster::Node,
    /// Slots for re-simulating replays into snapshots.
    pub playbacks: replays::Playbacks,
}

/// Open a realtime session: upgrade to WebSocket, then send `Hello` with a join ticket (or a
/// reconnect token) as the first binary message.
#[utoipa::path(get, path = "/v1/realtime", tag = "realtime",
    responses((status = 101, description = "switching to the WebSocket protocol"),
        (status = 403, description = "a browser on a page whose origin is not allowed", body = error::ErrorBody),
        (status = 426, description = "not a WebSocket upgrade", body = error::ErrorBody)))]
async fn realtime(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
) -> Result<axum::response::Response, ApiError> {
    check_origin(&state, &req)?;
    crate::net::realtime(state.realtime.clone(), req)
        .await
        .map_err(upgrade_error)
}

/// A WebSocket echo on the realtime endpoint's socket setup, for conformance testing (served
/// only with `--diagnostics`).
async fn diagnostics_echo(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
) -> Result<axum::response::Response, ApiError> {
    check_origin(&state, &req)?;
    crate::net::echo(state.realtime.clone(), req)
        .await
        .map_err(upgrade_error)
}

/// Browsers on pages the server does not allow may not open its sockets (CORS does not cover
/// WebSockets, so the upgrade checks `Origin` itself).
fn check_origin(state: &AppState, req: &axum::extract::Request) -> Result<(), ApiError> {
    origins::Origins::new(&state.config.allowed_origins)
        .admits(req.headers())
        .map_err(|why| ApiError::new(StatusCode::FORBIDDEN, "origin_not_allowed", why))
}

fn upgrade_error(e: crate::net::UpgradeError) -> ApiError {
    use crate::net::UpgradeError;
    match e {
        UpgradeError::NotAnUpgrade => ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            "upgrade_required",
            e.to_string(),
        ),
        UpgradeError::Bad(_) => ApiError::bad_request("bad_upgrade", e.to_string()),
    }
}

impl axum::extract::FromRef<AppState> for Realtime {
    fn from_ref(state: &AppState) -> Realtime {
        state.realtime.clone()
    }
}

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tickwire",
        description = "Accounts, sessions, lobby and matchmaking of the Tickwire game server. \
            Realtime play runs over the WebSocket at /v1/realtime with a join ticket from this API."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "accounts"), (name = "sessions"), (name = "lobby"), (name = "realtime"), (name = "leaderboards"), (name = "admin"), (name = "health")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The REST routes an API node serves (accounts, lobby, leaderboards, admin).
fn rest_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(accounts::register))
        .routes(routes!(accounts::me, accounts::upgrade))
        .routes(routes!(sessions::login))
        .routes(routes!(sessions::guest))
        .routes(routes!(sessions::refresh))
        .routes(routes!(lobby::list_games))
        .routes(routes!(lobby::map_layout))
        .routes(routes!(lobby::list_matches, lobby::create_match))
        .routes(routes!(lobby::join_match))
        .routes(routes!(lobby::spectate_match))
        .routes(routes!(lobby::quick_join))
        .routes(routes!(replays::replay))
        .routes(routes!(admin::live_matches))
        .routes(routes!(admin::end_match))
        .routes(routes!(admin::kick))
        .routes(routes!(admin::ban, admin::unban))
        .routes(routes!(admin::set_role))
        .routes(routes!(admin::stats))
        .routes(routes!(nodes::nodes))
        .routes(routes!(admin::audit_log))
        .routes(routes!(leaderboards::remove_record))
        .routes(routes!(leaderboards::list))
        .routes(routes!(leaderboards::page))
        .routes(routes!(leaderboards::around))
        .routes(routes!(leaderboards::account))
        .routes(routes!(leaderboards::accounts))
}

/// Health and metrics, on every node.
fn health_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::metrics))
}

/// Every route and the OpenAPI document: what `--role all` serves.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(rest_routes())
        .merge(health_routes())
        .routes(routes!(realtime))
}

/// The OpenAPI document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = routes().split_for_parts();
    doc.paths.paths.insert(
        "/v1/openapi.json".into(),
        utoipa::openapi::path::PathItem::new(
            utoipa::openapi::HttpMethod::Get,
            utoipa::openapi::path::OperationBuilder::new()
                .summary(Some("This OpenAPI document"))
                .tag("health")
                .response("200", utoipa::openapi::Response::new("OpenAPI 3 document")),
        ),
    );
    doc
}

/// The router of this node's role with its middleware: `all` serves everything; `api` the REST
/// API, health and the browser client, no realtime socket; `game` the realtime socket, health
/// and metrics, nothing else.
pub fn app(state: AppState) -> Router {
    let role = state.config.role;
    let (router, _) = match role {
        Role::All => routes(),
        Role::Api => rest_routes().merge(health_routes()),
        Role::Game => health_routes().routes(routes!(realtime)),
    }
    .split_for_parts();
    let doc = Arc::new(openapi());
    let body_limit = state.config.limits.max_body_bytes;
    // The browser client and the SDK it is built on (`index.html`, the bundles, the wasm core):
    // the built files of the assets' web folder, at the root, behind every API route. The
    // sources beside them (TypeScript, tests, node_modules) are not served.
    let web = tower_http::services::ServeDir::new(state.config.assets.join("web/public")).fallback(
        axum::handler::HandlerWithoutStateExt::into_service(not_found),
    );
    let cors = origins::Origins::new(&state.config.allowed_origins).cors();
    let csp = content_security_policy(&state.config);
    // The echo shares the realtime socket setup, so it is where the realtime socket is.
    let router = if state.config.diagnostics && role != Role::Api {
        router.route("/v1/diagnostics/echo", axum::routing::get(diagnostics_echo))
    } else {
        router
    };
    let router = if role == Role::Game {
        router.fallback(not_found)
    } else {
        router
            .route(
                "/v1/openapi.json",
                axum::routing::get(move || {
                    let doc = doc.clone();
                    async move { axum::Json(doc.as_ref().clone()) }
                }),
            )
            .fallback_service(web)
    };
    router
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(axum::middleware::from_fn(cache::cache))
        .layer(axum::middleware::map_response(error::json_errors))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(ApiError::internal("handler panicked"))
        }))
        .layer(TraceLayer::new_for_http())
        .layer(cors)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ))
}

/// What the served pages may load and where they may connect: this server only (and the
/// configured public URL, where tickets send the realtime socket), wasm compilation allowed,
/// no framing. On an API node tickets send the socket to game nodes, which come and go (an
/// Agones fleet gives each its own address), so any WebSocket host is allowed there.
fn content_security_policy(config: &Config) -> HeaderValue {
    let mut connect = String::from("'self'");
    if config.role == Role::Api {
        connect.push_str(" wss: ws:");
    } else if let Some(url) = &config.public_url {
        let ws = url
            .trim_end_matches('/')
            .replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1);
        connect.push(' ');
        connect.push_str(&ws);
    }
    let policy = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src {connect}; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'none'; form-action 'self'"
    );
    HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static("default-src 'self'"))
}

async fn not_found() -> ApiError {
    ApiError::not_found("not_found", "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not accept that method",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Cli;

    fn connect_src(config: &Config) -> String {
        let csp = content_security_policy(config);
        let text = csp.to_str().expect("ASCII");
        text.split(';')
            .find_map(|d| d.trim().strip_prefix("connect-src "))
            .expect("a connect-src")
            .to_string()
    }

    #[test]
    fn pages_may_connect_to_this_node_its_public_url_or_on_an_api_node_any_game_node() {
        let mut config = Config::resolve(Cli::default()).expect("defaults");
        assert_eq!(connect_src(&config), "'self'");
        config.public_url = Some("https://game1.example.com/".into());
        assert_eq!(connect_src(&config), "'self' wss://game1.example.com");
        config.role = Role::Api;
        assert_eq!(connect_src(&config), "'self' wss: ws:");
    }
}
