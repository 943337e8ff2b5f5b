//! The city's OpenID provider. So far: signing keys (publication, rotation,
//! JWKS) and client registration; the protocol endpoints build on these.

pub mod clients;
pub mod keys;
