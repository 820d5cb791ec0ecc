//! The REST API: one [`app`] builds the whole router. Each route module owns its handlers and
//! request/response types; the OpenAPI document is generated from the same handlers, so every
//! route is documented by construction.

pub mod accounts;
pub mod admin;
pub mod auth;
pub mod error;
pub mod health;
pub mod leaderboards;
pub mod limits;
pub mod lobby;
pub mod sessions;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use tower_http::catch_panic::CatchPanicLayer;
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
use crate::config::Config;
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
}

/// Open a realtime session: upgrade to WebSocket, then send `Hello` with a join ticket (or a
/// reconnect token) as the first binary message.
#[utoipa::path(get, path = "/v1/realtime", tag = "realtime",
    responses((status = 101, description = "switching to the WebSocket protocol"),
        (status = 426, description = "not a WebSocket upgrade", body = error::ErrorBody)))]
async fn realtime(
    axum::extract::State(state): axum::extract::State<Realtime>,
    req: axum::extract::Request,
) -> Result<axum::response::Response, ApiError> {
    use crate::net::UpgradeError;
    crate::net::realtime(state, req).await.map_err(|e| match e {
        UpgradeError::NotAnUpgrade => ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            "upgrade_required",
            e.to_string(),
        ),
        UpgradeError::Bad(_) => ApiError::bad_request("bad_upgrade", e.to_string()),
    })
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

/// The routes and their OpenAPI document.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(accounts::register))
        .routes(routes!(accounts::me, accounts::upgrade))
        .routes(routes!(sessions::login))
        .routes(routes!(sessions::guest))
        .routes(routes!(sessions::refresh))
        .routes(routes!(lobby::list_games))
        .routes(routes!(lobby::map_layout))
        .routes(routes!(lobby::list_matches, lobby::create_match))
        .routes(routes!(lobby::join_match))
        .routes(routes!(lobby::quick_join))
        .routes(routes!(admin::live_matches))
        .routes(routes!(admin::end_match))
        .routes(routes!(admin::kick))
        .routes(routes!(admin::ban, admin::unban))
        .routes(routes!(admin::set_role))
        .routes(routes!(admin::stats))
        .routes(routes!(admin::audit_log))
        .routes(routes!(leaderboards::remove_record))
        .routes(routes!(health::healthz))
        .routes(routes!(leaderboards::list))
        .routes(routes!(leaderboards::page))
        .routes(routes!(leaderboards::around))
        .routes(routes!(leaderboards::account))
        .routes(routes!(leaderboards::accounts))
        .routes(routes!(health::readyz))
        .routes(routes!(health::metrics))
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

/// The whole REST router with its middleware.
pub fn app(state: AppState) -> Router {
    let (router, _) = routes().split_for_parts();
    let doc = Arc::new(openapi());
    let body_limit = state.config.limits.max_body_bytes;
    // The browser client and the SDK it is built on (`index.html`, the bundles, the wasm core):
    // the built files of the assets' web folder, at the root, behind every API route. The
    // sources beside them (TypeScript, tests, node_modules) are not served.
    let web = tower_http::services::ServeDir::new(state.config.assets.join("web/public")).fallback(
        axum::handler::HandlerWithoutStateExt::into_service(not_found),
    );
    router
        .route(
            "/v1/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .fallback_service(web)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
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
