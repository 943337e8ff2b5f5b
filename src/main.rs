//! The `eservices` command line. Everything it runs lives in the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use eservices::{
    clock,
    config::{ConfigError, DatabaseSettings, ProcessEnv, Settings},
    http::AppState,
    seed,
    startup::{self, Application, Options},
    storage, telemetry,
};
use tokio_util::sync::CancellationToken;

mod admin_cli;

/// Ho Chi Minh City citizen e-services backend.
#[derive(Debug, Parser)]
#[command(name = "eservices", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve HTTP (and run the outbox worker unless --no-workers).
    Serve {
        /// Do not run background workers in this process.
        #[arg(long)]
        no_workers: bool,
    },
    /// Run the outbox worker only.
    Worker,
    /// Apply pending database migrations.
    Migrate,
    /// Load the service catalog; --demo adds demo accounts and clients.
    Seed {
        /// Add demonstration data.
        #[arg(long)]
        demo: bool,
        /// The catalog files (docs/CATALOG.md).
        #[arg(long, default_value = seed::CATALOG_DIR)]
        catalog: std::path::PathBuf,
    },
    /// Administration.
    Admin {
        #[command(subcommand)]
        command: Box<admin_cli::AdminCommand>,
    },
}

fn main() -> ExitCode {
    // A missing .env is normal in production; the variables then come from the environment.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    telemetry::init(telemetry::LogFormat::from_env());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("eservices: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if let Some(config) = err.downcast_ref::<ConfigError>() {
                eprintln!("eservices: {config}");
                return ExitCode::from(2);
            }
            eprintln!("eservices: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn state() -> anyhow::Result<AppState> {
    let settings = Settings::from_env(&ProcessEnv)?;
    AppState::build(settings, clock::system())
}

#[allow(clippy::print_stdout)]
async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve { no_workers } => {
            let state = state()?;
            state.check_master_key().await?;
            tracing::info!(
                bind = %state.settings.bind_addr,
                issuer = %state.settings.issuer(),
                mail = %state.settings.mail.transport.describe(),
                workers = !no_workers,
                "starting"
            );
            let app = Application::build(
                state,
                Options {
                    workers: !no_workers,
                    extra_routes: None,
                },
            )?;
            app.run_until(startup::shutdown_signal()).await
        }
        Command::Worker => {
            let state = state()?;
            state.check_master_key().await?;
            let cancel = CancellationToken::new();
            let worker = tokio::spawn(state.worker().run(cancel.clone()));
            startup::shutdown_signal().await;
            cancel.cancel();
            worker.await?;
            Ok(())
        }
        Command::Migrate => {
            let db = DatabaseSettings::from_env(&ProcessEnv)?;
            let applied = storage::run_migrations(&db.url).await?;
            if applied.is_empty() {
                println!("database is up to date");
            }
            for version in applied {
                println!("applied {version}");
            }
            Ok(())
        }
        Command::Seed { demo, catalog } => {
            let state = state()?;
            let report = seed::run(&state.identity, &state.oidc, &catalog, demo).await?;
            for line in report.lines {
                println!("{line}");
            }
            Ok(())
        }
        Command::Admin { command } => admin_cli::run(state()?, *command).await,
    }
}
