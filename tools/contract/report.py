#!/usr/bin/env python3
"""Summarise a contract-test run from schemathesis' NDJSON event streams.

    report.py REPORT_DIR        (the --report-dir of run.py; one sub-folder per role)

Prints, per pass: test cases run, responses by status class and code, and every distinct
failure, grouped by check, with one reproducing curl command each (the token left as
$TOKEN). Also writes REPORT_DIR/failures.md with the same list.
"""

from __future__ import annotations

import base64
import collections
import json
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Group:
    check: str
    operation: str
    signature: str
    count: int = 0
    example: dict = field(default_factory=dict)


@dataclass
class Pass:
    role: str
    cases: int = 0
    responses: collections.Counter = field(default_factory=collections.Counter)
    groups: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    stop_reason: str = ""
    running_time: float = 0.0


def _decode(part: dict | None) -> str | None:
    if not part:
        return None
    if "$base64" in part:
        return base64.b64decode(part["$base64"]).decode("utf-8", errors="replace")
    return part.get("string")


def curl(request: dict) -> str:
    parts = ["curl", "-sS", "-X", request["method"]]
    for name, values in (request.get("headers") or {}).items():
        for value in values:
            if name.lower() == "authorization":
                parts += ["-H", "Authorization: Bearer $TOKEN"]
            elif name.lower() == "cookie":
                continue  # the generated session cookie; the bearer token is what authenticates
            elif name.lower() in ("content-length", "user-agent", "accept", "accept-encoding", "connection", "x-schemathesis-testcaseid"):
                continue
            else:
                parts += ["-H", f"{name}: {value}"]
    body = _decode(request.get("body"))
    if body is not None:
        parts += ["--data-binary", body]
    parts.append(request["uri"])
    quoted = []
    for p in parts:
        if p == "Authorization: Bearer $TOKEN":
            quoted.append('"Authorization: Bearer $TOKEN"')
        else:
            quoted.append(shlex.quote(p))
    return " ".join(quoted)


def _signature(check: str, failure: dict, status: int | None) -> str:
    msg = failure.get("message") or ""
    if check == "status_code_conformance":
        m = re.search(r"Received: (\d+)", msg)
        return f"undocumented {m.group(1) if m else status}"
    if check == "not_a_server_error":
        return f"{status}"
    if check == "negative_data_rejection":
        m = re.search(r"Invalid component: (.*)", msg)
        return m.group(1).strip() if m else failure.get("title", "")
    if check == "response_schema_conformance":
        # e.g. "Value does not match the schema ...  Schema at /properties/x ..." : keep the
        # title and the first line that names where in the response it failed.
        lines = [line.strip() for line in msg.splitlines() if line.strip()]
        where = next((line for line in lines if "Schema at" in line or "Value at" in line or "path" in line.lower()), "")
        return f"{failure.get('title', '')}: {lines[0] if lines else ''} {where}".strip()
    return f"{failure.get('title', '')}: {msg.splitlines()[0] if msg else ''}"


def load_pass(role_dir: Path) -> Pass:
    p = Pass(role=role_dir.name)
    path = role_dir / "events.ndjson"
    if not path.exists():
        return p
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if "EngineFinished" in ev:
                p.stop_reason = ev["EngineFinished"].get("stop_reason") or ""
                p.running_time = ev["EngineFinished"].get("running_time") or 0.0
                continue
            if "NonFatalError" in ev:
                e = ev["NonFatalError"]
                p.errors.append(f"{e.get('label', '')}: {str(e.get('value', ''))[:500]}")
                continue
            v = ev.get("ScenarioFinished") or ev.get("FuzzScenarioFinished")
            if not v:
                continue
            rec = v.get("recorder") or {}
            cases = rec.get("cases") or {}
            interactions = rec.get("interactions") or {}
            p.cases += len(cases)
            for inter in interactions.values():
                resp = inter.get("response")
                if resp:
                    p.responses[str(resp["status_code"])] += 1
            for cid, checks in (rec.get("checks") or {}).items():
                for c in checks:
                    if c.get("status") != "failure":
                        continue
                    failure = (c.get("failure_info") or {}).get("failure") or {}
                    inter = interactions.get(cid) or {}
                    resp = inter.get("response") or {}
                    status = resp.get("status_code")
                    op = failure.get("operation") or rec.get("label", "")
                    sig = _signature(c["name"], failure, status)
                    key = (c["name"], op, sig)
                    g = p.groups.get(key)
                    if g is None:
                        case = (cases.get(cid) or {}).get("value") or {}
                        phase = (case.get("meta") or {}).get("phase") or {}
                        g = p.groups[key] = Group(c["name"], op, sig)
                        g.example = {
                            "curl": curl(inter["request"]) if inter.get("request") else "",
                            "status": status,
                            "response": (_decode(resp.get("content")) or "")[:400],
                            "message": (failure.get("message") or "")[:1500],
                            "phase": f"{phase.get('name', '')}: {(phase.get('data') or {}).get('description', '')}",
                        }
                    g.count += 1
    return p


def summarise(report_dir: Path, roles: list[str] | None = None, out=sys.stdout) -> list[Pass]:
    """Summarise the passes in `roles` (default: every sub-folder with an event stream)."""
    dirs = [report_dir / r for r in roles] if roles else sorted(d for d in report_dir.iterdir() if (d / "events.ndjson").exists())
    passes = [load_pass(d) for d in dirs]
    md = ["# Contract test failures", ""]
    for p in passes:
        classes = collections.Counter()
        for code, n in p.responses.items():
            classes[code[0] + "xx"] += n
        by_check = collections.Counter()
        for g in p.groups.values():
            by_check[g.check] += g.count
        head = (
            f"pass {p.role}: {p.cases} cases, {sum(p.responses.values())} responses "
            f"({', '.join(f'{k} {v}' for k, v in sorted(classes.items()))}); "
            f"failures {sum(by_check.values())} in {len(p.groups)} distinct groups"
            + (f" ({', '.join(f'{k} {v}' for k, v in sorted(by_check.items()))})" if by_check else "")
            + (f"; stopped by {p.stop_reason} after {p.running_time:.0f} s" if p.stop_reason else "")
        )
        print(f"  {head}", file=out)
        print(f"    status codes: {', '.join(f'{k} {v}' for k, v in sorted(p.responses.items()))}", file=out)
        md += [f"## {head}", "", f"Status codes: {', '.join(f'{k} {v}' for k, v in sorted(p.responses.items()))}", ""]
        for check in sorted({g.check for g in p.groups.values()}):
            groups = sorted((g for g in p.groups.values() if g.check == check), key=lambda g: (g.signature, g.operation))
            print(f"    {check}: {len(groups)} distinct", file=out)
            md += [f"### {check} ({len(groups)} distinct)", ""]
            if check == "status_code_conformance":
                # One line per undocumented code, naming the operations that returned it.
                by_code = collections.defaultdict(list)
                for g in groups:
                    by_code[g.signature].append(g.operation)
                for sig, ops in sorted(by_code.items()):
                    print(f"      {sig} from {len(ops)} operations: {', '.join(ops)}", file=out)
            else:
                for g in groups:
                    print(f"      {g.operation}  [{g.signature}]  x{g.count}", file=out)
            for g in groups:
                md += [
                    f"- **{g.operation}** — {g.signature} (×{g.count}; {g.example['phase']})",
                    f"  - response {g.example['status']}: `{g.example['response'][:300]}`",
                    "  - reproduce:",
                    "",
                    "    ```sh",
                    f"    {g.example['curl']}",
                    "    ```",
                    "",
                ]
        for e in p.errors:
            print(f"    error: {e}", file=out)
            md += [f"- error: {e}"]
        md.append("")
    (report_dir / "failures.md").write_text("\n".join(md), encoding="utf-8")
    return passes


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    summarise(Path(sys.argv[1]))
