"""The case workflow's changes of behaviour, each taken by a run whose history carries its marker.

A run records a change's marker the first time it asks for it (`workflow.patched`), and the SDK upserts the
`TemporalChangeVersion` search attribute with each marker: a case run through to its decision recorded four markers
and four upserts, one visibility write each. A run that starts on this code records one marker, `BASELINE`, which
stands for every change in `CHANGES`; a history recorded before has no such marker and takes each change as its own
marker says, as it did when it was recorded.

Why the two agree: the first question of a run asks for `BASELINE` first. Asked while the run replays a history
without it, the answer is no for the whole run (the SDK keeps a marker's first answer), and each change is then asked
by its own marker as before; asked live, the answer is yes, and every change not yet asked in this run would have
been taken live as well (a change asked before would have asked for `BASELINE` then, while replaying). This holds
as long as the worker sets no patch activation callback (it sets none): such a callback would be asked about
`BASELINE`, not about the change.

Going back to a build before this one is no promotion: that code asks each change by its own marker, finds none in
the histories of cases that ran on this build, and takes the old branches (docs/deploys.md).

A change made after this baseline gets a marker of its own (`workflow.patched` directly, not listed here), until
the next baseline gathers it.
"""

from __future__ import annotations

from temporalio import workflow

ARCHIVE_HISTORY_AT_CLOSE = "archive-history-at-close"
# Upsert only the search attributes whose value a transition changes (before: every one at every transition).
CHANGED_ATTRIBUTES_ONLY = "changed-attributes-only"
# Take the unit's past rounds from the recognition's recording (before: an activity of their own).
HISTORY_WITH_RECOGNITION = "history-with-recognition"
# Check a form's types and days in the handler too (before: in the validator only).
STRICT_FORM_INPUTS = "strict-form-inputs"
# Signal the round at milestones only (before: at every transition), for rounds that do not hear results.
PROGRESS_AT_MILESTONES = "progress-at-milestones"
# A nudge carries an actor the services vouched for, and each nudge id is taken once.
NUDGE_ACTOR_ASSERTION = "nudge-actor-assertion"
NUDGE_TAKEN_ONCE = "nudge-taken-once"

CHANGES = frozenset(
    {
        ARCHIVE_HISTORY_AT_CLOSE,
        CHANGED_ATTRIBUTES_ONLY,
        HISTORY_WITH_RECOGNITION,
        STRICT_FORM_INPUTS,
        PROGRESS_AT_MILESTONES,
        NUDGE_ACTOR_ASSERTION,
        NUDGE_TAKEN_ONCE,
    }
)
BASELINE = "case-baseline-2026-12"


def takes(change: str) -> bool:
    """Whether this run takes `change` (workflow code only, not in a query or a validator)."""
    if change not in CHANGES:
        raise ValueError(f"{change!r} is not a change of the case baseline")
    return workflow.patched(BASELINE) or workflow.patched(change)
