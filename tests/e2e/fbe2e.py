"""fbe2e - the pieces of fieldbridge's end-to-end runs (tests and demo).

A Harness builds, in a fresh temporary directory, everything around the real
fieldbridged: throwaway certificates made with the openssl CLI (a CA, the
broker's certificate for 127.0.0.1, the gateway's client certificate with an
ECDSA P-256 key, a second client certificate for the subscriber), a
mosquitto that requires client certificates on a free 127.0.0.1 port, a
mosquitto_sub recording every message under the topic prefix, one or more
fieldbridge-sim concentrators with their nodes, and the daemon with a
generated configuration.  Every child is tracked by PID and killed, and the
directory removed, when the harness closes - also after a failure.  Every
wait is bounded.

The daemon runs sandboxed, its seccomp filter killing (the default), when
the harness runs as root: its confined child becomes SANDBOX_USER, so the
temporary directory is made traversable (0711) and the state directory
belongs to that user.  Not root, it runs with --no-sandbox (it could not
chroot).  FB_E2E_SANDBOX=0 forces --no-sandbox.

FB_E2E_ENCODING=zlib runs the daemon with compressed batches
(batch.encoding); the subscriber then records payloads in hex and
decode_payload, the test's own decoder, turns them back into the JSON
document, as a consumer would (docs/uplink-format.md, "Encodings").

Python 3 standard library only.
"""

import base64
import binascii
import grp
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zlib

TOPIC_PREFIX = "fieldbridge"
GATEWAY_ID = "e2e-gw"
RESERVED_PORTS = {1883, 8883}
SANDBOX_USER = "nobody"
BROKER_NAME = "broker.test"     # in the broker's certificate
# Debian 12's /etc/hosts as the installer writes it (netcfg): "localhost"
# is 127.0.0.1 and ::1, and ::1 sorts first (RFC 6724).
DEBIAN_HOSTS = ("127.0.0.1\tlocalhost\n127.0.1.1\tfieldbridge-e2e\n\n"
                "# The following lines are desirable for IPv6 capable hosts\n"
                "::1     localhost ip6-localhost ip6-loopback\n"
                "ff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n")


ENCODING = os.environ.get("FB_E2E_ENCODING", "json")
# PREFIX/GATEWAY/X that are the gateway's own messages, not batches: the
# online/offline status and the health message (docs/uplink-format.md).
OWN_TOPICS = ("status", "health", "commands", "command-results")


class HarnessError(Exception):
    pass


def decode_payload(raw):
    """A published payload (bytes) as text: a JSON document as it is, a
    zlib stream (RFC 1950) inflated, anything else (the status topic's
    "online") as it is.  The encoding is told by the first bytes alone."""
    if raw[:1] != b"{" and len(raw) >= 2 and raw[0] & 0x0F == 8 and \
            (raw[0] << 8 | raw[1]) % 31 == 0:
        d = zlib.decompressobj()
        doc = d.decompress(raw)
        if not d.eof or d.unused_data:
            raise ValueError("not exactly one zlib stream")
        raw = doc
    return raw.decode(errors="replace")


def sub_format(prefix=""):
    """mosquitto_sub -F format of the recorders: the payload in hex when
    it may be binary, so that one message stays one line."""
    return prefix + ("%t %p" if ENCODING == "json" else "%t %x")


def sub_size(field):
    """The payload bytes on the wire of a recorded line's last field."""
    return len(field.encode()) if ENCODING == "json" else len(field) // 2


def sub_payload(field):
    """The payload text of a recorded line's last field."""
    if ENCODING == "json":
        return field
    try:
        return decode_payload(binascii.unhexlify(field))
    except (ValueError, zlib.error, binascii.Error):
        return ""       # a line being written


def sanitizer_build(build):
    """Whether build was configured with -fsanitize (tools/dev --asan):
    its timings say nothing about the shipped daemon's."""
    try:
        with open(os.path.join(build, "Makefile")) as f:
            for line in f:
                if line.startswith("CFLAGS =") and "-fsanitize" in line:
                    return True
    except OSError:
        pass
    return False


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in RESERVED_PORTS:
            return port
    raise HarnessError("no free port")


def wait_for(pred, timeout, what, interval=0.05):
    """Poll pred() until it is true; raise after timeout seconds."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            raise HarnessError("timed out after %.1f s waiting for %s" %
                               (timeout, what))
        time.sleep(interval)


def parse_kv(line):
    """'a=1 b=2 c=x' -> {'a': 1, 'b': 2, 'c': 'x'} (ints where they are)."""
    out = {}
    for m in re.finditer(r"([A-Za-z_][A-Za-z0-9_.-]*)=(\S+)", line):
        v = m.group(2).rstrip(",;")
        out[m.group(1)] = int(v) if re.fullmatch(r"-?\d+", v) else v
    return out


class Harness:
    """Context manager: with Harness(build) as h: h.start(...); ..."""

    def __init__(self, build, keep=False, quiet=True):
        self.build = os.path.abspath(build)
        self.sim_bin = os.path.join(self.build, "tools", "fieldbridge-sim")
        self.daemon_bin = None
        for p in ("daemon/fieldbridged", "fieldbridged"):
            if os.access(os.path.join(self.build, p), os.X_OK):
                self.daemon_bin = os.path.join(self.build, p)
        self.keep = keep
        self.quiet = quiet
        self.dir = None
        self.procs = {}         # name -> Popen
        self.files = []         # open log files
        self.port = None
        self.listen = ["127.0.0.1"]    # the broker's addresses
        self.sims = []          # [{'name', 'link', 'log', 'err', 'proc'}]
        self.daemon_rc = None
        self.sub_timed = False  # the subscriber records arrival times
        self.sandbox = (os.geteuid() == 0 and
                        os.environ.get("FB_E2E_SANDBOX", "1") != "0")

    # --- set-up and tear-down -------------------------------------------

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="fieldbridge-e2e.")
        if self.sandbox:
            # The confined child reaches its state directory by path
            # before it chroots there.
            os.chmod(self.dir, 0o711)
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def close(self):
        # Children first, each by its own PID: TERM, then KILL.
        for name, p in list(self.procs.items()):
            self._stop(p, signal.SIGTERM, 5)
        self.procs.clear()
        for f in self.files:
            f.close()
        self.files = []
        if self.dir and not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        elif self.dir:
            print("kept %s" % self.dir, file=sys.stderr)

    @staticmethod
    def _stop(p, sig, timeout):
        if p.poll() is not None:
            return p.returncode
        try:
            p.send_signal(sig)
            return p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            return p.wait(5)

    def _spawn(self, name, argv, out=None, err=None, append=False, **kw):
        fo = open(out or self.path(name + ".out"), "ab" if append else "wb")
        fe = open(err or self.path(name + ".err"), "wb")
        self.files += [fo, fe]
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fo,
                             stderr=fe, cwd=self.dir, close_fds=True, **kw)
        self.procs[name] = p
        return p

    def _run(self, argv, timeout=30, check=True):
        r = subprocess.run(argv, cwd=self.dir, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise HarnessError("%s failed (%d): %s" % (
                " ".join(argv), r.returncode,
                r.stderr.decode(errors="replace").strip()))
        return r

    # --- certificates ---------------------------------------------------

    def make_certs(self):
        """CA, broker (IP SAN 127.0.0.1), gateway and subscriber clients."""
        d = self.path("pki")
        os.mkdir(d, 0o700)
        o = lambda *a: self._run(["openssl"] + list(a))
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-nodes"]
        o("req", "-x509", *ec, "-keyout", d + "/ca.key", "-out",
          d + "/ca.pem", "-days", "2", "-subj", "/CN=fieldbridge e2e CA",
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign")

        self.pki = d
        # DNS:localhost and broker.test too: tests connect by name to
        # prove that name resolution works inside the daemon's chroot, and
        # that every address of the name is tried (test_addresses).
        self.make_leaf("broker", "127.0.0.1", "subjectAltName=IP:127.0.0.1,"
                       "IP:::1,DNS:localhost,DNS:%s\n"
                       "extendedKeyUsage=serverAuth\n" % BROKER_NAME)
        self.make_leaf("gateway", GATEWAY_ID,
                       "extendedKeyUsage=clientAuth\n")
        self.make_leaf("subscriber", "e2e-subscriber",
                       "extendedKeyUsage=clientAuth\n")

    def make_leaf(self, name, cn, ext="extendedKeyUsage=clientAuth\n"):
        """pki/NAME.pem and NAME.key (0600), CN=cn, signed by the CA; a
        fresh serial each time (a renewed certificate)."""
        d = self.pki
        o = lambda *a: self._run(["openssl"] + list(a))
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-nodes"]
        extf = "%s/%s.ext" % (d, name)
        with open(extf, "w") as f:
            f.write("basicConstraints=CA:FALSE\n" + ext)
        o("req", "-new", *ec, "-keyout", "%s/%s.key.new" % (d, name),
          "-out", "%s/%s.csr" % (d, name), "-subj", "/CN=" + cn)
        o("x509", "-req", "-in", "%s/%s.csr" % (d, name),
          "-CA", d + "/ca.pem", "-CAkey", d + "/ca.key",
          "-CAcreateserial", "-days", "2", "-extfile", extf,
          "-out", "%s/%s.pem.new" % (d, name))
        os.chmod("%s/%s.key.new" % (d, name), 0o600)
        # Replaced by rename, as an operator's tooling would.
        os.rename("%s/%s.key.new" % (d, name), "%s/%s.key" % (d, name))
        os.rename("%s/%s.pem.new" % (d, name), "%s/%s.pem" % (d, name))

    # --- broker and subscriber ------------------------------------------

    def restart_broker(self, down_s=1.0):
        """Stop mosquitto, wait down_s, start it again on the same port."""
        p = self.procs.pop("mosquitto")
        self._stop(p, signal.SIGTERM, 5)
        time.sleep(down_s)
        self.start_broker_again()

    def start_broker_again(self):
        """Start the stopped mosquitto again, same port and addresses."""
        self.broker_restarts = getattr(self, "broker_restarts", 0) + 1
        err = "mosquitto.%d.err" % self.broker_restarts
        p = self._spawn("mosquitto", ["mosquitto", "-c",
                                      self.path("mosquitto.conf")],
                        err=self.path(err))
        wait_for(lambda: p.poll() is not None or self._port_open(), 5,
                 "mosquitto to start again")
        if p.poll() is not None:
            raise HarnessError("mosquitto did not start again:\n" +
                               self.read(err))
        # mosquitto_sub does not always come back by itself: start it
        # again, appending to what it recorded.
        if "subscriber" in self.procs:
            self._stop(self.procs.pop("subscriber"), signal.SIGTERM, 5)
            self.start_subscriber(append=True)

    def broker_log(self):
        """Every mosquitto log of this run, restarts included."""
        return self.read("mosquitto.err") + "".join(
            self.read("mosquitto.%d.err" % i)
            for i in range(1, getattr(self, "broker_restarts", 0) + 1))

    def start_broker(self, listen=("127.0.0.1",), persistent=False):
        """mosquitto on a free port of each address in listen (the first
        one is where the harness's own clients go); retried if another
        process took the port.  persistent: the broker keeps its state
        across restarts and the subscriber's session is not clean, so the
        subscriber misses nothing published while it was away."""
        conf = self.path("mosquitto.conf")
        self.listen = list(listen)
        self.persistent = persistent
        for attempt in range(3):
            self.port = free_port()
            tls = ("cafile %s/ca.pem\ncertfile %s/broker.pem\n"
                   "keyfile %s/broker.key\nrequire_certificate true\n"
                   "use_identity_as_username true\n"
                   % (self.pki, self.pki, self.pki))
            with open(conf, "w") as f:
                # Client certificates are required and their CN is the
                # user name, so nobody without one gets in.
                f.write("per_listener_settings false\n"
                        "allow_anonymous false\n"
                        "persistence %s\n"
                        "persistence_location %s/\n"
                        "autosave_interval 3600\n"
                        "log_dest stderr\n"
                        "log_type error\nlog_type warning\n"
                        "log_type notice\nlog_type information\n"
                        "log_type subscribe\n"
                        "connection_messages true\n"
                        % ("true" if persistent else "false", self.dir))
                for a in self.listen:
                    f.write("listener %d %s\n%s" % (self.port, a, tls))
                # As root, mosquitto switches to user "mosquitto", which
                # cannot read our private temporary directory.
                if os.geteuid() == 0:
                    f.write("user root\n")
            p = self._spawn("mosquitto", ["mosquitto", "-c", conf])
            try:
                wait_for(lambda: p.poll() is not None or
                         "running" in self.read("mosquitto.err"),
                         5, "mosquitto to start")
            except HarnessError:
                pass
            if p.poll() is None and self._port_open():
                return
            self._stop(p, signal.SIGTERM, 5)
            del self.procs["mosquitto"]
        raise HarnessError("mosquitto did not start:\n" +
                           self.read("mosquitto.err"))

    def _port_open(self):
        try:
            with socket.create_connection((self.listen[0], self.port), 1):
                return True
        except OSError:
            return False

    def client_args(self, who="subscriber"):
        a = ["-h", self.listen[0], "-p", str(self.port),
             "--cafile", self.pki + "/ca.pem"]
        if who:
            a += ["--cert", "%s/%s.pem" % (self.pki, who),
                  "--key", "%s/%s.key" % (self.pki, who)]
        return a

    def start_subscriber(self, append=False, timed=None):
        """mosquitto_sub recording every message under the prefix into
        upstream.txt.  timed=True: each line starts with the time it
        arrived (mosquitto_sub's %U, Unix time with a fraction, taken
        when the message is received), for upstream_timed(); kept when the
        broker's restart starts the subscriber again."""
        if timed is not None:
            self.sub_timed = timed
        n = len(re.findall(r"e2e-subscriber \d+ " +
                           re.escape(TOPIC_PREFIX) + "/#", self.broker_log()))
        self._spawn("subscriber", ["mosquitto_sub"] + self.client_args() +
                    (["-c"] if getattr(self, "persistent", False) else []) +
                    ["-i", "e2e-subscriber", "-q", "1",
                     "-F", sub_format("%U " if self.sub_timed else ""),
                     "-t", TOPIC_PREFIX + "/#"],
                    out=self.path("upstream.txt"), append=append)
        wait_for(lambda: len(re.findall(r"e2e-subscriber \d+ " +
                                        re.escape(TOPIC_PREFIX) + "/#",
                                        self.broker_log())) > n,
                 5, "the subscriber's subscription")

    def publish_without_certificate(self):
        """mosquitto_pub with the CA but no client certificate."""
        return self._run(["mosquitto_pub"] + self.client_args(None) +
                         ["-i", "e2e-nocert", "-t", TOPIC_PREFIX + "/x",
                          "-m", "should not arrive", "-q", "1"],
                         timeout=15, check=False)

    # --- simulator ------------------------------------------------------

    def gen_registry(self, n, streams="cattle,water,weather"):
        self.registry = self.path("devices.conf")
        self.keys = self.path("keys.conf")
        self._run([self.sim_bin, "--gen-registry", str(n), "--registry",
                   self.registry, "--keys", self.keys, "--streams", streams])
        # id -> stream and id -> name, from the file we just wrote.
        self.streams, self.names = {}, {}
        with open(self.registry) as f:
            for m in re.finditer(r'id = "([0-9A-F]{16})"; name = "([^"]*)"; '
                                 r'stream = "([^"]+)"', f.read()):
                self.names[m.group(1)] = m.group(2)
                self.streams[m.group(1)] = m.group(3)

    def start_sim(self, name, args, driver="fbsp"):
        """A simulator on NAME.tty; driver: the dialect it speaks and the
        daemon's driver for it (fbsp, rn2483, rn2903, rak3172)."""
        link = self.path(name + ".tty")
        log = self.path(name + ".sent")
        dialect = [] if driver == "fbsp" else ["--dialect", driver]
        p = self._spawn("sim-" + name,
                        [self.sim_bin, "--registry", self.registry,
                         "--keys", self.keys, "--link", link, "--log", log]
                        + dialect + [str(a) for a in args])
        wait_for(lambda: p.poll() is not None or os.path.islink(link), 5,
                 "the simulator's pty link")
        if p.poll() is not None:
            raise HarnessError("fieldbridge-sim exited:\n" +
                               self.read("sim-%s.err" % name))
        self.sims.append({"name": name, "link": link, "log": log,
                          "proc": p, "driver": driver})
        return link

    def wait_sims(self, timeout):
        for s in self.sims:
            try:
                s["proc"].wait(timeout)
            except subprocess.TimeoutExpired:
                raise HarnessError("fieldbridge-sim %s still running after "
                                   "%d s" % (s["name"], timeout))

    def stop_sims(self):
        for s in self.sims:
            self._stop(s["proc"], signal.SIGTERM, 10)

    def sim_summary(self, name):
        """The 'sim: sent=...' line the simulator prints at exit."""
        for line in self.read("sim-%s.err" % name).splitlines():
            if line.startswith("sim: sent="):
                return parse_kv(line)
        raise HarnessError("no summary from fieldbridge-sim %s:\n%s" %
                           (name, self.read("sim-%s.err" % name)))

    def sent_records(self):
        """[(eui, fcnt, payload bytes)] of every record the nodes sent."""
        out = []
        for s in self.sims:
            with open(s["log"]) as f:
                for line in f:
                    eui, fcnt, hx = line.split()[:3]
                    out.append((eui.upper(), int(fcnt), bytes.fromhex(hx)))
        return out

    # --- daemon ---------------------------------------------------------

    def write_daemon_conf(self, batch_age_ms=500, max_records=500,
                          max_bytes=4900, log_level="info", extra="",
                          rate_per_min=None, rate_burst=None,
                          mqtt_host="127.0.0.1", region="none",
                          encoding=None, mqtt_extra=""):
        # region "none" by default: the simulator's nodes send far more
        # than LoRa's duty cycles would let a gateway answer (keepalives
        # at hundreds of records/s); the airtime tests ask for "EU868".
        state = self.path("state")
        os.makedirs(state, 0o700, exist_ok=True)
        user = pwd.getpwuid(os.geteuid())
        if self.sandbox:
            user = pwd.getpwnam(SANDBOX_USER)
            os.chown(state, user.pw_uid, user.pw_gid)
        try:
            group = grp.getgrnam("dialout").gr_name
        except KeyError:
            group = grp.getgrgid(user.pw_gid).gr_name
        # A module's line speed is its driver's default (baud 0).
        conc = ",\n".join(
            '  { name = "%s"; path = "%s"; driver = "%s"; baud = %d; }'
            % (s["name"], s["link"], s.get("driver", "fbsp"),
               115200 if s.get("driver", "fbsp") == "fbsp" else 0)
            for s in self.sims)
        policy = 'policy = { region = "%s"; ' % region
        if rate_per_min is not None:
            policy += "rate_per_min = %d; rate_burst = %d; " % (
                rate_per_min, rate_burst or 100)
        policy += "};"
        conf = self.path("fieldbridge.conf")
        with open(conf, "w") as f:
            f.write("""gateway_id = "%(gw)s";
state_dir = "%(state)s";
registry = "%(reg)s";
keys = "%(keys)s";
user = "%(user)s";
serial_group = "%(group)s";
concentrators = (
%(conc)s
);
mqtt = {
  host = "%(host)s";
  port = %(port)d;
  ca = "%(pki)s/ca.pem";
  cert = "%(pki)s/gateway.pem";
  key = "%(pki)s/gateway.key";
  topic_prefix = "%(prefix)s";
  keepalive_s = 10;
  backoff_min_ms = 100;
  backoff_max_ms = 1000;
%(mqtt_extra)s
};
batch = {
  max_records = %(maxrec)d;
  max_bytes = %(maxbytes)d;
  max_age_ms = %(age)d;
  encoding = "%(enc)s";
};
log_level = "%(level)s";
%(policy)s
%(extra)s
""" % {"gw": GATEWAY_ID, "state": state, "reg": self.registry,
       "keys": self.keys, "conc": conc, "port": self.port, "pki": self.pki,
       "prefix": TOPIC_PREFIX, "age": batch_age_ms, "maxrec": max_records,
       "maxbytes": max_bytes, "level": log_level, "extra": extra,
       "policy": policy, "user": user.pw_name, "group": group,
       "host": mqtt_host, "enc": encoding or ENCODING,
       "mqtt_extra": mqtt_extra})
        self.daemon_conf = conf
        return conf

    def give_to_service_user(self):
        """The files and lines of the configuration owned by SANDBOX_USER,
        as the shipped unit (which runs the daemon as that user) needs
        them: `fieldbridge check` judges them as that user."""
        user = pwd.getpwnam(SANDBOX_USER)
        os.chmod(self.pki, 0o755)
        for f in [self.keys, self.registry, self.path("pki", "gateway.key")] \
                + [s["link"] for s in self.sims]:
            os.chown(f, user.pw_uid, -1)

    def own_etc(self, hosts=None, resolv=None):
        """argv prefix running a command with the given texts as its
        /etc/hosts and /etc/resolv.conf: a private mount namespace
        (unshare, as root) with the test's files bind-mounted over the
        machine's, which stay untouched.  The files stay in the run's
        directory (etc.hosts, etc.resolv.conf): rewrite them in place to
        change what the command sees."""
        script = ""
        for text, name, target in ((hosts, "etc.hosts", "/etc/hosts"),
                                   (resolv, "etc.resolv.conf",
                                    "/etc/resolv.conf")):
            if text is None:
                continue
            with open(self.path(name), "w") as f:
                f.write(text)
            os.chmod(self.path(name), 0o644)
            script += 'mount --bind "%s" %s && ' % (self.path(name), target)
        if not script:
            return []
        if os.geteuid() != 0 or shutil.which("unshare") is None:
            raise HarnessError("an own /etc/hosts needs root and unshare")
        return ["unshare", "--mount", "--propagation", "private", "sh",
                "-c", script + 'exec "$@"', "sh"]

    def start_daemon(self, args=(), env=None, hosts=None, resolv=None,
                     settle_s=0.2):
        """hosts, resolv: texts for the daemon's /etc/hosts and
        /etc/resolv.conf (own_etc); None: the machine's.  settle_s: how
        long to watch it for an early exit before returning."""
        if self.daemon_bin is None:
            raise HarnessError("fieldbridged is not built in " + self.build)
        args = list(args)
        if not self.sandbox and "--no-sandbox" not in args:
            args.append("--no-sandbox")
        if env is not None:
            env = dict(os.environ, **env)
        p = self._spawn("daemon", self.own_etc(hosts, resolv) +
                        [self.daemon_bin, "-c", self.daemon_conf] + args,
                        env=env)
        time.sleep(settle_s)
        if p.poll() is not None:
            raise HarnessError("fieldbridged exited at once (%d):\n%s" %
                               (p.returncode, self.read("daemon.err")))
        return p

    def stop_daemon(self, timeout=15):
        p = self.procs.get("daemon")
        if p is None:
            return None
        try:
            p.send_signal(signal.SIGTERM)
            self.daemon_rc = p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
            raise HarnessError("fieldbridged ignored SIGTERM for %d s" %
                               timeout)
        finally:
            del self.procs["daemon"]
        return self.daemon_rc

    def daemon_log(self):
        return self.read("daemon.err")

    def status(self):
        """The daemon's status file as {key: value} (strings)."""
        out = {}
        for line in self.read(os.path.join("state", "status")).splitlines():
            k, sep, v = line.partition("=")
            if sep:
                out[k] = v
        return out

    def daemon_pid(self):
        p = self.procs.get("daemon")
        return p.pid if p is not None else None

    @staticmethod
    def children(pid):
        """PIDs of pid's children (from /proc)."""
        try:
            with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    def daemon_child(self, timeout=10, not_pid=None, confined=True):
        """The PID of the daemon's confined child (sandboxed), once it is
        running under its own filter: chrooted (root no longer "/") and
        past its start-up.  not_pid: wait for a different (restarted)
        one.  Without the sandbox, the daemon itself."""
        pid = self.daemon_pid()
        if not self.sandbox:
            return pid

        def ready():
            for c in self.children(pid):
                if c == not_pid:
                    continue
                try:
                    if confined and os.readlink("/proc/%d/root" % c) == "/":
                        continue
                except OSError:
                    continue
                return c
            return None
        return wait_for(ready, timeout, "the daemon's confined child")

    def daemon_rejections(self):
        """{reason: count} from the daemon's exit summary, the line
        "final: records accepted N, ..., dropped: unknown=1 bad_tag=3 ...".
        """
        out = {}
        for line in self.daemon_log().splitlines():
            if "dropped:" in line:
                out = {k: v for k, v in
                       parse_kv(line.split("dropped:", 1)[1]).items()
                       if isinstance(v, int)}
        return out

    # --- what arrived upstream -------------------------------------------

    def read(self, name):
        try:
            with open(self.path(name), "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def upstream_timed(self):
        """[(arrival, topic, payload str)] in arrival order, status
        included; arrival is the Unix time (float) the subscriber received
        the message, None unless it was started with timed=True."""
        out = []
        for line in self.read("upstream.txt").splitlines():
            t = None
            if self.sub_timed:
                ts, _, line = line.partition(" ")
                try:
                    t = float(ts)
                except ValueError:
                    continue    # a line being written
            topic, _, payload = line.partition(" ")
            out.append((t, topic, sub_payload(payload)))
        return out

    def upstream(self):
        """[(topic, payload str)] in arrival order, status included."""
        return [(topic, payload) for _, topic, payload in
                self.upstream_timed()]

    def batches(self):
        """Decoded batch documents, in arrival order (the gateway's own
        status, health and command messages excluded); "_topic" is where
        each arrived, "_t" when (see upstream_timed)."""
        out = []
        for t, topic, payload in self.upstream_timed():
            parts = topic.split("/")
            if len(parts) != 3 or parts[2] in OWN_TOPICS:
                continue
            doc = json.loads(payload)
            doc["_topic"] = topic
            doc["_t"] = t
            out.append(doc)
        return out

    @staticmethod
    def batch_records(doc):
        """[(eui, fcnt, payload bytes)] of one batch document."""
        return [(r["dev"].upper(), int(r["fcnt"]),
                 base64.b64decode(r["data"], validate=True))
                for r in doc["records"]]
