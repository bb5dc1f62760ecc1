//! OpenRouter's extras: its generation stats ([`Client::generation`](crate::Client::generation),
//! `GET /api/v1/generation?id=`).

use aimlapi_types as types;

use crate::error::Error;
use crate::transport::Transport;

/// The stats of one generation (`GET {base}/v1/generation?id=`).
pub(crate) async fn generation(
    transport: &Transport,
    id: &str,
) -> Result<types::GenerationStats, Error> {
    let url = format!("{}/v1/generation", transport.base_url());
    let answer: types::Generation = transport
        .get_value(&url, &[("id", id)], "generation", "")
        .await?;
    answer.data.ok_or_else(|| Error::Decode {
        message: "generation stats without `data`".into(),
        body: String::new(),
    })
}
