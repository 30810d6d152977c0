"""fbspool - the pieces the spool's end-to-end tests share (test_crash,
test_outage, test_diskfull), on top of fbe2e.Harness.

A SpoolHarness adds what those tests need beyond the plain e2e run:
  - a broker that can be stopped and started again on the same port, with
    persistence, and a subscriber with a persistent session (clean session
    off, QoS 1), so that nothing published while it reconnects is lost to
    the test: every message the broker accepted is recorded, with its
    arrival time (mosquitto_sub -F '%U ...');
  - the daemon in its own session, so that `kill -9` takes it whole (the
    privileged parent and the confined child) like a power cut would;
  - the simulator's log with send times (fieldbridge-sim --log-time);
  - the upstream messages sorted into live batches, backlog batches, gap
    events and status;
  - the status file and `fieldbridge status`.

Extra daemon arguments can be given in $FB_E2E_DAEMON_ARGS (e.g.
"--no-sandbox" while debugging).  Python 3 standard library only.
"""

import collections
import json
import os
import signal
import subprocess
import sys
import time

import fbe2e

TOPIC_PREFIX = fbe2e.TOPIC_PREFIX
SUB_ID = "e2e-spool-subscriber"

# raw: the payload as text (decoded); size: its bytes on the wire.
Msg = collections.namedtuple("Msg", "t topic kind stream doc raw size")


def tools_missing():
    """The first external tool not installed, or None."""
    import shutil
    for tool in ("mosquitto", "mosquitto_sub", "openssl"):
        if shutil.which(tool) is None and \
                not os.path.exists("/usr/sbin/" + tool):
            return tool
    return None


class Checks:
    """TAP-like output: ok / not ok lines, a summary at the end."""

    def __init__(self):
        self.n = 0
        self.failed = []

    def check(self, name, ok, detail=""):
        self.n += 1
        print("%s %d - %s%s" % ("ok" if ok else "not ok", self.n, name,
                                "" if ok or not detail else ": " + detail))
        sys.stdout.flush()
        if not ok:
            self.failed.append(name)
        return ok

    def info(self, text):
        print("# " + text)
        sys.stdout.flush()


def group_alive(pgid):
    """Whether a process of group pgid still runs.  A killed child whose
    parent died waits as a zombie until init reaps it, which can take a
    while in a container: zombies hold no lock, so they do not count."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces.
        fields = st[st.rfind(")") + 2:].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


class SpoolHarness(fbe2e.Harness):

    def __init__(self, build, keep=False):
        super().__init__(build, keep=keep)
        self.cli_bin = os.path.join(self.build, "tools", "fieldbridge")
        self.daemon_pgid = None
        self.daemon_args = os.environ.get("FB_E2E_DAEMON_ARGS", "").split()

    # --- broker: stop and start again on the same port --------------------

    def start_broker(self):
        """A persistent broker: subscriptions survive a restart."""
        if self.port is None:
            self.port = fbe2e.free_port()
        os.makedirs(self.path("mqdb"), exist_ok=True)
        conf = self.path("mosquitto.conf")
        with open(conf, "w") as f:
            f.write("per_listener_settings false\n"
                    "allow_anonymous false\n"
                    "persistence true\n"
                    "persistence_location %s/\n"
                    "autosave_interval 3600\n"
                    "max_queued_messages 0\n"
                    "max_inflight_messages 0\n"
                    "log_dest stderr\n"
                    "log_type error\nlog_type warning\n"
                    "log_type notice\nlog_type information\n"
                    "log_type subscribe\n"
                    "connection_messages true\n"
                    "listener %d 127.0.0.1\n"
                    "cafile %s/ca.pem\n"
                    "certfile %s/broker.pem\n"
                    "keyfile %s/broker.key\n"
                    "require_certificate true\n"
                    "use_identity_as_username true\n"
                    % (self.path("mqdb"), self.port, self.pki, self.pki,
                       self.pki))
            if os.geteuid() == 0:
                f.write("user root\n")
        err = self.path("mosquitto.err")
        start = os.path.getsize(err) if os.path.exists(err) else 0
        fe = open(err, "ab")
        self.files.append(fe)
        p = subprocess.Popen(["mosquitto", "-c", conf],
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=fe,
                             cwd=self.dir, close_fds=True)
        self.procs["mosquitto"] = p
        # The port was free a moment ago; after a stop it may linger in
        # TIME_WAIT, which mosquitto's SO_REUSEADDR allows.
        fbe2e.wait_for(lambda: p.poll() is not None or self._port_open(),
                       10, "mosquitto to listen on %d" % self.port)
        if p.poll() is not None:
            raise fbe2e.HarnessError("mosquitto did not start:\n" +
                                     self.read("mosquitto.err")[start:])
        # After a stop: mosquitto_sub does not always come back by itself
        # (seen on a loaded machine: every record after the restart went
        # missing).  Its session is persistent, so a new one misses
        # nothing.
        if "subscriber" in self.procs:
            self._stop(self.procs.pop("subscriber"), signal.SIGTERM, 5)
            self.start_subscriber(append=True)

    def stop_broker(self):
        p = self.procs.pop("mosquitto")
        self._stop(p, signal.SIGTERM, 10)

    def start_subscriber(self, append=False):
        """QoS 1, persistent session: it misses nothing across restarts."""
        n = self.read("mosquitto.err").count(SUB_ID + " 1 " + TOPIC_PREFIX +
                                             "/#")
        self._spawn("subscriber",
                    ["mosquitto_sub"] + self.client_args() +
                    ["-i", SUB_ID, "-c", "-q", "1", "-F", fbe2e.sub_format("%U "),
                     "-t", TOPIC_PREFIX + "/#"],
                    out=self.path("upstream.txt"), append=append)
        fbe2e.wait_for(lambda: self.read("mosquitto.err").count(
                       SUB_ID + " 1 " + TOPIC_PREFIX + "/#") > n, 10,
                       "the subscriber's subscription")

    # --- simulator -------------------------------------------------------

    def start_sim(self, name, args):
        return super().start_sim(name, list(args) + ["--log-time"])

    def sent_timed(self):
        """[(eui, fcnt, payload, t)] per record sent, in log order (t on
        the time.monotonic() clock)."""
        out = []
        for s in self.sims:
            with open(s["log"]) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) != 4:
                        continue        # a line being written
                    out.append((parts[0].upper(), int(parts[1]),
                                bytes.fromhex(parts[2]),
                                int(parts[3]) / 1e6))
        return out

    # --- daemon -----------------------------------------------------------

    def spawn_daemon(self, extra=()):
        """The daemon in a session of its own (see kill9_daemon)."""
        fo = open(self.path("daemon.out"), "ab")
        fe = open(self.path("daemon.err"), "ab")
        self.files += [fo, fe]
        args = self.daemon_args + list(extra)
        # As fbe2e does: confined when the harness can (root), else not.
        if not getattr(self, "sandbox", False) and \
                "--no-sandbox" not in args:
            args.append("--no-sandbox")
        p = subprocess.Popen([self.daemon_bin, "-c", self.daemon_conf] +
                             args,
                             stdin=subprocess.DEVNULL, stdout=fo, stderr=fe,
                             cwd=self.dir, close_fds=True,
                             start_new_session=True)
        self.procs["daemon"] = p
        self.daemon_pgid = p.pid
        return p

    def kill9_daemon(self):
        """SIGKILL to the daemon's whole session, as sudden as a power cut
        for the process; waits until every process of it is gone (so the
        spool's lock is free for the next start)."""
        p = self.procs.pop("daemon")
        try:
            os.killpg(self.daemon_pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait(10)

        fbe2e.wait_for(lambda: not group_alive(self.daemon_pgid), 10,
                       "the daemon's processes to go")

    def stop_daemon(self, timeout=20):
        p = self.procs.get("daemon")
        if p is None:
            return None
        try:
            p.send_signal(signal.SIGTERM)
            self.daemon_rc = p.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.daemon_pgid, signal.SIGKILL)
            p.wait(5)
            raise fbe2e.HarnessError("fieldbridged ignored SIGTERM for %d s"
                                     % timeout)
        finally:
            del self.procs["daemon"]
        return self.daemon_rc

    def close(self):
        p = self.procs.get("daemon")
        if p is not None and p.poll() is None and self.daemon_pgid:
            try:
                os.killpg(self.daemon_pgid, signal.SIGTERM)
                p.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.daemon_pgid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.procs.pop("daemon", None)
        super().close()

    def status(self):
        """The daemon's status file as a dict (ints where they are)."""
        out = {}
        for line in self.read("state/status").splitlines():
            k, _, v = line.partition("=")
            if k:
                try:
                    out[k] = int(v)
                except ValueError:
                    out[k] = v
        return out

    def cli_status(self):
        """`fieldbridge status -c CONF`: (exit status, output)."""
        r = subprocess.run([self.cli_bin, "status", "-c", self.daemon_conf],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=10)
        return r.returncode, r.stdout.decode(errors="replace")

    # --- what arrived upstream ---------------------------------------------

    def messages(self):
        """[Msg] in arrival order.  kind: live, backlog, event, status,
        health."""
        out = []
        for line in self.read("upstream.txt").splitlines():
            t, _, rest = line.partition(" ")
            topic, _, payload = rest.partition(" ")
            size = fbe2e.sub_size(payload)
            payload = fbe2e.sub_payload(payload)
            parts = topic.split("/")
            if len(parts) < 3 or parts[0] != TOPIC_PREFIX:
                continue
            try:
                t = float(t)
            except ValueError:
                continue
            stream = parts[2]
            if len(parts) == 3 and stream in fbe2e.OWN_TOPICS:
                out.append(Msg(t, topic, stream, None, None, payload,
                               size))
                continue
            try:
                doc = json.loads(payload)
            except ValueError:
                continue        # a line being written
            if len(parts) == 3 and stream == "events":
                kind = "event"
            elif len(parts) == 3:
                kind = "live"
            elif len(parts) == 4 and parts[3] == "backlog":
                kind = "backlog"
            else:
                kind = "other"
            out.append(Msg(t, topic, kind, stream, doc, payload, size))
        return out

    @staticmethod
    def records_of(doc):
        return fbe2e.Harness.batch_records(doc)


def batch_checks(c, msgs, inflight_max, reconnects):
    """Checks every test makes on the batches: a seq is never reused for
    other content, and whole batches arrive twice only within the window
    of what was in flight at a reconnect or restart.  Returns the
    {seq: doc} of data batches."""
    seen = {}
    reused = []
    dup = 0
    for m in msgs:
        if m.kind not in ("live", "backlog", "event"):
            continue
        seq = m.doc.get("seq")
        if seq in seen:
            if seen[seq][1] != m.raw:
                reused.append(seq)
            dup += 1
        else:
            seen[seq] = (m.doc, m.raw)
    c.check("batch_seq_never_reused_for_other_content", not reused,
            "seqs %s" % reused[:5])
    bound = inflight_max * max(reconnects, 1)
    c.check("duplicate_batches_within_the_inflight_window", dup <= bound,
            "%d batches arrived twice, bound %d (%d x %d reconnects)" % (
                dup, bound, inflight_max, reconnects))
    c.info("%d batches arrived twice (resent after a reconnect or restart)"
           % dup)
    return {s: d for s, (d, _) in seen.items()
            if isinstance(d.get("records"), list)}


def dump(h, lines=60):
    """What a developer needs to see when a check fails."""
    sys.stderr.write("---- fieldbridged (last %d lines)\n%s\n" % (
        lines, "\n".join(h.daemon_log().splitlines()[-lines:])))
    for s in h.sims:
        sys.stderr.write("---- fieldbridge-sim %s\n%s\n" % (
            s["name"], h.read("sim-%s.err" % s["name"])[-2000:]))
    sys.stderr.write("---- mosquitto (last 10 lines)\n%s\n" %
                     "\n".join(h.read("mosquitto.err").splitlines()[-10:]))
