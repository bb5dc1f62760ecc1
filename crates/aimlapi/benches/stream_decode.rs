//! Stream decoding throughput against its limit, measured in the same run.
//!
//! LIMIT is `serde_json::from_slice` of the payloads, already split out of the body, into the
//! generated chunk type: what decoding would cost if framing were free. Ours is `ChunkDecoder` over
//! the same body delivered in pieces: (a) one event per read, (b) 16 KiB reads, (c) random 1-64
//! byte reads, (d) 256 KiB reads. Rounds interleave all cases; a ratio is the median over rounds of
//! ours over LIMIT in the same round (1.00 = as fast as parsing alone).
//!
//! ```sh
//! cargo bench -p aimlapi --bench stream_decode
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use aimlapi::sse::{ChunkDecoder, StreamItem};
use aimlapi::types::ChatCompletionChunk;
use bytes::Bytes;

const TRANSCRIPT: &str = include_str!("../../mock/fixtures/seed-003-stream.txt");
const ROUNDS: usize = 21;

fn timed(f: impl FnOnce() -> usize) -> (Duration, usize) {
    let t = Instant::now();
    let n = black_box(f());
    (t.elapsed(), n)
}

fn time(f: impl FnOnce() -> usize) -> Duration {
    timed(f).0
}

/// Ours over the pieces, handed over owned as a network read hands them over.
fn decode(pieces: Vec<Bytes>) -> usize {
    let mut d: ChunkDecoder<ChatCompletionChunk> = ChunkDecoder::default();
    let mut n = 0;
    for p in pieces {
        d.feed(p);
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
    // The payloads as slices of that same body, so that LIMIT reads the same memory ours does.
    let mut payloads: Vec<&[u8]> = Vec::new();
    let mut at = 0;
    for e in (0..repeat).flat_map(|_| events.iter()) {
        let line = e.trim_end();
        assert!(line.starts_with("data: "));
        payloads.push(&body[at + "data: ".len()..at + line.len()]);
        at += e.len();
    }
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
    let limit = || -> usize {
        payloads
            .iter()
            .map(|p| {
                serde_json::from_slice::<ChatCompletionChunk>(p)
                    .unwrap()
                    .choices
                    .len()
            })
            .sum()
    };
    let want = limit();
    let cases = [
        ("(a) one event per read", per_event),
        ("(b) 16 KiB reads", chunks(16 << 10)),
        ("(c) random 1-64 byte reads", random),
        ("(d) 256 KiB reads", chunks(256 << 10)),
    ];
    // Rounds interleave LIMIT and every case, so that a slow spell of the machine lands on all of
    // them; each ratio is the median over rounds of (case / LIMIT in the same round).
    let mut limit_times = Vec::new();
    let mut case_times = vec![Vec::new(); cases.len()];
    for _ in 0..ROUNDS {
        limit_times.push(time(limit));
        for (i, (name, pieces)) in cases.iter().enumerate() {
            // The pieces are cloned (one reference count each) outside the timed part.
            let owned = pieces.clone();
            let (t, n) = timed(|| decode(owned));
            assert_eq!(n, want, "{name} decoded a different number of choices");
            case_times[i].push(t);
        }
    }
    let mb = body.len() as f64 / 1e6;
    println!(
        "body: {mb:.1} MB, {} events; {ROUNDS} interleaved rounds",
        payloads.len()
    );
    println!(
        "{:<34} {:>9} {:>9} {:>7}",
        "case", "best ms", "MB/s", "ratio"
    );
    let best = |ts: &[Duration]| ts.iter().min().copied().unwrap();
    let row = |name: &str, ts: &[Duration]| {
        let mut ratios: Vec<f64> = ts
            .iter()
            .zip(&limit_times)
            .map(|(t, l)| t.as_secs_f64() / l.as_secs_f64())
            .collect();
        ratios.sort_by(f64::total_cmp);
        let t = best(ts).as_secs_f64();
        println!(
            "{name:<34} {:>9.1} {:>9.0} {:>7.2}",
            t * 1e3,
            mb / t,
            ratios[ratios.len() / 2]
        );
    };
    row("LIMIT from_slice of payloads", &limit_times);
    for ((name, _), ts) in cases.iter().zip(&case_times) {
        row(name, ts);
    }
}
