//! Shared pieces of the end-to-end benchmarks: a loopback server that streams a prepared body.
//!
//! The benchmark itself is `benches/stream_e2e.rs`; see BENCHMARKS.md at the repository root.

#![deny(missing_docs)]

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The documented streaming transcript (seed 003).
pub const TRANSCRIPT: &str = include_str!("../../mock/fixtures/seed-003-stream.txt");

/// The transcript as both clients can read it, repeated until it is at least `min_len` bytes.
///
/// async-openai requires `delta` in every choice; the transcript's last chunk has none (the API
/// sends it that way), so that one chunk gains `"delta":{}` here. Nothing else changes.
pub fn body(min_len: usize) -> Vec<u8> {
    let once = TRANSCRIPT.replace(
        r#"{"index":0,"finish_reason":"stop"}"#,
        r#"{"index":0,"delta":{},"finish_reason":"stop"}"#,
    );
    once.repeat(min_len / once.len() + 1).into_bytes()
}

/// The events of `body`, each with its closing blank line.
pub fn events(body: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.windows(2).position(|w| w == b"\n\n") {
        out.push(&rest[..i + 2]);
        rest = &rest[i + 2..];
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// How the server cuts the body into HTTP chunks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chunking {
    /// One HTTP chunk per event.
    PerEvent,
    /// HTTP chunks of this many bytes.
    Size(usize),
}

/// The response as it goes on the wire: headers, then the body in chunked transfer encoding.
pub fn response(body: &[u8], chunking: Chunking) -> Vec<u8> {
    let mut out =
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
            .to_vec();
    let mut chunk = |piece: &[u8]| {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    };
    match chunking {
        Chunking::PerEvent => events(body).into_iter().for_each(&mut chunk),
        Chunking::Size(n) => body.chunks(n).for_each(&mut chunk),
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// A server on 127.0.0.1 that answers every request on every connection with one prepared
/// response. It stops accepting when dropped; open connections end with their runtime.
pub struct Server {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Starts serving `response` (see [`response`]) on a free port.
    pub async fn start(response: Vec<u8>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(serve(listener, response.into()));
        Server { base_url, task }
    }

    /// Serves `response` from a thread of its own with its own current-thread runtime, so that
    /// the caller's runtime does only the client's work; returns the base URL. The thread runs
    /// until the process ends.
    pub fn start_in_thread(response: Vec<u8>) -> String {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                let base_url = format!("http://{}", listener.local_addr().expect("addr"));
                tx.send(base_url).expect("send");
                serve(listener, response.into()).await;
            });
        });
        rx.recv().expect("server address")
    }
}

/// Answers every request on every connection `listener` accepts with `response`.
async fn serve(listener: TcpListener, response: Arc<[u8]>) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        socket.set_nodelay(true).ok();
        let response = response.clone();
        tokio::spawn(async move {
            while read_request(&mut socket).await {
                // Written in large slices: the HTTP chunks are what the client sees.
                if socket.write_all(&response).await.is_err() {
                    return;
                }
            }
        });
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one request (headers and a `content-length` body); false when the connection ends.
pub async fn read_request(socket: &mut tokio::net::TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut piece = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match socket.read(&mut piece).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&piece[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match socket.read(&mut piece).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&piece[..n]),
        }
    }
    true
}

/// Peak resident memory of this process so far (`VmHWM`), in KiB; Linux only.
pub fn peak_rss_kib() -> Option<u64> {
    status_kib("VmHWM:")
}

/// Resident memory of this process now (`VmRSS`), in KiB; Linux only.
pub fn rss_kib() -> Option<u64> {
    status_kib("VmRSS:")
}

/// Sets the peak (`VmHWM`) back to the memory resident now (`/proc/self/clear_refs`), so that
/// [`peak_rss_kib`] measures from here; does nothing where Linux does not offer it.
pub fn reset_peak_rss() {
    use std::io::Write;
    let _ = std::fs::OpenOptions::new()
        .write(true)
        .open("/proc/self/clear_refs")
        .and_then(|mut f| f.write_all(b"5"));
}

/// A `kB` figure of `/proc/self/status` by its field name (with the colon).
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}
