"""`xptt token`: a development bearer token for an official."""

from __future__ import annotations

from datetime import timedelta

import typer

from cli.common import console, fail
from infra.settings import get_settings
from infra.tokens import TokenError, issue_token, utcnow


def token(
    official_id: str = typer.Argument(..., help="the official the token names (roles come from the database)"),
    days: int = typer.Option(30, min=1, max=365, help="validity in days"),
) -> None:
    """Issue a signed bearer token (HS256 with XPTT_JWT_SECRET) for development and tests."""
    s = get_settings()
    try:
        console.print(
            issue_token(official_id, secret=s.jwt_secret, issuer=s.jwt_issuer, now=utcnow(), ttl=timedelta(days=days)),
            soft_wrap=True,
        )
    except TokenError as exc:
        fail(str(exc), 2)
