"""Sampling profiles of a running process with py-spy (no change to the process), summarised as text.

    with Profile(pid, "round_open_worker") as p: ...   # writes bench/results/profiles/<name>.txt (collapsed stacks)
    print(p.summary())                                  # where the samples fell: own code by frame, top self time
"""

from __future__ import annotations

import signal
import subprocess
from collections import Counter

from bench.stack import RESULTS
from infra.embedded import DEV_EXTRAS, installed

PROFILES = RESULTS / "profiles"
OWN = ("domain/", "workflows/", "activities/", "api/", "notify/", "audit/", "db/", "infra/", "worker.py", "web/")


def py_spy() -> str:
    return installed("py-spy", "py-spy is missing: " + DEV_EXTRAS)


class Profile:
    def __init__(self, pid: int, name: str, rate: int = 67) -> None:
        self.pid = pid
        self.path = PROFILES / f"{name}.txt"
        self.rate = rate
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Profile:
        PROFILES.mkdir(parents=True, exist_ok=True)
        args = [py_spy(), "record", "--pid", str(self.pid), "--format", "raw", "--rate", str(self.rate)]
        args += ["--nonblocking", "--output", str(self.path)]
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._proc is not None
        self._proc.send_signal(signal.SIGINT)
        try:
            self._proc.wait(30)
        except subprocess.TimeoutExpired:
            self._proc.kill()

    def stacks(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        if not self.path.exists():
            return counts
        for line in self.path.read_text(errors="replace").splitlines():
            stack, _, n = line.rpartition(" ")
            if stack and n.isdigit():
                counts[stack] += int(n)
        return counts

    def summary(self, top: int = 15) -> str:
        stacks = self.stacks()
        total = sum(stacks.values())
        if not total:
            return f"no samples in {self.path}"
        own_self: Counter[str] = Counter()
        leaf: Counter[str] = Counter()
        inclusive: Counter[str] = Counter()
        for stack, n in stacks.items():
            frames = stack.split(";")
            leaf[_short(frames[-1])] += n
            for frame in reversed(frames):
                if any(part in frame for part in OWN):
                    own_self[_short(frame)] += n
                    break
            for frame in set(frames):
                if any(part in frame for part in OWN):
                    inclusive[_short(frame)] += n
        lines = [f"{total} samples ({self.path})", "self time, any code:"]
        lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in leaf.most_common(top)]
        lines.append("inclusive time, own code:")
        lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in inclusive.most_common(top)]
        return "\n".join(lines)


def _short(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/file.py:123)"
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path, _, _line = where.rpartition(":")
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})"
