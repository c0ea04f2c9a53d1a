//! `x-request-id`: echo the client's id when it is sane, otherwise make one; handed to
//! the pipeline and put on every response (`routes::App` does both).
//!
//! Must never echo an id that could inject into logs or headers (length and charset are
//! checked).

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;
use sluice_protocol::translate::Ingress;

pub const HEADER: &str = "x-request-id";
/// `HEADER` as a name made once (a `&str` name is copied on every insert).
const NAME: HeaderName = HeaderName::from_static(HEADER);
/// The same id under the name the Anthropic SDK reads into its errors and logs.
const ANTHROPIC_NAME: HeaderName = HeaderName::from_static("request-id");
const MAX_LEN: usize = 128;

/// The id of the request being served, and what puts it on the response.
#[derive(Debug, Clone, Default)]
pub struct RequestId {
    pub id: String,
    pub stamp: Stamp,
}

/// The id as a header value, made once for the response.
#[derive(Debug, Clone, Default)]
pub struct Stamp(Option<HeaderValue>);

impl RequestId {
    /// The client's id when sane, else a new one.
    pub fn of(headers: &HeaderMap) -> Self {
        let id = headers
            .get(&NAME)
            .and_then(|v| v.to_str().ok())
            .filter(|v| is_sane(v))
            .map_or_else(generate, str::to_owned);
        let stamp = Stamp(HeaderValue::from_str(&id).ok());
        Self { id, stamp }
    }
}

impl Stamp {
    /// Puts the id on the request's response; on an Anthropic-format answer of the
    /// pipeline also as `request-id` (`ingress`: the pipeline's format, `None` for the
    /// router's answers).
    pub fn put_on(self, response: &mut Response, ingress: Option<Ingress>) {
        let Some(value) = self.0 else { return };
        if ingress == Some(Ingress::Anthropic) {
            response.headers_mut().insert(ANTHROPIC_NAME, value.clone());
        }
        response.headers_mut().insert(NAME, value);
    }
}

fn is_sane(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// `req_` and 32 hex digits: the milliseconds since the epoch (48 bits), then 80 random
/// bits. Time first so that ids made later sort later: the journal's index on `id` then
/// grows at its right edge, where purely random ids dirtied a different index page for
/// nearly every row (measured: 4.1 page writes per row at 12,000 rows/s, BENCHMARKS.md).
fn generate() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let random = fastrand::u128(..) & ((1 << 80) - 1);
    let bits = ((ms & 0xffff_ffff_ffff) << 80) | random;
    let mut id = String::with_capacity(4 + 32);
    id.push_str("req_");
    crate::hex_digits::push(&mut id, &bits.to_be_bytes());
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_sane_and_sort_by_time() {
        // The next id from a later millisecond (a busy loop: a millisecond is short).
        let first = generate();
        let second = loop {
            let id = generate();
            if id[4..16] != first[4..16] {
                break id;
            }
        };
        for id in [&first, &second] {
            assert!(is_sane(id), "{id}");
            assert_eq!(id.len(), 4 + 32, "{id}");
        }
        assert!(first < second, "{first} !< {second}");
        // The time part is the milliseconds since the epoch, in 12 lowercase hex digits.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let at = u128::from_str_radix(&second[4..16], 16).unwrap_or(0);
        assert!(
            now.abs_diff(at) < 60_000,
            "{second} is not stamped near {now:x}"
        );
        assert!(
            second[4..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_ne!(first[16..], second[16..], "the random part differs");
    }
}
