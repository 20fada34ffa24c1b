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
