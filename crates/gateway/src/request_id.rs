//! `x-request-id`: echo the client's id when it is sane, otherwise make one; put it in the
//! request extensions for the pipeline and on every response.
//!
//! Must never echo an id that could inject into logs or headers (length and charset are
//! checked).

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

pub const HEADER: &str = "x-request-id";
const MAX_LEN: usize = 128;

/// The id of the request being served.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub async fn layer(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_sane(v))
        .map_or_else(generate, str::to_owned);
    let header = HeaderValue::from_str(&id).ok();
    req.extensions_mut().insert(RequestId(id));
    let mut response = next.run(req).await;
    if let Some(value) = header {
        response.headers_mut().insert(HEADER, value);
    }
    response
}

fn is_sane(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

fn generate() -> String {
    format!("req_{:032x}", fastrand::u128(..))
}
