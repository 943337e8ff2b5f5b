//! The arguments of `eservices admin …` subcommands.

use clap::{Args, Subcommand};

/// The `admin` subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
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
    /// Webhook subscribers (city systems told of dossier events).
    Webhooks {
        #[command(subcommand)]
        command: WebhooksCommand,
    },
}

/// `admin webhooks …`.
#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Register a subscriber; prints its id and its signing secret (shown once).
    Add {
        /// What the subscriber is called.
        #[arg(long)]
        name: String,
        /// Where events are posted (http or https).
        #[arg(long)]
        url: String,
        /// A service code followed (repeatable; none: every service).
        #[arg(long = "service", value_name = "CODE")]
        services: Vec<String>,
        /// An agency code followed (repeatable; none: every agency).
        #[arg(long = "agency", value_name = "CODE")]
        agencies: Vec<String>,
        /// An event type followed, e.g. dossier.accepted (repeatable; none: every type).
        #[arg(long = "event", value_name = "TYPE")]
        events: Vec<String>,
        /// The payload may name the applicant (default: no personal data).
        #[arg(long)]
        personal_data: bool,
    },
    /// List the subscribers.
    List,
    /// Pause a subscriber: its deliveries wait until it is resumed.
    Pause {
        /// The subscriber's id.
        id: uuid::Uuid,
    },
    /// Resume a subscriber: what waited is sent.
    Resume {
        /// The subscriber's id.
        id: uuid::Uuid,
    },
    /// Send deliveries again, with their original webhook-id.
    Replay {
        /// One delivery.
        #[arg(long, conflicts_with_all = ["subscriber", "since"], required_unless_present = "subscriber")]
        delivery: Option<uuid::Uuid>,
        /// Every delivery of this subscriber queued since `--since`.
        #[arg(long, requires = "since")]
        subscriber: Option<uuid::Uuid>,
        /// The first day (yyyy-mm-dd, city time).
        #[arg(long, requires = "subscriber")]
        since: Option<chrono::NaiveDate>,
    },
}

/// `admin account …`.
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
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

/// `admin vault …`.
#[derive(Debug, Subcommand)]
pub enum VaultCommand {
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

/// `admin dossiers …`.
#[derive(Debug, Subcommand)]
pub enum DossiersCommand {
    /// Check the hash chains of progress logs (every dossier, or one);
    /// exits 1 naming each dossier whose log was edited or cut.
    VerifyLog {
        /// Only this dossier.
        #[arg(long)]
        id: Option<uuid::Uuid>,
    },
}

/// `admin keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add new RS256 and ES256 keys: published now, signing after the delay;
    /// the old ones stop signing then and stay published for a day.
    Rotate {
        /// Seconds between publication and first use.
        #[arg(long, default_value_t = 3600)]
        publish_delay_secs: u32,
    },
}

/// `admin client …`.
// Parsed once per run of the command line: the size of a variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client.
    Create(Box<CreateClient>),
    /// List the clients.
    List,
    /// Delete a client.
    Delete {
        /// The client id.
        client_id: String,
    },
}

/// `admin staff …`.
#[derive(Debug, Subcommand)]
pub enum StaffCommand {
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

/// `admin mail …`.
#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Queue a test message to check the mail set-up.
    Test {
        /// The recipient.
        #[arg(long)]
        to: String,
    },
}

/// `admin jobs …`.
#[derive(Debug, Subcommand)]
pub enum JobsCommand {
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

/// `admin client create`: what the new client is allowed and how it authenticates.
#[derive(Debug, Args)]
pub struct CreateClient {
    /// The client id.
    #[arg(long)]
    pub client_id: String,
    /// An exact redirect URI (repeatable).
    #[arg(long = "redirect-uri", required = true)]
    pub redirect_uris: Vec<String>,
    /// The client secret (at least 32 characters; generated if absent).
    #[arg(long, conflicts_with = "public")]
    pub secret: Option<String>,
    /// A public client (no secret; PKCE only), such as the mobile app.
    #[arg(long)]
    pub public: bool,
    /// Allowed scopes, space-separated (default "openid profile").
    #[arg(long)]
    pub scope: Option<String>,
    /// Pairwise subject identifiers (the default).
    #[arg(long, conflicts_with = "public_sub")]
    pub pairwise: bool,
    /// Public subject identifiers, for clients trusted by an administrator.
    #[arg(long)]
    pub public_sub: bool,
    /// An exact post-logout redirect URI (repeatable).
    #[arg(long = "post-logout-redirect-uri")]
    pub post_logout_redirect_uris: Vec<String>,
    /// A file with the client's public keys (JWK Set): it authenticates
    /// with private_key_jwt instead of a secret.
    #[arg(long, conflicts_with_all = ["public", "secret"])]
    pub jwks: Option<std::path::PathBuf>,
    /// How its ID tokens are signed: RS256 (default) or ES256.
    #[arg(long)]
    pub id_token_alg: Option<String>,
    /// Accept its authorization requests only through PAR (RFC 9126).
    #[arg(long)]
    pub require_par: bool,
    /// Pairwise subjects shared with the other clients of this sector.
    #[arg(long, conflicts_with = "public_sub")]
    pub sector_identifier: Option<String>,
    /// Where logout tokens are posted when a session it joined ends.
    #[arg(long)]
    pub backchannel_logout_uri: Option<String>,
    /// Registers the client as a resource server with this audience URI:
    /// clients get tokens for it with RFC 8707 `resource`, and it
    /// introspects only tokens whose audience it is.
    #[arg(
        long = "resource-server",
        value_name = "AUDIENCE",
        conflicts_with = "public"
    )]
    pub resource_server: Option<String>,
    /// The organisation's name, shown on the consent page.
    #[arg(long = "name")]
    pub client_name: Option<String>,
    /// The organisation's logo (https), shown on the consent page.
    #[arg(long)]
    pub logo_uri: Option<String>,
    /// The organisation's privacy policy (https), linked from the consent page.
    #[arg(long)]
    pub policy_uri: Option<String>,
    /// DPoP-bound tokens (RFC 9449): off, optional (default) or required.
    #[arg(long)]
    pub dpop: Option<String>,
    /// The security profile: standard (default) or fapi2 (FAPI 2.0
    /// Security Profile: PAR, private_key_jwt, DPoP, ES256).
    #[arg(long)]
    pub profile: Option<String>,
    /// Accept authorization requests without PKCE (a confidential client
    /// that cannot send it, such as a certification test client; never a
    /// public or FAPI 2.0 client).
    #[arg(long)]
    pub pkce_optional: bool,
}
