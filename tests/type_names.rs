//! The generated type names: readable, stable, and listed in a snapshot.

use aimlapi_tests::generated_types_source;

/// Every top-level type of the generated types crate (the builder module's are indented).
fn type_names() -> Vec<String> {
    let mut names: Vec<String> = generated_types_source()
        .lines()
        .filter_map(|l| {
            l.strip_prefix("pub struct ")
                .or_else(|| l.strip_prefix("pub enum "))
        })
        .map(|rest| {
            rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                .next()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn the_type_name_list_is_pinned() {
    let names = type_names();
    assert!(
        names.len() > 100,
        "only {} types found: is the generated file's layout different?",
        names.len()
    );
    insta::assert_snapshot!(names.join("\n"));
}

#[test]
fn no_name_is_a_numbered_variant_or_longer_than_40_characters() {
    let bad: Vec<String> = type_names()
        .into_iter()
        .filter(|n| {
            let numbered = n
                .match_indices("Variant")
                .any(|(i, _)| n[i + 7..].starts_with(|c: char| c.is_ascii_digit()));
            numbered || n.len() > 40
        })
        .collect();
    assert!(bad.is_empty(), "unreadable generated names: {bad:?}");
}

#[test]
fn the_types_a_reader_looks_for_exist() {
    let names = type_names();
    for want in [
        // requests, both dialects and OpenRouter
        "Claude35HaikuRequest",
        "Claude35SonnetRequest",
        "OpenRouterRequest",
        // messages
        "Message",
        "SystemMessage",
        "UserMessage",
        "AssistantMessage",
        "ToolMessage",
        "DeveloperMessage",
        "FunctionMessage",
        "Claude35SonnetMessage",
        // content parts
        "TextPart",
        "ImageUrlPart",
        "ImagePart",
        "InputAudioPart",
        "FilePart",
        "RefusalPart",
        "ToolResultPart",
        "ToolUsePart",
        "UserContent",
        "UserContentPart",
        // tools
        "FunctionTool",
        "FunctionToolCall",
        "ToolChoice",
        "ToolChoiceMode",
        "FunctionToolChoice",
        "AutoToolChoice",
        "ObjectInputSchema",
        "ResponseFormat",
        "JsonSchemaResponseFormat",
        // responses and chunks
        "ChatCompletion",
        "Choice",
        "ChoiceMessage",
        "FinishReason",
        "Usage",
        "ChatCompletionChunk",
        "ChunkChoice",
        "Delta",
        "DeltaToolCall",
        "OpenRouterChatCompletionChunk",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "no generated type named {want}"
        );
    }
}
