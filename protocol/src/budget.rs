//! Decoding within a budget: nodes and bytes are counted *before* the decoder allocates them.
//!
//! postcard decodes a frame into owned values (`Vec`s, `String`s), and a value in memory is
//! larger than its encoding: an empty text node is three bytes on the wire and a `NodeRecord` in
//! memory, an attribute two bytes and a `String` plus a name. Left alone, a 16 MiB frame of such
//! records decodes into hundreds of MiB before any limit is looked at. [`Budgeted`] wraps the
//! postcard deserializer and charges every sequence element (its in-memory size) and every
//! string or byte buffer (its length) to a [`Budget`] before the element is decoded, and counts
//! DOM nodes against [`crate::Limits::max_nodes`] as they are read; the first charge over the
//! budget stops the decode with [`crate::DecodeError::TooLarge`].
//!
//! Declared lengths are never trusted: serde already caps a `Vec`'s preallocation at 1 MiB
//! whatever length the frame announces, and a sequence that announces more elements than the
//! frame holds fails at its end.
//!
//! The wrapper forwards every call to postcard unchanged, so what decodes is exactly what
//! decoded before; only the accounting is added.

use crate::DecodeError;
use crate::dom::NodeRecord;
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};
use std::cell::Cell;
use std::fmt;

/// What one frame may still spend while it decodes.
#[derive(Debug)]
pub(crate) struct Budget {
    bytes_left: Cell<usize>,
    bytes_limit: usize,
    nodes_left: Cell<usize>,
    nodes_limit: usize,
    exceeded: Cell<Option<&'static str>>,
}

impl Budget {
    /// A budget of `bytes` decoded bytes and `nodes` DOM nodes.
    pub(crate) fn new(bytes: usize, nodes: usize) -> Budget {
        Budget {
            bytes_left: Cell::new(bytes),
            bytes_limit: bytes,
            nodes_left: Cell::new(nodes),
            nodes_limit: nodes,
            exceeded: Cell::new(None),
        }
    }

    fn charge_bytes(&self, n: usize) -> bool {
        match self.bytes_left.get().checked_sub(n) {
            Some(left) => {
                self.bytes_left.set(left);
                true
            }
            None => {
                self.exceeded.set(Some("decoded size"));
                false
            }
        }
    }

    fn charge_node(&self) -> bool {
        match self.nodes_left.get().checked_sub(1) {
            Some(left) => {
                self.nodes_left.set(left);
                true
            }
            None => {
                self.exceeded.set(Some("nodes"));
                false
            }
        }
    }

    /// The error to report when a decode failed because this budget ran out, if it did.
    pub(crate) fn exceeded(&self) -> Option<DecodeError> {
        let what = self.exceeded.get()?;
        let (limit, actual) = match what {
            "nodes" => (self.nodes_limit, self.nodes_limit + 1),
            _ => (self.bytes_limit, self.bytes_limit + 1),
        };
        Some(DecodeError::TooLarge {
            what,
            limit,
            actual,
        })
    }

    /// Bytes charged so far.
    #[cfg(test)]
    pub(crate) fn spent(&self) -> usize {
        self.bytes_limit - self.bytes_left.get()
    }
}

fn over<E: de::Error>() -> E {
    E::custom("decode budget exceeded")
}

/// A deserializer that charges a [`Budget`] for what it produces (see the module docs).
pub(crate) struct Budgeted<'b, D> {
    inner: D,
    budget: &'b Budget,
}

impl<'b, D> Budgeted<'b, D> {
    /// Wraps `inner`, charging `budget`.
    pub(crate) fn new(inner: D, budget: &'b Budget) -> Self {
        Budgeted { inner, budget }
    }
}

/// A visitor that charges strings and buffers and wraps nested sequences, maps and enums.
/// `heap` says whether a sequence it visits is a collection (`Vec`, map: its elements are
/// allocated) or the fields of a struct or tuple (postcard reads those as a sequence too, but
/// they live inside their parent, which was charged already).
struct Wrap<'b, V> {
    inner: V,
    budget: &'b Budget,
    heap: bool,
}

impl<'b, V> Wrap<'b, V> {
    fn fields(inner: V, budget: &'b Budget) -> Self {
        Wrap {
            inner,
            budget,
            heap: false,
        }
    }
}

macro_rules! forward_deserialize {
    ($($method:ident),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.inner.$method(Wrap::fields(visitor, self.budget))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Budgeted<'_, D> {
    type Error = D::Error;

    forward_deserialize!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_identifier,
        deserialize_ignored_any,
    );

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let v = Wrap {
            inner: visitor,
            budget: self.budget,
            heap: true,
        };
        self.inner.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let v = Wrap {
            inner: visitor,
            budget: self.budget,
            heap: true,
        };
        self.inner.deserialize_map(v)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let v = Wrap::fields(visitor, self.budget);
        self.inner.deserialize_unit_struct(name, v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let v = Wrap::fields(visitor, self.budget);
        self.inner.deserialize_newtype_struct(name, v)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let v = Wrap::fields(visitor, self.budget);
        self.inner.deserialize_tuple(len, v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let v = Wrap::fields(visitor, self.budget);
        self.inner.deserialize_tuple_struct(name, len, v)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let v = Wrap::fields(visitor, self.budget);
        self.inner.deserialize_struct(name, fields, v)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let v = Wrap::fields(visitor, self.budget);
        self.inner.deserialize_enum(name, variants, v)
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

macro_rules! forward_visit {
    ($($method:ident: $ty:ty),* $(,)?) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<Self::Value, E> {
            self.inner.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    forward_visit!(
        visit_bool: bool,
        visit_i8: i8,
        visit_i16: i16,
        visit_i32: i32,
        visit_i64: i64,
        visit_i128: i128,
        visit_u8: u8,
        visit_u16: u16,
        visit_u32: u32,
        visit_u64: u64,
        visit_u128: u128,
        visit_f32: f32,
        visit_f64: f64,
        visit_char: char,
    );

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if !self.budget.charge_bytes(v.len()) {
            return Err(over());
        }
        self.inner.visit_str(v)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        if !self.budget.charge_bytes(v.len()) {
            return Err(over());
        }
        self.inner.visit_borrowed_str(v)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        if !self.budget.charge_bytes(v.len()) {
            return Err(over());
        }
        self.inner.visit_string(v)
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
        if !self.budget.charge_bytes(v.len()) {
            return Err(over());
        }
        self.inner.visit_bytes(v)
    }

    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
        if !self.budget.charge_bytes(v.len()) {
            return Err(over());
        }
        self.inner.visit_borrowed_bytes(v)
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Self::Value, E> {
        if !self.budget.charge_bytes(v.len()) {
            return Err(over());
        }
        self.inner.visit_byte_buf(v)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_none()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.inner.visit_some(Budgeted::new(d, self.budget))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.inner
            .visit_newtype_struct(Budgeted::new(d, self.budget))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_seq(Seq {
            inner: seq,
            budget: self.budget,
            heap: self.heap,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_map(Map {
            inner: map,
            budget: self.budget,
        })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_enum(Enum {
            inner: data,
            budget: self.budget,
        })
    }
}

/// A seed whose deserializer is wrapped too.
struct Seed<'b, S> {
    inner: S,
    budget: &'b Budget,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<'_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.inner.deserialize(Budgeted::new(d, self.budget))
    }
}

/// Charges one element of type `T` before it is decoded: its in-memory size, and one node when
/// it is a DOM node record.
fn charge_element<T>(budget: &Budget) -> bool {
    if std::any::type_name::<T>() == std::any::type_name::<NodeRecord>() && !budget.charge_node() {
        return false;
    }
    budget.charge_bytes(std::mem::size_of::<T>())
}

struct Seq<'b, A> {
    inner: A,
    budget: &'b Budget,
    heap: bool,
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Seq<'_, A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        // The call after the last element only says "no more" (postcard knows the count).
        if self.heap
            && self.inner.size_hint() != Some(0)
            && !charge_element::<T::Value>(self.budget)
        {
            return Err(over());
        }
        self.inner.next_element_seed(Seed {
            inner: seed,
            budget: self.budget,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

struct Map<'b, A> {
    inner: A,
    budget: &'b Budget,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Map<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        if self.inner.size_hint() != Some(0) && !charge_element::<K::Value>(self.budget) {
            return Err(over());
        }
        self.inner.next_key_seed(Seed {
            inner: seed,
            budget: self.budget,
        })
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        if !charge_element::<V::Value>(self.budget) {
            return Err(over());
        }
        self.inner.next_value_seed(Seed {
            inner: seed,
            budget: self.budget,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

struct Enum<'b, A> {
    inner: A,
    budget: &'b Budget,
}

impl<'de, 'b, A: EnumAccess<'de>> EnumAccess<'de> for Enum<'b, A> {
    type Error = A::Error;
    type Variant = Variant<'b, A::Variant>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), Self::Error> {
        let budget = self.budget;
        let (value, variant) = self.inner.variant_seed(Seed {
            inner: seed,
            budget,
        })?;
        Ok((
            value,
            Variant {
                inner: variant,
                budget,
            },
        ))
    }
}

struct Variant<'b, A> {
    inner: A,
    budget: &'b Budget,
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Variant<'_, A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), Self::Error> {
        self.inner.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, Self::Error> {
        self.inner.newtype_variant_seed(Seed {
            inner: seed,
            budget: self.budget,
        })
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.inner
            .tuple_variant(len, Wrap::fields(visitor, self.budget))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.inner
            .struct_variant(fields, Wrap::fields(visitor, self.budget))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dom::{NodeData, NodeRecord};

    fn decode_nodes(bytes: &[u8], budget: &Budget) -> Result<Vec<NodeRecord>, DecodeError> {
        let mut de = postcard::Deserializer::from_bytes(bytes);
        serde::Deserialize::deserialize(Budgeted::new(&mut de, budget)).map_err(
            |e: postcard::Error| {
                budget
                    .exceeded()
                    .unwrap_or(DecodeError::Invalid(e.to_string()))
            },
        )
    }

    fn texts(n: usize, s: &str) -> Vec<u8> {
        let nodes: Vec<NodeRecord> = (0..n)
            .map(|_| NodeRecord::new(NodeData::Text(s.into()), 0))
            .collect();
        postcard::to_stdvec(&nodes).expect("encodes")
    }

    #[test]
    fn what_decodes_is_unchanged_and_charged_by_its_size() {
        let bytes = texts(3, "abc");
        let budget = Budget::new(usize::MAX, usize::MAX);
        let nodes = decode_nodes(&bytes, &budget).expect("decodes");
        assert_eq!(nodes.len(), 3);
        assert_eq!(
            budget.spent(),
            3 * (std::mem::size_of::<NodeRecord>() + 3),
            "each node's size plus its text"
        );
    }

    #[test]
    fn nodes_are_counted_as_they_are_read() {
        let bytes = texts(11, "");
        let err = decode_nodes(&bytes, &Budget::new(usize::MAX, 10)).expect_err("11 > 10 nodes");
        assert_eq!(
            err,
            DecodeError::TooLarge {
                what: "nodes",
                limit: 10,
                actual: 11
            }
        );
        assert!(decode_nodes(&bytes, &Budget::new(usize::MAX, 11)).is_ok());
    }

    #[test]
    fn the_byte_budget_stops_the_decode() {
        let bytes = texts(100, "");
        let need = 100 * std::mem::size_of::<NodeRecord>();
        assert!(decode_nodes(&bytes, &Budget::new(need, usize::MAX)).is_ok());
        let err = decode_nodes(&bytes, &Budget::new(need - 1, usize::MAX)).expect_err("short");
        assert!(
            matches!(err, DecodeError::TooLarge { what: "decoded size", limit, .. } if limit == need - 1),
            "{err:?}"
        );
    }
}
