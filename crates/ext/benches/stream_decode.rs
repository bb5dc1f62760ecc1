//! Stream decoding throughput against its limit, measured in the same run.
//!
//! LIMIT is `serde_json::from_slice` of the payloads, already split out of the body, into the
//! generated chunk type: what decoding would cost if framing were free. Ours is `ChunkDecoder` over
//! the same body delivered in pieces: (a) one event per read, (b) 16 KiB reads, (c) random 1-64
//! byte reads, (d) 256 KiB reads. Each figure is the best of several rounds; ratios are ours over
//! LIMIT (1.00 = as fast as parsing alone).
//!
//! ```sh
//! cargo bench -p aimlapi --bench stream_decode
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use aimlapi::types::ChatCompletionChunk;
use aimlapi::{ChunkDecoder, StreamItem};
use bytes::Bytes;

const TRANSCRIPT: &str = include_str!("../../../tests/fixtures/seed-003-stream.txt");
const ROUNDS: usize = 7;

fn best_of(mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut n = 0;
    for _ in 0..ROUNDS {
        let t = Instant::now();
        n = black_box(f());
        best = best.min(t.elapsed());
    }
    (best, n)
}

fn decode(pieces: &[Bytes]) -> usize {
    let mut d: ChunkDecoder<ChatCompletionChunk> = ChunkDecoder::default();
    let mut n = 0;
    for p in pieces {
        d.feed(p).unwrap();
        while let Some(item) = d.next_item() {
            if let StreamItem::Chunk(c) = item.unwrap() {
                n += c.choices.len();
            }
        }
    }
    d.finish();
    while let Some(item) = d.next_item() {
        if let StreamItem::Chunk(c) = item.unwrap() {
            n += c.choices.len();
        }
    }
    n
}

fn main() {
    // The seed transcript, its 38 events repeated to about 8 MB.
    let events: Vec<&str> = TRANSCRIPT.split_inclusive("\n\n").collect();
    let repeat = 8_000_000 / TRANSCRIPT.len() + 1;
    let body = Bytes::from(TRANSCRIPT.repeat(repeat).into_bytes());
    let payloads: Vec<&[u8]> = (0..repeat)
        .flat_map(|_| events.iter())
        .map(|e| e.trim_end().strip_prefix("data: ").unwrap().as_bytes())
        .collect();
    // Every piece is a slice of the one body, as the network's `Bytes` would be.
    let split = |lens: &mut dyn Iterator<Item = usize>| -> Vec<Bytes> {
        let mut at = 0;
        let mut out = Vec::new();
        while at < body.len() {
            let len = lens.next().unwrap().min(body.len() - at);
            out.push(body.slice(at..at + len));
            at += len;
        }
        out
    };
    let per_event = split(&mut (0..repeat).flat_map(|_| events.iter().map(|e| e.len())));
    let chunks = |size: usize| split(&mut std::iter::repeat(size));
    let mut rng = fastrand::Rng::with_seed(7);
    let random = split(&mut std::iter::from_fn(|| Some(rng.usize(1..=64))));
    let (limit, want) = best_of(|| {
        payloads
            .iter()
            .map(|p| {
                serde_json::from_slice::<ChatCompletionChunk>(p)
                    .unwrap()
                    .choices
                    .len()
            })
            .sum()
    });
    let mb = body.len() as f64 / 1e6;
    println!(
        "body: {mb:.1} MB, {} events; best of {ROUNDS} rounds",
        payloads.len()
    );
    println!("{:<34} {:>9} {:>9} {:>7}", "case", "ms", "MB/s", "ratio");
    let row = |name: &str, t: Duration| {
        println!(
            "{name:<34} {:>9.1} {:>9.0} {:>7.2}",
            t.as_secs_f64() * 1e3,
            mb / t.as_secs_f64(),
            t.as_secs_f64() / limit.as_secs_f64()
        );
    };
    row("LIMIT from_slice of payloads", limit);
    for (name, pieces) in [
        ("(a) one event per read", per_event),
        ("(b) 16 KiB reads", chunks(16 << 10)),
        ("(c) random 1-64 byte reads", random),
        ("(d) 256 KiB reads", chunks(256 << 10)),
    ] {
        let (t, n) = best_of(|| decode(&pieces));
        assert_eq!(n, want, "{name} decoded a different number of choices");
        row(name, t);
    }
}
