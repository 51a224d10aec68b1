"""The one typed configuration object.

Sources, highest precedence first: constructor arguments, ``GROUNDWIRE_*`` environment
variables (nested sections with ``__``, e.g. ``GROUNDWIRE_RETRIEVAL__DENSE_WEIGHT=0.4``), the
TOML file (``GROUNDWIRE_CONFIG`` or ``./groundwire.toml``), defaults. Built once at an edge
(CLI, ``create_app``) and passed down; nothing else reads the environment.

The sections live in submodules grouped by concern (``ingest``, ``retrieval``, ``llm``,
``operations``, ``security``); ``root`` holds ``Settings`` and its loading, ``reference`` the
masked view (``config show``) and the generated reference (``config docs``). Import from
``groundwire.settings``: every name is re-exported here.
"""

from __future__ import annotations

from groundwire.settings.admission import AdmissionSettings
from groundwire.settings.base import MASK, SECRET_KINDS, _secret, _Section
from groundwire.settings.ingest import (
    AssessSettings,
    ChunkingSettings,
    EmbeddingSettings,
    IngestSettings,
)
from groundwire.settings.llm import (
    BreakerSettings,
    BudgetLimits,
    BudgetSettings,
    CacheSettings,
    LLMSettings,
    Price,
    ProviderSettings,
)
from groundwire.settings.near_duplicates import NearDuplicateSettings
from groundwire.settings.ocr import OcrSettings
from groundwire.settings.operations import (
    DatabaseSettings,
    JobSettings,
    MonitoringSettings,
    ServerSettings,
    TelemetrySettings,
)
from groundwire.settings.reference import (
    _element_model,
    _mask_model,
    _mask_url,
    _mask_url_path,
    _mask_value,
    masked,
    reference_markdown,
    secret_kind,
)
from groundwire.settings.retrieval import (
    CONTRACT_METRICS,
    AnswerSettings,
    AutoTuneSettings,
    ContractSettings,
    ContractTarget,
    RetrievalSettings,
    RetrievalTuning,
)
from groundwire.settings.root import (
    DEFAULT_CONFIG_FILE,
    Settings,
    _build,
    _config_file_from,
    load_settings,
)
from groundwire.settings.security import (
    RATE_LIMIT_CLASSES,
    PiiPolicy,
    PiiPolicySettings,
    RateLimit,
    RateLimitSettings,
    SecuritySettings,
)
from groundwire.settings.workflows import WorkflowSettings

__all__ = [
    "CONTRACT_METRICS",
    "DEFAULT_CONFIG_FILE",
    "MASK",
    "RATE_LIMIT_CLASSES",
    "SECRET_KINDS",
    "AdmissionSettings",
    "AnswerSettings",
    "AssessSettings",
    "AutoTuneSettings",
    "BreakerSettings",
    "BudgetLimits",
    "BudgetSettings",
    "CacheSettings",
    "ChunkingSettings",
    "ContractSettings",
    "ContractTarget",
    "DatabaseSettings",
    "EmbeddingSettings",
    "IngestSettings",
    "JobSettings",
    "LLMSettings",
    "MonitoringSettings",
    "NearDuplicateSettings",
    "OcrSettings",
    "PiiPolicy",
    "PiiPolicySettings",
    "Price",
    "ProviderSettings",
    "RateLimit",
    "RateLimitSettings",
    "RetrievalSettings",
    "RetrievalTuning",
    "SecuritySettings",
    "ServerSettings",
    "Settings",
    "TelemetrySettings",
    "WorkflowSettings",
    "_Section",
    "_build",
    "_config_file_from",
    "_element_model",
    "_mask_model",
    "_mask_url",
    "_mask_url_path",
    "_mask_value",
    "_secret",
    "load_settings",
    "masked",
    "reference_markdown",
    "secret_kind",
]
