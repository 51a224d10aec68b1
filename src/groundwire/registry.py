"""Name -> factory registries, one per extension point; the plug-in author's reference.

Every kind of plug-in — built-in or third-party — is found the same way: an entry point in
its group, declared in the providing package's ``pyproject.toml``. Groundwire's own built-ins
are entry points of the ``groundwire`` distribution (``[project.entry-points."groundwire.*"]``
in its ``pyproject.toml``); this module imports none of them. So Groundwire must be installed
(``pip install -e .`` in a checkout) for its built-ins to be found. Configuration names a
plug-in by its entry point name.

Groups, the names Groundwire ships, and the signature of what an entry point must point at:

``groundwire.parsers`` — name: the media type parsed (entry point names may contain ``/``:
    ``"text/markdown" = "pkg.module:parse"``); value: ``(SourceItem) -> ParsedDocument``,
    raising ``groundwire.errors.ParseError`` with a stable code.
    Built-ins: ``text/plain``, ``text/markdown``, ``text/html``, ``application/pdf``,
    ``application/vnd.openxmlformats-officedocument.wordprocessingml.document``, and the images
    ``image/png``, ``image/jpeg``, ``image/tiff``, ``image/webp``, ``image/gif``, ``image/bmp``
    (OCR). A parser that also accepts a keyword ``ocr`` gets the ``ingest.ocr`` settings
    bound (``groundwire.ingest.parsers.ocr.with_ocr``).
    Configured by: the media type of each source item (``ingest.parsers.media_type_for``).

``groundwire.embedders`` — name: ``embedding.provider``; value:
    ``(settings: EmbeddingSettings) -> Embedder`` (``groundwire.embedding.base.Embedder``).
    Built-ins: ``sentence-transformers``, ``fake``.

``groundwire.connectors`` — name: a source kind (``folder``); value:
    ``(options: Mapping[str, Any], settings: Settings) -> Connector``
    (``groundwire.ingest.connectors.base.Connector``: ``items()`` and ``source``). ``options``
    are the connector's own keys (``folder``: ``path``, ``include``, ``exclude``,
    ``max_bytes``); an unknown or ill-typed option raises ``ConfigurationError``.
    Built-ins: ``folder``.

``groundwire.llm_providers`` — name: a provider's ``type`` in ``llm.providers``; value:
    ``(settings: ProviderSettings, *, max_response_bytes: int) -> LLMProvider``
    (``groundwire.llm.base.LLMProvider``: ``name``, ``model``, ``complete``/``stream``,
    ``aclose``; failures as coded ``ProviderError``s). Built-ins: ``openai`` (any
    OpenAI-compatible chat completions endpoint).

``groundwire.answerers`` — name: the extractive answerer kind; value:
    ``(embedder: Embedder, settings: AnswerSettings) -> Answerer``
    (``groundwire.answering.base.Answerer``). Built-ins: ``extractive``.

``groundwire.stores`` — name: the store kind; value: ``(settings: Settings) -> Store``
    (``groundwire.stores.base.Store``; constructing does no I/O, ``open()`` connects).
    Built-ins: ``postgres`` (``database_url``, else the embedded server).

Precedence: when several entry points of a group share a name, a plug-in from another
distribution replaces Groundwire's built-in (a warning is logged), and a factory added with
``Registry.register`` replaces both. Entry points are discovered on the first call that needs
them and each is imported only when its name is asked for (``get``) or the whole table is
(``load_all``): never at import time, and a broken plug-in fails only when it is selected.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Generic, TypeVar

from groundwire.domain import ParsedDocument, SourceItem
from groundwire.errors import ConfigurationError

logger = logging.getLogger(__name__)

F = TypeVar("F")

Parser = Callable[[SourceItem], ParsedDocument]
"""``groundwire.parsers``: ``(SourceItem) -> ParsedDocument``."""
EmbedderFactory = Callable[..., Any]
"""``groundwire.embedders``: ``(EmbeddingSettings) -> Embedder``."""
ConnectorFactory = Callable[..., Any]
"""``groundwire.connectors``: ``(options: Mapping[str, Any], settings: Settings) -> Connector``."""
LLMProviderFactory = Callable[..., Any]
"""``groundwire.llm_providers``: ``(ProviderSettings, *, max_response_bytes: int) -> provider``."""
AnswererFactory = Callable[..., Any]
"""``groundwire.answerers``: ``(embedder: Embedder, settings: AnswerSettings) -> Answerer``."""
StoreFactory = Callable[..., Any]
"""``groundwire.stores``: ``(settings: Settings) -> Store``."""

_OWN_DISTRIBUTION = "groundwire"


class Registry(Generic[F]):
    """Name -> factory for one entry point ``group``; ``kind`` names it in messages
    (``"connector"``, ``"llm provider"``...)."""

    def __init__(self, group: str, kind: str) -> None:
        self.group = group
        self.kind = kind
        self._lock = threading.RLock()
        self._entry_points: dict[str, EntryPoint] | None = None
        self._loaded: dict[str, F] = {}
        self._registered: dict[str, F] = {}

    def __repr__(self) -> str:
        return f"Registry({self.group!r})"

    def names(self) -> list[str]:
        """Every registered name, sorted (imports no plug-in)."""
        return sorted({*self._discover(), *self._registered})

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._registered or name in self._discover())

    def get(self, name: str) -> F:
        """The factory registered as ``name``, its entry point imported on first use.

        Raises ``ConfigurationError`` naming the unknown ``name`` and the known ones, or, when
        the plug-in fails to import, naming the entry point and the cause."""
        if name in self._registered:
            return self._registered[name]
        with self._lock:
            if name in self._loaded:
                return self._loaded[name]
            point = self._discover().get(name)
            if point is None:
                known = ", ".join(self.names()) or "none"
                raise ConfigurationError(
                    f"unknown {self.kind} {name!r}: no entry point {name!r} in group "
                    f"{self.group!r} (known: {known})"
                )
            try:
                factory: F = point.load()
            except Exception as exc:  # any import-time failure of a plug-in
                raise ConfigurationError(
                    f"{self.kind} {name!r} ({self.group} entry point {point.value!r}) "
                    f"failed to load: {type(exc).__name__}: {exc}"
                ) from exc
            self._loaded[name] = factory
            return factory

    def load_all(self) -> dict[str, F]:
        """Every name -> factory (imports every plug-in of the group)."""
        return {name: self.get(name) for name in self.names()}

    def register(self, name: str, factory: F) -> None:
        """Add (or replace) ``name`` programmatically: tests and embedding applications."""
        with self._lock:
            self._registered[name] = factory

    def unregister(self, name: str) -> None:
        """Drop a factory added with ``register`` (entry points are unaffected)."""
        with self._lock:
            self._registered.pop(name, None)

    def reload(self) -> None:
        """Forget discovered entry points (read again on next use); registrations stay."""
        with self._lock:
            self._entry_points = None
            self._loaded.clear()

    def _discover(self) -> dict[str, EntryPoint]:
        with self._lock:
            if self._entry_points is None:
                self._entry_points = _by_name(self.group, entry_points(group=self.group))
            return self._entry_points


def _distribution(point: EntryPoint) -> str:
    dist = point.dist
    return (dist.metadata["Name"] or "") if dist is not None else ""


def _by_name(group: str, points: Any) -> dict[str, EntryPoint]:
    """Name -> entry point; a third-party one wins over Groundwire's own of the same name."""
    def order(point: EntryPoint) -> tuple[bool, str, str]:
        dist = _distribution(point)
        return (dist.lower() != _OWN_DISTRIBUTION, dist, point.value)

    table: dict[str, EntryPoint] = {}
    for point in sorted(points, key=order):
        previous = table.get(point.name)
        if previous is not None:
            logger.warning(
                "%s entry point %r: %s (%s) replaces %s (%s)", group, point.name,
                point.value, _distribution(point), previous.value, _distribution(previous),
            )
        table[point.name] = point
    return table


PARSERS: Registry[Parser] = Registry("groundwire.parsers", "parser")
EMBEDDERS: Registry[EmbedderFactory] = Registry("groundwire.embedders", "embedding provider")
CONNECTORS: Registry[ConnectorFactory] = Registry("groundwire.connectors", "connector")
LLM_PROVIDERS: Registry[LLMProviderFactory] = Registry("groundwire.llm_providers", "llm provider")
ANSWERERS: Registry[AnswererFactory] = Registry("groundwire.answerers", "answerer")
STORES: Registry[StoreFactory] = Registry("groundwire.stores", "store")

ALL: tuple[Registry[Any], ...] = (PARSERS, EMBEDDERS, CONNECTORS, LLM_PROVIDERS, ANSWERERS, STORES)


def parsers() -> dict[str, Parser]:
    """Media type -> parser: the whole table (the ingest pipeline looks items up in it)."""
    return PARSERS.load_all()


def embedders() -> dict[str, EmbedderFactory]:
    """Provider name -> embedder factory taking ``EmbeddingSettings`` (the whole table;
    ``EMBEDDERS.get(name)`` imports only the one asked for)."""
    return EMBEDDERS.load_all()


def connectors() -> Registry[ConnectorFactory]:
    """``groundwire.connectors``: ``connectors().get("folder")(options, settings)``."""
    return CONNECTORS


def llm_providers() -> Registry[LLMProviderFactory]:
    """``groundwire.llm_providers``: ``llm_providers().get(p.type)(p, max_response_bytes=n)``."""
    return LLM_PROVIDERS


def answerers() -> Registry[AnswererFactory]:
    """``groundwire.answerers``: ``answerers().get("extractive")(embedder, settings.answer)``."""
    return ANSWERERS


def stores() -> Registry[StoreFactory]:
    """``groundwire.stores``: ``stores().get("postgres")(settings)``."""
    return STORES
