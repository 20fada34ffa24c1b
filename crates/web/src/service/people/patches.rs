//! What an edit sends (JSON merge patch: absent = unchanged, `null` = cleared), per role,
//! and the checked [`Edit`] it becomes.

use serde::{Deserialize, Serialize};
use wushe_domain::registry::person::PersonRole;
use wushe_store::registry::people as store;

/// An optional field of a PATCH body: absent = unchanged, `null` = cleared (JSON merge
/// patch, RFC 7396).
fn patch<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Changes to the facts every role shares. Absent fields stay as they are, `null` clears
/// one. Name, citizen ID, gender and birth date cannot be changed: they come from the ID
/// number (a wrong ID number is a different person, to be registered anew).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct PersonPatch {
    /// 联系电话; volunteers and social workers must keep one.
    #[serde(default, deserialize_with = "crate::text::label::patch")]
    #[schema(max_length = 50, value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::text::line::patch")]
    #[schema(max_length = 200, value_type = Option<String>)]
    pub address: Option<Option<String>>,
    /// New home region: a current division code inside your scope, county level or below.
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub division_code: Option<String>,
    /// End this role on the given day (YYYY-MM-DD), e.g. a beneficiary no longer served;
    /// `null` resumes it. The record is kept.
    #[serde(default, deserialize_with = "crate::text::label::patch")]
    #[schema(max_length = 50, value_type = Option<String>)]
    pub ended_on: Option<Option<String>>,
    /// Why the role ended.
    #[serde(deserialize_with = "crate::text::note::opt", default)]
    #[schema(max_length = 2000)]
    pub end_reason: Option<String>,
    // Present only to refuse them with a clear message.
    #[serde(default)]
    #[schema(ignore)]
    pub name: Option<serde_json::Value>,
    #[serde(default)]
    #[schema(ignore)]
    pub citizen_id: Option<serde_json::Value>,
    #[serde(default)]
    #[schema(ignore)]
    pub gender: Option<serde_json::Value>,
    #[serde(default)]
    #[schema(ignore)]
    pub birth_date: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct VolunteerPatch {
    #[serde(flatten)]
    pub person: PersonPatch,
    /// The whole new list of skill keys or labels (active skills; those already held are kept
    /// even if retired since).
    #[serde(deserialize_with = "crate::text::label::opt_many", default)]
    pub skills: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::text::line::patch")]
    #[schema(max_length = 200, value_type = Option<String>)]
    pub availability: Option<Option<String>>,
    /// Latitude and longitude are given (or cleared with `null`) together.
    #[serde(default, deserialize_with = "patch")]
    #[schema(value_type = Option<f64>)]
    pub latitude: Option<Option<f64>>,
    #[serde(default, deserialize_with = "patch")]
    #[schema(value_type = Option<f64>)]
    pub longitude: Option<Option<f64>>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct SocialWorkerPatch {
    #[serde(flatten)]
    pub person: PersonPatch,
    /// assistant | intermediate | senior (or the Chinese label).
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub credential_level: Option<String>,
    #[serde(default, deserialize_with = "crate::text::label::patch")]
    #[schema(max_length = 50, value_type = Option<String>)]
    pub certificate_number: Option<Option<String>>,
    /// YYYY-MM-DD
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub registered_on: Option<String>,
    #[serde(default)]
    pub ce_hours: Option<i64>,
    /// Employer (organization staff cannot move a social worker to another organization).
    #[serde(default, deserialize_with = "patch")]
    #[schema(value_type = Option<i64>)]
    pub employer_org_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::text::label::patch")]
    #[schema(max_length = 50, value_type = Option<String>)]
    pub station_code: Option<Option<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct BeneficiaryPatch {
    #[serde(flatten)]
    pub person: PersonPatch,
    /// The whole new list of categories, at least one.
    #[serde(deserialize_with = "crate::text::label::opt_many", default)]
    pub categories: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::text::label::patch")]
    #[schema(max_length = 50, value_type = Option<String>)]
    pub guardian_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::text::label::patch")]
    #[schema(max_length = 50, value_type = Option<String>)]
    pub guardian_relation: Option<Option<String>>,
    /// Send only to change it (the current number is shown masked).
    #[serde(default, deserialize_with = "crate::text::label::patch")]
    #[schema(max_length = 50, value_type = Option<String>)]
    pub guardian_phone: Option<Option<String>>,
    /// Serving organization (organization staff cannot move a beneficiary to another one).
    #[serde(default, deserialize_with = "patch")]
    #[schema(value_type = Option<i64>)]
    pub serving_org_id: Option<Option<i64>>,
}

/// An edit of one person in one role.
#[derive(Debug, Clone)]
pub enum RolePatch {
    Volunteer(VolunteerPatch),
    SocialWorker(SocialWorkerPatch),
    Beneficiary(BeneficiaryPatch),
}

impl RolePatch {
    pub fn role(&self) -> PersonRole {
        match self {
            RolePatch::Volunteer(_) => PersonRole::Volunteer,
            RolePatch::SocialWorker(_) => PersonRole::SocialWorker,
            RolePatch::Beneficiary(_) => PersonRole::Beneficiary,
        }
    }

    pub(super) fn person(&self) -> &PersonPatch {
        match self {
            RolePatch::Volunteer(p) => &p.person,
            RolePatch::SocialWorker(p) => &p.person,
            RolePatch::Beneficiary(p) => &p.person,
        }
    }
}

/// A checked edit: what to write and, for the audit log, each changed field before and after
/// (phones masked).
#[derive(Debug, Clone, Default)]
pub struct Edit {
    pub person: store::PersonChanges,
    pub role: store::RoleChanges,
    pub changes: serde_json::Map<String, serde_json::Value>,
}

impl Edit {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub(super) fn note(&mut self, field: &str, before: impl Serialize, after: impl Serialize) {
        self.changes.insert(field.into(), serde_json::json!({"before": before, "after": after}));
    }
}
