//! `eservices admin …`: one function per subcommand, each printing what the
//! library did. The work itself lives in the library (`eservices::admin`,
//! the features' services).

mod args;
mod client;
mod webhooks;

pub use args::AdminCommand;
use args::{
    AccountCommand, DossiersCommand, JobsCommand, KeysCommand, MailCommand, StaffCommand,
    VaultCommand,
};
use eservices::{
    admin,
    error::AppError,
    http::AppState,
    identity::staff::{self, NewStaff},
    oidc,
};

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

/// Runs one admin subcommand.
pub async fn run(state: AppState, command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::Mail { command } => mail(&state, command).await,
        AdminCommand::Staff { command } => create_staff(&state, command).await,
        AdminCommand::Vault { command } => vault(&state, command).await,
        AdminCommand::Account { command } => account(&state, command).await,
        AdminCommand::Dossiers { command } => dossiers(&state, command).await,
        AdminCommand::Keys { command } => keys(&state, command).await,
        AdminCommand::Client { command } => client::run(&state, command).await,
        AdminCommand::Jobs { command } => jobs(&state, command).await,
        AdminCommand::Webhooks { command } => webhooks::run(&state, command).await,
    }
}

#[allow(clippy::print_stdout)]
async fn mail(state: &AppState, command: MailCommand) -> anyhow::Result<()> {
    let MailCommand::Test { to } = command;
    let id = admin::queue_test_email(state, &to).await?;
    println!("queued test email {id}; a running worker delivers it");
    Ok(())
}

#[allow(clippy::print_stdout)]
async fn create_staff(state: &AppState, command: StaffCommand) -> anyhow::Result<()> {
    let StaffCommand::Create {
        username,
        agency,
        roles,
        full_name,
    } = command;
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
    Ok(())
}

#[allow(clippy::print_stdout)]
async fn vault(state: &AppState, command: VaultCommand) -> anyhow::Result<()> {
    match command {
        VaultCommand::RotateMasterKey => {
            let mut conn = state.db.get().await?;
            let report = eservices::vault::keys::rotate(&state.settings.keyring, &mut conn).await?;
            for (column, count) in report.resealed {
                println!("{column}: {count} re-sealed");
            }
            for kid in report.released {
                println!("master key {kid} is no longer used: remove it from VAULT_RETIRED_KEYS");
            }
        }
        VaultCommand::RotateSigningKey { agency } => {
            let mut conn = state.db.get().await?;
            if eservices::storage::catalog::agency(&mut conn, &agency)
                .await?
                .is_none()
            {
                anyhow::bail!("no agency with code {agency}");
            }
            drop(conn);
            let id = eservices::vault::signing::rotate(state, &agency)
                .await
                .map_err(describe_invalid)?;
            println!("agency {agency} signs with key {id} from now on");
        }
    }
    Ok(())
}

#[allow(clippy::print_stdout)]
async fn account(state: &AppState, command: AccountCommand) -> anyhow::Result<()> {
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
    Ok(())
}

#[allow(clippy::print_stdout)]
async fn dossiers(state: &AppState, command: DossiersCommand) -> anyhow::Result<()> {
    let DossiersCommand::VerifyLog { id } = command;
    let (checked, broken) = eservices::dossiers::verify_logs(state, id)
        .await
        .map_err(describe_invalid)?;
    for (dossier, seq) in &broken {
        println!("dossier {dossier}: the log is broken at row {seq}");
    }
    println!("checked {checked} progress logs; {} broken", broken.len());
    if !broken.is_empty() {
        std::process::exit(1);
    }
    Ok(())
}

#[allow(clippy::print_stdout)]
async fn keys(state: &AppState, command: KeysCommand) -> anyhow::Result<()> {
    let KeysCommand::Rotate { publish_delay_secs } = command;
    let added = oidc::keys::rotate(
        state,
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
    Ok(())
}

#[allow(clippy::print_stdout)]
async fn jobs(state: &AppState, command: JobsCommand) -> anyhow::Result<()> {
    match command {
        JobsCommand::Stats => {
            for (job_state, n) in admin::job_stats(state).await? {
                println!("{job_state}\t{n}");
            }
        }
        JobsCommand::Run => {
            let n = state.worker().drain().await?;
            println!("ran {n} jobs");
        }
        JobsCommand::RetryDead { kind } => {
            let n = admin::retry_dead(state, kind.as_deref()).await?;
            println!("requeued {n} dead jobs");
        }
    }
    Ok(())
}
