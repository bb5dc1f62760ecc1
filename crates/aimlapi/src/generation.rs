//! OpenRouter's generation stats: [`Client::generation`] (`GET /api/v1/generation?id=`).

use aimlapi_types as types;

use crate::api::Client;
use crate::error::Error;

impl Client {
    /// The stats of one generation on OpenRouter (`GET {base}/v1/generation?id=`): what it cost,
    /// its tokens as the provider counted them, its latency. The id is the completion's `id`
    /// (`gen-...`), also [`ResponseMeta::generation_id`](crate::ResponseMeta::generation_id).
    /// The stats can lag the answer by a moment: a 404 right after it may clear on a retry.
    pub async fn generation(&self, id: &str) -> Result<types::GenerationStats, Error> {
        let url = format!("{}/v1/generation", self.base_url());
        let answer: types::Generation = self
            .get_value(&url, &[("id", id)], "generation", id)
            .await?;
        answer.data.ok_or_else(|| Error::Decode {
            message: "generation stats without `data`".into(),
            body: String::new(),
        })
    }
}
