//! Lowercase hex, the one spelling the API uses for keys, seeds and signatures.

/// `bytes` as lowercase hex.
pub(crate) fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Exactly `2 * N` hex digits (either case, since people paste seeds) as `N` bytes.
pub(crate) fn decode_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    let text = text.trim().as_bytes();
    if text.len() != 2 * N {
        return None;
    }
    let mut out = [0; N];
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        let digit = |c: u8| char::from(c).to_digit(16);
        *byte = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_survive_the_round_trip_in_either_case() {
        let bytes = [0x00, 0x9f, 0xab, 0xff];
        assert_eq!(encode(&bytes), "009fabff");
        assert_eq!(decode_array::<4>("009fabff"), Some(bytes));
        assert_eq!(decode_array::<4>(" 009FABFF "), Some(bytes));
    }

    #[test]
    fn wrong_lengths_and_non_hex_digits_are_refused() {
        assert_eq!(decode_array::<4>("009fab"), None);
        assert_eq!(decode_array::<4>("009fabff00"), None);
        assert_eq!(decode_array::<2>("0g00"), None);
        assert_eq!(decode_array::<2>("+f00"), None);
    }
}
