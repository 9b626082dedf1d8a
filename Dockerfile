# syntax=docker/dockerfile:1
# The application image: one image, three roles chosen by command (see docker-compose.yml):
#   API (default CMD), Temporal worker (`python worker.py`), migrations (`xptt db upgrade`).
ARG PYTHON_IMAGE=python:3.11-slim

# ---- build: resolve and install dependencies into a self-contained venv -------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src

# Runtime dependencies first, from pyproject.toml alone, so code edits do not re-download them. Only
# `project.dependencies`: the `stack` extra (embedded PostgreSQL, Temporal dev server, mail sink) and `dev` stay out.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt

# Then the project itself (no dev extras): packages, package data and the `xptt` console script.
COPY . .
RUN pip install --no-deps . && pip check

# ---- runtime -------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
# PYTHONPATH: imports resolve to the source tree in /app, so files that are not package data
# (db/migrations/, alembic.ini, worker.py) are found next to the code that runs.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH=/app \
    XPTT_VAR_DIR=/app/var \
    LOG_FORMAT=json

# The draft decision's PDF embeds DejaVu Serif, which has every Vietnamese glyph (XPTT_PDF_FONT_DIR's default,
# docs/documents.md): regular and bold from fonts-dejavu-core, the italics from fonts-dejavu-extra.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core fonts-dejavu-extra \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 xptt \
    && useradd --system --uid 10001 --gid xptt --home-dir /app --no-create-home --shell /usr/sbin/nologin xptt

COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The code stays owned by root (read-only for the service user); only var/ is writable.
COPY . .
# Bytecode compiled once here: the workflow sandbox imports each workflow's module afresh for every run, and
# without a .pyc (PYTHONDONTWRITEBYTECODE, read-only code) every one of those imports compiles the source again.
RUN python -m compileall -q domain workflows activities notify audit api web infra db services cli worker.py contracts.py \
    && mkdir -p /app/var && chown xptt:xptt /app/var

# Numeric so that orchestrators enforcing runAsNonRoot can verify it.
USER 10001:10001
EXPOSE 8000
# uvicorn's limits (as infra/stack.py's API_LIMITS): idle keep-alive 5 s, an incomplete request head buffered up to
# 16 KiB, 503 past 1000 connections or requests in flight.
CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000", "--http", "h11", "--timeout-keep-alive", "5", "--h11-max-incomplete-event-size", "16384", "--limit-concurrency", "1000"]
