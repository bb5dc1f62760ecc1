//! [`RateLimits`]: the rate-limit headers an answer carried, read into one type whichever family
//! the gateway sends: Anthropic's `anthropic-ratelimit-*` (resets as RFC 3339 times), the
//! OpenAI-style `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` (resets as durations such
//! as `6m0s`), OpenRouter's `X-RateLimit-{Limit,Remaining,Reset}` (the reset in epoch
//! milliseconds).

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

/// One limit: how many, how many are left, when it resets. Each `None` when not sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimit {
    /// The most allowed in the limit's window.
    pub limit: Option<u64>,
    /// How many are left.
    pub remaining: Option<u64>,
    /// When it is full again.
    pub reset: Option<SystemTime>,
}

impl RateLimit {
    fn is_empty(&self) -> bool {
        self.limit.is_none() && self.remaining.is_none() && self.reset.is_none()
    }
}

/// The rate limits an answer named ([`ResponseMeta::rate_limits`](crate::ResponseMeta::rate_limits),
/// [`HttpError::rate_limits`](crate::error::HttpError::rate_limits)). A gateway that sends none
/// (the AI/ML API documents none) gives every field `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimits {
    /// Requests.
    pub requests: Option<RateLimit>,
    /// Tokens (all of them, or where the gateway does not tell input from output).
    pub tokens: Option<RateLimit>,
    /// Input tokens (Anthropic).
    pub input_tokens: Option<RateLimit>,
    /// Output tokens (Anthropic).
    pub output_tokens: Option<RateLimit>,
}

impl RateLimits {
    /// Reads `headers`, resets given as durations counted from now.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        Self::from_headers_at(headers, SystemTime::now())
    }

    /// Reads `headers`, resets given as durations counted from `now`.
    pub fn from_headers_at(headers: &HeaderMap, now: SystemTime) -> Self {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        let count = |name: &str| text(name).and_then(|v| v.parse::<u64>().ok());
        let one = |limit: &str,
                   remaining: &str,
                   reset: &str,
                   read: fn(&str, SystemTime) -> Option<SystemTime>| {
            let l = RateLimit {
                limit: count(limit),
                remaining: count(remaining),
                reset: text(reset).and_then(|v| read(v, now)),
            };
            (!l.is_empty()).then_some(l)
        };
        let anthropic = |kind: &str| {
            one(
                &format!("anthropic-ratelimit-{kind}-limit"),
                &format!("anthropic-ratelimit-{kind}-remaining"),
                &format!("anthropic-ratelimit-{kind}-reset"),
                |v, _| crate::time::parse_timestamp(v),
            )
        };
        let openai = |kind: &str| {
            one(
                &format!("x-ratelimit-limit-{kind}"),
                &format!("x-ratelimit-remaining-{kind}"),
                &format!("x-ratelimit-reset-{kind}"),
                reset_after,
            )
        };
        let openrouter = one(
            "x-ratelimit-limit",
            "x-ratelimit-remaining",
            "x-ratelimit-reset",
            reset_at,
        );
        RateLimits {
            requests: anthropic("requests")
                .or_else(|| openai("requests"))
                .or(openrouter),
            tokens: anthropic("tokens").or_else(|| openai("tokens")),
            input_tokens: anthropic("input-tokens"),
            output_tokens: anthropic("output-tokens"),
        }
    }

    /// Whether no limit was named.
    pub fn is_empty(&self) -> bool {
        self.all().next().is_none()
    }

    fn all(&self) -> impl Iterator<Item = &RateLimit> {
        [
            &self.requests,
            &self.tokens,
            &self.input_tokens,
            &self.output_tokens,
        ]
        .into_iter()
        .flatten()
    }

    /// How long from `now` until every limit that is spent (none left) has reset: what a
    /// refused request waits for when no `Retry-After` says. `None` when no spent limit names a
    /// reset; a limit whose count is unknown (not sent, or not a number) is not taken as spent.
    /// Capped, as every wait a server names, at the default retry policy's `max_retry_after`
    /// (60 s); a client waits at most its own policy's.
    pub fn wait_at(&self, now: SystemTime) -> Option<Duration> {
        self.reset_wait(now)
            .map(|wait| wait.min(crate::time::DEFAULT_WAIT_CAP))
    }

    /// [`wait_at`](Self::wait_at) before the cap: for the retry policy, which caps it at its own.
    pub(crate) fn reset_wait(&self, now: SystemTime) -> Option<Duration> {
        self.all()
            .filter(|l| l.remaining == Some(0))
            .filter_map(|l| l.reset)
            .max()
            .map(|reset| reset.duration_since(now).unwrap_or_default())
    }
}

/// A reset given as how long from now: `6m0s`, `1s`, `20ms`, `1h2m3.5s`, or seconds alone.
fn reset_after(text: &str, now: SystemTime) -> Option<SystemTime> {
    now.checked_add(duration(text)?)
}

/// A reset given as a moment: epoch milliseconds (OpenRouter), epoch seconds, or else a duration.
fn reset_at(text: &str, now: SystemTime) -> Option<SystemTime> {
    match text.parse::<u64>() {
        Ok(ms) if ms >= 1_000_000_000_000 => {
            SystemTime::UNIX_EPOCH.checked_add(Duration::from_millis(ms))
        }
        Ok(s) if s >= 1_000_000_000 => SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(s)),
        _ => reset_after(text, now),
    }
}

/// `6m0s`, `1h2m3.5s`, `250ms`, `1.5s`, `7` (seconds): Go's duration format, as OpenAI-style
/// gateways write it. `None` for anything else, or longer than a server's wait may be
/// ([`crate::time::FARTHEST`], as for `Retry-After`).
fn duration(text: &str) -> Option<Duration> {
    if let Ok(secs) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(secs)
            .ok()
            .filter(|d| *d <= crate::time::FARTHEST);
    }
    let mut total = 0f64;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += value * seconds;
        rest = &rest[unit_len..];
    }
    Duration::try_from_secs_f64(total)
        .ok()
        .filter(|d| *d <= crate::time::FARTHEST)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::retry::tests::headers;

    #[test]
    fn durations_in_go_s_format() {
        assert_eq!(duration("6m0s"), Some(Duration::from_secs(360)));
        assert_eq!(duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(duration("20ms"), Some(Duration::from_millis(20)));
        assert_eq!(duration("1h2m3.5s"), Some(Duration::from_millis(3_723_500)));
        assert_eq!(duration("7"), Some(Duration::from_secs(7)));
        for bad in ["", "5x", "m", "-1s", "NaN", "9999999h"] {
            assert_eq!(duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_family_reads_into_the_one_type() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_000_000);
        let a = RateLimits::from_headers_at(
            &headers(&[
                ("anthropic-ratelimit-requests-limit", "50"),
                ("anthropic-ratelimit-requests-remaining", "0"),
                ("anthropic-ratelimit-requests-reset", "2026-05-28T20:27:00Z"),
                ("anthropic-ratelimit-input-tokens-limit", "40000"),
                ("anthropic-ratelimit-input-tokens-remaining", "39000"),
                ("anthropic-ratelimit-output-tokens-remaining", "8000"),
            ]),
            now,
        );
        let requests = a.requests.unwrap();
        assert_eq!((requests.limit, requests.remaining), (Some(50), Some(0)));
        assert_eq!(
            requests.reset,
            Some(now + Duration::from_secs(1_780_000_020 - 1_780_000_000))
        );
        assert_eq!(a.input_tokens.unwrap().remaining, Some(39_000));
        assert_eq!(a.output_tokens.unwrap().limit, None);
        assert_eq!(a.wait_at(now), Some(Duration::from_secs(20)));

        let o = RateLimits::from_headers_at(
            &headers(&[
                ("x-ratelimit-limit-requests", "500"),
                ("x-ratelimit-remaining-requests", "499"),
                ("x-ratelimit-reset-requests", "120ms"),
                ("x-ratelimit-limit-tokens", "30000"),
                ("x-ratelimit-remaining-tokens", "0"),
                ("x-ratelimit-reset-tokens", "6m0s"),
            ]),
            now,
        );
        assert_eq!(
            o.requests.unwrap().reset,
            Some(now + Duration::from_millis(120))
        );
        assert_eq!(o.tokens.unwrap().remaining, Some(0));
        assert_eq!(
            o.reset_wait(now),
            Some(Duration::from_secs(360)),
            "the spent one"
        );
        // The wait a caller is told is capped as every wait a server names.
        assert_eq!(o.wait_at(now), Some(Duration::from_secs(60)));

        let r = RateLimits::from_headers_at(
            &headers(&[
                ("X-RateLimit-Limit", "20"),
                ("X-RateLimit-Remaining", "0"),
                ("X-RateLimit-Reset", "1780000005000"),
            ]),
            now,
        );
        assert_eq!(
            r.requests.unwrap().reset,
            Some(now + Duration::from_secs(5))
        );
        assert_eq!(r.wait_at(now), Some(Duration::from_secs(5)));

        let none = RateLimits::from_headers_at(&headers(&[("x-request-id", "r")]), now);
        assert!(none.is_empty());
        assert_eq!(none.wait_at(now), None);
        // A reset in the past waits nothing; garbage is ignored.
        let past = RateLimits::from_headers_at(
            &headers(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "1000000000000"),
            ]),
            now,
        );
        assert_eq!(past.wait_at(now), Some(Duration::ZERO));
        let junk =
            RateLimits::from_headers_at(&headers(&[("x-ratelimit-reset-requests", "soon")]), now);
        assert!(junk.is_empty());
        // A count that is not a number is unknown, not spent: no wait for its reset.
        let unknown = RateLimits::from_headers_at(
            &headers(&[
                ("x-ratelimit-remaining-requests", "lots"),
                ("x-ratelimit-reset-requests", "20s"),
            ]),
            now,
        );
        assert_eq!(unknown.requests.unwrap().remaining, None);
        assert_eq!(unknown.wait_at(now), None);
    }

    #[test]
    fn far_off_resets_in_every_family_are_read_and_every_wait_is_capped_alike() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_000_000);
        for (name, value) in [
            ("anthropic-ratelimit-requests-reset", "9999-12-31T23:59:59Z"),
            ("x-ratelimit-reset-requests", "8000h"),
            ("x-ratelimit-reset", "18446744073709551615"),
            ("x-ratelimit-reset", "99999999999999"),
        ] {
            let remaining = if name.starts_with("anthropic") {
                "anthropic-ratelimit-requests-remaining"
            } else if name == "x-ratelimit-reset" {
                "x-ratelimit-remaining"
            } else {
                "x-ratelimit-remaining-requests"
            };
            let l = RateLimits::from_headers_at(&headers(&[(name, value), (remaining, "0")]), now);
            assert!(l.requests.unwrap().reset.is_some(), "{name}: {value}");
            assert!(l.reset_wait(now).unwrap() > Duration::from_secs(86_400));
            assert_eq!(
                l.wait_at(now),
                Some(Duration::from_secs(60)),
                "{name}: {value}"
            );
        }
        // Near: the wait capped all the same.
        let l = RateLimits::from_headers_at(
            &headers(&[
                ("anthropic-ratelimit-requests-remaining", "0"),
                ("anthropic-ratelimit-requests-reset", "2026-06-27T00:00:00Z"),
            ]),
            now,
        );
        assert!(l.requests.unwrap().reset.is_some());
        assert_eq!(l.wait_at(now), Some(Duration::from_secs(60)));
    }
}
