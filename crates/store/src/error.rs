use thiserror::Error;

/// The one error type of the store layer.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("数据库配置错误：{0}")]
    Config(String),
    #[error("数据库错误：{0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("数据库迁移失败：{0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("记录不存在")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("数据完整性错误：{0}")]
    Integrity(String),
    #[error("加密模块错误：{0}")]
    Crypto(String),
    #[error("暂时无法写入：{0}")]
    Unavailable(String),
    #[error("读取数据文件失败：{0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// True when the database rejected a write because a unique key already exists.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Sqlx(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

/// Which kind of constraint the database enforced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ConstraintKind {
    #[default]
    ForeignKey,
    Unique,
    NotNull,
    Check,
}

/// A write the database refused by a constraint: the kind, and the column where the backend
/// names it (PostgreSQL names the constraint, `<table>_<column>_fkey` by default; SQLite
/// names nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violation {
    pub kind: ConstraintKind,
    pub column: Option<String>,
}

impl StoreError {
    /// The constraint this error is a refusal by, if it is one.
    pub fn violation(&self) -> Option<Violation> {
        use sqlx::error::ErrorKind;
        let StoreError::Sqlx(sqlx::Error::Database(db)) = self else { return None };
        let (kind, suffix) = match db.kind() {
            ErrorKind::ForeignKeyViolation => (ConstraintKind::ForeignKey, "_fkey"),
            ErrorKind::UniqueViolation => (ConstraintKind::Unique, "_key"),
            ErrorKind::NotNullViolation => (ConstraintKind::NotNull, ""),
            ErrorKind::CheckViolation => (ConstraintKind::Check, "_check"),
            _ => return None,
        };
        let column = db.constraint().map(|c| {
            let c = db.table().and_then(|t| c.strip_prefix(t)).and_then(|c| c.strip_prefix('_')).unwrap_or(c);
            c.strip_suffix(suffix).unwrap_or(c).to_string()
        });
        Some(Violation { kind, column })
    }
}
