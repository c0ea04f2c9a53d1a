//! The chain: verification names the first altered, removed, swapped or cut entry;
//! retention removes a prefix that still verifies.

use super::*;

#[tokio::test]
async fn verify_names_the_first_altered_removed_swapped_or_cut_entry() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("journal.db").display());
    let h = start_with(&config(&url, dir.path())).await;
    for i in 0..5 {
        assert_eq!(
            send(&h, &format!("v-{i}"), &chat("gpt-4o", "x"))
                .await
                .status(),
            200
        );
    }
    let store = Store::open(&url).await.expect("store");
    let rows = entries(&h, &store, 5).await;
    let key = key_bytes(Some(KEY));
    let checkpoints =
        verify::read_checkpoints(&dir.path().join("checkpoints.jsonl")).expect("checkpoints");
    assert_eq!(
        verify::check(&rows, &key, &checkpoints, &[]).first_bad,
        None
    );
    // The streamed walk of the store says the same as the walk of the rows read whole.
    let streamed = verify::check_store(&store, &key, &checkpoints, &[])
        .await
        .expect("streamed walk");
    assert_eq!(streamed, verify::check(&rows, &key, &checkpoints, &[]));
    assert_eq!((streamed.entries, streamed.writers), (5, 1));

    let mut altered = rows.clone();
    altered[2].json = altered[2].json.replace("\"status\":200", "\"status\":500");
    let bad = verify::check(&altered, &key, &checkpoints, &[])
        .first_bad
        .expect("altered caught");
    assert_eq!(bad.seq, 3);
    assert!(bad.why.contains("altered"), "{bad:?}");

    let mut column = rows.clone();
    column[1].model = "cheaper-model".to_owned();
    let bad = verify::check(&column, &key, &checkpoints, &[])
        .first_bad
        .expect("column edit caught");
    assert_eq!(bad.seq, 2);

    // Spend, seeded budgets and the filters read the columns: each edit is caught.
    type Edit = fn(&mut verify::Stored);
    let edits: [(&str, Edit); 7] = [
        ("cost_micros", |r| r.cost_micros = Some(0)),
        ("tokens_in", |r| r.tokens_in = r.tokens_in.map(|t| t + 1)),
        ("tokens_out", |r| r.tokens_out = r.tokens_out.map(|t| t + 1)),
        ("key_name", |r| r.key_name = Some("someone-else".to_owned())),
        ("team", |r| r.team = Some("other-team".to_owned())),
        ("provider", |r| r.provider = None),
        ("at_ms", |r| r.at_ms -= 86_400_000),
    ];
    for (column, edit) in edits {
        let mut edited = rows.clone();
        edit(&mut edited[3]);
        let bad = verify::check(&edited, &key, &checkpoints, &[])
            .first_bad
            .unwrap_or_else(|| panic!("an edit of {column} passed"));
        assert_eq!(bad.seq, 4, "{column}");
        assert!(
            bad.why.contains(&format!("`{column}`")),
            "{column}: {bad:?}"
        );
    }
    // A row from before the cost columns existed has none of them.
    let mut legacy = rows.clone();
    legacy[3].cost_micros = None;
    legacy[3].tokens_in = None;
    legacy[3].tokens_out = None;
    assert_eq!(
        verify::check(&legacy, &key, &checkpoints, &[]).first_bad,
        None
    );

    let mut removed = rows.clone();
    removed.remove(1);
    let bad = verify::check(&removed, &key, &checkpoints, &[])
        .first_bad
        .expect("removal caught");
    assert_eq!(bad.seq, 3);
    assert!(bad.why.contains("missing"), "{bad:?}");

    let mut swapped = rows.clone();
    swapped.swap(1, 2);
    assert!(
        verify::check(&swapped, &key, &checkpoints, &[])
            .first_bad
            .is_some(),
        "swap caught"
    );

    let mut cut = rows.clone();
    cut.pop();
    let bad = verify::check(&cut, &key, &checkpoints, &[])
        .first_bad
        .expect("cut caught by checkpoint");
    assert!(bad.why.contains("removed"), "{bad:?}");

    let forged = verify::check(&rows, &key_bytes(Some("another-key-0123456789")), &[], &[]);
    assert!(
        forged.first_bad.is_some(),
        "a chain made with another key does not verify"
    );
}

#[tokio::test]
async fn retention_removes_a_chain_prefix_that_still_verifies() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("journal.db").display());
    let h = start_with(&config(&url, dir.path())).await;
    for i in 0..3 {
        send(&h, &format!("r-old-{i}"), &chat("gpt-4o", "x")).await;
    }
    let store = Store::open(&url).await.expect("store");
    entries(&h, &store, 3).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let cutoff = sluice::journal::now_ms();
    for i in 0..2 {
        send(&h, &format!("r-new-{i}"), &chat("gpt-4o", "x")).await;
    }
    entries(&h, &store, 5).await;

    let key = key_bytes(Some(KEY));
    let removed = sluice::journal::retention::prune(&store, &key, cutoff)
        .await
        .expect("prune");
    assert_eq!(removed, 3);
    let rows = verify::read_store(&store).await.expect("read");
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["r-new-0", "r-new-1"]);
    let markers = sluice::journal::retention::markers(&store)
        .await
        .expect("markers");
    let checkpoints =
        verify::read_checkpoints(&dir.path().join("checkpoints.jsonl")).expect("checkpoints");
    let report = verify::check(&rows, &key, &checkpoints, &markers);
    assert_eq!(report.first_bad, None, "{report:?}");
    assert!(
        verify::check(&rows, &key, &checkpoints, &[])
            .first_bad
            .is_some(),
        "without the signed marker the cut prefix shows"
    );
    let mut forged = markers.clone();
    forged[0].seq = 2;
    assert!(
        verify::check(&rows, &key, &checkpoints, &forged)
            .first_bad
            .is_some(),
        "a forged marker shows"
    );
}
