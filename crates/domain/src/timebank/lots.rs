//! Time coins as dated lots, consumed first in, first out. A coin keeps the date it was
//! deposited (earned by service) for its whole life, also when it is given to a relative, so
//! a gift never restarts its expiry. Spending, gifts and reversals take the oldest coins
//! first; coins past their expiry are taken by an expiry movement before anything else.
//!
//! The lots of an account are not stored: they are replayed from the account's entries, in
//! posting order, every time they are needed. Each entry that brings coins in carries its
//! deposit date; each entry that takes coins out takes the oldest lots. So the lots always
//! agree with the ledger, and posting the expiry of the lots due makes them vanish from the
//! replay: expiring twice expires nothing more.

use chrono::{DateTime, Duration, Months, Utc};

/// Coins deposited at one instant (units: minutes of service).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lot {
    pub deposited_at: DateTime<Utc>,
    pub units: i64,
}

/// One entry of an account, in posting order: `units > 0` brings in a lot dated
/// `deposited_at`; `units < 0` takes the oldest lots (its date is not used).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    pub units: i64,
    pub deposited_at: DateTime<Utc>,
}

/// More coins were asked for than the lots hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overdrawn {
    pub balance: i64,
    pub needed: i64,
}

/// When coins deposited at `deposited_at` expire after `months` (the same day of the month,
/// or the month's last day when it is shorter).
pub fn expires_at(deposited_at: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    deposited_at.checked_add_months(Months::new(months)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The lots of one account, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lots {
    lots: Vec<Lot>,
}

impl Lots {
    /// Rebuild the lots from an account's entries in posting order.
    pub fn replay(flows: impl IntoIterator<Item = Flow>) -> Result<Lots, Overdrawn> {
        let mut l = Lots::default();
        for f in flows {
            if f.units > 0 {
                l.deposit(Lot { deposited_at: f.deposited_at, units: f.units });
            } else if f.units < 0 {
                l.take(-f.units)?;
            }
        }
        Ok(l)
    }

    /// Add a lot in date order (after lots of the same date, so equal dates stay in posting
    /// order). Nothing for an empty lot.
    pub fn deposit(&mut self, lot: Lot) {
        if lot.units <= 0 {
            return;
        }
        let at = self.lots.partition_point(|l| l.deposited_at <= lot.deposited_at);
        self.lots.insert(at, lot);
    }

    /// Take `units`, oldest coins first: the parts taken with their deposit dates (summing to
    /// `units`), or Overdrawn and nothing taken.
    pub fn take(&mut self, units: i64) -> Result<Vec<Lot>, Overdrawn> {
        let balance = self.balance();
        if units > balance {
            return Err(Overdrawn { balance, needed: units });
        }
        let mut parts = Vec::new();
        let mut left = units;
        while left > 0 {
            let first = &mut self.lots[0];
            let n = first.units.min(left);
            parts.push(Lot { deposited_at: first.deposited_at, units: n });
            first.units -= n;
            left -= n;
            if first.units == 0 {
                self.lots.remove(0);
            }
        }
        Ok(parts)
    }

    pub fn balance(&self) -> i64 {
        self.lots.iter().map(|l| l.units).sum()
    }

    pub fn lots(&self) -> &[Lot] {
        &self.lots
    }

    /// Units whose expiry (`months` after deposit) is at or before `now`: the oldest lots, so
    /// taking this many takes exactly them.
    pub fn due(&self, months: u32, now: DateTime<Utc>) -> i64 {
        self.lots.iter().take_while(|l| expires_at(l.deposited_at, months) <= now).map(|l| l.units).sum()
    }

    /// Lots not yet expired at `now` that expire within `within`, as (expiry, units), soonest
    /// first; lots expiring at the same instant are added up.
    pub fn expiring(&self, months: u32, now: DateTime<Utc>, within: Duration) -> Vec<(DateTime<Utc>, i64)> {
        let mut out: Vec<(DateTime<Utc>, i64)> = Vec::new();
        for l in &self.lots {
            let at = expires_at(l.deposited_at, months);
            if at <= now {
                continue;
            }
            if at > now + within {
                break;
            }
            match out.last_mut() {
                Some(last) if last.0 == at => last.1 += l.units,
                _ => out.push((at, l.units)),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 2, 0, 0).unwrap()
    }

    #[test]
    fn oldest_coins_go_first() {
        let mut l = Lots::default();
        l.deposit(Lot { deposited_at: day(2025, 3, 1), units: 120 });
        l.deposit(Lot { deposited_at: day(2025, 1, 1), units: 60 });
        let parts = l.take(90).unwrap();
        assert_eq!(
            parts,
            vec![Lot { deposited_at: day(2025, 1, 1), units: 60 }, Lot { deposited_at: day(2025, 3, 1), units: 30 }]
        );
        assert_eq!(l.balance(), 90);
        assert_eq!(l.take(100), Err(Overdrawn { balance: 90, needed: 100 }));
        assert_eq!(l.balance(), 90, "a refused take leaves the lots alone");
    }

    #[test]
    fn expiry_is_by_months_and_taken_once() {
        assert_eq!(expires_at(day(2024, 1, 31), 1), day(2024, 2, 29));
        assert_eq!(expires_at(day(2024, 5, 10), 12), day(2025, 5, 10));
        let flows = [
            Flow { units: 60, deposited_at: day(2024, 1, 10) },
            Flow { units: 120, deposited_at: day(2024, 6, 1) },
            Flow { units: -30, deposited_at: day(2024, 7, 1) },
        ];
        let mut l = Lots::replay(flows).unwrap();
        // the spend took half of the January coins; the rest expires in January 2025
        assert_eq!(l.due(12, day(2025, 1, 9)), 0);
        assert_eq!(l.due(12, day(2025, 1, 10)), 30);
        assert_eq!(l.expiring(12, day(2024, 12, 20), Duration::days(30)), vec![(day(2025, 1, 10), 30)]);
        assert_eq!(l.expiring(12, day(2025, 5, 10), Duration::days(30)), vec![(day(2025, 6, 1), 120)]);
        let taken = l.take(l.due(12, day(2025, 1, 10))).unwrap();
        assert_eq!(taken, vec![Lot { deposited_at: day(2024, 1, 10), units: 30 }]);
        assert_eq!(l.due(12, day(2025, 1, 10)), 0, "nothing more expires");
        // a relative's gift keeps its date, so it may expire before coins earned earlier
        l.deposit(Lot { deposited_at: day(2023, 12, 1), units: 60 });
        assert_eq!(l.due(12, day(2025, 1, 10)), 60);
        assert!(Lots::replay([Flow { units: -1, deposited_at: day(2024, 1, 1) }]).is_err());
    }

    #[derive(Debug, Clone)]
    enum Op {
        Deposit {
            day: i64,
            units: i64,
        },
        Take {
            units: i64,
        },
        Expire {
            day: i64,
        },
        /// Give coins to the second account (a relative).
        Give {
            units: i64,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0i64..1500, 1i64..600).prop_map(|(day, units)| Op::Deposit { day, units }),
            (1i64..900).prop_map(|units| Op::Take { units }),
            (0i64..2000).prop_map(|day| Op::Expire { day }),
            (1i64..600).prop_map(|units| Op::Give { units }),
        ]
    }

    proptest! {
        /// Coins are never created or destroyed: each account's lots add up to what came in
        /// less what went out (and both accounts together to what was deposited less what was
        /// taken or expired); the expired amount never exceeds the balance; expiring is
        /// idempotent; takes are oldest first; replaying the entries gives the same lots.
        #[test]
        fn lots_conserve_coins(ops in proptest::collection::vec(op(), 1..80)) {
            let base = day(2022, 1, 1);
            let (mut a, mut b) = (Lots::default(), Lots::default());
            let (mut flows_a, mut flows_b) = (Vec::new(), Vec::new());
            let (mut deposited, mut gone) = (0i64, 0i64);
            let mut clock = base;
            for o in ops {
                match o {
                    Op::Deposit { day, units } => {
                        let at = base + Duration::days(day);
                        a.deposit(Lot { deposited_at: at, units });
                        flows_a.push(Flow { units, deposited_at: at });
                        deposited += units;
                    }
                    Op::Take { units } => {
                        let before = a.clone();
                        match a.take(units) {
                            Ok(parts) => {
                                prop_assert_eq!(parts.iter().map(|p| p.units).sum::<i64>(), units);
                                let newest_taken = parts.iter().map(|p| p.deposited_at).max().unwrap();
                                prop_assert!(a.lots().iter().all(|l| l.deposited_at >= newest_taken), "oldest first");
                                flows_a.push(Flow { units: -units, deposited_at: clock });
                                gone += units;
                            }
                            Err(e) => {
                                prop_assert_eq!(e, Overdrawn { balance: before.balance(), needed: units });
                                prop_assert_eq!(&a, &before);
                            }
                        }
                    }
                    Op::Expire { day } => {
                        clock = clock.max(base + Duration::days(day));
                        for (l, flows) in [(&mut a, &mut flows_a), (&mut b, &mut flows_b)] {
                            let due = l.due(12, clock);
                            prop_assert!(due <= l.balance());
                            let parts = l.take(due).unwrap();
                            prop_assert!(parts.iter().all(|p| expires_at(p.deposited_at, 12) <= clock));
                            prop_assert_eq!(l.due(12, clock), 0, "expiring twice expires nothing more");
                            if due > 0 {
                                flows.push(Flow { units: -due, deposited_at: clock });
                            }
                            gone += due;
                        }
                    }
                    Op::Give { units } => {
                        if let Ok(parts) = a.take(units) {
                            flows_a.push(Flow { units: -units, deposited_at: clock });
                            for p in parts {
                                b.deposit(p);
                                flows_b.push(Flow { units: p.units, deposited_at: p.deposited_at });
                            }
                        }
                    }
                }
                prop_assert!(a.balance() >= 0 && b.balance() >= 0);
                prop_assert_eq!(a.balance() + b.balance(), deposited - gone);
                prop_assert_eq!(a.balance(), flows_a.iter().map(|f| f.units).sum::<i64>());
                prop_assert_eq!(b.balance(), flows_b.iter().map(|f| f.units).sum::<i64>());
            }
            prop_assert_eq!(Lots::replay(flows_a.clone()).unwrap(), a);
            prop_assert_eq!(Lots::replay(flows_b.clone()).unwrap(), b);
        }
    }
}
