//! The tool loop: send, run the tools the model calls, send their results, until it answers.

use aimlapi_client::RequestOptions;

use crate::accumulate::StreamChunk;
use crate::api::Client;
use crate::completion::tool_calls_of;
use crate::error::Error;
use crate::request::ChatRequest;
use crate::tool_spec::{ToolCallRecord, ToolRequest, Toolbox};

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

impl Client {
    /// Runs a tool loop: sets `tools` on `request`, sends it, runs the tool calls the model asks
    /// for (concurrently), appends the model's turn and the results in the request's dialect
    /// (OpenAI-style `tool` messages, or Anthropic-style `tool_use` and `tool_result` blocks), and
    /// repeats until the model answers without tool calls or `settings.max_steps` requests were
    /// sent ([`Error::StepLimit`]). With `settings.streaming` each response is streamed and
    /// folded. A tool that fails, is unknown or gets arguments it cannot read answers with an
    /// error result, which the model sees.
    pub async fn run_tools<R>(
        &self,
        mut request: R,
        tools: &Toolbox,
        settings: &ToolLoop,
    ) -> Result<ToolRun<R>, Error>
    where
        R: ToolRequest,
        R::Chunk: StreamChunk<Completion = R::Response>,
    {
        use crate::request::ChatResponse;
        request.set_tools(tools)?;
        let mut made = Vec::new();
        for step in 1..=settings.max_steps {
            let response = if settings.streaming {
                self.stream(&request, &settings.options)
                    .await?
                    .collect_completion()
                    .await?
            } else {
                self.chat_completion_with(&request, &settings.options)
                    .await?
                    .value
            };
            let calls = tool_calls_of(response.tool_calls());
            if calls.is_empty() {
                return Ok(ToolRun {
                    response,
                    request,
                    calls: made,
                    steps: step,
                });
            }
            let records = futures::future::join_all(
                calls
                    .iter()
                    .map(|c| tools.run(&c.id, &c.name, &c.arguments)),
            )
            .await;
            tracing::debug!(step, calls = records.len(), "ran tool calls");
            request.push_tool_round(response.text().map(str::to_string), &records)?;
            made.extend(records);
        }
        Err(Error::StepLimit {
            steps: settings.max_steps,
        })
    }
}
