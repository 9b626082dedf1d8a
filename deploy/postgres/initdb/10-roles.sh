#!/bin/bash
# First start of the PostgreSQL volume only (docker-entrypoint-initdb.d): one login role per consumer.
#   xptt      owns the application database `xptt` (Alembic migrations run as this role).
#   temporal  may create databases; Temporal's auto-setup creates `temporal_visibility` itself and
#             skips the database named like its user, so `temporal` is created here.
# Passwords come from the environment (XPTT_DB_PASSWORD, TEMPORAL_DB_PASSWORD), never from this file.
set -euo pipefail

: "${XPTT_DB_PASSWORD:?XPTT_DB_PASSWORD must be set}"
: "${TEMPORAL_DB_PASSWORD:?TEMPORAL_DB_PASSWORD must be set}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "${POSTGRES_DB:-$POSTGRES_USER}" \
    -v xptt_password="$XPTT_DB_PASSWORD" \
    -v temporal_password="$TEMPORAL_DB_PASSWORD" <<'SQL'
CREATE ROLE xptt LOGIN PASSWORD :'xptt_password';
CREATE DATABASE xptt OWNER xptt;
REVOKE ALL ON DATABASE xptt FROM PUBLIC;

CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
REVOKE ALL ON DATABASE temporal FROM PUBLIC;
SQL
