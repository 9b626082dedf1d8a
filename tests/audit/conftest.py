"""A Temporal dev server of the audit tests' own, which deletes a closed execution at once when asked (the shared
server does so only after its close tasks settle, about a minute later): "Temporal forgot this case" in a test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from infra.embedded import SEARCH_ATTRIBUTES, temporal_binary


@pytest.fixture(scope="session")
async def forgetful_temporal() -> AsyncIterator[WorkflowEnvironment]:
    extra: list[str] = []
    for name, kind in SEARCH_ATTRIBUTES.items():
        extra += ["--search-attribute", f"{name}={kind}"]
    for key in (
        "history.transferProcessorEnsureCloseBeforeDelete",
        "history.visibilityProcessorEnsureCloseBeforeDelete",
    ):
        extra += ["--dynamic-config-value", f"{key}=false"]
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        data_converter=pydantic_data_converter,
        dev_server_extra_args=extra,
    )
    yield env
    await env.shutdown()
