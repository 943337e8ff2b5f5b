//! The `eservices` command line. Everything it runs lives in the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use eservices::{
    admin, clock,
    config::{ConfigError, DatabaseSettings, ProcessEnv, Settings},
    http::AppState,
    seed,
    startup::{self, Application, Options},
    storage, telemetry,
};
use eservices::{
    error::AppError,
    identity::staff::{self, NewStaff},
    oidc,
};
use tokio_util::sync::CancellationToken;

/// Turns a validation failure into a message naming each bad argument.
fn describe_invalid(err: AppError) -> anyhow::Error {
    if err.field_errors().is_empty() {
        return anyhow::anyhow!("{}", err.detail());
    }
    let lines: Vec<String> = err
        .field_errors()
        .iter()
        .map(|f| match f.field.as_str() {
            "password" => format!("password (standard input): {}", f.message),
            field => format!("--{}: {}", field.replace('_', "-"), f.message),
        })
        .collect();
    anyhow::anyhow!("{}", lines.join("; "))
}

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
        command: Box<AdminCommand>,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Email delivery.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// The outbox.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Civil servants.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// The OpenID provider's signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// The OpenID provider's clients (relying parties).
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// The data vault: master-key rotation, agencies' signing keys.
    Vault {
        #[command(subcommand)]
        command: VaultCommand,
    },
    /// E-dossiers.
    Dossiers {
        #[command(subcommand)]
        command: DossiersCommand,
    },
    /// Citizen accounts (the support desk): lock or reopen.
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AccountCommand {
    /// Locks an account: disabled, every session and refresh token ended.
    Lock {
        /// The holder's 12-digit national ID.
        #[arg(long)]
        national_id: String,
    },
    /// Reopens a locked account.
    Unlock {
        /// The holder's 12-digit national ID.
        #[arg(long)]
        national_id: String,
    },
}

#[derive(Debug, Subcommand)]
enum VaultCommand {
    /// Re-seal every value sealed under a retired master key (listed in
    /// VAULT_RETIRED_KEYS) with VAULT_MASTER_KEY; safe while serving, safe to
    /// run again. Prints the keys nothing uses any more.
    RotateMasterKey,
    /// Retire an agency's signing key; its next result is signed with a new
    /// one (results signed before keep verifying).
    RotateSigningKey {
        /// The agency's code.
        #[arg(long)]
        agency: String,
    },
}

#[derive(Debug, Subcommand)]
enum DossiersCommand {
    /// Check the hash chains of progress logs (every dossier, or one);
    /// exits 1 naming each dossier whose log was edited or cut.
    VerifyLog {
        /// Only this dossier.
        #[arg(long)]
        id: Option<uuid::Uuid>,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Add new RS256 and ES256 keys: published now, signing after the delay;
    /// the old ones stop signing then and stay published for a day.
    Rotate {
        /// Seconds between publication and first use.
        #[arg(long, default_value_t = 3600)]
        publish_delay_secs: u32,
    },
}

// Parsed once per run of the command line: the size of a variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum ClientCommand {
    /// Register a client.
    Create {
        /// The client id.
        #[arg(long)]
        client_id: String,
        /// An exact redirect URI (repeatable).
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// The client secret (at least 32 characters; generated if absent).
        #[arg(long, conflicts_with = "public")]
        secret: Option<String>,
        /// A public client (no secret; PKCE only), such as the mobile app.
        #[arg(long)]
        public: bool,
        /// Allowed scopes, space-separated (default "openid profile").
        #[arg(long)]
        scope: Option<String>,
        /// Pairwise subject identifiers (the default).
        #[arg(long, conflicts_with = "public_sub")]
        pairwise: bool,
        /// Public subject identifiers, for clients trusted by an administrator.
        #[arg(long)]
        public_sub: bool,
        /// An exact post-logout redirect URI (repeatable).
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// A file with the client's public keys (JWK Set): it authenticates
        /// with private_key_jwt instead of a secret.
        #[arg(long, conflicts_with_all = ["public", "secret"])]
        jwks: Option<std::path::PathBuf>,
        /// How its ID tokens are signed: RS256 (default) or ES256.
        #[arg(long)]
        id_token_alg: Option<String>,
        /// Accept its authorization requests only through PAR (RFC 9126).
        #[arg(long)]
        require_par: bool,
        /// Pairwise subjects shared with the other clients of this sector.
        #[arg(long, conflicts_with = "public_sub")]
        sector_identifier: Option<String>,
        /// Where logout tokens are posted when a session it joined ends.
        #[arg(long)]
        backchannel_logout_uri: Option<String>,
        /// Registers the client as a resource server with this audience URI:
        /// clients get tokens for it with RFC 8707 `resource`, and it
        /// introspects only tokens whose audience it is.
        #[arg(
            long = "resource-server",
            value_name = "AUDIENCE",
            conflicts_with = "public"
        )]
        resource_server: Option<String>,
    },
    /// List the clients.
    List,
    /// Delete a client.
    Delete {
        /// The client id.
        client_id: String,
    },
}

#[derive(Debug, Subcommand)]
enum StaffCommand {
    /// Create a civil servant; reads the password from standard input and
    /// prints the TOTP enrolment URI and recovery codes.
    Create {
        /// Sign-in name.
        #[arg(long)]
        username: String,
        /// The agency's unit code.
        #[arg(long)]
        agency: String,
        /// A role: receiver, processor, approver or agency_admin (repeatable).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Full name (default "Cán bộ").
        #[arg(long, default_value = "Cán bộ")]
        full_name: String,
    },
}

#[derive(Debug, Subcommand)]
enum MailCommand {
    /// Queue a test message to check the mail set-up.
    Test {
        /// The recipient.
        #[arg(long)]
        to: String,
    },
}

#[derive(Debug, Subcommand)]
enum JobsCommand {
    /// Count jobs by state.
    Stats,
    /// Run every due job once, then exit.
    Run,
    /// Put dead jobs back in the queue.
    RetryDead {
        /// Only jobs of this kind.
        #[arg(long)]
        kind: Option<String>,
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
        Command::Admin { command } => admin_command(*command).await,
    }
}

#[allow(clippy::print_stdout)]
async fn admin_command(command: AdminCommand) -> anyhow::Result<()> {
    let state = state()?;
    match command {
        AdminCommand::Mail {
            command: MailCommand::Test { to },
        } => {
            let id = admin::queue_test_email(&state, &to).await?;
            println!("queued test email {id}; a running worker delivers it");
        }
        AdminCommand::Staff {
            command:
                StaffCommand::Create {
                    username,
                    agency,
                    roles,
                    full_name,
                },
        } => {
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let new = NewStaff::parse(&username, &full_name, &agency, &roles, password.into())
                .map_err(describe_invalid)?;
            let (row, enrolment) = staff::create(&state.identity, new)
                .await
                .map_err(describe_invalid)?;
            println!(
                "created staff {} ({}, roles: {})",
                row.username,
                row.agency_code,
                row.roles.join(", ")
            );
            println!("TOTP enrolment URI: {}", enrolment.uri);
            println!("TOTP secret (manual entry): {}", enrolment.secret_base32);
            println!("recovery codes (shown once, each works once):");
            for code in enrolment.recovery_codes {
                println!("  {code}");
            }
        }
        AdminCommand::Vault {
            command: VaultCommand::RotateMasterKey,
        } => {
            let mut conn = state.db.get().await?;
            let report = eservices::vault::keys::rotate(&state.settings.keyring, &mut conn).await?;
            for (column, count) in report.resealed {
                println!("{column}: {count} re-sealed");
            }
            for kid in report.released {
                println!("master key {kid} is no longer used: remove it from VAULT_RETIRED_KEYS");
            }
        }
        AdminCommand::Vault {
            command: VaultCommand::RotateSigningKey { agency },
        } => {
            let mut conn = state.db.get().await?;
            if eservices::storage::catalog::agency(&mut conn, &agency)
                .await?
                .is_none()
            {
                anyhow::bail!("no agency with code {agency}");
            }
            drop(conn);
            let id = eservices::vault::signing::rotate(&state, &agency)
                .await
                .map_err(describe_invalid)?;
            println!("agency {agency} signs with key {id} from now on");
        }
        AdminCommand::Account { command } => {
            let (national_id, lock) = match command {
                AccountCommand::Lock { national_id } => (national_id, true),
                AccountCommand::Unlock { national_id } => (national_id, false),
            };
            let outcome = admin::set_account_lock(&state.identity, &national_id, lock).await?;
            let verb = if lock { "locked" } else { "unlocked" };
            match outcome {
                admin::AccountLockOutcome::Changed => println!("account {verb}"),
                admin::AccountLockOutcome::Unchanged => println!("account was already {verb}"),
            }
        }
        AdminCommand::Dossiers {
            command: DossiersCommand::VerifyLog { id },
        } => {
            let (checked, broken) = eservices::dossiers::verify_logs(&state, id)
                .await
                .map_err(describe_invalid)?;
            for (dossier, seq) in &broken {
                println!("dossier {dossier}: the log is broken at row {seq}");
            }
            println!("checked {checked} progress logs; {} broken", broken.len());
            if !broken.is_empty() {
                std::process::exit(1);
            }
        }
        AdminCommand::Keys {
            command: KeysCommand::Rotate { publish_delay_secs },
        } => {
            let added = oidc::keys::rotate(
                &state,
                chrono::Duration::seconds(i64::from(publish_delay_secs)),
            )
            .await
            .map_err(describe_invalid)?;
            for (alg, kid, activates_at) in added {
                println!(
                    "{} key {kid} published; signs from {activates_at}",
                    alg.as_str()
                );
            }
        }
        AdminCommand::Client { command } => match command {
            ClientCommand::Create {
                client_id,
                redirect_uris,
                secret,
                public,
                scope,
                pairwise: _,
                public_sub,
                post_logout_redirect_uris,
                jwks,
                id_token_alg,
                require_par,
                sector_identifier,
                backchannel_logout_uri,
                resource_server,
            } => {
                let jwks = match jwks {
                    None => None,
                    Some(path) => {
                        let text = std::fs::read_to_string(&path)
                            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
                        Some(
                            serde_json::from_str(&text).map_err(|e| {
                                anyhow::anyhow!("{} is not JSON: {e}", path.display())
                            })?,
                        )
                    }
                };
                let registered = oidc::clients::register(
                    &state,
                    oidc::clients::NewClient {
                        client_id,
                        redirect_uris,
                        post_logout_redirect_uris,
                        secret,
                        public,
                        scopes: scope
                            .unwrap_or_default()
                            .split_whitespace()
                            .map(str::to_owned)
                            .collect(),
                        public_subject: public_sub,
                        jwks,
                        id_token_alg,
                        require_par,
                        sector_identifier,
                        backchannel_logout_uri,
                        resource_audience: resource_server,
                    },
                )
                .await
                .map_err(describe_invalid)?;
                let c = &registered.client;
                println!(
                    "registered client {} ({}, {} subjects, scopes: {})",
                    c.client_id,
                    client_kind(c),
                    c.subject_type,
                    c.scopes.join(" ")
                );
                if let Some(audience) = &c.resource_audience {
                    println!("resource server of audience {audience}");
                }
                if let Some(secret) = registered.secret {
                    println!("client secret (shown once): {secret}");
                }
            }
            ClientCommand::List => {
                for c in oidc::clients::list(&state)
                    .await
                    .map_err(describe_invalid)?
                {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        c.client_id,
                        client_kind(&c),
                        c.subject_type,
                        c.scopes.join(" "),
                        c.redirect_uris.join(" ")
                    );
                }
            }
            ClientCommand::Delete { client_id } => {
                oidc::clients::delete(&state.oidc, &client_id)
                    .await
                    .map_err(describe_invalid)?;
                println!("deleted client {client_id}");
            }
        },
        AdminCommand::Jobs { command } => match command {
            JobsCommand::Stats => {
                for (job_state, n) in admin::job_stats(&state).await? {
                    println!("{job_state}\t{n}");
                }
            }
            JobsCommand::Run => {
                let n = state.worker().drain().await?;
                println!("ran {n} jobs");
            }
            JobsCommand::RetryDead { kind } => {
                let n = admin::retry_dead(&state, kind.as_deref()).await?;
                println!("requeued {n} dead jobs");
            }
        },
    }
    Ok(())
}

/// How a client authenticates, as the admin commands print it.
fn client_kind(client: &eservices::storage::oidc::ClientRow) -> &'static str {
    match client.auth_method.as_str() {
        "client_secret" => "confidential",
        "private_key_jwt" => "confidential/private_key_jwt",
        _ => "public",
    }
}
