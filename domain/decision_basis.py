"""What a recognition decision rests on besides its round: the laws it cites, who proposes it, who carries it out,
who receives it and who signs, per procedure profile, read from domain/data/decision.yaml. The rule set's own
decision comes from its rule file (`RuleSet.legal_basis`). Pure: the file is read once.

`{level}` in the wording stands for the province's kind after "Ủy ban nhân dân": "tỉnh", or "thành phố" for a
centrally-run city (`level_of`).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import Field

from domain.datafiles import Basis, Frozen, load_yaml_model
from domain.errors import DataFileError, DomainError

DECISION_FILE = Path(__file__).parent / "data" / "decision.yaml"


class DecisionFileError(DataFileError):
    code = "decision_file_invalid"


class NoDecisionWordingError(DomainError, LookupError):
    """The procedure profile in force has no wording for its recognition decision."""

    code = "no_decision_wording"

    def __init__(self, profile_id: str, known: list[str]) -> None:
        super().__init__(
            f"{DECISION_FILE.name} has no wording for the procedure profile {profile_id!r} "
            f"(it has: {', '.join(known) or 'none'})"
        )
        self.profile_id = profile_id


class Law(Basis):
    text: str = Field(min_length=1, description='as cited after "Căn cứ", without the final ";"')


class DecisionWording(Basis):
    laws: list[Law] = Field(min_length=1)
    proposer: str = Field(min_length=1, description='who proposes the decision, after "Xét đề nghị của"')
    proposal: str = Field(min_length=1, description="the proposal's reference, blanks to fill")
    executors: list[str] = Field(min_length=1, description="who carries out the decision (Article 3)")
    recipients: list[str] = Field(min_length=1, description='"Nơi nhận", without the final ";" or "."')
    signer: list[str] = Field(min_length=1, max_length=3, description="the signing authority's lines")


class DecisionFile(Frozen):
    version: int = Field(ge=1, le=1)
    profiles: dict[str, DecisionWording]


@cache
def _decision_file(path: Path = DECISION_FILE) -> DecisionFile:
    return load_yaml_model(path, DecisionFile, DecisionFileError)


def decision_wording(profile_id: str, path: Path = DECISION_FILE) -> DecisionWording:
    """The wording of the decision the profile's deciding authority signs; NoDecisionWordingError when the file has
    none for it, DecisionFileError (naming the file, the field and the reason) when the file is bad."""
    found = _decision_file(path).profiles
    if profile_id not in found:
        raise NoDecisionWordingError(profile_id, sorted(found))
    return found[profile_id]


def level_of(is_central_city: bool) -> str:
    """The province's kind as written after "Ủy ban nhân dân": "thành phố" for a centrally-run city, else "tỉnh"."""
    return "thành phố" if is_central_city else "tỉnh"
