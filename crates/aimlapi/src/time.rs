//! Timestamps as the servers write them: ISO 8601 / RFC 3339 in UTC, read and written here
//! with no dependency (a civil date from days since 1970 and back, Howard Hinnant's algorithms).

use std::time::{Duration, SystemTime};

/// The longest wait a server may ask for (`Retry-After`) and be heard: a year. A longer ask (or
/// one no [`Duration`] can hold) is read as not given, as negative or unreadable ones are. What
/// a client then waits, for an ask or a rate limit's reset however far off, is capped by its
/// retry policy's `max_retry_after` in every case.
pub(crate) const FARTHEST: Duration = Duration::from_secs(365 * 24 * 3600);

/// The retry policy's default `max_retry_after`: the cap of every wait a server names, and of
/// [`RateLimits::wait_at`](crate::rate_limits::RateLimits::wait_at), which knows no client's policy.
pub(crate) const DEFAULT_WAIT_CAP: Duration = Duration::from_secs(60);

/// `t` in UTC as ISO 8601 with milliseconds and `Z`, as the account routes write theirs.
pub(crate) fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // The civil date of a day counted from 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        d.subsec_millis()
    )
}

/// A timestamp a server sent: `YYYY-MM-DDTHH:MM:SS[.fraction]` then `Z` or `±HH:MM` (RFC 3339),
/// or a date alone (UTC). `None` for anything else, or a time before 1970.
pub(crate) fn parse_timestamp(text: &str) -> Option<SystemTime> {
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let b = text.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&month) || !(1..=days_in_month(year, month)).contains(&day) {
        return None;
    }
    // Days from 1970-01-01 of a civil date (the inverse of the algorithm in `timestamp`).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let mut secs = days * 86_400;
    let mut nanos = 0u32;
    let mut rest = &text[10..];
    if let Some(time) = rest.strip_prefix(['T', 't', ' ']) {
        let t = time.as_bytes();
        if t.len() < 8 || t[2] != b':' || t[5] != b':' {
            return None;
        }
        let (h, m, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
        // No leap second: the servers write none, and a time that names one is refused
        // rather than read as the next minute.
        if h > 23 || m > 59 || s > 59 {
            return None;
        }
        secs += h * 3600 + m * 60 + s;
        let mut used = 8;
        if t.get(8) == Some(&b'.') {
            let digits = time[9..].bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            nanos = format!("{:0<9}", &time[9..9 + digits.min(9)])
                .parse()
                .ok()?;
            used = 9 + digits;
        }
        rest = &time[used..];
    }
    match rest {
        "" | "Z" | "z" => {}
        offset => {
            let o = offset.as_bytes();
            if o.len() != 6 || o[3] != b':' || !matches!(o[0], b'+' | b'-') {
                return None;
            }
            let at = text.len() - 6;
            let (oh, om) = (num(at + 1..at + 3)?, num(at + 4..at + 6)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let minutes = oh * 60 + om;
            secs -= if o[0] == b'+' { minutes } else { -minutes } * 60;
        }
    }
    let secs = u64::try_from(secs).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::new(secs, nanos))
}

/// The days of `month` (1 to 12) in `year`, by the Gregorian calendar.
fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
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
}
