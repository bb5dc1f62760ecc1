//! The account's two long lists as streams of rows, paged to the end: the ledger by its cursor
//! (never by offset: the ledger grows at its head), the request log by offset over a window fixed
//! when the first page is asked for (so calls that land while it pages do not shift its rows).

use std::collections::{HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::time::SystemTime;

use futures::stream::{self, BoxStream, StreamExt};

use super::{Account, Window};
use crate::error::Error;
use aimlapi_types as types;

/// The most rows a page of either list holds.
const MOST: u8 = 100;

/// A query of the ledger ([`Account::ledger`]).
#[derive(Clone, Debug)]
pub struct LedgerQuery {
    account: Account,
    from: Option<SystemTime>,
    to: Option<SystemTime>,
    direction: Option<String>,
    kind: Option<String>,
    page_size: u8,
}

impl LedgerQuery {
    pub(super) fn new(account: Account) -> Self {
        LedgerQuery {
            account,
            from: None,
            to: None,
            direction: None,
            kind: None,
            page_size: MOST,
        }
    }

    /// Entries from this time on.
    pub fn from(mut self, t: SystemTime) -> Self {
        self.from = Some(t);
        self
    }

    /// Entries before this time.
    pub fn to(mut self, t: SystemTime) -> Self {
        self.to = Some(t);
        self
    }

    /// Only `"CHARGE"` or `"TOPUP"` entries.
    pub fn direction(mut self, direction: impl Into<String>) -> Self {
        self.direction = Some(direction.into());
        self
    }

    /// Only entries of this type (`"MODEL_USAGE"`, ...).
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }

    /// Rows asked for per request: 1 to 100 (default 100; outside, the nearest).
    pub fn page_size(mut self, n: u8) -> Self {
        self.page_size = n.clamp(1, MOST);
        self
    }

    fn query(&self, cursor: Option<&str>) -> Vec<(&'static str, String)> {
        let mut q = vec![("limit", self.page_size.to_string())];
        q.extend(self.from.map(|t| ("from", crate::time::timestamp(t))));
        q.extend(self.to.map(|t| ("to", crate::time::timestamp(t))));
        q.extend(self.direction.clone().map(|d| ("direction", d)));
        q.extend(self.kind.clone().map(|k| ("type", k)));
        q.extend(cursor.map(|c| ("cursor", c.to_string())));
        q
    }

    /// Every entry, newest first, page after page; after an error, nothing more. Paging ends
    /// where the ledger says (`has_more` false, no cursor, or an empty one); a cursor given
    /// again, or a page whose rows were all given already, ends it with [`Error::Paging`].
    pub fn rows(self) -> BoxStream<'static, Result<types::LedgerEntry, Error>> {
        pages(ROUTE_LEDGER, self, |q, cursor: Option<String>| async move {
            let page: types::LedgerPage = q
                .account
                .get(ROUTE_LEDGER, &q.query(cursor.as_deref()), "ledger")
                .await?;
            let next = page
                .pagination
                .filter(|p| p.has_more != Some(false))
                .and_then(|p| p.next_cursor)
                .filter(|c| !c.is_empty());
            Ok((page.data.unwrap_or_default(), next))
        })
    }
}

const ROUTE_LEDGER: &str = "/v2/billing/transactions";
const ROUTE_LOGS: &str = "/v2/logs";

/// A query of the request log ([`Account::logs`]).
#[derive(Clone, Debug)]
pub struct LogsQuery {
    account: Account,
    window: Window,
    models: Vec<String>,
    statuses: Vec<String>,
    key_prefix: Option<String>,
    page_size: u8,
}

impl LogsQuery {
    pub(super) fn new(account: Account, window: Window) -> Self {
        LogsQuery {
            account,
            window,
            models: Vec::new(),
            statuses: Vec::new(),
            key_prefix: None,
            page_size: MOST,
        }
    }

    /// Only calls to this model; given again, to any of them (sent as a repeated parameter:
    /// the route reads `a,b` as one name).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.models.push(model.into());
        self
    }

    /// Only calls of this status (`"succeeded"`, `"failed"`); given again, of any of them.
    pub fn status(mut self, status: impl Into<String>) -> Self {
        self.statuses.push(status.into());
        self
    }

    /// Another key's calls, by its prefix (a management key only; a regular key gets
    /// [`ErrorKind::Forbidden`](crate::ErrorKind::Forbidden)).
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = Some(prefix.into());
        self
    }

    /// Rows asked for per request: 1 to 100 (default 100; outside, the nearest).
    pub fn page_size(mut self, n: u8) -> Self {
        self.page_size = n.clamp(1, MOST);
        self
    }

    fn query(&self, window: &Window, offset: usize) -> Result<Vec<(&'static str, String)>, Error> {
        let mut q = window.query()?;
        q.extend(self.models.iter().map(|m| ("model", m.clone())));
        q.extend(self.statuses.iter().map(|s| ("status", s.clone())));
        q.extend(self.key_prefix.clone().map(|p| ("key_prefix", p)));
        q.push(("limit", self.page_size.to_string()));
        q.push(("offset", offset.to_string()));
        Ok(q)
    }

    /// Every call in the window, newest first, page after page, at most 200 requests a minute
    /// (the route's limit, kept by every handle of the client); after an error, nothing more.
    pub fn rows(self) -> BoxStream<'static, Result<types::LogEntry, Error>> {
        let window = match self.window.fixed(SystemTime::now()) {
            Ok(window) => window,
            Err(e) => return stream::once(async { Err(e) }).boxed(),
        };
        pages(
            ROUTE_LOGS,
            self,
            move |q, offset: Option<usize>| async move {
                let offset = offset.unwrap_or(0);
                let query = q.query(&window, offset)?;
                q.account.transport().log_reads().wait().await;
                let page: types::LogPage = q.account.get(ROUTE_LOGS, &query, "logs").await?;
                let rows = page.data.unwrap_or_default();
                let after = offset.saturating_add(rows.len());
                let (has_more, total) = page
                    .pagination
                    .map_or((None, None), |p| (p.has_more, p.total));
                // More when the page says so (or, saying nothing, is full), and the total, when
                // given, is not reached: either one saying "done" ends the paging.
                let more = has_more.unwrap_or(rows.len() == usize::from(q.page_size))
                    && total.is_none_or(|t| u64::try_from(t).is_ok_and(|t| (after as u64) < t));
                let next = (more && !rows.is_empty()).then_some(after);
                Ok((rows, next))
            },
        )
    }
}

/// The rows of every page of `route`, asking `page(query, position)` for the first page
/// (position `None`) and then for each position a page gave, until one gives none. A position
/// given twice, or a page that would lead on but adds no row not given already, ends the
/// stream with [`Error::Paging`]: a server that does either would otherwise be paged forever.
fn pages<Q, P, T, F, Fut>(
    route: &'static str,
    query: Q,
    page: F,
) -> BoxStream<'static, Result<T, Error>>
where
    Q: Clone + Send + 'static,
    P: Clone + Eq + Hash + std::fmt::Debug + Send + 'static,
    T: serde::Serialize + Send + 'static,
    F: Fn(Q, Option<P>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<P>), Error>> + Send + 'static,
{
    struct State<Q, P, T, F> {
        query: Q,
        page: F,
        rows: VecDeque<T>,
        /// The next page to ask for: `Some(None)` for the first.
        next: Option<Option<P>>,
        /// The positions asked for so far.
        positions: HashSet<P>,
        /// A fingerprint of every row given so far.
        seen: HashSet<u64>,
    }
    let state = State {
        query,
        page,
        rows: VecDeque::new(),
        next: Some(None),
        positions: HashSet::new(),
        seen: HashSet::new(),
    };
    stream::unfold(state, move |mut s| async move {
        loop {
            if let Some(row) = s.rows.pop_front() {
                return Some((Ok(row), s));
            }
            let position = s.next.take()?;
            let asked = position.clone();
            match (s.page)(s.query.clone(), position).await {
                Ok((rows, next)) => {
                    let mut new = false;
                    for row in &rows {
                        new |= s.seen.insert(fingerprint(row));
                    }
                    let stop = |why: &'static str, at: &Option<P>| Error::Paging {
                        route,
                        position: at.as_ref().map_or("the first page".into(), |p| {
                            // A cursor may be long: its first 200 bytes.
                            crate::error::shortened(&format!("{p:?}"), 200)
                        }),
                        why,
                    };
                    if let Some(p) = &next {
                        if !new {
                            s.next = None;
                            return Some((Err(stop(NOTHING_NEW, &asked)), s));
                        }
                        if !s.positions.insert(p.clone()) {
                            s.next = None;
                            return Some((Err(stop(GIVEN_AGAIN, &next)), s));
                        }
                    }
                    s.rows.extend(rows);
                    s.next = next.map(Some);
                }
                Err(e) => return Some((Err(e), s)),
            }
        }
    })
    .boxed()
}

const NOTHING_NEW: &str = "the page leads on but adds no row not given already";
const GIVEN_AGAIN: &str = "the server gave this position again";

/// A row's fingerprint: a hash of it as JSON.
fn fingerprint<T: serde::Serialize>(row: &T) -> u64 {
    struct Hashing<H>(H);
    impl<H: Hasher> std::io::Write for Hashing<H> {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.write(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut h = Hashing(std::collections::hash_map::DefaultHasher::new());
    // A row that cannot be written hashes what was written of it.
    let _ = serde_json::to_writer(&mut h, row);
    h.0.finish()
}
