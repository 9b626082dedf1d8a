"""Workflows: the procedure, sequenced. Orchestration only; the rules live in domain/."""

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
