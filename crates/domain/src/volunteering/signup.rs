//! Sign-ups for an activity's time slot. A place is held only by an approved sign-up, so
//! capacity is the count of approved ones; a sign-up that finds the slot full waits on the
//! list and is promoted, oldest first, when a place frees.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignupStatus {
    /// Waiting for the organization's decision; holds no place.
    Pending,
    /// Accepted and holding a place.
    Approved,
    /// Accepted, but the slot was full: promoted when a place frees.
    Waitlisted,
    Declined,
    Cancelled,
}

impl SignupStatus {
    pub const ALL: [SignupStatus; 5] =
        [Self::Pending, Self::Approved, Self::Waitlisted, Self::Declined, Self::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Waitlisted => "waitlisted",
            Self::Declined => "declined",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "待审核",
            Self::Approved => "已录用",
            Self::Waitlisted => "候补",
            Self::Declined => "未录用",
            Self::Cancelled => "已取消",
        }
    }

    /// Still in play (a volunteer has at most one such sign-up per slot).
    pub fn is_active(self) -> bool {
        matches!(self, Self::Pending | Self::Approved | Self::Waitlisted)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignupAction {
    /// The organization accepts (or the activity approves automatically).
    Approve {
        place_free: bool,
    },
    Decline,
    /// The volunteer withdraws, or the organization removes them.
    Cancel,
    /// A place freed and this is the oldest waiting sign-up.
    Promote,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignupError(pub String);

/// The status a new sign-up starts in.
pub fn initial(auto_approve: bool, place_free: bool) -> SignupStatus {
    match (auto_approve, place_free) {
        (false, _) => SignupStatus::Pending,
        (true, true) => SignupStatus::Approved,
        (true, false) => SignupStatus::Waitlisted,
    }
}

/// The next status, or why the action does not apply.
pub fn transition(from: SignupStatus, action: SignupAction) -> Result<SignupStatus, SignupError> {
    use SignupAction::*;
    use SignupStatus::*;
    match (from, action) {
        (Pending, Approve { place_free: true }) => Ok(Approved),
        (Pending, Approve { place_free: false }) => Ok(Waitlisted),
        (Pending | Waitlisted, Decline) => Ok(Declined),
        (Approved, Decline) => Err(SignupError("已录用的报名不能改为未录用，请改为取消".into())),
        (Pending | Approved | Waitlisted, Cancel) => Ok(Cancelled),
        (Waitlisted, Promote) => Ok(Approved),
        (s, _) => Err(SignupError(format!("报名当前为「{}」，不能执行此操作", s.label()))),
    }
}

/// Whether the transition frees a place (so the oldest waiting sign-up is promoted).
pub fn frees_place(from: SignupStatus, to: SignupStatus) -> bool {
    from == SignupStatus::Approved && to != SignupStatus::Approved
}

#[cfg(test)]
mod tests {
    use super::*;
    use SignupAction::*;
    use SignupStatus::*;

    #[test]
    fn lifecycle() {
        assert_eq!(initial(true, true), Approved);
        assert_eq!(initial(true, false), Waitlisted);
        assert_eq!(initial(false, true), Pending);
        assert_eq!(transition(Pending, Approve { place_free: true }), Ok(Approved));
        assert_eq!(transition(Pending, Approve { place_free: false }), Ok(Waitlisted));
        assert_eq!(transition(Waitlisted, Promote), Ok(Approved));
        assert_eq!(transition(Approved, Cancel), Ok(Cancelled));
        assert!(transition(Approved, Decline).is_err());
        assert!(transition(Cancelled, Approve { place_free: true }).is_err());
        assert!(transition(Declined, Cancel).is_err());
        assert!(transition(Approved, Promote).is_err());
        assert!(frees_place(Approved, Cancelled));
        assert!(!frees_place(Waitlisted, Cancelled));
    }

    #[test]
    fn names_round_trip() {
        for s in SignupStatus::ALL {
            assert_eq!(SignupStatus::parse(s.as_str()), Some(s));
        }
    }
}
