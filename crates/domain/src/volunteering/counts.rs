//! Counts of volunteers for officials' figures, kept as summable parts: each volunteer is
//! one +1 at one home region at a time, so a region's count is the sum of its sub-regions'
//! and nobody is counted twice (ARCHITECTURE.md: distinct counts are never summed).

use chrono::{Datelike, NaiveDate};

/// What the registered-volunteer count needs of a volunteer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    /// Home region (12 digits).
    pub division: String,
    pub registered_on: NaiveDate,
    /// The day the role ended (not counted from that day on).
    pub ended_on: Option<NaiveDate>,
}

impl Enrolment {
    /// The volunteer's changes to the count by day: +1 on registration, −1 on ending.
    fn changes(&self) -> Vec<(NaiveDate, i64)> {
        let mut v = vec![(self.registered_on, 1)];
        if let Some(e) = self.ended_on {
            v.push((e, -1));
        }
        v
    }

    /// Counted at the end of `day`.
    pub fn counted_on(&self, day: NaiveDate) -> bool {
        self.registered_on <= day && self.ended_on.is_none_or(|e| e > day)
    }
}

/// Deltas (region, day, amount) of the registered-volunteer count when a volunteer is
/// registered (`before` None), edited, or both, on `today`. Date changes are made at the
/// old home region; a move takes the volunteer (and any change dated after today) from the
/// old region to the new one on `today`, so the past figures of both stay as they were.
pub fn enrolment_deltas(
    before: Option<&Enrolment>,
    after: &Enrolment,
    today: NaiveDate,
) -> Vec<(String, NaiveDate, i64)> {
    let mut out: Vec<(String, NaiveDate, i64)> = Vec::new();
    let mut add = |region: &str, day: NaiveDate, amount: i64| match out.iter_mut().find(|d| d.0 == region && d.1 == day)
    {
        Some(d) => d.2 += amount,
        None => out.push((region.to_string(), day, amount)),
    };
    let home = before.map_or(after.division.as_str(), |b| b.division.as_str());
    for (day, a) in after.changes() {
        add(home, day, a);
    }
    if let Some(b) = before {
        for (day, a) in b.changes() {
            add(home, day, -a);
        }
    }
    if home != after.division {
        if after.counted_on(today) {
            add(home, today, -1);
            add(&after.division, today, 1);
        }
        for (day, a) in after.changes().into_iter().filter(|(day, _)| *day > today) {
            add(home, day, -a);
            add(&after.division, day, a);
        }
    }
    out.retain(|d| d.2 != 0);
    out
}

/// The day an active-volunteer delta is dated: 1 January of the service year (only the
/// year key of that metric is read).
pub fn active_day(service_date: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(service_date.year(), 1, 1).unwrap_or(service_date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn e(div: &str, reg: NaiveDate, end: Option<NaiveDate>) -> Enrolment {
        Enrolment { division: div.into(), registered_on: reg, ended_on: end }
    }

    /// The count of `region` at the end of `day` from a list of deltas.
    fn stock(deltas: &[(String, NaiveDate, i64)], region: &str, day: NaiveDate) -> i64 {
        deltas.iter().filter(|x| x.0.starts_with(region) && x.1 <= day).map(|x| x.2).sum()
    }

    #[test]
    fn registration_and_ending() {
        let today = d(2026, 5, 1);
        let a = e("420106001001", d(2025, 3, 1), None);
        let reg = enrolment_deltas(None, &a, today);
        assert_eq!(reg, vec![("420106001001".into(), d(2025, 3, 1), 1)]);
        let ended = e("420106001001", d(2025, 3, 1), Some(d(2026, 4, 1)));
        let end = enrolment_deltas(Some(&a), &ended, today);
        assert_eq!(end, vec![("420106001001".into(), d(2026, 4, 1), -1)]);
        let all: Vec<_> = reg.iter().chain(&end).cloned().collect();
        assert_eq!(stock(&all, "420106", d(2026, 3, 31)), 1);
        assert_eq!(stock(&all, "420106", d(2026, 4, 1)), 0);
        // resumed: the ending is taken back
        let back = enrolment_deltas(Some(&ended), &a, today);
        assert_eq!(back, vec![("420106001001".into(), d(2026, 4, 1), 1)]);
        assert!(enrolment_deltas(Some(&a), &a, today).is_empty());
    }

    #[test]
    fn a_move_takes_effect_on_the_day() {
        let today = d(2026, 5, 1);
        let a = e("420106001001", d(2025, 3, 1), None);
        let moved = e("420111002003", d(2025, 3, 1), None);
        let mut all = enrolment_deltas(None, &a, today);
        all.extend(enrolment_deltas(Some(&a), &moved, today));
        assert_eq!(stock(&all, "420106", d(2026, 4, 30)), 1, "the past stays where it was");
        assert_eq!(stock(&all, "420106", today), 0);
        assert_eq!(stock(&all, "420111", today), 1);
        assert_eq!(stock(&all, "42", today), 1, "never counted twice above both");
        // ended later at the new home, then moved back while ended: nothing to move
        let ended = e("420111002003", d(2025, 3, 1), Some(d(2026, 6, 1)));
        all.extend(enrolment_deltas(Some(&moved), &ended, d(2026, 5, 10)));
        let back = e("420106001001", d(2025, 3, 1), Some(d(2026, 6, 1)));
        all.extend(enrolment_deltas(Some(&ended), &back, d(2026, 7, 1)));
        assert_eq!(stock(&all, "42", d(2026, 7, 1)), 0);
        assert_eq!(stock(&all, "420111", d(2026, 7, 1)), 0);
        assert_eq!(stock(&all, "420106", d(2026, 7, 1)), 0);
    }

    #[test]
    fn a_move_carries_a_future_ending() {
        let today = d(2026, 5, 1);
        let a = e("420106001001", d(2025, 3, 1), Some(d(2026, 12, 31)));
        let moved = e("420111002003", d(2025, 3, 1), Some(d(2026, 12, 31)));
        let mut all = enrolment_deltas(None, &e("420106001001", d(2025, 3, 1), None), today);
        all.extend(enrolment_deltas(Some(&e("420106001001", d(2025, 3, 1), None)), &a, today));
        all.extend(enrolment_deltas(Some(&a), &moved, today));
        assert_eq!(stock(&all, "420106", d(2027, 1, 1)), 0);
        assert_eq!(stock(&all, "420111", d(2026, 6, 1)), 1);
        assert_eq!(stock(&all, "420111", d(2027, 1, 1)), 0);
    }

    #[test]
    fn active_deltas_are_dated_new_year() {
        assert_eq!(active_day(d(2026, 8, 9)), d(2026, 1, 1));
    }
}
