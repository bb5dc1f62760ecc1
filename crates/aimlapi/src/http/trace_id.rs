//! `X-Client-Request-Id`: the id every request carries so the call can be found again (the
//! AI/ML API echoes it and reports it in its usage logs): the caller's, checked, or one made
//! here.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use aimlapi_client::RequestOptions;
use reqwest::header::{HeaderName, HeaderValue};

use crate::error::Error;

/// The header's name.
pub(crate) const HEADER: HeaderName = HeaderName::from_static("x-client-request-id");

/// Whether `id` is one the AI/ML API keeps: 1 to 128 characters of `A-Z a-z 0-9 . _ : -` (it
/// drops any other silently).
pub(crate) fn is_valid(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// Refuses an id the API would drop.
pub(crate) fn check(id: &str) -> Result<(), Error> {
    if is_valid(id) {
        Ok(())
    } else {
        Err(Error::InvalidRequest(format!(
            "X-Client-Request-Id {id:?} is not 1 to 128 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-' \
             (the API would drop it silently)"
        )))
    }
}

/// A new id: `aimlapi-` and 16 hex digits, different for every call of the process (a counter
/// mixed with a per-process random key).
pub(crate) fn generate() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static KEYS: std::sync::OnceLock<std::collections::hash_map::RandomState> =
        std::sync::OnceLock::new();
    let mut h = KEYS.get_or_init(Default::default).build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("aimlapi-{:016x}", h.finish())
}

/// The id one call sends: the caller's (`X-Client-Request-Id` in `options`' headers), checked,
/// else a new one.
pub(crate) fn for_call(options: &RequestOptions) -> Result<(String, HeaderValue), Error> {
    if let Some(given) = options.headers.get(&HEADER) {
        let text = given.to_str().map_err(|_| {
            Error::InvalidRequest("X-Client-Request-Id is not visible ASCII".into())
        })?;
        check(text)?;
        return Ok((text.to_string(), given.clone()));
    }
    let id = generate();
    let value = HeaderValue::from_str(&id).map_err(|e| Error::Config(e.to_string()))?;
    Ok((id, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_s_alphabet_and_length() {
        assert!(is_valid("order-8f21c4"));
        assert!(is_valid("a.b_c:d-E9"));
        assert!(is_valid(&"x".repeat(128)));
        assert!(!is_valid(""));
        assert!(!is_valid(&"x".repeat(129)));
        for bad in ["order 1", "order/1", "ordér", "a\nb", "id#1"] {
            assert!(!is_valid(bad), "{bad:?}");
        }
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert!(is_valid(&a), "{a}");
    }
}
