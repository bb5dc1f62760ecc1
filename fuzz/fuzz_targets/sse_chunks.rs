//! SSE framing and chunk decoding on arbitrary bytes, split into arbitrary pieces.
//!
//! The first byte of the input seeds the cut points; the rest is the body. Besides "never
//! panics", each run checks that the split body frames to the same events as the whole one, and
//! that the chunk type and the Messages event decoder decode the split body to the same outcome
//! as the whole one, and that each event's payload decodes as the generated untagged union
//! decodes it (the decoder dispatches on the payload's leading `type`).

#![no_main]

use aimlapi::sse::{
    parse_message_event, ChunkDecoder, MessageEventDecoder, SseDecoder, SseItem, StreamItem,
};
use aimlapi::types::{ChatCompletionChunk, MessageStreamEvent};
use aimlapi::sse::StreamChunk;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

/// Cuts `body` into pieces of 1 to 16 bytes, their lengths drawn from `seed`.
fn pieces(body: &Bytes, seed: u8) -> Vec<Bytes> {
    let mut state = u32::from(seed) | 1;
    let mut at = 0;
    let mut out = Vec::new();
    while at < body.len() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let len = (1 + state as usize % 16).min(body.len() - at);
        out.push(body.slice(at..at + len));
        at += len;
    }
    out
}

fn events(pieces: &[Bytes], max_line: usize) -> Result<Vec<SseItem>, String> {
    let mut d = SseDecoder::new(max_line);
    let mut out = Vec::new();
    for p in pieces {
        d.feed(p, &mut out).map_err(|e| e.to_string())?;
    }
    d.finish();
    Ok(out)
}

/// Every item a chunk decoder yields, as text, errors included (their kind only: messages name
/// positions that depend on the split).
fn chunks<T: StreamChunk + std::fmt::Debug>(pieces: &[Bytes], max_line: usize) -> Vec<String> {
    let mut d: ChunkDecoder<T> = ChunkDecoder::new(max_line);
    let mut out = Vec::new();
    let take = |d: &mut ChunkDecoder<T>, out: &mut Vec<String>| {
        while let Some(item) = d.next_item() {
            out.push(match item {
                Ok(StreamItem::Chunk(c)) => format!("{c:?}"),
                Ok(StreamItem::Comment(c)) => format!("comment {c}"),
                Err(e) => format!("error {:?}", e.kind()),
            });
        }
    };
    for p in pieces {
        d.feed(p.clone());
        take(&mut d, &mut out);
    }
    d.finish();
    take(&mut d, &mut out);
    out
}

/// Every item the Messages event decoder yields, as text (errors by kind).
fn message_events(pieces: &[Bytes], max_line: usize) -> Vec<String> {
    let mut d = MessageEventDecoder::new(max_line);
    let mut out = Vec::new();
    let take = |d: &mut MessageEventDecoder, out: &mut Vec<String>| {
        while let Some(item) = d.next_event() {
            out.push(match item {
                Ok(e) => format!("{e:?}"),
                Err(e) => format!("error {:?}", e.kind()),
            });
        }
    };
    for p in pieces {
        d.feed(p);
        take(&mut d, &mut out);
    }
    d.finish();
    take(&mut d, &mut out);
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&seed, body)) = data.split_first() else {
        return;
    };
    let body = Bytes::copy_from_slice(body);
    let whole = [body.clone()];
    let split = pieces(&body, seed);
    // A generous line limit, so that where a line crosses it cannot depend on the split.
    let max_line = body.len() + 1;
    let framed = events(&whole, max_line);
    assert_eq!(framed, events(&split, max_line));
    for item in framed.iter().flatten() {
        if let SseItem::Event(e) = item {
            let direct = parse_message_event(e.data.as_bytes()).ok();
            let union = serde_json::from_str::<MessageStreamEvent>(&e.data).ok();
            assert_eq!(format!("{direct:?}"), format!("{union:?}"), "{}", e.data);
        }
    }
    assert_eq!(
        chunks::<ChatCompletionChunk>(&whole, max_line),
        chunks::<ChatCompletionChunk>(&split, max_line)
    );
    assert_eq!(
        message_events(&whole, max_line),
        message_events(&split, max_line)
    );
});
