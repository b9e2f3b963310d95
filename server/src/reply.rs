//! The HTTP answer type and the JSON error shape every HTTP endpoint shares.
//!
//! REST and the CSS proxy both answer errors as `{"error":{"code","message"}}`
//! (`cobrowse_protocol::rest::ErrorBody`, with the codes of `ApiError`); the helpers live here,
//! below both, so neither has to import the other to build one.

use bytes::Bytes;
use cobrowse_protocol::rest::{ApiError, ErrorBody};
use serde::Serialize;
use warp::http::{HeaderValue, StatusCode, header};

/// HTTP response type of all handlers.
pub type Resp = warp::reply::Response;

/// Builds a JSON response (never cached: these answers describe live state).
pub fn json_response(status: StatusCode, body: &impl Serialize) -> Resp {
    // The REST types are plain data: serialising them cannot fail.
    let text = serde_json::to_vec(body).unwrap_or_else(|_| b"null".to_vec());
    let mut r = Resp::new(Bytes::from(text).into());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `{"error":{"code","message"}}` with the status that belongs to the code.
pub fn error(code: ApiError, message: &str) -> Resp {
    let status = StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    error_at(status, code, message)
}

/// A request no route answered: warp's statuses (404, 405, 400 …), as an empty or text body,
/// so it can carry the headers every answer gets (see `routes`).
pub fn rejection(r: &warp::Rejection) -> Resp {
    use warp::reject;
    let status = if r.is_not_found() {
        StatusCode::NOT_FOUND
    } else if r.find::<reject::MethodNotAllowed>().is_some() {
        StatusCode::METHOD_NOT_ALLOWED
    } else if r.find::<reject::InvalidHeader>().is_some()
        || r.find::<reject::MissingHeader>().is_some()
        || r.find::<reject::MissingCookie>().is_some()
        || r.find::<reject::InvalidQuery>().is_some()
    {
        StatusCode::BAD_REQUEST
    } else if r.find::<reject::LengthRequired>().is_some() {
        StatusCode::LENGTH_REQUIRED
    } else if r.find::<reject::PayloadTooLarge>().is_some() {
        StatusCode::PAYLOAD_TOO_LARGE
    } else if r.find::<reject::UnsupportedMediaType>().is_some() {
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    } else {
        tracing::warn!(rejection = ?r, "request rejected without a known reason");
        StatusCode::INTERNAL_SERVER_ERROR
    };
    let mut resp = Resp::new(Default::default());
    *resp.status_mut() = status;
    resp
}

/// The same with another status: the CSS proxy answers by who failed (403 refused by us, 502 the
/// origin failed, 504 too slow), whatever the code says.
pub fn error_at(status: StatusCode, code: ApiError, message: &str) -> Resp {
    json_response(status, &ErrorBody::new(code, message))
}
