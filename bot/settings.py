"""Service settings: built once in main() and passed down; nothing is read at import time."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/sapa.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAPA_", env_file=".env", extra="ignore")

    environment: str = "development"
    var_dir: Path = Path("var")
    database_url: str = DEFAULT_DATABASE_URL
    master_key: SecretStr | None = None
    key_file: Path = Path("var/keys.json")
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    workers: int = 1  # `sapa serve` worker processes; more than one needs PostgreSQL + Redis
    log_level: str = "INFO"

    # Statistics: cells below k are suppressed; k is never below 3.
    stats_k: int = 5
    # Targets the admin dashboard shows response times against (wall-clock minutes).
    stats_target_first_response_minutes: int = 240
    stats_target_resolution_minutes: int = 7 * 24 * 60
    # Retention: transcripts of cases closed longer ago than this are shredded.
    retention_days: int = 365
    partners_file: Path = Path("config/partners.yaml")
    consent_version: str = "2025-12-v1"
    # Service hours, holidays and emergency contacts an admin saves reach every worker (and
    # every other `sapa serve` on the same database) within this many seconds.
    setup_refresh_seconds: float = 30.0

    # Outbox delivery
    outbox_max_attempts: int = 8
    outbox_lease_seconds: int = 60

    # NLU (Rasa) server: when nlu_url is unset, `sapa serve` starts a local one.
    nlu_url: str | None = None
    nlu_token: SecretStr | None = None
    nlu_port: int = 5005
    nlu_timeout_seconds: float = 2.0

    # Telegram: a bot is off when its token is absent. Long polling unless public_url is set.
    telegram_client_token: SecretStr | None = None
    telegram_staff_token: SecretStr | None = None
    telegram_api_base: str = "https://api.telegram.org"
    public_url: str | None = None
    # Bot conversation state and shared limits go to Redis when set (several workers).
    redis_url: str | None = None
    crisis_repage_check_seconds: float = 60.0
    # Admin pages: /metrics needs this bearer token (unset: open in development only);
    # invites link to https://t.me/<staff bot username>?start=<code> when it is set.
    metrics_token: SecretStr | None = None
    telegram_staff_bot_username: str | None = None

    # WhatsApp Cloud API: the channel is off unless token, phone number id, app secret and
    # verify token are all set. A reply due outside the 24-hour window waits for the ASN and
    # the approved template below invites them to write again.
    whatsapp_token: SecretStr | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    whatsapp_api_base: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v21.0"
    whatsapp_template: str = "sapa_balasan_konselor"
    whatsapp_template_language: str = "id"

    @field_validator("setup_refresh_seconds")
    @classmethod
    def _refresh_positive(cls, value: float) -> float:
        if value <= 0:  # 0 or less would reload the setup in a tight loop
            raise ValueError("SAPA_SETUP_REFRESH_SECONDS must be more than 0")
        return value

    @field_validator("stats_k")
    @classmethod
    def _k_floor(cls, value: int) -> int:
        if value < 3:
            raise ValueError("SAPA_STATS_K must be at least 3")
        return value
