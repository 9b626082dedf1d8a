"""`xptt`: the command line for operators, officials and auditors."""

from __future__ import annotations

import typer

from cli import (
    audit_cmd,
    bulk_cmd,
    db_cmd,
    deploy_cmd,
    dev,
    history_cmd,
    ministry_cmd,
    officials_cmd,
    reconcile_cmd,
    rounds_cmd,
    rules,
    stuck_cmd,
    targets_cmd,
    token_cmd,
    units,
)

app = typer.Typer(
    name="xptt",
    help="Recognition of child-friendly communes: dev stack, seeding, rounds, tokens and the legal rules.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(dev.app, name="dev")
app.add_typer(db_cmd.app, name="db")
app.add_typer(rounds_cmd.app, name="round")
app.add_typer(token_cmd.app, name="token")
app.command("stuck")(stuck_cmd.stuck)
app.command("reconcile")(reconcile_cmd.reconcile)
app.add_typer(rules.app, name="rules")
app.add_typer(units.app, name="units")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(bulk_cmd.app, name="bulk")
app.add_typer(officials_cmd.app, name="officials")
app.add_typer(targets_cmd.app, name="targets")
app.add_typer(history_cmd.app, name="history")
app.add_typer(ministry_cmd.app, name="ministry")
app.add_typer(deploy_cmd.app, name="deploy")

if __name__ == "__main__":
    app()
