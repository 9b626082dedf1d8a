"""Notifications that reach officials: an outbox written with the state change it announces, delivered by email
(SMTP), signed webhooks and in-app, in Vietnamese with an English fallback, with per-official preferences
(channels, daily digest, quiet hours).

Pure parts: events (kinds, recipients, ids), preferences (delivery plans), templates, transitions (what a case
transition announces), webhook signing and verification, building an email. With a session: outbox (enqueue),
digest (build), inbox (in-app list/read, preferences, failed notifications). Sending: mailer, webhook sender,
activities/notify.py; sequencing: workflows/notification.py.
"""
