"""Audit: the hash-chained decision journal, archived workflow histories, replay and offline bundles.

Pure parts (no IO): `canonical` (the byte encoding every hash is taken over), `chain` (row hashes and the chain
check), `witness` (what a workflow history says was recorded), `recompute` (verdicts from the recorded scores),
`bundle` (the self-contained export and its offline check). IO parts: `journal` (appending, in the recording
activity's transaction), `store` (reading PostgreSQL), `replay` (the Temporal Replayer), `service` (what the CLI and
the API call).
"""
