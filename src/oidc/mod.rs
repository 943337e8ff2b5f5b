//! The city's OpenID provider: signing keys and clients, the authorization
//! code flow with PKCE, tokens (RFC 9068 access tokens, ID tokens), UserInfo.

pub mod clients;
pub mod connected_apps;
pub mod flow;
pub mod jwt;
pub mod keys;
pub mod logout;
pub mod revocation;
pub mod token;
pub mod userinfo;
