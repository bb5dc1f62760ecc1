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

/// Qualified names stop at 40 characters; a name taken whole from the wire's own `type` constant
/// (`text_editor_code_execution_tool_result_error` + `Content`) may run to 52 (its `type` enum adds `Type`).
#[test]
fn no_name_is_numbered_or_longer_than_52_characters() {
    let bad: Vec<String> = type_names()
        .into_iter()
        .filter(|n| {
            let numbered = n
                .match_indices("Variant")
                .any(|(i, _)| n[i + 7..].starts_with(|c: char| c.is_ascii_digit()));
            // A digit at the end that is not part of a date or version in the wire's name
            // (`Bash20250124Tool` ends in a word) is a number added to make a name unique.
            let suffixed = n.ends_with(|c: char| c.is_ascii_digit());
            numbered || suffixed || n.len() > 52
        })
        .collect();
    assert!(bad.is_empty(), "unreadable generated names: {bad:?}");
}

#[test]
fn the_types_a_reader_looks_for_exist() {
    let names = type_names();
    for want in [
        // requests, both dialects and OpenRouter
        "ChatCompletionRequest",
        "AnthropicChatRequest",
        "HybridChatRequest",
        "OpenRouterStyleRequest",
        "OpenRouterRequest",
        "ModelId",
        "KnownModelId",
        "ModelPage",
        // messages
        "Message",
        "SystemMessage",
        "UserMessage",
        "AssistantMessage",
        "ToolMessage",
        "DeveloperMessage",
        "FunctionMessage",
        "AnthropicMessage",
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
        "AnthropicTool",
        "EnabledThinking",
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
        "Meta",
        "ReasoningDetail",
        "ChatCompletionChunk",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "no generated type named {want}"
        );
    }
}

/// Names say what a thing is on the wire, never which page or model it came from.
#[test]
fn no_name_carries_a_page_or_a_model() {
    // The words of the pages' names (`claude-sonnet-4-5`, `openrouter-claude-3-5-haiku`) and of
    // the generator's fallback for a document without a name of its own.
    let words = ["Claude", "Sonnet", "Haiku", "Opus", "Fable", "Latest"];
    let bad: Vec<String> = type_names()
        .into_iter()
        .filter(|n| words.iter().any(|w| n.contains(w)) || n.ends_with("DocRequest"))
        .collect();
    assert!(bad.is_empty(), "names after a page or model: {bad:?}");
}
