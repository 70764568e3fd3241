//! `herald users`: manage dashboard users directly in the data directory (or, for a cluster,
//! in its PostgreSQL database), like `herald keys`; and the first user `serve` creates.

use std::io::Read;
use std::path::Path;

use chrono::Utc;
use clap::Subcommand;
use herald_api::auth::{generate_password, hash_password_blocking, valid_email, validate_password};
use herald_storage::postgres::PgState;
use herald_storage::sqlite::{SqliteOptions, SqliteStore};
use herald_storage::{DashboardUser, Role, UserChange, UserStore, UserUpdate};

#[derive(Subcommand)]
pub enum UsersAction {
    /// List dashboard users.
    List,
    /// Add a user. The password is read from standard input with `--password-stdin`, or
    /// generated and printed once.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = ["admin", "viewer"])]
        role: String,
        /// Read the password from standard input (its first line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password for a user (by email or id), as for `add`; their sessions end.
    ResetPassword {
        user: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove a user (by email or id); their sessions end. The last admin cannot be removed.
    Remove { user: String },
}

pub fn run(data_dir: &Path, database_url: Option<&str>, action: UsersAction) -> anyhow::Result<()> {
    let store: Box<dyn UserStore> = match database_url {
        Some(url) => Box::new(PgState::connect(url)?),
        None => Box::new(SqliteStore::open(data_dir, SqliteOptions::default())?),
    };
    match action {
        UsersAction::List => {
            println!("{:<36}  {:<6}  {:<20}  EMAIL", "ID", "ROLE", "CREATED");
            for u in store.users()? {
                println!(
                    "{:<36}  {:<6}  {:<20}  {}",
                    u.id,
                    u.role.as_str(),
                    u.created_at.format("%Y-%m-%dT%H:%M:%SZ"),
                    u.email
                );
            }
        }
        UsersAction::Add {
            email,
            role,
            password_stdin,
        } => {
            let email = valid_email(&email).map_err(api_error)?;
            let role = Role::parse(&role).expect("clap checked the value");
            let (password, generated) = password(password_stdin)?;
            let user =
                DashboardUser::new(&email, role, hash_password_blocking(&password), Utc::now());
            if !store.create_user(&user, false)? {
                anyhow::bail!("a dashboard user has the email {email}");
            }
            println!("added {} {} ({})", role.as_str(), user.email, user.id);
            if generated {
                println!("password: {password}");
            }
        }
        UsersAction::ResetPassword {
            user,
            password_stdin,
        } => {
            let found = find(&*store, &user)?;
            let (password, generated) = password(password_stdin)?;
            let update = UserUpdate {
                password_hash: Some(hash_password_blocking(&password)),
                ..Default::default()
            };
            store.update_user(&found.id, &update)?;
            println!("new password for {}", found.email);
            if generated {
                println!("password: {password}");
            }
        }
        UsersAction::Remove { user } => {
            let found = find(&*store, &user)?;
            match store.delete_user(&found.id)? {
                UserChange::Done(u) => println!("removed {} ({})", u.email, u.id),
                UserChange::NotFound => anyhow::bail!("no dashboard user {user}"),
                UserChange::LastAdmin => {
                    anyhow::bail!(
                        "{} is the last admin: make another user admin first",
                        found.email
                    )
                }
            }
        }
    }
    Ok(())
}

fn find(store: &dyn UserStore, user: &str) -> anyhow::Result<DashboardUser> {
    let found = if user.starts_with("usr_") {
        store.user(user)?
    } else {
        store.user_by_email(&herald_api::auth::normalize_email(user))?
    };
    found.ok_or_else(|| anyhow::anyhow!("no dashboard user {user}"))
}

/// The password to set, and whether it was generated.
fn password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if !from_stdin {
        return Ok((generate_password(), true));
    }
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let password = input.lines().next().unwrap_or_default().to_owned();
    validate_password(&password).map_err(api_error)?;
    Ok((password, false))
}

/// The message of a validation error.
fn api_error(e: herald_api::error::ApiError) -> anyhow::Error {
    use herald_api::error::ApiError;
    match e {
        ApiError::BadRequest(_, m) | ApiError::Rejected(_, _, m) => anyhow::anyhow!(m),
        other => anyhow::anyhow!("{other:?}"),
    }
}

/// At first start (no dashboard user yet), create an admin: `HERALD_ADMIN_EMAIL` (default
/// `admin@herald.local`) with the password in `HERALD_ADMIN_PASSWORD`, or a generated one
/// printed in the banner, once. Never logged. Returns the banner's lines.
pub fn ensure_first_user<S: UserStore + ?Sized>(store: &S) -> anyhow::Result<Vec<String>> {
    let existing = store.users()?.len();
    if existing > 0 {
        return Ok(vec![format!(
            "  Dashboard users: {existing} (`herald users list`, `herald users add`)"
        )]);
    }
    let email = std::env::var("HERALD_ADMIN_EMAIL")
        .ok()
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_ADMIN_EMAIL.to_owned());
    let email = valid_email(&email)
        .map_err(|_| anyhow::anyhow!("--admin-email {email:?} is not an email address"))?;
    let given = std::env::var("HERALD_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    let (password, generated) = match given {
        Some(p) => {
            validate_password(&p)
                .map_err(|e| api_error(e).context("--admin-password (HERALD_ADMIN_PASSWORD)"))?;
            (p, false)
        }
        None => (generate_password(), true),
    };
    let user = DashboardUser::new(
        &email,
        Role::Admin,
        hash_password_blocking(&password),
        Utc::now(),
    );
    if !store.create_user(&user, true)? {
        // Another node of the cluster created the first user meanwhile.
        return Ok(vec![
            "  Dashboard users: created by another node (`herald users list`)".into(),
        ]);
    }
    Ok(vec![if generated {
        format!("  Dashboard admin: {email}  password: {password}  (new; shown once, only its hash is stored)")
    } else {
        format!("  Dashboard admin: {email} (password from HERALD_ADMIN_PASSWORD)")
    }])
}

pub const DEFAULT_ADMIN_EMAIL: &str = "admin@herald.local";
