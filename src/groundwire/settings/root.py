"""The one typed configuration object: ``Settings`` and how it is loaded.

Sources, highest precedence first: constructor arguments, ``GROUNDWIRE_*`` environment
variables (nested sections with ``__``, e.g. ``GROUNDWIRE_RETRIEVAL__DENSE_WEIGHT=0.4``), the
TOML file (``GROUNDWIRE_CONFIG`` or ``./groundwire.toml``), defaults. Built once at an edge
(CLI, ``create_app``) and passed down; nothing else reads the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from groundwire.settings.admission import AdmissionSettings
from groundwire.settings.base import _secret
from groundwire.settings.ingest import (
    AssessSettings,
    ChunkingSettings,
    EmbeddingSettings,
    IngestSettings,
)
from groundwire.settings.llm import BudgetSettings, CacheSettings, LLMSettings
from groundwire.settings.operations import (
    DatabaseSettings,
    JobSettings,
    MonitoringSettings,
    ServerSettings,
    TelemetrySettings,
)
from groundwire.settings.retrieval import (
    AnswerSettings,
    AutoTuneSettings,
    ContractSettings,
    RetrievalSettings,
)
from groundwire.settings.security import SecuritySettings
from groundwire.settings.workflows import WorkflowList

DEFAULT_CONFIG_FILE = "groundwire.toml"


class Settings(BaseSettings):
    """Effective configuration. See docs/configuration.md (generated from these descriptions)."""

    model_config = SettingsConfigDict(
        env_prefix="GROUNDWIRE_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    data_dir: Path = Field(
        Path(".groundwire"),
        description="Where the embedded PostgreSQL keeps its data (and other local state).",
    )
    database_url: SecretStr | None = Field(
        None,
        json_schema_extra=_secret("url"),
        description="postgresql:// URL of an external PostgreSQL >= 16 with pgvector >= 0.8. "
        "Empty: start the private embedded server under data_dir.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level of structured logs."
    )
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    admission: AdmissionSettings = Field(default_factory=AdmissionSettings)
    assess: AssessSettings = Field(default_factory=AssessSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    budgets: BudgetSettings = Field(default_factory=BudgetSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    autotune: AutoTuneSettings = Field(default_factory=AutoTuneSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    contract: ContractSettings = Field(default_factory=ContractSettings)
    workflows: WorkflowList = Field(
        default_factory=list, description="Human-in-the-loop workflows (`[[workflows]]`).")
    config_file: Path | None = Field(
        None, description="The TOML file these settings were read from (set automatically)."
    )

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not value.get_secret_value().startswith(("postgresql://", "postgres://")):
            raise ValueError("database_url must start with postgresql:// (GROUNDWIRE_DATABASE_URL)")
        return value

    @model_validator(mode="after")
    def _read_url_needs_primary(self) -> Settings:
        if self.database.read_url is not None and self.database_url is None:
            raise ValueError("database.read_url is a replica of database_url: set "
                             "database_url (GROUNDWIRE_DATABASE_URL) too")
        return self

    @model_validator(mode="after")
    def _dev_mode_loopback_only(self) -> Settings:
        import ipaddress

        if self.security.dev_mode:
            host = self.server.host
            try:
                loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = False
            if not loopback:
                raise ValueError(
                    f"security.dev_mode lets requests without an API key in as an admin; it is "
                    f"refused on server.host {host!r} (use 127.0.0.1, or create keys with "
                    "`groundwire keys create`)")
        return self

    @model_validator(mode="after")
    def _chunks_fit_window(self) -> Settings:
        if self.chunking.max_tokens > self.embedding.max_seq_tokens:
            raise ValueError(
                f"chunking.max_tokens ({self.chunking.max_tokens}) exceeds "
                f"embedding.max_seq_tokens ({self.embedding.max_seq_tokens}): chunks would be cut"
            )
        if self.chunking.overlap_tokens >= self.chunking.max_tokens:
            raise ValueError("chunking.overlap_tokens must be smaller than chunking.max_tokens")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = _config_file_from(init_settings)
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)


def _config_file_from(init_settings: PydanticBaseSettingsSource) -> Path | None:
    init = init_settings()
    explicit = init.get("config_file")
    if explicit is not None:
        return Path(explicit)
    return None


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Build Settings from the environment and the TOML file.

    The file is ``config_file``, else ``$GROUNDWIRE_CONFIG``, else ``./groundwire.toml`` when it
    exists. An explicitly named file that does not exist is a ConfigurationError.
    """
    from groundwire.errors import ConfigurationError

    path: Path | None
    if config_file is not None:
        path = Path(config_file)
    elif os.environ.get("GROUNDWIRE_CONFIG"):
        path = Path(os.environ["GROUNDWIRE_CONFIG"])
    else:
        path = Path(DEFAULT_CONFIG_FILE) if Path(DEFAULT_CONFIG_FILE).exists() else None
        if path is None:
            return _build(overrides)
    if not path.exists():
        raise ConfigurationError(f"config file not found: {path} (GROUNDWIRE_CONFIG)")
    return _build({**overrides, "config_file": path.resolve()})


def _build(values: dict[str, Any]) -> Settings:
    from pydantic import ValidationError

    from groundwire.errors import ConfigurationError

    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(f"invalid configuration: {problems}") from exc
