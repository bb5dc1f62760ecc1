//! Property: however the network cuts a body into reads, the decoders see the same events.
//!
//! Bodies are built from events with every line end (LF, CRLF, lone CR), comments, multi-line
//! data, bare `data` lines, `event`/`id` fields and text in one- to four-byte UTF-8; the cuts fall anywhere,
//! inside a CRLF pair and inside a multi-byte character included.

use aimlapi::sse::{ChunkDecoder, SseDecoder, SseItem, StreamItem};
use aimlapi::types::ChatCompletionChunk;
use bytes::Bytes;
use proptest::prelude::*;

const TRANSCRIPT: &str = include_str!("../../mock/fixtures/seed-003-stream.txt");

/// One event, or one comment, as lines (without their ends).
fn block() -> impl Strategy<Value = Vec<String>> {
    // Text that mixes ASCII with two-, three- and four-byte characters; no line ends.
    let text = "[a-z :{}\"é€😀]{0,12}";
    prop_oneof![
        prop::collection::vec(text.prop_map(|t| format!("data: {t}")), 1..4),
        (text, text).prop_map(|(e, d)| vec![format!("event: {e}"), format!("data: {d}")]),
        (text, text).prop_map(|(i, d)| vec![format!("id: {i}"), format!("data:{d}")]),
        text.prop_map(|c| vec![format!(": {c}")]),
        // A bare field name is a field with an empty value.
        text.prop_map(|d| vec!["data".to_string(), format!("data: {d}")]),
    ]
}

fn line_end() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("\n"), Just("\r\n"), Just("\r")]
}

/// A body: blocks, each line and each closing blank line ended by any of the three line ends.
fn body() -> impl Strategy<Value = String> {
    prop::collection::vec((block(), line_end(), line_end()), 0..8).prop_map(|blocks| {
        let mut body = String::new();
        for (lines, end, blank) in blocks {
            for line in lines {
                body.push_str(&line);
                body.push_str(end);
            }
            body.push_str(blank);
        }
        body
    })
}

/// `body` cut at the given points (any byte offsets, sorted and deduplicated here).
fn cut(body: &[u8], points: &[usize]) -> Vec<Bytes> {
    let body = Bytes::copy_from_slice(body);
    let mut points: Vec<usize> = points.iter().map(|p| p % (body.len() + 1)).collect();
    points.extend([0, body.len()]);
    points.sort_unstable();
    points.dedup();
    points.windows(2).map(|w| body.slice(w[0]..w[1])).collect()
}

fn events(pieces: &[Bytes]) -> Vec<SseItem> {
    let mut d = SseDecoder::default();
    let mut out = Vec::new();
    for p in pieces {
        d.feed(p, &mut out).unwrap();
    }
    d.finish();
    out
}

fn chunks(pieces: &[Bytes]) -> Vec<String> {
    let mut d: ChunkDecoder<ChatCompletionChunk> = ChunkDecoder::default();
    let mut out = Vec::new();
    let take = |d: &mut ChunkDecoder<ChatCompletionChunk>, out: &mut Vec<String>| {
        while let Some(item) = d.next_item() {
            match item.unwrap() {
                StreamItem::Chunk(c) => out.push(serde_json::to_string(&c).unwrap()),
                StreamItem::Comment(c) => out.push(c),
            }
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

/// Seed 003's transcript, each event's two line ends replaced by one of LF, CRLF or CR (the same
/// for both, so that a CR never meets a LF and makes one line end of two).
fn transcript_with(ends: &[u8]) -> String {
    let mut out = String::new();
    for (i, event) in TRANSCRIPT.split_terminator("\n\n").enumerate() {
        let end = ["\n", "\r\n", "\r"][usize::from(ends[i % ends.len()] % 3)];
        out.push_str(event);
        out.push_str(end);
        out.push_str(end);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_split_of_any_body_frames_the_same_events(
        body in body(),
        points in prop::collection::vec(any::<usize>(), 0..24),
    ) {
        let whole = events(&[Bytes::copy_from_slice(body.as_bytes())]);
        prop_assert_eq!(events(&cut(body.as_bytes(), &points)), whole);
    }

    #[test]
    fn any_split_of_the_seed_transcript_decodes_the_same_chunks(
        ends in prop::collection::vec(any::<u8>(), 1..8),
        points in prop::collection::vec(any::<usize>(), 0..64),
    ) {
        let body = transcript_with(&ends);
        let whole = chunks(&[Bytes::copy_from_slice(body.as_bytes())]);
        prop_assert_eq!(whole.len(), 38, "every chunk of the transcript, whole");
        prop_assert_eq!(chunks(&cut(body.as_bytes(), &points)), whole);
    }
}

#[test]
fn feeding_every_piece_before_taking_any_item_gives_the_same_chunks() {
    let body = transcript_with(&[0, 1, 2]);
    let pieces = cut(
        body.as_bytes(),
        &[5, 300, 301, 1000, 4000, 4001, 4002, 7000],
    );
    let mut d: ChunkDecoder<ChatCompletionChunk> = ChunkDecoder::default();
    for p in &pieces {
        d.feed(p.clone());
    }
    d.finish();
    let mut late = Vec::new();
    while let Some(item) = d.next_item() {
        if let StreamItem::Chunk(c) = item.unwrap() {
            late.push(serde_json::to_string(&c).unwrap());
        }
    }
    assert_eq!(late.len(), 38);
    assert_eq!(late, chunks(&pieces));
}

#[test]
fn taking_one_item_per_piece_gives_the_same_chunks() {
    // Each piece is fed while part of the one before is still unread.
    let body = transcript_with(&[0, 1, 2]);
    let pieces = cut(body.as_bytes(), &[700, 1400, 2100, 2800, 3500, 5000]);
    let mut d: ChunkDecoder<ChatCompletionChunk> = ChunkDecoder::default();
    let mut out = Vec::new();
    let mut take = |d: &mut ChunkDecoder<ChatCompletionChunk>| {
        let item = d.next_item()?;
        if let StreamItem::Chunk(c) = item.unwrap() {
            out.push(serde_json::to_string(&c).unwrap());
        }
        Some(())
    };
    for p in &pieces {
        d.feed(p.clone());
        take(&mut d);
    }
    d.finish();
    while take(&mut d).is_some() {}
    assert_eq!(out.len(), 38);
    assert_eq!(out, chunks(&pieces));
}
