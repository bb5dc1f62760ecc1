//! Timestamps as the servers write them: ISO 8601 / RFC 3339 in UTC, read and written through
//! the `time` crate (its RFC 3339 parser and its calendar; no date arithmetic here).

use std::time::{Duration, SystemTime};

use ::time::format_description::well_known::Rfc3339;
use ::time::{OffsetDateTime, PrimitiveDateTime};

/// The longest wait a server may ask for (`Retry-After`) and be heard: a year. A longer ask (or
/// one no [`Duration`] can hold) is read as not given, as negative or unreadable ones are. What
/// a client then waits, for an ask or a rate limit's reset however far off, is capped by its
/// retry policy's `max_retry_after` in every case.
pub(crate) const FARTHEST: Duration = Duration::from_secs(365 * 24 * 3600);

/// The retry policy's default `max_retry_after`: the cap of every wait a server names, and of
/// [`RateLimits::wait_at`](crate::rate_limits::RateLimits::wait_at), which knows no client's policy.
pub(crate) const DEFAULT_WAIT_CAP: Duration = Duration::from_secs(60);

/// `t` in UTC as ISO 8601 with milliseconds and `Z`, as the account routes write theirs. A time
/// before 1970 is written as 1970's first instant, one past year 9999 as that year's last.
pub(crate) fn timestamp(t: SystemTime) -> String {
    let since = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let t = i128::try_from(since.as_nanos())
        .ok()
        .and_then(|n| OffsetDateTime::from_unix_timestamp_nanos(n).ok())
        .unwrap_or(PrimitiveDateTime::MAX.assume_utc());
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// A timestamp a server sent: `YYYY-MM-DD`, a separator (`T`, `t` or a space),
/// `HH:MM:SS[.fraction]`, then `Z` or `±HH:MM` (RFC 3339); or a date alone (UTC). `None` for
/// anything else: a date the calendar lacks (February 30), a leap second (the servers write
/// none, and one is refused rather than read as the end of the minute), an offset of 24 hours
/// or more, or a time before 1970.
pub(crate) fn parse_timestamp(text: &str) -> Option<SystemTime> {
    let t = if text.len() == 10 {
        // A full-date alone: midnight UTC.
        OffsetDateTime::parse(&format!("{text}T00:00:00Z"), &Rfc3339).ok()?
    } else {
        // RFC 3339 lets any character part the date from the time; the servers write `T`.
        let separated = matches!(text.as_bytes().get(10), Some(b'T' | b't' | b' '));
        if !separated || text.get(17..19) == Some("60") {
            return None;
        }
        OffsetDateTime::parse(text, &Rfc3339).ok()?
    };
    let secs = u64::try_from(t.unix_timestamp()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::new(secs, t.nanosecond()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_written_and_read_back() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_777_915_657_468);
        assert_eq!(timestamp(t), "2026-05-04T17:27:37.468Z");
        assert_eq!(parse_timestamp(&timestamp(t)), Some(t));
        assert_eq!(parse_timestamp("2026-05-04T20:27:37.468+03:00"), Some(t));
        // Leap days where the calendar has them.
        assert!(parse_timestamp("2028-02-29T00:00:00Z").is_some());
        assert!(parse_timestamp("2000-02-29").is_some());
        assert!(parse_timestamp("2100-02-29").is_none());
        assert!(parse_timestamp("2026-05-04T12:00:00-23:59").is_some());
        for bad in [
            "",
            "2026-05-04T17:27",
            "2026-13-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "yesterday",
            "2026-02-30T00:00:00Z",
            "2026-02-29",
            "2026-04-31T00:00:00Z",
            "2026-05-04T23:59:60Z",
            "2026-05-04T12:00:00+99:99",
            "2026-05-04T12:00:00+24:00",
            "2026-05-04T12:00:00-00:60",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_form_rfc_3339_allows_reads_and_nothing_past_it() {
        let at = |s| parse_timestamp(s).map(|t| t.duration_since(SystemTime::UNIX_EPOCH).unwrap());
        let whole = Some(Duration::from_secs(1_777_915_657));
        for same in [
            "2026-05-04T17:27:37Z",
            "2026-05-04t17:27:37z",
            "2026-05-04 17:27:37Z",
            "2026-05-04T17:27:37+00:00",
            "2026-05-04T17:27:37-00:00",
            "2026-05-04T12:57:37-04:30",
        ] {
            assert_eq!(at(same), whole, "{same}");
        }
        assert_eq!(
            at("2026-05-04T17:27:37.5Z"),
            Some(Duration::from_millis(1_777_915_657_500))
        );
        // Nine digits are a nanosecond; more are cut, not rounded.
        assert_eq!(
            at("2026-05-04T17:27:37.1234567899Z"),
            Some(Duration::new(1_777_915_657, 123_456_789))
        );
        assert_eq!(at("1970-01-01"), Some(Duration::ZERO));
        for bad in [
            "2026-05-04x17:27:37Z",
            "20260504T172737Z",
            "2026-05-04T17:27:37",
            "2026-05-04T17:27:37+03",
            "2026-05-04T17:27:37+0300",
            "2026-05-04T17:27:37.Z",
            "2026-05-04T17:27:37Z[UTC]",
            "2026-05-04T17:27:37Z ",
            "+002026-05-04T17:27:37Z",
            // A leap second where one may fall is refused too.
            "2026-06-30T23:59:60Z",
            "2026-05-04T17:27:37\u{e9}",
            "2026-05-\u{e9}",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn times_past_the_calendar_are_written_at_its_ends() {
        assert_eq!(
            timestamp(SystemTime::UNIX_EPOCH),
            "1970-01-01T00:00:00.000Z"
        );
        let before = SystemTime::UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(timestamp(before), "1970-01-01T00:00:00.000Z");
        let far = SystemTime::UNIX_EPOCH + Duration::from_secs(400_000_000_000);
        assert_eq!(timestamp(far), "9999-12-31T23:59:59.999Z");
        assert!(parse_timestamp(&timestamp(far)).is_some());
    }
}
