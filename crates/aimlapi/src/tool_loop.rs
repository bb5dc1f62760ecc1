//! The tool loop: send, run the tools the model calls, send their results, until it answers.

use aimlapi_client::RequestOptions;

use aimlapi_types as types;

use crate::chat::conversation::{Conversation, ToolUse, Turn};
use crate::completion::{Answer, Completion};
use crate::completions::decode::StreamChunk;
use crate::completions::stream::ChunkStream;
use crate::error::Error;
use crate::request::ChatRequest;
use crate::tool_spec::{ToolCallRecord, ToolRequest, Toolbox, WithRounds};
use crate::transport::Transport;

/// How [`Client::run_tools`](crate::Client::run_tools) runs.
#[derive(Clone, Debug)]
pub struct ToolLoop {
    /// The most requests to send (default 8); reaching it with tool calls still pending is an
    /// error.
    pub max_steps: usize,
    /// Stream each response and fold it, instead of a non-streaming call.
    pub streaming: bool,
    /// Per-request options for every request of the loop.
    pub options: RequestOptions,
}

impl Default for ToolLoop {
    fn default() -> Self {
        ToolLoop {
            max_steps: 8,
            streaming: false,
            options: RequestOptions::default(),
        }
    }
}

/// What a tool loop ended with.
#[derive(Debug)]
pub struct ToolRun<R: ChatRequest> {
    /// The last response: the model's answer.
    pub response: R::Response,
    /// The request with the whole conversation: send it again with a new user message to go on.
    pub request: R,
    /// Every tool call made, in order, with its result.
    pub calls: Vec<ToolCallRecord>,
    /// How many requests were sent.
    pub steps: usize,
}

/// The typed tool loop (see [`Client::run_tools`](crate::Client::run_tools)).
pub(crate) async fn run_tools<R>(
    transport: &Transport,
    mut request: R,
    tools: &Toolbox,
    settings: &ToolLoop,
) -> Result<ToolRun<R>, Error>
where
    R: ToolRequest,
    R::Chunk: StreamChunk<Completion = R::Response>,
{
    request.set_tools(tools)?;
    let mut sending = WithRounds::new(request);
    let mut made = Vec::new();
    for step in 1..=settings.max_steps {
        let response = if settings.streaming {
            ChunkStream::<R::Chunk>::new(
                transport
                    .stream_request(&sending, &settings.options)
                    .await?,
            )
            .completion()
            .await?
            .value
        } else {
            transport
                .send_request(&sending, &settings.options)
                .await?
                .value
        };
        let calls = response.tool_calls();
        if calls.is_empty() {
            return Ok(ToolRun {
                response,
                request: sending.into_request()?,
                calls: made,
                steps: step,
            });
        }
        let records = run_calls(tools, &calls, step).await;
        sending.push(response.text().map(std::borrow::Cow::into_owned), &records);
        made.extend(records);
    }
    Err(Error::StepLimit {
        steps: settings.max_steps,
    })
}

/// Runs the calls of one answer concurrently, each to its record.
async fn run_calls(tools: &Toolbox, calls: &[ToolUse], step: usize) -> Vec<ToolCallRecord> {
    let records = futures::future::join_all(
        calls
            .iter()
            .map(|c| tools.run(&c.id, &c.name, &c.arguments)),
    )
    .await;
    tracing::debug!(step, calls = records.len(), "ran tool calls");
    records
}

/// What a tool loop on a conversation ended with ([`Chat::run_tools`](crate::Chat::run_tools) on the chat endpoint,
/// [`Chat::run_message_tools`](crate::Chat::run_message_tools) on the Messages endpoint, whose answer is a
/// [`MessageResponse`](types::MessageResponse)).
#[derive(Debug)]
pub struct ConversationRun<T = types::ChatCompletion> {
    /// The last answer: the model's reply without tool calls.
    pub completion: Completion<T>,
    /// The whole conversation: the turns given, each answer with tool calls (and, on the
    /// Messages endpoint, its thinking blocks with their signatures) and the results, and the
    /// last answer. Add a user turn and send it again to go on.
    pub conversation: Conversation,
    /// Every tool call made, in order, with its result.
    pub calls: Vec<ToolCallRecord>,
    /// How many requests were sent.
    pub steps: usize,
}

/// One answer on its way, as a tool loop's `ask` gives it.
pub(crate) type Asked<T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Completion<T>, Error>> + Send>>;

/// Runs a tool loop on `conversation`: `ask` sends a conversation once (to either endpoint,
/// streamed and folded or not); the model's turn and the tools' results are added to it until
/// the model answers without tool calls (see [`Chat::run_tools`](crate::Chat::run_tools)(crate::Chat::run_tools)).
pub(crate) async fn run_conversation<T, F, Fut>(
    mut conversation: Conversation,
    tools: &Toolbox,
    max_steps: usize,
    mut ask: F,
) -> Result<ConversationRun<T>, Error>
where
    T: Answer,
    F: FnMut(Conversation) -> Fut,
    Fut: std::future::Future<Output = Result<Completion<T>, Error>>,
{
    let mut calls = Vec::new();
    for step in 1..=max_steps {
        let completion = ask(conversation.clone()).await?;
        let asked = completion.tool_calls();
        conversation.push(completion.turn());
        if asked.is_empty() {
            return Ok(ConversationRun {
                completion,
                conversation,
                calls,
                steps: step,
            });
        }
        let records = run_calls(tools, &asked, step).await;
        for r in &records {
            conversation.push(Turn::ToolResult {
                call_id: r.id.clone(),
                content: r.result.clone(),
                is_error: r.is_error,
            });
        }
        calls.extend(records);
    }
    Err(Error::StepLimit { steps: max_steps })
}
