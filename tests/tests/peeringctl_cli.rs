//! The real `peeringctl` binary against the real services: `demo` runs the user guide end to end (twice,
//! against the same services) and leaves nothing behind; the client commands' JSON is what a script can
//! build on; a refusal names its code, reason and field and exits 1, a bad command line exits 2.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Output, Stdio};
use std::time::Duration;

use scenario_tests::fixtures::count_router_interfaces;
use scenario_tests::peering::{Flags, start_pair, wait_status};
use scenario_tests::{ACCOUNT_A, ACCOUNT_B, Service, pb, peeringctl_path};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

const SETTLE: Duration = Duration::from_secs(10);

/// `peeringctl ARGS`, with nothing from this environment that peeringctl reads.
fn command(args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(peeringctl_path());
    command.args(args).kill_on_drop(true);
    for (name, _) in std::env::vars() {
        if name.starts_with("PEERINGCTL_") || name.starts_with("PEERING_") {
            command.env_remove(name);
        }
    }
    command
}

async fn run(args: &[&str]) -> Output {
    tokio::time::timeout(Duration::from_secs(120), command(args).output())
        .await
        .expect("peeringctl finished in time")
        .unwrap()
}

/// A command line's words.
fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A client command against `svc` as its account (development keys, as the harness gives them), with
/// --json; what it printed, parsed.
async fn json(svc: &Service, args: &[&str]) -> Value {
    let url = svc.url();
    let mut all = args.to_vec();
    all.extend(["--endpoint", &url, "--account", &svc.account_id, "--json"]);
    let out = run(&all).await;
    assert!(out.status.success(), "peeringctl {all:?} failed:\n{}{}", text(&out.stdout), text(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{all:?} printed no JSON ({e}):\n{}", text(&out.stdout)))
}

fn field<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_else(|| panic!("no string {key:?} in {value}"))
}

/// The demo's status lines: `A initiator ID STATUS   B acceptor ID STATUS`, as (A's status, B's status).
fn cross_account_lines(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter_map(|line| match line.split_whitespace().collect::<Vec<_>>()[..] {
            ["A", "initiator", _, a, "B", "acceptor", _, b] => Some((a.to_owned(), b.to_owned())),
            _ => None,
        })
        .collect()
}

async fn count_left(svc: &Service) -> (i32, i32, i32) {
    let mut vpcs = svc.vpcs().await;
    let vpc_count = vpcs.describe_vpcs(pb::DescribeVpcsRequest::default()).await.unwrap().into_inner().total_count;
    let vbr_count = vpcs
        .describe_virtual_border_routers(pb::DescribeVirtualBorderRoutersRequest::default())
        .await
        .unwrap()
        .into_inner()
        .total_count;
    (vpc_count, vbr_count, count_router_interfaces(&mut svc.router_interfaces().await).await)
}

#[tokio::test]
async fn the_demo_runs_the_user_guide_and_deletes_what_it_made() {
    let (a, b) = start_pair(&Flags::default(), None, None).await;
    // Twice against the same services: a run's names and blocks never collide with an earlier run's.
    for _ in 0..2 {
        let out = run(&["demo", "--initiator", &a.url(), "--acceptor", &b.url()]).await;
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "the demo failed:\n{stdout}\n{}", text(&out.stderr));
        for step in ["(a)", "(b)", "(c)", "(d)", "(e)", "(f)"] {
            assert!(stdout.contains(&format!("== {step}")), "step {step} ran:\n{stdout}");
        }
        let lines = cross_account_lines(&stdout);
        let both = |a: &str, b: &str| lines.iter().position(|(x, y)| x == a && y == b);
        let active = both("Activated", "Activated").unwrap_or_else(|| panic!("both sides Activated:\n{stdout}"));
        let suspended = both("Suspended", "Suspended").unwrap_or_else(|| panic!("both Suspended:\n{stdout}"));
        let deleted = both("Deleted", "Deleted").unwrap_or_else(|| panic!("both ends Deleted:\n{stdout}"));
        assert!(active < suspended && suspended < deleted, "in the seed's order:\n{stdout}");
        assert!(stdout.contains("suspended by account 1000000000000002"), "B's suspension stops traffic:\n{stdout}");
        assert!(stdout.contains("shows the opposite spec Large.2"), "B sees A's upgrade:\n{stdout}");
        // The seed's delete procedure: route entries first, then the ends, then the routers.
        let at = |needle: &str| stdout.find(needle).unwrap_or_else(|| panic!("{needle:?} in:\n{stdout}"));
        assert!(at("deleted route entry") < at("Deleted"), "routes before ends:\n{stdout}");
        assert!(
            at("Deleted") < at("deleted VPC") && at("deleted VBR") > at("Deleted"),
            "ends before routers:\n{stdout}"
        );
        assert!(stdout.contains("demo finished"), "{stdout}");
        assert_eq!(count_left(&a).await, (0, 0, 0), "the demo deleted what it made in account A");
        assert_eq!(count_left(&b).await, (0, 0, 0), "the demo deleted what it made in account B");
    }
}

#[tokio::test]
async fn client_commands_connect_two_accounts_and_print_json() {
    let (a, b) = start_pair(&Flags::default(), None, None).await;
    let vpc_a = json(&a, &["vpc", "create", "--region", "cn-hangzhou", "--cidr", "10.0.0.0/16", "--name", "web"]).await;
    let vpc_a_id = field(&vpc_a, "id").to_owned();
    assert!(vpc_a_id.starts_with("vpc-") && field(&vpc_a, "route_table").starts_with("vtb-"), "{vpc_a}");
    let listed = json(&a, &["vpc", "list"]).await;
    let listed = listed.as_array().unwrap_or_else(|| panic!("a list is an array: {listed}"));
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!((field(&listed[0], "id"), field(&listed[0], "cidr_block")), (vpc_a_id.as_str(), "10.0.0.0/16"));
    assert_eq!(field(&listed[0], "name"), "web");

    // --as-b: account B's development key (its endpoint given, as the test's port is not B's default).
    let b_url = b.url();
    let out =
        run(&words(&format!("vpc create --region cn-shanghai --cidr 192.168.0.0/16 --as-b --endpoint {b_url} --json")))
            .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let vpc_b_id = field(&serde_json::from_slice(&out.stdout).unwrap(), "id").to_owned();

    let initiator = json(
        &a,
        &words(&format!(
            "ri create --role initiator --region cn-hangzhou --router {vpc_a_id} --spec Large.1 \
             --opposite-region cn-shanghai --opposite-router {vpc_b_id} --opposite-owner {ACCOUNT_B}"
        )),
    )
    .await;
    let a_end = field(&initiator, "id").to_owned();
    assert_eq!((field(&initiator, "role"), field(&initiator, "status")), ("Initiator", "Idle"), "{initiator}");
    assert_eq!(field(&initiator, "router"), vpc_a_id.replace("vpc-", "vrt-"), "a VPC id names its vRouter");
    let acceptor = json(
        &b,
        &words(&format!(
            "ri create --role acceptor --region cn-shanghai --router {vpc_b_id} --opposite-region cn-hangzhou \
             --opposite-router {vpc_a_id} --opposite-owner {ACCOUNT_A} --opposite-interface {a_end}"
        )),
    )
    .await;
    let b_end = field(&acceptor, "id").to_owned();
    assert_eq!((field(&acceptor, "role"), field(&acceptor, "spec")), ("Acceptor", "Negative"), "{acceptor}");
    let modified = json(&a, &["ri", "modify", &a_end, "--opposite-interface", &b_end]).await;
    assert_eq!(field(&modified, "opposite"), b_end, "{modified}");

    // Connect waits until the initiator settles; both services then say Activated.
    let connected = json(&a, &["ri", "connect", &a_end]).await;
    assert_eq!(field(&connected, "status"), "Activated", "{connected}");
    // B's own record may follow A's by a moment.
    wait_status(&b, &b_end, pb::Status::Activated, SETTLE).await;
    let seen_by_b = json(&b, &["ri", "describe", &b_end]).await;
    assert_eq!((field(&seen_by_b, "status"), field(&seen_by_b, "opposite")), ("Activated", a_end.as_str()));
    let activated = json(&a, &["ri", "describe", "--status", "activated"]).await;
    assert_eq!(
        activated.as_array().map(|all| all.iter().map(|ri| field(ri, "id")).collect()),
        Some(vec![a_end.as_str()])
    );

    // `watch --json`: the current state first, then B's own suspension as it happens.
    let mut watch = command(&["watch", &b_end, "--endpoint", &b_url, "--account", ACCOUNT_B, "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut events = BufReader::new(watch.stdout.take().unwrap()).lines();
    let mut next_status = async || {
        let line = tokio::time::timeout(Duration::from_secs(30), events.next_line()).await.unwrap().unwrap().unwrap();
        let event: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
        assert_eq!(field(&event, "id"), b_end, "{event}");
        field(&event, "status").to_owned()
    };
    assert_eq!(next_status().await, "Activated");
    let suspended = json(&b, &["ri", "suspend", &b_end]).await;
    assert_eq!(field(&suspended, "status"), "Suspended", "{suspended}");
    let mut statuses = vec![next_status().await];
    while statuses.last().map(String::as_str) != Some("Suspended") {
        statuses.push(next_status().await);
    }
    // Other changes of the end may come first (its view of A's end), still Activated.
    let suspending: Vec<&String> = statuses.iter().skip_while(|s| *s == "Activated").collect();
    assert!(suspending.iter().all(|s| *s == "Suspending" || *s == "Suspended"), "{statuses:?}");
    watch.kill().await.unwrap();
    wait_status(&a, &a_end, pb::Status::Suspended, SETTLE).await;

    // Account A cannot lift B's suspension: a refusal, exit code 1, with the reason and a hint.
    let out = run(&["ri", "activate", &a_end, "--endpoint", &a.url()]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: FAILED_PRECONDITION IncorrectStatus") && stderr.contains(ACCOUNT_B), "{stderr}");
    assert!(stderr.contains("hint: "), "{stderr}");
}

#[tokio::test]
async fn refusals_and_bad_command_lines_say_what_is_wrong() {
    let (a, _b) = start_pair(&Flags::default(), None, None).await;
    let url = a.url();

    let out = run(&["vpc", "create", "--region", "cn-hangzhou", "--cidr", "not-a-cidr", "--endpoint", &url]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "a refused call exits 1: {stderr}");
    assert!(
        stderr.starts_with("error: INVALID_ARGUMENT InvalidCidrBlock.Malformed (field cidr_block): "),
        "code, reason and field: {stderr}"
    );
    assert!(stderr.contains("\"not-a-cidr\""), "the message says what was wrong: {stderr}");
    assert!(out.stdout.is_empty(), "nothing on stdout: {}", text(&out.stdout));

    // Another account's key: UNAUTHENTICATED, with a hint at the keys.
    let out = run(&["vpc", "list", "--endpoint", &url, "--account", ACCOUNT_B]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("UNAUTHENTICATED InvalidAccessKeyId.NotFound") && stderr.contains("hint: check --account"),
        "{stderr}"
    );

    // No service there: UNAVAILABLE, and how to start one.
    let out = run(&["vpc", "list", "--endpoint", "http://127.0.0.1:1"]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: UNAVAILABLE") && stderr.contains("peeringctl up"), "{stderr}");

    // Usage errors, before any call: exit code 2.
    for args in [
        &["vpc", "create", "--region", "cn-hangzhou"][..],
        &["ri", "connect"][..],
        &["vpc", "list", "--endpoint", "ftp://127.0.0.1:1"][..],
        &["ri", "describe", "--status", "sleeping", "--endpoint", &url][..],
        &["vpc", "list", "--as-b", "--account", ACCOUNT_A][..],
    ] {
        let out = run(args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
    }
}
