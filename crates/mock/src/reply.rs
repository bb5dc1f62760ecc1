//! Reply scripting: what the server answers to one request ([`Reply`], [`Script`]), the stream
//! faults and format a reply can ask for, and the `x-mock-reply` header that scripts a reply per
//! request ([`Reply::parse`]).

use crate::response::check_header;
#[cfg(doc)]
use crate::{MockBuilder, MockServer};

/// Which stream format to send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Plain chunks, `data: {chunk}` (the API's format since 2026-02-13).
    #[default]
    Current,
    /// Each chunk wrapped as `{"event": chunk, "state": {..., "usage": {"input_tokens",
    /// "output_tokens"}}}` (the format before 2026-02-13).
    Legacy,
}

/// A fault injected into a stream. Counts are of data chunks sent before the fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// This many `: OPENROUTER PROCESSING` comment lines before the first chunk.
    KeepAlive(usize),
    /// The connection is dropped after this many chunks, mid-body.
    DropAfter(usize),
    /// Nothing more is sent after this many chunks; the connection stays open.
    StallAfter(usize),
    /// A payload that is not JSON after this many chunks.
    MalformedAfter(usize),
    /// An OpenRouter error chunk (`error {code, message}`, `finish_reason: "error"`) and
    /// `[DONE]` after this many chunks.
    ErrorChunkAfter {
        /// Chunks sent before it.
        after: usize,
        /// The error code.
        code: i64,
        /// The error message.
        message: String,
    },
}

/// A tool call in a scripted reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptedToolCall {
    /// The call's id.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments, as the JSON text the model would send.
    pub arguments: String,
}

/// What a scripted reply says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Script {
    pub(crate) text: Option<String>,
    pub(crate) tool_calls: Vec<ScriptedToolCall>,
    pub(crate) usage: (u64, u64),
    pub(crate) finish_reason: Option<String>,
    /// Prompt tokens read from and written to the cache, on the Messages endpoint.
    pub(crate) cache: (u64, u64),
    /// Thinking and its signature, on the Messages endpoint.
    pub(crate) thinking: Option<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Documented,
    Scripted(Script),
    Status { status: u16, body: Option<String> },
}

/// What the server does with one request: the documented answer, a scripted one, or an error
/// status, with faults for streams. Queue replies with [`MockServer::push`]; a request that finds
/// the queue empty gets [`Reply::documented`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub(crate) kind: Kind,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) faults: Vec<Fault>,
    pub(crate) format: Option<Format>,
    pub(crate) cost: bool,
}

impl Reply {
    fn of(kind: Kind) -> Reply {
        Reply {
            kind,
            headers: Vec::new(),
            faults: Vec::new(),
            format: None,
            cost: true,
        }
    }

    /// The documented response, or the documented transcript when the request streams.
    pub fn documented() -> Reply {
        Reply::of(Kind::Documented)
    }

    /// An answer with this text (streamed a few characters per chunk). Usage defaults to 0/0.
    pub fn text(text: impl Into<String>) -> Reply {
        Reply::of(Kind::Scripted(Script {
            text: Some(text.into()),
            ..Script::default()
        }))
    }

    /// An answer that calls a tool (streamed with its arguments over many chunks); chain
    /// [`and_tool_call`](Self::and_tool_call) for more.
    pub fn tool_call(id: &str, name: &str, arguments: &str) -> Reply {
        Reply::of(Kind::Scripted(Script::default())).and_tool_call(id, name, arguments)
    }

    /// One more tool call in a scripted answer.
    pub fn and_tool_call(mut self, id: &str, name: &str, arguments: &str) -> Reply {
        if let Kind::Scripted(s) = &mut self.kind {
            s.tool_calls.push(ScriptedToolCall {
                id: id.into(),
                name: name.into(),
                arguments: arguments.into(),
            });
        }
        self
    }

    /// Thinking with its signature before a scripted answer's text (the Messages endpoint's
    /// `thinking` block; the chat endpoint leaves it out).
    pub fn thinking(mut self, thinking: &str, signature: &str) -> Reply {
        if let Kind::Scripted(s) = &mut self.kind {
            s.thinking = Some((thinking.into(), signature.into()));
        }
        self
    }

    /// The usage a scripted answer reports.
    pub fn usage(mut self, prompt_tokens: u64, completion_tokens: u64) -> Reply {
        if let Kind::Scripted(s) = &mut self.kind {
            s.usage = (prompt_tokens, completion_tokens);
        }
        self
    }

    /// The prompt tokens a scripted Messages answer reports as read from the cache
    /// (`cache_read_input_tokens`) and written to it (`cache_creation_input_tokens`), beside
    /// [`usage`](Self::usage)'s uncached `input_tokens`.
    pub fn cache_tokens(mut self, read: u64, written: u64) -> Reply {
        if let Kind::Scripted(s) = &mut self.kind {
            s.cache = (read, written);
        }
        self
    }

    /// The finish reason a scripted answer reports (default `stop`, or `tool_calls`).
    pub fn finish_reason(mut self, reason: &str) -> Reply {
        if let Kind::Scripted(s) = &mut self.kind {
            s.finish_reason = Some(reason.into());
        }
        self
    }

    /// An answer with this status and the vendor's error body for it (see [`body`](Self::body)).
    pub fn status(status: u16) -> Reply {
        Reply::of(Kind::Status { status, body: None })
    }

    /// The body of a [`status`](Self::status) reply, instead of the vendor's.
    pub fn body(mut self, body: impl Into<String>) -> Reply {
        if let Kind::Status { body: b, .. } = &mut self.kind {
            *b = Some(body.into());
        }
        self
    }

    /// A header on the response (`Retry-After`, `retry-after-ms`, `x-should-retry`, ...).
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// A fault for the stream, if the request streams.
    pub fn fault(mut self, fault: Fault) -> Reply {
        self.faults.push(fault);
        self
    }

    /// The stream format for this reply, instead of the server's.
    pub fn format(mut self, format: Format) -> Reply {
        self.format = Some(format);
        self
    }

    /// An answer without the cost: no `meta.usage` in the body, no `x-aimlapi-credits-used` or
    /// `x-aimlapi-usd-spent` header, no `cost` in the `usage` (nor in a stream's last chunks),
    /// as when the vendor sends no figure. [`MockBuilder::cost`] does this for every answer.
    pub fn without_cost(mut self) -> Reply {
        self.cost = false;
        self
    }

    /// Reads a reply from the `x-mock-reply` header: `;`-separated settings, e.g.
    /// `status=429; header=Retry-After:1` or `text=Hi; drop-after=2; legacy`. Settings:
    /// `status=N`, `body=TEXT`, `header=NAME:VALUE`, `text=TEXT`, `tool=ID,NAME,ARGS`,
    /// `thinking=TEXT,SIGNATURE` (the Messages endpoint),
    /// `usage=P,C`, `keep-alive=N`, `drop-after=N`, `stall-after=N`, `malformed-after=N`,
    /// `error-chunk-after=N`, `legacy`, `no-cost` ([`without_cost`](Self::without_cost)).
    pub fn parse(spec: &str) -> Result<Reply, String> {
        let mut reply = Reply::documented();
        for part in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            let number = || -> Result<usize, String> {
                value
                    .trim()
                    .parse()
                    .map_err(|_| format!("`{part}`: not a number"))
            };
            reply = match key.trim() {
                "status" => {
                    let status = u16::try_from(number()?)
                        .ok()
                        .filter(|s| (100..=599).contains(s))
                        .ok_or_else(|| format!("`{part}`: not an HTTP status"))?;
                    Reply {
                        kind: Kind::Status { status, body: None },
                        ..reply
                    }
                }
                "body" => reply.body(value),
                "header" => {
                    let (n, v) = value
                        .split_once(':')
                        .ok_or_else(|| format!("`{part}`: expected NAME:VALUE"))?;
                    let (n, v) = (n.trim(), v.trim());
                    check_header(n, v).map_err(|e| format!("`{part}`: {e}"))?;
                    reply.header(n, v)
                }
                "text" => {
                    reply.script_mut().text = Some(value.into());
                    reply
                }
                "thinking" => {
                    let (thinking, signature) = value
                        .rsplit_once(',')
                        .ok_or_else(|| format!("`{part}`: expected TEXT,SIGNATURE"))?;
                    reply.script_mut().thinking = Some((thinking.into(), signature.into()));
                    reply
                }
                "tool" => {
                    let mut it = value.splitn(3, ',');
                    let (Some(id), Some(name), Some(args)) = (it.next(), it.next(), it.next())
                    else {
                        return Err(format!("`{part}`: expected ID,NAME,ARGS"));
                    };
                    reply.script_mut();
                    reply.and_tool_call(id, name, args)
                }
                "usage" => {
                    let (p, c) = value
                        .split_once(',')
                        .and_then(|(p, c)| Some((p.trim().parse().ok()?, c.trim().parse().ok()?)))
                        .ok_or_else(|| format!("`{part}`: expected P,C"))?;
                    reply.script_mut();
                    reply.usage(p, c)
                }
                "keep-alive" => {
                    let n = number()?;
                    if n > MAX_KEEP_ALIVES {
                        return Err(format!("`{part}`: at most {MAX_KEEP_ALIVES}"));
                    }
                    reply.fault(Fault::KeepAlive(n))
                }
                "drop-after" => reply.fault(Fault::DropAfter(number()?)),
                "stall-after" => reply.fault(Fault::StallAfter(number()?)),
                "malformed-after" => reply.fault(Fault::MalformedAfter(number()?)),
                "error-chunk-after" => reply.fault(Fault::ErrorChunkAfter {
                    after: number()?,
                    code: 502,
                    message: "upstream error (injected by the mock)".into(),
                }),
                "legacy" => reply.format(Format::Legacy),
                "no-cost" => reply.without_cost(),
                other => return Err(format!("unknown setting `{other}`")),
            };
        }
        Ok(reply)
    }
}

/// The most keep-alive comments one reply sends.
pub(crate) const MAX_KEEP_ALIVES: usize = 10_000;

impl Reply {
    /// The reply's script, made an empty one first unless the reply is scripted already.
    fn script_mut(&mut self) -> &mut Script {
        if !matches!(self.kind, Kind::Scripted(_)) {
            self.kind = Kind::Scripted(Script::default());
        }
        match &mut self.kind {
            Kind::Scripted(s) => s,
            _ => unreachable!("made scripted above"),
        }
    }
}
