"""Settings from the environment (and `.env`), one place for every knob the services read."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.ministry_report import parse_month_day


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # PostgreSQL. Empty means: the dev stack starts an embedded server under `var_dir`.
    database_url: str = Field(default="", alias="DATABASE_URL")
    db_pool_size: int = Field(default=10, alias="DB_POOL_SIZE")

    temporal_address: str = Field(default="127.0.0.1:7233", alias="TEMPORAL_ADDRESS")
    temporal_namespace: str = Field(default="default", alias="TEMPORAL_NAMESPACE")
    task_queue: str = Field(default="xptt-cases", alias="TEMPORAL_TASK_QUEUE")

    api_host: str = Field(default="127.0.0.1", alias="API_HOST")
    api_port: int = Field(default=8000, alias="API_PORT")
    public_url: str = Field(default="http://127.0.0.1:8000", alias="PUBLIC_URL")

    # Bearer tokens the product issues (`xptt token`): HS256 with this shared secret. Production signs only service
    # tokens with it (`jwt_service_only`); people sign in through the OIDC provider.
    jwt_secret: str = Field(default="", alias="XPTT_JWT_SECRET")
    jwt_issuer: str = Field(default="xptt", alias="XPTT_JWT_ISSUER")
    # The `aud` every bearer token must carry (and `xptt token` writes): a token minted for another application, or
    # for none, is refused. Never empty.
    jwt_audience: str = Field(default="xptt", min_length=1, alias="XPTT_JWT_AUDIENCE")
    # true: an HS256 token is accepted only as a service token (claim `kind: service`); people's tokens come from the
    # OIDC provider. docker-compose.yml sets it.
    jwt_service_only: bool = Field(default=False, alias="XPTT_JWT_SERVICE_ONLY")
    # Longest lifetime (exp − iat, or exp − now without iat) of a person's token. A token cannot be recalled from
    # whoever copied it except by its jti: 24 h bounds a leaked token to one working day, and the provider's own
    # tokens live minutes.
    token_max_hours: int = Field(default=24, ge=1, alias="XPTT_TOKEN_MAX_HOURS")
    # Longest lifetime of a service token (`xptt token --service`): a machine's credential an operator installs by
    # hand; 30 days is a monthly rotation, short enough that a forgotten one dies on its own.
    service_token_max_days: int = Field(default=30, ge=1, alias="XPTT_SERVICE_TOKEN_MAX_DAYS")
    # A sign-in on the pages lasts this long at most, and never beyond the token it was opened with: a working day.
    session_hours: int = Field(default=12, ge=1, alias="XPTT_SESSION_HOURS")
    # Production: tokens of an OIDC provider (RS256/ES256) verified against its JWKS; keys are cached and fetched
    # again when a token names an unknown key id (at most once per `jwks_min_refresh_seconds`).
    jwks_url: str = Field(default="", alias="XPTT_JWKS_URL")
    jwks_cache_seconds: int = Field(default=600, alias="XPTT_JWKS_CACHE_SECONDS")
    jwks_min_refresh_seconds: float = Field(default=30, alias="XPTT_JWKS_MIN_REFRESH_SECONDS")

    # Actor assertions (domain/actor_assertion.py): the services sign each Update with the first key of this ring and
    # the workers check it with any key of it (`k2:<secret>,k1:<secret>`, secrets of 32 characters or more, no
    # comma). The API, the worker and the acting CLI commands need it; the worker refuses to start without it.
    actor_keys: str = Field(default="", alias="XPTT_ACTOR_KEYS", repr=False)
    # How far an assertion's issue time may be from the case's time (either side) before the case refuses it.
    actor_assertion_max_age_seconds: int = Field(default=600, ge=1, alias="XPTT_ACTOR_ASSERTION_MAX_AGE")

    # Sign-in on the web pages with the OIDC provider (authorization code flow with PKCE, state and nonce); on when
    # the issuer and the client id are set. The ID token is verified with the provider's keys (`XPTT_JWKS_URL`, else
    # the `jwks_uri` of the discovery document), its issuer, the client id as audience, its nonce and expiry.
    oidc_issuer: str = Field(default="", alias="XPTT_OIDC_ISSUER")
    # Empty: `<issuer>/.well-known/openid-configuration`.
    oidc_discovery_url: str = Field(default="", alias="XPTT_OIDC_DISCOVERY_URL")
    oidc_client_id: str = Field(default="", alias="XPTT_OIDC_CLIENT_ID")
    # Empty: a public client (PKCE alone); else sent to the token endpoint with HTTP Basic (client_secret_basic).
    oidc_client_secret: str = Field(default="", alias="XPTT_OIDC_CLIENT_SECRET")
    # Empty: `<PUBLIC_URL>/web/oidc/callback`; it must be registered with the provider exactly as written.
    oidc_redirect_url: str = Field(default="", alias="XPTT_OIDC_REDIRECT_URL")
    oidc_scopes: str = Field(default="openid profile", alias="XPTT_OIDC_SCOPES")
    # The provider's name on the sign-in button ("Đăng nhập bằng …"); empty: a generic label.
    oidc_provider_name: str = Field(default="", alias="XPTT_OIDC_PROVIDER_NAME")

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @property
    def oidc_discovery(self) -> str:
        return self.oidc_discovery_url or f"{self.oidc_issuer.rstrip('/')}/.well-known/openid-configuration"

    @property
    def oidc_redirect(self) -> str:
        return self.oidc_redirect_url or f"{self.public_url.rstrip('/')}/web/oidc/callback"

    # Worker tuning (bench/README.md has the figures behind the defaults). Cached workflows are kept in memory
    # between their tasks (an evicted one is replayed from its history when it next wakes): the cache bounds the
    # worker's memory however many cases are live.
    # 500: peak RSS 399 MiB with 10,035 live cases (475 MiB with the SDK's default of 1000; bench/round_open.py) when
    # chosen, 329 MiB on 01/12/2026 (docs/benchmarks.md).
    worker_max_cached_workflows: int = Field(default=500, ge=0, alias="WORKER_MAX_CACHED_WORKFLOWS")
    worker_max_concurrent_workflow_tasks: int = Field(default=100, ge=1, alias="WORKER_MAX_CONCURRENT_WORKFLOW_TASKS")
    worker_max_concurrent_activities: int = Field(default=100, ge=1, alias="WORKER_MAX_CONCURRENT_ACTIVITIES")
    # How the worker runs workflow code (workflows/registry.py, docs/configuration.md "The workflow sandbox").
    worker_workflow_sandbox: Literal["isolated", "shared", "off"] = Field(
        default="shared", alias="WORKER_WORKFLOW_SANDBOX"
    )

    # Observability (docs/observability.md). The worker's Temporal SDK metrics for Prometheus at
    # http://<address>/metrics ("host:port"); empty: none (`xptt dev up` sets 127.0.0.1:9464).
    worker_metrics_address: str = Field(default="", pattern=r"^$|^\S+:\d{1,5}$", alias="WORKER_METRICS_ADDRESS")
    # The API's GET /metrics answers only the bearer of this token; empty: loopback clients that came through no proxy.
    metrics_token: str = Field(default="", alias="XPTT_METRICS_TOKEN", repr=False)
    # How long the product's gauges (read from PostgreSQL) are kept between scrapes, in seconds.
    metrics_cache_seconds: float = Field(default=10, ge=0, le=300, alias="XPTT_METRICS_CACHE_SECONDS")

    # Worker deployment versioning (docs/deploys.md): the worker joins version `<name>.<build id>` of the deployment.
    # Empty build id: versioning off (every worker takes every task, as in tests and `make run`); "auto": a hash of
    # the code that decides what workflows do (services/deploy/versioning.py `code_build_id`); else the id as given.
    worker_deployment_name: str = Field(
        default="xptt", pattern=r"^[A-Za-z0-9_-]{1,64}$", alias="WORKER_DEPLOYMENT_NAME"
    )
    worker_build_id: str = Field(default="", pattern=r"^[A-Za-z0-9._-]{0,64}$", alias="WORKER_BUILD_ID")

    var_dir: Path = Field(default=Path("var"), alias="XPTT_VAR_DIR")
    # Where the draft decision's PDF finds DejaVu Serif (regular, bold, italic, bold italic): a free serif face with
    # every Vietnamese glyph. The default is where Debian's fonts-dejavu-core and fonts-dejavu-extra install it.
    pdf_font_dir: Path = Field(default=Path("/usr/share/fonts/truetype/dejavu"), alias="XPTT_PDF_FONT_DIR")
    demo_province: str = Field(default="33", alias="XPTT_DEMO_PROVINCE")  # Hưng Yên, 104 units
    # The dev stack's rehearsal round: the same round in a second province, its calendar moved so that its assessment
    # window is open now (the demo province's round keeps the legal calendar). Never the demo province.
    demo_rehearsal_province: str = Field(default="12", alias="XPTT_DEMO_REHEARSAL_PROVINCE")  # Lai Châu, 38 units
    log_format: str = Field(default="auto", alias="LOG_FORMAT")  # auto | json | console
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")

    # Notifications (notify/): email over SMTP, signed webhooks, the daily digest.
    smtp_host: str = Field(default="127.0.0.1", alias="SMTP_HOST")
    smtp_port: int = Field(default=1025, alias="SMTP_PORT")
    smtp_tls: str = Field(default="none", alias="SMTP_TLS")  # none | starttls | tls (implicit TLS, port 465)
    smtp_username: str = Field(default="", alias="SMTP_USERNAME")
    smtp_password: str = Field(default="", alias="SMTP_PASSWORD")
    smtp_timeout: float = Field(default=30, alias="SMTP_TIMEOUT")
    mail_from: str = Field(default="xptt <no-reply@xptt.localhost>", alias="MAIL_FROM")
    webhook_url: str = Field(default="", alias="XPTT_WEBHOOK_URL")  # for officials who chose webhooks without a URL
    webhook_secret: str = Field(default="", alias="XPTT_WEBHOOK_SECRET")  # HMAC-SHA256 key shared with receivers
    webhook_timeout: float = Field(default=10, alias="XPTT_WEBHOOK_TIMEOUT")
    digest_hour: int = Field(default=7, ge=0, le=23, alias="XPTT_DIGEST_HOUR")  # local hour of the daily digest
    mail_sink_port: int = Field(default=1025, alias="XPTT_MAIL_SINK_PORT")  # dev stack: local SMTP sink

    # Inputs the law cannot mean. Rounds that open as live cases (`POST /v1/rounds`, `xptt round open`): of the rule
    # set in force, the current assessment and this many after it (domain/rounds.py `live_rounds`); 1: the current
    # and the next, the two a province plans for.
    rounds_open_ahead: int = Field(default=1, ge=0, le=10, alias="XPTT_ROUNDS_OPEN_AHEAD")
    # How far after now an administrator may move a task's due time (domain/admin.py `DUE_HORIZON_DAYS`: the
    # assessment stages of a round fit in one season, October to December).
    due_horizon_days: int = Field(default=180, ge=1, le=3660, alias="XPTT_DUE_HORIZON_DAYS")
    # The day of the year after a round's assessment by which the province reports it to the ministry, "MM-DD"
    # (domain/ministry_report.py: no source names it; assumed 31 January, a month after the decisions close the round).
    ministry_report_due: str = Field(default="01-31", pattern=r"^\d{2}-\d{2}$", alias="XPTT_MINISTRY_REPORT_DUE")

    @field_validator("ministry_report_due")
    @classmethod
    def _a_day_of_every_year(cls, text: str) -> str:
        parse_month_day(text)
        return text


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
