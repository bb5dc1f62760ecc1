//! [`Budget`]: a spending limit that holds across every process on one account, because it is
//! checked against the vendor's own figures (the key's usage, or the account's balance), which
//! are the state every process shares; no store of our own.

use std::time::Duration;

use tokio::time::Instant;

use crate::error::Error;
use crate::window::Window;

/// A limit checked before each chat or Messages call
/// ([`ClientBuilder::budget`](crate::ClientBuilder::budget)): the vendor's figure, read at most once per refresh interval,
/// plus what this process's calls cost since that reading. Past the limit, the call fails before
/// it is sent with [`ErrorKind::BudgetExceeded`](crate::ErrorKind::BudgetExceeded).
///
/// Processes that share the account see each other's calls when they refresh: together they
/// stop within about one refresh interval (plus the vendor's delay in charging) of the limit.
/// A reading that fails fails the call (the budget is not skipped).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    limit: Limit,
    refresh: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Limit {
    /// The key's usage over the window stays under this many dollars.
    Spend { usd: f64, window: Window },
    /// The account's balance stays above this many dollars.
    BalanceFloor { usd: f64 },
}

impl Budget {
    /// At most `usd` spent by this key over `window` (its usage, `GET /v2/usage`).
    pub fn spend(usd: f64, window: Window) -> Self {
        Budget {
            limit: Limit::Spend { usd, window },
            refresh: Duration::from_secs(10),
        }
    }

    /// The account's balance kept above `usd` (`GET /v2/billing`).
    pub fn balance_floor(usd: f64) -> Self {
        Budget {
            limit: Limit::BalanceFloor { usd },
            refresh: Duration::from_secs(10),
        }
    }

    /// How often the vendor's figure is read again (default 10 s).
    pub fn refresh_every(mut self, interval: Duration) -> Self {
        self.refresh = interval;
        self
    }

    /// Refuses a budget that could never be checked: a window the usage route would refuse, a
    /// limit that is not a number.
    pub(crate) fn check_settings(&self) -> Result<(), Error> {
        let usd = match self.limit {
            Limit::Spend { usd, window } => {
                window
                    .span()
                    .map_err(|e| Error::Config(format!("the budget's window: {e}")))?;
                usd
            }
            Limit::BalanceFloor { usd } => usd,
        };
        if !usd.is_finite() {
            return Err(Error::Config(format!(
                "the budget's limit is not a number: {usd}"
            )));
        }
        Ok(())
    }

    /// What the limit is, in words for an error.
    fn describe(&self) -> String {
        match self.limit {
            Limit::Spend { usd, window } => {
                format!("at most {} over {window}", crate::error::dollars(usd))
            }
            Limit::BalanceFloor { usd } => {
                format!("a balance above {}", crate::error::dollars(usd))
            }
        }
    }
}

/// A client's budget and its last reading.
#[derive(Debug)]
pub(crate) struct BudgetState {
    budget: Budget,
    /// The vendor's figure when last read, and this client's running total then. One reading
    /// at a time: calls that find it stale wait for the one that refreshes it.
    last: tokio::sync::Mutex<Option<Reading>>,
}

#[derive(Clone, Copy, Debug)]
struct Reading {
    at: Instant,
    figure: f64,
    spent_then: f64,
}

impl BudgetState {
    pub(crate) fn new(budget: Budget) -> Self {
        BudgetState {
            budget,
            last: tokio::sync::Mutex::new(None),
        }
    }

    /// Which figure of the account the budget reads.
    pub(crate) fn source(&self) -> Source {
        match self.budget.limit {
            Limit::Spend { window, .. } => Source::Usage(window),
            Limit::BalanceFloor { .. } => Source::Balance,
        }
    }

    /// Whether one more call (which will cost about `ahead`, 0 when unknown) keeps within the
    /// budget: the reading (refreshed by `read` when older than the interval) and what the
    /// client's calls cost since (`spent`, its running total, then and now).
    pub(crate) async fn check<Fut>(
        &self,
        spent: impl Fn() -> f64,
        read: impl FnOnce() -> Fut,
        ahead: f64,
    ) -> Result<(), Error>
    where
        Fut: std::future::Future<Output = Result<f64, Error>>,
    {
        let reading = {
            let mut last = self.last.lock().await;
            match *last {
                Some(r) if r.at.elapsed() < self.budget.refresh => r,
                _ => {
                    let spent_then = spent();
                    let figure = read().await?;
                    let r = Reading {
                        at: Instant::now(),
                        figure,
                        spent_then,
                    };
                    *last = Some(r);
                    r
                }
            }
        };
        let since = (spent() - reading.spent_then).max(0.0) + ahead.max(0.0);
        let (over, figure) = match self.budget.limit {
            Limit::Spend { usd, .. } => (reading.figure + since >= usd, reading.figure + since),
            Limit::BalanceFloor { usd } => (reading.figure - since <= usd, reading.figure - since),
        };
        if over {
            return Err(Error::BudgetExceeded {
                limit: self.budget.describe(),
                figure,
            });
        }
        Ok(())
    }
}

/// The account figure a budget is checked against.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Source {
    /// The key's spend over the window (`GET /v2/usage`).
    Usage(Window),
    /// The account's balance (`GET /v2/billing`).
    Balance,
}
