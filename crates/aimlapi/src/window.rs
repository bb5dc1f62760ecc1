//! [`Window`]: the span of time the usage and log routes report on, checked before sending.

use std::time::{Duration, SystemTime};

use crate::error::Error;
use crate::time::timestamp;

/// The longest window the vendor reports on in one request.
pub const MAX_WINDOW: Duration = Duration::from_secs(92 * 86_400);

/// The span a usage or log request covers: the last so many hours or days, or a start and an end.
/// At most 92 days ([`MAX_WINDOW`]); a longer one is refused before sending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Hours(u32),
    Days(u32),
    Between(SystemTime, SystemTime),
}

impl Window {
    /// The last `n` hours (`period=<n>h`).
    pub fn hours(n: u32) -> Self {
        Window {
            kind: Kind::Hours(n),
        }
    }

    /// The last `n` days (`period=<n>d`).
    pub fn days(n: u32) -> Self {
        Window {
            kind: Kind::Days(n),
        }
    }

    /// From `start` up to `end` (`start=..&end=..`, UTC).
    pub fn between(start: SystemTime, end: SystemTime) -> Self {
        Window {
            kind: Kind::Between(start, end),
        }
    }

    /// How long the window is, or why it cannot be sent.
    pub fn span(&self) -> Result<Duration, Error> {
        let span = match self.kind {
            Kind::Hours(n) => Duration::from_secs(u64::from(n) * 3600),
            Kind::Days(n) => Duration::from_secs(u64::from(n) * 86_400),
            Kind::Between(start, end) => end.duration_since(start).map_err(|_| {
                Error::InvalidRequest("the window's end is before its start".into())
            })?,
        };
        if span.is_zero() {
            return Err(Error::InvalidRequest("the window is empty".into()));
        }
        if span > MAX_WINDOW {
            return Err(Error::InvalidRequest(format!(
                "the window is {} days; the account routes report on at most 92 days a request \
                 (ask for several windows and add them up)",
                span.as_secs().div_ceil(86_400)
            )));
        }
        Ok(span)
    }

    /// The query parameters, checked: `period`, or `start` and `end`.
    pub(crate) fn query(&self) -> Result<Vec<(&'static str, String)>, Error> {
        self.span()?;
        Ok(match self.kind {
            Kind::Hours(n) => vec![("period", format!("{n}h"))],
            Kind::Days(n) => vec![("period", format!("{n}d"))],
            Kind::Between(start, end) => vec![("start", timestamp(start)), ("end", timestamp(end))],
        })
    }

    /// The same span fixed to start and end times, ending `now` for a relative one: what paging
    /// sends, so that calls landing while it pages do not shift the rows.
    /// The end is `now` rounded up to the millisecond the routes write, so that a call answered
    /// just before is inside it.
    pub(crate) fn fixed(&self, now: SystemTime) -> Result<Window, Error> {
        let span = self.span()?;
        Ok(match self.kind {
            Kind::Between(..) => *self,
            _ => {
                let since = now
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap_or_default();
                let ms = since.as_nanos().div_ceil(1_000_000);
                let end = SystemTime::UNIX_EPOCH
                    + Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX));
                Window::between(end.checked_sub(span).unwrap_or(SystemTime::UNIX_EPOCH), end)
            }
        })
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            Kind::Hours(n) => write!(f, "the last {n} hours"),
            Kind::Days(n) => write!(f, "the last {n} days"),
            Kind::Between(start, end) => write!(f, "{} to {}", timestamp(start), timestamp(end)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_written_as_the_routes_read_them_and_checked_first() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_777_915_657_468);
        assert_eq!(
            Window::days(7).query().unwrap(),
            [("period", "7d".to_string())]
        );
        assert_eq!(
            Window::hours(24).query().unwrap(),
            [("period", "24h".to_string())]
        );
        let day = Duration::from_secs(86_400);
        let q = Window::between(t - day, t).query().unwrap();
        assert_eq!(q[0], ("start", "2026-05-03T17:27:37.468Z".to_string()));
        assert!(Window::days(92).query().is_ok());
        for bad in [
            Window::days(93),
            Window::days(0),
            Window::between(t, t - day),
            Window::between(t - 93 * day, t),
        ] {
            let e = bad.query().unwrap_err();
            assert_eq!(e.kind(), crate::error::ErrorKind::InvalidRequest, "{bad:?}");
        }
        assert!(Window::days(93)
            .query()
            .unwrap_err()
            .to_string()
            .contains("92 days"));
        let fixed = Window::days(1).fixed(t).unwrap();
        assert_eq!(fixed, Window::between(t - day, t));
        let later = t + Duration::from_micros(1);
        let ms = Duration::from_millis(1);
        assert_eq!(
            Window::days(1).fixed(later).unwrap(),
            Window::between(t + ms - day, t + ms)
        );
    }
}
