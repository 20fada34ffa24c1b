//! The demo data set: Hubei (42), the province of the first seed policy. Accounts for every
//! role, all with the documented demo password.

use anyhow::Context;
use wushe_domain::accounts::{Role, Scope};
use wushe_domain::codes::credit_code;
use wushe_store::accounts::audit::{self, Actor, Event};
use wushe_store::accounts::{password, users};
use wushe_store::{on_db, on_tx, registry, Db};

pub const DEMO_PASSWORD: &str = "Wushe@2026";
const SEEDED_KEY: &str = "demo_seeded";

pub struct DemoAccount {
    pub username: &'static str,
    pub display_name: &'static str,
    pub role: Role,
    pub scope: &'static str,
    pub org: bool,
    pub note: &'static str,
}

pub const ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        username: "admin",
        display_name: "系统管理员",
        role: Role::Admin,
        scope: "",
        org: false,
        note: "全部区域",
    },
    DemoAccount {
        username: "province",
        display_name: "省民政厅 李明",
        role: Role::Official,
        scope: "42",
        org: false,
        note: "湖北省",
    },
    DemoAccount {
        username: "county",
        display_name: "武昌区民政局 王芳",
        role: Role::Official,
        scope: "420106",
        org: false,
        note: "武昌区",
    },
    DemoAccount {
        username: "county2",
        display_name: "洪山区民政局 张伟",
        role: Role::Official,
        scope: "420111",
        org: false,
        note: "洪山区",
    },
    DemoAccount {
        username: "station",
        display_name: "积玉桥街道社工站 陈静",
        role: Role::SocialWorker,
        scope: "420106001",
        org: false,
        note: "武昌区积玉桥街道社工站",
    },
    DemoAccount {
        username: "org",
        display_name: "心连心社工中心 刘洋",
        role: Role::OrgStaff,
        scope: "420106",
        org: true,
        note: "武昌区心连心社会工作服务中心",
    },
    DemoAccount {
        username: "volunteer",
        display_name: "志愿者 赵磊",
        role: Role::Volunteer,
        scope: "420106001",
        org: false,
        note: "积玉桥街道",
    },
    DemoAccount {
        username: "resident",
        display_name: "居民 孙丽",
        role: Role::Resident,
        scope: "420106001",
        org: false,
        note: "积玉桥街道",
    },
];

/// A valid unified social credit code for a civil-affairs-registered organization
/// (5 = civil affairs, 2 = social-service organization) in `division6`.
pub fn demo_credit_code(division6: &str, serial: u32) -> String {
    let body8 = format!("MA{serial:06}");
    let org_check = credit_code::org_code_check_char(&body8).expect("valid org code body");
    let first17 = format!("52{division6}{body8}{org_check}");
    let check = credit_code::check_char(&first17).expect("valid credit code body");
    format!("{first17}{check}")
}

pub async fn is_seeded(db: &Db) -> anyhow::Result<bool> {
    let row: Option<(String,)> = on_db!(db, |c| sqlx::query_as("SELECT value FROM meta WHERE key = $1")
        .bind(SEEDED_KEY)
        .fetch_optional(c)
        .await)?;
    Ok(row.is_some())
}

pub async fn seed(db: &Db) -> anyhow::Result<()> {
    if is_seeded(db).await? {
        return Ok(());
    }
    let hash = tokio::task::spawn_blocking(|| password::hash(DEMO_PASSWORD)).await?;
    let actor = Actor { username: Some("demo".into()), role: Some("system".into()), ..Default::default() };
    let mut tx = db.begin().await?;
    let code = demo_credit_code("420106", 1);
    let org_id = registry::create_organization(
        &mut tx,
        &registry::NewOrganization {
            name: "武昌区心连心社会工作服务中心",
            credit_code: Some(&code),
            org_type: "social_work_agency",
            division_code: "420106000000",
        },
    )
    .await
    .context("创建演示组织失败")?;
    audit::append(
        &mut tx,
        &actor,
        &Event {
            action: "create",
            entity: "organization",
            entity_id: Some(org_id.to_string()),
            division_code: "420106000000",
            organization_id: Some(org_id),
            summary: serde_json::json!({"after": {"name": "武昌区心连心社会工作服务中心", "credit_code": code}}),
        },
    )
    .await?;
    for a in ACCOUNTS {
        let scope = Scope { division: a.scope.to_string(), organization_id: a.org.then_some(org_id) };
        let id = users::create(
            &mut tx,
            &users::NewUser {
                username: a.username,
                display_name: a.display_name,
                password_hash: &hash,
                role: a.role,
                scope: &scope,
                created_by: None,
            },
        )
        .await?;
        audit::append(
            &mut tx,
            &actor,
            &Event {
                action: "create",
                entity: "user",
                entity_id: Some(id.to_string()),
                division_code: a.scope,
                organization_id: scope.organization_id,
                summary: serde_json::json!({"after": {"username": a.username, "role": a.role.as_str(), "scope_division": a.scope}}),
            },
        )
        .await?;
    }
    on_tx!(&mut tx, |c| sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2)")
        .bind(SEEDED_KEY)
        .bind(wushe_store::time::now().to_rfc3339())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(())
}

pub fn print_accounts(url: &str) {
    println!();
    println!("五社联动服务平台（演示）已启动：{url}");
    println!("演示账户（密码均为 {DEMO_PASSWORD}，仅供演示）：");
    for a in ACCOUNTS {
        println!("  {:<10} {:<18} {}", a.username, a.role.label(), a.note);
    }
    println!("API 文档：{url}/api/docs    按 Ctrl+C 停止");
    println!();
}
