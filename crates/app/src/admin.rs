//! `wushe admin`: the way into a fresh deployment (the first system administrator) and back
//! into a locked-out one (a new password), from the terminal of the machine it runs on.
//!
//! Passwords never come from the command line: they are read from the terminal without echo
//! (asked twice) or, when standard input is not a terminal, as one line from it, so scripts
//! can pipe them in. They are checked by the same rule as the UI and hashed as the UI does.

use std::io::{BufRead, IsTerminal};

use anyhow::Context;
use clap::Subcommand;
use wushe_domain::accounts::{self as rules, Role, Scope};
use wushe_store::accounts::audit::{self, Actor, Event};
use wushe_store::accounts::{password, users};
use wushe_store::Db;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create a system administrator for the whole deployment (the first one, or another
    /// with --another). The password is read from the terminal, or one line from stdin.
    Create {
        /// Login name: 3–32 lower-case letters, digits, `_`, `.`, `-`.
        #[arg(long)]
        username: String,
        /// Name shown in the UI and the audit log.
        #[arg(long, default_value = "系统管理员")]
        display_name: String,
        /// Create it even though an active system administrator exists.
        #[arg(long)]
        another: bool,
    },
    /// Set a new password for an account (read like `create`'s), lifting a lock after failed
    /// logins.
    ResetPassword {
        /// The account's username.
        username: String,
    },
}

/// Who the audit log names for these commands: no user, the command line, and the operating
/// system account that ran it (in the entry's summary).
fn actor() -> Actor {
    Actor { username: Some("cli".into()), role: Some("system".into()), ..Default::default() }
}

fn os_user() -> String {
    std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_default()
}

pub async fn run(db: &Db, command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::Create { username, display_name, another } => create(db, &username, &display_name, another).await,
        AdminCommand::ResetPassword { username } => reset_password(db, &username).await,
    }
}

/// The web form's rule for a display name (`service::accounts::create_user`: not empty, at
/// most 50 characters) under the text policy every request field passes (trimmed, no control
/// characters: no terminal escapes into the UI or the audit log).
fn check_display_name(name: &str) -> anyhow::Result<String> {
    let name = wushe_domain::text::clean(name, 50, false).map_err(|e| anyhow::anyhow!("姓名{e}"))?;
    if name.is_empty() {
        anyhow::bail!("姓名不能为空");
    }
    Ok(name)
}

async fn create(db: &Db, username: &str, display_name: &str, another: bool) -> anyhow::Result<()> {
    let username = rules::normalize_username(username).map_err(|m| anyhow::anyhow!("用户名无效：{m}"))?;
    let display_name = check_display_name(display_name)?;
    let display_name = display_name.as_str();
    let refuse_existing = || async {
        let n = users::count_active_admins(db).await?;
        if n > 0 && !another {
            anyhow::bail!(
                "已有 {n} 个在用的系统管理员账户，没有再建。确需再建一个请加 --another；\
                 忘记密码请用 wushe admin reset-password 用户名"
            );
        }
        Ok(())
    };
    refuse_existing().await?;
    if users::find_for_login(db, &username).await?.is_some() {
        anyhow::bail!("用户名「{username}」已存在");
    }
    let pw = read_new_password().await?;
    let hash = tokio::task::spawn_blocking(move || password::hash(&pw)).await?;
    // Asked again just before writing: the password may have taken a while to type.
    refuse_existing().await?;
    let scope = Scope::national();
    let mut tx = db.begin().await?;
    let id = users::create(
        &mut tx,
        &users::NewUser {
            username: &username,
            display_name,
            password_hash: &hash,
            role: Role::Admin,
            scope: &scope,
            created_by: None,
        },
    )
    .await?;
    let summary = serde_json::json!({
        "after": {"username": username, "display_name": display_name, "role": Role::Admin.as_str(),
            "scope_division": scope.division, "organization_id": scope.organization_id},
        "via": "wushe admin create",
        "os_user": os_user(),
    });
    audit::append(
        &mut tx,
        &actor(),
        &Event {
            action: "create",
            entity: "user",
            entity_id: Some(id.to_string()),
            division_code: &scope.division,
            organization_id: None,
            summary,
        },
    )
    .await?;
    tx.commit().await?;
    println!("已创建系统管理员「{username}」（{display_name}，管辖范围：全部区域），已记入审计日志");
    Ok(())
}

async fn reset_password(db: &Db, username: &str) -> anyhow::Result<()> {
    let unknown = || anyhow::anyhow!("用户「{}」不存在", username.trim());
    let name = rules::normalize_username(username).map_err(|_| unknown())?;
    let user = users::find_for_login(db, &name).await?.ok_or_else(unknown)?;
    let pw = read_new_password().await?;
    let (stored, again) = (user.password_hash.clone(), pw.clone());
    if tokio::task::spawn_blocking(move || password::verify(&again, &stored)).await? {
        anyhow::bail!("新密码不能与原密码相同");
    }
    let hash = tokio::task::spawn_blocking(move || password::hash(&pw)).await?;
    let mut tx = db.begin().await?;
    // Also clears the failed-login count and any lock.
    users::set_password(&mut tx, user.id, &hash).await?;
    let summary = serde_json::json!({
        "before": {"failed_logins": user.failed_logins, "locked_until": user.locked_until},
        "after": {"failed_logins": 0, "locked_until": null},
        "via": "wushe admin reset-password",
        "os_user": os_user(),
    });
    audit::append(
        &mut tx,
        &actor(),
        &Event {
            action: "reset_password",
            entity: "user",
            entity_id: Some(user.id.to_string()),
            division_code: &user.scope_division,
            organization_id: user.organization_id,
            summary,
        },
    )
    .await?;
    tx.commit().await?;
    // A reset recovers an account someone else may be using: its sessions end, as after a
    // password change in the UI.
    let ended = wushe_store::accounts::sessions::delete_for_user(db, user.id).await?;
    println!(
        "已重设「{}」（{}）的密码，并解除登录锁定，结束了 {ended} 个登录会话，已记入审计日志",
        user.username,
        user.role().label()
    );
    if !user.active {
        println!("注意：该账户已停用，重设密码不会启用它；可由其他管理员在界面上启用，或用 wushe admin create --another 另建管理员");
    }
    Ok(())
}

/// A new password that passes the UI's rule: from the terminal without echo, typed twice,
/// when standard input is a terminal; otherwise the first line of standard input.
async fn read_new_password() -> anyhow::Result<String> {
    let pw = tokio::task::spawn_blocking(|| -> anyhow::Result<String> {
        if std::io::stdin().is_terminal() {
            let pw =
                rpassword::prompt_password("新密码（至少 8 位，须含字母和数字）：").context("无法从终端读取密码")?;
            rules::check_password_strength(&pw).map_err(|m| anyhow::anyhow!("密码不符合要求：{m}"))?;
            let again = rpassword::prompt_password("再输入一次：").context("无法从终端读取密码")?;
            if again != pw {
                anyhow::bail!("两次输入的密码不一致");
            }
            Ok(pw)
        } else {
            let mut line = String::new();
            let n = std::io::stdin().lock().read_line(&mut line).context("无法从标准输入读取密码")?;
            if n == 0 {
                anyhow::bail!("没有读到密码：请在终端中运行，或从标准输入送入一行密码");
            }
            Ok(line.trim_end_matches(['\n', '\r']).to_string())
        }
    })
    .await??;
    rules::check_password_strength(&pw).map_err(|m| anyhow::anyhow!("密码不符合要求：{m}"))?;
    Ok(pw)
}
