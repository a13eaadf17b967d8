use crate::helpers::{TestApp, assert_error, json_of};
use reqwest::StatusCode;
use serde_json::json;

fn signup_body(username: &str, email: &str, password: &str) -> serde_json::Value {
    json!({"username": username, "display_name": "Ana", "email": email, "password": password})
}

async fn signup_validates_input(app: TestApp) -> TestApp {
    let c = app.client();
    let url = app.url("/api/auth/signup");
    let post = |body| c.post(&url).json(&body).send();
    assert_error(
        post(signup_body("ana", "ana@example.com", "short")).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("password"),
    )
    .await;
    assert_error(
        post(signup_body("ana", "ana@example.com", "")).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("password"),
    )
    .await;
    assert_error(
        post(signup_body("ana", "not-an-email", "long enough")).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("email"),
    )
    .await;
    assert_error(
        post(signup_body("a b", "ana@example.com", "long enough")).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid",
        Some("username"),
    )
    .await;
    let ok = json_of(
        post(signup_body("Ana", "ana@example.com", "long enough")).await.unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(ok["user"]["username"], "ana");
    assert!(ok["token"].as_str().unwrap().len() > 40);
    assert_error(
        post(signup_body("ana", "other@example.com", "long enough")).await.unwrap(),
        StatusCode::CONFLICT,
        "conflict",
        Some("username"),
    )
    .await;
    assert_error(
        post(signup_body("bob", "ANA@example.com", "long enough")).await.unwrap(),
        StatusCode::CONFLICT,
        "conflict",
        Some("email"),
    )
    .await;
    let malformed =
        c.post(&url).header("content-type", "application/json").body("{not json").send().await.unwrap();
    assert_error(malformed, StatusCode::BAD_REQUEST, "invalid", None).await;
    app
}

async fn cookie_and_token_both_authenticate(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    // The session cookie set at signup.
    let me = json_of(ana.client.get(app.url("/api/auth/me")).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(me["username"], "ana");
    // The token, from a client without cookies.
    let bare = reqwest::Client::new();
    let me = json_of(
        bare.get(app.url("/api/auth/me")).bearer_auth(&ana.token).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["id"], ana.id.as_str());
    assert_error(
        bare.get(app.url("/api/auth/me")).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    )
    .await;
    assert_error(
        bare.get(app.url("/api/auth/me")).bearer_auth("pt_nonsense").send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    )
    .await;
    app
}

async fn login_rotates_session_and_sets_safe_cookie(app: TestApp) -> TestApp {
    app.user("ana").await;
    let c = app.client();
    let login = |password: &'static str| {
        c.post(app.url("/api/auth/login")).json(&json!({"username": "ANA", "password": password})).send()
    };
    assert_error(login("wrong password").await.unwrap(), StatusCode::UNAUTHORIZED, "unauthenticated", None)
        .await;
    let first = login("correct horse battery").await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let cookie1 = first.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(cookie1.starts_with("parley_session="), "{cookie1}");
    assert!(cookie1.contains("HttpOnly"), "{cookie1}");
    assert!(cookie1.contains("SameSite=Lax"), "{cookie1}");
    let body: serde_json::Value = first.json().await.unwrap();
    assert!(body["token"].is_string());
    let second = login("correct horse battery").await.unwrap();
    let cookie2 = second.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    let id = |c: &str| c.split(';').next().unwrap().to_string();
    assert_ne!(id(&cookie1), id(&cookie2), "the session id changes at every login");
    app
}

async fn logout_ends_session_and_token(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let res = ana.client.post(app.url("/api/auth/logout")).bearer_auth(&ana.token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_error(
        ana.client.get(app.url("/api/auth/me")).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    )
    .await;
    assert_error(ana.get(&app, "/api/auth/me").await, StatusCode::UNAUTHORIZED, "unauthenticated", None)
        .await;
    app
}

async fn sessions_survive_restart(mut app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let old_base = app.base.clone();
    app.restart().await;
    assert_ne!(app.base, old_base);
    // The cookie jar is keyed by host (127.0.0.1), so the same cookie goes to the new port.
    let me = json_of(ana.client.get(app.url("/api/auth/me")).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(me["username"], "ana");
    app
}

async fn foreign_origin_cannot_change_state(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let res = ana
        .client
        .post(app.url("/api/workspaces"))
        .header("origin", "https://evil.example")
        .json(&json!({"name": "Phish"}))
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::FORBIDDEN, "forbidden", None).await;
    let mine = json_of(ana.get(&app, "/api/workspaces").await, StatusCode::OK).await;
    assert_eq!(mine.as_array().unwrap().len(), 0, "nothing was created");
    let same = ana
        .client
        .post(app.url("/api/workspaces"))
        .header("origin", app.base.clone())
        .json(&json!({"name": "Ours"}))
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), StatusCode::CREATED);
    app
}

crate::on_both_backends! {
    signup_validates_input => signup_validates_input;
    cookie_and_token_both_authenticate => cookie_and_token_both_authenticate;
    login_rotates_session_and_sets_safe_cookie => login_rotates_session_and_sets_safe_cookie;
    logout_ends_session_and_token => logout_ends_session_and_token;
    sessions_survive_restart => sessions_survive_restart;
    foreign_origin_cannot_change_state => foreign_origin_cannot_change_state;
}
