//! Roles, scopes and the one permission check. A user acts inside a scope: a division code
//! prefix (empty = the whole deployment) and, for organization staff, one organization.

use serde::{Deserialize, Serialize};

/// The roles of Wushe, highest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Official,
    SocialWorker,
    OrgStaff,
    Volunteer,
    Resident,
}

impl Role {
    pub const ALL: [Role; 6] =
        [Role::Admin, Role::Official, Role::SocialWorker, Role::OrgStaff, Role::Volunteer, Role::Resident];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Official => "official",
            Role::SocialWorker => "social_worker",
            Role::OrgStaff => "org_staff",
            Role::Volunteer => "volunteer",
            Role::Resident => "resident",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "系统管理员",
            Role::Official => "民政干部",
            Role::SocialWorker => "站点工作人员/社工",
            Role::OrgStaff => "组织工作人员",
            Role::Volunteer => "志愿者",
            Role::Resident => "居民/服务对象",
        }
    }

    /// Rank used for "never grant a role above your own". Social workers and organization
    /// staff are peers.
    pub fn rank(self) -> u8 {
        match self {
            Role::Admin => 5,
            Role::Official => 4,
            Role::SocialWorker | Role::OrgStaff => 3,
            Role::Volunteer => 2,
            Role::Resident => 1,
        }
    }

    /// Roles that may manage user accounts at all.
    pub fn manages_users(self) -> bool {
        matches!(self, Role::Admin | Role::Official)
    }

    /// Roles that may read the audit log of their scope.
    pub fn reads_audit(self) -> bool {
        matches!(self, Role::Admin | Role::Official)
    }

    /// Roles that register organizations, record their status decisions, pairings and bans.
    pub fn manages_registry(self) -> bool {
        matches!(self, Role::Admin | Role::Official)
    }

    /// Roles that see organizations' contact phones unmasked (in lists and exports).
    pub fn sees_org_contacts(self) -> bool {
        matches!(self, Role::Admin | Role::Official)
    }

    /// Roles that work with the people registry (volunteers, social workers, beneficiaries)
    /// of their scope: officials by region, station staff by their township, organization
    /// staff for the people of their own organization only.
    pub fn works_with_people(self) -> bool {
        matches!(self, Role::Admin | Role::Official | Role::SocialWorker | Role::OrgStaff)
    }

    /// Roles that register social workers (their credentials are a matter for officials
    /// and the employing organization, not for station staff).
    pub fn registers_social_workers(self) -> bool {
        matches!(self, Role::Admin | Role::Official | Role::OrgStaff)
    }

    /// Roles whose exports of people carry full ID numbers and phones (the export is audited
    /// as such); everyone else exports masked values.
    pub fn exports_full_personal_data(self) -> bool {
        matches!(self, Role::Admin | Role::Official)
    }

    /// Roles that maintain shared dictionaries (volunteer skills): they apply to every
    /// region of the deployment.
    pub fn manages_dictionaries(self) -> bool {
        matches!(self, Role::Admin)
    }

    /// Roles that publish activities and run them (sign-ups, rosters, hour confirmation,
    /// certificates, insurance): the organization's own staff, and administrators.
    pub fn runs_activities(self) -> bool {
        matches!(self, Role::Admin | Role::OrgStaff)
    }

    /// Roles that see every activity and hour record of their region, and its figures.
    pub fn oversees_volunteering(self) -> bool {
        matches!(self, Role::Admin | Role::Official | Role::SocialWorker)
    }

    /// Roles that keep the time bank and the love supermarkets (爱心超市) of their region:
    /// record direct relatives, open outlets, manage their goods, redeem at the counter.
    pub fn keeps_timebank(self) -> bool {
        matches!(self, Role::Admin | Role::Official | Role::SocialWorker)
    }

    /// Roles whose login may hold time coins and points of its own (the registry person
    /// behind the account): volunteers, and residents such as the elders they serve.
    pub fn holds_timebank_account(self) -> bool {
        matches!(self, Role::Volunteer | Role::Resident)
    }

    /// Civil-affairs supervision of volunteer service: the star-approval queue and
    /// spot-checks of hour records with their publication. Who approves a star is narrower
    /// still: an official at the level the settings name (`volunteering::stars`).
    pub fn supervises_volunteering(self) -> bool {
        matches!(self, Role::Admin | Role::Official)
    }

    /// Roles that approve or reject star levels (at their own level only).
    pub fn approves_stars(self) -> bool {
        matches!(self, Role::Official)
    }

    /// Roles whose work needs full personal data (unmasked ID numbers, phones) of the people
    /// in their scope; every such full view is audited.
    pub fn may_view_full_personal_data(self) -> bool {
        matches!(self, Role::Admin | Role::Official | Role::SocialWorker)
    }
}

/// Where a user may act: a division prefix (2, 4, 6, 9 or 12 digits; empty = everything) and
/// optionally one organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub division: String,
    pub organization_id: Option<i64>,
}

/// Whether `division_code` (12 digits, or a prefix of significant digits) lies within the
/// scope prefix `scope_division` (empty: the whole deployment). The one test of a region
/// against a scope: every check that a user may see or act on a region comes here (through
/// [`Scope::covers_division`] or the web layer's `CurrentUser::covers`), so a change to what
/// a scope means changes everywhere at once.
pub fn in_scope(scope_division: &str, division_code: &str) -> bool {
    division_code.starts_with(scope_division)
}

impl Scope {
    pub fn national() -> Scope {
        Scope { division: String::new(), organization_id: None }
    }

    pub fn region(prefix: impl Into<String>) -> Scope {
        Scope { division: prefix.into(), organization_id: None }
    }

    /// Does a record in `division_code` (any length, typically 12 digits) fall in this scope?
    pub fn covers_division(&self, division_code: &str) -> bool {
        in_scope(&self.division, division_code)
    }

    /// Is `other` the same as or narrower than this scope?
    pub fn contains(&self, other: &Scope) -> bool {
        if !self.covers_division(&other.division) {
            return false;
        }
        match self.organization_id {
            None => true,
            Some(org) => other.organization_id == Some(org),
        }
    }

    /// Inclusive range of 12-digit codes under this scope, for index range scans.
    pub fn division_range(&self) -> (String, String) {
        division_range(&self.division)
    }
}

/// Inclusive range of 12-digit codes that start with `prefix`.
pub fn division_range(prefix: &str) -> (String, String) {
    let mut lo = prefix.to_string();
    let mut hi = prefix.to_string();
    while lo.len() < 12 {
        lo.push('0');
        hi.push('9');
    }
    (lo, hi)
}

/// Why an account change was refused; messages are shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    #[error("您的角色无权管理用户")]
    NotAManager,
    #[error("不能授予高于自己的角色（{0}）")]
    RoleAboveOwn(&'static str),
    #[error("不能授予超出自己管辖范围的区域")]
    ScopeOutsideOwn,
    #[error("组织工作人员必须指定所属组织")]
    OrgRequired,
}

/// The one rule for creating or changing an account: the actor must manage users, may not
/// grant a role above their own, and may not grant a scope wider than their own.
pub fn check_grant(actor_role: Role, actor_scope: &Scope, role: Role, scope: &Scope) -> Result<(), GrantError> {
    if !actor_role.manages_users() {
        return Err(GrantError::NotAManager);
    }
    if role.rank() > actor_role.rank() {
        return Err(GrantError::RoleAboveOwn(role.label()));
    }
    if !actor_scope.contains(scope) {
        return Err(GrantError::ScopeOutsideOwn);
    }
    if role == Role::OrgStaff && scope.organization_id.is_none() {
        return Err(GrantError::OrgRequired);
    }
    Ok(())
}

/// Password rule: at least 8 characters with letters and digits.
pub fn check_password_strength(pw: &str) -> Result<(), &'static str> {
    let n = pw.chars().count();
    if n < 8 {
        return Err("密码至少 8 位");
    }
    if n > 128 {
        return Err("密码不能超过 128 位");
    }
    if !pw.chars().any(|c| c.is_ascii_alphabetic()) || !pw.chars().any(|c| c.is_ascii_digit()) {
        return Err("密码须同时包含字母和数字");
    }
    Ok(())
}

/// Usernames: 3–32 of lower-case letters, digits, `_`, `.`, `-`; input is lower-cased.
pub fn normalize_username(input: &str) -> Result<String, &'static str> {
    let u = input.trim().to_ascii_lowercase();
    let n = u.chars().count();
    if !(3..=32).contains(&n) {
        return Err("用户名长度应为 3–32 位");
    }
    if !u.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-')) {
        return Err("用户名只能包含小写字母、数字、下划线、点和连字符");
    }
    Ok(u)
}

/// Failed logins before an account is locked, and how long it stays locked.
pub const MAX_FAILED_LOGINS: i32 = 5;
pub const LOCK_MINUTES: i64 = 15;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn county_official_scope() {
        let s = Scope::region("420106");
        assert!(s.covers_division("420106001001"));
        assert!(!s.covers_division("420111001001"));
        assert!(Scope::national().covers_division("110101000000"));
    }

    #[test]
    fn grant_rules() {
        let prov = Scope::region("42");
        let county = Scope::region("420106");
        assert_eq!(check_grant(Role::Official, &county, Role::Official, &Scope::region("420106001")), Ok(()));
        assert_eq!(check_grant(Role::Official, &county, Role::Official, &prov), Err(GrantError::ScopeOutsideOwn));
        assert_eq!(
            check_grant(Role::Official, &county, Role::Official, &Scope::region("420111")),
            Err(GrantError::ScopeOutsideOwn)
        );
        assert_eq!(
            check_grant(Role::Official, &prov, Role::Admin, &county),
            Err(GrantError::RoleAboveOwn("系统管理员"))
        );
        assert_eq!(check_grant(Role::SocialWorker, &county, Role::Volunteer, &county), Err(GrantError::NotAManager));
        assert_eq!(check_grant(Role::Official, &county, Role::OrgStaff, &county), Err(GrantError::OrgRequired));
        let org_scope = Scope { division: "420106".into(), organization_id: Some(3) };
        assert_eq!(check_grant(Role::Official, &county, Role::OrgStaff, &org_scope), Ok(()));
        // an organization-bound scope cannot grant a scope without the organization
        assert!(!org_scope.contains(&county));
    }

    #[test]
    fn time_bank_roles() {
        // station staff and officials keep outlets and relatives; organization staff only
        // record services for their own people; holders are the people themselves
        assert!(Role::SocialWorker.keeps_timebank() && Role::Official.keeps_timebank());
        assert!(!Role::OrgStaff.keeps_timebank() && !Role::Volunteer.keeps_timebank());
        assert!(Role::Volunteer.holds_timebank_account() && Role::Resident.holds_timebank_account());
        assert!(!Role::SocialWorker.holds_timebank_account() && !Role::Admin.holds_timebank_account());
    }

    #[test]
    fn ranges() {
        assert_eq!(division_range("42"), ("420000000000".into(), "429999999999".into()));
        assert_eq!(division_range(""), ("000000000000".into(), "999999999999".into()));
    }

    #[test]
    fn passwords_and_usernames() {
        assert!(check_password_strength("Wushe@2026").is_ok());
        assert!(check_password_strength("short1").is_err());
        assert!(check_password_strength("onlyletters").is_err());
        assert_eq!(normalize_username(" County2 "), Ok("county2".into()));
        assert!(normalize_username("张三").is_err());
    }
}

/// What a failed login does to the account: the new failure count and whether it is now
/// locked (for [`LOCK_MINUTES`]).
pub fn after_failed_login(failed_before: i32) -> (i32, bool) {
    let failed = failed_before.saturating_add(1);
    if failed >= MAX_FAILED_LOGINS {
        (0, true)
    } else {
        (failed, false)
    }
}

#[cfg(test)]
mod lockout_tests {
    use super::*;

    #[test]
    fn locks_on_fifth_failure_and_resets_counter() {
        let mut failed = 0;
        for _ in 0..MAX_FAILED_LOGINS - 1 {
            let (f, locked) = after_failed_login(failed);
            assert!(!locked);
            failed = f;
        }
        assert_eq!(after_failed_login(failed), (0, true));
    }
}
