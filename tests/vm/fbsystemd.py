"""fbsystemd - the real-systemd scenario of tests/vm/test_systemd and
bench/powercut.py: fieldbridged installed as docs/operations.md says, under
systemd/fieldbridge.service exactly as shipped, in a qemu guest (fbvm.py).

Run.setup() makes the test PKI, the registry and the simulator on the
host, the payload disk, and boots the guest; install() installs and starts
the unit.  The checks are methods; the caller picks which to run.  Every
record's fate is accounted at the end (accounting(), required()):

  The simulator logs each record with the host's CLOCK_MONOTONIC time of
  its write to the concentrator line.  The daemon's life is cut into
  segments, one per daemon instance: from its start (a boot, a restart by
  the watchdog, a start after a stop) to its end (the worker frozen, a
  clean stop, the power cut).  After a restart each node must join again,
  so within a segment a node's records count from its first delivered one
  on.  A record is *required* when the daemon received it more than
  spool.durability_ms (+ DELTA_S) before the segment's end, as far as the
  test can tell: it was sent before a record whose receive time ("rx")
  is that old.  The line under TCG (host pty, emulated UART) delays
  records by a varying amount, so the send time alone would not do.
  Required but never delivered = lost.

Python 3 standard library only.
"""

import base64
import collections
import datetime
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))
import fbe2e  # noqa: E402
import fbspool  # noqa: E402
import fbvm  # noqa: E402

GATEWAY_ID = "vm-gw"
RENEWED_CN = "vm-gw-renewed"
DURABILITY_MS = 1000
INFLIGHT_MAX = 16
DELTA_S = 0.5           # error of the guest-to-host clock mapping, and more
NODES = 3
RATE = 20               # records/s per node: a node joins again after 48
                        # unanswered uplinks, 2.4 s after a restart
MAX_EXPOSURE = 2.0

CONF = """# fieldbridged in the test guest (tests/vm/fbsystemd.py)
gateway_id = "%(gw)s";
state_dir = "/var/lib/fieldbridge";
registry = "/etc/fieldbridge/devices.conf";
keys = "/etc/fieldbridge/keys.conf";
user = "fieldbridge";
serial_group = "dialout";
concentrators = (
  { name = "lora0"; path = "/dev/ttyS1"; driver = "fbsp"; baud = 115200; }
);
mqtt = {
  host = "127.0.0.1";
  port = 8883;
  ca = "/etc/fieldbridge/ca.pem";
  cert = "/etc/fieldbridge/gateway.pem";
  key = "/etc/fieldbridge/gateway.key";
  topic_prefix = "fieldbridge";
  keepalive_s = 10;
  backoff_min_ms = 100;
  backoff_max_ms = 1000;
  inflight_max = %(inflight)d;
};
batch = { max_records = 500; max_bytes = 4900; max_age_ms = 500; };
policy = { rate_per_min = 0; rate_burst = 1000; };
spool = { durability_ms = %(dur)d; };
"""

MOSQUITTO_CONF = """per_listener_settings false
allow_anonymous false
persistence false
log_dest stderr
log_type error
log_type warning
log_type notice
log_type information
log_type subscribe
connection_messages true
listener 8883 127.0.0.1
cafile /etc/fbtest/ca.pem
certfile /etc/fbtest/broker.pem
keyfile /etc/fbtest/broker.key
require_certificate true
use_identity_as_username true
"""

# Run in the guest from the payload disk: docs/operations.md's steps.
INSTALL = r"""set -e
mkdir -p /mnt/payload
mountpoint -q /mnt/payload || mount -o ro /dev/vdb /mnt/payload
p=/mnt/payload
install -m 0755 $p/fieldbridged /usr/sbin/fieldbridged
install -m 0644 $p/fieldbridge.service /etc/systemd/system/fieldbridge.service
install -D -m 0644 $p/fieldbridged.8 /usr/share/man/man8/fieldbridged.8
getent passwd fieldbridge >/dev/null ||
	useradd --system --user-group --no-create-home \
		--home-dir /var/lib/fieldbridge --shell /usr/sbin/nologin fieldbridge
usermod -a -G dialout fieldbridge
install -d -m 0755 /etc/fieldbridge
install -m 0644 $p/fieldbridge.conf /etc/fieldbridge/fieldbridge.conf
install -m 0640 -g fieldbridge $p/devices.conf /etc/fieldbridge/devices.conf
install -m 0600 -o fieldbridge -g fieldbridge $p/keys.conf /etc/fieldbridge/keys.conf
install -m 0600 -o fieldbridge -g fieldbridge $p/gateway.key /etc/fieldbridge/gateway.key
install -m 0644 $p/gateway.pem /etc/fieldbridge/gateway.pem
install -m 0644 $p/ca.pem /etc/fieldbridge/ca.pem
install -d -m 0755 /etc/fbtest
install -m 0644 $p/ca.pem $p/broker.pem $p/subscriber.pem /etc/fbtest/
install -m 0600 -o mosquitto $p/broker.key /etc/fbtest/broker.key
install -m 0600 $p/subscriber.key /etc/fbtest/subscriber.key
install -m 0644 $p/mosquitto.conf /etc/mosquitto/mosquitto.conf
systemctl daemon-reload
systemctl enable -q mosquitto fb-recorder fieldbridge
systemctl restart mosquitto
systemctl restart fb-recorder
# On disk now: the test may cut the power within a minute (dirty pages
# of new files wait up to 30 s for writeback).
sync
"""


class Run:
    def __init__(self, build, checks, keep=False, seed=None):
        self.build = os.path.abspath(build)
        self.c = checks
        self.keep = keep
        self.rng = random.Random(seed)
        self.h = None
        self.vm = None
        self.work = None
        self.segments = []      # (start, end, kind)
        self.seg_start = None
        self.figures = []       # (name, value, unit)
        self.cuts = 0
        self.boots_down = 0
        self.quarantined = 0
        self.restarts = 0       # daemon starts after the first

    # --- set-up -----------------------------------------------------------

    def figure(self, name, value, unit):
        self.figures.append((name, value, unit))
        self.c.info("%s %s %s" % (name, value, unit))

    def setup(self):
        self.h = fbspool.SpoolHarness(self.build, keep=self.keep)
        self.h.__enter__()
        os.chmod(self.h.dir, 0o700)
        self.work = self.h.path("vm")
        os.mkdir(self.work)
        imgdir, secs = fbvm.image([os.path.join(self.build, "daemon",
                                                "fieldbridged")])
        self.image_s = secs
        self.figure("vm_image_ready_s", "%.1f" % secs, "s")
        h = self.h
        h.make_certs()
        h.make_leaf("renewed", RENEWED_CN)
        h.gen_registry(NODES)
        self.link = h.start_sim("lora0", ["--nodes", NODES, "--rate", RATE,
                                          "--quiet", "--seed", 7])
        pay = os.path.join(self.work, "payload")
        os.mkdir(pay)
        cp = lambda src, dst: shutil.copyfile(src, os.path.join(pay, dst))
        cp(os.path.join(self.build, "daemon", "fieldbridged"), "fieldbridged")
        cp(os.path.join(fbvm.TOP, "systemd", "fieldbridge.service"),
           "fieldbridge.service")
        cp(os.path.join(fbvm.TOP, "daemon", "fieldbridged.8"),
           "fieldbridged.8")
        cp(h.registry, "devices.conf")
        cp(h.keys, "keys.conf")
        for n in ("ca", "broker", "gateway", "subscriber", "renewed"):
            cp("%s/%s.pem" % (h.pki, n), n + ".pem")
            if n != "ca":
                cp("%s/%s.key" % (h.pki, n), n + ".key")
        with open(os.path.join(pay, "fieldbridge.conf"), "w") as f:
            f.write(CONF % {"gw": GATEWAY_ID, "dur": DURABILITY_MS,
                            "inflight": INFLIGHT_MAX})
        with open(os.path.join(pay, "mosquitto.conf"), "w") as f:
            f.write(MOSQUITTO_CONF)
        img = os.path.join(self.work, "payload.img")
        fbvm.mkfs_dir(pay, img)
        self.vm = fbvm.Vm(imgdir, self.work, tty=os.path.realpath(self.link),
                          payload=img)
        # The recorder's file is the harness's upstream.txt, which
        # SpoolHarness.messages() reads.
        self.vm.rec = h.path("upstream.txt")
        secs = self.vm.boot()
        self.t_boot = time.monotonic()
        self.figure("vm_boot_to_agent_s", "%.1f" % secs, "s")

    def close(self):
        if self.vm is not None:
            if self.keep:
                self.vm.shutdown(30)
            self.vm.kill()
        if self.h is not None:
            self.h.__exit__(None, None, None)

    # --- helpers ------------------------------------------------------------

    def unit(self, *props):
        return self.vm.show("fieldbridge.service", *props)

    def worker_pid(self, main):
        out = self.vm.out("cat /proc/%s/task/%s/children 2>/dev/null || "
                          "true" % (main, main))
        kids = out.split()
        return int(kids[0]) if kids else None

    def wait_active(self, timeout, not_pid=None):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            u = self.unit("ActiveState", "SubState", "MainPID")
            if u.get("ActiveState") == "active" and \
                    u.get("SubState") == "running" and \
                    u.get("MainPID", "0") not in ("0", str(not_pid)):
                return u
            time.sleep(1.0)
        return None

    def delivered(self):
        """{(eui, fcnt)} delivered, and the batch messages."""
        msgs = self.h.messages()
        got = set()
        for m in msgs:
            if m.kind in ("live", "backlog") and \
                    isinstance(m.doc.get("records"), list):
                for eui, fcnt, data in self.h.records_of(m.doc):
                    got.add((eui, fcnt, data))
        return got, msgs

    def flowing_since(self, t, timeout, nodes=NODES):
        """Wait until records of every node sent after t were delivered."""
        def ok():
            got, _ = self.delivered()
            seen = {e for e, f, d, ts in self.h.sent_timed()
                    if ts > t and (e, f, d) in got}
            return len(seen) >= nodes
        try:
            fbe2e.wait_for(ok, timeout, "records sent after t", 1.0)
            return True
        except fbe2e.HarnessError:
            return False

    def end_segment(self, kind):
        now = time.monotonic()
        self.segments.append((self.seg_start, now, kind))
        return now

    # --- the checks ----------------------------------------------------------

    def install(self):
        c, vm = self.c, self.vm
        vm.run(INSTALL, timeout=120)
        rc, out = vm.run("systemd-analyze verify "
                         "/etc/systemd/system/fieldbridge.service 2>&1",
                         check=False, timeout=120)
        c.check("systemd_analyze_verify_clean", rc == 0 and not out.strip(),
                out.strip()[:500])
        self.seg_start = time.monotonic()
        t0 = time.monotonic()
        rc, out = vm.run("systemctl start fieldbridge 2>&1", check=False,
                         timeout=120)
        took = time.monotonic() - t0
        u = self.unit("ActiveState", "SubState", "Type", "NotifyAccess",
                      "ExecMainStartTimestampMonotonic",
                      "ActiveEnterTimestampMonotonic", "MainPID",
                      "WatchdogUSec", "Result")
        ok = rc == 0 and u.get("ActiveState") == "active" and \
            u.get("SubState") == "running"
        c.check("unit_as_shipped_reaches_active_running", ok,
                "%s %s; %s" % (u, out.strip(), self.journal()[-1500:]))
        c.check("unit_is_notify_with_notify_access_main",
                u.get("Type") == "notify" and
                u.get("NotifyAccess") == "main", str(u))
        if ok:
            ready = (int(u["ActiveEnterTimestampMonotonic"]) -
                     int(u["ExecMainStartTimestampMonotonic"])) / 1e6
            self.figure("ready_after_exec_s", "%.2f" % ready, "s")
            self.figure("systemctl_start_s", "%.2f" % took, "s")
        self.main_pid = u.get("MainPID")
        self.t_active = time.monotonic()
        return ok

    def journal(self, unit="fieldbridge.service"):
        return self.vm.out("journalctl -b -q --no-pager -o cat -u %s" % unit)

    def confinement(self):
        c, vm = self.c, self.vm
        main = self.main_pid
        w = self.worker_pid(main)
        if not c.check("worker_running", w is not None):
            return
        self.worker = w
        script = r"""
uid=$(id -u fieldbridge)
echo "uid $uid"
for p in %s %s; do
  echo "pid $p"
  grep -E '^(Uid|Gid|CapEff|CapPrm|CapAmb|NoNewPrivs|Seccomp):' /proc/$p/status
  echo "root $(readlink /proc/$p/root)"
  echo "core $(awk '/^Max core file size/ { print $5 " " $6 }' /proc/$p/limits)"
  echo "owner $(stat -c %%u /proc/$p/mem)"
done
echo "spool $(stat -c '%%U:%%G %%a' /var/lib/fieldbridge/spool)"
echo "state $(stat -c '%%U:%%G %%a' /var/lib/fieldbridge)"
find /var/lib/fieldbridge -perm /6000 | sed 's/^/setid /'
""" % (main, w)
        out = vm.out(script)
        info = collections.defaultdict(dict)
        cur = None
        uid = None
        for line in out.splitlines():
            k, _, v = line.partition(" ")
            if k == "uid":
                uid = v.strip()
            elif k == "pid":
                cur = v.strip()
            elif line.split()[0].endswith(":"):
                info[cur][line.split()[0][:-1]] = line.split()[1:]
            elif cur is not None and k in ("root", "core", "owner"):
                info[cur][k] = v.strip()
        wi = info.get(str(w), {})
        pi = info.get(str(main), {})
        c.check("worker_chrooted_in_state_dir",
                wi.get("root") == "/var/lib/fieldbridge", str(wi))
        c.check("worker_runs_as_service_user_without_capabilities",
                wi.get("Uid", [None])[0] == uid and
                set(wi.get("Uid", [])) == {uid} and
                wi.get("CapEff") == ["0000000000000000"] and
                wi.get("CapPrm") == ["0000000000000000"], str(wi))
        c.check("worker_no_new_privs_and_seccomp_filter",
                wi.get("NoNewPrivs") == ["1"] and wi.get("Seccomp") == ["2"],
                str(wi))
        # /proc/PID of a process that is not dumpable belongs to root.
        c.check("worker_not_dumpable_no_core",
                wi.get("owner") == "0" and wi.get("core") == "0 0", str(wi))
        c.check("parent_is_service_user_under_its_filter",
                set(pi.get("Uid", [])) == {uid} and
                pi.get("Seccomp") == ["2"] and pi.get("core") == "0 0",
                str(pi))
        c.check("spool_dir_service_users_0700_no_setgid",
                "spool fieldbridge:fieldbridge 700" in out and
                "setid" not in out, out[-600:])

    def records_arrive(self):
        ok = self.flowing_since(self.seg_start, 60)
        got, _ = self.delivered()
        self.c.check("records_arrive_at_the_subscriber", ok,
                     "%d records delivered; %s" % (len(got),
                                                   self.journal()[-1500:]))

    def reload_and_renew(self):
        c, vm = self.c, self.vm
        rc, out = vm.run("systemctl reload fieldbridge 2>&1", check=False)
        time.sleep(1)
        u = self.unit("ActiveState", "MainPID")
        c.check("systemctl_reload", rc == 0 and
                u.get("ActiveState") == "active" and
                u.get("MainPID") == self.main_pid, "%s %s" % (out, u))
        # Renewal as an operator does it: new files renamed into place,
        # then SIGHUP to the main PID.
        t = time.monotonic()
        vm.run("""set -e
p=/mnt/payload
install -m 0600 -o fieldbridge -g fieldbridge $p/renewed.key /etc/fieldbridge/.key.new
install -m 0644 $p/renewed.pem /etc/fieldbridge/.pem.new
mv /etc/fieldbridge/.key.new /etc/fieldbridge/gateway.key
mv /etc/fieldbridge/.pem.new /etc/fieldbridge/gateway.pem
sync
kill -HUP %s
""" % self.main_pid)

        def renewed():
            return ("u'%s'" % RENEWED_CN) in self.journal("mosquitto.service")
        try:
            fbe2e.wait_for(renewed, 30, "a connection with the renewed "
                           "certificate", 1.0)
            ok = True
        except fbe2e.HarnessError:
            ok = False
        same = vm.run("cmp /mnt/payload/renewed.pem "
                      "/var/lib/fieldbridge/tls/cert.pem", check=False)[0]
        c.check("sighup_renews_the_client_certificate", ok and same == 0,
                "broker saw %s: %s, chroot copy current: %s" % (
                    RENEWED_CN, ok, same == 0))
        c.check("records_flow_after_renewal", self.flowing_since(t, 30))

    def watchdog_fed(self):
        """WatchdogTimestamp is the time of the last WATCHDOG=1 systemd
        accepted: polled every second, its first change after the first
        sample spans exactly one keep-alive interval (one every 15 s
        cannot slip between two polls)."""
        c = self.c
        u = self.unit("WatchdogUSec", "NRestarts")
        c.check("watchdog_is_30s", u.get("WatchdogUSec") == "30s", str(u))
        seen = []
        end = time.monotonic() + 25
        while time.monotonic() < end and len(seen) < 2:
            t = int(self.unit("WatchdogTimestampMonotonic").get(
                "WatchdogTimestampMonotonic", "0"))
            if t and (not seen or t != seen[-1]):
                seen.append(t)
            time.sleep(1.0)
        gaps = [(b - a) / 1e6 for a, b in zip(seen, seen[1:])]
        c.check("watchdog_fed_every_15s", len(gaps) == 1 and
                10 <= gaps[0] <= 20 and
                self.unit("NRestarts").get("NRestarts") == "0",
                "intervals %s" % gaps)
        if gaps:
            self.figure("watchdog_feed_interval_s", "%.1f" % gaps[0], "s")

    def security(self):
        out = self.vm.out("systemd-analyze security --no-pager "
                          "fieldbridge.service 2>&1 || true", timeout=120)
        m = re.search(r"Overall exposure level for fieldbridge\.service: "
                      r"([0-9.]+)", out)
        score = float(m.group(1)) if m else None
        self.c.check("live_exposure_at_most_%.1f" % MAX_EXPOSURE,
                     score is not None and score <= MAX_EXPOSURE,
                     out[-800:])
        if score is not None:
            self.figure("exposure_live", "%.1f" % score, "score")

    def freeze_trips_watchdog(self):
        c, vm = self.c, self.vm
        old = self.main_pid
        w = self.worker_pid(old)
        t0 = self.end_segment("freeze")
        vm.run("kill -STOP %d" % w)
        u = self.wait_active(100, not_pid=old)
        took = time.monotonic() - t0
        self.seg_start = time.monotonic()
        n = self.unit("NRestarts")
        j = self.vm.out("journalctl -b -q --no-pager -o cat "
                        "-u fieldbridge.service | grep -i 'watchdog' || true")
        c.check("frozen_worker_trips_the_watchdog_and_the_unit_restarts",
                u is not None and n.get("NRestarts", "0") != "0" and
                "atchdog timeout" in j, "%s %s %s" % (u, n, j[-500:]))
        self.figure("freeze_to_active_again_s", "%.1f" % took, "s")
        if u is not None:
            self.main_pid = u["MainPID"]
            self.restarts += 1
        self.t_active = time.monotonic()
        c.check("records_flow_after_the_watchdog_restart",
                self.flowing_since(self.seg_start, 60))

    def stop_start(self):
        c, vm = self.c, self.vm
        t0 = self.end_segment("stop")
        rc, out = vm.run("systemctl stop fieldbridge 2>&1", check=False,
                         timeout=120)
        took = time.monotonic() - t0
        u = self.unit("ActiveState", "Result", "ExecMainCode",
                      "ExecMainStatus")
        c.check("systemctl_stop_is_clean", rc == 0 and
                u.get("ActiveState") == "inactive" and
                u.get("Result") == "success" and
                u.get("ExecMainStatus") == "0", "%s %s" % (u, out))
        self.figure("systemctl_stop_s", "%.2f" % took, "s")
        self.seg_start = time.monotonic()
        rc, out = vm.run("systemctl start fieldbridge 2>&1", check=False,
                         timeout=120)
        u = self.wait_active(60)
        c.check("starts_again_after_stop", rc == 0 and u is not None, out)
        if u is not None:
            self.main_pid = u["MainPID"]
            self.restarts += 1
        self.t_active = time.monotonic()
        c.check("records_flow_after_start", self.flowing_since(
            self.seg_start, 60))

    def journal_clean(self, name="journal_has_no_sigsys_and_no_permission_"
                      "error"):
        j = self.journal()
        k = self.vm.out("journalctl -b -q --no-pager -k -o cat | "
                        "grep -E 'type=1326|seccomp' || true")
        bad = [line for line in j.splitlines()
               if re.search(r"SIGSYS|signal 31|Operation not permitted|"
                            r"Permission denied|EPERM|EACCES", line)]
        self.c.check(name, not bad and not k, "\n".join(bad[:10] + [k[:500]]))

    # --- power cuts ------------------------------------------------------------

    def power_cut(self):
        """Broker unreachable, records flowing into the spool, qemu
        killed, boot again; the broker comes back with the boot.

        The broker is frozen (SIGSTOP), not stopped: a stopping mosquitto
        may acknowledge a batch to the daemon and die before it passed it
        on to the recorder, which the test would count as lost although
        the daemon did its part.  Frozen, it acknowledges nothing more
        and passes nothing more on, like a broker behind a dead link."""
        c, vm = self.c, self.vm
        if not self.flowing_since(self.t_active + 2, 60):
            c.info("power cut %d: records were not flowing before it" %
                   (self.cuts + 1))
        vm.run("systemctl kill -s SIGSTOP mosquitto.service")
        time.sleep(self.rng.uniform(3.0, 6.0))
        self.end_segment("cut")
        vm.kill()
        self.cuts += 1
        t_boot = time.monotonic()
        self.seg_start = t_boot
        vm.boot()
        u = self.wait_active(120)
        if u is None:
            self.boots_down += 1
            c.info("power cut %d: fieldbridge did not come up:\n%s" % (
                self.cuts, self.journal()[-2000:]))
            return
        self.restarts += 1
        self.main_pid = u["MainPID"]
        self.t_active = time.monotonic()
        self.figure("powercut_%d_boot_to_active_s" % self.cuts, "%.1f" %
                    (time.monotonic() - t_boot), "s")
        if self.cuts == 1:
            c.info("after the cut: " + " | ".join(vm.out(
                "systemd-analyze critical-chain --no-pager "
                "fieldbridge.service 2>&1 | tail -n 6").splitlines()))
        q = vm.out("ls /var/lib/fieldbridge/spool/quarantine 2>/dev/null "
                   "| wc -l")
        self.quarantined = int(q or "0")

    # --- accounting --------------------------------------------------------------

    def received(self):
        """{(eui, fcnt, data): rx} of delivered records, rx the guest's
        wall clock at receipt (seconds since the epoch)."""
        out = {}
        for m in self.h.messages():
            if m.kind not in ("live", "backlog") or \
                    not isinstance(m.doc.get("records"), list):
                continue
            for r in m.doc["records"]:
                try:
                    rx = datetime.datetime.strptime(
                        r["rx"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                            tzinfo=datetime.timezone.utc).timestamp()
                    key = (r["dev"].upper(), int(r["fcnt"]),
                           base64.b64decode(r["data"]))
                except (KeyError, ValueError):
                    continue
                out.setdefault(key, rx)
        return out

    def required(self):
        """[((eui, fcnt, data), t, segment kind)] that must be delivered.

        A node's frame counter restarts with each session: a record is
        known by its payload too (random, from the simulator's seed).
        The daemon reads the line in the order the simulator wrote it, so
        a record sent before one that was received at time T was
        received (accepted) before T, if at all.  Received times come
        from the records' "rx" (the guest's wall clock), mapped to the
        host's monotonic clock per segment by the smallest difference
        seen (at most the shortest line delay off).  Within a segment a
        record is required when it was sent after its node's first
        delivered record of that segment and before the last delivered
        record received more than durability_ms + DELTA_S before the
        segment's end (no durability window for a clean stop)."""
        sent = self.h.sent_timed()
        rx = self.received()
        out = []
        self.lags = []
        for start, end, kind in self.segments:
            w = DELTA_S if kind == "stop" else DURABILITY_MS / 1000 + DELTA_S
            seg = [(k, t) for k, t in ((s[:3], s[3]) for s in sent)
                   if start <= t <= end]
            got = [(k, t, rx[k]) for k, t in seg if k in rx]
            if not got:
                continue
            offset = min(r - t for _, t, r in got)
            self.lags += [r - offset - t for _, t, r in got]
            last = max([t for _, t, r in got if r - offset <= end - w],
                       default=None)
            first = {}
            for k, t, _ in got:
                first[k[0]] = min(first.get(k[0], t), t)
            if last is None:
                continue
            for k, t in seg:
                if k[0] in first and first[k[0]] <= t <= last:
                    out.append((k, t, "%s(+%.1fs,-%.1fs)" % (
                        kind, t - start, end - t)))
        return out

    def accounting(self, prefix):
        c = self.c
        req = self.required()
        keys = {k for k, _, _ in req}
        try:
            fbe2e.wait_for(lambda: keys <= self.delivered()[0], 90,
                           "every required record", 1.0)
        except fbe2e.HarnessError:
            pass
        got, msgs = self.delivered()
        lost = [(r[0], r[1], kind) for r, _, kind in req if r not in got]
        by_kind = collections.Counter(k.split("(")[0] for _, _, k in lost)
        if self.lags:
            lags = sorted(self.lags)
            self.figure("%s_line_delay_p50_s" % prefix, "%.2f" %
                        lags[len(lags) // 2], "s")
            self.figure("%s_line_delay_max_s" % prefix, "%.2f" % lags[-1],
                        "s")
        c.check("%s_no_required_record_lost" % prefix, not lost,
                "%d of %d lost (%s), e.g. %s" % (
                    len(lost), len(req), dict(by_kind), lost[:5]))
        batches = fbspool.batch_checks(c, msgs, INFLIGHT_MAX,
                                       max(self.restarts, 1))
        dup = sum(1 for m in msgs if m.kind in ("live", "backlog")) - \
            len(batches)
        seqs = collections.defaultdict(set)
        for seq, doc in batches.items():
            for rec in self.h.records_of(doc):
                seqs[rec].add(seq)
        twice = sum(1 for s in seqs.values() if len(s) > 1)
        c.check("%s_no_record_in_two_batches" % prefix, twice == 0,
                "%d records" % twice)
        gaps = [m for m in msgs if m.kind == "event"]
        c.check("%s_no_gap_event" % prefix, not gaps,
                "; ".join(m.raw for m in gaps[:3]))
        c.check("%s_no_spool_file_quarantined" % prefix,
                self.quarantined == 0, "%d files" % self.quarantined)
        c.check("%s_daemon_came_up_after_every_boot" % prefix,
                self.boots_down == 0, "%d boots" % self.boots_down)
        self.figure("%s_cuts" % prefix, self.cuts, "cuts")
        self.figure("%s_records_required" % prefix, len(req), "records")
        self.figure("%s_records_lost" % prefix, len(lost), "records")
        self.figure("%s_batches_duplicated" % prefix, dup, "batches")
        self.figure("%s_records_in_two_batches" % prefix, twice, "records")
        self.figure("%s_quarantined_files" % prefix, self.quarantined,
                    "files")
        self.figure("%s_boots_daemon_down" % prefix, self.boots_down,
                    "boots")
        self.figure("%s_records_delivered" % prefix, len(got), "records")

    def dump(self):
        sys.stderr.write("---- fieldbridge journal (tail)\n")
        try:
            sys.stderr.write(self.journal()[-3000:] + "\n")
        except Exception as e:  # the guest may be gone
            sys.stderr.write("(no journal: %s)\n" % e)
        if self.vm is not None:
            sys.stderr.write("---- console (tail)\n%s\n" %
                             self.vm.console_tail(30))
