"""The domain's error tree. Every error has a stable `code` the API and the CLI can show as is.

Errors that name a bad input subclass ValueError; errors that name something not found subclass LookupError,
so callers that only know the builtin families still catch them.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar


class DomainError(Exception):
    """Base of every error raised by `domain/`."""

    code: ClassVar[str] = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UnknownRuleSetError(DomainError, LookupError):
    code = "unknown_rule_set"

    def __init__(self, rule_set_id: str, known: list[str]) -> None:
        super().__init__(f"unknown rule set {rule_set_id!r}; known rule sets: {', '.join(known)}")
        self.rule_set_id = rule_set_id


class NoRuleSetInForceError(DomainError, LookupError):
    code = "no_rule_set_in_force"


class UnknownCriterionError(DomainError, LookupError):
    code = "unknown_criterion"

    def __init__(self, rule_set_id: str, criterion: int) -> None:
        super().__init__(f"rule set {rule_set_id} has no criterion {criterion}")
        self.rule_set_id = rule_set_id
        self.criterion = criterion


class DataFileError(DomainError, ValueError):
    """A data file (rule set, profile, CSV) that cannot be loaded: names the file, the place and the reason."""

    code = "data_file_invalid"

    def __init__(self, path: Path | str, where: str, reason: str) -> None:
        super().__init__(f"{path}: {where}: {reason}")
        self.path = Path(path)
        self.where = where
        self.reason = reason


class RuleSetFileError(DataFileError):
    code = "rule_set_file_invalid"


class ProfileFileError(DataFileError):
    code = "profile_file_invalid"


class TargetsFileError(DataFileError):
    code = "targets_file_invalid"


class UnitsFileError(DataFileError):
    """A units or locality-override CSV with a bad row; `where` reads "line N, field F"."""

    code = "units_file_invalid"


class ScoreError(DomainError, ValueError):
    """A criterion score that the rule set cannot accept. `kind` says why in a stable word (`unknown_criterion`,
    `not_whole`, `negative`, `above_maximum`) so that a page can say it in its own language, with `points` and
    `maximum`."""

    code = "score_invalid"

    def __init__(
        self, criterion: int, reason: str, *, kind: str = "invalid", points: object = None, maximum: int | None = None
    ) -> None:
        super().__init__(f"criterion {criterion}: {reason}")
        self.criterion = criterion
        self.reason = reason
        self.kind = kind
        self.points = points
        self.maximum = maximum


class RoundError(DomainError, ValueError):
    code = "round_invalid"

    def __init__(self, round_id: str, reason: str) -> None:
        super().__init__(f"round {round_id!r}: {reason}")
        self.round_id = round_id
        self.reason = reason


class UnknownProfileError(DomainError, LookupError):
    code = "unknown_profile"

    def __init__(self, profile_id: str, known: list[str]) -> None:
        super().__init__(f"unknown procedure profile {profile_id!r}; known profiles: {', '.join(known)}")
        self.profile_id = profile_id


class ProcedureError(DomainError, ValueError):
    code = "procedure_invalid"


class HistoryError(DomainError, ValueError):
    code = "history_invalid"


class UnitError(DomainError, LookupError):
    code = "unit_invalid"
