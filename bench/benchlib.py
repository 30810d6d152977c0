"""benchlib - what bench/e2e.py and bench/spool_drain.py share: the rate
of records arriving at the subscriber, measured in its steady state.

Python 3 standard library only.
"""

import time

import fbe2e


class Span:
    """Notes when 10% and 90% of the expected records had arrived: the rate
    between the two is the steady state, without the nodes' joins at the
    start and the last partial batches at the end."""

    def __init__(self, want):
        self.want = want
        self.records = 0
        self.t10 = self.t90 = None
        self.n10 = self.n90 = 0

    def add(self, t, n):
        """n more records arrived at time t (seconds)."""
        self.records += n
        if self.t10 is None and self.records >= self.want // 10:
            self.t10, self.n10 = t, self.records
        if self.t90 is None and self.records >= self.want * 9 // 10:
            self.t90, self.n90 = t, self.records

    def rate(self):
        """Records per second from 10% to 90%, or None if that span was
        not seen or took no time."""
        if self.t10 is None or self.t90 is None or self.t90 <= self.t10:
            return None
        return (self.n90 - self.n10) / (self.t90 - self.t10)


class Arrivals(Span):
    """Counts records in the subscriber's file (fbe2e.Harness's
    upstream.txt) as it grows, stamped when poll() sees them."""

    def __init__(self, h, want):
        super().__init__(want)
        self.path = h.path("upstream.txt")
        self.off = 0
        self.tail = b""

    def poll(self):
        """Reads what was appended since; returns the records so far."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.off)
                data = f.read()
        except FileNotFoundError:
            return self.records
        self.off += len(data)
        data = self.tail + data
        cut = data.rfind(b"\n") + 1
        self.tail = data[cut:]
        if fbe2e.ENCODING == "json":
            n = data[:cut].count(b'"fcnt":')
        else:       # hex payloads (fbe2e.sub_format): decode each
            n = sum(fbe2e.sub_payload(line.partition(" ")[2]).count(
                '"fcnt":') for line in data[:cut].decode().splitlines())
        if n:
            self.add(time.monotonic(), n)
        return self.records
