//! Budget periods in UTC: a day, a calendar month, or all time. Each period has an id
//! (part of the counter's key, so a new period starts at zero by itself) and an end.
//!
//! Must never depend on the local time zone: every replica must agree on the period.

use crate::config::Period;

const DAY_MS: u64 = 86_400_000;

/// The period containing `now_ms`: its id pushed onto `key` (a budget's counter is
/// named on every request that has a budget: `format!` cost about 1,000 instructions
/// there), and when it ends (`None`: never).
pub fn push_window(period: Period, now_ms: u64, key: &mut String) -> Option<u64> {
    let day = now_ms / DAY_MS;
    match period {
        Period::Daily => {
            key.push('d');
            key.push_str(itoa::Buffer::new().format(day));
            Some((day + 1) * DAY_MS)
        }
        Period::Monthly => {
            let (y, m, _) = civil(day as i64);
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            let next = days_from_civil(ny, nm, 1).max(0) as u64;
            // From a `u64` of milliseconds the year has four digits (1970 or later).
            key.push('m');
            key.push_str(itoa::Buffer::new().format(y));
            if m < 10 {
                key.push('0');
            }
            key.push_str(itoa::Buffer::new().format(m));
            Some(next * DAY_MS)
        }
        Period::Total => {
            key.push_str("total");
            None
        }
    }
}

/// When the period containing `now_ms` began.
pub fn start(period: Period, now_ms: u64) -> u64 {
    let day = now_ms / DAY_MS;
    match period {
        Period::Daily => day * DAY_MS,
        Period::Monthly => {
            let (y, m, _) = civil(day as i64);
            days_from_civil(y, m, 1).max(0) as u64 * DAY_MS
        }
        Period::Total => 0,
    }
}

/// An RFC 3339 time (`2027-01-31T00:00:00Z`) as milliseconds since the Unix epoch.
pub fn rfc3339_ms(text: &str) -> Option<i64> {
    humantime::parse_rfc3339_weak(text)
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_millis()).ok())
}

pub fn describe(period: Period) -> &'static str {
    match period {
        Period::Daily => "per day",
        Period::Monthly => "per month",
        Period::Total => "in total",
    }
}

// Howard Hinnant's days <-> civil date algorithms (proleptic Gregorian).
fn civil(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(period: Period, now_ms: u64) -> (String, Option<u64>) {
        let mut id = String::new();
        let ends = push_window(period, now_ms, &mut id);
        (id, ends)
    }

    #[test]
    fn months_and_days_end_at_utc_midnight() {
        // 2026-12-02T07:00:00Z.
        let now = 1_796_194_800_000;
        let (id, ends) = window(Period::Monthly, now);
        assert_eq!(id, "m202612");
        // 2027-01-01T00:00:00Z.
        assert_eq!(ends, Some(1_798_761_600_000));
        assert_eq!(start(Period::Monthly, now), 1_796_083_200_000);
        let (_, day_end) = window(Period::Daily, now);
        assert_eq!(day_end, Some(1_796_256_000_000));
        assert_eq!(window(Period::Total, now), ("total".to_owned(), None));
    }

    #[test]
    fn period_ids_are_the_ones_counters_were_always_named_by() {
        // Budget counters live on in Redis across upgrades: the ids must not change.
        for day in (0..200_000u64).step_by(97) {
            let now = day * DAY_MS + 12_345;
            let (y, m, _) = civil(day as i64);
            assert_eq!(window(Period::Daily, now).0, format!("d{day}"));
            assert_eq!(window(Period::Monthly, now).0, format!("m{y:04}{m:02}"));
        }
        let mut key = "sluice:key:k:budget:".to_owned();
        assert_eq!(push_window(Period::Daily, 0, &mut key), Some(DAY_MS));
        assert_eq!(key, "sluice:key:k:budget:d0");
    }
}
