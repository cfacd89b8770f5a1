//! Shared-token authentication between coordinator and agents: the
//! coordinator sends `authorization: Bearer <token>` with every call, the
//! agent compares it in constant time and refuses calls without it.

use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::{Request, Status};

/// The metadata key carrying the token.
const AUTHORIZATION: &str = "authorization";

/// Byte-wise equality whose running time does not depend on where the
/// inputs differ (only on their lengths).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Agent side: checks every call's token (or lets all through when the
/// agent has none, which is only allowed on loopback).
#[derive(Clone, Debug)]
pub struct RequireToken(pub Option<String>);

impl Interceptor for RequireToken {
    fn call(&mut self, req: Request<()>) -> Result<Request<()>, Status> {
        let Some(expected) = &self.0 else {
            return Ok(req);
        };
        let given = req
            .metadata()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match given {
            Some(token) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => Ok(req),
            Some(_) => Err(Status::unauthenticated(
                "agent: wrong token (check EDGESIM_TOKEN / --token on both sides)",
            )),
            None => Err(Status::unauthenticated(
                "agent: this agent requires a token (EDGESIM_TOKEN / --token)",
            )),
        }
    }
}

/// Coordinator side: attaches the token to every call, if there is one.
#[derive(Clone, Debug)]
pub struct SendToken(pub Option<String>);

impl Interceptor for SendToken {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        if let Some(token) = &self.0 {
            let value = MetadataValue::try_from(format!("Bearer {token}")).map_err(|_| {
                Status::invalid_argument("coordinator: the token must be printable ASCII")
            })?;
            req.metadata_mut().insert(AUTHORIZATION, value);
        }
        Ok(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_checked() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd") && !constant_time_eq(b"abc", b"ab"));
        let mut send = SendToken(Some("s3cret".into()));
        let mut require = RequireToken(Some("s3cret".into()));
        assert!(require.call(send.call(Request::new(())).unwrap()).is_ok());
        let err = require.call(Request::new(())).unwrap_err();
        assert_eq!(err.code(), tonic::Code::Unauthenticated);
        assert!(err.message().contains("requires a token"));
        let wrong = SendToken(Some("guess".into()))
            .call(Request::new(()))
            .unwrap();
        assert!(
            require
                .call(wrong)
                .unwrap_err()
                .message()
                .contains("wrong token")
        );
        assert!(RequireToken(None).call(Request::new(())).is_ok());
    }
}
