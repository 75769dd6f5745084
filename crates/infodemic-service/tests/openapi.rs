//! The OpenAPI description stays true: every route the service registers is documented with
//! its methods, nothing else is, and what it serves is the file in the source tree.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

use std::collections::BTreeSet;

use infodemic_service::{serve, ServeOptions};
use infodemic_store::SledStore;
use tokio_util::sync::CancellationToken;

const DESCRIPTION: &str = include_str!("../src/openapi.json");

/// `(path, method)` of every `.route(...)` in the router sources.
fn registered() -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for source in [include_str!("../src/server.rs"), include_str!("../src/review_page/mod.rs")] {
        for line in source.lines() {
            let Some(start) = line.find(".route(\"") else { continue };
            let rest = &line[start + ".route(\"".len()..];
            let Some(end) = rest.find('"') else { continue };
            let path = &rest[..end];
            for method in ["get", "post", "delete", "put", "patch"] {
                if rest[end..].contains(&format!("{method}(")) {
                    routes.insert((path.to_owned(), method.to_owned()));
                }
            }
        }
    }
    routes
}

fn documented() -> BTreeSet<(String, String)> {
    let description: serde_json::Value = serde_json::from_str(DESCRIPTION).unwrap();
    let mut routes = BTreeSet::new();
    for (path, item) in description["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            routes.insert((path.clone(), method.clone()));
        }
    }
    routes
}

#[test]
fn every_route_is_documented_and_every_documented_route_exists() {
    let registered = registered();
    assert!(registered.len() > 20, "the router sources were read: {registered:?}");
    let documented = documented();
    let missing: Vec<_> = registered.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&registered).collect();
    assert!(missing.is_empty(), "routes missing from src/openapi.json: {missing:?}");
    assert!(stale.is_empty(), "documented routes the service does not have: {stale:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_serves_its_description_and_every_documented_get_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = SledStore::open(&dir.path().join("store")).unwrap();
    let cancel = CancellationToken::new();
    let handle = serve(store, dir.path(), cancel.clone(), ServeOptions::default()).await.unwrap();
    let base = format!("http://{}", handle.info.address);
    let token = handle.info.token.clone();
    let gets: Vec<String> = documented()
        .into_iter()
        .filter(|(path, method)| method == "get" && !path.contains('{'))
        .map(|(path, _)| path)
        .collect();
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let served = agent.get(format!("{base}/v1/openapi.json")).call().unwrap().body_mut().read_to_string().unwrap();
        assert_eq!(served, DESCRIPTION);
        let health = agent.get(format!("{base}/healthz")).call().unwrap().body_mut().read_to_string().unwrap();
        assert_eq!(health, "ok");
        for path in gets {
            let response =
                agent.get(format!("{base}{path}")).header("Authorization", format!("Bearer {token}")).call().unwrap();
            assert_eq!(response.status().as_u16(), 200, "{path}");
        }
    })
    .await
    .unwrap();
    cancel.cancel();
    handle.stopped().await;
}
