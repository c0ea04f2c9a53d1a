//! Mixed prompt text for the scanner's benchmarks and fuzz seeds: prose in several
//! scripts, code, JSON, logs with times, dates and version numbers, and now and then a
//! value a detector must find. Deterministic, so runs compare.

/// About `bytes` of mixed prompt text.
pub fn mixed(bytes: usize) -> String {
    const PARTS: [&str; 12] = [
        "The quarterly report shows revenue grew 12.5% to $4.2M while costs fell; the team shipped v2.3.1 on 2026-11-30 at 14:05:09 UTC. ",
        "Please summarise the following meeting notes and list the action items with their owners and due dates. ",
        "fn main() { let total: u64 = items.iter().map(|i| i.price * i.qty).sum(); println!(\"{total}\"); }\n",
        "{\"id\": 4182, \"name\": \"widget\", \"tags\": [\"a\", \"b\"], \"price\": 19.99, \"stock\": 1200, \"updated\": \"2026-12-01T10:00:00Z\"}\n",
        "2026-12-02 08:15:42.123 INFO request_id=7f3a9c2e latency_ms=42 status=200 path=/v1/chat/completions bytes=1832\n",
        "Les résultats du trimestre sont encourageants : le chiffre d'affaires a progressé de 8 % grâce à l'export. ",
        "東京の会議では、新しい製品計画と来年度の予算について議論しました。次回は十二月十五日です。",
        "Contact jane.doe@example.com or call +14155550123 about invoice 88231. ",
        "Ticket #55123: the user pasted card 4111 1111 1111 1111 by mistake; rotate key AKIAIOSFODNN7EXAMPLE. ",
        "SELECT id, email, created_at FROM users WHERE created_at > '2026-01-01' ORDER BY id LIMIT 100;\n",
        "In 1969, 600 million people watched the landing; the mission lasted 8 days, 3 hours and 18 minutes. ",
        "Die Ergebnisse zeigen, dass die Maßnahmen wirken: Größere Teams lösten 30 % mehr Aufgaben. ",
    ];
    let mut out = String::with_capacity(bytes + 256);
    let mut i = 0usize;
    while out.len() < bytes {
        // Values are rarer than prose: parts 7 and 8 come every eighth round.
        let part = PARTS[i % PARTS.len()];
        let round = i / PARTS.len();
        if !(part.contains('@') || part.contains("4111")) || round % 8 == 7 {
            out.push_str(part);
        }
        i += 1;
    }
    out
}
