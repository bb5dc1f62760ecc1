//! Answering from cassettes against answering from scripts: calls a second through the client,
//! the same call against the mock replaying a cassette and against the scripted mock, in one
//! process, interleaved.
//!
//! The cassette is recorded first, through the mock as a recording proxy in front of a scripted
//! mock: `REPLAY_N + 1` identical conversation calls (`client.chat(..).user(..).send()`), so a
//! replaying server has one recorded answer for each call of a round. Each round starts a fresh
//! server of each kind (the scripted one answers with the documented response, its request
//! validated against the page's schema as always; the replaying one matches each request to the
//! next unplayed exchange), makes one call to warm it (the schemas compiled, the cassette read),
//! then times `REPLAY_N` calls (1,000 unless set), one after another and then `REPLAY_CONCURRENCY`
//! at a time (16 unless set). Rounds alternate the order of the kinds. The figure is each kind's
//! median calls a second over `REPLAY_ROUNDS` rounds (5 unless set), and replayed over scripted.
//!
//! ```sh
//! cargo bench -p aimlapi-bench --bench replay
//! ```
//!
//! `REPLAY_ONLY=scripted` (or `replay`) makes one round of that kind alone (`REPLAY_N` calls one
//! after another) and prints no figures, for callgrind: `crates/bench/replay-callgrind.sh`
//! counts each kind's instructions a call that way (the whole process: the server's work is
//! what differs). A replaying run records `REPLAY_N + 1` calls first, unless `REPLAY_DIR` names a
//! folder recorded already: `REPLAY_ONLY=record` records `REPLAY_RECORD` calls there.

use std::path::{Path, PathBuf};
use std::time::Instant;

use aimlapi::{Client, Provider};
use aimlapi_mock::{Cassettes, MockServer, Mode};
use futures::StreamExt;

const MODEL: &str = "claude-sonnet-4-5";
const CASSETTE: &str = "bench";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn client(base: &str) -> Client {
    Client::builder()
        .provider(Provider::AimlApi)
        .base_url(base)
        .api_key("bench-key")
        .build()
        .unwrap()
}

async fn call(client: &Client) {
    let done = client
        .chat(MODEL)
        .user("What is the capital of France?")
        .send()
        .await
        .unwrap();
    assert!(done.text().is_some());
}

/// `n` calls recorded into `dir`'s cassette.
async fn record(dir: &Path, n: usize) {
    let gateway = MockServer::start().await;
    let recorder = MockServer::builder()
        .cassettes(
            Cassettes::new(dir)
                .name(CASSETTE)
                .mode(Mode::RecordAll)
                .upstream(gateway.base_url()),
        )
        .start()
        .await
        .unwrap();
    let client = client(recorder.base_url());
    for _ in 0..n {
        call(&client).await;
    }
    recorder.settle().await;
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Scripted,
    Replay,
}

/// A fresh server of `kind`, warmed by one call.
async fn server(kind: Kind, dir: &Path) -> (MockServer, Client) {
    let server = match kind {
        Kind::Scripted => MockServer::start().await,
        Kind::Replay => MockServer::builder()
            .cassettes(Cassettes::new(dir).name(CASSETTE))
            .start()
            .await
            .unwrap(),
    };
    let client = client(server.base_url());
    call(&client).await;
    (server, client)
}

/// Calls a second: `n` calls, `at_once` at a time.
async fn rate(client: &Client, n: usize, at_once: usize) -> f64 {
    let start = Instant::now();
    futures::stream::iter(0..n)
        .map(|_| call(client))
        .buffer_unordered(at_once.max(1))
        .collect::<Vec<()>>()
        .await;
    n as f64 / start.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n = env("REPLAY_N", 1000);
    let rounds = env("REPLAY_ROUNDS", 5).max(1);
    let at_once = env("REPLAY_CONCURRENCY", 16);
    // A folder given (`REPLAY_DIR`) is the caller's to keep; ours goes at the end.
    let given = std::env::var_os("REPLAY_DIR").map(PathBuf::from);
    let dir = given.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("aimlapi-replay-bench-{}", std::process::id()))
    });
    if given.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    if let Ok(only) = std::env::var("REPLAY_ONLY") {
        let kind = match only.as_str() {
            "scripted" => Kind::Scripted,
            "replay" => Kind::Replay,
            "record" => {
                record(&dir, env("REPLAY_RECORD", n + 1)).await;
                return;
            }
            other => panic!("REPLAY_ONLY={other}: scripted, replay or record"),
        };
        if kind == Kind::Replay && given.is_none() {
            record(&dir, n + 1).await;
        }
        let (_server, client) = server(kind, &dir).await;
        rate(&client, n, 1).await;
        if given.is_none() {
            let _ = std::fs::remove_dir_all(&dir);
        }
        return;
    }

    // Each replaying round plays the whole cassette: a warm-up, then one call for each of
    // the sequential and the concurrent runs.
    record(&dir, 2 * n + 1).await;
    println!("replay: {n} calls a run, {rounds} rounds; calls a second (one at a time | {at_once} at a time)");
    let mut figures: Vec<[Vec<f64>; 2]> = vec![[Vec::new(), Vec::new()], [Vec::new(), Vec::new()]];
    for round in 0..rounds {
        let order = if round % 2 == 0 {
            [Kind::Scripted, Kind::Replay]
        } else {
            [Kind::Replay, Kind::Scripted]
        };
        for kind in order {
            let (server, client) = server(kind, &dir).await;
            let one = rate(&client, n, 1).await;
            let many = rate(&client, n, at_once).await;
            assert!(
                server.cassette_misses().is_empty(),
                "{:?}",
                server.cassette_misses()
            );
            let i = usize::from(kind == Kind::Replay);
            figures[i][0].push(one);
            figures[i][1].push(many);
            println!("  round {round} {kind:?}: {one:.0} | {many:.0}");
        }
    }
    let [scripted, replayed] = [&figures[0], &figures[1]];
    let (s1, s2) = (median(scripted[0].clone()), median(scripted[1].clone()));
    let (r1, r2) = (median(replayed[0].clone()), median(replayed[1].clone()));
    println!("scripted: {s1:.0} | {s2:.0} calls/s (medians)");
    println!("replay:   {r1:.0} | {r2:.0} calls/s (medians)");
    println!(
        "replayed/scripted: {:.2}x | {:.2}x (goal: at least 1.00)",
        r1 / s1,
        r2 / s2
    );
    let _ = std::fs::remove_dir_all(&dir);
}
