//! Accounts: players, guests and admins.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, conflict_or_db};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub password_hash: Option<String>,
    pub guest: bool,
    pub role: String,
    pub created_at: i64,
    pub banned_until: Option<i64>,
    pub ban_reason: Option<String>,
}

impl Account {
    /// Whether a ban is in force at `now` (ms).
    pub fn banned_at(&self, now: i64) -> bool {
        self.banned_until.is_some_and(|until| until > now)
    }
}

pub struct NewAccount<'a> {
    pub id: i64,
    pub username: &'a str,
    pub password_hash: Option<&'a str>,
    pub device_id: Option<&'a str>,
    pub guest: bool,
    pub role: &'a str,
    pub created_at: i64,
}

const COLUMNS: &str =
    "id, username, password_hash, guest, role, created_at, banned_until, ban_reason";

fn from_row(row: &AnyRow) -> Result<Account, sqlx::Error> {
    Ok(Account {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        password_hash: row.try_get("password_hash")?,
        guest: row.try_get::<i64, _>("guest")? != 0,
        role: row.try_get("role")?,
        created_at: row.try_get("created_at")?,
        banned_until: row.try_get("banned_until")?,
        ban_reason: row.try_get("ban_reason")?,
    })
}

impl Store {
    /// Inserts an account; a taken username or device id is a `Conflict`.
    pub async fn create_account(&self, new: NewAccount<'_>) -> Result<Account, StoreError> {
        let sql = format!(
            "INSERT INTO accounts (id, username, username_key, password_hash, device_id, guest, role, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(new.id)
            .bind(new.username)
            .bind(new.username.to_lowercase())
            .bind(new.password_hash)
            .bind(new.device_id)
            .bind(new.guest as i64)
            .bind(new.role)
            .bind(new.created_at)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| conflict_or_db(e, "username or device already registered"))?;
        Ok(from_row(&row)?)
    }

    pub async fn account_by_id(&self, id: i64) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM accounts WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }

    /// Looks a username up case-insensitively.
    pub async fn account_by_username(&self, username: &str) -> Result<Option<Account>, StoreError> {
        if !super::storable(username) {
            return Ok(None);
        }
        let sql = format!("SELECT {COLUMNS} FROM accounts WHERE username_key = $1");
        let row = sqlx::query(&sql)
            .bind(username.to_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }

    pub async fn account_by_device(&self, device_id: &str) -> Result<Option<Account>, StoreError> {
        if !super::storable(device_id) {
            return Ok(None);
        }
        let sql = format!("SELECT {COLUMNS} FROM accounts WHERE device_id = $1");
        let row = sqlx::query(&sql)
            .bind(device_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }

    /// Turns a guest into a full account with a username and password.
    pub async fn upgrade_guest(
        &self,
        id: i64,
        username: &str,
        password_hash: &str,
    ) -> Result<Option<Account>, StoreError> {
        let sql = format!(
            "UPDATE accounts SET username = $2, username_key = $3, password_hash = $4, guest = 0 \
             WHERE id = $1 AND guest = 1 RETURNING {COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(username)
            .bind(username.to_lowercase())
            .bind(password_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| conflict_or_db(e, "username already registered"))?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }
}
