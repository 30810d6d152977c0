#!/usr/bin/env python3
"""bench/sessions.py - what durable node sessions cost and what they save
(issue 9), from tests/e2e/test_restart (the real daemon, fieldbridge-sim,
a real mosquitto; SIGTERM, kill -9 and a torn write):

  session_state_bytes_written_per_record_quiet  STATE/sessions bytes written
                                  per accepted record with 50 nodes sending
                                  one record every 10 s each (a quiet farm:
                                  each record changes its session alone)
  session_state_bytes_written_per_record_e2e    the same at test_restart's
                                  rate, 50 nodes at 2 records/s each
  restart_uplinks_lost            records sent while a daemon ran that never
                                  arrived, over the three restarts (must
                                  be 0)

Usage: bench/sessions.py --build DIR [--runs N]
"""

import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TEST = os.path.join(HERE, "..", "tests", "e2e", "test_restart")


def run(build, rate):
    out = subprocess.run([TEST, "--build", build, "--rate", str(rate)],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         universal_newlines=True, timeout=300).stdout
    b = re.search(r"session_state_bytes_written_per_record=([0-9.]+)", out)
    lost = re.search(r"restart_uplinks_lost=([0-9]+)", out)
    if b is None or lost is None:
        sys.stderr.write(out)
        raise SystemExit("bench/sessions.py: test_restart printed no figures")
    return float(b.group(1)), int(lost.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--runs", type=int, default=1)
    a = ap.parse_args()
    quiet, lost_q = run(a.build, 0.1)
    e2e, lost_e = run(a.build, 2)
    print("session_state_bytes_written_per_record_quiet %.1f bytes" % quiet)
    print("session_state_bytes_written_per_record_e2e %.1f bytes" % e2e)
    print("restart_uplinks_lost %d records" % (lost_q + lost_e))
    return 0


if __name__ == "__main__":
    sys.exit(main())
