//! Messages-endpoint event decoding against its limit, measured in the same run.
//!
//! LIMIT is `serde_json::from_slice` of the event payloads, already split out of the body, into
//! the generated `MessageStreamEvent`: what decoding would cost if framing were free. Ours is
//! `MessageEventDecoder` over the same body delivered (a) one event per read and (b) in 16 KiB
//! reads. The decoder decodes the variant a payload's leading `type` names instead of letting
//! the untagged union try its variants in turn, which is why it can beat LIMIT; (c) is that
//! decode alone over the split payloads (`sse::parse_message_event`), so (a) / (c) and
//! (b) / (c) are what framing costs. The body is the test transcript's blocks and deltas (`tests/fixtures/messages-stream.txt`)
//! repeated to about 8 MB between one `message_start` and one `message_stop`. Rounds interleave
//! the cases; a ratio is the median over rounds of ours over LIMIT in the same round.
//!
//! ```sh
//! cargo bench -p aimlapi --bench messages_decode
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use aimlapi::sse::{parse_message_event, MessageEventDecoder};
use aimlapi::types::MessageStreamEvent;
use bytes::Bytes;

const TRANSCRIPT: &str = include_str!("../../../tests/fixtures/messages-stream.txt");
const ROUNDS: usize = 21;

fn time(f: impl FnOnce() -> usize) -> Duration {
    let t = Instant::now();
    black_box(f());
    t.elapsed()
}

fn decode(pieces: &[Bytes]) -> usize {
    let mut d = MessageEventDecoder::default();
    let mut n = 0;
    for p in pieces {
        d.feed(p);
        while let Some(e) = d.next_event() {
            e.unwrap();
            n += 1;
        }
    }
    d.finish();
    while let Some(e) = d.next_event() {
        e.unwrap();
        n += 1;
    }
    n
}

fn main() {
    let events: Vec<&str> = TRANSCRIPT.split_inclusive("\n\n").collect();
    let (first, rest) = events.split_first().expect("events");
    let (last, middle_and_delta) = rest.split_last().expect("events");
    let (delta, middle) = middle_and_delta.split_last().expect("events");
    let middle: String = middle.concat();
    let repeat = 8_000_000 / middle.len() + 1;
    let mut text = String::from(*first);
    let mut per_event: Vec<Bytes> = vec![Bytes::from(first.to_string())];
    for _ in 0..repeat {
        text.push_str(&middle);
    }
    for _ in 0..repeat {
        for e in middle.split_inclusive("\n\n") {
            per_event.push(Bytes::from(e.to_string()));
        }
    }
    text.push_str(delta);
    text.push_str(last);
    per_event.push(Bytes::from(delta.to_string()));
    per_event.push(Bytes::from(last.to_string()));
    let body = Bytes::from(text.into_bytes());
    let payloads: Vec<&[u8]> = body
        .split(|b| *b == b'\n')
        .filter_map(|l| l.strip_prefix(b"data: "))
        .collect();
    let reads_16k: Vec<Bytes> = (0..body.len())
        .step_by(16 << 10)
        .map(|at| body.slice(at..(at + (16 << 10)).min(body.len())))
        .collect();
    let expected = payloads.len();
    assert_eq!(decode(&per_event), expected);
    assert_eq!(decode(&reads_16k), expected);

    let mut ratios: [Vec<f64>; 3] = Default::default();
    let mut limit_ms = Vec::new();
    for _ in 0..ROUNDS {
        let limit = time(|| {
            let mut n = 0;
            for p in &payloads {
                black_box(serde_json::from_slice::<MessageStreamEvent>(p).unwrap());
                n += 1;
            }
            n
        });
        let one = time(|| decode(&per_event));
        let reads = time(|| decode(&reads_16k));
        let direct = time(|| {
            let mut n = 0;
            for p in &payloads {
                black_box(parse_message_event(p).unwrap());
                n += 1;
            }
            n
        });
        limit_ms.push(limit.as_secs_f64() * 1e3);
        ratios[0].push(one.as_secs_f64() / limit.as_secs_f64());
        ratios[1].push(reads.as_secs_f64() / limit.as_secs_f64());
        ratios[2].push(direct.as_secs_f64() / limit.as_secs_f64());
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "{} events, {:.1} MB; LIMIT median {:.1} ms; median of {ROUNDS} rounds, ours / LIMIT:",
        expected,
        body.len() as f64 / 1e6,
        median(limit_ms)
    );
    let [one, reads, direct] = ratios;
    let direct = median(direct);
    let (one, reads) = (median(one), median(reads));
    println!("  one event per read  {one:.3}");
    println!("  16 KiB reads        {reads:.3}");
    println!("  (c) the decode alone {direct:.3}");
    println!(
        "framing's share, ours / (c): {:.3} and {:.3}",
        one / direct,
        reads / direct
    );
}
