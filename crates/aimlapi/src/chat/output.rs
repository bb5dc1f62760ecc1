//! Structured outputs on every page: [`Structured`], a chat whose answer is read as a `T`
//! ([`Chat::output`](super::Chat::output)). How the schema reaches the model depends on the
//! request, and the caller does not see it:
//!
//! - a page that takes `response_format` (on the chat endpoint): `json_schema`, strict, and the
//!   answer's text parsed;
//! - any other page and the Messages endpoint: one tool whose input schema is `T`'s, forced with
//!   `tool_choice`, and the call's input parsed;
//! - with thinking on (which a forced tool cannot go with): the schema asked for in the system
//!   prompt, and the answer's text parsed.

use std::borrow::Cow;
use std::marker::PhantomData;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use super::builder::Chat;
use super::tool_choice::ToolChoice;
use crate::completion::{Answer, Completion};
use crate::error::Error;
use crate::tool_spec::ToolSpec;
use aimlapi_types as types;

/// A chat whose answer is read as a `T` ([`Chat::output`] says how the schema reaches the
/// model): send it with
/// [`send`](Self::send) (the chat endpoint) or [`send_message`](Self::send_message) (the
/// Messages endpoint).
#[must_use = "a chat does nothing until it is sent"]
pub struct Structured<T> {
    chat: Chat,
    name: String,
    description: Option<String>,
    schema: Map<String, Value>,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for Structured<T> {
    fn clone(&self) -> Self {
        Structured {
            chat: self.chat.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            schema: self.schema.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Structured<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Structured")
            .field("chat", &self.chat)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// What a structured answer came to: a `T`, or the model's refusal.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome<T> {
    /// The answer, read as a `T`.
    Value(T),
    /// The model refused (Anthropic's `stop_reason: "refusal"`, OpenAI's `refusal`): what it
    /// said instead, possibly empty.
    Refused(String),
}

/// A structured answer with the completion it came in.
#[derive(Clone, Debug)]
pub struct Output<T, A = types::ChatCompletion> {
    /// The value, or the refusal.
    pub outcome: Outcome<T>,
    /// The whole answer: usage, cost, meta.
    pub completion: Completion<A>,
}

impl<T, A> Output<T, A> {
    /// The value; a refusal becomes [`Error::Output`] (kind `Decode`) keeping what the model
    /// said.
    pub fn value(self) -> Result<T, Error> {
        match self.outcome {
            Outcome::Value(v) => Ok(v),
            Outcome::Refused(text) => Err(Error::Output {
                expected: std::any::type_name::<T>().to_string(),
                why: "the model refused".into(),
                text,
            }),
        }
    }
}

/// How the schema goes out, decided per request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Technique {
    /// `response_format: {type: json_schema}`; the text is the value.
    Format,
    /// A tool forced with `tool_choice`; its input is the value.
    Tool,
    /// The schema in the system prompt; the text is the value.
    Text,
}

impl<T: JsonSchema + DeserializeOwned> Structured<T> {
    pub(crate) fn new(chat: Chat) -> Result<Self, Error> {
        let (schema, description) =
            crate::tool_spec::object_schema::<T>(&format!("output `{}`", T::schema_name()))?;
        Ok(Structured {
            chat,
            name: tool_name(&T::schema_name()),
            description,
            schema,
            _type: PhantomData,
        })
    }

    /// Sends to the chat endpoint and reads the answer as a `T`.
    pub async fn send(&self) -> Result<Output<T>, Error> {
        let technique = self.technique(self.chat.chat_shape());
        let completion = self.shaped(technique).send().await?;
        self.read(technique, completion)
    }

    /// Sends to the Messages endpoint and reads the answer as a `T`.
    pub async fn send_message(&self) -> Result<Output<T, types::MessageResponse>, Error> {
        let technique = self.technique(types::WireShape::Messages);
        let completion = self.shaped(technique).send_message().await?;
        self.read(technique, completion)
    }

    /// Streams from the chat endpoint: the value so far, as parsed JSON, after each piece
    /// that adds to it; [`StructuredStream::output`] reads the rest into the `T`.
    pub async fn stream(&self) -> Result<StructuredStream<T>, Error> {
        let technique = self.technique(self.chat.chat_shape());
        let stream = self.shaped(technique).stream().await?;
        Ok(StructuredStream {
            stream,
            technique,
            structured: Structured::clone(self),
            last: Value::Null,
        })
    }

    /// The body as it would be sent to the chat endpoint, as JSON (for logs and tests).
    pub fn body(&self) -> Result<Value, Error> {
        self.shaped(self.technique(self.chat.chat_shape())).body()
    }

    /// The name the schema goes by (the forced tool's, the `json_schema`'s).
    pub fn name(&self) -> &str {
        &self.name
    }

    fn technique(&self, shape: types::WireShape) -> Technique {
        if self.chat.thinks() {
            Technique::Text
        } else if !shape.is_messages()
            && !super::shape::writes_blocks(shape)
            && self.chat.page_takes(shape, "response_format")
        {
            Technique::Format
        } else {
            Technique::Tool
        }
    }

    /// The chat with the schema in it, the way `technique` sends it.
    fn shaped(&self, technique: Technique) -> Chat {
        let chat = self.chat.clone();
        match technique {
            Technique::Format => chat.response_format_json(json!({
                "type": "json_schema",
                "json_schema": {
                    "name": self.name,
                    "schema": Value::Object(crate::tool_spec::strict(self.schema.clone())),
                    "strict": true,
                },
            })),
            Technique::Tool => {
                let spec = ToolSpec::from_schema(
                    &self.name,
                    Some(self.description.as_deref().unwrap_or(
                        "Gives the answer: call it with the answer as its input.",
                    )),
                    Value::Object(self.schema.clone()),
                );
                match spec {
                    Ok(spec) => chat.tool(spec).tool_choice(ToolChoice::tool(&self.name)),
                    // The schema is an object (checked when it was made).
                    Err(_) => chat,
                }
            }
            Technique::Text => chat.append_system(&format!(
                "Answer with one JSON value and nothing else (no prose, no code fence), valid against this JSON Schema:\n{}",
                Value::Object(self.schema.clone())
            )),
        }
    }

    fn read<A: Answer>(
        &self,
        technique: Technique,
        completion: Completion<A>,
    ) -> Result<Output<T, A>, Error> {
        if let Some(refusal) = completion.refusal() {
            return Ok(Output {
                outcome: Outcome::Refused(refusal.into_owned()),
                completion,
            });
        }
        let called = match technique {
            Technique::Tool => completion
                .tool_calls()
                .into_iter()
                .find(|c| c.name == self.name)
                .map(|c| c.arguments),
            _ => None,
        };
        let text: Cow<'_, str> = match &called {
            Some(arguments) => Cow::Borrowed(arguments),
            None => completion.text().unwrap_or_default(),
        };
        let value = parse_value::<T>(&text).map_err(|why| Error::Output {
            expected: T::schema_name().into_owned(),
            why,
            text: text.to_string(),
        })?;
        Ok(Output {
            outcome: Outcome::Value(value),
            completion,
        })
    }
}

/// A structured answer as it arrives ([`Structured::stream`]): a [`Stream`](futures::Stream) of
/// the value so far as parsed JSON (a partial object grows as its text arrives; a prefix is never
/// an error), one item each time it changes; `Unpin`.
pub struct StructuredStream<T> {
    stream: crate::completions::stream::ChatStream,
    technique: Technique,
    structured: Structured<T>,
    last: Value,
}

impl<T> std::fmt::Debug for StructuredStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StructuredStream")
            .field("so_far", &self.last)
            .finish_non_exhaustive()
    }
}

impl<T: JsonSchema + DeserializeOwned> StructuredStream<T> {
    /// Reads the rest and returns the answer as a `T` (or the refusal).
    pub async fn output(self) -> Result<Output<T>, Error> {
        let completion = self.stream.completion().await?;
        self.structured.read(self.technique, completion)
    }

    fn so_far(&self) -> Value {
        match self.technique {
            Technique::Tool => self.stream.tool_input(0).unwrap_or(Value::Null),
            _ => self.stream.text_value(),
        }
    }
}

impl<T: JsonSchema + DeserializeOwned> futures::Stream for StructuredStream<T> {
    type Item = Result<Value, Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        loop {
            match std::pin::Pin::new(&mut self.stream).poll_next(cx) {
                Poll::Ready(Some(Ok(_))) => {
                    let now = self.so_far();
                    if now != self.last && !now.is_null() {
                        self.last = now.clone();
                        return Poll::Ready(Some(Ok(now)));
                    }
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// `text` read as a `T`: as it is, else inside a code fence, else from its first `{` or `[` to
/// the last matching close.
fn parse_value<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let whole = text.trim();
    let first = match serde_json::from_str::<T>(whole) {
        Ok(v) => return Ok(v),
        Err(e) => e.to_string(),
    };
    let fenced = whole
        .strip_prefix("```")
        .map(|rest| rest.trim_start_matches(|c: char| c.is_ascii_alphanumeric()))
        .and_then(|rest| rest.trim_end().strip_suffix("```"));
    let braced = ['{', '['].iter().find_map(|open| {
        let close = if *open == '{' { '}' } else { ']' };
        let start = whole.find(*open)?;
        let end = whole.rfind(close)?;
        (end > start).then(|| &whole[start..=end])
    });
    fenced
        .into_iter()
        .chain(braced)
        .find_map(|inner| serde_json::from_str::<T>(inner.trim()).ok())
        .ok_or(if whole.is_empty() {
            "the answer is empty".to_string()
        } else {
            first
        })
}

/// A tool or schema name from a type's: the characters the APIs take (`a-z A-Z 0-9 _ -`), at most
/// 64.
fn tool_name(schema_name: &str) -> String {
    let name: String = schema_name
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '_' | '-' => c,
            _ => '_',
        })
        .take(64)
        .collect();
    if name.is_empty() {
        "answer".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct City {
        name: String,
    }

    #[test]
    fn the_value_is_found_in_prose_fences_and_plain_text() {
        let plain: City = parse_value(r#"{"name": "Oslo"}"#).unwrap();
        assert_eq!(plain.name, "Oslo");
        let fenced: City = parse_value("```json\n{\"name\": \"Oslo\"}\n```").unwrap();
        assert_eq!(fenced.name, "Oslo");
        let prose: City = parse_value("Here it is: {\"name\": \"Oslo\"}. Enjoy.").unwrap();
        assert_eq!(prose.name, "Oslo");
        assert!(parse_value::<City>("no").is_err());
        assert_eq!(
            parse_value::<City>("  ").unwrap_err(),
            "the answer is empty"
        );
    }

    #[test]
    fn names_keep_to_what_the_apis_take() {
        assert_eq!(tool_name("Wrapper<City>"), "Wrapper_City_");
        assert_eq!(tool_name(""), "answer");
        assert_eq!(tool_name(&"x".repeat(100)).len(), 64);
    }
}
