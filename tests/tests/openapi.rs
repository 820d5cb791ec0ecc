//! `/v1/openapi.json` documents every route and is a valid OpenAPI 3 document.

use reqwest::{Method, StatusCode};
use tests::TestServer;

/// Every route of DESIGN.md's REST table that exists so far, with its method.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/v1/leaderboards"),
    ("get", "/v1/leaderboards/{id}"),
    ("get", "/v1/leaderboards/{id}/around/{account}"),
    ("get", "/v1/leaderboards/{id}/accounts/{account_id}"),
    ("get", "/v1/leaderboards/{id}/records"),
    ("delete", "/v1/admin/leaderboards/{id}/records/{account_id}"),
    ("get", "/v1/realtime"),
    ("get", "/metrics"),
    ("post", "/v1/accounts"),
    ("get", "/v1/accounts/me"),
    ("put", "/v1/accounts/me"),
    ("post", "/v1/sessions"),
    ("post", "/v1/sessions/guest"),
    ("post", "/v1/sessions/refresh"),
    ("get", "/v1/matches"),
    ("post", "/v1/matches"),
    ("post", "/v1/matches/{match_id}/join"),
    ("get", "/v1/matches/{match_id}/replay"),
    ("post", "/v1/matchmaking/quick-join"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/v1/openapi.json"),
    ("get", "/v1/admin/matches"),
    ("delete", "/v1/admin/matches/{match_id}"),
    ("post", "/v1/admin/matches/{match_id}/kick"),
    ("post", "/v1/admin/accounts/{account_id}/ban"),
    ("delete", "/v1/admin/accounts/{account_id}/ban"),
    ("put", "/v1/admin/accounts/{account_id}/role"),
    ("get", "/v1/admin/stats"),
    ("get", "/v1/admin/audit"),
];

#[tokio::test]
async fn every_route_is_documented_and_the_document_validates() -> anyhow::Result<()> {
    let srv = TestServer::start().await?;
    let (status, doc) = srv
        .call(Method::GET, "/v1/openapi.json", None, None)
        .await?;
    assert_eq!(status, StatusCode::OK, "openapi.json served");
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with('3')),
        "OpenAPI 3: {}",
        doc["openapi"]
    );
    for (method, path) in ROUTES {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} documented"
        );
    }
    // Every documented operation answers something other than 404/405 (it is really routed).
    let paths = doc["paths"].as_object().expect("paths object");
    for (path, item) in paths {
        for method in item.as_object().expect("path item").keys() {
            let concrete = path.replace("{match_id}", "m_x");
            let m = Method::from_bytes(method.to_uppercase().as_bytes())?;
            let resp = srv.http.request(m, srv.url(&concrete)).send().await?;
            assert_ne!(
                resp.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is routed"
            );
            let body: serde_json::Value = resp.json().await.unwrap_or_default();
            assert_ne!(
                body["error"]["code"], "not_found",
                "{method} {path} is routed"
            );
        }
    }

    let file = srv.data_dir.join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&doc)?)?;
    let out = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output();
    match out {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stdout = String::from_utf8_lossy(&out.stdout);
            if stderr.contains("No module named") && std::env::var("CI").as_deref() != Ok("true") {
                eprintln!("skipping validation: pip install openapi-spec-validator (.ci/run does)");
            } else {
                panic!("openapi.json does not validate:\n{stdout}\n{stderr}");
            }
        }
        Err(e) => panic!("cannot run python3: {e}"),
    }
    srv.stop().await;
    Ok(())
}
