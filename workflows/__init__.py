"""Workflows: the procedure, sequenced. Orchestration only; the rules live in domain/.

This package imports nothing: the workflow sandbox runs it again for every workflow run (see `workflows.registry`
for the list of workflows).
"""
