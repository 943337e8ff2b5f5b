//! The city's OpenID provider: signing keys and clients, the authorization
//! code flow with PKCE, tokens (RFC 9068 access tokens, ID tokens), UserInfo.

pub mod audience;
pub mod backchannel;
pub mod client_auth;
pub mod clients;
pub mod connected_apps;
pub mod dpop;
pub mod error;
pub mod flow;
pub mod grant;
pub mod grant_guard;
pub mod jobs;
pub mod jwt;
pub mod keys;
pub mod logout;
pub mod par;
pub mod provider;
pub mod request;
pub mod resource;
pub mod revocation;
pub mod subject;
pub mod token;
pub mod token_context;
pub mod userinfo;

pub use error::OAuthError;
pub use provider::Provider;
