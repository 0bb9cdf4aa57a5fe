//! Code generated from proto/ by build.rs, and the descriptor set served by reflection.

#![allow(clippy::all, clippy::pedantic, missing_docs)]

pub mod v1 {
    tonic::include_proto!("expressconnect.v1");
}

/// The service-to-service protocol.
pub mod peer {
    pub mod v1 {
        tonic::include_proto!("expressconnect.peer.v1");
    }
}

/// Every file of proto/, encoded as a `FileDescriptorSet`, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("expressconnect_descriptor");
