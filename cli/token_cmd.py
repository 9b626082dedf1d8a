"""`xptt token`: issue a bearer token for an official (a person's, or a service's with `--service`), and revoke one by
its jti (`xptt token revoke JTI`)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import typer
from typer.core import TyperGroup

from cli.common import T, console, database, err_console, fail, settings_with_database
from infra.settings import get_settings
from infra.tokens import TokenError, claims_of, issue_token, revoke_token, utcnow


class _IssueByDefault(TyperGroup):
    """`xptt token OFFICIAL …` is `xptt token issue OFFICIAL …`: a first word that names no subcommand is the
    official."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # ctx: the click Context typer carries
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["issue", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_IssueByDefault,
    help="Bearer tokens: issue one for an official (`xptt token OFFICIAL`), or revoke one by its jti.",
    no_args_is_help=True,
)


@app.command("issue")
def issue(
    official_id: str = typer.Argument(..., help="the official the token names (roles come from the database)"),
    service: bool = typer.Option(
        False, "--service", help="a service token (a machine calling the API), capped by XPTT_SERVICE_TOKEN_MAX_DAYS"
    ),
    hours: int | None = typer.Option(None, min=1, help="validity in hours (default: the cap, XPTT_TOKEN_MAX_HOURS)"),
    days: int | None = typer.Option(
        None, min=1, help="validity in days, service tokens only (default: the cap, XPTT_SERVICE_TOKEN_MAX_DAYS)"
    ),
) -> None:
    """Issue a signed bearer token (HS256 with XPTT_JWT_SECRET) within the lifetime cap of its kind. The token goes to
    standard output; its jti and expiry to standard error."""
    s = get_settings()
    if hours is not None and days is not None:
        fail(T("cli_token_hours_days"), 2)
    if days is not None and not service:
        fail(T("cli_token_person_hours", hours=s.token_max_hours), 2)
    if s.jwt_service_only and not service:
        fail(T("cli_token_service_only"), 2)
    cap = timedelta(days=s.service_token_max_days) if service else timedelta(hours=s.token_max_hours)
    ttl = timedelta(hours=hours) if hours is not None else timedelta(days=days) if days is not None else cap
    try:
        token = issue_token(
            official_id,
            secret=s.jwt_secret,
            issuer=s.jwt_issuer,
            audience=s.jwt_audience,
            now=utcnow(),
            ttl=ttl,
            service=service,
            max_ttl=cap,
        )
    except TokenError as exc:
        fail(str(exc), 2)
    console.print(token, soft_wrap=True, highlight=False)
    claims: dict[str, Any] = claims_of(token)
    expires = datetime.fromtimestamp(int(claims["exp"]), UTC).isoformat()
    err_console.print(T("cli_token_issued", jti=claims["jti"], expires=expires), highlight=False)


@app.command("revoke")
def revoke(
    jti: str = typer.Argument(..., help="the token's jti (printed when it was issued)"),
    reason: str | None = typer.Option(None, help="why, kept with the revocation"),
) -> None:
    """Revoke a token by its jti: the API refuses it from now on, and the pages' sessions opened with it end."""
    if not jti.strip() or len(jti) > 200:
        fail(T("cli_jti_length"), 2)
    s = settings_with_database()

    async def run() -> bool:
        async with database(s) as sessions, sessions() as session, session.begin():
            return await revoke_token(session, jti.strip(), reason=reason, now=utcnow())

    newly = asyncio.run(run())
    console.print(T("cli_token_revoked" if newly else "cli_token_already", jti=jti.strip()), highlight=False)
