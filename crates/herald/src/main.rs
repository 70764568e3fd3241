//! The `herald` command: `serve`, `keys`, `verify`, `backup`, `restore`, `config`,
//! `healthcheck`, `bench`, `audiences`, `users`.

mod audiences;
mod backup;
mod bench;
mod channels;
mod config;
mod endpoint;
mod healthcheck;
mod keys;
mod serve;
mod users;
mod verify;

use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser, Subcommand};

/// `herald --version`: the release and the git commit it was built from.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("HERALD_GIT_COMMIT"),
    ")"
);

/// mimalloc: faster than glibc malloc for the many small JSON allocations of ingest, and it
/// returns freed memory to the OS, so an idle server stays small after a burst.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Return free allocator memory to the OS. mimalloc (Rust allocations) otherwise purges lazily,
/// on the calling thread's next allocations, which an idle thread never makes; SQLite allocates
/// with the C library's malloc, whose freed page cache glibc keeps until trimmed.
pub(crate) fn release_allocator_memory() {
    purge_freed_memory_at_once();
    // SAFETY: both calls only walk and release the allocators' own free lists.
    unsafe {
        libmimalloc_sys::mi_collect(true);
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        libc::malloc_trim(0);
    }
}

/// Keep the server's memory in 4 KiB pages. With transparent huge pages, one live allocation
/// keeps a whole 2 MiB page resident, so memory freed after a burst cannot go back to the OS:
/// measured idle RSS after 300k events, 67.6 MiB with them, 42.4 MiB without (BENCHMARKS.md).
fn disable_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: a plain syscall setting a flag of this process.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// mimalloc's `mi_option_purge_delay` (the same index in its v2 and v3 headers; the Rust
/// bindings leave it out).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Return freed pages to the OS when they are freed instead of up to a second later (mimalloc
/// v3's default delay). A delayed purge only happens on the owning thread's next allocation,
/// which an idle thread (a Tokio worker after a burst) never makes: measured idle anonymous
/// RSS after 370k events, 35.0 MiB with the delay, 23.4 MiB without; the extra page faults
/// under load cost about 1.2% of the server's CPU samples (BENCHMARKS.md).
fn purge_freed_memory_at_once() {
    // SAFETY: sets one of mimalloc's runtime options; options are read on every purge.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
}

/// While the processor works through a backfill, keep freed pages for a second (mimalloc
/// v3's default) instead: its chunks allocate and free the same tens of MiB over and over,
/// and purging them at once made page faults and zeroing 15–20% of a backfill's time (a 10
/// ms delay saved little; BENCHMARKS.md). The processor's next idle turn
/// ([`release_allocator_memory`]) purges at once again.
pub(crate) fn reuse_freed_memory() {
    // SAFETY: as in `purge_freed_memory_at_once`.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1000) }
}

#[derive(Parser)]
#[command(
    name = "herald",
    version = VERSION,
    about = "Herald: Segment-compatible ingest, identity resolution, profiles and live audiences in one binary"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (embedded SQLite under the data directory, or a cluster node).
    Serve {
        #[command(flatten)]
        args: serve::ServeArgs,
        #[command(flatten)]
        process: config::ProcessArgs,
    },
    /// Check a configuration (flags, environment, `--config FILE`) and print the effective
    /// one, secrets masked.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Copy the embedded store (log and state, consistent with each other) into a new
    /// directory, while the server runs or not.
    Backup {
        /// The data directory to back up.
        #[arg(long, env = "HERALD_DATA_DIR", default_value = "herald-data")]
        data_dir: PathBuf,
        /// Where the backup goes (a new or empty directory).
        target: PathBuf,
    },
    /// Restore a backup (from `herald backup`) into a new data directory.
    Restore {
        /// The backup directory.
        backup: PathBuf,
        /// The data directory to create.
        data_dir: PathBuf,
        /// Replace the Herald files of a non-empty data directory (stop its server first).
        #[arg(long)]
        force: bool,
    },
    /// Exit 0 when the local server answers its readiness check, 1 otherwise (for container
    /// health checks, where no curl is at hand).
    Healthcheck(healthcheck::HealthcheckArgs),
    /// List, create and revoke API keys (works while the server runs).
    Keys {
        /// The data directory of an existing server (it is never created here).
        #[arg(
            long,
            env = "HERALD_DATA_DIR",
            default_value = "herald-data",
            global = true
        )]
        data_dir: PathBuf,
        /// In cluster mode, the keys live in this PostgreSQL database instead.
        #[arg(long, env = "HERALD_DATABASE_URL", global = true)]
        database_url: Option<String>,
        #[command(subcommand)]
        action: keys::KeysAction,
    },
    /// List, add and remove dashboard users (works while the server runs).
    Users {
        /// The data directory of an existing server (it is never created here).
        #[arg(
            long,
            env = "HERALD_DATA_DIR",
            default_value = "herald-data",
            global = true
        )]
        data_dir: PathBuf,
        /// In cluster mode, the users live in this PostgreSQL database instead.
        #[arg(long, env = "HERALD_DATABASE_URL", global = true)]
        database_url: Option<String>,
        #[command(subcommand)]
        action: users::UsersAction,
    },
    /// Check that profiles equal a rebuild of the event log from scratch.
    Verify {
        /// The data directory of an existing server (it is never created here).
        #[arg(long, env = "HERALD_DATA_DIR", default_value = "herald-data")]
        data_dir: PathBuf,
        /// Verify a cluster instead: its PostgreSQL database...
        #[arg(long, env = "HERALD_DATABASE_URL", requires = "bus_url")]
        database_url: Option<String>,
        /// ...its NATS JetStream server...
        #[arg(long, env = "HERALD_BUS_URL", requires = "database_url")]
        bus_url: Option<String>,
        /// ...and its name.
        #[arg(long, env = "HERALD_CLUSTER_NAME", default_value = "herald")]
        cluster_name: String,
        /// Identity rules file (JSON), as given to `serve`.
        #[arg(long, env = "HERALD_IDENTITY_RULES")]
        identity_rules: Option<PathBuf>,
    },
    /// Benchmarks (see BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        which: bench::BenchCommand,
    },
    /// Audience commands against a running server.
    Audiences {
        /// The server's URL; `http://` is assumed when it has no scheme.
        #[arg(
            long,
            env = "HERALD_URL",
            default_value = "http://127.0.0.1:8080",
            global = true
        )]
        url: String,
        #[arg(long, env = "HERALD_ADMIN_KEY", global = true)]
        admin_key: Option<String>,
        #[command(subcommand)]
        action: audiences::AudiencesAction,
    },
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Validate the configuration `serve` would run with and print it (secrets masked).
    Check {
        #[command(flatten)]
        args: serve::ServeArgs,
        #[command(flatten)]
        process: config::ProcessArgs,
    },
}

/// Refuse a data directory that holds no Herald databases: only `serve` creates one, so a
/// read-only command pointed at the wrong place says so instead of creating an empty store.
fn existing_data_dir(dir: &Path) -> anyhow::Result<()> {
    if !dir.is_dir() {
        anyhow::bail!(
            "the data directory {} does not exist (pass --data-dir, or start `herald serve` to create it)",
            dir.display()
        );
    }
    for file in ["log.db", "state.db"] {
        if !dir.join(file).is_file() {
            anyhow::bail!(
                "{} is not a Herald data directory (it has no {file}; pass --data-dir, or start `herald serve` to create one)",
                dir.display()
            );
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let (cli, matches, layer) = config::parse::<Cli>()?;
    match cli.command {
        Command::Serve { args, process } => {
            process.export();
            disable_transparent_huge_pages();
            purge_freed_memory_at_once();
            serve::init_logging();
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(serve::run(args))
        }
        Command::Keys {
            data_dir,
            database_url,
            action,
        } => {
            if database_url.is_none() {
                existing_data_dir(&data_dir)?;
            }
            keys::run(&data_dir, database_url.as_deref(), action)
        }
        Command::Users {
            data_dir,
            database_url,
            action,
        } => {
            if database_url.is_none() {
                existing_data_dir(&data_dir)?;
            }
            users::run(&data_dir, database_url.as_deref(), action)
        }
        Command::Verify {
            data_dir,
            database_url,
            bus_url,
            cluster_name,
            identity_rules,
        } => {
            let cluster = database_url
                .zip(bus_url)
                .map(|(db, bus)| (db, bus, cluster_name));
            if cluster.is_none() {
                existing_data_dir(&data_dir)?;
            }
            verify::run(&data_dir, cluster, identity_rules.as_deref())
        }
        Command::Config {
            action: ConfigAction::Check { args, process: _ },
        } => {
            let command = Cli::command();
            let check = command
                .find_subcommand("config")
                .and_then(|c| c.find_subcommand("check"))
                .expect("the config check command");
            let leaf = matches
                .subcommand_matches("config")
                .and_then(|m| m.subcommand_matches("check"))
                .expect("config check matches");
            print!("{}", config::describe(check, leaf, &layer));
            config::check(&args)?;
            println!("# ok: the configuration is valid");
            Ok(())
        }
        Command::Backup { data_dir, target } => backup::backup(&data_dir, &target),
        Command::Restore {
            backup,
            data_dir,
            force,
        } => backup::restore(&backup, &data_dir, force),
        Command::Healthcheck(args) => healthcheck::run(&args),
        Command::Bench { which } => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(bench::run(which))
        }
        Command::Audiences {
            url,
            admin_key,
            action,
        } => {
            let admin_key = admin_key.ok_or_else(|| {
                anyhow::anyhow!("an admin key is needed: --admin-key or HERALD_ADMIN_KEY")
            })?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(audiences::run(
                &audiences::base_url(&url),
                &admin_key,
                action,
            ))
        }
    }
}
