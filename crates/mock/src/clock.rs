//! Timestamps as the vendor writes and reads them: ISO 8601 in UTC, written with microseconds
//! and `+00:00`; read with or without a fraction, with `Z`, an offset, or none (UTC).

use std::time::{Duration, SystemTime};

/// `t` plus `d`, or a day far off when that is past what a `SystemTime` holds (a set-up may ask
/// for `Duration::MAX`).
pub(crate) fn later(t: SystemTime, d: Duration) -> SystemTime {
    t.checked_add(d)
        .unwrap_or_else(|| SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_799))
}

/// `t` as the vendor writes batch timestamps: ISO 8601, microseconds, `+00:00`.
pub(crate) fn timestamp(t: SystemTime) -> String {
    let (date, d) = civil(t);
    format!("{date}.{:06}+00:00", d.subsec_micros())
}

/// `t` as the vendor writes the account's timestamps: ISO 8601, milliseconds, `Z`.
pub(crate) fn timestamp_z(t: SystemTime) -> String {
    let (date, d) = civil(t);
    format!("{date}.{:03}Z", d.subsec_millis())
}

/// `YYYY-MM-DDTHH:MM:SS` of `t` in UTC, and `t` since the epoch.
fn civil(t: SystemTime) -> (String, Duration) {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let date = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    );
    (date, d)
}

/// A timestamp a caller sent: `YYYY-MM-DD`, or that with `THH:MM[:SS[.fraction]]`, then `Z`,
/// `±HH:MM` or nothing (UTC). `None` for anything else, or a time before 1970.
pub(crate) fn parse(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut secs = days_from_civil(year, month, day) * 86_400;
    let mut nanos = 0u32;
    let mut rest = &text[10..];
    if let Some(time) = rest.strip_prefix('T') {
        let tb = time.as_bytes();
        if tb.len() < 5 || tb[2] != b':' {
            return None;
        }
        let (h, m) = (num(11..13)?, num(14..16)?);
        let mut used = 5;
        let mut s = 0;
        if tb.get(5) == Some(&b':') {
            s = num(17..19)?;
            used = 8;
            if tb.get(8) == Some(&b'.') {
                let digits = time[9..].bytes().take_while(u8::is_ascii_digit).count();
                if digits == 0 {
                    return None;
                }
                let frac = &time[9..9 + digits.min(9)];
                nanos = format!("{frac:0<9}").parse().ok()?;
                used = 9 + digits;
            }
        }
        if h > 23 || m > 59 || s > 60 {
            return None;
        }
        secs += h * 3600 + m * 60 + s;
        rest = &time[used..];
    }
    match rest {
        "" | "Z" | "z" => {}
        offset => {
            let ob = offset.as_bytes();
            if ob.len() != 6 || ob[3] != b':' || !matches!(ob[0], b'+' | b'-') {
                return None;
            }
            let at = text.len() - 6;
            let minutes = num(at + 1..at + 3)? * 60 + num(at + 4..at + 6)?;
            secs -= if ob[0] == b'+' { minutes } else { -minutes } * 60;
        }
    }
    let secs = u64::try_from(secs).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::new(secs, nanos))
}

/// The civil date of a day counted from 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// The day counted from 1970-01-01 of a civil date (the inverse of [`civil_from_days`]).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
}
