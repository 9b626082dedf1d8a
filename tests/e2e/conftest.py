"""Fixtures of the end-to-end tests: the real receivers of the notification tests (an SMTP server, a webhook
receiver), for the case driven through the API that must notify through them."""

from __future__ import annotations

from tests.notify.conftest import receiver, smtp

__all__ = ["receiver", "smtp"]
