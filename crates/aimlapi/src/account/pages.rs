//! The account's two long lists as streams of rows, paged to the end: the ledger by its cursor
//! (never by offset: the ledger grows at its head), the request log by offset over a window fixed
//! when the first page is asked for (so calls that land while it pages do not shift its rows).

use std::collections::VecDeque;
use std::time::SystemTime;

use futures::stream::{self, BoxStream, StreamExt};

use super::{Account, Window};
use crate::error::Error;
use crate::types;

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

    /// Every entry, newest first, page after page; after an error, nothing more.
    pub fn rows(self) -> BoxStream<'static, Result<types::LedgerEntry, Error>> {
        pages(self, |q, cursor: Option<String>| async move {
            let page: types::LedgerPage = q
                .account
                .get(
                    "/v2/billing/transactions",
                    &q.query(cursor.as_deref()),
                    "ledger",
                )
                .await?;
            let next = page
                .pagination
                .filter(|p| p.has_more != Some(false))
                .and_then(|p| p.next_cursor);
            Ok((page.data.unwrap_or_default(), next))
        })
    }
}

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
        pages(self, move |q, offset: Option<usize>| async move {
            let offset = offset.unwrap_or(0);
            let query = q.query(&window, offset)?;
            q.account.transport().log_reads().wait().await;
            let page: types::LogPage = q.account.get("/v2/logs", &query, "logs").await?;
            let rows = page.data.unwrap_or_default();
            let more = page
                .pagination
                .and_then(|p| p.has_more)
                .unwrap_or(rows.len() == usize::from(q.page_size));
            let next = (more && !rows.is_empty()).then_some(offset + rows.len());
            Ok((rows, next))
        })
    }
}

/// The rows of every page, asking `page(query, position)` for the first page (position `None`)
/// and then for each position a page gave, until one gives none.
fn pages<Q, P, T, F, Fut>(query: Q, page: F) -> BoxStream<'static, Result<T, Error>>
where
    Q: Clone + Send + 'static,
    P: Send + 'static,
    T: Send + 'static,
    F: Fn(Q, Option<P>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<P>), Error>> + Send + 'static,
{
    struct State<Q, P, T, F> {
        query: Q,
        page: F,
        rows: VecDeque<T>,
        /// The next page to ask for: `Some(None)` for the first.
        next: Option<Option<P>>,
    }
    let state = State {
        query,
        page,
        rows: VecDeque::new(),
        next: Some(None),
    };
    stream::unfold(state, |mut s| async move {
        loop {
            if let Some(row) = s.rows.pop_front() {
                return Some((Ok(row), s));
            }
            let position = s.next.take()?;
            match (s.page)(s.query.clone(), position).await {
                Ok((rows, next)) => {
                    s.rows.extend(rows);
                    s.next = next.map(Some);
                }
                Err(e) => return Some((Err(e), s)),
            }
        }
    })
    .boxed()
}
