//! A service that imports the conversation vocabulary and the generated types together meets no
//! two items of one name: each of `aimlapi::chat`'s items is named below after both glob imports,
//! which does not compile when a name is ambiguous, and resolves to the conversation API's item.

use aimlapi::chat::*;
#[allow(unused_imports)]
use aimlapi::types::*;

#[test]
fn chat_and_types_glob_imports_meet_no_name_twice() {
    use std::any::type_name;
    let names = [
        type_name::<Chat>(),
        type_name::<ChatStream>(),
        type_name::<StreamDelta>(),
        type_name::<TextStream>(),
        type_name::<Completion<ChatCompletion>>(),
        type_name::<StopReason>(),
        type_name::<Cache>(),
        type_name::<Content>(),
        type_name::<Conversation>(),
        type_name::<Image>(),
        type_name::<Part>(),
        type_name::<ToolUse>(),
        type_name::<Turn>(),
        type_name::<TokenUsage>(),
        type_name::<ReasoningSettings>(),
        type_name::<Sampling>(),
        type_name::<ThinkingMode>(),
        type_name::<ThinkingDisplay>(),
        type_name::<Unsupported>(),
    ];
    for name in names {
        assert!(
            name.starts_with("aimlapi::") && !name.starts_with("aimlapi_types::"),
            "{name}"
        );
    }
}
