//! Generates the gRPC code and the reflection descriptor set from proto/, with protox (no system protoc).

use std::{env, path::PathBuf};

const PROTO_ROOT: &str = "../proto";
/// The API; code is generated for these.
const PROTOS: &[&str] = &[
    "expressconnect/v1/vpc.proto",
    "expressconnect/v1/router_interface.proto",
    "expressconnect/v1/billing.proto",
    "expressconnect/v1/simulation.proto",
    "expressconnect/peer/v1/peer.proto",
];
/// Served by reflection only, so grpcurl can decode the error details.
const REFLECTION_ONLY: &[&str] = &["google/rpc/error_details.proto"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files: Vec<PathBuf> = PROTOS.iter().map(|p| PathBuf::from(PROTO_ROOT).join(p)).collect();
    let descriptors = protox::compile(&files, [PROTO_ROOT])?;
    let reflected: Vec<PathBuf> =
        PROTOS.iter().chain(REFLECTION_ONLY).map(|p| PathBuf::from(PROTO_ROOT).join(p)).collect();
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("expressconnect_descriptor.bin"),
        prost::Message::encode_to_vec(&protox::compile(&reflected, [PROTO_ROOT])?),
    )?;
    tonic_prost_build::configure().build_client(true).build_server(true).compile_fds(descriptors)?;
    // Regenerate when any .proto changes (protox reports no rerun lines itself).
    println!("cargo:rerun-if-changed={PROTO_ROOT}");
    for file in &reflected {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    Ok(())
}
