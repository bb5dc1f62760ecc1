//! The account routes over the mock's one account (see `crate::account`): balance, ledger,
//! usage, request logs, the current key, and the live model metrics, with the documented
//! errors: a management key on the ledger (403), a regular key naming another key (403), a
//! window that is missing, malformed or over 92 days (400), repeated filters read as repeated
//! (a comma is part of a name), the log route's rate limit (429).

use std::time::{Duration, SystemTime};

use hyper::Response;
use serde_json::{json, Value};

use crate::account::{key_prefix, Call};
use crate::catalogue::query_pairs;
use crate::clock::{parse, timestamp_z};
use crate::response::{full, Body};
use crate::state::Shared;

/// The longest window the usage and log routes take.
const MAX_WINDOW: Duration = Duration::from_secs(92 * 86_400);

/// Who is asking.
enum Caller {
    /// A regular key, by its prefix.
    Regular(String),
    /// The management key.
    Management,
}

/// The answer of an account route, or `None` when `path` is not one.
pub(crate) fn serve(
    shared: &Shared,
    method: &str,
    path: &str,
    query: &str,
    auth: Option<&str>,
    body: &Value,
    id: u64,
) -> Option<Response<Body>> {
    if path == "/v1/keys" || path.starts_with("/v1/keys/") {
        return Some(keys(shared, method, path, auth, body, id));
    }
    let route = match (method, path) {
        ("GET", "/models/metrics") => return Some(metrics(shared, query, path, id)),
        ("GET", "/v2/billing" | "/v2/billing/detail" | "/v2/billing/transactions")
        | ("GET", "/v2/usage" | "/v2/usage/detail" | "/v2/logs" | "/v1/key") => path,
        _ => return None,
    };
    let Some(caller) = caller(shared, auth) else {
        return Some(error(
            401,
            "Unauthorized: a valid API key is required",
            path,
            id,
        ));
    };
    let params = query_pairs(query);
    let answer = match route {
        "/v2/billing" => Ok(json!({
            "current_balance": round(balance(shared)),
            "currency": "USD",
        })),
        "/v2/billing/detail" => Ok(json!({
            "user_id": 111,
            "email": "user@example.com",
            "current_balance": round(balance(shared)),
            "currency": "USD",
            "autotopup_settings": {"is_enabled": false, "threshold": 0, "amount": 0, "currency": "USD"},
        })),
        "/v2/billing/transactions" => match caller {
            Caller::Management => Err((
                403,
                "a management key cannot read the ledger: use a regular key".to_string(),
            )),
            Caller::Regular(_) => ledger(shared, &params),
        },
        "/v2/usage" | "/v2/usage/detail" => {
            usage(shared, &caller, &params, route == "/v2/usage/detail")
        }
        "/v2/logs" => {
            let config = &shared.config;
            if let Err(wait) = shared.account.log_read(config.logs_limit, config.logs_per) {
                let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
                let body = error_body(
                    429,
                    "Too many requests: at most 200 requests per 60 seconds",
                    path,
                    id,
                );
                return Some(full(
                    429,
                    "application/json",
                    body,
                    &[("retry-after".into(), secs.to_string())],
                ));
            }
            logs(shared, &caller, &params)
        }
        _ => Ok(current_key(shared, &caller)),
    };
    Some(match answer {
        Ok(body) => full(200, "application/json", body.to_string(), &[]),
        Err((status, message)) => error(status, &message, path, id),
    })
}

/// The caller a bearer key makes: the management key, else a regular key when the server takes
/// it (any key, or none, when no key is set), else nobody.
fn caller(shared: &Shared, auth: Option<&str>) -> Option<Caller> {
    let key = auth.and_then(|a| a.strip_prefix("Bearer "));
    if let (Some(given), Some(management)) = (key, &shared.config.management_key) {
        if given == management {
            return Some(Caller::Management);
        }
    }
    match &shared.config.api_key {
        Some(regular) if key != Some(regular.as_str()) => None,
        _ => Some(Caller::Regular(key_prefix(key.unwrap_or("mock-key")))),
    }
}

/// The gateway's error body with `message`.
fn error_body(status: u16, message: &str, path: &str, id: u64) -> String {
    json!({
        "message": message,
        "path": path,
        "requestId": format!("mock-{id:08x}"),
        "statusCode": status,
        "timestamp": timestamp_z(SystemTime::now()),
    })
    .to_string()
}

fn error(status: u16, message: &str, path: &str, id: u64) -> Response<Body> {
    full(
        status,
        "application/json",
        error_body(status, message, path, id),
        &[],
    )
}

/// Dollars as the vendor writes them: six decimals.
fn round(usd: f64) -> f64 {
    (usd * 1e6).round() / 1e6
}

/// When a call's charge lands.
fn charged_at(shared: &Shared, call: &Call) -> SystemTime {
    crate::clock::later(call.at, shared.config.charge_delay)
}

/// Whether a call has been charged by `now`.
fn is_charged(shared: &Shared, call: &Call, now: SystemTime) -> bool {
    call.succeeded && charged_at(shared, call) <= now
}

/// The opening balance less every charge landed so far.
fn balance(shared: &Shared) -> f64 {
    let now = SystemTime::now();
    let spent: f64 = shared
        .account
        .newest_first()
        .iter()
        .filter(|c| is_charged(shared, c, now))
        .map(|c| c.usd)
        .sum();
    shared.config.account_balance - spent
}

type Answer = Result<Value, (u16, String)>;

fn bad(message: impl Into<String>) -> (u16, String) {
    (400, message.into())
}

/// The values of `name`, in order (a repeated parameter gives several).
fn all<'a>(params: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    params
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The one value of `name`; given twice is a 400.
fn one<'a>(params: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, (u16, String)> {
    match all(params, name).as_slice() {
        [] => Ok(None),
        [v] => Ok(Some(v)),
        _ => Err(bad(format!("`{name}` is given more than once"))),
    }
}

/// `limit` (1-100, default 50).
fn limit(params: &[(String, String)]) -> Result<usize, (u16, String)> {
    match one(params, "limit")? {
        None => Ok(50),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => Ok(n),
            _ => Err(bad(format!("`limit` must be 1 to 100, not {v:?}"))),
        },
    }
}

/// The ledger, newest first, paged by an opaque cursor: the opening top-up, then each charge
/// as it lands.
fn ledger(shared: &Shared, params: &[(String, String)]) -> Answer {
    const KNOWN: &[&str] = &["from", "to", "direction", "type", "limit", "cursor"];
    if let Some((k, _)) = params.iter().find(|(k, _)| !KNOWN.contains(&k.as_str())) {
        return Err(bad(format!("unknown query parameter `{k}`")));
    }
    let limit = limit(params)?;
    let direction = one(params, "direction")?;
    if direction.is_some_and(|d| !matches!(d, "TOPUP" | "CHARGE")) {
        return Err(bad("`direction` must be TOPUP or CHARGE"));
    }
    let kind = one(params, "type")?;
    if kind.is_some_and(|k| !matches!(k, "MODEL_USAGE" | "TOPUP")) {
        return Err(bad("unknown `type`"));
    }
    let time = |name| -> Result<Option<SystemTime>, (u16, String)> {
        one(params, name)?
            .map(|v| parse(v).ok_or_else(|| bad(format!("`{name}` is not a timestamp: {v:?}"))))
            .transpose()
    };
    let (from, to) = (time("from")?, time("to")?);
    if let (Some(f), Some(t)) = (from, to) {
        if t <= f {
            return Err(bad("`to` must be later than `from`"));
        }
    }
    // A cursor is the number of the last row a page gave, as this server wrote it.
    let after = match one(params, "cursor")? {
        None => u64::MAX,
        Some(c) => c
            .strip_prefix("cur_")
            .filter(|n| {
                n.bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            })
            .and_then(|n| u64::from_str_radix(n, 16).ok())
            .filter(|n| format!("cur_{n:x}") == c)
            .ok_or_else(|| {
                bad("malformed cursor: pass `pagination.next_cursor` back as it came")
            })?,
    };
    let now = SystemTime::now();
    let opening = (
        0u64,
        json!({
            "created_at": timestamp_z(shared.started),
            "direction": "TOPUP",
            "type": "TOPUP",
            "amount": {"usd": shared.config.account_balance, "credits": (shared.config.account_balance * crate::cost::CREDITS_PER_USD as f64).round() as u64},
        }),
        shared.started,
    );
    let charges = shared
        .account
        .newest_first()
        .into_iter()
        .filter(|c| is_charged(shared, c, now))
        .map(|c| {
            let at = charged_at(shared, &c);
            (
                c.seq,
                json!({
                    "created_at": timestamp_z(at),
                    "direction": "CHARGE",
                    "type": "MODEL_USAGE",
                    "amount": {"usd": c.usd, "credits": c.credits},
                    "model": c.model,
                    "reference_id": c.inference_id,
                }),
                at,
            )
        });
    let rows: Vec<(u64, Value)> = charges
        .chain(std::iter::once(opening))
        .filter(|(seq, row, at)| {
            *seq < after
                && direction.is_none_or(|d| row["direction"] == d)
                && kind.is_none_or(|k| row["type"] == k)
                && from.is_none_or(|f| *at >= f)
                && to.is_none_or(|t| *at < t)
        })
        .map(|(seq, row, _)| (seq, row))
        .collect();
    let has_more = rows.len() > limit;
    let page: Vec<&(u64, Value)> = rows.iter().take(limit).collect();
    let next_cursor = match (has_more, page.last()) {
        (true, Some((seq, _))) => Value::String(format!("cur_{seq:x}")),
        _ => Value::Null,
    };
    Ok(json!({
        "data": page.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>(),
        "pagination": {"next_cursor": next_cursor, "has_more": has_more},
    }))
}

/// The window a usage or log request names: `period` (`24h`, `7d`) or `start` and `end`, never
/// both, at most 92 days; `end` is now for a period.
fn window(params: &[(String, String)]) -> Result<(SystemTime, SystemTime), (u16, String)> {
    let (period, start, end) = (
        one(params, "period")?,
        one(params, "start")?,
        one(params, "end")?,
    );
    let now = SystemTime::now();
    let (start, end) = match (period, start, end) {
        (Some(p), None, None) => {
            let (n, unit) = p.split_at(p.len().saturating_sub(1));
            let n: u64 = n
                .parse()
                .ok()
                .filter(|n| *n > 0 && !p.starts_with('0'))
                .ok_or_else(|| {
                    bad(format!(
                        "`period` must be a positive whole number then h or d, not {p:?}"
                    ))
                })?;
            let secs = match unit {
                "h" => n.saturating_mul(3600),
                "d" => n.saturating_mul(86_400),
                _ => return Err(bad(format!("`period` must end in h or d, not {p:?}"))),
            };
            let span = Duration::from_secs(secs);
            (now.checked_sub(span).unwrap_or(SystemTime::UNIX_EPOCH), now)
        }
        (None, Some(s), Some(e)) => {
            let read = |name, v: &str| {
                parse(v).ok_or_else(|| bad(format!("`{name}` is not a timestamp: {v:?}")))
            };
            (read("start", s)?, read("end", e)?)
        }
        (None, None, None) => return Err(bad("give `period`, or `start` and `end`")),
        _ => {
            return Err(bad(
                "give `period` or `start` and `end`, not both, and not one of the two",
            ))
        }
    };
    let span = end
        .duration_since(start)
        .map_err(|_| bad("`end` is earlier than `start`"))?;
    if span > MAX_WINDOW {
        return Err(bad("the window is over 92 days: ask for several windows"));
    }
    Ok((start, end))
}

/// The key prefix a usage or log request is about: the caller's own, or (a management key) the
/// one named; a regular key naming another key's prefix is a 403.
fn subject(caller: &Caller, params: &[(String, String)]) -> Result<Option<String>, (u16, String)> {
    let named = one(params, "key_prefix")?.map(str::to_string);
    match caller {
        Caller::Regular(own) => match named {
            Some(other) if &other != own => {
                Err((403, "a regular key may read only its own usage".into()))
            }
            _ => Ok(Some(own.clone())),
        },
        Caller::Management => Ok(named),
    }
}

/// Usage totals over the window (charged calls only), and with `detail` the models and groups.
fn usage(shared: &Shared, caller: &Caller, params: &[(String, String)], detail: bool) -> Answer {
    let group_by = one(params, "group_by")?;
    let tz = one(params, "tz")?;
    if !detail && (group_by.is_some() || tz.is_some()) {
        return Err(bad(
            "`group_by` and `tz` are taken by /v2/usage/detail only",
        ));
    }
    if let Some(g) = group_by {
        if !matches!(g, "day" | "model" | "day,model" | "model,day") {
            return Err(bad(format!("unknown `group_by` {g:?}")));
        }
    }
    if tz.is_some_and(|t| t != "UTC") {
        return Err(bad("the mock knows one time zone: `UTC`"));
    }
    let (start, end) = window(params)?;
    let prefix = subject(caller, params)?;
    let now = SystemTime::now();
    let calls: Vec<Call> = shared
        .account
        .newest_first()
        .into_iter()
        .filter(|c| is_charged(shared, c, now) && c.at >= start && c.at < end)
        .filter(|c| prefix.as_ref().is_none_or(|p| &c.key_prefix == p))
        .collect();
    let spend: f64 = calls.iter().map(|c| c.usd).sum();
    let mut answer = json!({
        "api_key_prefix": prefix,
        "start": timestamp_z(start),
        "end": timestamp_z(end),
        "spend": round(spend),
        "currency": "USD",
        "requests": calls.len(),
    });
    if detail {
        let mut models: Vec<(String, f64, u64)> = Vec::new();
        for c in &calls {
            match models.iter_mut().find(|(m, ..)| *m == c.model) {
                Some(entry) => {
                    entry.1 += c.usd;
                    entry.2 += 1;
                }
                None => models.push((c.model.clone(), c.usd, 1)),
            }
        }
        answer["models"] = models
            .into_iter()
            .map(|(model, spend, requests)| json!({"model": model, "spend": round(spend), "requests": requests}))
            .collect();
    }
    Ok(answer)
}

/// The request log over the window, newest first, filtered by repeated `model` and `status`,
/// paged by `limit` and `offset`.
fn logs(shared: &Shared, caller: &Caller, params: &[(String, String)]) -> Answer {
    let (start, end) = window(params)?;
    let prefix = subject(caller, params)?;
    let models = all(params, "model");
    let statuses = all(params, "status");
    if let Some(s) = statuses
        .iter()
        .find(|s| !matches!(**s, "succeeded" | "failed"))
    {
        return Err(bad(format!(
            "unknown `status` {s:?} (repeat the parameter for several)"
        )));
    }
    let limit = limit(params)?;
    let offset: usize = match one(params, "offset")? {
        None => 0,
        Some(v) => v
            .parse()
            .map_err(|_| bad(format!("`offset` must be 0 or more, not {v:?}")))?,
    };
    let rows: Vec<Value> = shared
        .account
        .newest_first()
        .into_iter()
        .filter(|c| c.at >= start && c.at < end)
        .filter(|c| prefix.as_ref().is_none_or(|p| &c.key_prefix == p))
        .filter(|c| models.is_empty() || models.contains(&c.model.as_str()))
        .filter(|c| {
            let status = if c.succeeded { "succeeded" } else { "failed" };
            statuses.is_empty() || statuses.contains(&status)
        })
        .map(|c| {
            let (usd, credits) = if c.succeeded {
                (c.usd, c.credits)
            } else {
                (0.0, 0)
            };
            json!({
                "created": timestamp_z(c.at),
                "status": if c.succeeded { "succeeded" } else { "failed" },
                "origin": "api",
                "model": c.model,
                "cost": {"usd": usd, "credits": credits},
                "tokens": {"input": c.input, "output": c.output, "total": c.input + c.output},
                "request_id": format!("req-{}", c.seq),
                "inference_id": c.inference_id,
                "client_request_id": c.client_request_id,
            })
        })
        .collect();
    let total = rows.len();
    let page: Vec<Value> = rows.into_iter().skip(offset).take(limit).collect();
    Ok(json!({
        "data": page,
        "pagination": {"limit": limit, "offset": offset, "total": total, "has_more": offset + limit < total},
    }))
}

/// The calling key's settings.
fn current_key(shared: &Shared, caller: &Caller) -> Value {
    let prefix = match caller {
        Caller::Regular(p) => p.clone(),
        Caller::Management => "manage00".into(),
    };
    let now = SystemTime::now();
    let month = shared.account.newest_first();
    let used: f64 = month
        .iter()
        .filter(|c| c.key_prefix == prefix && is_charged(shared, c, now))
        .map(|c| c.usd)
        .sum();
    json!({"data": {
        "name": "mock key",
        "disabled": false,
        "prefix": prefix,
        "scopes": ["model:chat", "model:responses"],
        "limit": null,
        "created_at": timestamp_z(shared.started),
        "updated_at": timestamp_z(shared.started),
        "monthly_usage": round(used),
    }})
}

/// The live metrics: the scripted report, else the documented example; `aliases` (repeated)
/// keeps only those models; any other parameter is a 400.
fn metrics(shared: &Shared, query: &str, path: &str, id: u64) -> Response<Body> {
    let params = query_pairs(query);
    if let Some((k, _)) = params.iter().find(|(k, _)| k != "aliases") {
        return error(400, &format!("unknown query parameter `{k}`"), path, id);
    }
    let aliases = all(&params, "aliases");
    let mut report = shared.account.metrics().unwrap_or_else(|| {
        serde_json::from_str(include_str!("../../fixtures/account/metrics.json"))
            .unwrap_or_default()
    });
    if !aliases.is_empty() {
        match report.get_mut("models") {
            Some(Value::Array(models)) => {
                models.retain(|m| m["alias"].as_str().is_some_and(|a| aliases.contains(&a)))
            }
            Some(Value::Object(models)) => models.retain(|k, _| aliases.contains(&k.as_str())),
            _ => {}
        }
    }
    full(200, "application/json", report.to_string(), &[])
}

/// Key management: a management key lists, makes, changes, replaces and deletes keys; any other
/// key gets 403.
fn keys(
    shared: &Shared,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: &Value,
    id: u64,
) -> Response<Body> {
    match caller(shared, auth) {
        None => return error(401, "Unauthorized: a valid API key is required", path, id),
        Some(Caller::Regular(_)) => {
            return error(403, "key management needs a management key", path, id)
        }
        Some(Caller::Management) => {}
    }
    let now = timestamp_z(SystemTime::now());
    let prefix = path.strip_prefix("/v1/keys/");
    let answer = shared.account.with_keys(|keys| {
        Ok(match (method, prefix) {
            ("GET", None) => json!({"data": *keys}),
            ("POST", None) => {
                let n = keys.len() as u64 + 1;
                let prefix = format!("{:08x}", 0x5eed_0000u64 + n);
                let mut key = json!({
                    "name": body.get("name").cloned().unwrap_or(Value::Null),
                    "disabled": false,
                    "prefix": prefix,
                    "scopes": body.get("scopes").cloned().unwrap_or_else(|| json!(["model:chat"])),
                    "limit": body.get("limit").cloned().unwrap_or(Value::Null),
                    "created_at": now,
                    "updated_at": now,
                    "monthly_usage": 0,
                });
                keys.push(key.clone());
                key["key"] = json!(format!("{prefix}-mock-secret-{n:04}"));
                json!({"data": key})
            }
            (m @ ("PATCH" | "PUT" | "DELETE"), Some(prefix)) => {
                let Some(at) = keys.iter().position(|k| k["prefix"] == prefix) else {
                    return Err(format!("no key with prefix {prefix}"));
                };
                if m == "DELETE" {
                    keys.remove(at);
                    json!({"data": {"prefix": prefix, "deleted": true}})
                } else {
                    let key = &mut keys[at];
                    for field in ["name", "disabled", "limit", "scopes"] {
                        match body.get(field) {
                            Some(v) => key[field] = v.clone(),
                            // PUT sets the whole set: what it leaves out is reset.
                            None if m == "PUT" && field != "disabled" => key[field] = Value::Null,
                            None => {}
                        }
                    }
                    key["updated_at"] = json!(now);
                    json!({"data": key.clone()})
                }
            }
            _ => return Err(format!("Cannot {method} {path}")),
        })
    });
    match answer {
        Ok(answer) => full(200, "application/json", answer.to_string(), &[]),
        // Either way a 404: no such key, or no such route.
        Err(message) => error(404, &message, path, id),
    }
}
