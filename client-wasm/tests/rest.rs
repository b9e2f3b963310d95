//! The REST answers the client reads, parsed the way the browser hands them over
//! (`Response.json()` → `serde_wasm_bindgen`), against the shapes in `cobrowse_protocol::rest`.
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p cobrowse-client --target wasm32-unknown-unknown`
#![cfg(target_arch = "wasm32")]
#![allow(missing_docs)] // test crate

use cobrowse_client::session::{ClientError, StoredSession};
use cobrowse_protocol::rest::{CreatedSession, ErrorBody};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, serde_wasm_bindgen::Error> {
    serde_wasm_bindgen::from_value(js_sys::JSON::parse(json).expect("json"))
}

/// The `201` answer exactly as the server writes it (server/src/rest.rs `create`): a millisecond
/// time and the state's code both read through the browser's JSON.
#[wasm_bindgen_test]
fn the_servers_created_answer_gives_the_session_to_keep() {
    let answer = r#"{"token":"123456789","historyId":"5f0c","state":"idle","customerSecret":"5ec",
        "serverUrl":"https://cb.example.com/node1","wsUrl":"wss://cb.example.com/node1/cobrowse/ws",
        "writeModeAllowed":false,"createdAt":1767225600000}"#;
    let created: CreatedSession = parse(answer).expect("the server's answer parses");
    assert_eq!(created.created_at, 1_767_225_600_000);
    let s = StoredSession::created(created, "https://lb.example.com").expect("stored");
    assert_eq!(s.token, "123456789");
    assert_eq!(s.customer_secret, "5ec");
    assert_eq!(s.history_id, "5f0c");
    assert_eq!(s.ws_url, "wss://cb.example.com/node1/cobrowse/ws");
}

#[wasm_bindgen_test]
fn a_server_url_that_is_not_http_fails_the_start_with_bad_response() {
    let answer = r#"{"token":"123456789","historyId":"h","state":"idle","customerSecret":"5ec","serverUrl":"cb.example.com",
        "wsUrl":"cb.example.com/cobrowse/ws","writeModeAllowed":true,"createdAt":1}"#;
    let e = StoredSession::created(parse(answer).expect("parses"), "https://lb.example.com")
        .expect_err("no socket URL");
    assert!(matches!(e, ClientError::BadResponse(_)), "{e:?}");
    assert!(e.to_string().contains("`cb.example.com`"), "{e}");
}

#[wasm_bindgen_test]
fn error_bodies_carry_the_servers_code() {
    let body: ErrorBody =
        parse(r#"{"error":{"code":"server_full","message":"try later"}}"#).expect("parses");
    let e = ClientError::http(503, Some(body));
    assert_eq!(e.code(), "server_full");
    assert_eq!(e.to_string(), "server error 503: try later");
}
