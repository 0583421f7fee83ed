//! Lowercase hexadecimal: the one text form of keys, signatures and nonces in the HTTP API.
//!
//! Only lowercase digits are accepted, so every byte string has exactly one text form: a key
//! that could be spelled in two cases would be two reporters to a database keyed by its text.

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// The lowercase hex text of `bytes`.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// Exactly `N` bytes from `2 * N` lowercase hex digits, or `None` for anything else.
pub(crate) fn decode_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    let digits = text.as_bytes();
    if digits.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

fn nibble(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encoding_is_lowercase_and_two_digits_per_byte() {
        assert_eq!(encode(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
    }

    #[test]
    fn decoding_refuses_uppercase_odd_lengths_and_non_digits() {
        assert_eq!(decode_array::<2>("abcd"), Some([0xab, 0xcd]));
        assert_eq!(decode_array::<2>("ABCD"), None);
        assert_eq!(decode_array::<2>("abc"), None);
        assert_eq!(decode_array::<2>("abcdef"), None);
        assert_eq!(decode_array::<2>("abcg"), None);
        assert_eq!(decode_array::<2>("+bcd"), None);
    }

    proptest! {
        #[test]
        fn decode_reads_back_what_encode_wrote(bytes in any::<[u8; 32]>()) {
            prop_assert_eq!(decode_array::<32>(&encode(&bytes)), Some(bytes));
        }

        #[test]
        fn decode_never_panics(text in ".{0,70}") {
            let _ = decode_array::<32>(&text);
        }
    }
}
