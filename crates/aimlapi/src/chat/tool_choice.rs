//! [`ToolChoice`]: whether and which tool the model calls, one type for every dialect.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// Whether the model may, must or must not call tools, and whether it may make several calls in
/// one turn (`tool_choice`, with `parallel_tool_calls` or `disable_parallel_tool_use`). Written
/// in the dialect of the request: `"auto"`, `"none"`, `"required"` or
/// `{"type": "function", "function": {"name"}}` on OpenAI-style pages, `{"type": "auto" | "any" |
/// "none"}` or `{"type": "tool", "name"}` on Anthropic-style pages and the Messages endpoint.
///
/// A choice that names a tool the request does not offer, `any` without tools, and a forced
/// choice (`any` or a named tool) beside thinking are refused before sending. In a tool loop a
/// forced choice holds for the first request only; the steps after it go back to `auto`.
///
/// ```
/// use aimlapi::chat::ToolChoice;
///
/// let choice = ToolChoice::tool("get_weather").parallel(false);
/// assert!(choice.is_forced());
/// assert_eq!(choice.tool_name(), Some("get_weather"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ToolChoice {
    mode: Mode,
    parallel: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Mode {
    Auto,
    None,
    Any,
    Tool(String),
}

impl ToolChoice {
    /// The model decides whether to call tools (`auto`, the API's default when tools are
    /// offered).
    pub fn auto() -> Self {
        Self::of(Mode::Auto)
    }

    /// The model calls no tool (`none`), though tools are offered.
    pub fn none() -> Self {
        Self::of(Mode::None)
    }

    /// The model calls at least one of the tools offered (`any`; OpenAI's `required`).
    pub fn any() -> Self {
        Self::of(Mode::Any)
    }

    /// The model calls the tool `name` (which the request must offer).
    pub fn tool(name: impl Into<String>) -> Self {
        Self::of(Mode::Tool(name.into()))
    }

    fn of(mode: Mode) -> Self {
        ToolChoice {
            mode,
            parallel: true,
        }
    }

    /// Whether the model may make several tool calls in one turn (the default) or at most one
    /// (`parallel_tool_calls: false` on OpenAI-style pages, `disable_parallel_tool_use: true`
    /// on Anthropic-style ones).
    pub fn parallel(mut self, on: bool) -> Self {
        self.parallel = on;
        self
    }

    /// Whether the choice makes the model call a tool (`any` or a named tool).
    pub fn is_forced(&self) -> bool {
        matches!(self.mode, Mode::Any | Mode::Tool(_))
    }

    /// The tool the choice names, if it names one.
    pub fn tool_name(&self) -> Option<&str> {
        match &self.mode {
            Mode::Tool(name) => Some(name),
            _ => None,
        }
    }

    /// Whether it allows several calls in one turn.
    pub fn is_parallel(&self) -> bool {
        self.parallel
    }

    /// The choice for the steps of a tool loop after the first: a forced choice becomes `auto`
    /// (kept, it would make the model call tools forever), with its parallel setting.
    #[cfg(feature = "tools")]
    pub(crate) fn after_first_step(self) -> Self {
        match self.mode {
            Mode::Any | Mode::Tool(_) => ToolChoice {
                mode: Mode::Auto,
                ..self
            },
            _ => self,
        }
    }

    /// The top-level properties the choice is written in: `tool_choice`, and on OpenAI-style
    /// pages `parallel_tool_calls` when parallel calls are off.
    pub(crate) fn properties(&self, blocks: bool) -> impl Iterator<Item = &'static str> {
        let parallel = (!blocks && !self.parallel).then_some("parallel_tool_calls");
        std::iter::once("tool_choice").chain(parallel)
    }

    /// The `tool_choice` value in the dialect that writes blocks (`blocks`) or the OpenAI one.
    pub(crate) fn written(&self, blocks: bool) -> Written<'_> {
        Written {
            choice: self,
            blocks,
        }
    }
}

/// A [`ToolChoice`]'s `tool_choice` value as one dialect writes it.
pub(crate) struct Written<'a> {
    choice: &'a ToolChoice,
    blocks: bool,
}

impl Serialize for Written<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ToolChoice { mode, parallel } = self.choice;
        if !self.blocks {
            return match mode {
                Mode::Auto => s.serialize_str("auto"),
                Mode::None => s.serialize_str("none"),
                Mode::Any => s.serialize_str("required"),
                Mode::Tool(name) => {
                    #[derive(Serialize)]
                    struct Function<'a> {
                        name: &'a str,
                    }
                    let mut map = s.serialize_map(Some(2))?;
                    map.serialize_entry("type", "function")?;
                    map.serialize_entry("function", &Function { name })?;
                    map.end()
                }
            };
        }
        let mut map = s.serialize_map(None)?;
        let kind = match mode {
            Mode::Auto => "auto",
            Mode::None => "none",
            Mode::Any => "any",
            Mode::Tool(_) => "tool",
        };
        map.serialize_entry("type", kind)?;
        if let Mode::Tool(name) = mode {
            map.serialize_entry("name", name)?;
        }
        // `none` takes no parallel setting.
        if !parallel && *mode != Mode::None {
            map.serialize_entry("disable_parallel_tool_use", &true)?;
        }
        map.end()
    }
}
