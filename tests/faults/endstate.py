"""What a fault scenario's round is driven by (the plan) and what it left behind (the end state), and the comparison of
a disturbed run's end state with an undisturbed one's: lost, doubled, differing."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from domain.units import load_units


# -- the plan and the end state ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """Which province and units, and how each case ends: every `not_registered_every`-th unit declines at
    registration, the others go through to a recognition."""

    province: str
    units: tuple[str, ...]
    not_registered_every: int = 4

    @classmethod
    def of(cls, province: str, limit: int | None = None) -> Plan:
        units = tuple(u.code for u in load_units(province))
        return cls(province, units[:limit] if limit else units)

    def registers(self, index: int) -> bool:
        return index % self.not_registered_every != self.not_registered_every - 1


@dataclass
class EndState:
    """What a round left behind, as counted in PostgreSQL and at the SMTP receiver."""

    cases: dict[str, tuple[str, str, str | None]]  # case → (stage, status, outcome)
    tasks: Counter[tuple[str, str, str]]  # (case, stage, status) → count
    journal: dict[str, list[str]]  # case → actions in seq order
    outbox: dict[str, tuple[str, str, str]]  # outbox id → (kind, channel, status)
    histories: Counter[str]  # case → archived histories
    report: dict[str, Any]
    emails: Counter[str]  # Message-ID → times received
    chain_broken: list[str]

    @property
    def email_ids(self) -> set[str]:
        return {i for i, (_, channel, _) in self.outbox.items() if channel == "email"}

    def figures(self) -> dict[str, Any]:
        return {
            "cases": len(self.cases),
            "tasks": sum(self.tasks.values()),
            "audit_rows": sum(len(v) for v in self.journal.values()),
            "outbox_rows": len(self.outbox),
            "emails": len(self.emails),
        }


@dataclass
class Comparison:
    lost: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    differs: list[str] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)  # Message-IDs the receiver got more than once

    @property
    def clean(self) -> bool:
        return not (self.lost or self.doubled or self.differs)

    def summary(self) -> str:
        return f"lost={self.lost[:10]} doubled={self.doubled[:10]} differs={self.differs[:10]} resent={self.resent}"


def _multiset_diff(name: str, want: Counter[Any], got: Counter[Any], out: Comparison) -> None:
    for key in want.keys() | got.keys():
        if got[key] < want[key]:
            out.lost.append(f"{name} {key} ×{want[key] - got[key]}")
        elif got[key] > want[key]:
            out.doubled.append(f"{name} {key} ×{got[key] - want[key]}")


def compare(baseline: EndState, faulted: EndState) -> Comparison:
    """Lost: in the undisturbed run's end state, missing here. Doubled: here more often than there."""
    out = Comparison()
    for case, end in baseline.cases.items():
        if faulted.cases.get(case) != end:
            out.differs.append(f"case {case}: {faulted.cases.get(case)} instead of {end}")
    out.lost += [f"case {c}" for c in baseline.cases.keys() - faulted.cases.keys()]
    out.doubled += [f"case {c}" for c in faulted.cases.keys() - baseline.cases.keys()]
    _multiset_diff("task", baseline.tasks, faulted.tasks, out)
    _multiset_diff(
        "audit row",
        Counter((c, a) for c, actions in baseline.journal.items() for a in actions),
        Counter((c, a) for c, actions in faulted.journal.items() for a in actions),
        out,
    )
    for case, actions in baseline.journal.items():
        if faulted.journal.get(case) != actions:
            out.differs.append(f"journal of {case}: {faulted.journal.get(case)} instead of {actions}")
    _multiset_diff("outbox row", Counter(baseline.outbox.keys()), Counter(faulted.outbox.keys()), out)
    for oid, row in baseline.outbox.items():
        if oid in faulted.outbox and faulted.outbox[oid] != row:
            out.differs.append(f"outbox {oid}: {faulted.outbox[oid]} instead of {row}")
    _multiset_diff("archived history", baseline.histories, faulted.histories, out)
    _multiset_diff("email", Counter(dict.fromkeys(baseline.emails, 1)), Counter(dict.fromkeys(faulted.emails, 1)), out)
    # The receiver's own count: a Message-ID received twice is a message transmitted twice (the mailbox, which
    # collapses by Message-ID, shows it once). Kept apart from `doubled`: the caller says how many it tolerates.
    out.resent += [f"{mid} ×{n}" for mid, n in faulted.emails.items() if n > 1]
    if faulted.report != baseline.report:
        out.differs.append(f"round report {faulted.report} instead of {baseline.report}")
    out.differs += [f"journal chain: {b}" for b in faulted.chain_broken]
    return out
