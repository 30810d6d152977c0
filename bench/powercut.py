#!/usr/bin/env python3
"""bench/powercut.py - the long power-cut run: the shipped unit under a
real systemd in a qemu guest (tests/vm/fbsystemd.py), cut --cuts times
(default 12, about a minute each under TCG) with the broker down and
records flowing into the spool, booted again each time.  Prints

  powercut_cuts                    power cuts (qemu killed with SIGKILL)
  powercut_records_required        records received more than
                                   spool.durability_ms before a cut
  powercut_records_lost            of those, not delivered after the boot
  powercut_batches_duplicated      whole batches that arrived twice
  powercut_records_in_two_batches  records replayed into a second batch
  powercut_quarantined_files       spool files quarantined at a boot
  powercut_boots_daemon_down       boots after which the unit was not active
  powercut_line_delay_p50_s, _max_s  the line's delay under TCG

and the boot times, and exits non-zero if any check of the run failed.
Needs root, qemu-system-x86 and debootstrap (tools/dev installs them);
prints a SKIP line otherwise.
Usage: bench/powercut.py --build DIR [--runs N] [--cuts N] [--seed N]
"""

import argparse
import os
import sys

top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(top, "tests", "vm"))
sys.path.insert(0, os.path.join(top, "tests", "e2e"))
import fbe2e  # noqa: E402
import fbspool  # noqa: E402
import fbsystemd  # noqa: E402
import fbvm  # noqa: E402


class Quiet(fbspool.Checks):
    """Checks that keep the TAP lines off stdout (figures only there)."""

    def check(self, name, ok, detail=""):
        self.n += 1
        if not ok:
            self.failed.append(name)
            sys.stderr.write("not ok - %s: %s\n" % (name, detail))
        return ok

    def info(self, text):
        sys.stderr.write("# %s\n" % text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--runs", type=int, default=1)   # one long run suffices
    ap.add_argument("--cuts", type=int, default=12)
    ap.add_argument("--seed", default=None)
    a = ap.parse_args()
    if os.geteuid() != 0 or fbvm.missing_tool():
        print("# powercut: SKIP (needs root, qemu-system-x86_64, "
              "mkfs.ext4, debootstrap)")
        return 0
    c = Quiet()
    run = fbsystemd.Run(a.build, c, seed=a.seed)
    try:
        run.setup()
        if run.install():
            run.records_arrive()
            for _ in range(a.cuts):
                run.power_cut()
            run.accounting("powercut")
    except (fbe2e.HarnessError, fbvm.VmError) as e:
        c.check("harness", False, str(e))
    finally:
        if c.failed:
            run.dump()
        run.close()
    for name, value, unit in run.figures:
        print("%s %s %s" % (name, value, unit))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
