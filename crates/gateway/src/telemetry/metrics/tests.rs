use super::*;
use std::time::{Duration, Instant};

fn finished(latency_ms: u64) -> Interaction {
    let mut record = Interaction::start("req_1".into(), "chat.completions", Instant::now());
    record.status = 200;
    record.latency = Duration::from_millis(latency_ms);
    record
}

/// The line of `text` that starts with `prefix`, its value.
fn value(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn upkeep_folds_observations_into_the_buckets_and_loses_none() {
    let metrics = Metrics::default();
    for ms in [3, 30, 300] {
        metrics.record(&finished(ms));
    }
    metrics.upkeep();
    metrics.upkeep();
    metrics.record(&finished(3));
    let text = metrics.recorder.handle().render();
    assert_eq!(
        value(&text, "sluice_request_duration_seconds_count{"),
        Some(4.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "sluice_request_duration_seconds_bucket{endpoint=\"chat.completions\",model=\"-\",provider=\"-\",le=\"0.005\"}"
        ),
        Some(2.0),
        "{text}"
    );
    let sum = value(&text, "sluice_request_duration_seconds_sum{").unwrap_or(0.0);
    assert!((sum - 0.336).abs() < 1e-9, "{text}");
}

#[tokio::test]
async fn the_upkeep_task_ends_with_its_metrics() {
    let every = Duration::from_millis(10);
    let metrics = Arc::new(Metrics::default());
    let task = Metrics::spawn_upkeep(Arc::downgrade(&metrics), every);
    metrics.record(&finished(3));
    tokio::time::sleep(every * 5).await;
    let text = metrics.recorder.handle().render();
    assert_eq!(
        value(&text, "sluice_request_duration_seconds_count{"),
        Some(1.0),
        "{text}"
    );
    assert!(!task.is_finished());
    drop(metrics);
    tokio::time::sleep(every * 3).await;
    assert!(task.is_finished(), "the task outlived its metrics");
}
