#!/usr/bin/env python3
"""bench/cost.py - what a record costs upstream, measured from outside the
daemon, and the same figures for the setup a user would otherwise pick: a
local mosquitto with persistence bridging tele/# at QoS 1 over mutual TLS
to an upstream mosquitto, fed one record per message (the shared anchor,
$top/../shared/anchors/mosquitto-bridge, run from a temporary copy with our
record as its RECORD).

  wire_bytes_per_record_ENC      TCP payload bytes, both directions, of the
                                 daemon's broker connection (ss, from the
                                 kernel), per record; ENC = json, zlib
  wire_ip_bytes_per_record_ENC   IP bytes, both directions, of the same
                                 connection in a tcpdump capture on lo
  metering_units_per_1k_records_ENC   5 KB (5120-byte) units the cloud
                                 bills, summed over the messages, per 1000
                                 records
  cpu_s_per_100k_records_ENC     the worker's utime+stime (/proc) while
                                 100,000 records pass at the e2e rate
                                 (1000 nodes on two concentrators offering
                                 300,000 records/s)
  idle_wakeups_per_s             context switches per second of both
  quiet_wakeups_per_s            processes (parent and worker): with no
                                 traffic, and with a quiet farm's 50
                                 records/s
  rss_anon_kib_10k_devices       the worker's RssAnon with 10,000 devices
  bridge_*                       the same figures for the bridge (its
                                 local broker: CPU, wake-ups, peak RSS)
  wire_ratio_vs_bridge_ENC       ours / the bridge's, TCP payload bytes
  cpu_ratio_vs_bridge_ENC        ours / the bridge's local broker, CPU

Usage: bench/cost.py --build DIR [--runs N] [--no-bridge]
Prints one `name value unit` line per figure (medians of N runs for ours;
the bridge runs once).  Needs root (tcpdump, the anchor's harness).
"""

import argparse
import json
import math
import os
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
import benchlib  # noqa: E402
import e2e  # noqa: E402
import fbe2e  # noqa: E402

METERING_UNIT_BYTES = 5 * 1024
WAKEUP_WINDOW_S = 10
QUIET_NODES = 50            # one record/s each: a quiet farm
ANCHOR = os.path.join(TOP, "..", "shared", "anchors", "mosquitto-bridge")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def switches(pids):
    """Voluntary and involuntary context switches of pids, summed."""
    n = 0
    for pid in pids:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if "ctxt_switches:" in line:
                    n += int(line.split()[1])
    return n


def wakeups_per_s(pids, window=WAKEUP_WINDOW_S):
    a = switches(pids)
    time.sleep(window)
    return (switches(pids) - a) / window


class Capture:
    """tcpdump on lo for one TCP port, into a pcap file."""

    def __init__(self, h, port):
        self.path = h.path("lo.pcap")
        err = h.path("tcpdump.err")
        self.p = h._spawn("tcpdump", ["tcpdump", "-i", "lo", "-n", "-s",
                                      "200", "-B", "65536", "-w", self.path,
                                      "tcp port %d" % port], err=err)
        fbe2e.wait_for(lambda: "listening on" in h.read("tcpdump.err"), 10,
                       "tcpdump to listen")

    def stop(self):
        self.p.send_signal(signal.SIGINT)
        self.p.wait(10)

    def ip_bytes(self, port_a, port_b):
        """IP bytes of the packets between ports port_a and port_b."""
        with open(self.path, "rb") as f:
            data = f.read()
        magic, = struct.unpack("<I", data[:4])
        e = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        link, = struct.unpack(e + "I", data[20:24])
        skip = {1: 14, 113: 16, 276: 20, 0: 4}.get(link)
        if skip is None:
            raise fbe2e.HarnessError("pcap link type %d" % link)
        off, total = 24, 0
        while off + 16 <= len(data):
            incl, = struct.unpack(e + "I", data[off + 8:off + 12])
            pkt = data[off + 16:off + 16 + incl]
            off += 16 + incl
            ip = pkt[skip:]
            if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
                continue
            ihl = (ip[0] & 15) * 4
            tot, = struct.unpack(">H", ip[2:4])
            sp, dp = struct.unpack(">HH", ip[ihl:ihl + 4])
            if {sp, dp} == {port_a, port_b}:
                total += tot
        return total


def daemon_port(broker_port, pids):
    """The local port of the daemon's connection to the broker."""
    out = subprocess.run(["ss", "-tnpH", "state", "established", "dst",
                          "127.0.0.1:%d" % broker_port],
                         stdout=subprocess.PIPE, text=True).stdout
    for line in out.splitlines():
        if any("pid=%d," % p in line for p in pids):
            return int(line.split()[2].rpartition(":")[2])
    raise fbe2e.HarnessError("no daemon connection to %d" % broker_port)


def wire_run(build, enc, nodes=50, count=200, rate=20):
    """Default batching at 1000 records/s: bytes, metering units, then the
    idle wake-ups once everything arrived; returns a dict and one record's
    JSON (for the bridge's RECORD)."""
    fbe2e.ENCODING = enc
    res = {}
    with fbe2e.Harness(build) as h:
        h.make_certs()
        h.gen_registry(nodes)
        h.start_broker()
        h.start_subscriber()
        h.start_sim("c0", ["--nodes", nodes, "--rate", rate, "--count",
                           count, "--quiet", "--seed", 11])
        h.write_daemon_conf(batch_age_ms=5000, rate_per_min=6000000,
                            rate_burst=100000, log_level="notice",
                            encoding=enc)
        cap = Capture(h, h.port)
        d = h.start_daemon()
        want = nodes * count
        arr = benchlib.Arrivals(h, want)
        fbe2e.wait_for(lambda: arr.poll() >= want, 60, "the records")
        pids = e2e.daemon_pids(d.pid)
        port = daemon_port(h.port, pids)
        tcp = e2e.tcp_bytes(h.port, pids)
        time.sleep(1)
        res["idle_wakeups"] = wakeups_per_s(pids)
        cap.stop()
        res["wire"] = tcp / want
        res["ip"] = cap.ip_bytes(h.port, port) / want
        units, records, sample = 0, 0, None
        with open(h.path("upstream.txt")) as f:
            for line in f:
                topic, _, field = line.rstrip("\n").partition(" ")
                if topic.endswith("/status"):
                    continue
                size = fbe2e.sub_size(field)
                doc = json.loads(fbe2e.sub_payload(field))
                units += math.ceil(size / METERING_UNIT_BYTES)
                records += len(doc.get("records", []))
                if sample is None and doc.get("records"):
                    m = re.search(r'"records":\[(\{.*?\})[,\]]',
                                  fbe2e.sub_payload(field))
                    sample = m.group(1)
        res["units"] = units * 1000 / records
        h.stop_daemon()
    return res, sample


def quiet_run(build, enc):
    """Wake-ups per second of both processes at 50 records/s."""
    fbe2e.ENCODING = enc
    with fbe2e.Harness(build) as h:
        h.make_certs()
        h.gen_registry(QUIET_NODES)
        h.start_broker()
        h.start_subscriber()
        h.start_sim("c0", ["--nodes", QUIET_NODES, "--rate", 1, "--count",
                           40, "--quiet", "--seed", 12])
        h.write_daemon_conf(batch_age_ms=5000, rate_per_min=6000000,
                            rate_burst=100000, log_level="notice",
                            encoding=enc)
        d = h.start_daemon()
        arr = benchlib.Arrivals(h, 1)
        fbe2e.wait_for(lambda: arr.poll() >= 1, 30, "the first batch")
        v = wakeups_per_s(e2e.daemon_pids(d.pid))
        h.stop_daemon()
    return v


def cpu_run(build, enc):
    """Worker CPU seconds per 100k records at the e2e rate."""
    r = e2e.run(build, 1000, 100, 300, sims=2, measure_cpu=True,
                encoding=enc, timeout=180)
    return r["cpu"] * 100000 / r["records"]


def json_seq(path):
    """The JSON values in a file, one after the other (the anchor's
    .jsonl lines may span several lines)."""
    with open(path) as f:
        text = f.read()
    dec, pos, out = json.JSONDecoder(), 0, []
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos == len(text):
            return out
        v, pos = dec.raw_decode(text, pos)
        out.append(v)


def bridge(record):
    """The anchor's tput and wire scenarios with our record, then its
    local broker's wake-ups; a dict of figures, or None if absent."""
    if not os.path.isfile(os.path.join(ANCHOR, "run.sh")):
        return None
    tmp = tempfile.mkdtemp(prefix="fb-bridge.")
    try:
        src = os.path.join(tmp, "anchor")
        shutil.copytree(ANCHOR, src)
        ports = [fbe2e.free_port() for _ in range(3)]
        env = dict(os.environ, REPS="1", PHASES="tput wire",
                   TPUT_WINDOWS="20", TPUT_VARIANTS="unbounded",
                   WIRE_MODES="full", N_TPUT="100000", N_WIRE="20000",
                   WORK=os.path.join(tmp, "work"),
                   RESULTS=os.path.join(tmp, "results"),
                   LOCAL_PORT=str(ports[0]), UP_PORT=str(ports[1]),
                   UP_SUB_PORT=str(ports[2]),
                   RECORD=re.sub(r'"fcnt":\d+', '"fcnt":%ld', record))
        subprocess.run(["bash", os.path.join(src, "run.sh")], env=env,
                       stdout=subprocess.DEVNULL, stderr=open(
                           os.path.join(tmp, "run.log"), "w"),
                       timeout=1200, check=True)
        raw = os.path.join(tmp, "results", "raw")
        tput = json_seq(os.path.join(raw, "tput.jsonl"))[-1]
        wire = json_seq(os.path.join(raw, "wire.jsonl"))[-1]
        pr = wire["wire"]["per_record"]
        out = {
            "wire": pr["up_tcp_payload_bytes"] + pr["down_tcp_payload_bytes"],
            "ip": pr["up_ip_bytes"] + pr["down_ip_bytes"],
            "cpu": tput["cpu_ticks_local"] / CLK_TCK * 100000 / tput["n"],
            "rss": tput["local_hwm_kb"],
            "record_bytes": len(record),
        }
        r = subprocess.run(["bash", os.path.join(HERE, "bridge_wakeups"),
                            src, env["WORK"]],
                           env=env, stdout=subprocess.PIPE, text=True,
                           timeout=120, check=True)
        for line in r.stdout.splitlines():
            k, _, v = line.partition(" ")
            out[k] = float(v)
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-bridge", action="store_true")
    a = ap.parse_args()
    if os.geteuid() != 0 or shutil.which("tcpdump") is None:
        print("bench/cost.py: skipped: needs root and tcpdump",
              file=sys.stderr)
        return 0
    med = statistics.median
    ours = {}
    sample = None
    for enc in ("json", "zlib"):
        runs = []
        for _ in range(a.runs):
            r, s = wire_run(a.build, enc)
            runs.append(r)
            sample = sample or s
        ours[enc] = {k: med(r[k] for r in runs) for k in runs[0]}
        ours[enc]["cpu"] = med(cpu_run(a.build, enc) for _ in range(a.runs))
        print("wire_bytes_per_record_%s %.1f bytes" % (enc,
              ours[enc]["wire"]), flush=True)
        print("wire_ip_bytes_per_record_%s %.1f bytes" % (enc,
              ours[enc]["ip"]), flush=True)
        print("metering_units_per_1k_records_%s %.1f units" % (enc,
              ours[enc]["units"]), flush=True)
        print("cpu_s_per_100k_records_%s %.2f s" % (enc, ours[enc]["cpu"]),
              flush=True)
    print("idle_wakeups_per_s %.1f /s" % ours["json"]["idle_wakeups"],
          flush=True)
    print("quiet_wakeups_per_s %.1f /s" % med(
        quiet_run(a.build, "json") for _ in range(a.runs)), flush=True)
    rss = med(e2e.run(a.build, 10000, 3, 1, measure_rss=True,
                      timeout=180)["anon"] for _ in range(a.runs))
    print("rss_anon_kib_10k_devices %d KiB" % rss, flush=True)
    if a.no_bridge:
        return 0
    b = bridge(sample)
    if b is None:
        print("bench/cost.py: %s is absent: no comparison with the "
              "bridge" % os.path.normpath(ANCHOR), flush=True)
        return 0
    print("bridge_record_bytes %d bytes" % b["record_bytes"])
    print("bridge_wire_bytes_per_record %.1f bytes" % b["wire"])
    print("bridge_wire_ip_bytes_per_record %.1f bytes" % b["ip"])
    print("bridge_metering_units_per_1k_records 1000.0 units")
    print("bridge_cpu_s_per_100k_records %.2f s" % b["cpu"])
    print("bridge_idle_wakeups_per_s %.1f /s" % b["idle_wakeups"])
    print("bridge_quiet_wakeups_per_s %.1f /s" % b["quiet_wakeups"])
    print("bridge_rss_hwm_kib %d KiB" % b["rss"])
    for enc in ("json", "zlib"):
        print("wire_ratio_vs_bridge_%s %.3f" % (enc,
              ours[enc]["wire"] / b["wire"]))
        print("cpu_ratio_vs_bridge_%s %.3f" % (enc, ours[enc]["cpu"] /
                                                 b["cpu"]))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except fbe2e.HarnessError as e:
        print("bench/cost.py: %s" % e, file=sys.stderr)
        sys.exit(1)
