"""Configuration, from the environment (``CMDB_*``) or a ``.env``-style settings file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, IPvAnyNetwork, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from cmdb.model.clock import Clock, load_zone

DEFAULT_DB = Path("cmdb.sqlite3")


class Settings(BaseSettings):
    """Everything an operator can set. Secrets are never logged."""

    model_config = SettingsConfigDict(
        env_prefix="CMDB_", env_file=None, env_file_encoding="utf-8", extra="forbid",
        frozen=True
    )

    store_url: str = Field(
        default=f"sqlite:///{DEFAULT_DB}",
        description="sqlite:///path/to/file or neo4j://host:7687 (bolt://, neo4j+s:// too)",
    )
    store_user: str = "neo4j"
    store_password: SecretStr = SecretStr("")
    store_database: str | None = Field(default=None, description="Neo4j database name")
    store_timeout: float = Field(
        default=5.0, gt=0, description="seconds before an unreachable store is reported"
    )
    schema_dir: Path | None = Field(
        default=None, description="a folder with classes.yaml, relationships.yaml, lifecycle.yaml"
    )
    vendors_file: Path | None = Field(
        default=None, description="a YAML file of your own manufacturer names and aliases "
        "(the shape of schema/vendors.yaml), added to the vendor table")
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="where people reach this CMDB; label QR codes point to {this}/a/{tag}",
    )
    organisation_name: str | None = Field(
        default=None, max_length=200, description="printed at the foot of every asset label"
    )
    label_qr_content: Literal["url", "tag"] = Field(
        default="url", description="what label QR codes hold: the asset page URL or the bare tag"
    )
    max_page_size: int = Field(default=500, ge=1)
    max_query_depth: int = Field(default=12, ge=2)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=5000, ge=100)
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    max_query_cost: int = Field(
        default=100_000, ge=100, description="the estimated cost (fields resolved, times the "
        "page sizes of the lists they are in) above which a GraphQL request is refused")
    max_field_repeats: int = Field(
        default=30, ge=2, description="how often one field may be selected in one "
        "selection set, fragments included")
    introspection: bool = True
    auth: Literal["token", "none"] = Field(
        default="token",
        description="token: API tokens and sign-in required; none: demo mode, loopback only",
    )
    session_secret: SecretStr | None = Field(
        default=None,
        description="key signing the sign-in form's CSRF token; when unset, a key made once "
                    "and kept in the store (shared by every server process)",
    )
    session_hours: float = Field(
        default=12.0, gt=0, le=24 * 90,
        description="how long a sign-in lasts (sessions are kept in the store and end "
                    "sooner on sign-out, disable, password change or sign-out-everywhere)")
    trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default_factory=list,
        description="addresses or networks of reverse proxies whose X-Forwarded-For and "
                    "X-Forwarded-Proto are believed (comma-separated); empty: none are, and "
                    "every caller is the address that connected")
    rate_limit: float = Field(
        default=50.0, ge=0, description="requests per second each token or user may make "
                                        "(0: no limit)")
    rate_burst: int = Field(default=200, ge=1, description="requests allowed at once")
    max_upload_bytes: int = Field(default=20_000_000, ge=1024,
                                  description="largest file upload (multipart)")
    metrics_public: bool = Field(
        default=False, description="serve /metrics without a token (for a scraper on a "
                                   "trusted network)")
    log_format: Literal["json", "text"] = "json"
    time_zone: str | None = Field(
        default=None, description="the IANA time zone people work in (e.g. Asia/Shanghai): "
        "times without an offset in sheets, scans, forms and GraphQL inputs are read in it, "
        "and pages, reports and the command line show times in it; default: the server's "
        "own zone")
    file_group: str | None = Field(
        default=None, description="a group (name or id) that may read the SQLite database "
        "and backups: they are created 0640 with this group instead of 0600")

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        load_zone(value)  # an unknown name is refused here, when the CMDB starts
        return value.strip()

    def clock(self) -> Clock:
        """The clock of :attr:`time_zone` (the server's own zone when unset)."""
        return Clock(self.time_zone) if self.time_zone else Clock.system()

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value
