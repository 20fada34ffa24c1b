#!/usr/bin/env python3
"""Pages a request writes to SQLite's write-ahead log, while `wushe bench hours` runs.

SQLite keeps the number of frames in the log in the header of the WAL index (the `-shm`
file beside the database: a 32-bit native-endian count at byte 16). This reads it every
2 ms from the running `wushe serve`, adds up its increases per second (it falls to zero
when a checkpoint restarts the log) and divides them by the requests the group commit's
batch log counted in the same second.

Usage (two shells, or `&` the first):
    python3 tools/wal_frames.py sample frames.txt
    WUSHE_BENCH_SERVE_LOG="warn,wushe_store::group_commit=debug" wushe bench hours --seconds 10
    python3 tools/wal_frames.py report frames.txt bench-serve.log
"""
import glob
import os
import re
import struct
import subprocess
import sys
import time


def sample(out_path):
    while True:  # wait for the server and its WAL index
        try:
            pid = subprocess.check_output(["pgrep", "-f", "wushe.* serve"]).split()[0].decode()
            shm = [os.readlink(f) for f in glob.glob(f"/proc/{pid}/fd/*") if os.readlink(f).endswith("-shm")]
            if shm:
                break
        except (subprocess.CalledProcessError, OSError, IndexError):
            pass
        time.sleep(0.2)
    fd = os.open(shm[0], os.O_RDONLY)
    last, added, second = None, 0, int(time.time())
    with open(out_path, "w") as out:
        while os.path.exists(f"/proc/{pid}"):
            frames = struct.unpack("=I", os.pread(fd, 4, 16))[0]
            if last is not None and frames > last:
                added += frames - last
            last = frames
            now = time.time()
            if int(now) != second:
                out.write(f"{time.strftime('%H:%M:%S', time.gmtime(second))} {added}\n")
                out.flush()
                added, second = 0, int(now)
            time.sleep(0.002)


def report(frames_path, log_path):
    frames = dict(line.split() for line in open(frames_path))
    requests, batches = {}, {}
    for line in open(log_path, errors="replace"):
        if "batch committed" not in line:
            continue
        line = re.sub(r"\x1b\[[0-9;]*m", "", line)
        second = line[11:19]
        n = int(re.search(r"requests=(\d+)", line).group(1))
        requests[second] = requests.get(second, 0) + n
        batches[second] = batches.get(second, 0) + 1
    print("second    frames  requests  batches  frames/request")
    for second in sorted(requests):
        if second in frames and requests[second] > 0:
            f = int(frames[second])
            print(f"{second}  {f:6d}  {requests[second]:8d}  {batches[second]:7d}  {f / requests[second]:14.1f}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "sample":
        sample(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "report":
        report(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
