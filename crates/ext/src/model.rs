//! Model enums: every id a model answers to, the id each provider expects, and the model's facts.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::provider::ProviderKind;

/// What a model can do and what it costs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelFacts {
    /// Context window, in tokens.
    pub context_window: u32,
    /// The most tokens one answer may have.
    pub max_output_tokens: u32,
    /// Price of a million input tokens, in US dollars.
    pub input_usd_per_mtok: f64,
    /// Price of a million output tokens, in US dollars.
    pub output_usd_per_mtok: f64,
}

impl ModelFacts {
    /// The price of `prompt_tokens` in and `completion_tokens` out, in US dollars.
    pub fn cost(&self, prompt_tokens: u64, completion_tokens: u64) -> f64 {
        (prompt_tokens as f64 * self.input_usd_per_mtok
            + completion_tokens as f64 * self.output_usd_per_mtok)
            / 1e6
    }
}

/// Defines a model enum from its table of ids: `(id, variant)` pairs, the AI/ML id and the
/// OpenRouter id of each variant, and its facts.
macro_rules! model_enum {
    (
        $(#[$doc:meta])* $name:ident {
            $($(#[$vdoc:meta])* $variant:ident => aimlapi: $aiml:literal, openrouter: $or:literal;)+
        }
        ids: [$(($id:literal, $idv:ident)),+ $(,)?],
        facts: $facts:expr $(,)?
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every id this model answers to, with the variant it names.
            pub const IDS: &'static [(&'static str, $name)] = &[$(($id, $name::$idv)),+];

            /// What the model can do and what it costs.
            pub const FACTS: ModelFacts = $facts;

            /// The variant `id` names, if it names one of this model's.
            pub fn from_id(id: &str) -> Option<Self> {
                Self::IDS.iter().find(|(known, _)| *known == id).map(|(_, v)| *v)
            }

            /// The id `provider` expects for this model.
            pub fn id_for(self, provider: ProviderKind) -> &'static str {
                match (self, provider) {
                    $(($name::$variant, ProviderKind::OpenRouter) => $or,)+
                    $(($name::$variant, _) => $aiml,)+
                }
            }
        }
    };
}

model_enum! {
    /// Claude 3.5 Haiku (2024-10-22): the ids of seeds 000, 002 and 003.
    Claude35Haiku {
        /// The undated aliases.
        Latest => aimlapi: "anthropic/claude-3-5-haiku", openrouter: "anthropic/claude-3.5-haiku";
        /// The dated snapshot, 2024-10-22 (what the aliases point at).
        V20241022 => aimlapi: "anthropic/claude-3-5-haiku-20241022", openrouter: "anthropic/claude-3.5-haiku";
    }
    ids: [
        ("anthropic/claude-3-5-haiku", Latest),
        ("claude-3-5-haiku-latest", Latest),
        ("claude-3-5-haiku", Latest),
        ("anthropic/claude-3.5-haiku", Latest),
        ("anthropic/claude-3-5-haiku-20241022", V20241022),
        ("claude-3-5-haiku-20241022", V20241022),
    ],
    facts: ModelFacts { context_window: 200_000, max_output_tokens: 8_192, input_usd_per_mtok: 0.80, output_usd_per_mtok: 4.0 },
}

// OpenRouter's ids for the dated Sonnet snapshots are not in the published facts this crate was
// written from: `-20240620` follows OpenRouter's naming, and `-20241022` maps to the alias that
// points at it.
model_enum! {
    /// Claude 3.5 Sonnet: the ids of seed 001.
    Claude35Sonnet {
        /// The undated aliases.
        Latest => aimlapi: "anthropic/claude-3.5-sonnet", openrouter: "anthropic/claude-3.5-sonnet";
        /// The 2024-06-20 snapshot.
        V20240620 => aimlapi: "anthropic/claude-3.5-sonnet-20240620", openrouter: "anthropic/claude-3.5-sonnet-20240620";
        /// The 2024-10-22 snapshot.
        V20241022 => aimlapi: "anthropic/claude-3.5-sonnet-20241022", openrouter: "anthropic/claude-3.5-sonnet";
    }
    ids: [
        ("anthropic/claude-3.5-sonnet", Latest),
        ("claude-3-5-sonnet-latest", Latest),
        ("anthropic/claude-3.5-sonnet-20240620", V20240620),
        ("claude-3-5-sonnet-20240620", V20240620),
        ("anthropic/claude-3.5-sonnet-20241022", V20241022),
        ("claude-3-5-sonnet-20241022", V20241022),
    ],
    facts: ModelFacts { context_window: 200_000, max_output_tokens: 8_192, input_usd_per_mtok: 3.0, output_usd_per_mtok: 15.0 },
}

/// A model: one this crate knows, or any other id, passed through as it is.
///
/// ```
/// use aimlapi::{Claude35Haiku, Model, ProviderKind};
///
/// let m: Model = "claude-3-5-haiku-latest".parse().unwrap();
/// assert_eq!(m, Model::Claude35Haiku(Claude35Haiku::Latest));
/// assert_eq!(m.id_for(ProviderKind::OpenRouter), "anthropic/claude-3.5-haiku");
/// assert_eq!(m.facts().unwrap().context_window, 200_000);
///
/// let other: Model = "claude-sonnet-4".parse().unwrap();
/// assert_eq!(other.id_for(ProviderKind::AimlApi), "claude-sonnet-4");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Model {
    /// Claude 3.5 Haiku.
    Claude35Haiku(Claude35Haiku),
    /// Claude 3.5 Sonnet.
    Claude35Sonnet(Claude35Sonnet),
    /// Any other model id, sent as it is.
    Other(String),
}

impl Model {
    /// The model `id` names; an id no enum knows becomes [`Model::Other`].
    pub fn from_id(id: &str) -> Self {
        if let Some(m) = Claude35Haiku::from_id(id) {
            Model::Claude35Haiku(m)
        } else if let Some(m) = Claude35Sonnet::from_id(id) {
            Model::Claude35Sonnet(m)
        } else {
            Model::Other(id.to_string())
        }
    }

    /// The id `provider` expects.
    pub fn id_for(&self, provider: ProviderKind) -> Cow<'_, str> {
        match self {
            Model::Claude35Haiku(m) => Cow::Borrowed(m.id_for(provider)),
            Model::Claude35Sonnet(m) => Cow::Borrowed(m.id_for(provider)),
            Model::Other(id) => Cow::Borrowed(id),
        }
    }

    /// The model's facts, when this crate knows the model.
    pub fn facts(&self) -> Option<ModelFacts> {
        match self {
            Model::Claude35Haiku(_) => Some(Claude35Haiku::FACTS),
            Model::Claude35Sonnet(_) => Some(Claude35Sonnet::FACTS),
            Model::Other(_) => None,
        }
    }

    /// Every id a known model answers to.
    pub fn known_ids() -> impl Iterator<Item = &'static str> {
        Claude35Haiku::IDS
            .iter()
            .map(|(id, _)| *id)
            .chain(Claude35Sonnet::IDS.iter().map(|(id, _)| *id))
    }
}

impl FromStr for Model {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Model::from_id(s))
    }
}

impl From<&str> for Model {
    fn from(s: &str) -> Self {
        Model::from_id(s)
    }
}

impl From<Claude35Haiku> for Model {
    fn from(m: Claude35Haiku) -> Self {
        Model::Claude35Haiku(m)
    }
}

impl From<Claude35Sonnet> for Model {
    fn from(m: Claude35Sonnet) -> Self {
        Model::Claude35Sonnet(m)
    }
}

/// Prints the AI/ML API's id.
impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id_for(ProviderKind::AimlApi))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_parses_to_its_model_and_prints_per_provider() {
        for (id, v) in Claude35Haiku::IDS {
            assert_eq!(Model::from_id(id), Model::Claude35Haiku(*v));
            assert_eq!(
                Model::from_id(id).id_for(ProviderKind::OpenRouter),
                "anthropic/claude-3.5-haiku"
            );
        }
        for (id, v) in Claude35Sonnet::IDS {
            assert_eq!(Model::from_id(id), Model::Claude35Sonnet(*v));
        }
        // A dated snapshot stays that snapshot.
        assert_eq!(
            Model::from_id("claude-3-5-sonnet-20240620").id_for(ProviderKind::AimlApi),
            "anthropic/claude-3.5-sonnet-20240620"
        );
        // The AI/ML id of each known model is itself an id it answers to.
        for m in [
            Model::Claude35Haiku(Claude35Haiku::Latest),
            Model::Claude35Sonnet(Claude35Sonnet::V20241022),
        ] {
            assert_eq!(Model::from_id(&m.to_string()), m);
        }
    }

    #[test]
    fn unknown_ids_pass_through() {
        let m = Model::from_id("anthropic/claude-opus-5");
        assert_eq!(m, Model::Other("anthropic/claude-opus-5".into()));
        assert_eq!(
            m.id_for(ProviderKind::OpenRouter),
            "anthropic/claude-opus-5"
        );
        assert!(m.facts().is_none());
    }

    #[test]
    fn cost_uses_the_per_million_prices() {
        // Seed 000's usage: 17 in, 221 out, at $0.80 / $4 per million.
        let cost = Claude35Haiku::FACTS.cost(17, 221);
        assert!((cost - (17.0 * 0.8 + 221.0 * 4.0) / 1e6).abs() < 1e-12);
    }
}
