//! JSON read into a type with the memory it takes bounded, and a failure that says where.
//!
//! A body's byte limit does not bound what its bytes become: `{}` is two bytes and a struct of
//! a few hundred, `[]` two bytes and a `serde_json::Value` of 32 (a 32 MiB page of empty objects
//! once took 4.3 GB). [`from_slice`] reads through a deserializer that charges every element of
//! every sequence and every key and value of every map the size of the type it becomes (plus
//! an allocator's overhead) against a budget, and stops the read as soon as the budget is spent.
//! What serde buffers on the way (untagged enums, flattened fields) is charged too, since it is
//! read through the same wrapper. Strings are not charged: they take no more than their bytes.

use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};

/// What one element is charged beyond its type's size: an allocation's bookkeeping, a map
/// node's share, a vector's room to grow.
const OVERHEAD: usize = 16;

/// Why a read failed.
#[derive(Debug)]
pub(crate) enum JsonFailure {
    /// The decoded form would take more than `budget` bytes; the read stopped there.
    TooLarge {
        /// The budget, in bytes.
        budget: usize,
    },
    /// Not JSON of the type: the message, with where (the path to the value and what came)
    /// when the position could be placed.
    Bad(String),
}

impl fmt::Display for JsonFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonFailure::TooLarge { budget } => {
                write!(f, "the decoded answer would take more than {budget} bytes")
            }
            JsonFailure::Bad(message) => f.write_str(message),
        }
    }
}

/// `bytes` read as one `T` (whitespace after it allowed), its decoded form charged against
/// `budget` bytes.
pub(crate) fn from_slice<T: de::DeserializeOwned>(
    bytes: &[u8],
    budget: usize,
) -> Result<T, JsonFailure> {
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let tally = Tally::new(budget);
    let value = T::deserialize(Counted {
        de: &mut json,
        tally: &tally,
    })
    .and_then(|v| json.end().map(|()| v));
    value.map_err(|e| failure(e, &tally, bytes))
}

thread_local! {
    /// The tally of the read [`first`] is making on this thread: serde_json's stream reader,
    /// the one that says where a value ended, takes a type, not a seed to carry it in.
    static CURRENT: RefCell<Option<Tally>> = const { RefCell::new(None) };
}

/// `T`, read through a [`Counted`] deserializer charging the thread's [`CURRENT`] tally.
struct Charged<T>(T);

impl<'de, T: de::Deserialize<'de>> de::Deserialize<'de> for Charged<T> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        CURRENT.with(|current| match current.borrow().as_ref() {
            Some(tally) => T::deserialize(Counted { de, tally }).map(Charged),
            None => Err(de::Error::custom("a charged read without its tally")),
        })
    }
}

/// The first value of `bytes` read as `T` in one pass (more may follow it), with the bytes it
/// took, its decoded form charged against `budget`; `Ok(None)` when `bytes` end inside it.
pub(crate) fn first<T: de::DeserializeOwned>(
    bytes: &[u8],
    budget: usize,
) -> Result<Option<(T, usize)>, JsonFailure> {
    CURRENT.with(|current| *current.borrow_mut() = Some(Tally::new(budget)));
    let mut values = serde_json::Deserializer::from_slice(bytes).into_iter::<Charged<T>>();
    let read = values.next();
    let tally = CURRENT
        .with(|current| current.borrow_mut().take())
        .unwrap_or_else(|| Tally::new(budget));
    match read {
        Some(Ok(Charged(value))) => Ok(Some((value, values.byte_offset()))),
        Some(Err(e)) if e.is_eof() && !tally.over.get() => Ok(None),
        Some(Err(e)) => Err(failure(e, &tally, bytes)),
        None => Ok(None),
    }
}

fn failure(e: serde_json::Error, tally: &Tally, bytes: &[u8]) -> JsonFailure {
    if tally.over.get() {
        return JsonFailure::TooLarge {
            budget: tally.budget,
        };
    }
    let mut message = e.to_string();
    if let Some((path, came)) = locate(bytes, &tally.path.borrow()) {
        message = format!("{path}: {message}; it came as {came}");
    }
    JsonFailure::Bad(message)
}

/// What a read has spent.
struct Tally {
    used: Cell<usize>,
    budget: usize,
    over: Cell<bool>,
    /// The steps an error passed through on its way out, innermost first.
    path: RefCell<Vec<Step>>,
}

impl Tally {
    fn new(budget: usize) -> Self {
        Tally {
            used: Cell::new(0),
            budget,
            over: Cell::new(false),
            path: Default::default(),
        }
    }

    /// Notes that an error came out of `step` (each container it passes through adds its own).
    fn passed<T, E>(&self, result: Result<T, E>, step: Step) -> Result<T, E> {
        if result.is_err() {
            self.path.borrow_mut().push(step);
        }
        result
    }

    /// Charges one element of type `T`; an error once the budget is spent.
    fn charge<T, E: de::Error>(&self) -> Result<(), E> {
        let used = self
            .used
            .get()
            .saturating_add(std::mem::size_of::<T>() + OVERHEAD);
        self.used.set(used);
        if used > self.budget {
            self.over.set(true);
            return Err(E::custom(format_args!(
                "the decoded answer would pass {} bytes",
                self.budget
            )));
        }
        Ok(())
    }
}

/// A deserializer whose sequences and maps are charged to `tally`.
struct Counted<'t, D> {
    de: D,
    tally: &'t Tally,
}

/// A visitor whose sequences and maps are charged to `tally`.
struct Wrap<'t, V> {
    visitor: V,
    tally: &'t Tally,
}

/// A seed whose value is read through a [`Counted`] deserializer.
struct Seed<'t, S> {
    seed: S,
    tally: &'t Tally,
}

struct Seq<'t, A> {
    access: A,
    tally: &'t Tally,
    /// The elements asked for so far.
    at: usize,
}

struct Map<'t, A> {
    access: A,
    tally: &'t Tally,
    /// The keys asked for so far.
    at: usize,
}

struct Enum<'t, A> {
    access: A,
    tally: &'t Tally,
}

macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*))*) => {
        $(fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            self.de.$method($($arg,)* Wrap { visitor, tally: self.tally })
        })*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Counted<'_, D> {
    type Error = D::Error;

    forward! {
        deserialize_any() deserialize_bool() deserialize_i8() deserialize_i16() deserialize_i32()
        deserialize_i64() deserialize_i128() deserialize_u8() deserialize_u16() deserialize_u32()
        deserialize_u64() deserialize_u128() deserialize_f32() deserialize_f64() deserialize_char()
        deserialize_str() deserialize_string() deserialize_bytes() deserialize_byte_buf()
        deserialize_option() deserialize_unit() deserialize_seq() deserialize_map()
        deserialize_identifier() deserialize_ignored_any()
        deserialize_unit_struct(name: &'static str)
        deserialize_newtype_struct(name: &'static str)
        deserialize_tuple(len: usize)
        deserialize_tuple_struct(name: &'static str, len: usize)
        deserialize_struct(name: &'static str, fields: &'static [&'static str])
        deserialize_enum(name: &'static str, variants: &'static [&'static str])
    }

    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
}

macro_rules! pass {
    ($($method:ident: $ty:ty)*) => {
        $(fn $method<E: de::Error>(self, v: $ty) -> Result<Self::Value, E> {
            self.visitor.$method(v)
        })*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }

    pass! {
        visit_bool: bool visit_i8: i8 visit_i16: i16 visit_i32: i32 visit_i64: i64
        visit_i128: i128 visit_u8: u8 visit_u16: u16 visit_u32: u32 visit_u64: u64
        visit_u128: u128 visit_f32: f32 visit_f64: f64 visit_char: char visit_str: &str
        visit_borrowed_str: &'de str visit_string: String visit_bytes: &[u8]
        visit_borrowed_bytes: &'de [u8] visit_byte_buf: Vec<u8>
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visitor.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visitor.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        let tally = self.tally;
        self.visitor.visit_some(Counted { de, tally })
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        let tally = self.tally;
        self.visitor.visit_newtype_struct(Counted { de, tally })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, access: A) -> Result<Self::Value, A::Error> {
        let tally = self.tally;
        self.visitor.visit_seq(Seq {
            access,
            tally,
            at: 0,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<Self::Value, A::Error> {
        let tally = self.tally;
        self.visitor.visit_map(Map {
            access,
            tally,
            at: 0,
        })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, access: A) -> Result<Self::Value, A::Error> {
        let tally = self.tally;
        self.visitor.visit_enum(Enum { access, tally })
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<'_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<S::Value, D::Error> {
        let tally = self.tally;
        self.seed.deserialize(Counted { de, tally })
    }
}

impl<'t, 'de, A: SeqAccess<'de>> SeqAccess<'de> for Seq<'t, A> {
    type Error = A::Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, A::Error> {
        // Charged before it is read (the end of the sequence too: each sequence's own cost).
        self.tally.charge::<S::Value, A::Error>()?;
        let tally = self.tally;
        let step = Step::Element(self.at);
        self.at += 1;
        tally.passed(self.access.next_element_seed(Seed { seed, tally }), step)
    }

    fn size_hint(&self) -> Option<usize> {
        self.access.size_hint()
    }
}

impl<'t, 'de, A: MapAccess<'de>> MapAccess<'de> for Map<'t, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.tally.charge::<K::Value, A::Error>()?;
        let tally = self.tally;
        let step = Step::Member(self.at);
        self.at += 1;
        tally.passed(self.access.next_key_seed(Seed { seed, tally }), step)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.tally.charge::<S::Value, A::Error>()?;
        let tally = self.tally;
        // The member whose key was just read.
        let step = Step::Member(self.at.saturating_sub(1));
        tally.passed(self.access.next_value_seed(Seed { seed, tally }), step)
    }

    fn size_hint(&self) -> Option<usize> {
        self.access.size_hint()
    }
}

impl<'t, 'de, A: EnumAccess<'de>> EnumAccess<'de> for Enum<'t, A> {
    type Error = A::Error;
    type Variant = Enum<'t, A::Variant>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), A::Error> {
        let tally = self.tally;
        let (value, access) = self.access.variant_seed(Seed { seed, tally })?;
        Ok((value, Enum { access, tally }))
    }
}

impl<'de, A: de::VariantAccess<'de>> de::VariantAccess<'de> for Enum<'_, A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.access.unit_variant()
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        let tally = self.tally;
        self.access.newtype_variant_seed(Seed { seed, tally })
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        let tally = self.tally;
        self.access.tuple_variant(len, Wrap { visitor, tally })
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        let tally = self.tally;
        self.access.struct_variant(fields, Wrap { visitor, tally })
    }
}

/// One step of the path to a value: the `n`th member of an object, the `n`th element of an
/// array (from 0).
#[derive(Clone, Copy, Debug)]
enum Step {
    Member(usize),
    Element(usize),
}

/// Where a read failed, from the steps its error passed through (innermost first): the path
/// (`models.b.p50`, `data[3]`) with the keys read from `bytes`, and the value's text there, cut
/// to a readable length. `None` when the steps do not lead anywhere in `bytes`.
fn locate(bytes: &[u8], steps: &[Step]) -> Option<(String, String)> {
    let mut at = skip_space(bytes, 0);
    let mut path = String::new();
    for step in steps.iter().rev() {
        match *step {
            Step::Member(n) => {
                if bytes.get(at) != Some(&b'{') {
                    return None;
                }
                let mut i = skip_space(bytes, at + 1);
                for member in 0..=n {
                    let key_end = value_end(bytes.get(i..)?)? + i;
                    let key = bytes.get(i + 1..key_end - 1)?;
                    i = skip_space(bytes, key_end);
                    if bytes.get(i) != Some(&b':') {
                        return None;
                    }
                    i = skip_space(bytes, i + 1);
                    if member == n {
                        if !path.is_empty() {
                            path.push('.');
                        }
                        path.push_str(&String::from_utf8_lossy(key));
                        break;
                    }
                    i = skip_space(bytes, value_end(bytes.get(i..)?)? + i);
                    if bytes.get(i) != Some(&b',') {
                        return None;
                    }
                    i = skip_space(bytes, i + 1);
                }
                at = i;
            }
            Step::Element(n) => {
                if bytes.get(at) != Some(&b'[') {
                    return None;
                }
                let mut i = skip_space(bytes, at + 1);
                for _ in 0..n {
                    i = skip_space(bytes, value_end(bytes.get(i..)?)? + i);
                    if bytes.get(i) != Some(&b',') {
                        return None;
                    }
                    i = skip_space(bytes, i + 1);
                }
                path.push_str(&format!("[{n}]"));
                at = i;
            }
        }
    }
    let rest = bytes.get(at..)?;
    let end = value_end(rest).unwrap_or(rest.len());
    let shown = &rest[..end.min(SHOWN)];
    let mut came = String::from_utf8_lossy(shown).into_owned();
    if end > SHOWN {
        came.push_str("...");
    }
    let path = if path.is_empty() {
        "the answer".to_string()
    } else {
        format!("`{path}`")
    };
    Some((path, came))
}

/// How much of a value an error shows.
const SHOWN: usize = 120;

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while matches!(bytes.get(i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
        i += 1;
    }
    i
}

/// Where the JSON value `bytes` start with ends (one past its last byte): a string's closing
/// quote, an object's or array's closing bracket (counted outside strings), a scalar's last
/// character; `None` when `bytes` end first. Bytes that are not JSON may get an end here that a
/// parser then refuses.
fn value_end(bytes: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                loop {
                    let j = i + memchr::memchr2(b'"', b'\\', bytes.get(i..)?)?;
                    if bytes[j] == b'"' {
                        i = j + 1;
                        break;
                    }
                    // An escape: the next byte is part of it, whatever it is.
                    i = j + 2;
                }
                if depth == 0 {
                    return Some(i);
                }
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            b',' | b' ' | b'\t' | b'\r' | b'\n' | b':' if depth == 0 => return Some(i),
            _ => {}
        }
        i += 1;
    }
    // A scalar at the very end of the bytes may be whole or cut: only a container or a string
    // is known to have ended.
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_that_would_grow_past_its_budget_is_refused_early() {
        // 100,000 empty objects read as structs of many fields.
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Row {
            a: Option<String>,
            b: Option<String>,
            c: Option<String>,
            d: Option<f64>,
        }
        let body = format!("[{}{{}}]", "{},".repeat(100_000));
        let err = from_slice::<Vec<Row>>(body.as_bytes(), 1 << 20)
            .err()
            .unwrap();
        assert!(matches!(err, JsonFailure::TooLarge { budget } if budget == 1 << 20));
        assert_eq!(
            from_slice::<Vec<Row>>(body.as_bytes(), 1 << 30)
                .unwrap()
                .len(),
            100_001
        );
        // Nested empty arrays into Values, and through a flattened map.
        let nested = format!("{{\"x\":[{}[]]}}", "[[]],".repeat(50_000));
        assert!(matches!(
            from_slice::<serde_json::Value>(nested.as_bytes(), 1 << 20),
            Err(JsonFailure::TooLarge { .. })
        ));
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Open {
            a: Option<u8>,
            #[serde(flatten)]
            extra: serde_json::Map<String, serde_json::Value>,
        }
        assert!(matches!(
            from_slice::<Open>(nested.as_bytes(), 1 << 20),
            Err(JsonFailure::TooLarge { .. })
        ));
        assert!(from_slice::<Open>(nested.as_bytes(), 1 << 30).is_ok());
    }

    #[test]
    fn the_first_value_in_one_pass_with_its_length() {
        let (v, used) = first::<serde_json::Value>(b"{\"a\":[1]} {\"b\":2}", 1 << 20)
            .unwrap()
            .unwrap();
        assert_eq!((v["a"][0].as_u64(), used), (Some(1), 9));
        assert!(first::<serde_json::Value>(b"{\"a\":[1,", 1 << 20)
            .unwrap()
            .is_none());
        let many = format!("[{}]", "[],".repeat(10_000) + "[]");
        assert!(matches!(
            first::<serde_json::Value>(many.as_bytes(), 1 << 10),
            Err(JsonFailure::TooLarge { .. })
        ));
        // Cut, but already past the budget: too large, not "wait for more".
        let cut = format!("[{}", "[],".repeat(10_000));
        assert!(matches!(
            first::<serde_json::Value>(cut.as_bytes(), 1 << 10),
            Err(JsonFailure::TooLarge { .. })
        ));
    }

    #[test]
    fn a_failure_names_the_path_and_what_came() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(untagged)]
        #[allow(dead_code)]
        enum Either {
            Number(f64),
            Words(Vec<String>),
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Figures {
            p50: Option<Either>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Report {
            window: u32,
            models: std::collections::BTreeMap<String, Figures>,
        }
        let body = br#"{"window": 300, "models": {"a": {"p50": 1}, "b": {"p50": {"no": true}}}}"#;
        let JsonFailure::Bad(message) = from_slice::<Report>(body, 1 << 20).unwrap_err() else {
            panic!("not a bad-JSON failure")
        };
        assert!(message.starts_with("`models.b.p50`"), "{message}");
        assert!(message.contains("untagged enum"), "{message}");
        assert!(message.contains(r#"it came as {"no": true}"#), "{message}");

        let body = br#"{"window": "soon", "models": {}}"#;
        let JsonFailure::Bad(message) = from_slice::<Report>(body, 1 << 20).unwrap_err() else {
            panic!("not a bad-JSON failure")
        };
        assert!(message.starts_with("`window`"), "{message}");
        assert!(message.contains("\"soon\""), "{message}");
        let body = b"[1, 2, \"x\"]";
        let JsonFailure::Bad(message) = from_slice::<Vec<u8>>(body, 1 << 20).unwrap_err() else {
            panic!("not a bad-JSON failure")
        };
        assert!(message.starts_with("`[2]`"), "{message}");
    }
}
