//! The client's REST calls: creating a session and fetching the site's DOM restrictions.
//! What the answers mean is in [`crate::session`] and [`crate::restrictions`].

use crate::restrictions::DomPolicy;
use crate::session::{ClientError, StoredSession};
use cobrowse_protocol::rest::{
    CreateSession, CreatedSession, DOM_RESTRICTIONS_PATH, ErrorBody, LIVE_SESSIONS_PATH,
};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A failed browser call as a [`ClientError::Network`], with the exception's message.
pub(super) fn js_err(v: JsValue) -> ClientError {
    ClientError::Network(
        v.as_string()
            .or_else(|| {
                js_sys::Reflect::get(&v, &"message".into())
                    .ok()
                    .and_then(|m| m.as_string())
            })
            .unwrap_or_else(|| "unknown".into()),
    )
}

/// `POST {base}{LIVE_SESSIONS_PATH}` for the page at `page_url`.
pub(super) async fn create_session(
    base: &str,
    page_url: &str,
) -> Result<StoredSession, ClientError> {
    let window = cobrowse_web_glue::realm::window()
        .ok_or_else(|| ClientError::Environment("no window".into()))?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    let body = CreateSession {
        url: Some(page_url.to_owned()),
    };
    let body =
        serde_wasm_bindgen::to_value(&body).map_err(|e| ClientError::Environment(e.to_string()))?;
    let body = js_sys::JSON::stringify(&body).map_err(js_err)?;
    init.set_body(&body.into());
    // A plain object and a URL string, not the page's `Headers`/`Request` constructors: sites
    // replace those globals (MooTools defines its own `Request`, which `fetch` turns into the URL
    // "[object Object]").
    let headers = js_sys::Object::new();
    js_sys::Reflect::set(&headers, &"content-type".into(), &"application/json".into())
        .map_err(js_err)?;
    init.set_headers(&headers);
    let url = format!("{base}{LIVE_SESSIONS_PATH}");
    let resp: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
        .await
        .map_err(js_err)?
        .dyn_into()
        .map_err(|_| ClientError::BadResponse("not a response".into()))?;
    let status = resp.status();
    let json = JsFuture::from(resp.json().map_err(js_err)?)
        .await
        .map_err(|_| ClientError::BadResponse(format!("status {status}, body is not JSON")))?;
    if !resp.ok() {
        let body = serde_wasm_bindgen::from_value::<ErrorBody>(json).ok();
        return Err(ClientError::http(status, body));
    }
    let created: CreatedSession = serde_wasm_bindgen::from_value(json)
        .map_err(|e| ClientError::BadResponse(e.to_string()))?;
    StoredSession::created(created, base)
}

/// `GET {base}{DOM_RESTRICTIONS_PATH}`, the site's policy as the server serves it.
pub(super) async fn restrictions(base: &str) -> Result<DomPolicy, String> {
    let window = cobrowse_web_glue::realm::window().ok_or("no window")?;
    let url = format!("{base}{DOM_RESTRICTIONS_PATH}");
    let resp: web_sys::Response = JsFuture::from(window.fetch_with_str(&url))
        .await
        .map_err(|e| format!("dom restrictions: fetch failed: {e:?}"))?
        .dyn_into()
        .map_err(|_| "dom restrictions: not a response".to_string())?;
    if !resp.ok() {
        return Err(format!("dom restrictions: status {}", resp.status()));
    }
    let json = JsFuture::from(resp.json().map_err(|e| format!("{e:?}"))?)
        .await
        .map_err(|_| "dom restrictions: body is not JSON".to_string())?;
    crate::web::restrict::policy(&json)
}
