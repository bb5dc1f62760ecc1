//! The cassette file: one JSON document per cassette, `<name>.json` in the cassette folder,
//! holding its exchanges in the order they were recorded. Bodies are kept as the wire carried
//! them: JSON inline and verbatim, other text as a string, anything else as its bytes.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The format's version, written in every file; a file of another version is refused.
pub(crate) const VERSION: u32 = 1;

/// A cassette file.
#[derive(Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct CassetteFile {
    pub(crate) cassette: u32,
    pub(crate) interactions: Vec<Interaction>,
}

/// One exchange: what was asked, what came back.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct Interaction {
    pub(crate) request: Asked,
    pub(crate) response: Answered,
}

/// A request, its secrets filtered.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct Asked {
    pub(crate) method: String,
    pub(crate) path: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) query: String,
    #[serde(default, with = "header_lines")]
    pub(crate) headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) body: Option<Payload>,
}

/// A response: its head, then its body whole or, for an event stream, chunk by chunk as the
/// chunks came, with their times (milliseconds since the request was sent upstream).
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct Answered {
    pub(crate) status: u16,
    #[serde(default, with = "header_lines")]
    pub(crate) headers: Vec<(String, String)>,
    /// When the head came.
    #[serde(default)]
    pub(crate) head_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) body: Option<Payload>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) chunks: Option<Vec<Chunk>>,
    /// When the body ended.
    #[serde(default)]
    pub(crate) end_ms: f64,
    /// Why the body ended early (the upstream closed or failed mid-body): replayed as a cut
    /// connection after the chunks that came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cut: Option<String>,
}

/// Headers as `"name: value"` lines, in order (a name may come more than once).
mod header_lines {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        headers: &[(String, String)],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(headers.iter().map(|(n, v)| format!("{n}: {v}")))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<(String, String)>, D::Error> {
        Vec::<String>::deserialize(d)?
            .into_iter()
            .map(|line| match line.split_once(':') {
                Some((n, v)) => Ok((n.trim().to_ascii_lowercase(), v.trim().to_string())),
                None => Err(serde::de::Error::custom(format!(
                    "header {line:?} is not `name: value`"
                ))),
            })
            .collect()
    }
}

/// A body: `{"json": ...}` (the JSON text as sent, inline), `{"text": "..."}` or
/// `{"bytes": [...]}`.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Payload {
    Json(Box<RawValue>),
    Text(String),
    Bytes(Vec<u8>),
}

impl Payload {
    /// The body as it goes on the wire: JSON with the whitespace a file's editor left around it
    /// trimmed, and nothing else changed.
    pub(crate) fn from_wire(bytes: &[u8]) -> Option<Payload> {
        if bytes.is_empty() {
            return None;
        }
        Some(match std::str::from_utf8(bytes) {
            Ok(text) => match RawValue::from_string(text.trim().to_string()) {
                // Kept verbatim when the text is JSON and carries no whitespace around it (so
                // what is written back is exactly what came).
                Ok(raw) if raw.get().len() == text.len() => Payload::Json(raw),
                _ => Payload::Text(text.to_string()),
            },
            Err(_) => Payload::Bytes(bytes.to_vec()),
        })
    }

    /// The bytes to send.
    pub(crate) fn wire(&self) -> bytes::Bytes {
        match self {
            Payload::Json(raw) => bytes::Bytes::copy_from_slice(raw.get().as_bytes()),
            Payload::Text(text) => bytes::Bytes::copy_from_slice(text.as_bytes()),
            Payload::Bytes(b) => bytes::Bytes::copy_from_slice(b),
        }
    }

    /// The body as JSON (`Value::String` of the text when it is not JSON), as the matcher and
    /// the drift report read it.
    pub(crate) fn value(&self) -> serde_json::Value {
        match self {
            Payload::Json(raw) => serde_json::from_str(raw.get()).unwrap_or_default(),
            Payload::Text(text) => serde_json::from_str(text)
                .unwrap_or_else(|_| serde_json::Value::String(text.clone())),
            Payload::Bytes(b) => serde_json::Value::String(String::from_utf8_lossy(b).into_owned()),
        }
    }
}

/// One chunk of a streamed body: `{"at_ms": 12.5, "text": "data: ...\n\n"}`, or `bytes` when
/// the chunk is not UTF-8 on its own (a character cut between two chunks).
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct Chunk {
    pub(crate) at_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) bytes: Option<Vec<u8>>,
}

impl Chunk {
    pub(crate) fn new(at_ms: f64, data: &[u8]) -> Chunk {
        match std::str::from_utf8(data) {
            Ok(text) => Chunk {
                at_ms,
                text: Some(text.to_string()),
                bytes: None,
            },
            Err(_) => Chunk {
                at_ms,
                text: None,
                bytes: Some(data.to_vec()),
            },
        }
    }

    pub(crate) fn wire(&self) -> bytes::Bytes {
        match (&self.text, &self.bytes) {
            (Some(t), _) => bytes::Bytes::copy_from_slice(t.as_bytes()),
            (None, Some(b)) => bytes::Bytes::copy_from_slice(b),
            (None, None) => bytes::Bytes::new(),
        }
    }
}

/// Milliseconds, rounded to the microsecond (so files do not carry noise digits).
pub(crate) fn millis(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// The file of cassette `name` in `dir`.
pub(crate) fn path_of(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.json"))
}

/// A cassette name as a file name: letters, digits, `.`, `_` and `-` kept, a test path's `::`
/// made `.`, anything else `_`.
pub(crate) fn file_safe(name: &str) -> String {
    let name = name.replace("::", ".");
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.is_empty() || safe.starts_with('.') {
        format!("_{safe}")
    } else {
        safe
    }
}

/// Reads a cassette file; a missing file is an empty cassette.
pub(crate) fn read(path: &Path) -> Result<CassetteFile, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(CassetteFile {
                cassette: VERSION,
                interactions: Vec::new(),
            })
        }
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let file: CassetteFile = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a cassette: {e}", path.display()))?;
    if file.cassette != VERSION {
        return Err(format!(
            "{}: cassette format {} (this mock reads {VERSION})",
            path.display(),
            file.cassette
        ));
    }
    Ok(file)
}

/// The text of a cassette file holding `interactions`: pretty-printed JSON (bodies inline as
/// they came), a newline at the end.
pub(crate) fn text<'a>(interactions: impl Iterator<Item = &'a Interaction>) -> String {
    #[derive(Serialize)]
    struct View<'a> {
        cassette: u32,
        interactions: Vec<&'a Interaction>,
    }
    let view = View {
        cassette: VERSION,
        interactions: interactions.collect(),
    };
    let mut text = serde_json::to_string_pretty(&view).expect("a cassette serializes");
    text.push('\n');
    text
}

/// Writes a cassette file whole, through a temporary file beside it, so that a reader never
/// sees half of one.
pub(crate) fn write(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // A name of its own, so that two servers writing the same cassette do not share one.
    let temporary = path.with_extension(format!("json.{}-{n}.part", std::process::id()));
    std::fs::write(&temporary, text)?;
    std::fs::rename(&temporary, path)
}

/// Every cassette in `dir` (files ending `.json`), by name, in name order; a file that is not
/// a cassette is an error naming it.
pub(crate) fn read_dir(dir: &Path) -> Result<Vec<(String, CassetteFile)>, String> {
    read_dir_each(dir)?
        .into_iter()
        .map(|(name, file)| file.map(|f| (name, f)))
        .collect()
}

/// A cassette file read, or what is wrong with it.
pub(crate) type Read = Result<CassetteFile, String>;

/// Every `.json` file in `dir` read as a cassette, each with what reading it gave.
pub(crate) fn read_dir_each(dir: &Path) -> Result<Vec<(String, Read)>, String> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".json"))
        else {
            continue;
        };
        out.push((name.to_string(), read(&path)));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}
