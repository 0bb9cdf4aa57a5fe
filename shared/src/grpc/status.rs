//! Domain errors as gRPC statuses: a fitting code, the real error code as `google.rpc.ErrorInfo.reason`,
//! and the field at fault as a `google.rpc.BadRequest` violation.

use std::collections::HashMap;

use tonic::Code;
use tonic_types::{ErrorDetails, StatusExt};

use crate::domain::{DomainError, ErrorKind};

/// The ErrorInfo domain of every error this emulator returns.
pub const ERROR_DOMAIN: &str = "expressconnect.emulator";

pub fn to_status(e: DomainError) -> tonic::Status {
    let code = match e.kind {
        ErrorKind::InvalidArgument => Code::InvalidArgument,
        ErrorKind::NotFound => Code::NotFound,
        ErrorKind::FailedPrecondition => Code::FailedPrecondition,
        ErrorKind::AlreadyExists => Code::AlreadyExists,
        ErrorKind::ResourceExhausted => Code::ResourceExhausted,
        ErrorKind::PermissionDenied => Code::PermissionDenied,
        ErrorKind::Unauthenticated => Code::Unauthenticated,
        ErrorKind::Unavailable => Code::Unavailable,
        ErrorKind::Internal => Code::Internal,
    };
    let mut metadata = HashMap::new();
    if let Some(field) = &e.field {
        metadata.insert("field".to_owned(), field.clone());
    }
    let mut details = ErrorDetails::with_error_info(e.reason.clone(), ERROR_DOMAIN, metadata);
    if let Some(field) = &e.field {
        details.add_bad_request_violation(field.clone(), e.message.clone());
    }
    tonic::Status::with_error_details(code, format!("{}: {}", e.reason, e.message), details)
}

/// What a tower layer in front of the services answers when it refuses a call without passing it on.
pub(crate) fn refuse<B: Default + Send + 'static, E>(refusal: DomainError) -> crate::BoxFuture<http::Response<B>, E> {
    let response = to_status(refusal).into_http();
    Box::pin(async move { Ok(response) })
}
