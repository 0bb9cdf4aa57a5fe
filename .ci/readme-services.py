#!/usr/bin/env python3
"""Runs, as written, the README's `sh` examples that start a service by hand (each in its own terminal in
the README): every `cargo run -p acceptor-svc|initiator-svc` command goes to the background and is waited
for on its port; every other line runs as it is; at the end of a block its services are stopped."""

import re
import subprocess
import sys

SERVICE = re.compile(r"^cargo run -p (acceptor-svc|initiator-svc) ")
PORTS = {"acceptor-svc": 50052, "initiator-svc": 50051}


def blocks(readme):
    """The README's ```sh blocks, as lists of commands (continuation lines joined)."""
    found, current = [], None
    for line in open(readme, encoding="utf-8").read().splitlines():
        if current is None and line.strip() == "```sh":
            current = []
        elif current is not None and line.strip() == "```":
            found.append(current)
            current = None
        elif current is not None:
            if current and current[-1].endswith("\\"):
                current[-1] = current[-1][:-1] + line.strip()
            else:
                current.append(line)
    return found


def script(commands):
    lines = ["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null || true; wait' EXIT"]
    for command in commands:
        started = SERVICE.match(command)
        if started:
            port = PORTS[started.group(1)]
            lines.append(f"{command} &")
            # Up when its port accepts a connection (TLS or not), within two minutes (it may compile first).
            lines.append(
                f"for _ in $(seq 1 600); do (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && break; sleep 0.2; done"
            )
            lines.append(f"(exec 3<>/dev/tcp/127.0.0.1/{port}) || {{ echo '{started.group(1)} did not start'; exit 1; }}")
        else:
            lines.append(command)
    return "\n".join(lines) + "\n"


def main():
    ran = 0
    for commands in blocks(sys.argv[1] if len(sys.argv) > 1 else "README.md"):
        if not any(SERVICE.match(c) for c in commands):
            continue
        print("== README:", commands[0], flush=True)
        subprocess.run(["bash", "-c", script(commands)], check=True)
        ran += 1
    if ran == 0:
        sys.exit("no README block starts a service by hand: did the README change?")
    print(f"{ran} README blocks that start services by hand ran as written", flush=True)


if __name__ == "__main__":
    main()
