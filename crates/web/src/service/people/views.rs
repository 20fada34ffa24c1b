//! A person in one role as lists and details show them: masked personal data and the
//! role's facts, labelled.

use chrono::NaiveDate;
use serde::Serialize;
use wushe_domain::codes::citizen_id::Gender;
use wushe_domain::codes::division::DivisionCode;
use wushe_domain::registry::person::{
    self as rules, BeneficiaryCategory, CredentialLevel, PersonRole, SkillDictionary,
};
use wushe_store::registry::people::PersonRow;

use crate::service::registry::today;

/// A person in one role as lists and details show them: masked personal data.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonView {
    pub id: i64,
    pub name: String,
    /// male | female (from the ID number)
    pub gender: String,
    pub gender_label: String,
    pub birth_date: NaiveDate,
    pub age: u32,
    /// Masked: 420106********123X
    pub citizen_id: String,
    /// Masked: 138****5678
    pub phone: Option<String>,
    /// Significant digits of the home region.
    pub division_code: String,
    pub region_name: Option<String>,
    pub address: Option<String>,
    pub registered_at: String,
    /// The day this role ended (e.g. a beneficiary no longer served); absent while it goes on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_on: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volunteer: Option<VolunteerFacts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub social_worker: Option<SocialWorkerFacts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beneficiary: Option<BeneficiaryFacts>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Labelled {
    pub key: String,
    pub label: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VolunteerFacts {
    /// 志愿者编号 (never the ID number).
    pub volunteer_number: String,
    pub skills: Vec<Labelled>,
    pub availability: Option<String>,
    pub guardian_name: Option<String>,
    /// Masked.
    pub guardian_phone: Option<String>,
    pub registered_on: Option<NaiveDate>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SocialWorkerFacts {
    pub credential_level: String,
    pub credential_label: String,
    pub certificate_number: Option<String>,
    pub registered_on: Option<NaiveDate>,
    /// Last day of the 3-year registration.
    pub valid_until: Option<NaiveDate>,
    pub registration_valid: bool,
    pub ce_hours: i64,
    /// 72 (助理社会工作师) or 90 hours per cycle.
    pub ce_required: u32,
    pub ce_met: bool,
    pub employer_org_id: Option<i64>,
    pub employer_name: Option<String>,
    pub station_code: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BeneficiaryFacts {
    pub categories: Vec<Labelled>,
    pub guardian_name: Option<String>,
    pub guardian_relation: Option<String>,
    /// Masked.
    pub guardian_phone: Option<String>,
    pub serving_org_id: Option<i64>,
    pub serving_org_name: Option<String>,
}

/// Keys stored comma-separated, with their labels (`label` maps a key to its label).
fn labelled<'a>(csv: Option<&'a str>, label: impl Fn(&'a str) -> Option<String>) -> Vec<Labelled> {
    csv.unwrap_or_default()
        .split(',')
        .filter(|k| !k.is_empty())
        .filter_map(|k| label(k).map(|l| Labelled { key: k.to_string(), label: l }))
        .collect()
}

impl PersonView {
    /// `skills` gives the labels of volunteers' skills (the dictionary administrators keep).
    pub fn from_row(
        r: PersonRow,
        role: PersonRole,
        region_name: Option<String>,
        skills: &SkillDictionary,
    ) -> PersonView {
        let today = today();
        let age = {
            let mut a = chrono::Datelike::year(&today) - chrono::Datelike::year(&r.birth_date);
            if (chrono::Datelike::month(&today), chrono::Datelike::day(&today))
                < (chrono::Datelike::month(&r.birth_date), chrono::Datelike::day(&r.birth_date))
            {
                a -= 1;
            }
            u32::try_from(a).unwrap_or(0)
        };
        let volunteer = (role == PersonRole::Volunteer).then(|| VolunteerFacts {
            volunteer_number: r.volunteer_number.clone().unwrap_or_default(),
            skills: labelled(r.skills.as_deref(), |k| Some(skills.label(k).to_string())),
            availability: r.availability.clone(),
            guardian_name: r.guardian_name.clone(),
            guardian_phone: r.guardian_phone_masked.clone(),
            registered_on: r.registered_on,
            latitude: r.latitude_e6.map(|v| v as f64 / 1e6),
            longitude: r.longitude_e6.map(|v| v as f64 / 1e6),
        });
        let social_worker = (role == PersonRole::SocialWorker).then(|| {
            let level =
                r.credential_level.as_deref().and_then(CredentialLevel::parse).unwrap_or(CredentialLevel::Assistant);
            let hours = r.ce_hours.unwrap_or(0);
            let (required, met) = rules::ce_status(level, u32::try_from(hours).unwrap_or(0));
            let valid_until = r.registered_on.map(rules::registration_valid_until);
            SocialWorkerFacts {
                credential_level: level.as_str().to_string(),
                credential_label: level.label().to_string(),
                certificate_number: r.certificate_number.clone(),
                registered_on: r.registered_on,
                registration_valid: valid_until.is_some_and(|v| v >= today),
                valid_until,
                ce_hours: hours,
                ce_required: required,
                ce_met: met,
                employer_org_id: r.employer_org_id,
                employer_name: r.employer_name.clone(),
                station_code: r
                    .station_code
                    .as_deref()
                    .and_then(|c| DivisionCode::parse(c).ok())
                    .map(|c| c.prefix().to_string()),
            }
        });
        let beneficiary = (role == PersonRole::Beneficiary).then(|| BeneficiaryFacts {
            categories: labelled(r.categories.as_deref(), |k| {
                BeneficiaryCategory::parse(k).map(|c| c.label().to_string())
            }),
            guardian_name: r.guardian_name.clone(),
            guardian_relation: r.guardian_relation.clone(),
            guardian_phone: r.guardian_phone_masked.clone(),
            serving_org_id: r.serving_org_id,
            serving_org_name: r.serving_org_name.clone(),
        });
        let gender_label = if r.gender == "male" { Gender::Male.label() } else { Gender::Female.label() };
        PersonView {
            id: r.id,
            name: r.name,
            gender_label: gender_label.to_string(),
            gender: r.gender,
            birth_date: r.birth_date,
            age,
            citizen_id: r.id_masked,
            phone: r.phone_masked,
            division_code: DivisionCode::parse(&r.division_code)
                .map(|c| c.prefix().to_string())
                .unwrap_or(r.division_code),
            region_name,
            address: r.address,
            registered_at: wushe_domain::time::format_local(r.created_at, "%Y-%m-%d %H:%M"),
            ended_on: r.ended_on,
            end_reason: r.end_reason,
            volunteer,
            social_worker,
            beneficiary,
        }
    }
}
