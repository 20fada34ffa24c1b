use chrono::Duration;
use serde::Deserialize;
use wushe_domain::accounts::{self as rules, Role, Scope};
use wushe_store::accounts::audit::{self, Event};
use wushe_store::accounts::users::{self, NewUser, UserRow};
use wushe_store::accounts::{password, sessions, tokens};
use wushe_store::regions;
use wushe_store::registry::organizations as orgs;

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::state::AppState;

async fn hash_password(pw: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || password::hash(&pw)).await.map_err(AppError::internal)
}

async fn verify_password(pw: String, stored: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || password::verify(&pw, &stored)).await.map_err(AppError::internal)
}

fn user_event<'a>(action: &'a str, u: &'a UserRow, summary: serde_json::Value) -> Event<'a> {
    Event {
        action,
        entity: "user",
        entity_id: Some(u.id.to_string()),
        division_code: &u.scope_division,
        organization_id: u.organization_id,
        summary,
    }
}

/// Check a username and password; count failures and lock after too many.
pub async fn login(state: &AppState, meta: &RequestMeta, username: &str, pw: &str) -> Result<UserRow, AppError> {
    let bad = || AppError::BadRequest("用户名或密码错误".into());
    let Ok(username) = rules::normalize_username(username) else {
        verify_password(pw.to_string(), password::dummy_hash().to_string()).await?;
        return Err(bad());
    };
    let Some(user) = users::find_for_login(&state.db, &username).await? else {
        verify_password(pw.to_string(), password::dummy_hash().to_string()).await?;
        return Err(bad());
    };
    let now = wushe_store::time::now();
    if let Some(until) = user.locked_until.filter(|t| *t > now) {
        let minutes = ((until - now).num_seconds() + 59) / 60;
        return Err(AppError::Locked(format!(
            "密码错误次数过多，账户已锁定，请在 {minutes} 分钟后再试或联系管理员解锁"
        )));
    }
    let right = verify_password(pw.to_string(), user.password_hash.clone()).await?;
    // Only the right password learns that the account is disabled: a wrong one gets the
    // answer an unknown username gets, so the refusal tells nobody which accounts exist.
    if !user.active {
        return Err(if right { AppError::Forbidden("账户已停用，请联系管理员".into()) } else { bad() });
    }
    if !right {
        let (failed, locked) = rules::after_failed_login(user.failed_logins);
        let until = locked.then(|| now + Duration::minutes(rules::LOCK_MINUTES));
        users::record_login_failure(&state.db, user.id, failed, until).await?;
        if locked {
            let actor = meta.actor(None);
            audit::append_now(
                &state.db,
                &actor,
                &user_event("lock", &user, serde_json::json!({"reason": "连续登录失败"})),
            )
            .await?;
            return Err(AppError::Locked(format!(
                "密码连续错误 {} 次，账户已锁定 {} 分钟",
                rules::MAX_FAILED_LOGINS,
                rules::LOCK_MINUTES
            )));
        }
        let left = rules::MAX_FAILED_LOGINS - failed;
        return Err(AppError::BadRequest(format!("用户名或密码错误（再错 {left} 次将锁定账户）")));
    }
    let mut tx = state.db.begin().await?;
    users::record_login_success(&mut tx, user.id).await?;
    let actor = audit::Actor {
        user_id: Some(user.id),
        username: Some(user.username.clone()),
        role: Some(user.role.clone()),
        ..meta.actor(None)
    };
    audit::append(&mut tx, &actor, &user_event("login", &user, serde_json::json!({}))).await?;
    tx.commit().await?;
    Ok(user)
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewUserInput {
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub username: String,
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub display_name: String,
    pub password: String,
    /// admin | official | social_worker | org_staff | volunteer | resident
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub role: String,
    /// Division code of the scope (2/4/6/9/12 digits); empty = the whole deployment.
    #[serde(deserialize_with = "crate::text::label::one", default)]
    #[schema(max_length = 50)]
    pub scope_division: String,
    #[serde(default)]
    pub organization_id: Option<i64>,
}

/// Create an account inside the actor's scope, never above the actor's role.
pub async fn create_user(
    state: &AppState,
    actor: &CurrentUser,
    meta: &RequestMeta,
    input: NewUserInput,
) -> Result<UserRow, AppError> {
    actor.require(actor.role.manages_users())?;
    let username = rules::normalize_username(&input.username).map_err(|m| AppError::validation("用户名", m))?;
    let display_name = input.display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > 50 {
        return Err(AppError::validation("姓名", "不能为空，且不超过 50 个字符"));
    }
    rules::check_password_strength(&input.password).map_err(|m| AppError::validation("初始密码", m))?;
    let role =
        Role::parse(&input.role).ok_or_else(|| AppError::validation("角色", format!("未知角色「{}」", input.role)))?;
    let scope_division = if input.scope_division.trim().is_empty() {
        String::new()
    } else {
        let code = crate::service::regions::parse_code("管辖区域", &input.scope_division)?;
        if !regions::exists(&state.db, &code).await? {
            return Err(AppError::validation("管辖区域", format!("区划代码 {} 不存在", code.prefix())));
        }
        code.prefix().to_string()
    };
    let scope = Scope { division: scope_division, organization_id: input.organization_id };
    rules::check_grant(actor.role, &actor.scope(), role, &scope).map_err(|e| AppError::Forbidden(e.to_string()))?;
    if let Some(org_id) = scope.organization_id {
        let org = orgs::get_organization(&state.db, &actor.scope(), org_id)
            .await
            .map_err(|_| AppError::validation("所属组织", "组织不存在或不在您的管辖范围内"))?;
        if !scope.covers_division(&org.division_code) {
            return Err(AppError::validation("所属组织", "组织所在区域不在该账户的管辖区域内"));
        }
    }
    let hash = hash_password(input.password.clone()).await?;
    let mut tx = state.db.begin().await?;
    let id = users::create(
        &mut tx,
        &NewUser {
            username: &username,
            display_name,
            password_hash: &hash,
            role,
            scope: &scope,
            created_by: Some(actor.id),
        },
    )
    .await?;
    let summary = serde_json::json!({"after": {"username": username, "display_name": display_name, "role": role.as_str(),
        "scope_division": scope.division, "organization_id": scope.organization_id}});
    audit::append(
        &mut tx,
        &meta.actor(Some(actor)),
        &Event {
            action: "create",
            entity: "user",
            entity_id: Some(id.to_string()),
            division_code: &scope.division,
            organization_id: scope.organization_id,
            summary,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(users::get(&state.db, &actor.scope(), id).await?)
}

pub async fn change_password(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    old: &str,
    new: &str,
) -> Result<(), AppError> {
    let row = users::find_by_id_unscoped(&state.db, user.id).await?.ok_or(AppError::Unauthenticated)?;
    if !verify_password(old.to_string(), row.password_hash.clone()).await? {
        return Err(AppError::validation("原密码", "原密码不正确"));
    }
    rules::check_password_strength(new).map_err(|m| AppError::validation("新密码", m))?;
    if old == new {
        return Err(AppError::validation("新密码", "新密码不能与原密码相同"));
    }
    let hash = hash_password(new.to_string()).await?;
    let mut tx = state.db.begin().await?;
    users::set_password(&mut tx, user.id, &hash).await?;
    audit::append(&mut tx, &meta.actor(Some(user)), &user_event("change_password", &row, serde_json::json!({})))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Enable or disable an account in scope (enabling also lifts a lock). Disabling ends its
/// sessions at once.
pub async fn set_active(
    state: &AppState,
    actor: &CurrentUser,
    meta: &RequestMeta,
    id: i64,
    active: bool,
) -> Result<UserRow, AppError> {
    actor.require(actor.role.manages_users())?;
    let target = users::get(&state.db, &actor.scope(), id).await?;
    if target.id == actor.id {
        return Err(AppError::BadRequest("不能停用或解锁自己的账户".into()));
    }
    rules::check_grant(actor.role, &actor.scope(), target.role(), &target.scope())
        .map_err(|e| AppError::Forbidden(e.to_string()))?;
    let mut tx = state.db.begin().await?;
    users::set_active(&mut tx, id, active).await?;
    let summary = serde_json::json!({"before": {"active": target.active, "locked_until": target.locked_until},
        "after": {"active": active, "locked_until": null}});
    audit::append(
        &mut tx,
        &meta.actor(Some(actor)),
        &user_event(if active { "enable" } else { "disable" }, &target, summary),
    )
    .await?;
    tx.commit().await?;
    if !active {
        sessions::delete_for_user(&state.db, id).await?;
    }
    Ok(users::get(&state.db, &actor.scope(), id).await?)
}

pub async fn create_token(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    name: &str,
) -> Result<(i64, String), AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 50 {
        return Err(AppError::validation("令牌名称", "不能为空，且不超过 50 个字符"));
    }
    let mut tx = state.db.begin().await?;
    let (id, secret) = tokens::create(&mut tx, user.id, name, None).await?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "create",
            entity: "api_token",
            entity_id: Some(id.to_string()),
            division_code: &user.scope_division,
            organization_id: user.organization_id,
            summary: serde_json::json!({"after": {"name": name}}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((id, secret))
}

pub async fn revoke_token(state: &AppState, user: &CurrentUser, meta: &RequestMeta, id: i64) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    tokens::revoke(&mut tx, user.id, id).await.map_err(|e| match e {
        wushe_store::StoreError::NotFound => AppError::NotFound("令牌不存在或已撤销".into()),
        e => e.into(),
    })?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "revoke",
            entity: "api_token",
            entity_id: Some(id.to_string()),
            division_code: &user.scope_division,
            organization_id: user.organization_id,
            summary: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
