//! The account's and the metrics' documented answers (transcribed in
//! `crates/mock/fixtures/account/`, sources in its `SOURCES.md`) parse into the generated types
//! and keep every field: written back, each is the answer it was, nulls aside (an absent field
//! and a null one read the same) and numbers compared as numbers.

use aimlapi_tests::fixture_json;
use aimlapi_types::{
    ApiKeyAnswer, ApiKeyList, Balance, BillingDetail, CreatedApiKeyAnswer, DeletedApiKeyAnswer,
    KeyUsage, KeyUsageDetail, LedgerPage, LogPage, MeasuredModels, MetricsReport,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// `v` without its null fields, every number as a float (`100` and `100.0` are one amount).
fn without_nulls(v: Value) -> Value {
    match v {
        Value::Number(n) => serde_json::json!(n.as_f64()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// `name` parsed as `T`, checked to write back as it came.
fn parses<T: DeserializeOwned + Serialize>(name: &str) -> T {
    let sent = fixture_json(&format!("account/{name}"));
    let typed: T = serde_json::from_value(sent.clone())
        .unwrap_or_else(|e| panic!("{name} does not parse: {e}"));
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(
        without_nulls(back),
        without_nulls(sent),
        "{name} lost a field"
    );
    typed
}

#[test]
fn every_documented_account_answer_parses_and_keeps_its_fields() {
    let balance: Balance = parses("billing.json");
    assert!(balance.current_balance.is_some());
    parses::<BillingDetail>("billing-detail.json");
    let ledger: LedgerPage = parses("transactions.json");
    assert!(!ledger.data.unwrap_or_default().is_empty());
    assert!(ledger.pagination.is_some());
    parses::<KeyUsage>("usage.json");
    parses::<KeyUsageDetail>("usage-detail.json");
    parses::<KeyUsageDetail>("usage-detail-by-day-model.json");
    let logs: LogPage = parses("logs.json");
    let row = &logs.data.unwrap_or_default()[0];
    assert!(row.inference_id.is_some() && row.cost.is_some());
    parses::<ApiKeyAnswer>("key.json");
    parses::<ApiKeyList>("keys-list.json");
    parses::<CreatedApiKeyAnswer>("key-created.json");
    parses::<ApiKeyAnswer>("key-updated.json");
    parses::<ApiKeyAnswer>("key-replaced.json");
    parses::<DeletedApiKeyAnswer>("key-deleted.json");
}

/// The vendor's document lists the measured models as an array of entries naming their model;
/// a map from model id to figures is read too. Either way the figures are typed.
#[test]
fn the_metrics_report_reads_both_shapes_of_its_models_typed() {
    let listed: MetricsReport = parses("metrics.json");
    let Some(MeasuredModels::Array(entries)) = listed.models else {
        panic!("the vendor's example lists its models");
    };
    let tps = entries[0].metrics.as_ref().unwrap().tps.as_ref().unwrap();
    assert!(tps.p99.unwrap() > tps.p50.unwrap());

    let keyed: MetricsReport = parses("metrics-by-id.json");
    let Some(MeasuredModels::Object(by_id)) = keyed.models else {
        panic!("a map from model id");
    };
    let (_, figures) = by_id.iter().next().unwrap();
    assert!(figures.ttft_ms.as_ref().unwrap().p50.is_some());
}
