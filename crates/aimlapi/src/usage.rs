//! [`TokenUsage`]: an answer's token counts, read the same way from either endpoint's usage
//! (the cache reads and writes counted in the prompt).

use aimlapi_types as types;

/// Token counts of one completion.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenUsage {
    /// Tokens in the prompt, cache reads and writes included.
    pub prompt_tokens: u64,
    /// Tokens in the answer.
    pub completion_tokens: u64,
    /// Both together.
    pub total_tokens: u64,
    /// Prompt tokens read from the cache (part of `prompt_tokens`).
    pub cache_read_tokens: u64,
    /// Prompt tokens written to the cache, whatever their lifetime (part of `prompt_tokens`).
    pub cache_write_tokens: u64,
    /// Of `cache_write_tokens`, those written for an hour (the rest are for five minutes), when
    /// the answer says.
    pub cache_write_1h_tokens: u64,
}

impl TokenUsage {
    /// Prompt tokens neither read from nor written to the cache.
    pub fn uncached_prompt_tokens(&self) -> u64 {
        self.prompt_tokens
            .saturating_sub(self.cache_read_tokens)
            .saturating_sub(self.cache_write_tokens)
    }
}

/// A count as the API sent it: missing or negative is 0.
fn count(n: Option<i64>) -> u64 {
    n.unwrap_or(0).max(0) as u64
}

/// The counts of a chat completion's `usage`. OpenAI-style cache counts
/// (`prompt_tokens_details.cached_tokens`, `.cache_write_tokens`) are part of `prompt_tokens`;
/// Anthropic's (`cache_read_input_tokens`, `cache_creation_input_tokens`), which the chat
/// endpoint may pass through, are not (Anthropic's `input_tokens` leaves them out) and are added.
pub(crate) fn chat_usage(u: &types::CompletionUsage) -> TokenUsage {
    let details = u.prompt_tokens_details.as_ref();
    let read = details.and_then(|d| d.cached_tokens);
    let write = details.and_then(|d| d.cache_write_tokens);
    let mut prompt = count(u.prompt_tokens);
    let (read, write) = if read.is_some() || write.is_some() {
        (count(read), count(write))
    } else {
        let (read, write) = (
            count(u.cache_read_input_tokens),
            count(u.cache_creation_input_tokens),
        );
        prompt = prompt.saturating_add(read).saturating_add(write);
        (read, write)
    };
    let completion = count(u.completion_tokens);
    let sum = prompt.saturating_add(completion);
    TokenUsage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: u.total_tokens.map_or(sum, |t| count(Some(t)).max(sum)),
        cache_read_tokens: read,
        cache_write_tokens: write,
        cache_write_1h_tokens: 0,
    }
}

/// The counts of a Messages `usage`: `input_tokens` leaves the cache reads and writes out, so
/// they are added to the prompt.
pub(crate) fn message_usage(u: &types::MessageUsage) -> TokenUsage {
    let read = count(u.cache_read_input_tokens);
    let split = u.cache_creation.as_ref();
    let (write_5m, write_1h) = (
        count(split.and_then(|c| c.ephemeral_5m_input_tokens)),
        count(split.and_then(|c| c.ephemeral_1h_input_tokens)),
    );
    let write = count(u.cache_creation_input_tokens).max(write_5m.saturating_add(write_1h));
    let prompt = count(u.input_tokens)
        .saturating_add(read)
        .saturating_add(write);
    let completion = count(u.output_tokens);
    TokenUsage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt.saturating_add(completion),
        cache_read_tokens: read,
        cache_write_tokens: write,
        cache_write_1h_tokens: write_1h.min(write),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chat(usage: serde_json::Value) -> TokenUsage {
        chat_usage(&serde_json::from_value(usage).unwrap())
    }

    #[test]
    fn openai_style_cache_counts_are_part_of_the_prompt() {
        let u = chat(json!({"prompt_tokens": 256, "completion_tokens": 10,
            "prompt_tokens_details": {"cached_tokens": 192, "cache_write_tokens": 40}}));
        assert_eq!(
            (u.prompt_tokens, u.cache_read_tokens, u.cache_write_tokens),
            (256, 192, 40)
        );
        assert_eq!(u.uncached_prompt_tokens(), 24);
        assert_eq!(u.total_tokens, 266);
    }

    #[test]
    fn anthropic_cache_counts_on_the_chat_endpoint_are_added_to_the_prompt() {
        let u = chat(json!({"prompt_tokens": 20, "completion_tokens": 5,
            "cache_read_input_tokens": 300, "cache_creation_input_tokens": 100}));
        assert_eq!((u.prompt_tokens, u.uncached_prompt_tokens()), (420, 20));
        assert_eq!(u.total_tokens, 425);
    }

    #[test]
    fn a_messages_usage_without_the_ttl_split_counts_its_writes_as_five_minute_ones() {
        let u = message_usage(
            &serde_json::from_value(json!({"input_tokens": 7, "output_tokens": 3,
                "cache_creation_input_tokens": 50, "cache_read_input_tokens": -4}))
            .unwrap(),
        );
        assert_eq!(
            (
                u.prompt_tokens,
                u.cache_write_tokens,
                u.cache_write_1h_tokens,
                u.cache_read_tokens
            ),
            (57, 50, 0, 0)
        );
    }
}
