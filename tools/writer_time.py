#!/usr/bin/env python3
"""The SQLite writer's time per single confirmation, from the group commit's batch log.

Each committed batch logs its requests, the time its jobs took (apply_us) and the time
its commit took (commit_us). This takes the batches of 16–40 requests from the single-
confirmation capacity phase of `wushe bench hours` (the ten seconds before the roster
phase, whose seconds have under two requests per batch) and prints p10 and the median of
apply, commit and their sum per request. p10 is the figure steal blurs least: a batch the
host delayed is slow, never fast.

Usage:
    WUSHE_BENCH_SERVE_LOG="warn,wushe_store::group_commit=debug" wushe bench hours --seconds 10
    python3 tools/writer_time.py bench-serve.log
"""
import re
import sys


def main(log_path):
    rows = []
    for line in open(log_path, errors="replace"):
        if "batch committed" not in line:
            continue
        line = re.sub(r"\x1b\[[0-9;]*m", "", line)
        m = dict(re.findall(r"(\w+)=(\d+)", line))
        rows.append((line[11:19], int(m["requests"]), int(m["apply_us"]), int(m["commit_us"])))
    per_second = {}
    for second, n, apply_us, commit_us in rows:
        s = per_second.setdefault(second, [0, 0, 0])
        s[0] += 1
        s[1] += n
        s[2] += apply_us + commit_us
    seconds = sorted(per_second)
    # the roster phase's first second: one request per batch, each of 20 records (2.4–2.9 ms
    # of writer time each in the twelfth session; a single confirmation at 3,000/s is 0.3 ms)
    roster = next(
        (s for s in seconds if per_second[s][1] > 50 and per_second[s][1] / per_second[s][0] < 2
         and per_second[s][2] / per_second[s][1] > 2000),
        None,
    )
    if roster is None:
        sys.exit("no roster phase found in the log")
    i = seconds.index(roster)
    window = set(seconds[max(0, i - 10):i - 1])
    chosen = [r for r in rows if r[0] in window and 16 <= r[1] <= 40]
    if not chosen:
        sys.exit("no batches of 16–40 requests before the roster phase")

    def quantiles(values):
        values = sorted(values)
        return values[int(0.1 * (len(values) - 1))], values[len(values) // 2]

    print(f"{len(chosen)} batches, {min(window)}–{max(window)}; µs per request, p10 / median:")
    for name, f in (("apply", lambda r: r[2]), ("commit", lambda r: r[3]), ("writer", lambda r: r[2] + r[3])):
        p10, p50 = quantiles(f(r) / r[1] for r in chosen)
        print(f"  {name:6s} {p10:5.0f} / {p50:5.0f}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
