#!/usr/bin/env python3
"""bench/crash.py - the long crash run: tests/e2e/test_crash with many more
kill -9s than `make check` does (default 100), against the real daemon,
simulator and mosquitto.  Prints

  crash_kills                      kills survived
  crash_required_records           records that had to arrive (accepted more
                                   than the durability window before a kill,
                                   or before the clean stop)
  crash_lost_required_records      of those, how many did not arrive (0)
  crash_duplicate_batches          whole batches that arrived twice (allowed
                                   within the in-flight window of a restart)

and exits non-zero if any check of the run failed.
Usage: bench/crash.py --build DIR [--runs N] [--kills N]
"""

import argparse
import os
import re
import subprocess
import sys

top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--runs", type=int, default=1)   # one long run suffices
    ap.add_argument("--kills", type=int, default=100)
    a = ap.parse_args()
    r = subprocess.run([os.path.join(top, "tests", "e2e", "test_crash"),
                        "--build", a.build, "--kills", str(a.kills)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    out = r.stdout
    m = re.search(r"# \d+ records sent, (\d+) required", out)
    lost = re.search(r"not ok \d+ - no_record_older_than_the_window_is_lost:"
                     r" (\d+) lost", out)
    dup = re.search(r"# (\d+) batches arrived twice", out)
    if r.returncode != 0 or m is None:
        sys.stderr.write(out[-4000:])
        sys.stderr.write("bench/crash.py: test_crash failed (exit %d)\n" %
                         r.returncode)
    if m is None:
        return 1
    print("crash_kills %d kills" % a.kills)
    print("crash_required_records %s records" % m.group(1))
    print("crash_lost_required_records %s records" %
          (lost.group(1) if lost else "0"))
    if dup:
        print("crash_duplicate_batches %s batches" % dup.group(1))
    return 0 if r.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
