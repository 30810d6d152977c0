"""fbvm - fieldbridged under a real systemd: a Debian 12 guest in qemu.

The pieces tests/vm/test_systemd and bench/powercut.py share:

  - image(): the cached base image (tests/vm/mkimage), built once per
    recipe in $FB_VM_CACHE (default /var/cache/fieldbridge-test);
  - Payload: the second disk of a run, made with mkfs.ext4 -d from a
    directory: fieldbridged as built, systemd/fieldbridge.service as
    shipped, the man page, a configuration, the test PKI and an install
    script run inside the guest;
  - Vm: one qemu process on a sparse copy of the base image, raw and
    virtio (raw survives kill -9 of qemu; the guest's page cache does not,
    which is the point of a power cut).  It talks to the guest only through
    virtio-serial ports and a serial line, never IP:
      ctl  a Unix socket on the host <-> fb-agent.service, which runs the
           bash scripts sent to it as root;
      rec  a file on the host (append, survives kill -9 of qemu) <-
           fb-recorder.service: every message under fieldbridge/# with
           the guest's mosquitto_sub -F '%U %t %p';
      ttyS1 the concentrator line: a host pty of fieldbridge-sim (qemu's
           tty back-end), so the daemon opens a real serial device
           (char-ttyS, which the unit's DeviceAllow= lists) and the sim's
           --log-time gives the host's CLOCK_MONOTONIC of every send.
    The console (ttyS0) goes to console.txt for post-mortems.

qemu runs under TCG: /dev/kvm of these machines cannot run Debian's kernel.
Block devices use cache=unsafe: a flush from the guest is not forwarded to
the host disk, but every write the guest saw complete is in the host's page
cache, which outlives the qemu process; killing qemu is therefore a power
cut with a disk that keeps what it acknowledged, and the guest loses
exactly what a real machine loses: its page cache and in-flight I/O.

Python 3 standard library only.
"""

import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
CACHE = os.environ.get("FB_VM_CACHE", "/var/cache/fieldbridge-test")
TOOLS = ("qemu-system-x86_64", "mkfs.ext4", "debootstrap", "openssl")


class VmError(Exception):
    pass


def missing_tool():
    for t in TOOLS:
        if shutil.which(t) is None and not os.path.exists("/usr/sbin/" + t):
            return t
    return None


def runtime_packages(binaries):
    """The Debian packages that hold the shared libraries the binaries
    load, as this (Debian 12) host resolves them: the guest gets the same
    ones, so a library the daemon starts to link (c-ares, say) reaches
    the image without anyone editing its recipe.  Sorted, comma-joined."""
    libs = set()
    for b in binaries:
        out = subprocess.run(["ldd", b], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, check=True,
                             stdin=subprocess.DEVNULL).stdout.decode()
        for line in out.splitlines():
            parts = line.split("=>")
            if len(parts) == 2 and parts[1].strip().startswith("/"):
                libs.add(os.path.realpath(parts[1].split()[0]))
    pkgs = set()
    for lib in sorted(libs):
        r = subprocess.run(["dpkg", "-S", lib], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL,
                           stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            # usrmerge: dpkg knows /lib/x86_64-linux-gnu/..., not /usr/lib.
            alt = lib[4:] if lib.startswith("/usr/") else "/usr" + lib
            r = subprocess.run(["dpkg", "-S", alt], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL,
                               stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise VmError("no Debian package holds %s (linked by %s)"
                          % (lib, ", ".join(binaries)))
        pkgs.add(r.stdout.decode().split(":")[0].strip())
    return ",".join(sorted(pkgs))


def image(binaries=()):
    """The base image's directory (root.img, vmlinuz, initrd.img), with
    the packages the binaries need."""
    t0 = time.monotonic()
    extra = runtime_packages(binaries) if binaries else ""
    r = subprocess.run([os.path.join(HERE, "mkimage"), CACHE, extra],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=900)
    if r.returncode != 0:
        raise VmError("mkimage failed:\n" + r.stderr.decode(errors="replace"))
    # The directory is the last line; a build may print more before it.
    return r.stdout.decode().strip().splitlines()[-1], time.monotonic() - t0


def mkfs_dir(src, img, size="64M"):
    """A raw ext4 image holding directory src, made without mounting."""
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", src, img, size],
                   check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, timeout=120)


class Vm:
    """One guest.  boot() starts qemu and waits for the agent; kill() is
    the power cut; run() executes a bash script in the guest."""

    def __init__(self, imgdir, workdir, tty=None, payload=None):
        self.imgdir = imgdir
        self.dir = workdir
        self.tty = tty
        self.payload = payload
        self.root = os.path.join(workdir, "root.img")
        self.ctl = os.path.join(workdir, "ctl.sock")
        self.rec = os.path.join(workdir, "rec.txt")
        self.console = os.path.join(workdir, "console.txt")
        self.proc = None
        self.sock = None
        self.buf = b""
        self.seq = 0
        self.boot_id = None
        self.boots = 0
        # Sparse copy: a few seconds for ~700 MB of data in 2 GiB.
        subprocess.run(["cp", "--sparse=always",
                        os.path.join(imgdir, "root.img"), self.root],
                       check=True, timeout=300)

    def boot(self, timeout=150):
        """Start qemu; return the seconds until the agent said hello."""
        if self.proc is not None:
            raise VmError("already running")
        try:
            os.unlink(self.ctl)
        except FileNotFoundError:
            pass
        argv = ["qemu-system-x86_64", "-accel", "tcg", "-m", "1G",
                "-smp", "2", "-nodefaults", "-no-user-config",
                "-display", "none", "-monitor", "none", "-no-reboot",
                "-kernel", os.path.join(self.imgdir, "vmlinuz"),
                "-initrd", os.path.join(self.imgdir, "initrd.img"),
                "-append", "root=/dev/vda rw console=ttyS0 panic=-1 "
                "systemd.show_status=0 loglevel=4",
                "-drive", "file=%s,format=raw,if=virtio,cache=unsafe" %
                self.root,
                "-chardev", "file,id=con,path=%s,append=on" % self.console,
                "-serial", "chardev:con",
                "-device", "virtio-serial-pci",
                "-chardev", "socket,id=ctl,path=%s,server=on,wait=off" %
                self.ctl,
                "-device", "virtserialport,chardev=ctl,name=ctl",
                "-chardev", "file,id=rec,path=%s,append=on" % self.rec,
                "-device", "virtserialport,chardev=rec,name=rec"]
        if self.payload:
            argv += ["-drive", "file=%s,format=raw,if=virtio,readonly=on"
                     % self.payload]
        if self.tty:
            argv += ["-chardev", "tty,id=conc,path=%s" % self.tty,
                     "-serial", "chardev:conc"]
        self.boots += 1
        log = open(os.path.join(self.dir, "qemu.%d.err" % self.boots), "wb")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log,
                                     start_new_session=True)
        log.close()
        end = t0 + timeout
        while not os.path.exists(self.ctl):
            self._alive()
            if time.monotonic() > end:
                raise VmError("qemu made no control socket")
            time.sleep(0.05)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.ctl)
        self.buf = b""
        m = self._expect(re.compile(rb"@@HELLO (\S+)\n"), end)
        self.boot_id = m.group(1).decode()
        return time.monotonic() - t0

    def _alive(self):
        if self.proc is None or self.proc.poll() is not None:
            raise VmError("qemu is not running:\n" + self.console_tail())

    def _expect(self, rx, end):
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            self._alive()
            left = end - time.monotonic()
            if left <= 0:
                raise VmError("timed out waiting for the guest (%s)" %
                              rx.pattern)
            self.sock.settimeout(min(left, 1.0))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not data:
                raise VmError("the guest's agent hung up")
            self.buf += data

    def run(self, script, timeout=60, check=True):
        """(status, output) of a bash script run as root in the guest."""
        self.seq += 1
        tag = "%d" % self.seq
        self.sock.sendall(script.encode() + b"\n@@END " + tag.encode() +
                          b"\n")
        m = self._expect(re.compile(rb"(?s)(.*?)@@RC " + tag.encode() +
                                    rb" (\d+)\n"),
                         time.monotonic() + timeout)
        out = m.group(1).decode(errors="replace")
        rc = int(m.group(2))
        if check and rc != 0:
            raise VmError("guest script failed (%d):\n%s\n---\n%s" % (
                rc, script.strip()[:400], out[-2000:]))
        return rc, out

    def out(self, script, timeout=60):
        return self.run(script, timeout)[1].strip()

    def show(self, unit, *props):
        """systemctl show PROPS of unit, as a dict."""
        text = self.out("systemctl show %s -p %s" % (unit, ",".join(props)))
        return dict(line.split("=", 1) for line in text.splitlines()
                    if "=" in line)

    def kill(self):
        """The power cut: SIGKILL to qemu; the guest gets no warning."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(30)
        self.proc = None
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def shutdown(self, timeout=60):
        """A clean power-off; kill after timeout."""
        if self.proc is None:
            return
        try:
            self.sock.sendall(b"systemctl poweroff\n@@END bye\n")
            self.proc.wait(timeout)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()

    def console_tail(self, n=40):
        try:
            with open(self.console, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return ""

    def records_text(self):
        try:
            with open(self.rec, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""


def recipe_key(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]
