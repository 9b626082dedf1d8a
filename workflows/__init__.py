"""Workflows: the procedure, sequenced. Orchestration only; the rules live in domain/."""

from workflows.case import RecognitionCaseWorkflow

WORKFLOWS = (RecognitionCaseWorkflow,)
