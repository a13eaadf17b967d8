//! Meetings (seed 000's routes): scheduling with clear errors, who sees a
//! meeting, its `.ics` file and the private calendar feed, joining its call,
//! ending it for everyone, and instant calls.

use crate::gateway::{connect_as, next_of};
use crate::helpers::{TestApp, join, json_of, workspace};
use futures::SinkExt;
use reqwest::StatusCode;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

/// Content lines of an iCalendar text, unfolded.
fn ics_lines(text: &str) -> Vec<String> {
    text.replace("\r\n ", "").split("\r\n").filter(|l| !l.is_empty()).map(String::from).collect()
}

async fn meetings_are_scheduled_joined_and_ended(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let carl = app.user("carl").await;
    let (ws, _) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    join(&app, &carl, &ws).await;
    let meetings = "/api/communication/meetings/";

    // Mistakes are explained, field by field.
    let base = json!({"workspace_id": ws, "title": "Sprint planning", "participants": ["bob"],
        "scheduled_start": "2099-03-02T09:30:00+01:00", "scheduled_end": "2099-03-02T10:30:00+01:00",
        "description": "Bring notes", "enable_recording": true});
    for (change, field, says) in [
        (json!({"scheduled_end": "2099-03-02T09:00:00+01:00"}), "scheduled_end", "must end after it starts"),
        (json!({"scheduled_start": "next tuesday"}), "scheduled_start", "RFC 3339"),
        (json!({"participants": ["nobody"]}), "participants", "@nobody is not a member"),
        (json!({"title": "  "}), "title", "Give the meeting a title"),
    ] {
        let mut body = base.clone();
        body.as_object_mut().unwrap().extend(change.as_object().unwrap().clone());
        let err = json_of(ana.post(&app, meetings, body).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(err["field"], field, "{err}");
        assert!(err["message"].as_str().unwrap().contains(says), "{err}");
    }

    // Ana schedules one with Bob.
    let m = json_of(ana.post(&app, meetings, base.clone()).await, StatusCode::CREATED).await;
    let id = m["id"].as_str().unwrap().to_string();
    assert_eq!(m["title"], "Sprint planning");
    assert_eq!(m["scheduled_start"], "2099-03-02T08:30:00Z");
    assert_eq!(m["status"], "scheduled");
    assert_eq!(m["organizer"]["username"], "ana");
    assert_eq!(m["participants"][0]["username"], "bob");
    assert_eq!(m["enable_recording"], true);
    // Bob sees it; Carl, not invited, does not.
    let listed = json_of(bob.get(&app, &format!("{meetings}?workspace_id={ws}")).await, StatusCode::OK).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let listed =
        json_of(carl.get(&app, &format!("{meetings}?workspace_id={ws}")).await, StatusCode::OK).await;
    assert!(listed.as_array().unwrap().is_empty());
    assert_eq!(carl.get(&app, &format!("{meetings}{id}/")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(carl.get(&app, m["ics_url"].as_str().unwrap()).await.status(), StatusCode::NOT_FOUND);

    // Its .ics file: one event at the right time, the page to join at.
    let ics = bob.get(&app, m["ics_url"].as_str().unwrap()).await;
    assert_eq!(ics.status(), StatusCode::OK);
    assert!(ics.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    let lines = ics_lines(&ics.text().await.unwrap());
    for want in [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".to_string(),
        format!("UID:meeting-{id}@parley"),
        "DTSTART:20990302T083000Z".to_string(),
        "DTEND:20990302T093000Z".to_string(),
        "SUMMARY:Sprint planning".to_string(),
        format!("URL:{}", app.url(m["url"].as_str().unwrap())),
    ] {
        assert!(lines.contains(&want), "missing {want:?} in {lines:#?}");
    }

    // Bob's private calendar feed lists it, without signing in; a new address retires the old one.
    let feed =
        json_of(bob.post(&app, &format!("{meetings}calendar_feed/"), json!({})).await, StatusCode::OK).await;
    let url = feed["url"].as_str().unwrap().to_string();
    let anonymous = reqwest::Client::new();
    let got = anonymous.get(&url).send().await.unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert!(ics_lines(&got.text().await.unwrap()).contains(&format!("UID:meeting-{id}@parley")));
    json_of(bob.post(&app, &format!("{meetings}calendar_feed/"), json!({})).await, StatusCode::OK).await;
    assert_eq!(anonymous.get(&url).send().await.unwrap().status(), StatusCode::NOT_FOUND);

    // Bob joins: the call is the meeting's channel; the meeting shows as live.
    let joined =
        json_of(bob.post(&app, &format!("{meetings}{id}/join/"), json!({})).await, StatusCode::OK).await;
    let channel = joined["channel_id"].as_str().unwrap().to_string();
    let mut bob_ws = connect_as(&app, &bob).await;
    let join = json!({"type": "VOICE_JOIN", "channel_id": channel});
    bob_ws.send(Message::Text(join.to_string().into())).await.unwrap();
    next_of(&mut bob_ws, "VOICE_JOINED").await;
    let now = json_of(ana.get(&app, &format!("{meetings}{id}/")).await, StatusCode::OK).await;
    assert_eq!(now["status"], "live");
    assert_eq!(now["call"][0]["user"]["username"], "bob");

    // Only its organizer ends it; then the call is over for everyone, and it cannot be joined.
    let refused =
        json_of(bob.post(&app, &format!("{meetings}{id}/end/"), json!({})).await, StatusCode::FORBIDDEN)
            .await;
    assert!(refused["message"].as_str().unwrap().contains("only its organizer"), "{refused}");
    let ended =
        json_of(ana.post(&app, &format!("{meetings}{id}/end/"), json!({})).await, StatusCode::OK).await;
    assert_eq!(ended["status"], "ended");
    let left = next_of(&mut bob_ws, "VOICE_LEFT").await;
    assert_eq!(left["channel_id"], channel.as_str());
    let again =
        json_of(bob.post(&app, &format!("{meetings}{id}/join/"), json!({})).await, StatusCode::CONFLICT)
            .await;
    assert!(again["message"].as_str().unwrap().contains("has ended"), "{again}");

    // An instant call starts now, for an hour.
    let before = domain::now_ms();
    let body = json!({"workspace_id": ws, "participants": ["carl"]});
    let call = json_of(ana.post(&app, &format!("{meetings}instant/"), body).await, StatusCode::CREATED).await;
    assert_eq!(call["title"], "Call");
    assert_eq!(call["instant"], true);
    let starts = call["starts_at"].as_i64().unwrap();
    assert!(starts >= before && starts <= domain::now_ms());
    assert_eq!(call["ends_at"].as_i64().unwrap() - starts, 3_600_000);
    app
}

/// Claims of a Jitsi token, as Prosody's token authentication reads them.
#[derive(serde::Deserialize)]
struct JitsiClaims {
    aud: String,
    iss: String,
    sub: String,
    room: String,
    nbf: i64,
    exp: i64,
    moderator: bool,
    context: JitsiContext,
}

#[derive(serde::Deserialize)]
struct JitsiContext {
    user: JitsiUser,
}

#[derive(serde::Deserialize)]
struct JitsiUser {
    name: String,
}

/// Checks a link's token as a Jitsi server with token authentication does
/// (HS256 with the app's secret; audience, issuer, domain, room, times),
/// and returns the room and the claims.
fn verified(link: &str, secret: &str) -> (String, JitsiClaims) {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use hmac::{Hmac, Mac};
    let rest = link.strip_prefix("https://meet.example.com/").expect("a link to the Jitsi server");
    let (room, jwt) = rest.split_once("?jwt=").expect("a token");
    let (input, signature) = jwt.rsplit_once('.').unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    mac.verify_slice(&B64.decode(signature).unwrap()).expect("signed with the app's secret");
    let (header, claims) = input.split_once('.').unwrap();
    let header: serde_json::Value = serde_json::from_slice(&B64.decode(header).unwrap()).unwrap();
    assert_eq!((header["alg"].as_str(), header["typ"].as_str()), (Some("HS256"), Some("JWT")));
    let claims: JitsiClaims = serde_json::from_slice(&B64.decode(claims).unwrap()).unwrap();
    let now = domain::now_ms() / 1000;
    assert_eq!(
        (claims.aud.as_str(), claims.iss.as_str(), claims.sub.as_str()),
        ("jitsi", "parley-test", "meet.example.com")
    );
    assert_eq!(claims.room, room, "the token is for this room");
    assert!(claims.nbf <= now && claims.exp > now + 3000, "valid now, for the meeting");
    (room.to_string(), claims)
}

/// With Jitsi offered, each person's meeting carries their own signed link
/// into one room; the organizer enters as moderator.
async fn with_jitsi_each_person_gets_a_signed_link_into_the_meetings_room(backend: domain::Backend) {
    let jitsi = server::config::JitsiConfig {
        url: "https://meet.example.com".into(),
        token: Some(("parley-test".into(), "s3cret".into())),
    };
    let configure = std::sync::Arc::new(move |c: &mut server::config::Config| c.jitsi = Some(jitsi.clone()));
    let app = TestApp::spawn_with(backend, configure).await;
    let (ana, bob) = (app.user("ana").await, app.user("bob").await);
    let (ws, _) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let body = json!({"workspace_id": ws, "participants": ["bob"]});
    let call =
        json_of(ana.post(&app, "/api/communication/meetings/instant/", body).await, StatusCode::CREATED)
            .await;
    let id = call["id"].as_str().unwrap();
    let (ana_room, ana_claims) = verified(call["video_url"].as_str().unwrap(), "s3cret");
    assert!(ana_room.starts_with(&format!("parley-{id}-")), "{ana_room}");
    assert!(ana_claims.moderator && ana_claims.context.user.name == "ana D");

    let seen =
        json_of(bob.get(&app, &format!("/api/communication/meetings/{id}/")).await, StatusCode::OK).await;
    let (bob_room, bob_claims) = verified(seen["video_url"].as_str().unwrap(), "s3cret");
    assert_eq!(bob_room, ana_room, "one room for the meeting");
    assert!(!bob_claims.moderator && bob_claims.context.user.name == "bob D");
    // The meetings page offers it.
    let page = bob.client.get(app.url(&format!("/w/{ws}/meetings"))).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Join on Jitsi") && html.contains(&format!("https://meet.example.com/{bob_room}?jwt="))
    );
    app.finish().await;
}

/// An instant call `who` starts in `ws`.
async fn instant(app: &TestApp, who: &crate::helpers::User, ws: &str) -> serde_json::Value {
    let body = json!({"workspace_id": ws});
    json_of(who.post(app, "/api/communication/meetings/instant/", body).await, StatusCode::CREATED).await
}

/// Without Jitsi, meetings have no video link; with a Jitsi that takes no
/// tokens, the link is the room alone.
async fn a_jitsi_without_tokens_gets_plain_links_and_none_without_jitsi(backend: domain::Backend) {
    let app = TestApp::spawn(backend).await;
    let ana = app.user("ana").await;
    let (ws, _) = workspace(&app, &ana, false).await;
    let call = instant(&app, &ana, &ws).await;
    assert!(call.get("video_url").is_none(), "{call}");
    app.finish().await;

    let jitsi = server::config::JitsiConfig { url: "https://meet.example.com/".into(), token: None };
    let configure = std::sync::Arc::new(move |c: &mut server::config::Config| c.jitsi = Some(jitsi.clone()));
    let app = TestApp::spawn_with(backend, configure).await;
    let ana = app.user("ana").await;
    let (ws, _) = workspace(&app, &ana, false).await;
    let call = instant(&app, &ana, &ws).await;
    let link = call["video_url"].as_str().unwrap();
    let room = link.strip_prefix("https://meet.example.com/").unwrap();
    assert!(
        room.starts_with(&format!("parley-{}-", call["id"].as_str().unwrap())) && !room.contains('?'),
        "{link}"
    );
    app.finish().await;
}

crate::on_both_backends! {
    meetings_are_scheduled_joined_and_ended => meetings_are_scheduled_joined_and_ended;
}

mod jitsi {
    crate::on_each_backend!(
        with_jitsi_each_person_gets_a_signed_link_into_the_meetings_room,
        a_jitsi_without_tokens_gets_plain_links_and_none_without_jitsi,
    );
    use super::*;
}
