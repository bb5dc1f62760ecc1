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

/// A new id: `aimlapi-` and 16 hex digits, different for every call of the process: a counter
/// mixed with a per-process random key by a bijection of 64-bit words (SplitMix64's finalizer),
/// so two calls never share one; written without formatting machinery (it is made on every call).
pub(crate) fn generate() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static KEY: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let key = *KEY.get_or_init(|| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(0x6169_6d6c_6170_6921);
        h.finish()
    });
    let mut x = COUNTER.fetch_add(1, Ordering::Relaxed) ^ key;
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::with_capacity(24);
    id.push_str("aimlapi-");
    for shift in (0..16).rev() {
        id.push(HEX[((x >> (shift * 4)) & 0xf) as usize] as char);
    }
    id
}

/// Gives `headers` a new id (a request made without a caller's options: a service endpoint).
pub(crate) fn insert_new(headers: &mut reqwest::header::HeaderMap) {
    if let Ok(id) = HeaderValue::from_str(&generate()) {
        headers.insert(HEADER, id);
    }
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
