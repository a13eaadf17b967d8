//! Threads, direct conversations, read state, pins, attachments and
//! channel management through seed 000's REST API, and XSS vectors in
//! everything people name.

use crate::gateway::{connect_as, next_event};
use crate::helpers::{TestApp, User, assert_error, channel, join, json_of, say, workspace};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

const MESSAGES: &str = "/api/communication/messages/";

async fn reply(app: &TestApp, who: &User, channel: &str, thread: &str, body: &str) -> Value {
    let res =
        who.post(app, MESSAGES, json!({"channel_id": channel, "body": body, "thread_id": thread})).await;
    json_of(res, StatusCode::CREATED).await
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

async fn threads_over_rest_and_live(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let eve = app.user("eve").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let parent = id(&say(&app, &ana, &general, "Release on Friday?").await);
    let mut ana_ws = connect_as(&app, &ana).await;

    let r = reply(&app, &bob, &general, &parent, "Fine by me").await;
    assert_eq!(r["thread_id"], parent.as_str());
    let live = next_event(&mut ana_ws).await;
    assert_eq!(
        (live["type"].as_str(), live["message"]["thread_id"].as_str()),
        (Some("MESSAGE_CREATE"), Some(parent.as_str()))
    );

    // The channel shows the parent with its summary, not the reply.
    let page =
        json_of(ana.get(&app, &format!("{MESSAGES}?channel_id={general}")).await, StatusCode::OK).await;
    let msgs = page["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["thread"]["reply_count"], 1);
    assert_eq!(msgs[0]["thread"]["participants"][0]["username"], "bob");

    let thread = json_of(ana.get(&app, &format!("{MESSAGES}{parent}/thread/")).await, StatusCode::OK).await;
    assert_eq!(thread["replies"][0]["body"], "Fine by me");
    assert_eq!(thread["following"], true, "the first author follows their thread");
    let followed = json_of(
        bob.get(&app, &format!("/api/communication/threads/?workspace_id={ws}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(followed[0]["parent"]["id"], parent.as_str());
    let unfollow = bob.post(&app, &format!("{MESSAGES}{parent}/follow/"), json!({"following": false})).await;
    assert_eq!(unfollow.status(), StatusCode::NO_CONTENT);
    let followed = json_of(
        bob.get(&app, &format!("/api/communication/threads/?workspace_id={ws}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(followed.as_array().unwrap().len(), 0);

    // Bad input.
    let bad =
        ana.post(&app, MESSAGES, json!({"channel_id": general, "body": "x", "thread_id": "nope"})).await;
    assert_error(bad, StatusCode::BAD_REQUEST, "invalid", Some("thread_id")).await;
    let unknown =
        ana.post(&app, MESSAGES, json!({"channel_id": general, "body": "x", "thread_id": "42"})).await;
    assert_error(unknown, StatusCode::NOT_FOUND, "not_found", None).await;
    let outsider = eve.get(&app, &format!("{MESSAGES}{parent}/thread/")).await;
    assert_error(outsider, StatusCode::NOT_FOUND, "not_found", None).await;
    app
}

async fn direct_conversations_over_rest(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let cat = app.user("cat").await;
    let (ws, _) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    join(&app, &cat, &ws).await;
    let create = "/api/communication/channels/create_direct/";
    let dm = json_of(
        ana.post(&app, create, json!({"workspace_id": ws, "usernames": ["bob"]})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(dm["kind"], "direct");
    let names: Vec<&str> =
        dm["members"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["ana", "bob"]);
    let again = json_of(
        bob.post(&app, create, json!({"workspace_id": ws, "usernames": ["@ana"]})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["id"], dm["id"], "the existing conversation comes back");
    let dm_id = id(&dm);
    say(&app, &ana, &dm_id, "just us").await;
    assert_error(
        cat.get(&app, &format!("{MESSAGES}?channel_id={dm_id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    assert_error(
        bob.post(&app, &format!("/api/communication/channels/{dm_id}/leave/"), json!({})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    )
    .await;
    let group = json_of(
        ana.post(&app, create, json!({"workspace_id": ws, "usernames": ["bob", "cat"]})).await,
        StatusCode::OK,
    )
    .await;
    assert_ne!(group["id"], dm["id"]);
    let too_many: Vec<String> = (0..8).map(|i| format!("p{i}")).collect();
    for name in &too_many {
        let u = app.user(name).await;
        join(&app, &u, &ws).await;
    }
    assert_error(
        ana.post(&app, create, json!({"workspace_id": ws, "usernames": too_many})).await,
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("usernames"),
    )
    .await;
    assert_error(
        ana.post(&app, create, json!({"workspace_id": ws, "usernames": ["stranger"]})).await,
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("usernames"),
    )
    .await;
    app
}

async fn read_state_over_rest(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    say(&app, &ana, &general, "one").await;
    let two = id(&say(&app, &ana, &general, "two for @bob").await);
    let list = format!("/api/communication/channels/?workspace_id={ws}");
    let channels = json_of(bob.get(&app, &list).await, StatusCode::OK).await;
    assert_eq!((channels[0]["unread"].as_i64(), channels[0]["mentions"].as_i64()), (Some(2), Some(1)));

    let mut bob_ws = connect_as(&app, &bob).await;
    let read = format!("/api/communication/channels/{general}/read/");
    let mark = json_of(bob.post(&app, &read, json!({})).await, StatusCode::OK).await;
    assert_eq!(mark["last_read_id"], two.as_str());
    let live = next_event(&mut bob_ws).await;
    assert_eq!(
        (live["type"].as_str(), live["last_read_id"].as_str()),
        (Some("READ_UPDATE"), Some(two.as_str()))
    );
    let channels = json_of(bob.get(&app, &list).await, StatusCode::OK).await;
    assert_eq!(channels[0]["unread"], 0);
    let readers = json_of(ana.get(&app, &format!("{MESSAGES}{two}/readers/")).await, StatusCode::OK).await;
    assert_eq!(readers[0]["username"], "bob");
    let marks = json_of(
        ana.get(&app, &format!("/api/communication/channels/{general}/reads/")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(marks.as_array().unwrap().len(), 2);
    assert_error(
        bob.post(&app, &read, json!({"message_id": "soon"})).await,
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("message_id"),
    )
    .await;
    app
}

async fn channels_update_delete_and_pins(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let ops = channel(&app, &bob, &ws, "ops", false).await;
    let path = format!("/api/communication/channels/{ops}/");
    let updated =
        json_of(bob.put(&app, &path, json!({"name": "Ops Team", "topic": "pages"})).await, StatusCode::OK)
            .await;
    assert_eq!((updated["name"].as_str(), updated["topic"].as_str()), (Some("ops-team"), Some("pages")));
    assert_error(
        bob.put(&app, &path, json!({"name": "general"})).await,
        StatusCode::CONFLICT,
        "conflict",
        Some("name"),
    )
    .await;
    assert_error(
        bob.put(&app, &path, json!({"topic": "x".repeat(501)})).await,
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("topic"),
    )
    .await;
    let g = format!("/api/communication/channels/{general}/");
    assert_error(bob.put(&app, &g, json!({"topic": "mine"})).await, StatusCode::FORBIDDEN, "forbidden", None)
        .await;

    let msg = id(&say(&app, &ana, &general, "handbook").await);
    let pinned = json_of(
        bob.post(&app, &format!("{MESSAGES}{msg}/pin/"), json!({"pinned": true})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(pinned["pinned"], true);
    let pins = json_of(ana.get(&app, &format!("{g}pins/")).await, StatusCode::OK).await;
    assert_eq!(pins[0]["id"], msg.as_str());

    assert_error(bob.delete(&app, &g).await, StatusCode::FORBIDDEN, "forbidden", None).await;
    assert_error(
        ana.delete(&app, "/api/communication/channels/1/").await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    assert_eq!(ana.delete(&app, &path).await.status(), StatusCode::NO_CONTENT, "the workspace owner may");
    assert_error(bob.get(&app, &path).await, StatusCode::NOT_FOUND, "not_found", None).await;
    app
}

fn file_form(channel: &str, body: &str, files: &[(&str, Vec<u8>)]) -> Form {
    let mut form = Form::new().text("channel_id", channel.to_string()).text("body", body.to_string());
    for (name, bytes) in files {
        form = form.part("file", Part::bytes(bytes.clone()).file_name(name.to_string()));
    }
    form
}

async fn upload(app: &TestApp, who: &User, form: Form) -> reqwest::Response {
    let req = who.client.post(app.url(MESSAGES)).header("accept", "application/json").multipart(form);
    who.send(app, "POST", req).await
}

/// The rule the server publishes for files it cannot see (an encrypted
/// message's, checked in the sender's browser) is the one it applies to a
/// plain upload, and says so in the same words.
async fn the_published_upload_policy_refuses_what_the_server_refuses(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (_, general) = workspace(&app, &ana, false).await;
    let policy: app::wire::UploadPolicyDto = serde_json::from_value(
        json_of(ana.get(&app, "/api/communication/files/policy/").await, StatusCode::OK).await,
    )
    .unwrap();
    assert_eq!(policy.max_bytes, domain::files::DEFAULT_MAX_BYTES);
    assert_eq!(policy.allowed_types, domain::files::DEFAULT_TYPES);
    for (name, allowed) in [("tool.exe", false), ("Report.PDF", true), ("notes", false), (".txt", false)] {
        let res = upload(&app, &ana, file_form(&general, "", &[(name, b"x".to_vec())])).await;
        let refused = res.status() == StatusCode::UNSUPPORTED_MEDIA_TYPE;
        assert_eq!(refused, !allowed, "{name}: {}", res.status());
        let said = match refused {
            true => Some(res.json::<Value>().await.unwrap()["message"].as_str().unwrap().to_string()),
            false => None,
        };
        assert_eq!(policy.refuses_type(name), said, "{name}");
    }
    app
}

async fn uploads_are_checked_and_downloads_guarded(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let eve = app.user("eve").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let secret = channel(&app, &ana, &ws, "secret", true).await;
    let png = b"\x89PNG\r\n\x1a\nnot really".to_vec();

    let sent = json_of(
        upload(
            &app,
            &ana,
            file_form(&general, "the chart", &[("chart.png", png.clone()), ("notes.txt", b"hi".to_vec())]),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let files = sent["attachments"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(
        (files[0]["is_image"].as_bool(), files[0]["size"].as_i64()),
        (Some(true), Some(png.len() as i64))
    );
    let url = files[0]["url"].as_str().unwrap().to_string();

    let got = bob.client.get(app.url(&url)).bearer_auth(&bob.token).send().await.unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    let h = got.headers();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"chart.png\""));
    assert_eq!(got.bytes().await.unwrap().to_vec(), png);
    // No access, no file; not signed in, no file.
    assert_error(
        eve.client.get(app.url(&url)).bearer_auth(&eve.token).send().await.unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    let anonymous = app.client().get(app.url(&url)).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // A file in a private channel is not reachable for a non-member, whatever the URL.
    let hidden = json_of(
        upload(&app, &ana, file_form(&secret, "", &[("plan.pdf", b"%PDF".to_vec())])).await,
        StatusCode::CREATED,
    )
    .await;
    let hidden_url = hidden["attachments"][0]["url"].as_str().unwrap().to_string();
    let res = bob.client.get(app.url(&hidden_url)).bearer_auth(&bob.token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let found = json_of(
        bob.post(&app, &format!("{MESSAGES}search/"), json!({"query": "has:file"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(found.as_array().unwrap().len(), 1, "has:file finds only what bob may see");

    // Refusals: a forbidden type, an oversize file, a channel one may not post in.
    let exe = upload(&app, &ana, file_form(&general, "", &[("tool.exe", b"MZ".to_vec())])).await;
    let err = assert_error(exe, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_type", Some("file")).await;
    assert!(err["message"].as_str().unwrap().contains("allowed file types are"));
    let big = vec![0u8; 25 * 1024 * 1024 + 1];
    let res = upload(&app, &ana, file_form(&general, "", &[("big.zip", big)])).await;
    let err = assert_error(res, StatusCode::PAYLOAD_TOO_LARGE, "too_large", Some("file")).await;
    assert!(err["message"].as_str().unwrap().contains("25 MB"));
    let res = upload(&app, &bob, file_form(&secret, "", &[("a.txt", b"x".to_vec())])).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found", None).await;
    let leftovers = std::fs::read_dir(app.data.0.join("files/tmp")).map(|d| d.count()).unwrap_or(0);
    assert_eq!(leftovers, 0, "refused uploads leave nothing behind");

    // A browser form without JavaScript comes back to the page.
    let form =
        file_form(&general, "from a plain form", &[("a.txt", b"x".to_vec())]).text("return_to", "/w/1/c/2");
    let res = bob
        .client
        .post(app.url(MESSAGES))
        .header("accept", "text/html")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/w/1/c/2");

    // Deleting the message removes its files.
    let sent_id = id(&sent);
    assert_eq!(ana.delete(&app, &format!("{MESSAGES}{sent_id}/")).await.status(), StatusCode::NO_CONTENT);
    let res = bob.client.get(app.url(&url)).bearer_auth(&bob.token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    app
}

/// Every element and attribute of a page, checked for anything that runs.
fn assert_page_inert(html: &str, vector: &str) {
    let doc = scraper::Html::parse_document(html);
    for node in doc.tree.nodes() {
        let Some(el) = node.value().as_element() else { continue };
        for (name, value) in el.attrs() {
            assert!(
                !name.starts_with("on") || value == "this.select()",
                "<{} {name}> from {vector:?}",
                el.name()
            );
            // Where a browser follows or loads a URL, it is never a script.
            let url_attr = matches!(
                name,
                "href"
                    | "src"
                    | "action"
                    | "formaction"
                    | "data"
                    | "background"
                    | "dynsrc"
                    | "lowsrc"
                    | "poster"
                    | "xlink:href"
                    | "srcset"
            );
            let v: String = value.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase();
            assert!(
                !url_attr
                    || !(v.contains("javascript:") || v.starts_with("data:") || v.starts_with("vbscript:")),
                "script URL in <{} {name}> from {vector:?}",
                el.name()
            );
        }
        let tag = el.name();
        assert!(!matches!(tag, "iframe" | "object" | "embed" | "base" | "frame"), "<{tag}> from {vector:?}");
        if tag == "meta" {
            assert!(el.attr("http-equiv").is_none(), "<meta http-equiv> from {vector:?}");
        }
        if tag == "script" {
            // Leptos's serialized page data may hold what was typed, as JSON
            // strings with every `<` escaped: nothing can close the script early.
            let text: String =
                scraper::ElementRef::wrap(node).unwrap().text().collect::<String>().to_lowercase();
            assert!(!text.contains("<script") && !text.contains("</"), "a script from {vector:?}");
            assert!(
                !vector.contains('<') || !text.contains(&vector.to_lowercase()),
                "raw vector in a script"
            );
            assert!(el.attr("src").is_none_or(|s| !s.contains("xss")), "a script src from {vector:?}");
        }
        if tag == "style" {
            let text: String = scraper::ElementRef::wrap(node).unwrap().text().collect();
            assert!(!text.to_lowercase().contains("javascript"), "a style from {vector:?}");
        }
    }
}

async fn xss_in_names_topics_and_file_names(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    let vectors = domain::testing::XSS_VECTORS;
    assert!(vectors.len() >= 50);
    for (i, v) in vectors.iter().enumerate() {
        // A person with the vector as display name posts a file named by it.
        let display: String = v.chars().filter(|c| !c.is_control()).take(64).collect();
        let client = app.client();
        let res = client
            .post(app.url("/api/auth/signup"))
            .json(&json!({"username": format!("x{i}"), "display_name": display, "email": format!("x{i}@example.com"),
                "password": "correct horse battery"}))
            .send()
            .await
            .unwrap();
        let body = json_of(res, StatusCode::CREATED).await;
        let who = User {
            client,
            token: body["token"].as_str().unwrap().into(),
            id: body["user"]["id"].as_str().unwrap().into(),
        };
        join(&app, &who, &ws).await;
        // As a browser would send it: no path separators or control characters.
        let name: String =
            v.chars().filter(|c| !c.is_control()).collect::<String>().replace(['/', '\\'], "_");
        let name = format!("{name}.txt");
        let res = upload(&app, &who, file_form(&general, v, &[(&name, b"x".to_vec())])).await;
        json_of(res, StatusCode::CREATED).await;
        // And a channel with it as topic.
        let ch = json_of(
            ana.post(
                &app,
                "/api/communication/channels/",
                json!({"workspace_id": ws, "name": format!("t{i}"), "topic": v}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let page = ana.client.get(app.url(&format!("/w/{ws}/c/{}", id(&ch)))).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert_page_inert(&page.text().await.unwrap(), v);
    }
    // #general shows every display name and file name at once.
    let page =
        ana.client.get(app.url(&format!("/w/{ws}/c/{general}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "what was typed stays visible as text");
    for v in vectors {
        assert_page_inert(&page, v);
    }
    app
}

async fn openapi_document_describes_the_api(app: TestApp) -> TestApp {
    let doc: Value = reqwest::get(app.url("/api/openapi.json")).await.unwrap().json().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/api/communication/channels/", &["get", "post"][..]),
        ("/api/communication/channels/{id}/", &["get", "put", "delete"]),
        ("/api/communication/channels/{id}/add_members/", &["post"]),
        ("/api/communication/channels/{id}/leave/", &["post"]),
        ("/api/communication/channels/create_direct/", &["post"]),
        ("/api/communication/messages/", &["get", "post"]),
        ("/api/communication/messages/{id}/", &["put", "delete"]),
        ("/api/communication/messages/search/", &["post"]),
        ("/api/communication/messages/{id}/add_reaction/", &["post"]),
    ] {
        for m in methods {
            assert!(paths[path][m].is_object(), "{m} {path} is documented");
        }
    }
    assert!(doc["components"]["schemas"]["MessageDto"]["properties"]["attachments"].is_object());
    app
}

crate::on_both_backends! {
    the_published_upload_policy_refuses_what_the_server_refuses => the_published_upload_policy_refuses_what_the_server_refuses;
    threads_over_rest_and_live => threads_over_rest_and_live;
    direct_conversations_over_rest => direct_conversations_over_rest;
    read_state_over_rest => read_state_over_rest;
    channels_update_delete_and_pins => channels_update_delete_and_pins;
    uploads_are_checked_and_downloads_guarded => uploads_are_checked_and_downloads_guarded;
    xss_in_names_topics_and_file_names => xss_in_names_topics_and_file_names;
    openapi_document_describes_the_api => openapi_document_describes_the_api;
}
