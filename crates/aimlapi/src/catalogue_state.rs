//! What a client remembers of the catalogue: each listing with its `ETag`, and the facts of the
//! models listed with prices. The client holds it; the catalogue module fills it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use aimlapi_types as types;

use crate::model::ModelFacts;

/// A model's id and aliases.
pub(crate) fn names(m: &types::ListedModel) -> impl Iterator<Item = &str> {
    m.id.as_deref()
        .into_iter()
        .chain(m.aliases.iter().flatten().map(String::as_str))
}

/// What a client remembers of the catalogue: each listing with its ETag, and the facts of every
/// model listed with prices (by id and alias, lower-cased).
#[derive(Debug, Default)]
pub(crate) struct CatalogueState {
    listings: Mutex<HashMap<String, (String, Arc<types::ModelList>)>>,
    facts: RwLock<HashMap<String, ModelFacts>>,
}

impl CatalogueState {
    pub(crate) fn listing(&self, key: &str) -> Option<(String, Arc<types::ModelList>)> {
        self.listings.lock().ok()?.get(key).cloned()
    }

    pub(crate) fn remember(&self, key: String, etag: Option<String>, list: &Arc<types::ModelList>) {
        if let (Some(etag), Ok(mut listings)) = (etag, self.listings.lock()) {
            listings.insert(key, (etag, list.clone()));
        }
        self.learn(list.data.as_deref().unwrap_or_default());
    }

    /// Keeps the facts of each model that has them.
    pub(crate) fn learn(&self, models: &[types::ListedModel]) {
        let Ok(mut facts) = self.facts.write() else {
            return;
        };
        for m in models {
            if let Some(f) = ModelFacts::from_listing(m) {
                for name in names(m) {
                    facts.insert(name.to_ascii_lowercase(), f);
                }
            }
        }
    }

    /// The facts a fetched listing gave for this id or alias.
    pub(crate) fn facts(&self, id: &str) -> Option<ModelFacts> {
        let facts = self.facts.read().ok()?;
        if facts.is_empty() {
            return None;
        }
        match id.bytes().any(|b| b.is_ascii_uppercase()) {
            true => facts.get(&id.to_ascii_lowercase()).copied(),
            false => facts.get(id).copied(),
        }
    }
}
