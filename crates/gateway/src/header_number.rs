//! Header values of integers (rate limits, attempts, retry delays), made in one
//! allocation, or none for a single digit: `HeaderValue::from(u64)` writes into a
//! `BytesMut` and freezes it into a shared `Bytes`, two allocations per value, and a
//! request with rate limits carries four such values (callgrind).
//!
//! Must never make a value that is not the number's decimal digits.

use axum::http::HeaderValue;

const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// `n` in decimal as a header value.
pub fn of(n: u64) -> HeaderValue {
    if let Some(digit) = usize::try_from(n).ok().and_then(|i| DIGITS.get(i)) {
        return HeaderValue::from_static(digit);
    }
    let mut buf = itoa::Buffer::new();
    // Decimal digits are visible ASCII, which a header value always accepts.
    HeaderValue::from_str(buf.format(n)).unwrap_or_else(|_| HeaderValue::from_static("0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_the_numbers_digits() {
        for n in [0, 1, 9, 10, 99, 100, 12_345, u64::from(u32::MAX), u64::MAX] {
            assert_eq!(of(n), HeaderValue::from(n), "{n}");
        }
    }
}
