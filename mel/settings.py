"""Configuration from ``MEL_`` environment variables (documented in the README)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from mel.paths import INDICATORS_DIR

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
    session_hours: int = Field(default=12, description="Lifetime of a login session, in hours.")

    def check_production(self) -> None:
        """Refuse to run a production instance with the development secret."""
        if self.environment == "production" and self.secret_key == DEV_SECRET:
            raise RuntimeError("MEL_SECRET_KEY must be set in production")
