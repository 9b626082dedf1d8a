"""The journal as an event log for process mining: OCEL 2.0 (JSON, SQLite) and XES exports of a round.

Pure: `mapping` (journal rows and records to objects, events, traces). IO: `queries` (streamed reads),
`text_writers` (OCEL JSON, XES), `ocel_sqlite` (OCEL SQLite), `service` (what the CLI and the API call).
docs/event-log.md says what is exported.
"""
