//! The model catalogue: `GET /v1/models` (and `/models`, `/api/v1/models`) and
//! `GET /model/{id}`, their projection, filters and entity tags, and the fixture against the
//! bundled pages.

use std::collections::{BTreeMap, BTreeSet};

use aimlapi_mock::MockServer;
use serde_json::Value;

/// `GET base + path_and_query` with `headers`: the status, the response's headers and its body.
async fn get(
    mock: &MockServer,
    path_and_query: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = reqwest::Client::new().get(format!("{}{path_and_query}", mock.base_url()));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

/// The body of a `200` answer to `GET path_and_query`, as JSON.
async fn json(mock: &MockServer, path_and_query: &str) -> Value {
    let (status, _, body) = get(mock, path_and_query, &[]).await;
    assert_eq!(status, 200, "{path_and_query}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// The ids a list answer carries, in order.
async fn ids(mock: &MockServer, path_and_query: &str) -> Vec<String> {
    let body = json(mock, path_and_query).await;
    assert_eq!(body["object"], "list", "{path_and_query}");
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

/// The keys of an object, sorted.
fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

const IDENTITY: [&str; 5] = ["aliases", "id", "info", "tags", "type"];

#[tokio::test]
async fn the_three_paths_serve_the_identity_of_every_model_without_a_key() {
    // A key is configured, and not needed for the catalogue.
    let mock = MockServer::builder().api_key("k").start().await.unwrap();
    let (status, headers, canonical) = get(&mock, "/v1/models", &[]).await;
    assert_eq!(status, 200, "{canonical}");
    assert_eq!(headers["content-type"], "application/json");
    for path in ["/models", "/api/v1/models"] {
        assert_eq!(get(&mock, path, &[]).await.2, canonical, "{path}");
    }
    let body: Value = serde_json::from_str(&canonical).unwrap();
    assert_eq!(keys(&body), ["data", "object"]);
    assert_eq!(body["object"], "list");
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), MockServer::catalogue().len());
    for model in data {
        assert_eq!(keys(model), IDENTITY, "{model}");
        assert!(model["info"]["name"].is_string(), "{model}");
        assert!(model["info"]["developer"].is_string(), "{model}");
    }
    let haiku = data
        .iter()
        .find(|m| m["id"] == "anthropic/claude-3-5-haiku")
        .unwrap();
    assert_eq!(haiku["type"], "openai/chat-completions");
    assert_eq!(haiku["tags"], serde_json::json!(["playground:chat"]));
    assert_eq!(haiku["info"]["contextLength"], 200_000);
    assert!(haiku["aliases"]
        .as_array()
        .unwrap()
        .contains(&Value::from("claude-3-5-haiku-latest")));
}

#[tokio::test]
async fn include_and_details_attach_the_sections_asked_for() {
    let mock = MockServer::start().await;
    let sections = |extra: &[&'static str]| {
        let mut all: Vec<&str> = IDENTITY
            .iter()
            .copied()
            .chain(extra.iter().copied())
            .collect();
        all.sort_unstable();
        all
    };
    let all = sections(&["capabilities", "modalities", "pricing"]);
    for (query, expected) in [
        ("include=pricing", sections(&["pricing"])),
        ("include=PRICING", sections(&["pricing"])),
        (
            "include=modalities,capabilities",
            sections(&["capabilities", "modalities"]),
        ),
        (
            "include=pricing&include=capabilities",
            sections(&["capabilities", "pricing"]),
        ),
        ("include=pricing,%20bogus,", sections(&["pricing"])),
        ("include=all", all.clone()),
        ("include=pricing,all", all.clone()),
        ("details=true", all.clone()),
        ("details=1", all.clone()),
        ("details=TRUE", all.clone()),
        ("details=false", sections(&[])),
        ("details=0&include=nothing-known", sections(&[])),
        ("include=", sections(&[])),
    ] {
        let body = json(
            &mock,
            &format!("/v1/models?{query}&id=anthropic/claude-3-5-haiku"),
        )
        .await;
        let data = body["data"].as_array().unwrap();
        assert_eq!(data.len(), 1, "{query}");
        assert_eq!(keys(&data[0]), expected, "{query}");
    }
    // Every model comes with all its sections (the variable price has no units).
    let body = json(&mock, "/v1/models?details=1").await;
    let data = body["data"].as_array().unwrap();
    assert!(data.iter().all(|m| m["pricing"]["kind"].is_string()));
    let kinds: BTreeSet<&str> = data
        .iter()
        .map(|m| m["pricing"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, BTreeSet::from(["fixed", "variable", "variants"]));
    let veo = data
        .iter()
        .find(|m| m["pricing"]["kind"] == "variants")
        .unwrap();
    assert_eq!(
        veo["pricing"]["dimensions"],
        serde_json::json!(["resolution"])
    );
    assert!(veo["pricing"]["variants"][0]["when"]["resolution"].is_string());
}

#[tokio::test]
async fn filters_are_or_within_a_parameter_and_across_parameters_and() {
    let mock = MockServer::start().await;
    let everything = ids(&mock, "/v1/models").await;
    let claude: Vec<String> = everything
        .iter()
        .filter(|i| i.starts_with("anthropic/"))
        .cloned()
        .collect();
    assert!(claude.len() >= 20, "{claude:?}");
    let one = |id: &str| vec![id.to_string()];
    for (query, expected) in [
        // An id or an alias, case-insensitive.
        (
            "id=anthropic/claude-3-5-haiku",
            one("anthropic/claude-3-5-haiku"),
        ),
        (
            "id=claude-3-5-haiku-latest",
            one("anthropic/claude-3-5-haiku"),
        ),
        (
            "id=ANTHROPIC%2FClaude-3-5-Haiku",
            one("anthropic/claude-3-5-haiku"),
        ),
        ("id=claude-sonnet-4-5", one("anthropic/claude-sonnet-4.5")),
        ("id=gpt-image-1", one("openai/gpt-image-1")),
        ("id=no-such-model", vec![]),
        // Several values: OR, comma-separated or repeated.
        (
            "id=gpt-image-1,veo-2.0-generate-001",
            vec![
                "openai/gpt-image-1".into(),
                "google/veo-2.0-generate-001".into(),
            ],
        ),
        (
            "id=gpt-image-1&id=veo-2.0-generate-001",
            vec![
                "openai/gpt-image-1".into(),
                "google/veo-2.0-generate-001".into(),
            ],
        ),
        ("type=openai/image-generations", one("openai/gpt-image-1")),
        (
            "type=INTERNAL/video-generations/submit",
            one("google/veo-2.0-generate-001"),
        ),
        (
            "tags=playground:video,playground:image",
            vec![
                "openai/gpt-image-1".into(),
                "google/veo-2.0-generate-001".into(),
            ],
        ),
        (
            "output_modalities=video",
            one("google/veo-2.0-generate-001"),
        ),
        ("output_modalities=image", one("openai/gpt-image-1")),
        (
            "capabilities=image_to_video",
            one("google/veo-2.0-generate-001"),
        ),
        (
            "capabilities=image_to_video,image_generation",
            vec![
                "openai/gpt-image-1".into(),
                "google/veo-2.0-generate-001".into(),
            ],
        ),
        // Different parameters: AND.
        (
            "input_modalities=image&output_modalities=image",
            one("openai/gpt-image-1"),
        ),
        (
            "output_modalities=video&capabilities=image_generation",
            vec![],
        ),
        (
            "type=openai/chat-completions&capabilities=vision",
            claude.clone(),
        ),
        (
            "tags=playground:chat&id=openrouter/auto",
            one("openrouter/auto"),
        ),
        // Omitted or empty parameters, and unknown ones, filter nothing.
        ("tags=", everything.clone()),
        ("tags=,", everything.clone()),
        ("colour=blue", everything.clone()),
    ] {
        assert_eq!(
            ids(&mock, &format!("/v1/models?{query}")).await,
            expected,
            "{query}"
        );
    }
    // `modalities` matches either side: the Claude models take images, the image model makes
    // them.
    let with_images = ids(&mock, "/v1/models?modalities=image").await;
    assert!(with_images.contains(&"openai/gpt-image-1".to_string()));
    assert!(with_images.contains(&"anthropic/claude-opus-4".to_string()));
    assert!(!ids(&mock, "/v1/models?modalities=video")
        .await
        .iter()
        .any(|i| i.starts_with("anthropic/")));
    // Filters do not need the sections they look at.
    let body = json(&mock, "/v1/models?capabilities=tools").await;
    assert!(body["data"][0].get("capabilities").is_none());
}

#[tokio::test]
async fn a_weak_etag_and_if_none_match_give_304_with_an_empty_body() {
    let mock = MockServer::start().await;
    let (_, headers, body) = get(&mock, "/v1/models?include=pricing", &[]).await;
    let tag = headers["etag"].to_str().unwrap().to_string();
    assert!(tag.starts_with("W/\"") && tag.ends_with('"'), "{tag}");
    // Stable for the same body, different for another.
    let (_, again, same) = get(&mock, "/v1/models?include=pricing", &[]).await;
    assert_eq!(
        (again["etag"].to_str().unwrap(), same.as_str()),
        (tag.as_str(), body.as_str())
    );
    let (_, other, _) = get(&mock, "/v1/models", &[]).await;
    assert_ne!(other["etag"], tag.as_str());

    let (status, headers, body) = get(
        &mock,
        "/v1/models?include=pricing",
        &[("If-None-Match", &tag)],
    )
    .await;
    assert_eq!((status, body.as_str()), (304, ""));
    assert_eq!(headers["etag"], tag.as_str());
    assert!(headers.get("x-inference-id").is_some());
    // A stale tag, or the tag of another projection, gets the body.
    for stale in ["W/\"0-0000000000000000\"", other["etag"].to_str().unwrap()] {
        let (status, _, body) = get(
            &mock,
            "/v1/models?include=pricing",
            &[("If-None-Match", stale)],
        )
        .await;
        assert_eq!(status, 200, "{stale}");
        assert!(!body.is_empty());
    }
    // The lookup has its tag too.
    let (_, headers, _) = get(&mock, "/model/anthropic/claude-opus-4", &[]).await;
    let tag = headers["etag"].to_str().unwrap().to_string();
    let (status, _, body) = get(
        &mock,
        "/model/anthropic/claude-opus-4",
        &[("if-none-match", &tag)],
    )
    .await;
    assert_eq!((status, body.as_str()), (304, ""));
}

#[tokio::test]
async fn one_model_is_looked_up_by_id_or_alias_with_slashes_unescaped() {
    let mock = MockServer::start().await;
    for path in [
        "/model/anthropic/claude-sonnet-4.5",
        "/model/claude-sonnet-4-5",
        "/model/claude-sonnet-4-5-20250929",
        "/model/Anthropic/Claude-Sonnet-4.5",
        "/model/anthropic%2Fclaude-sonnet-4.5",
    ] {
        let body = json(&mock, path).await;
        assert_eq!(keys(&body), ["data", "object"], "{path}");
        assert_eq!(body["object"], "model", "{path}");
        assert_eq!(body["data"]["id"], "anthropic/claude-sonnet-4.5", "{path}");
        assert_eq!(keys(&body["data"]), IDENTITY, "{path}");
    }
    // The same projection as the list.
    let listed = json(&mock, "/v1/models?id=claude-opus-4&include=pricing").await;
    let one = json(&mock, "/model/claude-opus-4?include=pricing").await;
    assert_eq!(one["data"], listed["data"][0]);
    let all = json(&mock, "/model/anthropic/claude-opus-4?details=true").await;
    assert_eq!(keys(&all["data"]).len(), 8);
    // Unknown names, the plural, and the lookup under /v1 are 404 in the vendor's error shape.
    for path in [
        "/model/anthropic/claude-nothing",
        "/model/",
        "/model//",
        "/models/anthropic/claude-opus-4",
        "/v1/model/anthropic/claude-opus-4",
    ] {
        let (status, _, body) = get(&mock, path, &[]).await;
        assert_eq!(status, 404, "{path}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["statusCode"], 404, "{path}");
    }
}

#[tokio::test]
async fn odd_queries_paths_and_headers_are_answered_not_dropped() {
    let mock = MockServer::start().await;
    let long = format!("/v1/models?tags={}", "x,".repeat(20_000));
    for path_and_query in [
        "/v1/models?%",
        "/v1/models?%zz=%ff&&&==&include=%",
        "/v1/models?id=%ff%fe",
        "/v1/models?details",
        "/v1/models?include=all&details=maybe&id",
        long.as_str(),
        "/model/%",
        "/model/%E2%82",
        "/model/anthropic/claude-opus-4?include=%%%",
    ] {
        let (status, headers, _) = get(&mock, path_and_query, &[]).await;
        assert!(status == 200 || status == 404, "{path_and_query}: {status}");
        assert!(headers.get("x-inference-id").is_some(), "{path_and_query}");
    }
    // Other methods on the catalogue are not routes.
    let response = reqwest::Client::new()
        .post(format!("{}/v1/models", mock.base_url()))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    // A header far over hyper's limit: refused by the HTTP layer, and the server goes on.
    let huge = "a".repeat(1 << 20);
    let _ = get(&mock, "/v1/models", &[("x-huge", &huge)]).await;
    let many: Vec<(String, String)> = (0..200).map(|i| (format!("x-h{i}"), "v".into())).collect();
    let mut request = reqwest::Client::new().get(format!("{}/v1/models", mock.base_url()));
    for (k, v) in &many {
        request = request.header(k, v);
    }
    let _ = request.send().await;
    assert_eq!(get(&mock, "/v1/models", &[]).await.0, 200);
}

/// Which chat pages list the same models: pages that share an id are one model. Messages pages
/// (their ids repeat chat pages) and OpenRouter's pages are left out; so are pages without ids.
fn models_of_the_pages() -> Vec<BTreeSet<&'static str>> {
    let mut groups: Vec<BTreeSet<&'static str>> = Vec::new();
    for page in aimlapi_types::MODEL_PAGES {
        if page.shape.is_messages() || page.page.starts_with("openrouter-") || page.ids.is_empty() {
            continue;
        }
        let mut group: BTreeSet<&'static str> = page.ids.iter().copied().collect();
        groups.retain(|g| {
            let shares = !g.is_disjoint(&group);
            if shares {
                group.extend(g.iter().copied());
            }
            !shares
        });
        groups.push(group);
    }
    groups
}

/// The fixture has one entry per Claude model of the bundled pages: its names are exactly one
/// page group's ids, the `anthropic/...` one first. If a page is added, this says what to add.
#[test]
fn the_fixture_has_one_entry_per_claude_model_of_the_bundled_pages() {
    let catalogue = MockServer::catalogue();
    let claude: Vec<&Value> = catalogue
        .iter()
        .filter(|e| e["info"]["developer"] == "Anthropic")
        .collect();
    let listed: BTreeMap<&str, BTreeSet<&str>> = claude
        .iter()
        .map(|e| {
            let names = e["aliases"]
                .as_array()
                .unwrap()
                .iter()
                .chain([&e["id"]])
                .map(|n| n.as_str().unwrap())
                .collect();
            (e["id"].as_str().unwrap(), names)
        })
        .collect();
    let groups = models_of_the_pages();
    for group in &groups {
        let entry = listed.iter().find(|(_, names)| *names == group);
        assert!(
            entry.is_some(),
            "no catalogue entry lists exactly the ids {group:?} (a page was added or changed: \
             add or fix its entry in crates/mock/fixtures/catalogue.json)"
        );
        let (id, _) = entry.unwrap();
        assert!(id.starts_with("anthropic/"), "{id}");
    }
    assert_eq!(
        listed.len(),
        groups.len(),
        "entries with no page: {listed:?}"
    );
    // Every id of a Messages page is a name of some entry too.
    for page in aimlapi_types::MODEL_PAGES
        .iter()
        .filter(|p| p.shape.is_messages())
    {
        for id in page.ids {
            assert!(listed.values().any(|n| n.contains(id)), "{id}");
        }
    }
    // No name belongs to two entries.
    let mut seen = BTreeSet::new();
    for e in &catalogue {
        for name in e["aliases"].as_array().unwrap().iter().chain([&e["id"]]) {
            let name = name.as_str().unwrap().to_ascii_lowercase();
            assert!(seen.insert(name.clone()), "{name} twice");
        }
    }
}

#[test]
fn each_claude_entry_has_the_chat_facts_and_token_prices() {
    for e in MockServer::catalogue()
        .iter()
        .filter(|e| e["info"]["developer"] == "Anthropic")
    {
        let id = e["id"].as_str().unwrap();
        assert_eq!(e["type"], "openai/chat-completions", "{id}");
        assert_eq!(e["tags"], serde_json::json!(["playground:chat"]), "{id}");
        assert_eq!(e["info"]["contextLength"], 200_000, "{id}");
        assert!(e["info"]["outputMax"].as_u64().unwrap() >= 4096, "{id}");
        assert_eq!(
            e["modalities"]["input"],
            serde_json::json!(["text", "image"]),
            "{id}"
        );
        assert_eq!(
            e["modalities"]["output"],
            serde_json::json!(["text"]),
            "{id}"
        );
        let capabilities = e["capabilities"].as_array().unwrap();
        for c in ["streaming", "tools", "vision"] {
            assert!(capabilities.contains(&Value::from(c)), "{id}: {c}");
        }
        let pricing = &e["pricing"];
        assert_eq!(
            (pricing["kind"].as_str(), pricing["currency"].as_str()),
            (Some("fixed"), Some("USD"))
        );
        let price = |measure: &str| {
            let unit = pricing["units"]
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["measure"] == measure)
                .unwrap_or_else(|| panic!("{id}: no {measure} price"));
            assert_eq!(
                (unit["name"].as_str(), unit["per"].as_u64()),
                (Some("token"), Some(1_000_000))
            );
            unit["price"].as_f64().unwrap()
        };
        let input = price("input");
        assert!(input > 0.0 && price("output") > input, "{id}");
        for (measure, times) in [
            ("cache_read", 0.1),
            ("cache_write_5m", 1.25),
            ("cache_write_1h", 2.0),
        ] {
            assert!(
                (price(measure) - input * times).abs() < 1e-9,
                "{id}: {measure}"
            );
        }
    }
}
