//! What a registration sends for each role: the personal facts every role shares and the
//! facts of the role (the API's JSON bodies, the forms and the import's rows).

use serde::Deserialize;

/// Personal facts common to every role.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct PersonInput {
    /// 姓名 (2–30 characters; Chinese, Latin letters, `·`).
    #[serde(deserialize_with = "crate::text::line::one")]
    #[schema(max_length = 200)]
    pub name: String,
    /// 公民身份号码 (18 characters, check digit verified). Gender and birth date come from it.
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub citizen_id: String,
    /// 联系电话: mobile or landline with area code.
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub phone: Option<String>,
    /// Home region: a current division code, county level or below (down to village).
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub division_code: String,
    #[serde(deserialize_with = "crate::text::line::opt", default)]
    #[schema(max_length = 200)]
    pub address: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct VolunteerInput {
    #[serde(flatten)]
    pub person: PersonInput,
    /// Skill keys or labels from the dictionary (`GET /api/v1/dictionaries/skills`).
    #[serde(deserialize_with = "crate::text::label::many", default)]
    pub skills: Vec<String>,
    /// e.g. 周末上午, 工作日晚上.
    #[serde(deserialize_with = "crate::text::line::opt", default)]
    #[schema(max_length = 200)]
    pub availability: Option<String>,
    #[serde(default)]
    pub latitude: Option<f64>,
    #[serde(default)]
    pub longitude: Option<f64>,
    /// Required for minors (under 18): guardian's name, phone and date of consent.
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub guardian_name: Option<String>,
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub guardian_phone: Option<String>,
    /// YYYY-MM-DD
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub guardian_consent_on: Option<String>,
    /// Organization the volunteer joins (organization staff: always their own).
    #[serde(default)]
    pub organization_id: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct SocialWorkerInput {
    #[serde(flatten)]
    pub person: PersonInput,
    /// assistant | intermediate | senior (or 助理社会工作师 / 社会工作师 / 高级社会工作师).
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub credential_level: String,
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub certificate_number: Option<String>,
    /// Registration date (YYYY-MM-DD); valid for 3 years.
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub registered_on: String,
    /// Continuing-education hours in the current cycle.
    #[serde(default)]
    pub ce_hours: Option<i64>,
    /// Employer (organization staff: always their own).
    #[serde(default)]
    pub employer_org_id: Option<i64>,
    /// Township (街道/乡镇) code of the social-work station.
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub station_code: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct BeneficiaryInput {
    #[serde(flatten)]
    pub person: PersonInput,
    /// Category keys or labels, at least one (低保, 特困, 留守老人 …).
    #[serde(default, deserialize_with = "crate::text::label::many")]
    pub categories: Vec<String>,
    /// Required for minors.
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub guardian_name: Option<String>,
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub guardian_relation: Option<String>,
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub guardian_phone: Option<String>,
    /// Who consented to the processing of the data (the person, or the guardian of a minor).
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub consent_given_by: String,
    /// YYYY-MM-DD
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub consent_on: String,
    /// Serving organization (organization staff: always their own).
    #[serde(default)]
    pub serving_org_id: Option<i64>,
}
