//! The checks a request passes before it is written: what its shape can carry, and what the
//! pages of its endpoint take (see [`Pages`]).

use super::conversation::{Conversation, Image, Part, Turn};
use super::settings::{Sampling, ThinkingMode, Unsupported};
use super::shape::writes_blocks;
use super::write::{joined_text, last_written};
use crate::error::Error;
use crate::model::Model;
use aimlapi_types::{ModelPage, WireShape};

/// Whether images can go by URL (the Anthropic-style chat pages take base64 only).
fn takes_image_urls(shape: WireShape) -> bool {
    shape != WireShape::Anthropic
}

/// What [`checked`] lets through: the sampling to send (a copy only when settings are dropped)
/// and which of the request's marks and tools are written.
pub(crate) struct Checked<'s> {
    pub(crate) sampling: std::borrow::Cow<'s, Sampling>,
    /// The conversation's breakpoints (system prompt and turns).
    pub(crate) cache_conversation: bool,
    /// The tools' breakpoints.
    pub(crate) cache_tools: bool,
    /// The pages checked against (`None`: nothing was checked).
    pub(crate) pages: Option<Pages>,
}

impl Checked<'_> {
    /// Whether a server tool of the dated type `kind` goes out (the pages take it, or nothing
    /// was checked).
    pub(crate) fn sends_tool(&self, kind: &str) -> bool {
        self.pages.is_none_or(|p| p.takes_tool(kind))
    }

    /// Whether the Anthropic-style fields of a caller's tool (`strict`, `defer_loading`) go
    /// out: where the pages' tools take the `custom` form that has them, or nothing was checked.
    #[cfg(feature = "tools")]
    pub(crate) fn custom_tool_fields(&self) -> bool {
        self.sends_tool("custom")
    }
}

/// The tools a request offers, as the checks see them.
#[derive(Debug, Default)]
pub(crate) struct Offered<'a> {
    /// Every tool's name (the caller's and the server tools').
    pub(crate) names: Vec<&'a str>,
    /// How many carry a cache breakpoint.
    pub(crate) cached: usize,
    /// The server tools' dated types.
    pub(crate) server: Vec<&'a str>,
    /// Whether one of them is loaded only on a tool search (`defer_loading`).
    pub(crate) deferred: bool,
}

/// Anthropic's limit of cache breakpoints in one request.
const MAX_CACHE_POINTS: usize = 4;

/// Checks what `shape` can carry, the tool choice against the tools `offered`, and what the
/// pages of the endpoint take (see [`Pages`]).
pub(crate) fn checked<'s>(
    model: &Model,
    shape: WireShape,
    conversation: &Conversation,
    sampling: &'s Sampling,
    offered: &Offered<'_>,
    unsupported: Unsupported,
) -> Result<Checked<'s>, Error> {
    let cannot = |what: String| Error::CannotWrite {
        model: model.id().to_string(),
        what,
    };
    check_cache_points(model, conversation, offered.cached, shape)?;
    let image_url = |turn: &Turn| match turn {
        Turn::User(parts) => parts
            .iter()
            .any(|p| matches!(p, Part::Image(Image::Url(_)))),
        _ => false,
    };
    if !takes_image_urls(shape) && conversation.turns().iter().any(image_url) {
        return Err(cannot(
            "an image by URL: its page takes images as base64 only".into(),
        ));
    }
    check_thinking(sampling)?;
    check_tool_choice(sampling, offered)?;
    let Some(page) = Pages::of(model, shape).filter(|_| unsupported != Unsupported::Send) else {
        return Ok(Checked {
            sampling: std::borrow::Cow::Borrowed(sampling),
            cache_conversation: true,
            cache_tools: true,
            pages: None,
        });
    };
    // `thinking` goes as `{type, ...}`: the page must take that variant.
    let takes = |p: &str| match p {
        "thinking" => page.accepts(p) && sampling.thinking.is_some_and(|t| page.thinks(t.kind())),
        "thinking.display" => page.accepts("thinking") && page.shows_thinking(),
        _ => page.accepts(p),
    };
    let mut refused: Vec<std::borrow::Cow<'_, str>> = sampling
        .set(shape)
        .filter(|p| !takes(p))
        .map(std::borrow::Cow::Borrowed)
        .collect();
    if sampling.tool_choice.is_some() || !sampling.properties.is_empty() {
        refused.extend(
            sampling
                .set_beside(shape)
                .filter(|p| !takes(p))
                .map(std::borrow::Cow::Borrowed),
        );
    }
    // Where the breakpoints go: the system prompt is a top-level `system` in the Anthropic
    // shapes and a message in the OpenAI one.
    let system_place = match shape {
        s if writes_blocks(s) => "system",
        _ => "messages",
    };
    let mut cache_conversation = true;
    for (at, _) in conversation.cache_points() {
        let (place, property) = match at {
            0 => (system_place, "system.cache_control"),
            _ => ("messages", "messages.cache_control"),
        };
        if !page.caches(place) {
            cache_conversation = false;
            refused.push(property.into());
        }
    }
    let cache_tools = offered.cached == 0 || page.caches("tools");
    if !cache_tools {
        refused.push("tools.cache_control".into());
    }
    for kind in offered.server.iter().filter(|k| !page.takes_tool(k)) {
        refused.push(format!("tools.type: {kind}").into());
    }
    if offered.deferred && !page.takes_tool("custom") {
        refused.push("tools.defer_loading".into());
    }
    let checked = |sampling| Checked {
        sampling,
        cache_conversation,
        cache_tools,
        pages: Some(page),
    };
    match (refused.first(), unsupported) {
        (None, _) => Ok(checked(std::borrow::Cow::Borrowed(sampling))),
        (Some(property), Unsupported::Refuse) => Err(Error::Unsupported {
            model: model.id().to_string(),
            // A page with `thinking` but not this mode: name the mode.
            property: match sampling.thinking {
                Some(t) if *property == "thinking" && page.accepts("thinking") => {
                    format!("thinking.type: {}", t.kind())
                }
                _ => property.to_string(),
            },
            page: page.name(),
        }),
        _ => {
            let mut kept = sampling.clone();
            for property in &refused {
                kept.clear(property);
            }
            Ok(checked(std::borrow::Cow::Owned(kept)))
        }
    }
}

/// A tool choice the API would refuse: a tool the request does not offer, `any` without tools,
/// a forced choice beside thinking (only `auto` and `none` go with it).
fn check_tool_choice(sampling: &Sampling, offered: &Offered<'_>) -> Result<(), Error> {
    let Some(choice) = &sampling.tool_choice else {
        return Ok(());
    };
    if let Some(name) = choice.tool_name() {
        if !offered.names.contains(&name) {
            return Err(Error::InvalidRequest(format!(
                "tool_choice names the tool `{name}`, which the request does not offer (it offers {})",
                match offered.names.as_slice() {
                    [] => "no tools".to_string(),
                    names => format!("`{}`", names.join("`, `")),
                }
            )));
        }
    } else if choice.is_forced() && offered.names.is_empty() {
        return Err(Error::InvalidRequest(
            "tool_choice `any` needs at least one tool offered".into(),
        ));
    }
    let thinking = matches!(
        sampling.thinking,
        Some(ThinkingMode::Enabled { .. } | ThinkingMode::Adaptive)
    );
    if choice.is_forced() && thinking {
        return Err(Error::InvalidRequest(
            "a forced tool choice (`any` or a named tool) cannot go with thinking: the API takes only `auto` or `none` beside it; turn thinking off or let the model choose".into(),
        ));
    }
    Ok(())
}

/// The pages a request is checked against. On the chat endpoint, the model's page. On the
/// Messages endpoint, the Messages shape (every Messages page and the batch page, together),
/// the model's own Messages page and its chat page when that one writes the same blocks: a
/// property is taken when any of them takes it, except a top-level property the model's
/// block-writing chat page leaves out where other pages of its dialect take it (Claude Opus
/// 4.7 takes no `temperature`, `top_p` or `top_k`, on either endpoint). `None` for a model no
/// page lists: nothing is checked.
#[derive(Clone, Copy)]
pub(crate) struct Pages {
    /// The page a refusal names first.
    first: &'static ModelPage,
    also: [Option<&'static ModelPage>; 2],
    /// On the Messages endpoint, the model's chat page when it writes blocks.
    chat: Option<&'static ModelPage>,
}

impl Pages {
    pub(crate) fn of(model: &Model, shape: WireShape) -> Option<Pages> {
        let chat = model.page()?;
        if !shape.is_messages() {
            return Some(Pages {
                first: chat,
                also: [None, None],
                chat: None,
            });
        }
        let own = model.messages_page();
        let blocks = Some(chat).filter(|p| writes_blocks(p.shape));
        Some(Pages {
            first: own.unwrap_or(&aimlapi_types::MESSAGES_SHAPE),
            also: [Some(&aimlapi_types::MESSAGES_SHAPE), blocks],
            chat: blocks.filter(|_| own.is_none()),
        })
    }

    /// Whether the model's chat page leaves out `name` where its dialect's other pages take it.
    fn left_out(&self, name: &str) -> bool {
        self.chat.is_some_and(|chat| {
            !chat.accepts(name)
                && aimlapi_types::MODEL_PAGES
                    .iter()
                    .any(|p| p.shape == chat.shape && p.accepts(name))
        })
    }

    fn each(&self) -> impl Iterator<Item = &'static ModelPage> + '_ {
        std::iter::once(self.first).chain(self.also.iter().flatten().copied())
    }

    /// The page's name, for a refusal.
    pub(crate) fn name(&self) -> &'static str {
        self.first.page
    }

    /// Whether a page takes the top-level property `name`.
    pub(crate) fn accepts(&self, name: &str) -> bool {
        self.each().any(|p| p.accepts(name)) && !self.left_out(name)
    }

    /// Whether a page takes a `cache_control` marker under `name`.
    pub(crate) fn caches(&self, name: &str) -> bool {
        self.each().any(|p| p.caches(name))
    }

    /// Whether a page takes the thinking mode `kind`.
    fn thinks(&self, kind: &str) -> bool {
        self.each().any(|p| p.thinking.contains(&kind))
    }

    /// Whether a page's tools take the `type` `kind`.
    pub(crate) fn takes_tool(&self, kind: &str) -> bool {
        self.each().any(|p| p.takes_tool(kind))
    }

    /// Whether a page takes `thinking.display`.
    fn shows_thinking(&self) -> bool {
        self.each().any(|p| p.thinking_display)
    }
}

/// Where the conversation's and the tools' cache breakpoints go: each after something, at
/// most four in all, on a block that can carry one.
fn check_cache_points(
    model: &Model,
    conversation: &Conversation,
    cached_tools: usize,
    shape: WireShape,
) -> Result<(), Error> {
    let points = conversation.cache_points();
    if points.len() + cached_tools > MAX_CACHE_POINTS {
        return Err(Error::InvalidRequest(format!(
            "{} cache breakpoints: a request takes at most {MAX_CACHE_POINTS}",
            points.len() + cached_tools
        )));
    }
    for (at, _) in points {
        let Some(index) = at.checked_sub(1) else {
            if conversation.system_prompt().is_none() {
                return Err(Error::InvalidRequest(
                    "a cache breakpoint before any system prompt or turn".into(),
                ));
            }
            continue;
        };
        let carries = match conversation.turns().get(index) {
            None => false,
            // The serializers mark the last part a user turn writes (thinking is left out).
            Some(Turn::User(parts)) => last_written(parts).is_some(),
            Some(Turn::ToolResult { .. }) => true,
            // In place in the OpenAI-style dialects only (the others move it to `system`).
            Some(Turn::System(_)) => !writes_blocks(shape),
            Some(Turn::Assistant {
                content,
                tool_calls,
            }) => {
                if writes_blocks(shape) {
                    !tool_calls.is_empty()
                        || content
                            .iter()
                            .rfind(|p| !matches!(p, Part::ReasoningDetails(_)))
                            .is_some_and(|p| {
                                !matches!(p, Part::Thinking { .. } | Part::RedactedThinking { .. })
                            })
                } else {
                    // OpenAI-style assistant messages carry it on a text part only.
                    joined_text(content).is_some()
                }
            }
        };
        if !carries {
            return Err(Error::CannotWrite {
                model: model.id().to_string(),
                what: format!(
                    "a cache breakpoint after turn {index}: the turn has no block that can carry one (thinking cannot)"
                ),
            });
        }
    }
    Ok(())
}

/// Anthropic's bounds on `thinking`: a budget of at least 1,024 tokens and fewer than
/// `max_tokens`; `display` only beside thinking that is on.
fn check_thinking(sampling: &Sampling) -> Result<(), Error> {
    if let (None | Some(ThinkingMode::Disabled), Some(display)) =
        (sampling.thinking, sampling.thinking_display)
    {
        return Err(Error::InvalidRequest(format!(
            "thinking display `{}` needs thinking enabled or adaptive",
            display.as_str()
        )));
    }
    if let Some(ThinkingMode::Enabled {
        budget_tokens: budget,
    }) = sampling.thinking
    {
        if budget < 1024 {
            return Err(Error::InvalidRequest(format!(
                "thinking needs a budget of at least 1024 tokens, not {budget}"
            )));
        }
        if let Some(max) = sampling.max_tokens.filter(|max| budget >= *max) {
            return Err(Error::InvalidRequest(format!(
                "the thinking budget ({budget} tokens) must be below max_tokens ({max})"
            )));
        }
    }
    Ok(())
}
