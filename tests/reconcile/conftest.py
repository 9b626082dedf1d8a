"""Fixtures of the reconciliation tests: the real SMTP server the deliveries send to."""

from __future__ import annotations

from tests.notify.conftest import smtp

__all__ = ["smtp"]
