"""Configuration from ``MEL_`` environment variables (documented in the README)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mel.core.paths import INDICATORS_DIR

DEV_SECRET = "dev-only-insecure-secret"


class Settings(BaseSettings):
    """Every knob of a mel instance. Tests build their own instance; nothing is read at import time."""

    model_config = SettingsConfigDict(env_prefix="MEL_", extra="ignore")

    database_url: str = Field(default="sqlite:///mel.sqlite3", description="SQLAlchemy URL of the database.")
    secret_key: str = Field(default=DEV_SECRET, description="Key that signs session cookies and CSRF tokens.")
    environment: str = Field(default="development", description="development or production.")
    upload_dir: Path = Field(default=Path("uploads"), description="Where original uploaded files are kept.")
    max_upload_mb: float = Field(default=20.0, description="Largest accepted upload, in megabytes.")
    catalog_dir: Path = Field(default=INDICATORS_DIR, description="Folder of results-framework YAML files.")
    default_lang: str = Field(default="en", description="Interface language when the browser states none.")
    report_due_days: int = Field(default=30, description="Days after quarter end a report is due.")
    outlier_mad_k: float = Field(default=5.0, description="Outlier threshold: median +/- k x MAD.")
    outlier_min_history: int = Field(default=4, description="Previous quarters needed before flagging outliers.")
    login_max_failures: int = Field(default=5, description="Failed logins before throttling.")
    login_window_minutes: int = Field(default=15, description="Window of the login throttle, in minutes.")
    login_account_max_addresses: int = Field(
        default=10, description="Distinct addresses failing on one account before that account is throttled."
    )
    login_account_window_minutes: int = Field(default=60, description="Window of the per-account throttle, in minutes.")
    trusted_proxies: str = Field(
        default="", description="Comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For is believed."
    )
    session_hours: int = Field(default=12, description="Lifetime of a login session, in hours.")
    max_sheet_cells: int = Field(
        default=3_000_000, description="Cells of one sheet's rectangle (rows x columns) an import reads at most."
    )
    page_store_mb: int = Field(
        default=64, description="Rendered progress pages kept per server process, in MB (0: render every request)."
    )
    max_concurrent_imports: int = Field(default=2, description="Imports that run at once; others wait in the queue.")
    import_memory_mb: int = Field(
        default=2048, description="Address space one import worker process may add to what it starts with."
    )
    import_timeout_seconds: int = Field(default=300, description="Time limit of one import worker process.")
    max_anonymous_body_kb: int = Field(default=64, description="Largest request body without a session, in KB.")
    api_requests_per_minute: int = Field(default=120, description="API requests one token may make per minute.")
    api_token_max_days: int = Field(default=365, description="Longest lifetime of a personal access token, in days.")

    @property
    def max_part_bytes(self) -> int:
        """Uncompressed XML of one sheet (or the shared strings) an import reads at most: 10 x the upload limit."""
        return int(10 * self.max_upload_mb * 1024 * 1024)

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_proxies(cls, value: str) -> str:
        """A typo in a proxy address must stop the start, not silently trust nobody (or everybody)."""
        for part in value.split(","):
            if part.strip():
                ipaddress.ip_network(part.strip(), strict=False)
        return value

    def trusted_proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """``trusted_proxies`` parsed: the networks whose ``X-Forwarded-For`` header is believed."""
        return [ipaddress.ip_network(p.strip(), strict=False) for p in self.trusted_proxies.split(",") if p.strip()]

    @property
    def uses_dev_secret(self) -> bool:
        return self.secret_key == DEV_SECRET

    def check_production(self) -> None:
        """Refuse to run a production instance with the development secret."""
        if self.environment == "production" and self.secret_key == DEV_SECRET:
            raise RuntimeError("MEL_SECRET_KEY must be set in production")
