//! Ledger movements: what moves between which accounts, checked before anything is written.
//! The store applies a movement as one transaction of entries summing to zero, debiting with
//! a conditional update so no balance can go below zero under concurrency.

use serde::{Deserialize, Serialize};

/// Which ledger an account is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ledger {
    /// Time coins, in minutes.
    Coins,
    /// Love-supermarket points.
    Points,
}

impl Ledger {
    pub fn as_str(self) -> &'static str {
        match self {
            Ledger::Coins => "coins",
            Ledger::Points => "points",
        }
    }
}

/// System accounts that are the other side of a person's movements. Their balances go
/// negative by design (issuance) or only up (sinks): only person accounts must stay ≥ 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SystemAccount {
    /// Source of coins and points earned by confirmed service.
    Issuance,
    /// Where coins go when spent on being served.
    ServicesReceived,
    /// Where points go when redeemed for goods.
    Redemptions,
    /// Coins or points that lapsed (expiry, reversal of a corrected record).
    Lapsed,
}

impl SystemAccount {
    pub fn key(self) -> &'static str {
        match self {
            SystemAccount::Issuance => "issuance",
            SystemAccount::ServicesReceived => "services_received",
            SystemAccount::Redemptions => "redemptions",
            SystemAccount::Lapsed => "lapsed",
        }
    }
}

/// What happened, in ledger terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Movement {
    /// Earned by a confirmed service record (issuance → person).
    Earn { units: i64 },
    /// Given to a direct relative (person → person).
    Transfer { units: i64 },
    /// Spent on a service received (person → services received).
    Spend { units: i64 },
    /// Redeemed for goods (person → redemptions).
    Redeem { units: i64 },
    /// Taken back when the record that earned it is corrected (person → lapsed).
    Reverse { units: i64 },
    /// Coins past their expiry, unspent (person → lapsed).
    Expire { units: i64 },
}

impl Movement {
    pub fn units(&self) -> i64 {
        match self {
            Movement::Earn { units }
            | Movement::Transfer { units }
            | Movement::Spend { units }
            | Movement::Redeem { units }
            | Movement::Reverse { units }
            | Movement::Expire { units } => *units,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Movement::Earn { .. } => "earn",
            Movement::Transfer { .. } => "transfer",
            Movement::Spend { .. } => "spend",
            Movement::Redeem { .. } => "redeem",
            Movement::Reverse { .. } => "reverse",
            Movement::Expire { .. } => "expire",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Movement::Earn { .. } => "服务获得",
            Movement::Transfer { .. } => "转赠",
            Movement::Spend { .. } => "兑换服务",
            Movement::Redeem { .. } => "兑换物品",
            Movement::Reverse { .. } => "记录更正扣回",
            Movement::Expire { .. } => "到期失效",
        }
    }

    /// The label of a stored kind ("earn" → 服务获得); the kind itself when unknown.
    pub fn kind_label(kind: &str) -> &str {
        match kind {
            "earn" => "服务获得",
            "transfer" => "转赠",
            "spend" => "兑换服务",
            "redeem" => "兑换物品",
            "reverse" => "记录更正扣回",
            "expire" => "到期失效",
            other => other,
        }
    }

    /// Check the amount: positive and sane.
    pub fn check(&self) -> Result<(), MovementError> {
        let u = self.units();
        if u <= 0 {
            return Err(MovementError::NotPositive);
        }
        if u > 10_000_000 {
            return Err(MovementError::TooLarge);
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MovementError {
    NotPositive,
    TooLarge,
    Insufficient { balance: i64, needed: i64 },
    OverCap,
    NotRelatives,
    TooYoung { age: i64, min: u32 },
    OutOfStock { left: i64 },
}

impl MovementError {
    pub fn message(&self, ledger: Ledger) -> String {
        let unit = |u: i64| match ledger {
            Ledger::Coins => format!("{} 个时间币", super::rules::coins_label(u)),
            Ledger::Points => format!("{u} 积分"),
        };
        match self {
            MovementError::NotPositive => "数量应大于 0".into(),
            MovementError::TooLarge => "数量过大".into(),
            MovementError::Insufficient { balance, needed } => {
                format!("余额不足：现有 {}，需要 {}", unit(*balance), unit(*needed))
            }
            MovementError::OverCap => "对方的时间币已达存储上限".into(),
            MovementError::NotRelatives => "时间币只能转赠给直系亲属（父母、配偶、子女）".into(),
            MovementError::TooYoung { age, min } => format!("{age} 周岁，未满 {min} 周岁"),
            MovementError::OutOfStock { left } => format!("库存不足：仅剩 {left} 件"),
        }
    }
}

/// Relations that count as direct relatives for coin gifts.
pub const DIRECT_RELATIONS: [&str; 3] = ["父母", "配偶", "子女"];

pub fn is_direct_relation(relation: &str) -> bool {
    DIRECT_RELATIONS.contains(&relation.trim())
}

/// The relation seen from the other side (父母 ↔ 子女, 配偶 ↔ 配偶); None if not direct.
pub fn reverse_relation(relation: &str) -> Option<&'static str> {
    match relation.trim() {
        "父母" => Some("子女"),
        "子女" => Some("父母"),
        "配偶" => Some("配偶"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        assert!(Movement::Transfer { units: 0 }.check().is_err());
        assert!(Movement::Earn { units: 60 }.check().is_ok());
        assert_eq!(
            MovementError::Insufficient { balance: 90, needed: 120 }.message(Ledger::Coins),
            "余额不足：现有 1.5 个时间币，需要 2 个时间币"
        );
        assert!(is_direct_relation("子女") && !is_direct_relation("朋友"));
        for m in [
            Movement::Earn { units: 1 },
            Movement::Transfer { units: 1 },
            Movement::Spend { units: 1 },
            Movement::Redeem { units: 1 },
            Movement::Reverse { units: 1 },
            Movement::Expire { units: 1 },
        ] {
            assert_eq!(Movement::kind_label(m.kind()), m.label());
        }
        assert_eq!(reverse_relation("父母"), Some("子女"));
        assert_eq!(reverse_relation(" 配偶 "), Some("配偶"));
        assert_eq!(reverse_relation("朋友"), None);
    }
}
