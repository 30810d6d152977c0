#!/usr/bin/env python3
"""bench/spool_drain.py - how fast fieldbridged drains its spool after an
outage, measured from outside.

  spool_drain_records_per_s   records/s arriving at a subscriber of the
                              local mutual-TLS mosquitto while the daemon
                              drains a backlog built while the broker was
                              down (no drain rate limit, default window
                              mqtt.inflight_max 16, default batching);
                              steady state, from 10% to 90% of the backlog

With no broker, simulated nodes send NODES x COUNT records as fast as the
line takes them; the daemon spools them all and is stopped (they stay in
the spool).  Then the broker and a subscriber start, and the daemon again:
it connects and drains the backlog; arrival times are taken as the
subscriber's file grows.

Usage: bench/spool_drain.py --build DIR [--runs N]
Prints one `name value unit` line (the median of the runs).
"""

import argparse
import os
import statistics
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "e2e"))
import benchlib  # noqa: E402
import fbe2e  # noqa: E402
import fbspool  # noqa: E402

NODES = 100
COUNT = 3000            # records per node: a backlog of 300,000 records


def run(build, timeout=120):
    with fbspool.SpoolHarness(build) as h:
        h.make_certs()
        h.port = fbe2e.free_port()
        h.gen_registry(NODES)
        # The nodes start sending once the daemon answers their
        # handshakes; there is no broker yet.
        h.start_sim("c0", ["--nodes", NODES, "--rate", 0, "--count", COUNT,
                           "--quiet", "--seed", 3])
        h.write_daemon_conf(batch_age_ms=500, rate_per_min=0,
                            rate_burst=100000, log_level="notice",
                            extra="daemon = { status_interval_s = 1; };")
        h.spawn_daemon()
        want = NODES * COUNT
        fbe2e.wait_for(lambda: h.status().get("records_accepted", 0) >= want
                       and h.status().get("records_pending", 1) == 0,
                       timeout, "the backlog to be spooled", interval=0.2)
        h.stop_daemon()
        backlog = h.status().get("spool_records", 0)
        # Broker and subscriber first, so that arrival times are real;
        # then the daemon starts, connects and drains.
        h.start_broker()
        h.start_subscriber()
        a = benchlib.Arrivals(h, backlog)
        h.spawn_daemon()
        end = time.monotonic() + timeout
        while a.poll() < backlog:
            if time.monotonic() > end:
                raise fbe2e.HarnessError("only %d of %d records arrived" %
                                         (a.records, backlog))
            time.sleep(0.005)
        h.stop_daemon()
        # The subscriber's own arrival stamps (mosquitto_sub -F %U).
        span = benchlib.Span(backlog)
        for m in h.messages():
            if m.kind in ("live", "backlog"):
                span.add(m.t, len(m.doc["records"]))
        if span.rate() is None:
            raise fbe2e.HarnessError("drain too short to measure")
        return span.rate()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    os.environ["PATH"] += ":/usr/sbin"
    rates = [run(a.build) for _ in range(max(1, a.runs))]
    print("spool_drain_records_per_s %.0f records/s" %
          statistics.median(rates))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except fbe2e.HarnessError as e:
        print("spool_drain.py: %s" % e, file=sys.stderr)
        sys.exit(1)
