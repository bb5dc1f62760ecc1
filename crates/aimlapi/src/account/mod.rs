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

pub use crate::window::{Window, MAX_WINDOW};
pub use metrics::{fastest, Figure, Percentile};
pub use pages::{LedgerQuery, LogsQuery};

use std::time::{Duration, SystemTime};

use futures::future::ready;
use futures::TryStreamExt;

use crate::error::Error;
use crate::http::meta::ResponseMeta;
use crate::poll::{Asked, Expired, Pauses, Polling};
use crate::transport::Transport;
use aimlapi_types as types;

/// How far back [`Account::charge_of`] and [`Account::log_row_of`] look for a call.
const LOOKBACK: Duration = Duration::from_secs(24 * 3600);

/// What the ledger says one call was charged ([`Account::charge_of`]).
#[derive(Clone, Debug)]
pub enum Charge {
    /// The ledger's entry for the call.
    Landed(types::LedgerEntry),
    /// No entry yet after waiting this long: the charge lands after the answer (this is not
    /// "free").
    NotYet {
        /// How long the ledger was watched.
        waited: Duration,
    },
}

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
        self.transport.account_get(path, query, operation).await
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
        answer.data.ok_or_else(|| no_data("key"))
    }

    /// The live model metrics (`GET /models/metrics`, no key): latency and speed over the last
    /// few minutes, of the models named in `aliases` (all when empty). A model with no
    /// successful request in the window is absent: no data, not zero.
    pub async fn model_metrics(&self, aliases: &[&str]) -> Result<types::MetricsReport, Error> {
        let query: Vec<(&str, String)> =
            aliases.iter().map(|a| ("aliases", a.to_string())).collect();
        self.get("/models/metrics", &query, "model_metrics").await
    }

    /// The ledger's charge for the call `meta` came with, found by its `x-inference-id` (the
    /// entry's `reference_id`) among the last day's charges; as the charge lands a moment after
    /// the answer, the ledger is read again with growing pauses for up to `wait`, then
    /// [`Charge::NotYet`].
    pub async fn charge_of(&self, meta: &ResponseMeta, wait: Duration) -> Result<Charge, Error> {
        let id = inference_id(meta)?;
        let found = watch(wait, || {
            let since = SystemTime::now()
                .checked_sub(LOOKBACK)
                .unwrap_or(SystemTime::UNIX_EPOCH);
            let rows = self.ledger().kind("MODEL_USAGE").from(since).rows();
            let mut found =
                rows.try_filter(move |row| ready(row.reference_id.as_deref() == Some(id)));
            async move { found.try_next().await }
        })
        .await?;
        Ok(match found {
            Some(entry) => Charge::Landed(entry),
            None => Charge::NotYet { waited: wait },
        })
    }

    /// The request log's row for the call `meta` came with, found by its `x-inference-id` among
    /// the last day's calls, read again with growing pauses for up to `wait`; `None` when it has
    /// not appeared by then.
    pub async fn log_row_of(
        &self,
        meta: &ResponseMeta,
        wait: Duration,
    ) -> Result<Option<types::LogEntry>, Error> {
        let id = inference_id(meta)?;
        watch(wait, || {
            let rows = self.logs(Window::hours(24)).rows();
            let mut found =
                rows.try_filter(move |row| ready(row.inference_id.as_deref() == Some(id)));
            async move { found.try_next().await }
        })
        .await
    }

    /// Every key of the account (`GET /v1/keys`, a management key), oldest first.
    pub async fn keys(&self) -> Result<Vec<types::ApiKey>, Error> {
        let list: types::ApiKeyList = self.get("/v1/keys", &[], "keys").await?;
        Ok(list.data.unwrap_or_default())
    }

    /// Makes a key (`POST /v1/keys`, a management key): its secret, shown this once, and its
    /// settings. Sent once: retried only when the server cannot have acted on it.
    pub async fn create_key(&self, settings: &types::CreateKeyRequest) -> Result<NewKey, Error> {
        let answer: types::CreatedApiKeyAnswer = self
            .send(
                reqwest::Method::POST,
                "/v1/keys",
                settings,
                true,
                "create_key",
            )
            .await?;
        let mut made = answer.data.ok_or_else(|| no_data("create_key"))?;
        let secret = made.key.take().ok_or_else(|| Error::Decode {
            message: "the new key's answer has no `key`".into(),
            body: String::new(),
        })?;
        let settings = serde_json::to_value(&made)
            .and_then(serde_json::from_value)
            .map_err(|e| Error::Decode {
                message: format!("the new key's settings: {e}"),
                body: String::new(),
            })?;
        Ok(NewKey {
            secret: crate::provider::ApiKey::new(secret),
            settings,
        })
    }

    /// Changes the given settings of the key with this prefix (`PATCH /v1/keys/{prefix}`).
    pub async fn update_key(
        &self,
        prefix: &str,
        changes: &types::UpdateKeyRequest,
    ) -> Result<types::ApiKey, Error> {
        let path = format!("/v1/keys/{}", path_segment(prefix)?);
        let answer: types::ApiKeyAnswer = self
            .send(reqwest::Method::PATCH, &path, changes, false, "update_key")
            .await?;
        answer.data.ok_or_else(|| no_data("update_key"))
    }

    /// Sets the settings of the key with this prefix (`PUT /v1/keys/{prefix}`).
    pub async fn replace_key(
        &self,
        prefix: &str,
        settings: &types::ReplaceKeyRequest,
    ) -> Result<types::ApiKey, Error> {
        let path = format!("/v1/keys/{}", path_segment(prefix)?);
        let answer: types::ApiKeyAnswer = self
            .send(reqwest::Method::PUT, &path, settings, false, "replace_key")
            .await?;
        answer.data.ok_or_else(|| no_data("replace_key"))
    }

    /// Deletes the key with this prefix (`DELETE /v1/keys/{prefix}`).
    pub async fn delete_key(&self, prefix: &str) -> Result<types::DeletedApiKey, Error> {
        let path = format!("/v1/keys/{}", path_segment(prefix)?);
        let answer: types::DeletedApiKeyAnswer = self
            .send(reqwest::Method::DELETE, &path, &(), false, "delete_key")
            .await?;
        answer.data.ok_or_else(|| no_data("delete_key"))
    }

    /// `method path` with `body` as JSON (none for `()`), read as `T`; a 403 is
    /// [`Error::Forbidden`].
    async fn send<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &B,
        only_unsent: bool,
        operation: &'static str,
    ) -> Result<T, Error> {
        let json = serde_json::to_value(body).map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let bytes = match json {
            serde_json::Value::Null => bytes::Bytes::new(),
            json => json.to_string().into(),
        };
        self.transport
            .send_bytes(method, &self.url(path), bytes, only_unsent, operation)
            .await
            .map_err(Error::forbidden_on_account)
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }
}

/// A key just made ([`Account::create_key`]).
#[derive(Clone, Debug)]
pub struct NewKey {
    /// The key itself, shown only this once (redacted in `Debug`).
    pub secret: crate::provider::ApiKey,
    /// Its settings, as every other route shows them.
    pub settings: types::ApiKey,
}

fn no_data(operation: &str) -> Error {
    Error::Decode {
        message: format!("{operation}: the answer has no `data`"),
        body: String::new(),
    }
}

/// A key prefix as a path segment: letters, digits, `-` and `_` only.
fn path_segment(prefix: &str) -> Result<&str, Error> {
    let fine = !prefix.is_empty()
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if fine {
        Ok(prefix)
    } else {
        Err(Error::InvalidRequest(format!(
            "{prefix:?} is not a key prefix (letters, digits, '-' and '_')"
        )))
    }
}

/// The `x-inference-id` a call's answer came with.
fn inference_id(meta: &ResponseMeta) -> Result<&str, Error> {
    meta.inference_id.as_deref().ok_or_else(|| {
        Error::InvalidRequest(
            "the answer carried no x-inference-id, which is how the account finds a call".into(),
        )
    })
}

/// `look()` until it finds something, pausing 100 ms, then twice as long each time (at most
/// 2 s), for up to `wait` in all (any Duration, `Duration::MAX` meaning "as long as it takes");
/// `None` when it found nothing by then. An error ends the lookup. Each look is raced against
/// the time left ([`Polling`]): one whose pages never end, or whose answer hangs, does not hold
/// the wait past its deadline.
async fn watch<T, F, Fut>(wait: Duration, mut look: F) -> Result<Option<T>, Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, Error>>,
{
    let pauses = Pauses::growing(Duration::from_millis(100), 2.0, Duration::from_secs(2));
    let mut polling = Polling::new(pauses, wait, move || {
        let looked = look();
        async move {
            match looked.await {
                Ok(None) => Asked::Again(None),
                done => Asked::Last(done),
            }
        }
    });
    match polling.next().await {
        Some(Ok(done)) => done,
        Some(Err(Expired)) | None => Ok(None),
    }
}
