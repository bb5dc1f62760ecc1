//! Each call's span, and with the `otel` feature its metrics, by the OpenTelemetry GenAI semantic
//! conventions: one [`Call`] per call, made when the call starts (with the attributes known then)
//! and recorded once when it ends (with what became known: the response's id and model, finish
//! reasons, time to first chunk, usage, cost, the error).
//!
//! The span is a `tracing` span named `aimlapi`; `otel.name` (`chat claude-sonnet-4-5`),
//! `otel.kind` and `otel.status_code` are what `tracing-opentelemetry` reads for the exported
//! span's name, kind and status. Nothing is formatted or timed when no subscriber records the span
//! and no metrics are on.

use std::time::{Duration, Instant};

use aimlapi_types as types;
use tracing::{field, Span};

use crate::chat::Sampling;
use crate::error::{Error, ErrorKind};
use crate::usage::TokenUsage;

/// Where a client's calls go: `server.address` and `server.port`.
#[derive(Clone, Debug)]
pub(crate) struct Server {
    pub(crate) address: String,
    pub(crate) port: u16,
}

impl Server {
    /// The host and port of `url` (the port its scheme implies when it names none).
    pub(crate) fn of(url: &reqwest::Url) -> Server {
        Server {
            address: url.host_str().unwrap_or_default().to_string(),
            port: url.port_or_known_default().unwrap_or(0),
        }
    }
}

/// What a call is, in the conventions' terms.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Operation {
    /// A model call (`gen_ai.operation.name` `chat`), streamed or not.
    Chat { stream: bool },
    /// Any other call of the gateway's (the catalogue, the account, batches), by its own name.
    Service(&'static str),
}

impl Operation {
    fn name(self) -> &'static str {
        match self {
            Operation::Chat { .. } => "chat",
            Operation::Service(name) => name,
        }
    }
}

/// What the client knows when it starts a call's record.
pub(crate) struct Context<'a> {
    pub(crate) server: &'a Server,
    /// The gateway's name (`aimlapi`, `openrouter`, `custom`).
    pub(crate) gateway: &'static str,
    /// Whether message contents are recorded (`ClientBuilder::log_contents`).
    pub(crate) contents: bool,
    #[cfg(feature = "otel")]
    pub(crate) metrics: Option<&'a std::sync::Arc<metrics::Instruments>>,
}

/// `gen_ai.provider.name`: `anthropic` for a Claude model (the gateway is `server.address`), the
/// gateway's own name for anything else.
fn provider_name(model: &str, gateway: &'static str) -> &'static str {
    let claude = model
        .as_bytes()
        .windows(6)
        .any(|w| w.eq_ignore_ascii_case(b"claude"));
    if claude {
        "anthropic"
    } else {
        gateway
    }
}

/// What a whole answer tells a call's record (`Completion::answered`).
pub(crate) struct Answered<'a> {
    pub(crate) id: Option<&'a str>,
    pub(crate) model: Option<&'a str>,
    pub(crate) finish_reason: Option<&'a str>,
    pub(crate) usage: Option<TokenUsage>,
    /// What the call cost in US dollars.
    pub(crate) cost: Option<f64>,
    /// The answer as the conventions' output message, when contents are recorded.
    pub(crate) output: Option<serde_json::Value>,
}

/// What a call's end told: recorded on the span and in the metrics when the call ends.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) response_id: Option<String>,
    pub(crate) response_model: Option<String>,
    pub(crate) finish_reasons: Vec<String>,
    pub(crate) usage: Option<TokenUsage>,
    /// What the call cost in US dollars (the vendor's figure, else the estimate).
    pub(crate) cost: Option<f64>,
    pub(crate) first_chunk: Option<Duration>,
    /// `error.type`.
    pub(crate) error: Option<String>,
    /// `gen_ai.output.messages`, when contents are recorded.
    pub(crate) output: Option<String>,
    /// A Messages stream's usage so far (each event's counts replace the last).
    /// Boxed: only a Messages stream has it, and inline it was 192 bytes of every stream's
    /// running tally.
    pub(crate) message_usage: Option<Box<types::MessageUsage>>,
    /// A chat stream's finish reasons by choice (a choice's may come again).
    pub(crate) by_choice: crate::indexed::Indexed<i64, String>,
    /// The vendor's cost figure a stream's chunks carried (the last one's).
    pub(crate) vendor_cost: Option<crate::cost::Cost>,
}

impl Outcome {
    /// What a stream's events told, in the record's terms: a Messages stream's usage so far as
    /// the usage, a chat stream's reasons by choice as the finish reasons (unless an answer
    /// gave them).
    /// What a stream that ended cost, by the rule a folded answer's
    /// [`cost`](crate::Completion::cost) follows: the vendor's figure in its chunks, else the
    /// header's, else the estimate from its usage and `meta`'s facts.
    pub(crate) fn stream_cost(
        &mut self,
        meta: &crate::http::meta::ResponseMeta,
    ) -> Option<crate::cost::Cost> {
        self.settle();
        let usage = self.usage;
        crate::cost::choose(self.vendor_cost, meta.usd_spent, || {
            Some(meta.facts?.price(&usage?))
        })
    }

    fn settle(&mut self) {
        if let Some(u) = self.message_usage.take() {
            self.usage = Some(crate::usage::message_usage(&u));
        }
        if self.finish_reasons.is_empty() {
            self.finish_reasons = std::mem::take(&mut self.by_choice).into_values().collect();
        }
    }
}

/// One call's record: its span, when it started, and what its end told.
pub(crate) struct Call {
    span: Span,
    /// When the call started: read only when the span is recorded or metrics are on.
    started: Option<Instant>,
    contents: bool,
    outcome: Outcome,
    #[cfg(feature = "otel")]
    metrics: Option<metrics::Pending>,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("span", &self.span)
            .finish_non_exhaustive()
    }
}

impl Call {
    /// Starts the record of a call of `operation` on `model` (empty when the call names none):
    /// its span, with the attributes known at its start.
    pub(crate) fn start(operation: Operation, model: &str, cx: Context<'_>) -> Call {
        let op = operation.name();
        let provider = provider_name(model, cx.gateway);
        let stream = match operation {
            Operation::Chat { stream } => Some(stream),
            Operation::Service(_) => None,
        };
        // Field values are computed only when a subscriber records the span.
        let span = tracing::info_span!(
            "aimlapi",
            otel.name = %SpanName(op, model),
            otel.kind = "client",
            otel.status_code = field::Empty,
            gen_ai.operation.name = op,
            gen_ai.provider.name = provider,
            gen_ai.request.model = (!model.is_empty()).then_some(model),
            gen_ai.request.stream = stream,
            server.address = cx.server.address.as_str(),
            server.port = i64::from(cx.server.port),
            error.type = field::Empty,
            gen_ai.request.max_tokens = field::Empty,
            gen_ai.request.temperature = field::Empty,
            gen_ai.request.top_k = field::Empty,
            gen_ai.request.top_p = field::Empty,
            gen_ai.request.stop_sequences = field::Empty,
            gen_ai.response.id = field::Empty,
            gen_ai.response.model = field::Empty,
            gen_ai.response.finish_reasons = field::Empty,
            gen_ai.response.time_to_first_chunk = field::Empty,
            gen_ai.usage.input_tokens = field::Empty,
            gen_ai.usage.output_tokens = field::Empty,
            gen_ai.usage.cache_creation.input_tokens = field::Empty,
            gen_ai.usage.cache_read.input_tokens = field::Empty,
            aimlapi.usage.cost = field::Empty,
            gen_ai.input.messages = field::Empty,
            gen_ai.system_instructions = field::Empty,
            gen_ai.tool.definitions = field::Empty,
            gen_ai.output.messages = field::Empty,
            attempt = field::Empty,
            http.response.status_code = field::Empty,
            client_request_id = field::Empty,
            aimlapi.gateway.moved_from = field::Empty,
        );
        #[cfg(feature = "otel")]
        let metrics = cx
            .metrics
            .map(|m| metrics::Pending::new(m.clone(), op, provider, model, cx.server));
        #[cfg(feature = "otel")]
        let timed = !span.is_disabled() || metrics.is_some();
        #[cfg(not(feature = "otel"))]
        let timed = !span.is_disabled();
        Call {
            started: timed.then(Instant::now),
            contents: cx.contents && !span.is_disabled(),
            span,
            outcome: Outcome::default(),
            #[cfg(feature = "otel")]
            metrics,
        }
    }

    /// The gateway (its base URL) the call moved from, when it did.
    pub(crate) fn moved_from(&self, gateway: Option<&str>) {
        if let Some(gateway) = gateway {
            self.span.record("aimlapi.gateway.moved_from", gateway);
        }
    }

    /// The call's span.
    pub(crate) fn span(&self) -> &Span {
        &self.span
    }

    /// Whether anything reads what this record learns (a subscriber records its span, or
    /// metrics are on): what a caller checks before doing work only the record needs.
    pub(crate) fn is_recording(&self) -> bool {
        self.started.is_some()
    }

    /// The request's settings, from the conversation API's [`Sampling`].
    pub(crate) fn request(&self, sampling: &Sampling) {
        if self.span.is_disabled() {
            return;
        }
        let s = &self.span;
        if let Some(v) = sampling.max_tokens {
            s.record("gen_ai.request.max_tokens", int(v));
        }
        if let Some(v) = sampling.temperature {
            s.record("gen_ai.request.temperature", v);
        }
        if let Some(v) = sampling.top_k {
            s.record("gen_ai.request.top_k", int(v));
        }
        if let Some(v) = sampling.top_p {
            s.record("gen_ai.request.top_p", v);
        }
        if !sampling.stop.is_empty() {
            s.record(
                "gen_ai.request.stop_sequences",
                json_text(&sampling.stop).as_str(),
            );
        }
    }

    /// The request's settings, from a request body written out as JSON (a typed request):
    /// read into a [`Sampling`] and recorded as [`request`](Self::request) records it.
    pub(crate) fn request_json(&self, body: &serde_json::Value) {
        if self.span.is_disabled() {
            return;
        }
        let field = |names: &[&str]| names.iter().find_map(|n| body.get(*n));
        let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
        let sampling = Sampling {
            max_tokens: field(&["max_tokens", "max_completion_tokens"]).and_then(|v| v.as_u64()),
            temperature: field(&["temperature"]).and_then(|v| v.as_f64()),
            top_k: field(&["top_k"]).and_then(|v| v.as_u64()),
            top_p: field(&["top_p"]).and_then(|v| v.as_f64()),
            stop: match field(&["stop_sequences", "stop"]) {
                Some(serde_json::Value::Array(all)) => all.iter().filter_map(text).collect(),
                Some(one) => text(one).into_iter().collect(),
                None => Vec::new(),
            },
            ..Sampling::default()
        };
        self.request(&sampling);
    }

    /// The request's messages, system instructions and tools, when contents are recorded: read
    /// from the body as it is sent.
    pub(crate) fn contents_of<B: crate::http::request_body::RequestBody>(&self, body: &B) {
        if !self.contents {
            return;
        }
        // Written as it is sent, then read back: one serializer for the body, not a second.
        let Ok(body) = body
            .json()
            .map_err(|_| ())
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).map_err(|_| ()))
        else {
            return;
        };
        let (system, messages) = contents::input(&body);
        let s = &self.span;
        s.record("gen_ai.input.messages", json_text(&messages).as_str());
        if !system.is_empty() {
            s.record("gen_ai.system_instructions", json_text(&system).as_str());
        }
        if let Some(tools) = body.get("tools").filter(|t| !t.is_null()) {
            s.record("gen_ai.tool.definitions", tools.to_string().as_str());
        }
    }

    /// The time to the first chunk of a stream: now.
    pub(crate) fn first_chunk(&mut self) {
        if let Some(started) = self.started {
            self.outcome.first_chunk.get_or_insert(started.elapsed());
        }
    }

    /// Whether message contents go into the span (asked for, and the span is recorded).
    pub(crate) fn records_contents(&self) -> bool {
        self.contents
    }

    /// A whole answer: what it tells replaces what a stream's events told.
    pub(crate) fn answered(&mut self, a: Answered<'_>) {
        if !self.is_recording() {
            return;
        }
        let o = &mut self.outcome;
        o.response_id = a.id.map(str::to_string);
        o.response_model = a.model.map(str::to_string);
        o.finish_reasons = a
            .finish_reason
            .map(|r| vec![r.to_string()])
            .unwrap_or_default();
        o.usage = a.usage;
        // The answer's counts are the whole call's (a stream's, folded).
        o.message_usage = None;
        o.cost = a.cost;
        if self.contents {
            o.output = a.output.map(|m| json_text(&[m]));
        }
    }

    /// A stream read to its end: its usage is whole, and priced by the model's `facts` when
    /// the stream carried no cost.
    pub(crate) fn ended(&mut self, facts: Option<crate::model::ModelFacts>) {
        let o = &mut self.outcome;
        o.settle();
        if o.cost.is_none() {
            o.cost = o.vendor_cost.map(|c| c.usd).or_else(|| {
                let usage = o.usage?;
                Some(facts?.price(&usage))
            });
        }
    }

    /// The call failed with `error`.
    pub(crate) fn failed(&mut self, error: &Error) {
        if self.is_recording() {
            self.outcome.error = Some(error_type(error));
        }
    }

    /// What a stream's events told so far, to be added to as they come.
    pub(crate) fn outcome(&mut self) -> &mut Outcome {
        &mut self.outcome
    }

    /// Records the end on the span (and in the metrics).
    fn record(&mut self) {
        let Some(started) = self.started else {
            return;
        };
        let o = &mut self.outcome;
        o.settle();
        if !self.span.is_disabled() {
            record_end(&self.span, o);
        }
        #[cfg(feature = "otel")]
        if let Some(m) = self.metrics.take() {
            m.record(started.elapsed(), o);
        }
        #[cfg(not(feature = "otel"))]
        let _ = started;
        self.started = None;
    }
}

/// The fields a call's end records, in [`record_end`]'s order.
const END_FIELDS: [&str; 12] = [
    "error.type",
    "otel.status_code",
    "gen_ai.response.id",
    "gen_ai.response.model",
    "gen_ai.response.finish_reasons",
    "gen_ai.response.time_to_first_chunk",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_creation.input_tokens",
    "aimlapi.usage.cost",
    "gen_ai.output.messages",
];

/// Records what the call's end told on `span`, all at once (one lookup of the span by the
/// subscriber, not one per field).
fn record_end(span: &Span, o: &Outcome) {
    use tracing::field::{Field, Value};
    // Every call's span comes from the one callsite in `Call::start`: its fields are looked up
    // by name once.
    static FIELDS: std::sync::OnceLock<Option<[Field; 12]>> = std::sync::OnceLock::new();
    let Some(meta) = span.metadata() else {
        return;
    };
    let fields = FIELDS.get_or_init(|| {
        let set = meta.fields();
        let found: Vec<Field> = END_FIELDS.iter().filter_map(|n| set.field(n)).collect();
        found.try_into().ok()
    });
    let Some(f) = fields
        .as_ref()
        .filter(|f| f[0].callsite() == meta.callsite())
    else {
        return;
    };
    let finish = (!o.finish_reasons.is_empty()).then(|| json_text(&o.finish_reasons));
    let first = o.first_chunk.map(|t| t.as_secs_f64());
    // The Anthropic rule: input tokens count the cache reads and writes (the prompt count here
    // already does).
    let counts = o.usage.map(|u| {
        [
            int(u.prompt_tokens),
            int(u.completion_tokens),
            int(u.cache_read_tokens),
            int(u.cache_write_tokens),
        ]
    });
    let count = |i: usize| counts.as_ref().map(|c| &c[i] as &dyn Value);
    let values: [(&Field, Option<&dyn Value>); 12] = [
        (&f[0], text(&o.error)),
        (&f[1], o.error.as_ref().map(|_| &"ERROR" as &dyn Value)),
        (&f[2], text(&o.response_id)),
        (&f[3], text(&o.response_model)),
        (&f[4], text(&finish)),
        (&f[5], first.as_ref().map(|v| v as &dyn Value)),
        (&f[6], count(0)),
        (&f[7], count(1)),
        (&f[8], count(2)),
        (&f[9], count(3)),
        (&f[10], o.cost.as_ref().map(|v| v as &dyn Value)),
        (&f[11], text(&o.output)),
    ];
    span.record_all(&meta.fields().value_set(&values));
}

/// A text field's value, when there is one.
fn text(v: &Option<String>) -> Option<&dyn tracing::field::Value> {
    v.as_ref().map(|v| v as &dyn tracing::field::Value)
}

impl Drop for Call {
    /// A call's end, however it came: recorded once, then the span closes (unless a future
    /// still holds it).
    fn drop(&mut self) {
        self.record();
    }
}

/// `error.type`: the gateway's or Anthropic's error code inside a stream, the HTTP status of a
/// refusal, else the kind of error.
pub(crate) fn error_type(e: &Error) -> String {
    if let Error::Stream {
        code: Some(code), ..
    } = e
    {
        return code.clone();
    }
    if let Some(status) = e.status() {
        return status.as_u16().to_string();
    }
    match e.kind() {
        ErrorKind::Timeout => "timeout",
        ErrorKind::Connection => "connection",
        ErrorKind::Decode => "decode",
        ErrorKind::Config => "config",
        ErrorKind::Stream => "stream",
        ErrorKind::UnexpectedEnd => "unexpected_end",
        ErrorKind::StepLimit => "step_limit",
        ErrorKind::ResponseTooLarge => "response_too_large",
        ErrorKind::Unsupported => "unsupported",
        ErrorKind::InvalidRequest => "invalid_request",
        ErrorKind::BudgetExceeded => "budget_exceeded",
        _ => "_OTHER",
    }
    .to_string()
}

/// `{operation} {model}`, or the operation alone for a call that names no model.
struct SpanName<'a>(&'static str, &'a str);

impl std::fmt::Display for SpanName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.1 {
            "" => f.write_str(self.0),
            model => write!(f, "{} {model}", self.0),
        }
    }
}

/// A count as a signed integer, as OpenTelemetry attributes take it (an unsigned one would be
/// recorded as text); a count past `i64::MAX` is `i64::MAX`.
pub(crate) fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A value as JSON text (a span field has no arrays): `["end_turn"]`.
fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// The conventions' message shapes (`role` and typed `parts`) from the wire's.
mod contents {
    use serde_json::{json, Value};

    /// The system instructions and the messages of a request body (either endpoint's).
    pub(super) fn input(body: &Value) -> (Vec<Value>, Vec<Value>) {
        let mut system = body.get("system").map(parts).unwrap_or_default();
        let mut messages = Vec::new();
        for m in body
            .get("messages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
            let mut p = m.get("content").map(parts).unwrap_or_default();
            for call in m
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let f = call.get("function");
                p.push(json!({
                    "type": "tool_call",
                    "id": call.get("id"),
                    "name": f.and_then(|f| f.get("name")),
                    "arguments": f.and_then(|f| f.get("arguments")),
                }));
            }
            match role {
                "system" | "developer" => system.append(&mut p),
                "tool" => messages.push(json!({
                    "role": "tool",
                    "parts": [{
                        "type": "tool_call_response",
                        "id": m.get("tool_call_id"),
                        "response": m.get("content"),
                    }],
                })),
                _ => messages.push(json!({"role": role, "parts": p})),
            }
        }
        (system, messages)
    }

    /// The parts of a message's content: a string, or blocks.
    fn parts(content: &Value) -> Vec<Value> {
        match content {
            Value::String(text) => vec![json!({"type": "text", "content": text})],
            Value::Array(blocks) => blocks.iter().map(part).collect(),
            Value::Null => Vec::new(),
            other => vec![other.clone()],
        }
    }

    /// One content block as a part.
    fn part(block: &Value) -> Value {
        let kind = block.get("type").and_then(Value::as_str).unwrap_or("");
        match kind {
            "text" => json!({"type": "text", "content": block.get("text")}),
            "tool_use" => json!({
                "type": "tool_call",
                "id": block.get("id"),
                "name": block.get("name"),
                "arguments": block.get("input"),
            }),
            "tool_result" => json!({
                "type": "tool_call_response",
                "id": block.get("tool_use_id"),
                "response": block.get("content"),
            }),
            "thinking" => json!({"type": "reasoning", "content": block.get("thinking")}),
            _ => block.clone(),
        }
    }
}

/// The conventions' client metrics, through the `opentelemetry` crate's metrics API.
#[cfg(feature = "otel")]
pub(crate) mod metrics {
    use std::sync::Arc;
    use std::time::Duration;

    use opentelemetry::metrics::{Histogram, Meter};
    use opentelemetry::KeyValue;

    use super::{Outcome, Server};

    /// The instruments a client records into, made once when it is built.
    pub(crate) struct Instruments {
        tokens: Histogram<u64>,
        duration: Histogram<f64>,
        first_chunk: Histogram<f64>,
    }

    impl std::fmt::Debug for Instruments {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Instruments")
        }
    }

    /// The conventions' bucket boundaries: seconds from 10 ms doubling to 82 s.
    fn second_buckets() -> Vec<f64> {
        (0..14).map(|i| 0.01 * f64::from(1u32 << i)).collect()
    }

    impl Instruments {
        /// The instruments of `meter`.
        pub(crate) fn new(meter: &Meter) -> Self {
            Instruments {
                tokens: meter
                    .u64_histogram("gen_ai.client.token.usage")
                    .with_unit("{token}")
                    .with_description("Number of input and output tokens used")
                    .with_boundaries((0..14).map(|i| f64::from(1u32 << (2 * i))).collect())
                    .build(),
                duration: meter
                    .f64_histogram("gen_ai.client.operation.duration")
                    .with_unit("s")
                    .with_description("GenAI operation duration")
                    .with_boundaries(second_buckets())
                    .build(),
                first_chunk: meter
                    .f64_histogram("gen_ai.client.operation.time_to_first_chunk")
                    .with_unit("s")
                    .with_description("Time to receive the first chunk of a streamed response")
                    .with_boundaries(second_buckets())
                    .build(),
            }
        }

        /// The instruments of the global meter provider's `aimlapi` meter.
        pub(crate) fn global() -> Arc<Self> {
            let scope = opentelemetry::InstrumentationScope::builder("aimlapi")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build();
            Arc::new(Instruments::new(&opentelemetry::global::meter_with_scope(
                scope,
            )))
        }
    }

    /// A call's metrics to record when it ends, with the attributes known at its start.
    pub(crate) struct Pending {
        instruments: Arc<Instruments>,
        attributes: Vec<KeyValue>,
    }

    impl Pending {
        pub(crate) fn new(
            instruments: Arc<Instruments>,
            operation: &'static str,
            provider: &'static str,
            model: &str,
            server: &Server,
        ) -> Self {
            let mut attributes = vec![
                KeyValue::new("gen_ai.operation.name", operation),
                KeyValue::new("gen_ai.provider.name", provider),
                KeyValue::new("server.address", server.address.clone()),
                KeyValue::new("server.port", i64::from(server.port)),
            ];
            if !model.is_empty() {
                attributes.push(KeyValue::new("gen_ai.request.model", model.to_string()));
            }
            Pending {
                instruments,
                attributes,
            }
        }

        /// Records the call's duration, its tokens and its time to first chunk.
        pub(crate) fn record(mut self, took: Duration, o: &Outcome) {
            if let Some(model) = &o.response_model {
                self.attributes
                    .push(KeyValue::new("gen_ai.response.model", model.clone()));
            }
            if let Some(e) = &o.error {
                self.attributes.push(KeyValue::new("error.type", e.clone()));
            }
            let i = &self.instruments;
            i.duration.record(took.as_secs_f64(), &self.attributes);
            if let Some(t) = o.first_chunk {
                i.first_chunk.record(t.as_secs_f64(), &self.attributes);
            }
            if let Some(u) = &o.usage {
                for (kind, count) in [("input", u.prompt_tokens), ("output", u.completion_tokens)] {
                    let mut attributes = self.attributes.clone();
                    attributes.push(KeyValue::new("gen_ai.token.type", kind));
                    i.tokens.record(count, &attributes);
                }
            }
        }
    }
}
