"""Every workflow the worker runs (and the replayers replay).

Kept apart from `workflows/__init__.py` on purpose: the sandbox imports a workflow's package afresh for every run,
so the package itself imports nothing and each run loads only its own workflow's module.
"""

from workflows.case import RecognitionCaseWorkflow
from workflows.notification import NotificationDeliveryWorkflow, NotificationDigestWorkflow
from workflows.round import AssessmentRoundWorkflow
from workflows.round_opener import ScheduledRoundOpeningWorkflow

WORKFLOWS = (
    RecognitionCaseWorkflow,
    AssessmentRoundWorkflow,
    ScheduledRoundOpeningWorkflow,
    NotificationDeliveryWorkflow,
    NotificationDigestWorkflow,
)
