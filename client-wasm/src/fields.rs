//! The field list of a serde struct, read from the type itself: for checking objects from the
//! page against a type (`web::strict`) and for tests that keep the TypeScript declarations in step
//! with the Rust types, without a second copy of the names.

use serde::de::{self, DeserializeOwned, Visitor};

/// The keys `T` reads (its serde field list, after renames); empty when `T` is not a struct.
pub fn fields_of<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

/// A deserializer that only records the field list a struct asks for, then stops.
struct Probe<'a>(&'a mut &'static [&'static str]);

impl<'de> de::Deserializer<'de> for Probe<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("field list recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Example {
        first_field: u8,
        second: Option<String>,
    }

    #[test]
    fn a_struct_tells_its_renamed_fields_and_anything_else_none() {
        assert_eq!(fields_of::<Example>(), &["firstField", "second"]);
        assert!(fields_of::<u32>().is_empty());
        assert!(fields_of::<Vec<u8>>().is_empty());
    }
}
