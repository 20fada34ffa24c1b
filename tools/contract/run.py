#!/usr/bin/env python3
"""Contract test: schemathesis fuzzes the spec the server serves, against that server.

    run.py WUSHE_BINARY [options]

Starts `WUSHE_BINARY demo` on a fresh data directory and a free loopback port, waits for
/healthz, signs in the demo accounts it needs, then runs `schemathesis run` over
/api/openapi.json once per role (by default `org`, then `admin`: the organization pass goes
first so that nothing the administrator's pass does to that organization changes it).

Fails (exit 1) on any check failure or schemathesis error. The checks (--checks) default to
  not_a_server_error          no 5xx
  response_schema_conformance every documented response matches its schema
  negative_data_rejection     a request the spec says is invalid is rejected (a 4xx from the
                              list in schemathesis.toml), never accepted
  status_code_conformance     every status code returned is one the operation documents
  content_type_conformance    every response's Content-Type is the documented one

No operation is excluded. The three that could lock or disable the accounts in use are
fuzzed with throwaway targets instead (see hooks.py). Rate limits are raised for the
server under test so that the fuzzer reaches the handlers behind them.

Prints at the end: cases run, responses by status class and code, and every distinct failure
by check and operation (report.py). --report-dir (default target/contract-report) keeps, per
role, schemathesis' output, JUnit and NDJSON reports, plus failures.md (one reproducing curl
per distinct failure) and the server's log.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
import report  # noqa: E402

HERE = Path(__file__).resolve().parent
DEMO_PASSWORD = "Wushe@2026"
DEMO_ACCOUNTS = ["admin", "province", "city", "county", "county2", "station", "org", "volunteer", "resident"]
THROWAWAY_USERNAME = "contract-throwaway"
THROWAWAY_PASSWORD = "Contract@2026-throwaway"
DEFAULT_CHECKS = [
    "not_a_server_error",
    "response_schema_conformance",
    "negative_data_rejection",
    "status_code_conformance",
    "content_type_conformance",
]


def log(msg: str) -> None:
    print(f"[contract] {msg}", flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body: object | None = None, token: str | None = None) -> tuple[int, object]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        raw = e.read()
        status = e.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def start_server(binary: Path, data_dir: Path, port: int, server_log: Path) -> subprocess.Popen:
    env = dict(os.environ)
    # The fuzzer sends thousands of requests from one address; the default limits (30 token
    # requests, 120 public lookups a minute) would answer most of them 429 before a handler
    # runs. The limiter itself stays on.
    env["WUSHE_LOGIN_PER_MINUTE"] = "1000000"
    env["WUSHE_PUBLIC_PER_MINUTE"] = "1000000"
    env.setdefault("WUSHE_LOG", "info,sqlx=warn,tower_http=warn")
    env["NO_COLOR"] = "1"
    out = open(server_log, "wb")
    return subprocess.Popen(
        [str(binary), "demo", "--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}"],
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_healthy(proc: subprocess.Popen, base: str, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"[contract] wushe demo exited with {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as r:
                if r.status == 200:
                    return time.monotonic() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"[contract] /healthz not ready after {timeout:.0f} s")


def sign_in(base: str, username: str, password: str) -> tuple[str, int]:
    status, body = http("POST", f"{base}/api/v1/auth/token", {"username": username, "password": password, "name": "contract test"})
    if status != 201 or not isinstance(body, dict):
        raise SystemExit(f"[contract] sign-in as {username} failed: {status} {body}")
    return body["token"], body["id"]


def me(base: str, token: str) -> tuple[int, object]:
    return http("GET", f"{base}/api/v1/me", token=token)


def prepare_accounts(base: str, roles: list[str]) -> dict:
    """Sign in every demo account (their ids are protected), create the throwaway account
    and one spare token per fuzzing role."""
    accounts: dict[str, dict] = {}
    for name in DEMO_ACCOUNTS:
        token, token_id = sign_in(base, name, DEMO_PASSWORD)
        status, body = me(base, token)
        if status != 200 or not isinstance(body, dict):
            raise SystemExit(f"[contract] GET /api/v1/me as {name}: {status} {body}")
        accounts[name] = {"token": token, "token_id": token_id, "user_id": body["id"]}
    admin = accounts["admin"]["token"]
    status, body = http(
        "POST",
        f"{base}/api/v1/users",
        {
            "username": THROWAWAY_USERNAME,
            "display_name": "契约测试临时账户",
            "password": THROWAWAY_PASSWORD,
            "role": "resident",
            "scope_division": "420106001",
        },
        token=admin,
    )
    if status != 201 or not isinstance(body, dict):
        raise SystemExit(f"[contract] creating the throwaway account failed: {status} {body}")
    throwaway_id = body["id"]
    for role in roles:
        status, body = http("POST", f"{base}/api/v1/tokens", {"name": "contract spare"}, token=accounts[role]["token"])
        if status != 201 or not isinstance(body, dict):
            raise SystemExit(f"[contract] creating a spare token for {role} failed: {status} {body}")
        accounts[role]["spare_token_id"] = body["id"]
    return {"accounts": accounts, "throwaway_user_id": throwaway_id}


def run_pass(args, st: Path, base: str, role: str, prep: dict, report_dir: Path) -> dict:
    acct = prep["accounts"][role]
    pass_dir = report_dir / role
    if pass_dir.exists():
        shutil.rmtree(pass_dir)
    pass_dir.mkdir(parents=True)
    protect = {
        "throwaway_username": THROWAWAY_USERNAME,
        "throwaway_user_id": prep["throwaway_user_id"],
        "protected_user_ids": sorted(a["user_id"] for a in prep["accounts"].values()),
        "protected_token_ids": sorted(a["token_id"] for a in prep["accounts"].values()),
        "spare_token_id": acct["spare_token_id"],
    }
    env = dict(os.environ)
    env["SCHEMATHESIS_HOOKS"] = str(HERE / "hooks.py")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["CONTRACT_PROTECT"] = json.dumps(protect)
    cmd = [
        str(st),
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        f"{base}/api/openapi.json",
        "--url",
        base,
        "--header",
        f"Authorization: Bearer {acct['token']}",
        "--checks",
        ",".join(args.checks),
        "--max-examples",
        str(args.max_examples),
        "--max-time",
        str(args.max_time),
        "--workers",
        str(args.workers),
        "--request-timeout",
        "30",
        "--seed",
        str(args.seed),
        "--continue-on-failure",
        "--generation-database",
        "none",
        "--report",
        "junit,ndjson",
        "--report-junit-path",
        str(pass_dir / "junit.xml"),
        "--report-ndjson-path",
        str(pass_dir / "events.ndjson"),
        "--no-color",
        "--output-truncate",
        "false",
    ]
    if args.phases:
        cmd += ["--phases", args.phases]
    log(f"pass as {role}: schemathesis for at most {args.max_time} s ({args.max_examples} examples per operation and phase)")
    started = time.monotonic()
    out_path = pass_dir / "schemathesis.txt"
    with open(out_path, "w", encoding="utf-8") as out:
        # cwd: schemathesis keeps its caches (.hypothesis, .schemathesis) in the working directory.
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True, cwd=pass_dir)
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            if args.verbose:
                sys.stdout.write(line)
        rc = proc.wait()
    elapsed = time.monotonic() - started
    if not args.verbose:
        # Schemathesis' own summary (its failure details stay in schemathesis.txt).
        text = out_path.read_text(encoding="utf-8")
        idx = text.find("=== SUMMARY")
        sys.stdout.write(text[idx:] if idx >= 0 else text[-4000:])
    return {"role": role, "rc": rc, "elapsed": elapsed, "broken_accounts": broken_accounts(base, prep)}


def broken_accounts(base: str, prep: dict) -> list[str]:
    """Demo accounts the pass left unusable: the token no longer works, or the password no
    longer signs in (disabled or locked). The hooks are there to keep this list empty."""
    broken = []
    for name, a in prep["accounts"].items():
        if me(base, a["token"])[0] != 200:
            broken.append(f"{name} (token)")
            continue
        status, _ = http("POST", f"{base}/api/v1/auth/token", {"username": name, "password": DEMO_PASSWORD, "name": "contract check"})
        if status != 201:
            broken.append(f"{name} (sign-in {status})")
    return broken


def server_panics(server_log: Path) -> list[str]:
    """Each distinct panic in the server's log: its message and the first frame in crates/."""
    lines = server_log.read_text(encoding="utf-8", errors="replace").splitlines()
    found = collections.Counter()
    for i, line in enumerate(lines):
        if "panicked at" not in line:
            continue
        msg = lines[i + 1].strip() if i + 1 < len(lines) else ""
        where = line.split("panicked at", 1)[1].strip().rstrip(":")
        for later in lines[i + 2 : i + 80]:
            if "/crates/" in later:
                where = later.strip().removeprefix("at ").strip()
                break
        found[f"{msg} at {where}"] += 1
    return [f"{k} (x{n})" for k, n in found.items()]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("binary", type=Path, help="the wushe binary (e.g. target/debug/wushe)")
    p.add_argument("--schemathesis", type=Path, default=None, help="the schemathesis executable (default: next to this Python)")
    p.add_argument("--roles", default="org,admin", help="demo accounts to fuzz as, in order (default: org,admin)")
    p.add_argument("--max-time", type=int, default=int(os.environ.get("CONTRACT_MAX_TIME", "120")), help="seconds per pass (default 120, or $CONTRACT_MAX_TIME)")
    p.add_argument("--max-examples", type=int, default=25, help="examples per operation and phase (default 25)")
    p.add_argument("--workers", default="2", help="schemathesis workers (default 2)")
    p.add_argument("--seed", type=int, default=int(os.environ.get("CONTRACT_SEED", "20260101")), help="hypothesis seed (default fixed, or $CONTRACT_SEED)")
    p.add_argument("--phases", default=None, help="schemathesis phases (default: all)")
    p.add_argument("--checks", type=lambda s: s.split(","), default=DEFAULT_CHECKS, help="comma-separated checks")
    p.add_argument("--report-dir", type=Path, default=HERE.parent.parent / "target" / "contract-report", help="default target/contract-report")
    p.add_argument("--startup-timeout", type=float, default=600)
    p.add_argument("--verbose", action="store_true", help="stream schemathesis' whole output")
    args = p.parse_args()

    st = args.schemathesis or Path(sys.executable).parent / "schemathesis"
    if not st.exists():
        found = shutil.which("schemathesis")
        if not found:
            raise SystemExit("[contract] schemathesis not found (pip install -r tools/contract/requirements.txt)")
        st = Path(found)
    binary = args.binary.resolve()
    if not binary.exists():
        raise SystemExit(f"[contract] no binary at {binary}")
    roles = [r for r in args.roles.split(",") if r]
    report_dir = args.report_dir.resolve()
    report_dir.mkdir(parents=True, exist_ok=True)

    data_dir = Path(tempfile.mkdtemp(prefix="wushe-contract-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server_log = report_dir / "server.log"
    total_started = time.monotonic()
    log(f"starting {binary} demo on {base} (data in {data_dir}, log in {server_log})")
    proc = start_server(binary, data_dir, port, server_log)
    results = []
    ready = 0.0
    try:
        ready = wait_healthy(proc, base, args.startup_timeout)
        log(f"/healthz ready after {ready:.1f} s (demo seeding included)")
        prep = prepare_accounts(base, roles)
        for role in roles:
            results.append(run_pass(args, st, base, role, prep, report_dir))
    finally:
        stop_server(proc)
        shutil.rmtree(data_dir, ignore_errors=True)
    total = time.monotonic() - total_started

    print()
    log("summary")
    failed = False
    for r in results:
        print(f"  pass {r['role']}: {r['elapsed']:.0f} s, schemathesis exit {r['rc']}")
        if r["broken_accounts"]:
            print(f"    demo accounts no longer usable after this pass: {', '.join(r['broken_accounts'])} (the hooks failed to protect them)")
            failed = True
        failed = failed or r["rc"] != 0
    report.summarise(report_dir, roles)
    panics = server_panics(server_log)
    if panics:
        print(f"  server panics ({len(panics)} distinct, see {server_log}):")
        for p in panics:
            print(f"    {p}")
    print(f"  total time {total:.0f} s (server ready after {ready:.0f} s); failure list with curl commands: {report_dir / 'failures.md'}")
    print(f"  contract test: {'FAILED' if failed else 'passed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
