"""The directory's daily work: absent officials' open tasks handed to their deputies (services/officials/absences.py).
Takes the Temporal client (the hand-over is each case's `reassign` Update) and the session factory."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import Client

from contracts import AbsenceHandoverInput, AbsenceHandoverResult
from services.officials.absences import hand_over_leaves


class DirectoryTasks:
    def __init__(self, client: Client, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._client = client
        self._sessions = session_factory

    @activity.defn(name="hand_over_leaves")
    async def hand_over_leaves(self, inp: AbsenceHandoverInput) -> AbsenceHandoverResult:
        return await hand_over_leaves(self._sessions, self._client, now=datetime.now(UTC))
