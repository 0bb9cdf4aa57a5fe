//! Waiting for an end to leave a transitional status (Connecting, Suspending, Activating...), with a
//! one-line progress indicator on stderr when a person is watching.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use shared::api::v1 as pb;
use tokio::time::Instant;

use crate::client::{Failure, Ris, describe};
use crate::output;

const POLL: Duration = Duration::from_millis(100);
const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// The statuses an end shows while the other end has not yet confirmed a change.
pub fn transitional(status: pb::Status) -> bool {
    use pb::Status::*;
    matches!(status, Connecting | Accepting | Suspending | Activating | Modifying | Deleting)
}

/// Parses `--timeout`: seconds, such as 30 or 0.5.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    s.trim_end_matches('s')
        .parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{s:?} is not a positive number of seconds"))
}

/// Polls `id` until it is in no transitional status and returns it; fails after `timeout`.
pub async fn until_settled(ris: &mut Ris, id: &str, timeout: Duration) -> Result<pb::RouterInterface, Failure> {
    let started = Instant::now();
    let progress = std::io::stderr().is_terminal();
    let mut frame = 0;
    let result = loop {
        let ri = describe(ris, id).await?;
        if !transitional(ri.status()) {
            break Ok(ri);
        }
        let elapsed = started.elapsed();
        if elapsed >= timeout {
            break Err(Failure::Other(format!(
                "{id} is still {} after {timeout:?} ({}); it may still settle: peeringctl ri describe {id}",
                output::label(ri.status()),
                ri.status_reason
            )));
        }
        if progress {
            // \x1b[K clears what a longer earlier line left.
            eprint!(
                "\r{} {id} {} {:.1}s\x1b[K",
                SPINNER[frame % SPINNER.len()],
                output::label(ri.status()),
                elapsed.as_secs_f64()
            );
            let _ = std::io::stderr().flush();
            frame += 1;
        }
        tokio::time::sleep(POLL).await;
    };
    if progress && frame > 0 {
        eprint!("\r\x1b[K");
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_positive_seconds() {
        assert_eq!(parse_timeout("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_timeout("0.5s"), Ok(Duration::from_millis(500)));
        for bad in ["0", "-1", "soon", "", "1e400"] {
            assert!(parse_timeout(bad).is_err(), "{bad:?}");
        }
    }
}
