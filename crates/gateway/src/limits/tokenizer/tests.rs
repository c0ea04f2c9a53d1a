use super::*;
use sha2::Digest as _;

fn ours() -> &'static Tokenizer {
    o200k().expect("the shipped vocabulary loads")
}

#[test]
fn the_shipped_vocabulary_is_openais_and_every_token_finds_its_rank() {
    // The SHA-256 tiktoken itself checks o200k_base.tiktoken against.
    assert_eq!(
        hex::encode(sha2::Sha256::digest(VOCABULARY.as_bytes())),
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
    );
    let t = ours();
    assert_eq!(t.offsets.len() - 1, 199_998);
    for rank in 0..199_998u32 {
        assert_eq!(t.rank(t.token(rank)), rank, "{:?}", t.token(rank));
    }
    assert_eq!(t.rank(b"not one token at all, surely"), NONE);
}

/// Text of every kind the pre-split treats differently.
const CORPUS: &[&str] = &[
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.\n\nIt's 12345 o'clock; they're here, we'll see, I'd go, you've won, I'm OK.",
    "SHOUTING WORDS and CamelCaseIdentifiers and snake_case_names",
    "fn main() {\n    let x: Vec<u8> = vec![1, 2, 3];\n\tprintln!(\"{x:?}\");\n}\n",
    "  leading spaces, trailing spaces   \n   \r\n\r\n\n  mixed\t\ttabs \t and  double  spaces  ",
    "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":256}",
    "日本語のテキストはスペースなしで長く続きます。中文文本也没有空格。한국어 텍스트도 있습니다.",
    "Emoji 🎉🎉🎉 and flags 🇫🇷🇯🇵 and ZWJ 👩‍👩‍👧‍👦 family, accents: café naïve Ærøskøbing",
    "Ελληνικά κείμενα, русский текст, עברית, العربية, हिन्दी",
    "Numbers: 3.14159265358979 1,000,000 2026-12-04 0x7fffffff 1e-10 ١٢٣٤٥",
    "URLs https://example.com/path?query=1&x=2#frag and paths /usr/local/bin//",
    "=========================================================================================",
    "!!!???...;;;:::---+++***&&&%%%$$$###@@@~~~```'''\"\"\"<<<>>>|||\\\\\\///",
    "a\u{200b}b\u{feff}c\u{00a0}d\u{2028}e\u{3000}f",
    "'S 'T 'RE 'VE 'M 'LL 'D 's't're've'm'll'd",
    " \n \n\n   \n",
    "x",
    " ",
    "",
];

#[test]
fn counts_match_tiktoken_on_the_corpus() {
    let long = [
        "長い日本語の文章".repeat(400),
        "=!-".repeat(3_000),
        CORPUS.join(" ").repeat(20),
    ];
    assert_same_counts(CORPUS.iter().map(|t| (*t).to_owned()).chain(long));
}

/// Every text counts the same as tiktoken-rs counts it.
fn assert_same_counts(texts: impl IntoIterator<Item = String>) {
    let theirs = tiktoken_rs::o200k_base_singleton();
    for text in texts {
        assert_eq!(
            ours().count(&text),
            theirs.encode_ordinary(&text).len(),
            "{text:?}"
        );
    }
}

#[test]
fn counts_match_tiktoken_on_random_text() {
    // Characters from every class the pattern tells apart, in random runs.
    const CHARS: &[char] = &[
        'a', 'z', 'Q', 'É', 'ß', 'я', 'Ж', '日', '本', 'ー', '한', 'ا', '٣', '7', '0', ' ', ' ',
        ' ', '\t', '\n', '\r', '\u{a0}', '\u{3000}', '\'', '"', '.', ',', '!', '/', '\\', '=', '-',
        '_', '🎉', '\u{301}', '\u{200d}', 's', 't', 'l', 'v', 'e', 'd', 'm', 'r',
    ];
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    assert_same_counts((0..2_000).map(|_| {
        let len = rng.usize(0..80);
        (0..len).map(|_| CHARS[rng.usize(..CHARS.len())]).collect()
    }));
}

#[test]
fn counts_match_tiktoken_on_any_unicode() {
    // Every code point may come from a client: no panic, and the same count.
    let mut rng = fastrand::Rng::with_seed(0xc0de);
    assert_same_counts((0..1_000).map(|_| {
        let len = rng.usize(0..40);
        (0..len)
            .map(|_| match rng.u8(..4) {
                0 => rng.char(..),
                1 => rng.char('\u{0}'..'\u{80}'),
                2 => rng.char('\u{80}'..'\u{800}'),
                _ => rng.char('\u{3000}'..'\u{a000}'),
            })
            .collect()
    }));
}

/// Byte-pair merging as tiktoken's reference does it: after each merge, scan every
/// pair again for the lowest rank (the leftmost of equals). n², the reference `merge`
/// must agree with.
fn merge_scanning(t: &Tokenizer, piece: &[u8]) -> usize {
    // (start of the part, rank of the part joined with the next one)
    let mut parts: Vec<(usize, u32)> = (0..=piece.len())
        .map(|i| {
            let rank = piece.get(i..i + 2).map_or(NONE, |pair| t.rank(pair));
            (i, rank)
        })
        .collect();
    let joined = |parts: &[(usize, u32)], i: usize| match parts.get(i + 2) {
        Some(&(end, _)) => t.rank(&piece[parts[i].0..end]),
        None => NONE,
    };
    loop {
        let Some((i, _)) = parts[..parts.len() - 1]
            .iter()
            .enumerate()
            .filter(|(_, (_, rank))| *rank != NONE)
            .min_by_key(|(i, (_, rank))| (*rank, *i))
        else {
            return parts.len() - 1;
        };
        parts.remove(i + 1);
        parts[i].1 = joined(&parts, i);
        if i > 0 {
            parts[i - 1].1 = joined(&parts, i - 1);
        }
    }
}

#[test]
fn the_heap_merge_agrees_with_the_reference_on_every_piece_length() {
    let t = ours();
    let mut rng = fastrand::Rng::with_seed(7);
    for len in 2..300 {
        let piece: Vec<u8> = (0..len).map(|_| b"ab=!e t"[rng.usize(..7)]).collect();
        assert_eq!(
            merge_scanning(t, &piece),
            t.merge(&piece),
            "{:?}",
            String::from_utf8_lossy(&piece)
        );
    }
}

#[test]
fn a_megabyte_of_one_piece_is_counted() {
    // One pre-split piece a megabyte long: the heap merge keeps this n log n.
    let text = "=!".repeat(512 * 1024);
    assert!(ours().count(&text) > 1_000);
    let spaces = " ".repeat(1 << 20) + "x";
    assert!(ours().count(&spaces) >= 1);
}

#[test]
fn the_pieces_tile_any_text_so_each_search_may_be_anchored() {
    // `pieces` anchors each search where the last piece ended; that finds every piece
    // only if every character starts a match. Any code point, and the corpus.
    let mut rng = fastrand::Rng::with_seed(0x711e);
    let random = (0..2_000).map(|_| {
        let len = rng.usize(0..60);
        (0..len).map(|_| rng.char(..)).collect::<String>()
    });
    for text in random.chain(CORPUS.iter().map(|t| (*t).to_string())) {
        let mut at = 0;
        for piece in ours().pieces(&text) {
            let start = piece.as_ptr() as usize - text.as_ptr() as usize;
            assert_eq!(start, at, "a gap before byte {start} of {text:?}");
            at += piece.len();
        }
        assert_eq!(at, text.len(), "the end of {text:?} is in no piece");
    }
}

/// `ascii.rs` must end every match where the regex ends it, on any ASCII text.
fn assert_ascii_matches_the_regex(text: &str) {
    let t = ours();
    for at in 0..text.len() {
        assert_eq!(
            Some(ascii::match_end(text.as_bytes(), at)),
            t.regex_match_end(text, at),
            "at byte {at} of {text:?}"
        );
    }
}

#[test]
fn the_ascii_split_ends_each_match_where_the_regex_does() {
    for text in CORPUS.iter().filter(|t| t.is_ascii()) {
        assert_ascii_matches_the_regex(text);
    }
    // Every ASCII byte, and runs of the bytes each class and contraction turns on.
    let every: String = (0u8..128).map(char::from).collect();
    assert_ascii_matches_the_regex(&every);
    const BYTES: &[u8] = b"aAzZsStTrRvVeElLmMdD09 \t\n\r\x0b\x0c\x00\x1f\x7f'\"./\\!=_-";
    let mut rng = fastrand::Rng::with_seed(0xa5c11);
    for _ in 0..3_000 {
        let len = rng.usize(0..40);
        let text: String = (0..len)
            .map(|_| char::from(BYTES[rng.usize(..BYTES.len())]))
            .collect();
        assert_ascii_matches_the_regex(&text);
    }
}

#[test]
fn counts_match_tiktoken_on_random_ascii() {
    let mut rng = fastrand::Rng::with_seed(0xa5c2);
    assert_same_counts((0..2_000).map(|_| {
        let len = rng.usize(0..120);
        (0..len).map(|_| rng.char('\u{0}'..'\u{80}')).collect()
    }));
}
