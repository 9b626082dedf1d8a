"""Reconciliation of PostgreSQL with Temporal after a restore: `xptt reconcile` (docs/reconcile.md)."""
