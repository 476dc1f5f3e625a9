//! Local feed files (the offline demo, tests, hand-kept feeds): read with the
//! same body cap and the same unchanged-body rule as HTTP, on a blocking thread.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use super::{body_hash, human_bytes, FailKind, FeedRequest, FetchError, Outcome};

enum ReadError {
    TooLarge,
    Io(io::Error),
}

impl From<io::Error> for ReadError {
    fn from(err: io::Error) -> Self {
        Self::Io(err)
    }
}

/// Reads `path` as the body of `request`'s feed.
pub(crate) async fn read(path: &Path, request: &FeedRequest, max_body: u64) -> Outcome {
    let shown = path.display().to_string();
    let owned = path.to_path_buf();
    let read = tokio::task::spawn_blocking(move || read_capped(&owned, max_body)).await;
    let body = match read {
        Ok(Ok(body)) => body,
        Ok(Err(ReadError::TooLarge)) => {
            return Outcome::Failed(FetchError::new(
                FailKind::TooLarge,
                format!(
                "feed file {shown} is larger than {} (raise [fetch] max_body if it is legitimate)",
                human_bytes(max_body)
            ),
            ))
        }
        Ok(Err(ReadError::Io(err))) => {
            return Outcome::Failed(FetchError::new(FailKind::Io, io_message(&shown, &err)))
        }
        Err(err) => {
            return Outcome::Failed(FetchError::new(
                FailKind::Other,
                format!("internal error while reading feed file {shown}: {err}"),
            ))
        }
    };
    let body_hash = body_hash(&body);
    if request.body_hash.as_deref() == Some(body_hash.as_str()) {
        return Outcome::NotModified {
            final_url: shown,
            http_status: 200,
            etag: request.etag.clone(),
            last_modified: request.last_modified.clone(),
            permanent_redirect: None,
        };
    }
    Outcome::Fetched {
        final_url: shown,
        http_status: 200,
        content_type: None,
        etag: None,
        last_modified: None,
        body,
        body_hash,
        permanent_redirect: None,
    }
}

fn read_capped(path: &Path, max_body: u64) -> Result<Vec<u8>, ReadError> {
    let file = File::open(path)?;
    if file.metadata()?.is_dir() {
        return Err(ReadError::Io(io::Error::new(
            io::ErrorKind::IsADirectory,
            "it is a folder, not a file",
        )));
    }
    let mut body = Vec::new();
    file.take(max_body.saturating_add(1))
        .read_to_end(&mut body)?;
    if body.len() as u64 > max_body {
        return Err(ReadError::TooLarge);
    }
    Ok(body)
}

fn io_message(shown: &str, err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::NotFound => format!(
            "feed file {shown} not found (relative paths are taken from the config file's folder)"
        ),
        io::ErrorKind::PermissionDenied => format!("no permission to read feed file {shown}"),
        _ => format!("cannot read feed file {shown}: {err}"),
    }
}
