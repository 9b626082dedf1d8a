"""A Temporal dev server of the audit tests' own, which deletes a closed execution at once when asked (the shared
server does so only after its close tasks settle, about a minute later): "Temporal forgot this case" in a test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.builders import start_dev_server


@pytest.fixture(scope="session")
async def forgetful_temporal() -> AsyncIterator[WorkflowEnvironment]:
    extra: list[str] = []
    for key in (
        "history.transferProcessorEnsureCloseBeforeDelete",
        "history.visibilityProcessorEnsureCloseBeforeDelete",
    ):
        extra += ["--dynamic-config-value", f"{key}=false"]
    env = await start_dev_server(*extra)
    yield env
    await env.shutdown()
