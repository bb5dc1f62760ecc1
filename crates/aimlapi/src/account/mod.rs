//! The account (AI/ML API only): balance, the ledger, usage, the request log, the current key;
//! and the live model metrics, which need no key.
//!
//! ```no_run
//! # async fn run(client: aimlapi::Client) -> Result<(), aimlapi::Error> {
//! use aimlapi::account::Window;
//! use futures::TryStreamExt;
//!
//! let account = client.account();
//! let balance = account.balance().await?;
//! let week = account.usage(Window::days(7)).await?;
//! let failed: Vec<_> = account.logs(Window::hours(6)).status("failed").rows().try_collect().await?;
//! # Ok(()) }
//! ```

mod metrics;
mod pages;
mod window;

pub use metrics::{fastest, Figure, Percentile};
pub use pages::{LedgerQuery, LogsQuery};
pub use window::{Window, MAX_WINDOW};

use crate::error::Error;
use crate::transport::Transport;
use crate::types;

/// The account a client's key belongs to ([`Client::account`](crate::Client::account)): a
/// cheap handle (one `Arc`), for the AI/ML API's account routes.
#[derive(Clone, Debug)]
pub struct Account {
    transport: Transport,
}

impl Account {
    pub(crate) fn new(transport: Transport) -> Self {
        Account { transport }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.transport.base_url())
    }

    /// `GET path?query`, read as `T`; a 403 is [`ErrorKind::Forbidden`](crate::ErrorKind::Forbidden).
    pub(crate) async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        operation: &'static str,
    ) -> Result<T, Error> {
        self.transport
            .get_value(&self.url(path), query, operation, "")
            .await
            .map_err(Error::forbidden_on_account)
    }

    /// The balance (`GET /v2/billing`).
    pub async fn balance(&self) -> Result<types::Balance, Error> {
        self.get("/v2/billing", &[], "balance").await
    }

    /// The balance with the account's e-mail and top-up settings (`GET /v2/billing/detail`).
    pub async fn billing_detail(&self) -> Result<types::BillingDetail, Error> {
        self.get("/v2/billing/detail", &[], "billing_detail").await
    }

    /// The ledger (`GET /v2/billing/transactions`), newest first, paged by its cursor: build the
    /// query, then read its [`rows`](LedgerQuery::rows). A regular key's route: a management key
    /// gets [`ErrorKind::Forbidden`](crate::ErrorKind::Forbidden).
    pub fn ledger(&self) -> LedgerQuery {
        LedgerQuery::new(self.clone())
    }

    /// What this key spent over `window` (`GET /v2/usage`): charged calls only.
    pub async fn usage(&self, window: Window) -> Result<types::KeyUsage, Error> {
        self.get("/v2/usage", &window.query()?, "usage").await
    }

    /// What this key spent over `window`, by model (`GET /v2/usage/detail`); with `group_by`
    /// (`"day"`, `"model"`, `"day,model"`), by group too, days in `tz` (an IANA zone name; UTC
    /// when `None`).
    pub async fn usage_detail(
        &self,
        window: Window,
        group_by: Option<&str>,
        tz: Option<&str>,
    ) -> Result<types::KeyUsageDetail, Error> {
        let mut query = window.query()?;
        query.extend(group_by.map(|g| ("group_by", g.to_string())));
        query.extend(tz.map(|t| ("tz", t.to_string())));
        self.get("/v2/usage/detail", &query, "usage_detail").await
    }

    /// The request log over `window` (`GET /v2/logs`), newest first, failed calls included (at
    /// cost 0): build the query (models, statuses), then read its [`rows`](LogsQuery::rows).
    pub fn logs(&self, window: Window) -> LogsQuery {
        LogsQuery::new(self.clone(), window)
    }

    /// The key this client calls with (`GET /v1/key`).
    pub async fn key(&self) -> Result<types::ApiKey, Error> {
        let answer: types::ApiKeyAnswer = self.get("/v1/key", &[], "key").await?;
        answer.data.ok_or_else(|| Error::Decode {
            message: "the key route answered without `data`".into(),
            body: String::new(),
        })
    }

    /// The live model metrics (`GET /models/metrics`, no key): latency and speed over the last
    /// few minutes, of the models named in `aliases` (all when empty). A model with no
    /// successful request in the window is absent: no data, not zero.
    pub async fn model_metrics(&self, aliases: &[&str]) -> Result<types::MetricsReport, Error> {
        let query: Vec<(&str, String)> =
            aliases.iter().map(|a| ("aliases", a.to_string())).collect();
        self.get("/models/metrics", &query, "model_metrics").await
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }
}
