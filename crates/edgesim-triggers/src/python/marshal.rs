//! The worker's wire format: Python's `marshal` (format version 2, no references) for the
//! value shapes events and replies use — `None`, `bool`, `int`, `float`, `str`, `list`/`tuple`
//! and `dict` with string keys — written from the documented format:
//!
//! | code | value | payload |
//! |---|---|---|
//! | `N` `T` `F` | None, True, False | none |
//! | `i` | int in 32 bits | i32, little-endian |
//! | `l` | any other int | i32 digit count (its sign is the number's), then that many 15-bit digits as u16, least significant first |
//! | `g` | float | f64, little-endian |
//! | `u` `t` | str (`t`: interned) | i32 byte length, UTF-8 |
//! | `[` `(` | list, tuple | i32 item count, the items |
//! | `{` | dict | key, value, ... then `0` |
//!
//! The simulated cost of a crossing is still the size of the JSON text the old protocol sent
//! ([`crate::script::WorkMeter::marshal_bytes`]), so both directions also count that length:
//! the encoder as `serde_json` writes it, the decoder as Python's `json` (ASCII-only) would.
//! Anything else the decoder meets (a float, an int beyond 64 bits, bytes, a set, a string that
//! is not UTF-8, deep nesting) is [`NotPlain`]: the caller asks the worker for the JSON text
//! instead, so such replies keep exactly their old outcome.

use serde::ser::{self, Serialize};
use serde_json::{Map, Number, Value};

/// Nesting deeper than this is left to the JSON path (whose encoder has its own limit).
const MAX_DEPTH: usize = 200;

/// Why a value was not encoded.
#[derive(Debug)]
pub struct EncodeError(String);

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EncodeError {}

impl ser::Error for EncodeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        EncodeError(msg.to_string())
    }
}

/// `value` in marshal format, and the length of its `serde_json` text.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<(Vec<u8>, u64), EncodeError> {
    let mut encoder = Encoder {
        out: Vec::with_capacity(1024),
        json_len: 0,
    };
    value.serialize(&mut encoder)?;
    Ok((encoder.out, encoder.json_len))
}

struct Encoder {
    out: Vec<u8>,
    json_len: u64,
}

/// Length of `s` as `serde_json` writes it, quotes included.
fn serde_json_str_len(s: &str) -> u64 {
    let escaped: u64 = s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum();
    escaped + 2
}

/// Decimal digits of `n`.
fn digits(mut n: u64) -> u64 {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

fn len32(n: usize) -> Result<[u8; 4], EncodeError> {
    i32::try_from(n)
        .map(i32::to_le_bytes)
        .map_err(|_| EncodeError("too long for marshal".to_string()))
}

impl Encoder {
    fn str(&mut self, s: &str) -> Result<(), EncodeError> {
        self.out.push(b'u');
        self.out.extend_from_slice(&len32(s.len())?);
        self.out.extend_from_slice(s.as_bytes());
        self.json_len += serde_json_str_len(s);
        Ok(())
    }

    fn int(&mut self, negative: bool, magnitude: u64) {
        self.json_len += digits(magnitude) + u64::from(negative);
        if magnitude <= i32::MAX as u64 {
            let v = magnitude as i64;
            let v = if negative { -v } else { v };
            self.out.push(b'i');
            self.out.extend_from_slice(&(v as i32).to_le_bytes());
            return;
        }
        if negative && magnitude == 1 << 31 {
            self.out.push(b'i');
            self.out.extend_from_slice(&i32::MIN.to_le_bytes());
            return;
        }
        let mut parts = Vec::with_capacity(5);
        let mut m = magnitude;
        while m > 0 {
            parts.push((m & 0x7fff) as u16);
            m >>= 15;
        }
        let count = parts.len() as i32;
        self.out.push(b'l');
        self.out
            .extend_from_slice(&(if negative { -count } else { count }).to_le_bytes());
        for p in parts {
            self.out.extend_from_slice(&p.to_le_bytes());
        }
    }

    fn begin_list(&mut self, len: Option<usize>) -> Result<ListState, EncodeError> {
        self.out.push(b'[');
        let at = self.out.len();
        self.out.extend_from_slice(&len32(len.unwrap_or(0))?);
        self.json_len += 2;
        Ok(ListState { at, count: 0 })
    }

    fn begin_dict(&mut self) -> DictState {
        self.out.push(b'{');
        self.json_len += 2;
        DictState { count: 0 }
    }
}

struct ListState {
    at: usize,
    count: usize,
}

struct DictState {
    count: usize,
}

/// One list being written (its count is patched at the end).
pub struct ListWriter<'a> {
    enc: &'a mut Encoder,
    state: ListState,
}

/// One dict being written.
pub struct DictWriter<'a> {
    enc: &'a mut Encoder,
    state: DictState,
}

impl ListWriter<'_> {
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        if self.state.count > 0 {
            self.enc.json_len += 1;
        }
        self.state.count += 1;
        value.serialize(&mut *self.enc)
    }

    fn finish(self) -> Result<(), EncodeError> {
        let bytes = len32(self.state.count)?;
        self.enc.out[self.state.at..self.state.at + 4].copy_from_slice(&bytes);
        Ok(())
    }
}

impl DictWriter<'_> {
    fn key_str(&mut self, key: &str) -> Result<(), EncodeError> {
        if self.state.count > 0 {
            self.enc.json_len += 1;
        }
        self.state.count += 1;
        self.enc.json_len += 1;
        self.enc.str(key)
    }

    fn finish(self) {
        self.enc.out.push(b'0');
    }
}

/// Serializes a map key: strings only (what events use).
struct KeySerializer<'a, 'b> {
    dict: &'a mut DictWriter<'b>,
}

macro_rules! refuse_key {
    ($($name:ident($($t:ty),*)),*) => {
        $(fn $name(self, $(_: $t),*) -> Result<(), EncodeError> {
            Err(EncodeError("map keys must be strings".to_string()))
        })*
    };
}

impl ser::Serializer for KeySerializer<'_, '_> {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = ser::Impossible<(), EncodeError>;
    type SerializeTuple = ser::Impossible<(), EncodeError>;
    type SerializeTupleStruct = ser::Impossible<(), EncodeError>;
    type SerializeTupleVariant = ser::Impossible<(), EncodeError>;
    type SerializeMap = ser::Impossible<(), EncodeError>;
    type SerializeStruct = ser::Impossible<(), EncodeError>;
    type SerializeStructVariant = ser::Impossible<(), EncodeError>;

    fn serialize_str(self, v: &str) -> Result<(), EncodeError> {
        self.dict.key_str(v)
    }
    fn serialize_char(self, v: char) -> Result<(), EncodeError> {
        self.dict.key_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), EncodeError> {
        self.dict.key_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        value.serialize(self)
    }
    refuse_key!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str)
    );
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), EncodeError> {
        Err(EncodeError("map keys must be strings".to_string()))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), EncodeError> {
        Err(EncodeError("map keys must be strings".to_string()))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, EncodeError> {
        Err(EncodeError("map keys must be strings".to_string()))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, EncodeError> {
        Err(EncodeError("map keys must be strings".to_string()))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, EncodeError> {
        Err(EncodeError("map keys must be strings".to_string()))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, EncodeError> {
        Err(EncodeError("map keys must be strings".to_string()))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, EncodeError> {
        Err(EncodeError("map keys must be strings".to_string()))
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, EncodeError> {
        Err(EncodeError("map keys must be strings".to_string()))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, EncodeError> {
        Err(EncodeError("map keys must be strings".to_string()))
    }
}

impl<'a> ser::Serializer for &'a mut Encoder {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = ListWriter<'a>;
    type SerializeTuple = ListWriter<'a>;
    type SerializeTupleStruct = ListWriter<'a>;
    type SerializeTupleVariant = ser::Impossible<(), EncodeError>;
    type SerializeMap = DictWriter<'a>;
    type SerializeStruct = DictWriter<'a>;
    type SerializeStructVariant = ser::Impossible<(), EncodeError>;

    fn serialize_bool(self, v: bool) -> Result<(), EncodeError> {
        self.out.push(if v { b'T' } else { b'F' });
        self.json_len += if v { 4 } else { 5 };
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), EncodeError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<(), EncodeError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<(), EncodeError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<(), EncodeError> {
        self.int(v < 0, v.unsigned_abs());
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), EncodeError> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<(), EncodeError> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), EncodeError> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<(), EncodeError> {
        self.int(false, v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), EncodeError> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), EncodeError> {
        if !v.is_finite() {
            // serde_json writes `null` for these.
            return self.serialize_unit();
        }
        self.out.push(b'g');
        self.out.extend_from_slice(&v.to_le_bytes());
        self.json_len += serde_json::to_string(&v).map_or(0, |s| s.len() as u64);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), EncodeError> {
        self.str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), EncodeError> {
        self.str(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), EncodeError> {
        use ser::SerializeSeq;
        let mut list = self.serialize_seq(Some(v.len()))?;
        for b in v {
            list.serialize_element(b)?;
        }
        list.end()
    }
    fn serialize_none(self) -> Result<(), EncodeError> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), EncodeError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), EncodeError> {
        self.out.push(b'N');
        self.json_len += 4;
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), EncodeError> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), EncodeError> {
        self.str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        let state = self.begin_dict();
        let mut dict = DictWriter { enc: self, state };
        dict.key_str(variant)?;
        value.serialize(&mut *dict.enc)?;
        dict.finish();
        Ok(())
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<ListWriter<'a>, EncodeError> {
        let state = self.begin_list(len)?;
        Ok(ListWriter { enc: self, state })
    }
    fn serialize_tuple(self, len: usize) -> Result<ListWriter<'a>, EncodeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> Result<ListWriter<'a>, EncodeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, EncodeError> {
        Err(EncodeError(
            "tuple variants are not used on the wire".to_string(),
        ))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<DictWriter<'a>, EncodeError> {
        let state = self.begin_dict();
        Ok(DictWriter { enc: self, state })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<DictWriter<'a>, EncodeError> {
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, EncodeError> {
        Err(EncodeError(
            "struct variants are not used on the wire".to_string(),
        ))
    }
}

impl ser::SerializeSeq for ListWriter<'_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.item(value)
    }
    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}

impl ser::SerializeTuple for ListWriter<'_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.item(value)
    }
    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for ListWriter<'_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.item(value)
    }
    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}

impl ser::SerializeMap for DictWriter<'_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), EncodeError> {
        key.serialize(KeySerializer { dict: self })
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        value.serialize(&mut *self.enc)
    }
    fn end(self) -> Result<(), EncodeError> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeStruct for DictWriter<'_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.key_str(key)?;
        value.serialize(&mut *self.enc)
    }
    fn end(self) -> Result<(), EncodeError> {
        self.finish();
        Ok(())
    }
}

/// A reply the decoder leaves to the JSON path (see the module documentation).
#[derive(Debug, PartialEq, Eq)]
pub struct NotPlain;

/// Decode one marshalled value; also returns the length of the text Python's `json` module
/// (`ensure_ascii`, `separators=(",", ":")`) would write for it.
pub fn decode(bytes: &[u8]) -> Result<(Value, u64), NotPlain> {
    let mut d = Decoder {
        bytes,
        at: 0,
        json_len: 0,
    };
    let value = d.value(0)?;
    if d.at != bytes.len() {
        return Err(NotPlain);
    }
    Ok((value, d.json_len))
}

struct Decoder<'a> {
    bytes: &'a [u8],
    at: usize,
    json_len: u64,
}

/// Length of `s` as Python's `json` writes it with `ensure_ascii`, quotes included.
fn python_json_str_len(s: &str) -> u64 {
    let escaped: u64 = s
        .chars()
        .map(|c| match c {
            '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
            ' '..='~' => 1,
            '\u{10000}'.. => 12,
            _ => 6,
        })
        .sum();
    escaped + 2
}

impl Decoder<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], NotPlain> {
        let end = self.at.checked_add(n).ok_or(NotPlain)?;
        let slice = self.bytes.get(self.at..end).ok_or(NotPlain)?;
        self.at = end;
        Ok(slice)
    }

    fn i32(&mut self) -> Result<i32, NotPlain> {
        let b = self.take(4)?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn count(&mut self) -> Result<usize, NotPlain> {
        usize::try_from(self.i32()?).map_err(|_| NotPlain)
    }

    fn str(&mut self) -> Result<String, NotPlain> {
        let n = self.count()?;
        let s = std::str::from_utf8(self.take(n)?).map_err(|_| NotPlain)?;
        let len = python_json_str_len(s);
        let s = s.to_string();
        self.json_len += len;
        Ok(s)
    }

    fn value(&mut self, depth: usize) -> Result<Value, NotPlain> {
        if depth > MAX_DEPTH {
            return Err(NotPlain);
        }
        let code = *self.take(1)?.first().ok_or(NotPlain)?;
        Ok(match code {
            b'N' => {
                self.json_len += 4;
                Value::Null
            }
            b'T' => {
                self.json_len += 4;
                Value::Bool(true)
            }
            b'F' => {
                self.json_len += 5;
                Value::Bool(false)
            }
            b'i' => {
                let v = i64::from(self.i32()?);
                self.json_len += digits(v.unsigned_abs()) + u64::from(v < 0);
                Value::Number(Number::from(v))
            }
            b'l' => {
                let n = self.i32()?;
                let count = n.unsigned_abs() as usize;
                // 64 bits need at most 5 digits of 15 bits.
                if count > 5 {
                    return Err(NotPlain);
                }
                let mut magnitude: u128 = 0;
                let raw = self.take(count * 2)?;
                for (i, pair) in raw.chunks_exact(2).enumerate() {
                    let digit = u16::from_le_bytes([pair[0], pair[1]]);
                    if digit > 0x7fff {
                        return Err(NotPlain);
                    }
                    magnitude |= u128::from(digit) << (15 * i);
                }
                let magnitude = u64::try_from(magnitude).map_err(|_| NotPlain)?;
                let number = if n < 0 {
                    let v = 0i64.checked_sub_unsigned(magnitude).ok_or(NotPlain)?;
                    Number::from(v)
                } else {
                    Number::from(magnitude)
                };
                self.json_len += digits(magnitude) + u64::from(n < 0);
                Value::Number(number)
            }
            b'u' | b't' => Value::String(self.str()?),
            b'[' | b'(' => {
                let n = self.count()?;
                // Every item takes at least one byte: a bogus count cannot allocate much.
                let mut items = Vec::with_capacity(n.min(self.bytes.len() - self.at));
                self.json_len += 2 + n.saturating_sub(1) as u64;
                for _ in 0..n {
                    items.push(self.value(depth + 1)?);
                }
                Value::Array(items)
            }
            b'{' => {
                let mut map = Map::new();
                self.json_len += 2;
                loop {
                    let key_code = *self.bytes.get(self.at).ok_or(NotPlain)?;
                    if key_code == b'0' {
                        self.at += 1;
                        break;
                    }
                    if key_code != b'u' && key_code != b't' {
                        return Err(NotPlain);
                    }
                    self.at += 1;
                    if !map.is_empty() {
                        self.json_len += 1;
                    }
                    let key = self.str()?;
                    self.json_len += 1;
                    let value = self.value(depth + 1)?;
                    if map.insert(key, value).is_some() {
                        return Err(NotPlain);
                    }
                }
                Value::Object(map)
            }
            _ => return Err(NotPlain),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_decoder_with_json_lengths() {
        let value = serde_json::json!({
            "a": [1, -2, 2147483647, -2147483648i64, 2147483648u64, u64::MAX, i64::MIN, 0],
            "b": {"x": null, "y": true, "z": false},
            "s": "quote\" back\\ nl\n tab\t ctl\u{1} é 😀 ~",
            "e": [],
            "o": {},
        });
        let (bytes, serde_len) = encode(&value).unwrap();
        assert_eq!(
            serde_len,
            serde_json::to_string(&value).unwrap().len() as u64
        );
        let (back, python_len) = decode(&bytes).unwrap();
        assert_eq!(back, value);
        // Python's json escapes non-ASCII: é is \u00e9 (6), 😀 a surrogate pair (12), \x01 (6).
        let ascii = serde_json::to_string(&value).unwrap();
        let non_ascii_extra = (6 - 2) + (12 - 4);
        assert_eq!(python_len, ascii.len() as u64 + non_ascii_extra);
    }

    #[test]
    fn python_shapes_decode() {
        // marshal.dumps({'k': (1, 'v')}, 2) with an interned key.
        let bytes = b"{t\x01\x00\x00\x00k(\x02\x00\x00\x00i\x01\x00\x00\x00u\x01\x00\x00\x00v0";
        let (v, len) = decode(bytes).unwrap();
        assert_eq!(v, serde_json::json!({"k": [1, "v"]}));
        assert_eq!(len, r#"{"k":[1,"v"]}"#.len() as u64);
    }

    #[test]
    fn other_shapes_are_left_to_json() {
        for bytes in [
            &b"g\0\0\0\0\0\0\xf0?"[..],                          // a float
            &b"s\x01\x00\x00\x00x"[..],                          // bytes
            &b"<\x00\x00\x00\x00"[..],                           // a set
            &b"u\x01\x00\x00\x00\xff"[..],                       // not UTF-8
            &b"{i\x01\x00\x00\x00N0"[..],                        // an int key
            &b"l\x06\x00\x00\x00\0\0\0\0\0\0\0\0\0\0\0\x01"[..], // beyond 64 bits
            &b"N N"[..],                                         // trailing bytes
            &b"[\x05\x00\x00\x00N"[..],                          // short
        ] {
            assert_eq!(decode(bytes), Err(NotPlain), "{bytes:?}");
        }
    }
}
