#!/usr/bin/env python3
"""bench/e2e.py - end-to-end figures of fieldbridged, measured from outside.

  e2e_records_per_s[_sandboxed]   simulator -> daemon -> local mutual-TLS
                                  mosquitto -> subscriber; records arriving
                                  at the subscriber per second, between 10%
                                  and 90% of them, with 1000 nodes on two
                                  concentrators offering 300,000 records/s
  wire_bytes_per_record           TCP payload bytes, both directions, on the
  wire_bytes_per_record_unbatched daemon's broker connection (read with ss
                                  from the kernel, not from the daemon),
                                  per record: default batching, and batches
                                  of one record
  rss_10k_devices_kib             the daemon's peak RSS (VmHWM) with 10,000
                                  registered devices, all of them joined and
                                  sending (of the worker process when
                                  sandboxed)
  rss_10k_devices_anon_kib        the same, anonymous memory only (RssAnon,
                                  sampled): the daemon's own, without the
                                  shared libraries' pages

Usage: bench/e2e.py --build DIR [--runs N] [--only NAME[,NAME]]
Prints one `name value unit` line per figure (the median of the runs).
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "e2e"))
import benchlib  # noqa: E402
import fbe2e  # noqa: E402


def daemon_pids(pid):
    """The daemon's PID and its children's: with the sandbox on, the
    confined child does the work and holds the broker connection."""
    out = [pid]
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def worker_pid(pid):
    return daemon_pids(pid)[-1]


def tcp_bytes(port, pids):
    """bytes_sent + bytes_received of the established connection of one of
    pids to 127.0.0.1:port, as the kernel counts them (TCP payload)."""
    out = subprocess.run(["ss", "-tinpH", "state", "established",
                          "dst", "127.0.0.1:%d" % port],
                         stdout=subprocess.PIPE, text=True,
                         check=True).stdout
    total = None
    blocks = re.split(r"\n(?=\S)", out)
    for b in blocks:
        if not any("pid=%d," % pid in b for pid in pids):
            continue
        s = re.search(r"bytes_sent:(\d+)", b)
        r = re.search(r"bytes_received:(\d+)", b)
        total = (int(s.group(1)) if s else 0) + (int(r.group(1)) if r else 0)
    if total is None:
        raise fbe2e.HarnessError("no connection of pids %s to port %d in ss"
                                 % (pids, port))
    return total


def status_kib(pid, field):
    """A "Field:  N kB" line of /proc/PID/status."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise fbe2e.HarnessError("no %s for %d" % (field, pid))


def cpu_s(pid):
    """utime + stime of pid (/proc/PID/stat), seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(build, nodes, count, rate, sims=1, max_records=500,
        sandbox=True, measure_wire=False, measure_rss=False,
        measure_cpu=False, encoding="json", timeout=120):
    """One run; returns a dict of what was measured (cpu: the worker's
    CPU seconds over the run)."""
    res = {}
    fbe2e.ENCODING = encoding
    with fbe2e.Harness(build) as h:
        h.make_certs()
        h.gen_registry(nodes)
        h.start_broker()
        h.start_subscriber()
        per = nodes // sims
        for i in range(sims):
            h.start_sim("c%d" % i, ["--nodes", per, "--offset", i * per,
                                    "--rate", rate, "--count", count,
                                    "--quiet", "--seed", 7 + i])
        h.write_daemon_conf(batch_age_ms=1000, max_records=max_records,
                            rate_per_min=6000000, rate_burst=100000,
                            log_level="notice", encoding=encoding)
        d = h.start_daemon([] if sandbox else ["--no-sandbox"])
        want = nodes // sims * sims * count
        c = benchlib.Arrivals(h, want)
        end = time.monotonic() + timeout
        anon = 0
        while c.poll() < want:
            if measure_rss:
                anon = max(anon, status_kib(worker_pid(d.pid), "RssAnon"))
            if d.poll() is not None:
                raise fbe2e.HarnessError("daemon exited:\n" + h.daemon_log())
            if time.monotonic() > end:
                raise fbe2e.HarnessError("only %d of %d records arrived"
                                         % (c.records, want))
            time.sleep(0.02)
        if c.rate() is not None:
            res["rate"] = c.rate()
        res["records"] = c.records
        if measure_wire:
            res["wire"] = tcp_bytes(h.port, daemon_pids(d.pid)) / c.records
        if measure_cpu:
            res["cpu"] = cpu_s(worker_pid(d.pid))
        if measure_rss:
            w = worker_pid(d.pid)
            res["rss"] = status_kib(w, "VmHWM")
            res["anon"] = max(anon, status_kib(w, "RssAnon"))
        h.stop_daemon()
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    only = set(filter(None, a.only.split(",")))

    def want(name):
        return not only or name in only

    def median(f, key):
        return statistics.median(f()[key] for _ in range(a.runs))

    if want("e2e_records_per_s"):
        v = median(lambda: run(a.build, 1000, 1500, 300, sims=2,
                               sandbox=False), "rate")
        print("e2e_records_per_s %.0f records/s" % v, flush=True)
    if want("e2e_records_per_s_sandboxed"):
        v = median(lambda: run(a.build, 1000, 1500, 300, sims=2,
                               sandbox=True), "rate")
        print("e2e_records_per_s_sandboxed %.0f records/s" % v, flush=True)
    if want("wire_bytes_per_record"):
        v = median(lambda: run(a.build, 50, 200, 20, measure_wire=True),
                   "wire")
        print("wire_bytes_per_record %.1f bytes" % v, flush=True)
    if want("wire_bytes_per_record_unbatched"):
        v = median(lambda: run(a.build, 50, 40, 20, max_records=1,
                               measure_wire=True), "wire")
        print("wire_bytes_per_record_unbatched %.1f bytes" % v, flush=True)
    if want("rss_10k_devices_kib"):
        runs = [run(a.build, 10000, 3, 1, measure_rss=True, timeout=180)
                for _ in range(a.runs)]
        print("rss_10k_devices_kib %d KiB" %
              statistics.median(r["rss"] for r in runs), flush=True)
        # The part that is the daemon's own (heap, stacks), without the
        # pages of shared libraries it maps.
        print("rss_10k_devices_anon_kib %d KiB" %
              statistics.median(r["anon"] for r in runs), flush=True)


if __name__ == "__main__":
    try:
        main()
    except fbe2e.HarnessError as e:
        print("bench/e2e.py: %s" % e, file=sys.stderr)
        sys.exit(1)
