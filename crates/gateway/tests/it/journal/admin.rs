//! `GET /admin/journal`: the master key, the filters (the request id among them) and
//! cursor pages.

use super::*;

#[tokio::test]
async fn admin_journal_needs_the_master_key_and_pages_with_filters() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("journal.db").display());
    let h = start_with(&config(&url, dir.path())).await;
    for i in 0..5 {
        send(&h, &format!("a-{i}"), &chat("gpt-4o", "x")).await;
    }
    send(&h, "a-alias", &chat("alias", "x")).await;
    let store = Store::open(&url).await.expect("store");
    entries(&h, &store, 6).await;

    let anonymous = h
        .client
        .get(h.url("/admin/journal"))
        .send()
        .await
        .expect("sent");
    assert_eq!(anonymous.status(), 401);
    let wrong = h
        .client
        .get(h.url("/admin/journal"))
        .bearer_auth("not-the-master-key")
        .send()
        .await
        .expect("sent");
    assert_eq!(wrong.status(), 401);

    let get = |query: String| {
        let request = h
            .client
            .get(h.url(&format!("/admin/journal?{query}")))
            .bearer_auth(MASTER);
        async move {
            let response = request.send().await.expect("sent");
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.expect("JSON")
        }
    };
    let first = get("model=gpt-4o&limit=2".to_owned()).await;
    assert_eq!(first["data"].as_array().map(Vec::len), Some(2));
    let mut ids: Vec<String> = Vec::new();
    let mut page = first;
    loop {
        for found in page["data"].as_array().expect("data") {
            assert_eq!(found["entry"]["model"], "gpt-4o");
            ids.push(found["entry"]["id"].as_str().expect("id").to_owned());
        }
        let Some(cursor) = page["next_cursor"].as_str() else {
            break;
        };
        page = get(format!("model=gpt-4o&limit=2&cursor={cursor}")).await;
    }
    ids.sort_unstable();
    assert_eq!(
        ids,
        ["a-0", "a-1", "a-2", "a-3", "a-4"],
        "every entry once across pages"
    );

    // One interaction by its request id, among entries of other ids and models.
    let one = get("id=a-3".to_owned()).await;
    let found = one["data"].as_array().expect("data");
    assert_eq!(found.len(), 1, "{one}");
    assert_eq!(found[0]["entry"]["id"], "a-3");
    assert_eq!(found[0]["entry"]["model"], "gpt-4o");
    assert_eq!(one["next_cursor"], Value::Null);
    let none = get("id=no-such-request".to_owned()).await;
    assert_eq!(none["data"].as_array().map(Vec::len), Some(0), "{none}");

    let alias = get("model=alias".to_owned()).await;
    assert_eq!(
        alias["data"][0]["entry"]["upstream_model"],
        "upstream-model"
    );
    let bad = h
        .client
        .get(h.url("/admin/journal?cursor=garbage"))
        .bearer_auth(MASTER)
        .send()
        .await
        .expect("sent");
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn admin_is_absent_without_a_master_key() {
    let h = crate::support::start().await;
    let response = h
        .client
        .get(h.url("/admin/journal"))
        .bearer_auth(MASTER)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 404);
}
