//! Timestamps as the vendor writes and reads them: ISO 8601 in UTC, written with microseconds
//! and `+00:00`; read with or without a fraction, with `Z`, an offset, or none (UTC). The
//! calendar and the parser are the `time` crate's, the client's own.

use std::time::{Duration, SystemTime};

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime};

/// `t` plus `d`, or a day far off when that is past what a `SystemTime` holds (a set-up may ask
/// for `Duration::MAX`): 9999-12-31T23:59:59Z, the last second a four-digit year writes.
pub(crate) fn later(t: SystemTime, d: Duration) -> SystemTime {
    t.checked_add(d)
        .unwrap_or_else(|| SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_799))
}

/// `t` as the vendor writes batch timestamps: ISO 8601, microseconds, `+00:00`.
pub(crate) fn timestamp(t: SystemTime) -> String {
    let t = utc(t);
    format!("{}.{:06}+00:00", seconds(t), t.microsecond())
}

/// `t` as the vendor writes the account's timestamps: ISO 8601, milliseconds, `Z`.
pub(crate) fn timestamp_z(t: SystemTime) -> String {
    let t = utc(t);
    format!("{}.{:03}Z", seconds(t), t.millisecond())
}

/// `t` on the calendar in UTC: 1970's first instant for a time before it, year 9999's last for
/// one past it.
fn utc(t: SystemTime) -> OffsetDateTime {
    let since = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    i128::try_from(since.as_nanos())
        .ok()
        .and_then(|n| OffsetDateTime::from_unix_timestamp_nanos(n).ok())
        .unwrap_or(PrimitiveDateTime::MAX.assume_utc())
}

/// `YYYY-MM-DDTHH:MM:SS` of `t`.
fn seconds(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A timestamp a caller sent: `YYYY-MM-DD`, or that with `THH:MM[:SS[.fraction]]`, then `Z`,
/// `±HH:MM` or nothing (UTC). `None` for anything else: a date the calendar lacks (February
/// 30), a leap second, an offset of 24 hours or more, or a time before 1970.
pub(crate) fn parse(text: &str) -> Option<SystemTime> {
    // What a caller may leave out is filled in (midnight, no seconds, UTC), and what that makes
    // is read as RFC 3339.
    if !text.is_ascii() {
        return None;
    }
    let mut full = String::with_capacity(text.len() + 9);
    full.push_str(text);
    if full.len() == 10 {
        full.push_str("T00:00");
    }
    if full.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    let minutes_end = full.as_bytes().get(16);
    if full.len() >= 16 && matches!(minutes_end, None | Some(b'Z' | b'z' | b'+' | b'-')) {
        full.insert_str(16, ":00");
    }
    if full.get(17..19) == Some("60") {
        return None;
    }
    let fraction = full.get(19..).map_or(0, |rest| {
        rest.strip_prefix('.')
            .map_or(0, |f| 1 + f.bytes().take_while(u8::is_ascii_digit).count())
    });
    if full.len() == 19 + fraction {
        full.push('Z');
    }
    let t = OffsetDateTime::parse(&full, &Rfc3339).ok()?;
    let secs = u64::try_from(t.unix_timestamp()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::new(secs, t.nanosecond()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_written_as_the_vendor_writes_them() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_micros(1_777_915_657_468_424);
        assert_eq!(timestamp(t), "2026-05-04T17:27:37.468424+00:00");
        assert_eq!(
            timestamp(SystemTime::UNIX_EPOCH),
            "1970-01-01T00:00:00.000000+00:00"
        );
        assert_eq!(timestamp_z(t), "2026-05-04T17:27:37.468Z");
    }

    #[test]
    fn what_is_written_reads_back_and_every_form_a_caller_sends_reads() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_micros(1_777_915_657_468_424);
        assert_eq!(parse(&timestamp(t)), Some(t));
        let at = |s| parse(s).map(|t| t.duration_since(SystemTime::UNIX_EPOCH).unwrap());
        assert_eq!(at("2026-05-04"), Some(Duration::from_secs(1_777_852_800)));
        assert_eq!(
            at("2026-05-04T17:27:37Z"),
            Some(Duration::from_secs(1_777_915_657))
        );
        assert_eq!(
            at("2026-05-04T17:27"),
            Some(Duration::from_secs(1_777_915_620))
        );
        assert_eq!(
            at("2026-05-04T20:27:37+03:00"),
            Some(Duration::from_secs(1_777_915_657))
        );
        for bad in [
            "",
            "2026-5-4",
            "2026-13-01",
            "2026-05-04T25:00",
            "2026-05-04 17:27",
            "yesterday",
            "2026-05-04T17:27:37.Z",
            "1969-12-31",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_the_calendar_lacks_and_offsets_past_a_day_are_refused() {
        let at = |s| parse(s).map(|t| t.duration_since(SystemTime::UNIX_EPOCH).unwrap());
        assert!(parse("2028-02-29").is_some());
        assert!(parse("2000-02-29T12:00Z").is_some());
        for bad in [
            "2026-02-30",
            "2026-02-29",
            "2100-02-29",
            "2026-04-31T00:00",
            "2026-02-30T00:00:00Z",
            "2026-05-04T12:00:00+24:00",
            "2026-05-04T12:00:00+99:99",
            "2026-05-04T12:00:00-00:60",
            "2026-05-04T12:00:60Z",
            "2026-06-30T23:59:60Z",
            "2026-05-04T17:27.5",
            "2026-05-04T17:27:37+03",
            "2026-05-04t17:27:37Z",
            "2026-05-04T17:27:37Z ",
            "2026-05-04T17:2\u{e9}",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        // The forms with a part left out read as the whole form does.
        let whole = Some(Duration::from_secs(1_777_915_620));
        for same in [
            "2026-05-04T17:27",
            "2026-05-04T17:27Z",
            "2026-05-04T17:27z",
            "2026-05-04T20:27+03:00",
            "2026-05-04T17:27:00",
            "2026-05-04T17:27:00.000",
            "2026-05-04T17:27:00.000-00:00",
        ] {
            assert_eq!(at(same), whole, "{same}");
        }
        assert_eq!(
            at("2026-05-04T17:27:37.5"),
            Some(Duration::from_millis(1_777_915_657_500))
        );
    }

    #[test]
    fn the_farthest_day_is_written_and_reads_back() {
        let far = later(SystemTime::now(), Duration::MAX);
        assert_eq!(timestamp(far), "9999-12-31T23:59:59.000000+00:00");
        assert_eq!(timestamp_z(far), "9999-12-31T23:59:59.000Z");
        assert_eq!(parse(&timestamp(far)), Some(far));
        let past = SystemTime::UNIX_EPOCH + Duration::from_secs(400_000_000_000);
        assert_eq!(timestamp(past), "9999-12-31T23:59:59.999999+00:00");
        let before = SystemTime::UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(timestamp_z(before), "1970-01-01T00:00:00.000Z");
    }
}
