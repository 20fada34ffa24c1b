//! The volunteer skill dictionary, maintained by administrators: add a skill, rename its
//! label, reorder, deactivate or reactivate it. Keys are never deleted or renamed, since
//! volunteers hold them; every change is audited.

use serde::{Deserialize, Serialize};
use wushe_domain::registry::person::{self as rules, SkillDictionary, SkillEntry};
use wushe_store::accounts::audit::{self, Event};
use wushe_store::registry::skills;

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SkillView {
    pub key: String,
    pub label: String,
    pub sort_order: i64,
    /// Inactive skills are no longer offered; volunteers who hold one keep it.
    pub active: bool,
}

impl From<SkillEntry> for SkillView {
    fn from(e: SkillEntry) -> SkillView {
        SkillView { key: e.key, label: e.label, sort_order: e.sort_order, active: e.active }
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewSkillInput {
    /// Stable key: 2–32 lower-case letters, digits or `_`, starting with a letter.
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub key: String,
    /// Chinese label shown to people (at most 20 characters, no list separators).
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub label: String,
    /// Position in lists; default: after the last skill.
    #[serde(default)]
    pub sort_order: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct SkillPatch {
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub label: Option<String>,
    #[serde(default)]
    pub sort_order: Option<i64>,
    /// `false` retires the skill (it stays with the volunteers who hold it).
    #[serde(default)]
    pub active: Option<bool>,
}

/// Every skill, active or not, in display order (anyone signed in may read it).
pub async fn list(state: &AppState) -> Result<Vec<SkillView>, AppError> {
    Ok(skills::dictionary(&state.db).await?.entries().iter().cloned().map(Into::into).collect())
}

fn require_admin(user: &CurrentUser) -> Result<(), AppError> {
    user.require(user.role.manages_dictionaries())
}

fn label_rule(dict: &SkillDictionary, label: &str, except: Option<&str>) -> Result<String, AppError> {
    let label = rules::normalize_skill_label(label).map_err(|m| AppError::validation("名称", m))?;
    if let Some(e) = dict.clash(&label, except) {
        return Err(AppError::Conflict(format!("「{label}」已是技能「{}」（{}）的名称或代码", e.label, e.key)));
    }
    Ok(label)
}

fn sort_rule(n: i64) -> Result<i64, AppError> {
    if (0..=1_000_000).contains(&n) {
        Ok(n)
    } else {
        Err(AppError::validation("排序", "应为 0–1000000 之间的整数"))
    }
}

async fn audit_change(
    tx: &mut wushe_store::Tx,
    user: &CurrentUser,
    meta: &RequestMeta,
    action: &str,
    key: &str,
    summary: serde_json::Value,
) -> Result<(), AppError> {
    audit::append(
        tx,
        &meta.actor(Some(user)),
        &Event {
            action,
            entity: "skill",
            entity_id: Some(key.to_string()),
            division_code: "",
            organization_id: None,
            summary,
        },
    )
    .await?;
    Ok(())
}

/// Add a skill (administrators).
pub async fn create(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    input: &NewSkillInput,
) -> Result<SkillView, AppError> {
    require_admin(user)?;
    let key = rules::normalize_skill_key(&input.key).map_err(|m| AppError::validation("代码", m))?;
    let mut tx = state.db.begin().await?;
    let dict = skills::dictionary_tx(&mut tx).await?;
    if let Some(e) = dict.clash(&key, None) {
        return Err(AppError::Conflict(format!("代码「{key}」已被技能「{}」使用", e.label)));
    }
    let label = label_rule(&dict, &input.label, None)?;
    let sort_order = match input.sort_order {
        Some(n) => sort_rule(n)?,
        None => dict.entries().iter().map(|e| e.sort_order).max().unwrap_or(0) + 10,
    };
    let entry = SkillEntry { key: key.clone(), label, sort_order, active: true };
    skills::insert(&mut tx, &entry).await?;
    audit_change(&mut tx, user, meta, "create", &key, serde_json::json!({"after": &entry})).await?;
    tx.commit().await?;
    Ok(entry.into())
}

/// Rename, reorder, deactivate or reactivate a skill (administrators).
pub async fn update(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    key: &str,
    patch: &SkillPatch,
) -> Result<SkillView, AppError> {
    require_admin(user)?;
    let mut tx = state.db.begin().await?;
    let dict = skills::dictionary_tx(&mut tx).await?;
    let before = dict
        .entries()
        .iter()
        .find(|e| e.key == key)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("技能「{key}」不存在")))?;
    let mut after = before.clone();
    if let Some(l) = &patch.label {
        after.label = label_rule(&dict, l, Some(key))?;
    }
    if let Some(n) = patch.sort_order {
        after.sort_order = sort_rule(n)?;
    }
    if let Some(a) = patch.active {
        after.active = a;
    }
    if after != before {
        skills::update(&mut tx, &after).await?;
        audit_change(&mut tx, user, meta, "update", key, serde_json::json!({"before": &before, "after": &after}))
            .await?;
        tx.commit().await?;
    }
    Ok(after.into())
}
