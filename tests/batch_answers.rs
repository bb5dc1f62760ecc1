//! What the batch status route answers (`GET /v1/batches?batch_id=..`), read by the generated
//! `BatchAnswer` union: each element as what it is. The bodies (`fixtures/batch-answers.json`)
//! are written from the batch facts (`shared/api-facts/batches-and-account.md`, section 1): a
//! JSON array whatever the state; `{id, status: "generating"}` while the batch runs; the batch
//! object beside `status: "cancelled"` after a cancel; one `{custom_id, result}` per request once
//! it has ended (`succeeded` with its message, `errored` with its error, `canceled`, `expired`).

use aimlapi_tests::fixture_json;
use aimlapi_types::{BatchAnswer, BatchAnswerItem};
use serde_json::Value;

fn body(name: &str) -> Value {
    fixture_json("batch-answers.json")[name].clone()
}

fn item(name: &str) -> BatchAnswerItem {
    serde_json::from_value(body(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Which variant an element read as, by name.
fn kind(item: &BatchAnswerItem) -> &'static str {
    match item {
        BatchAnswerItem::BatchResultLine(_) => "result line",
        BatchAnswerItem::MessageBatch(_) => "batch object",
        BatchAnswerItem::BatchGenerating(_) => "status",
    }
}

#[test]
fn a_result_line_reads_as_a_result_line() {
    for name in ["result_succeeded", "result_errored", "result_expired"] {
        let BatchAnswerItem::BatchResultLine(line) = item(name) else {
            panic!("{name} read as a {}", kind(&item(name)));
        };
        assert!(line.custom_id.starts_with("greeting-"), "{name}");
        assert!(line.extra.is_empty(), "{name}: {:?}", line.extra);
    }
    let BatchAnswerItem::BatchResultLine(line) = item("result_succeeded") else {
        unreachable!()
    };
    assert_eq!(line.result.type_.as_deref(), Some("succeeded"));
    let message = line.result.message.expect("the message");
    let usage = message.usage.expect("usage");
    assert_eq!(usage.output_tokens, Some(11));
    assert_eq!(usage.service_tier.as_deref(), Some("batch"));
}

#[test]
fn a_batch_object_reads_as_a_batch_object() {
    for (name, state) in [
        ("batch_in_progress", "in_progress"),
        // With the gateway's `status` beside it, which a status also has: still a batch object.
        ("batch_cancelled", "canceling"),
    ] {
        let BatchAnswerItem::MessageBatch(batch) = item(name) else {
            panic!("{name} read as a {}", kind(&item(name)));
        };
        assert_eq!(batch.processing_status, state, "{name}");
        assert!(batch.request_counts.processing.is_some(), "{name}");
        assert!(batch.extra.is_empty(), "{name}: {:?}", batch.extra);
    }
}

#[test]
fn a_generating_status_reads_as_a_status() {
    let BatchAnswerItem::BatchGenerating(status) = item("generating") else {
        panic!("read as a {}", kind(&item("generating")));
    };
    assert_eq!(status.id, "kgTRCVoAz4GwrHWIOFZjg");
    assert_eq!(status.status, "generating");
}

#[test]
fn an_array_reads_each_element_as_what_it_is() {
    let names = [
        "generating",
        "batch_cancelled",
        "result_succeeded",
        "batch_in_progress",
        "result_errored",
        "result_expired",
    ];
    let array = Value::Array(names.iter().map(|n| body(n)).collect());
    let BatchAnswer::Array(items) = serde_json::from_value(array).unwrap() else {
        panic!("an array read as one element");
    };
    let kinds: Vec<&str> = items.iter().map(kind).collect();
    assert_eq!(
        kinds,
        [
            "status",
            "batch object",
            "result line",
            "batch object",
            "result line",
            "result line"
        ]
    );
    // A single element (the vendor's example reads one JSON value too) is that element.
    let one: BatchAnswer = serde_json::from_value(body("generating")).unwrap();
    assert!(matches!(
        one,
        BatchAnswer::BatchAnswerItem(BatchAnswerItem::BatchGenerating(_))
    ));
}
