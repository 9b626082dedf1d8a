"""The what-if's inputs (domain/whatif.py): the draft rule set and the criteria mapping, read from their files, the
mapping checked against both rule sets, and a unit's council scores moved along it.

- A draft is a rule file in the schema of domain/rules/*.yaml (domain/rulesets.py RuleSet) marked `draft: true`;
  `load_rule_set`, the only way a case or a round gets a rule set, refuses such a file, and the loaders here refuse a
  file that is not so marked. A draft is read, never pinned to anything.
- A criteria mapping (YAML: `criteria: {official number: draft number | dropped}`) says where each official
  criterion's points go. Several official criteria may merge into one draft criterion: their points add up, capped at
  the draft criterion's maximum (the cap is reported). An official criterion neither mapped nor dropped is reported as
  unmapped and its points count nowhere (never guessed). Without a mapping the numbering must fit (the same numbers in
  both), and each criterion maps to its own number.
- A file's error says what kind of problem it is (`kind`, `ctx`), so that a page can say it in its own language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.datafiles import Frozen, parse_yaml_model, read_data_file
from domain.errors import DataFileError, DomainError, RuleSetFileError
from domain.rulesets import RuleSet

M = TypeVar("M", bound=BaseModel)

DROPPED = "dropped"


class _Problem:
    """What kind of problem a file has, for a reader's own words: pydantic's error type and context (`kind`, `ctx`),
    `yaml` (not YAML: `ctx` line and column when known), `not_mapping`, `not_draft`; None: unknown."""

    kind: str | None = None
    ctx: dict[str, str] | None = None


class DraftFileError(_Problem, RuleSetFileError):
    code = "draft_rule_set_invalid"


class MappingFileError(_Problem, DataFileError):
    code = "criteria_mapping_invalid"


class MappingCriterionError(DomainError, ValueError):
    """A mapping naming criteria the official rule set (as keys: `unknown_official`) or the draft (as values:
    `unknown_draft`) lacks."""

    code = "mapping_unknown_criterion"

    def __init__(self, problems: list[tuple[str, str]], unknown_official: list[int], unknown_draft: list[int]) -> None:
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in problems))
        self.problems = problems
        self.field = problems[0][0]
        self.unknown_official = unknown_official
        self.unknown_draft = unknown_draft


class MappingNeededError(DomainError, ValueError):
    """No mapping was given and the draft's numbering does not fit the official one."""

    code = "mapping_needed"

    def __init__(self, official_only: list[int], draft_only: list[int]) -> None:
        ours, theirs = ", ".join(map(str, official_only)) or "none", ", ".join(map(str, draft_only)) or "none"
        super().__init__(
            f"the draft's numbering does not fit: a criteria mapping is needed (official criteria with no draft "
            f"criterion of that number: {ours}; draft criteria with no official one: {theirs})"
        )
        self.official_only = official_only
        self.draft_only = draft_only


class Out(BaseModel):
    """What the what-if answers: frozen."""

    model_config = ConfigDict(frozen=True)


# -- the files -------------------------------------------------------------------------------------------------------
def _checked_draft(rule_set: RuleSet, name: Path | str) -> RuleSet:
    if not rule_set.draft:
        error = DraftFileError(name, "draft", "not marked `draft: true`: a what-if reads only a draft rule set")
        error.kind = "not_draft"
        raise error
    return rule_set


_YAML_AT = re.compile(r"line (\d+), column (\d+)")


def _parsed(text: str, name: Path | str, model: type[M], error: type[DraftFileError] | type[MappingFileError]) -> M:
    """parse_yaml_model, its error told what kind of problem it is (_Problem): pydantic's first error, which
    parse_yaml_model raised it from (its `__context__`), or the YAML parser's."""
    try:
        return parse_yaml_model(text, name, model, error)
    except DataFileError as exc:
        assert isinstance(exc, _Problem)
        cause, at = exc.__context__, _YAML_AT.fullmatch(exc.where)
        if isinstance(cause, ValidationError):
            first = cause.errors()[0]
            exc.kind, exc.ctx = first["type"], {k: str(v) for k, v in (first.get("ctx") or {}).items()}
        elif at is not None or exc.reason.startswith("not valid YAML"):
            exc.kind, exc.ctx = "yaml", {"line": at[1], "column": at[2]} if at else {}
        elif exc.where == "(document)":
            exc.kind = "not_mapping"
        raise


def parse_draft(text: str, name: Path | str) -> RuleSet:
    """A draft rule set from its YAML text (`name`: the file it came from); DraftFileError names field and reason."""
    return _checked_draft(_parsed(text, name, RuleSet, DraftFileError), name)


def load_draft(path: Path | str) -> RuleSet:
    return parse_draft(read_data_file(Path(path), DraftFileError), path)


class CriteriaMapping(Frozen):
    """For each official criterion number: the draft criterion its points go to, or `dropped`."""

    criteria: dict[int, int | Literal["dropped"]] = Field(min_length=1)
    notes: list[str] = Field(default_factory=list)


def parse_mapping(text: str, name: Path | str) -> CriteriaMapping:
    return _parsed(text, name, CriteriaMapping, MappingFileError)


def load_mapping(path: Path | str) -> CriteriaMapping:
    return parse_mapping(read_data_file(Path(path), MappingFileError), path)


# -- the mapping -----------------------------------------------------------------------------------------------------
class CriterionRef(Out):
    number: int
    name_vi: str
    name_en: str


class ResolvedMapping(Out):
    identity: bool
    targets: dict[int, int]  # official criterion -> draft criterion
    dropped: list[CriterionRef]
    unmapped: list[CriterionRef]  # official criteria neither mapped nor dropped: their points count nowhere
    unscored: list[CriterionRef]  # draft criteria no official criterion maps to: no unit has a score for them


def _refs(rule_set: RuleSet, numbers: Iterable[int]) -> list[CriterionRef]:
    found = [rule_set.criterion(n) for n in sorted(numbers)]
    return [CriterionRef(number=c.number, name_vi=c.name_vi, name_en=c.name_en) for c in found]


def resolve_mapping(official: RuleSet, draft: RuleSet, mapping: CriteriaMapping | None) -> ResolvedMapping:
    """The mapping checked against both rule sets, or the identity when none is given and the numbering fits."""
    ours, theirs = set(official.criterion_numbers), set(draft.criterion_numbers)
    if mapping is None:
        if ours != theirs:
            raise MappingNeededError(sorted(ours - theirs), sorted(theirs - ours))
        targets = {n: n for n in sorted(ours)}
        return ResolvedMapping(identity=True, targets=targets, dropped=[], unmapped=[], unscored=[])
    problems: list[tuple[str, str]] = []
    unknown: tuple[list[int], list[int]] = [], []
    for key, value in sorted(mapping.criteria.items()):
        if key not in ours:
            problems.append((f"criteria.{key}", _absent("criterion", key, official)))
            unknown[0].append(key)
        if isinstance(value, int) and value not in theirs:
            problems.append((f"criteria.{key}", _absent("draft criterion", value, draft)))
            unknown[1].append(value)
    if problems:
        raise MappingCriterionError(problems, *unknown)
    targets = {k: v for k, v in sorted(mapping.criteria.items()) if isinstance(v, int)}
    dropped = [k for k, v in mapping.criteria.items() if v == DROPPED]
    return ResolvedMapping(
        identity=False,
        targets=targets,
        dropped=_refs(official, dropped),
        unmapped=_refs(official, ours - set(mapping.criteria)),
        unscored=_refs(draft, theirs - set(targets.values())),
    )


def _absent(what: str, number: int | str, rule_set: RuleSet) -> str:
    return f"{what} {number} is not a criterion of {rule_set.id} (criteria 1..{len(rule_set.criteria)})"


class Cap(Out):
    """Points that merged into one draft criterion above its maximum, and were cut to it."""

    criterion: int
    official_criteria: list[int]
    points: int
    maximum: int


def draft_scores(
    scores: Mapping[int, int], mapping: ResolvedMapping, draft: RuleSet
) -> tuple[dict[int, int], list[Cap]]:
    """A unit's official scores as the draft's: moved along the mapping, merged criteria added up and capped."""
    merged: dict[int, int] = {}
    sources: dict[int, list[int]] = {}
    for number, points in sorted(scores.items()):
        target = mapping.targets.get(number)
        if target is not None:
            merged[target] = merged.get(target, 0) + points
            sources.setdefault(target, []).append(number)
    caps = []
    for target, points in sorted(merged.items()):
        maximum = draft.criterion(target).max_points
        if points > maximum:
            caps.append(Cap(criterion=target, official_criteria=sources[target], points=points, maximum=maximum))
            merged[target] = maximum
    return merged, caps
