#!/usr/bin/python3
"""Runs a benchmark program and prints its JSON result lines (DESIGN section 8) under another bench and
impl name; other lines pass through. The http2 benchmark uses it to put squall's HTTP/1.1 body program
(bench/http/bench_http_body_squall, bench "http_body") in its large-body group, so that HTTP/2 and
HTTP/1.1 downloads are compared in one run.

    relabel.py --bench http2_body --impl squall-h1-epoll -- PROGRAM ARGS...

The program's exit status is this script's; its stderr is not touched. CPU figures are the program's own
(measured inside it), so running under this script changes none of them.
"""
import argparse
import json
import subprocess
import sys


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bench", required=True)
    p.add_argument("--impl", required=True)
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    a = p.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        sys.exit("relabel.py: no command")
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, check=False)
    for line in proc.stdout.decode(errors="replace").splitlines():
        if line.lstrip().startswith("{"):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                print(line)
                continue
            obj["bench"], obj["impl"] = a.bench, a.impl
            line = json.dumps(obj)
        print(line)
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
