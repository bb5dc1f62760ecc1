//! Models: every id of every bundled page (the generated model table), the id each provider
//! expects, what each page accepts, and the facts this crate knows (context, prices).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

pub use aimlapi_types::{ModelPage, MODEL_PAGES};

use crate::provider::ProviderKind;
use crate::usage::TokenUsage;

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
    /// Price of a million input tokens read from the cache.
    pub cache_read_usd_per_mtok: f64,
    /// Price of a million input tokens written to the cache for five minutes.
    pub cache_write_5m_usd_per_mtok: f64,
    /// Price of a million input tokens written to the cache for an hour.
    pub cache_write_1h_usd_per_mtok: f64,
}

impl ModelFacts {
    /// Facts with Anthropic's cache prices, which follow from the input price: a cache read
    /// costs a tenth of it, a five-minute write 1.25 times it, a one-hour write twice it.
    pub(crate) const fn claude(
        context_window: u32,
        max_output_tokens: u32,
        input_usd_per_mtok: f64,
        output_usd_per_mtok: f64,
    ) -> ModelFacts {
        ModelFacts {
            context_window,
            max_output_tokens,
            input_usd_per_mtok,
            output_usd_per_mtok,
            cache_read_usd_per_mtok: input_usd_per_mtok * 0.1,
            cache_write_5m_usd_per_mtok: input_usd_per_mtok * 1.25,
            cache_write_1h_usd_per_mtok: input_usd_per_mtok * 2.0,
        }
    }

    /// The facts a catalogue entry's info and fixed token prices give (a listing with
    /// [`Section::Pricing`](crate::catalogue::Section::Pricing)): `None` without input and
    /// output token prices. Prices are per million tokens;
    /// cache prices the listing does not give follow Anthropic's multipliers of the input price.
    pub fn from_listing(m: &aimlapi_types::ListedModel) -> Option<ModelFacts> {
        let pricing = m.pricing.as_ref()?;
        let per_million = |wanted: &[&str]| {
            pricing.units.iter().flatten().find_map(|u| {
                let measure = u.measure.as_deref()?.to_ascii_lowercase();
                let is_token = u.name.as_deref().is_none_or(|n| n.starts_with("token"));
                let per = u.per.filter(|p| *p > 0.0)?;
                let price = u.price.filter(|p| p.is_finite() && *p >= 0.0)?;
                (is_token && wanted.contains(&measure.as_str())).then_some(price / per * 1e6)
            })
        };
        let input = per_million(&["input", "prompt", "input_tokens", "prompt_tokens"])?;
        let output = per_million(&["output", "completion", "output_tokens", "completion_tokens"])?;
        let info = m.info.as_ref();
        let limit = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok()).unwrap_or(0);
        let mut facts = Self::claude(
            limit(info.and_then(|i| i.context_length)),
            limit(info.and_then(|i| i.output_max)),
            input,
            output,
        );
        if let Some(p) = per_million(&[
            "cache_read",
            "cached_input",
            "input_cache_read",
            "cache_hit",
        ]) {
            facts.cache_read_usd_per_mtok = p;
        }
        if let Some(p) = per_million(&[
            "cache_write_5m",
            "cache_write",
            "input_cache_write",
            "cache_creation",
        ]) {
            facts.cache_write_5m_usd_per_mtok = p;
        }
        if let Some(p) = per_million(&["cache_write_1h", "input_cache_write_1h"]) {
            facts.cache_write_1h_usd_per_mtok = p;
        }
        Some(facts)
    }

    /// The price of `prompt_tokens` in and `completion_tokens` out, none of them cached, in US
    /// dollars.
    pub fn cost(&self, prompt_tokens: u64, completion_tokens: u64) -> f64 {
        self.price(&TokenUsage {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens.saturating_add(completion_tokens),
            ..TokenUsage::default()
        })
    }

    /// These facts at batch prices: every token price halved (what message batches cost).
    pub fn at_batch_prices(&self) -> ModelFacts {
        ModelFacts {
            input_usd_per_mtok: self.input_usd_per_mtok / 2.0,
            output_usd_per_mtok: self.output_usd_per_mtok / 2.0,
            cache_read_usd_per_mtok: self.cache_read_usd_per_mtok / 2.0,
            cache_write_5m_usd_per_mtok: self.cache_write_5m_usd_per_mtok / 2.0,
            cache_write_1h_usd_per_mtok: self.cache_write_1h_usd_per_mtok / 2.0,
            ..*self
        }
    }

    /// The price of `usage` in US dollars: uncached input, cache reads, five-minute and one-hour
    /// cache writes, and output, each at its own price.
    pub fn price(&self, usage: &TokenUsage) -> f64 {
        let write_1h = usage.cache_write_1h_tokens.min(usage.cache_write_tokens);
        let write_5m = usage.cache_write_tokens - write_1h;
        (usage.uncached_prompt_tokens() as f64 * self.input_usd_per_mtok
            + usage.cache_read_tokens as f64 * self.cache_read_usd_per_mtok
            + write_5m as f64 * self.cache_write_5m_usd_per_mtok
            + write_1h as f64 * self.cache_write_1h_usd_per_mtok
            + usage.completion_tokens as f64 * self.output_usd_per_mtok)
            / 1e6
    }
}

/// The facts this crate knows, by page: context, output limit and prices from the published
/// facts (seeds 000-003); cache prices from Anthropic's multipliers. Pages not listed have none
/// yet.
const FACTS: &[(&str, ModelFacts)] = &[
    (
        "claude-3-5-haiku",
        ModelFacts::claude(200_000, 8_192, 0.80, 4.0),
    ),
    (
        "openrouter-claude-3-5-haiku",
        ModelFacts::claude(200_000, 8_192, 0.80, 4.0),
    ),
    (
        "claude-3.5-sonnet",
        ModelFacts::claude(200_000, 8_192, 3.0, 15.0),
    ),
    (
        "claude-3-5-sonnet",
        ModelFacts::claude(200_000, 8_192, 3.0, 15.0),
    ),
];

/// OpenRouter's spelling of AI/ML ids, where the facts give it (seed 002). Other pages' models
/// go to OpenRouter under the page's own `anthropic/...` id, which is OpenRouter's form too.
const OPENROUTER_IDS: &[(&str, &str)] = &[("claude-3-5-haiku", "anthropic/claude-3.5-haiku")];

/// Ids the facts name beside the pages' enums (seed 003's examples send `claude-3-5-haiku`).
const ALIASES: &[(&str, &str)] = &[("claude-3-5-haiku", "claude-3-5-haiku")];

/// A model: an id one of the bundled pages lists (with that page), or any other id, passed
/// through as written.
///
/// ```
/// use aimlapi::provider::ProviderKind;
/// use aimlapi::Model;
///
/// let m: Model = "claude-sonnet-4-5".parse().unwrap();
/// assert_eq!(m.page().unwrap().page, "claude-sonnet-4-5");
/// assert_eq!(m.page().unwrap().request, Some("AnthropicChatRequest"));
/// assert!(m.page().unwrap().accepts("temperature"));
/// assert!(!Model::from_id("claude-opus-4-7").page().unwrap().accepts("temperature"));
///
/// let haiku = Model::from_id("claude-3-5-haiku-latest");
/// assert_eq!(haiku.id_for(ProviderKind::OpenRouter), "anthropic/claude-3.5-haiku");
/// assert_eq!(haiku.id_for(ProviderKind::AimlApi), "claude-3-5-haiku-latest");
///
/// let other = Model::from_id("claude-sonnet-9");
/// assert!(!other.is_known());
/// assert_eq!(other.id_for(ProviderKind::OpenRouter), "claude-sonnet-9");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Model {
    id: Cow<'static, str>,
    page: Option<&'static ModelPage>,
}

impl Model {
    /// The model `id` names: the first chat-completions page (in page order) that lists it, or
    /// else the first Messages page that does, or none.
    pub fn from_id(id: &str) -> Self {
        let page = ModelPage::of(id).or_else(|| {
            ALIASES
                .iter()
                .find(|(alias, _)| *alias == id)
                .and_then(|(_, page)| MODEL_PAGES.iter().find(|p| p.page == *page))
        });
        Model {
            id: Cow::Owned(id.to_string()),
            page,
        }
    }

    /// The id as given.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The bundled page that documents this model, when one does.
    pub fn page(&self) -> Option<&'static ModelPage> {
        self.page
    }

    /// The bundled page of Anthropic's Messages endpoint that lists this model, when one does.
    pub fn messages_page(&self) -> Option<&'static ModelPage> {
        ModelPage::messages_of(&self.id)
    }

    /// Whether a bundled page lists this id.
    pub fn is_known(&self) -> bool {
        self.page.is_some()
    }

    /// The id `provider` expects: as given, except for a known model on a provider that spells
    /// it differently (an AI/ML id on OpenRouter, OpenRouter's id elsewhere).
    pub fn id_for(&self, provider: ProviderKind) -> Cow<'_, str> {
        let Some(page) = self.page else {
            return Cow::Borrowed(&self.id);
        };
        let openrouter_page = page.page.starts_with("openrouter-");
        if provider != ProviderKind::OpenRouter {
            // An OpenRouter id sent elsewhere: the AI/ML page's own `anthropic/...` id.
            let aiml = OPENROUTER_IDS
                .iter()
                .filter(|_| openrouter_page)
                .find(|(_, or)| *or == self.id)
                .and_then(|(p, _)| MODEL_PAGES.iter().find(|page| page.page == *p))
                .and_then(|p| p.ids.iter().find(|id| id.starts_with("anthropic/")));
            return aiml.map_or(Cow::Borrowed(&self.id), |id| Cow::Borrowed(id));
        }
        if openrouter_page {
            return Cow::Borrowed(&self.id);
        }
        if let Some((_, id)) = OPENROUTER_IDS.iter().find(|(p, _)| *p == page.page) {
            return Cow::Borrowed(id);
        }
        match page.ids.iter().find(|id| id.starts_with("anthropic/")) {
            Some(id) => Cow::Borrowed(id),
            None => Cow::Borrowed(&self.id),
        }
    }

    /// Whether a gateway of `kind` serves this model, as far as this crate knows: OpenRouter a
    /// known model with an OpenRouter id (`anthropic/...`), the AI/ML API (and a custom base URL,
    /// which spells ids as it does) a model one of its pages lists. What a failover may move.
    pub(crate) fn served_by(&self, kind: ProviderKind) -> bool {
        let Some(page) = self.page else {
            return false;
        };
        match kind {
            ProviderKind::OpenRouter => self.id_for(kind).contains('/'),
            _ => !page.page.starts_with("openrouter-") || self.id_for(kind) != self.id(),
        }
    }

    /// The model's facts, when this crate knows them.
    pub fn facts(&self) -> Option<ModelFacts> {
        let page = self.page?;
        FACTS.iter().find(|(p, _)| *p == page.page).map(|(_, f)| *f)
    }

    /// Every id a bundled page lists.
    pub fn known_ids() -> impl Iterator<Item = &'static str> {
        MODEL_PAGES.iter().flat_map(|p| p.ids.iter().copied())
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

impl From<String> for Model {
    fn from(s: String) -> Self {
        Model::from_id(&s)
    }
}

/// Prints the id as given.
impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_id_knows_its_page() {
        for page in MODEL_PAGES {
            for id in page.ids {
                let m = Model::from_id(id);
                assert!(m.is_known(), "{id}");
                assert!(m.page().unwrap().ids.contains(id));
            }
        }
        assert_eq!(
            Model::from_id("claude-3-5-haiku").page().unwrap().page,
            "claude-3-5-haiku"
        );
    }

    #[test]
    fn unknown_ids_pass_through() {
        let m = Model::from_id("anthropic/claude-opus-9");
        assert!(!m.is_known());
        assert_eq!(
            m.id_for(ProviderKind::OpenRouter),
            "anthropic/claude-opus-9"
        );
        assert!(m.facts().is_none());
    }

    #[test]
    fn openrouter_gets_its_spelling() {
        assert_eq!(
            Model::from_id("claude-3-5-haiku-20241022").id_for(ProviderKind::OpenRouter),
            "anthropic/claude-3.5-haiku"
        );
        assert_eq!(
            Model::from_id("claude-sonnet-4-5").id_for(ProviderKind::OpenRouter),
            "anthropic/claude-sonnet-4.5"
        );
        assert_eq!(
            Model::from_id("claude-sonnet-4-5").id_for(ProviderKind::AimlApi),
            "claude-sonnet-4-5"
        );
    }

    #[test]
    fn cost_uses_the_per_million_prices() {
        // Seed 000's usage: 17 in, 221 out, at $0.80 / $4 per million.
        let facts = Model::from_id("claude-3-5-haiku-latest").facts().unwrap();
        let cost = facts.cost(17, 221);
        assert!((cost - (17.0 * 0.8 + 221.0 * 4.0) / 1e6).abs() < 1e-12);
    }
}
