//! The AI/ML API's model catalogue: [`Client::models`](crate::Client::models) (`GET /v1/models`, filtered, with the
//! sections asked for, an unchanged listing answered from the client's cache after a `304`) and
//! [`Client::model`](crate::Client::model) (`GET /model/{id}`); the facts a listing with prices gives
//! ([`Catalogue::facts`]), which the client then prices its calls with.

use std::sync::Arc;

use aimlapi_types as types;
use reqwest::header::ETAG;

use crate::catalogue_state::names;
use crate::error::Error;
use crate::model::ModelFacts;
use crate::transport::Transport;

/// An optional section of each listed model (`include`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Section {
    /// `pricing`: what the model costs.
    Pricing,
    /// `modalities`: what it takes in and gives out.
    Modalities,
    /// `capabilities`: what it can do (`streaming`, `tools`, `vision`, ...).
    Capabilities,
    /// `all`: every section.
    All,
}

impl Section {
    fn as_str(self) -> &'static str {
        match self {
            Section::Pricing => "pricing",
            Section::Modalities => "modalities",
            Section::Capabilities => "capabilities",
            Section::All => "all",
        }
    }
}

/// A listing of the catalogue on its way: sections and filters, then [`send`](Self::send).
/// Filters of one kind are alternatives (OR), filters of different kinds all apply (AND); the
/// server compares them without regard to case.
///
/// ```no_run
/// # async fn run(client: aimlapi::Client) -> Result<(), aimlapi::Error> {
/// use aimlapi::catalogue::Section;
///
/// let claude = client
///     .models()
///     .include(Section::Pricing)
///     .capability("vision")
///     .id("claude-sonnet-4-5")
///     .send()
///     .await?;
/// for m in claude.models() {
///     let id = m.id.as_deref().unwrap_or_default();
///     println!("{id} {:?}", claude.facts(id));
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[must_use = "a listing does nothing until it is sent"]
pub struct ModelsQuery {
    transport: Transport,
    query: Vec<(&'static str, String)>,
}

impl ModelsQuery {
    pub(crate) fn new(transport: Transport) -> Self {
        ModelsQuery {
            transport,
            query: Vec::new(),
        }
    }

    fn filter(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    /// Attaches a section to each model (`include`).
    pub fn include(self, section: Section) -> Self {
        self.filter("include", section.as_str())
    }

    /// Keeps the model with this id or alias (`id`).
    pub fn id(self, id: impl Into<String>) -> Self {
        self.filter("id", id)
    }

    /// Keeps models served through this endpoint type, such as `openai/chat-completions`
    /// (`type`).
    pub fn endpoint_type(self, kind: impl Into<String>) -> Self {
        self.filter("type", kind)
    }

    /// Keeps models carrying this tag, such as `playground:chat` (`tags`).
    pub fn tag(self, tag: impl Into<String>) -> Self {
        self.filter("tags", tag)
    }

    /// Keeps models with this modality among their input or output ones (`modalities`).
    pub fn modality(self, modality: impl Into<String>) -> Self {
        self.filter("modalities", modality)
    }

    /// Keeps models taking this input modality (`input_modalities`).
    pub fn input_modality(self, modality: impl Into<String>) -> Self {
        self.filter("input_modalities", modality)
    }

    /// Keeps models producing this output modality (`output_modalities`).
    pub fn output_modality(self, modality: impl Into<String>) -> Self {
        self.filter("output_modalities", modality)
    }

    /// Keeps models declaring this capability, such as `vision` (`capabilities`).
    pub fn capability(self, capability: impl Into<String>) -> Self {
        self.filter("capabilities", capability)
    }

    /// Lists the models. The same listing asked again sends the `ETag` the last answer had
    /// (`If-None-Match`); a `304 Not Modified` is answered from the client's cache.
    pub async fn send(self) -> Result<Catalogue, Error> {
        let client = &self.transport;
        let url = format!("{}/v1/models", client.base_url());
        let key = cache_key(&url, &self.query);
        let state = client.catalogue_state();
        let cached = state.listing(&key);
        let etag = cached.as_ref().map(|(etag, _)| etag.as_str());
        let answer = client
            .get_json::<types::ModelList, _>(&url, &self.query, etag, "models", "")
            .await?;
        match (answer, cached) {
            (Some((list, headers)), _) => {
                let list = Arc::new(list);
                let etag = headers
                    .get(ETAG)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                state.remember(key, etag, &list);
                Ok(Catalogue {
                    list,
                    from_cache: false,
                })
            }
            (None, Some((_, list))) => Ok(Catalogue {
                list,
                from_cache: true,
            }),
            // A 304 comes only to a request that sent a cached listing's ETag.
            (None, None) => Err(Error::Decode {
                message: "304 Not Modified to a listing this client has not cached".into(),
                body: String::new(),
            }),
        }
    }
}

/// The listing's URL with its query, in a stable order: what an ETag belongs to.
fn cache_key(url: &str, query: &[(&'static str, String)]) -> String {
    let mut pairs: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.sort();
    format!("{url}?{}", pairs.join("&"))
}

/// A listing of the catalogue.
#[derive(Clone, Debug)]
pub struct Catalogue {
    list: Arc<types::ModelList>,
    from_cache: bool,
}

impl Catalogue {
    /// The models, in the catalogue's order.
    pub fn models(&self) -> &[types::ListedModel] {
        self.list.data.as_deref().unwrap_or_default()
    }

    /// The listing as the server sent it.
    pub fn list(&self) -> &types::ModelList {
        &self.list
    }

    /// Whether the server answered `304 Not Modified` and this is the client's cached copy.
    pub fn from_cache(&self) -> bool {
        self.from_cache
    }

    /// The model with this id or alias (case-insensitive, as the server matches them).
    pub fn find(&self, id: &str) -> Option<&types::ListedModel> {
        self.models()
            .iter()
            .find(|m| names(m).any(|n| n.eq_ignore_ascii_case(id)))
    }

    /// What the listing says of the model with this id or alias: context, output limit and
    /// prices, when it was listed with [`Section::Pricing`] and has input and output token
    /// prices.
    pub fn facts(&self, id: &str) -> Option<ModelFacts> {
        ModelFacts::from_listing(self.find(id)?)
    }
}

/// One model of the catalogue by id or alias (`GET /model/{id}`); what it says is learnt.
pub(crate) async fn lookup(
    transport: &Transport,
    id: &str,
    sections: &[Section],
) -> Result<types::ListedModel, Error> {
    // The id goes into the path as it is, slashes and all; other characters are escaped.
    let path: String = id.split('/').map(url_escape).collect::<Vec<_>>().join("/");
    let url = format!("{}/model/{path}", transport.base_url());
    let query: Vec<(&str, &str)> = sections.iter().map(|s| ("include", s.as_str())).collect();
    let lookup: types::ModelLookup = transport.get_value(&url, &query, "model", id).await?;
    let model = lookup.data.ok_or_else(|| Error::Decode {
        message: "a model lookup without `data`".into(),
        body: String::new(),
    })?;
    transport
        .catalogue_state()
        .learn(std::slice::from_ref(&model));
    Ok(model)
}

/// `segment` with the characters a path segment cannot carry percent-escaped.
fn url_escape(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' | b'@' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
