//! Validators that make a pattern's match a finding: checksums and the rules a real
//! value obeys, so numbers that merely look alike are left alone.
//!
//! Must never allocate per character of scanned text beyond the match itself.

/// The Luhn checksum of the digits in `text` (separators ignored).
pub fn luhn(text: &str) -> bool {
    let digits: Vec<u32> = text.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() < 13 || digits.len() > 19 {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                *d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A payment card number: Luhn, not one digit repeated, and a length and leading
/// digits some card scheme issues (Visa, Mastercard, Amex, Discover, Diners, JCB,
/// UnionPay, Maestro), so that ids and millisecond timestamps that happen to pass
/// Luhn are left alone.
pub fn card(text: &str) -> bool {
    if !luhn(text) {
        return false;
    }
    let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_digit).collect();
    if digits.iter().all(|d| *d == digits[0]) {
        return false;
    }
    let prefix = |n: usize| {
        digits[..n]
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    let len = digits.len();
    match digits[0] {
        b'4' => matches!(len, 13 | 16 | 19),
        b'5' => {
            ((51..=55).contains(&prefix(2)) && len == 16)
                || (matches!(prefix(2), 50 | 56..=58) && (12..=19).contains(&len))
        }
        b'2' => (2221..=2720).contains(&prefix(4)) && len == 16,
        b'3' => match prefix(2) {
            34 | 37 => len == 15,
            36 | 38 | 39 | 30 => (14..=19).contains(&len),
            35 => (16..=19).contains(&len),
            _ => false,
        },
        b'6' => (14..=19).contains(&len),
        _ => false,
    }
}

/// An IPv4 address that is not part of a longer dotted number (`1.2.3.4.5`) or a
/// version (`v1.2.3.4`).
pub fn ipv4(text: &str, start: usize, end: usize) -> bool {
    if text[start..end].parse::<std::net::Ipv4Addr>().is_err() {
        return false;
    }
    let before = text[..start].bytes().next_back();
    let mut after = text[end..].bytes();
    let dotted_on = after.next() == Some(b'.') && after.next().is_some_and(|b| b.is_ascii_digit());
    !(dotted_on || matches!(before, Some(b'.' | b'v' | b'V')))
}

/// An IPv6 address with a digit and at least two groups (so `a::b` in code and the
/// loopback `::1` are left alone).
pub fn ipv6(text: &str) -> bool {
    let groups = text.split(':').filter(|g| !g.is_empty()).count();
    groups >= 2
        && text.bytes().any(|b| b.is_ascii_digit())
        && text.parse::<std::net::Ipv6Addr>().is_ok()
}

/// The longest valid value at the start of `text`, which a pattern matched greedily and
/// maybe into the next group of digits (`4111 1111 1111 1111 2024`): whole, or cut
/// before a separator (space, `-`, `.`).
pub fn longest(text: &str, valid: impl Fn(&str) -> bool) -> Option<usize> {
    let cuts = text
        .char_indices()
        .filter(|(_, c)| matches!(c, ' ' | '-' | '.'))
        .map(|(i, _)| i)
        .rev();
    std::iter::once(text.len())
        .chain(cuts)
        .find(|end| valid(&text[..*end]))
}

/// A phone number's digit count: 10 to 15, and exactly 11 after a North American `+1 `
/// (so the next group of digits in the text is not taken as part of it).
pub fn phone(text: &str) -> bool {
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    let north_american = text.starts_with("+1") && text[2..].starts_with([' ', '.', '-']);
    (10..=15).contains(&digits) && (!north_american || digits == 11)
}

/// The IBAN mod-97 check (ISO 13616), spaces ignored.
pub fn iban(text: &str) -> bool {
    let compact: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.len() < 15 || compact.len() > 34 {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let mut remainder: u64 = 0;
    for c in tail.iter().chain(head) {
        let value = match c {
            '0'..='9' => u64::from(*c as u8 - b'0'),
            'A'..='Z' => u64::from(*c as u8 - b'A') + 10,
            _ => return false,
        };
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    remainder == 1
}

/// A US SSN as `AAA-GG-SSSS`: area not 000, 666 or 9xx; group not 00; serial not 0000.
pub fn ssn(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let [area, group, serial] = parts.as_slice() else {
        return false;
    };
    *area != "000"
        && *area != "666"
        && !area.starts_with('9')
        && *group != "00"
        && *serial != "0000"
}

/// Shannon entropy in bits per character.
pub fn entropy(text: &str) -> f64 {
    let mut counts = [0u32; 256];
    let mut n = 0u32;
    for b in text.bytes() {
        counts[usize::from(b)] += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let n = f64::from(n);
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = f64::from(*c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_real_card_numbers_and_refuses_near_misses() {
        assert!(luhn("4111 1111 1111 1111"));
        assert!(luhn("5500-0000-0000-0004"));
        assert!(luhn("378282246310005"));
        assert!(!luhn("4111 1111 1111 1112"));
        assert!(!luhn("1234"));
    }

    #[test]
    fn cards_need_a_scheme_and_real_digits() {
        assert!(card("4111 1111 1111 1111"));
        assert!(card("5500-0000-0000-0004"));
        assert!(card("378282246310005"));
        assert!(card("6011111111111117"));
        assert!(!card("0000 0000 0000 0000"));
        // Luhn-valid, but no scheme issues numbers starting with 1.
        assert!(luhn("1733140000006"));
        assert!(!card("1733140000006"));
    }

    #[test]
    fn addresses_parse_in_context() {
        let text = "at 10.0.0.1, not v1.2.3.4 nor 1.2.3.4.5";
        assert!(ipv4(text, 3, 11));
        assert!(!ipv4(text, 18, 25));
        assert!(!ipv4(text, 30, 37));
        assert!(ipv6("2001:db8::1"));
        assert!(ipv6("fe80::1:2"));
        assert!(!ipv6("a::b"));
        assert!(!ipv6("::1"));
    }

    #[test]
    fn iban_checks_mod_97() {
        assert!(iban("GB82 WEST 1234 5698 7654 32"));
        assert!(iban("DE89370400440532013000"));
        assert!(!iban("GB82 WEST 1234 5698 7654 33"));
        assert!(!iban("DE89 3704"));
        assert_eq!(
            longest("GB82 WEST 1234 5698 7654 32 4111 1111", iban),
            Some(27)
        );
        assert_eq!(longest("4111 1111 1111 1111 10", card), Some(19));
    }

    #[test]
    fn ssn_rules() {
        assert!(ssn("123-45-6789"));
        assert!(!ssn("000-45-6789"));
        assert!(!ssn("666-45-6789"));
        assert!(!ssn("900-45-6789"));
        assert!(!ssn("123-00-6789"));
        assert!(!ssn("123-45-0000"));
    }

    #[test]
    fn entropy_tells_random_from_words() {
        assert!(entropy("Zx9Qp2Lm8Rt4Vw6Yb1Nc") > 4.0);
        assert!(entropy("aaaaaaaaaaaaaaaa") < 0.1);
    }
}
