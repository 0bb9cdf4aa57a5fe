//! The one error type of the domain. The gRPC layer maps `kind` to a status code and `reason` to the
//! `google.rpc.ErrorInfo` reason (the real cloud's error code).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    InvalidArgument,
    NotFound,
    FailedPrecondition,
    AlreadyExists,
    ResourceExhausted,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{reason}: {message}")]
pub struct DomainError {
    pub kind: ErrorKind,
    /// The real API's error code, e.g. `IncorrectStatus`.
    pub reason: String,
    /// A sentence a person can act on.
    pub message: String,
    /// The request field at fault, in snake_case, when there is one.
    pub field: Option<String>,
}

impl DomainError {
    pub fn new(kind: ErrorKind, reason: &str, message: impl Into<String>) -> Self {
        Self { kind, reason: reason.to_owned(), message: message.into(), field: None }
    }

    pub fn invalid(field: &str, reason: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, reason, message).on(field)
    }

    pub fn missing(field: &str) -> Self {
        Self::invalid(field, "MissingParameter", format!("{field} is required"))
    }

    pub fn not_found(field: &str, reason: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, reason, message).on(field)
    }

    pub fn precondition(reason: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::FailedPrecondition, reason, message)
    }

    pub fn exhausted(reason: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ResourceExhausted, reason, message)
    }

    /// The caller did not prove who it is.
    pub fn unauthenticated(reason: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthenticated, reason, message)
    }

    pub fn permission_denied(reason: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::PermissionDenied, reason, message)
    }

    /// A transient failure: nothing changed, the call can be retried.
    pub fn new_unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, "ServiceUnavailable", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, "InternalError", message)
    }

    /// Names the request field at fault.
    pub fn on(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }
}

pub type DomainResult<T> = Result<T, DomainError>;
