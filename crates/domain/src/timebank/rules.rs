//! Settings of the time bank and of points (defaults from Beijing 2022, Nanjing 2019 and
//! Shanghai: deposits from age 18, withdrawals from 60, gifts to direct relatives, a storage
//! cap of 1,500 coins, no expiry unless configured).

use serde::{Deserialize, Serialize};

/// Units of a coin: balances are kept in minutes of service.
pub const UNITS_PER_COIN: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimebankRules {
    /// Youngest age at which service deposits coins.
    pub min_depositor_age: u32,
    /// Youngest age at which coins are spent on being served.
    pub withdraw_from_age: u32,
    /// Most coins one person may hold; deposits beyond it are not credited (and say so).
    pub storage_cap_coins: i64,
    /// Coins may be given to direct relatives (parents, spouse, children).
    pub transfer_to_relatives: bool,
    /// Months after which a deposit expires (None or 0: never).
    pub expiry_months: Option<u32>,
}

impl Default for TimebankRules {
    fn default() -> Self {
        TimebankRules {
            min_depositor_age: 18,
            withdraw_from_age: 60,
            storage_cap_coins: 1500,
            transfer_to_relatives: true,
            expiry_months: None,
        }
    }
}

impl TimebankRules {
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !(14..=30).contains(&self.min_depositor_age) {
            return Err(("min_depositor_age", "存储最低年龄应在 14–30 周岁之间".into()));
        }
        if !(50..=80).contains(&self.withdraw_from_age) {
            return Err(("withdraw_from_age", "兑换服务的最低年龄应在 50–80 周岁之间".into()));
        }
        if !(1..=100_000).contains(&self.storage_cap_coins) {
            return Err(("storage_cap_coins", "存储上限应在 1–100,000 个时间币之间".into()));
        }
        if self.expiry_months.is_some_and(|m| m > 600) {
            return Err(("expiry_months", "有效期应在 0–600 个月之间（0 或不填为永不过期）".into()));
        }
        Ok(())
    }

    /// Months after which coins expire, if they do.
    pub fn expiry(&self) -> Option<u32> {
        self.expiry_months.filter(|m| *m > 0)
    }

    pub fn cap_units(&self) -> i64 {
        self.storage_cap_coins * UNITS_PER_COIN
    }

    /// Whether service at `age` deposits coins.
    pub fn deposits_at(&self, age: i64) -> bool {
        age >= i64::from(self.min_depositor_age)
    }

    /// Whether someone of `age` may spend coins on being served.
    pub fn may_spend(&self, age: i64) -> Result<(), super::MovementError> {
        if age < i64::from(self.withdraw_from_age) {
            return Err(super::MovementError::TooYoung { age, min: self.withdraw_from_age });
        }
        Ok(())
    }

    /// Units a deposit of `minutes` credits to a holder at `balance` (the rest is over the cap).
    pub fn deposit_units(&self, minutes: i64, balance: i64) -> i64 {
        minutes.max(0).min((self.cap_units() - balance).max(0))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointRules {
    /// Points per credited hour of service (any activity); 0 turns points off.
    pub points_per_hour: i64,
}

impl Default for PointRules {
    fn default() -> Self {
        PointRules { points_per_hour: 10 }
    }
}

impl PointRules {
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !(0..=1000).contains(&self.points_per_hour) {
            return Err(("points_per_hour", "每小时积分应在 0–1000 之间".into()));
        }
        Ok(())
    }

    /// Points earned by `minutes` of credited service (whole points, rounded down).
    pub fn earned(&self, minutes: i64) -> i64 {
        minutes.max(0) * self.points_per_hour / 60
    }
}

/// "12.5" coins for 750 units.
pub fn coins_label(units: i64) -> String {
    crate::volunteering::hours::hours_label(units)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_and_points() {
        let r = TimebankRules::default();
        assert_eq!(r.deposit_units(120, 0), 120);
        assert_eq!(r.deposit_units(120, r.cap_units() - 30), 30);
        assert_eq!(r.deposit_units(120, r.cap_units()), 0);
        let p = PointRules::default();
        assert_eq!(p.earned(150), 25);
        assert_eq!(p.earned(5), 0);
        assert_eq!(coins_label(750), "12.5");
        assert!(r.validate().is_ok() && p.validate().is_ok());
        assert!(r.deposits_at(18) && !r.deposits_at(17));
        assert!(r.may_spend(60).is_ok() && r.may_spend(59).is_err());
        assert!(TimebankRules { withdraw_from_age: 10, ..r.clone() }.validate().is_err());
        assert_eq!(r.expiry(), None);
        assert_eq!(TimebankRules { expiry_months: Some(0), ..r.clone() }.expiry(), None);
        assert_eq!(TimebankRules { expiry_months: Some(24), ..r.clone() }.expiry(), Some(24));
        assert!(TimebankRules { expiry_months: Some(601), ..r }.validate().is_err());
    }
}
