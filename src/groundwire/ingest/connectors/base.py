"""The connector port: where source items come from. Parsing is not a connector's concern.

A connector is built by its factory, registered in the ``groundwire.connectors`` entry point
group (see ``groundwire.registry``): ``(options: Mapping[str, Any], settings: Settings) ->
Connector``. Building does no I/O; ``items()`` does.

Contract:

* ``source`` — ``(kind, location)``, e.g. ``("folder", "/abs/path")``: identifies the source
  across runs. The pipeline records every document's source; after a run with
  ``delete_missing`` it deletes the documents of *this* source (same kind and location, same
  index and tenant) that the run did not yield. So ``source`` must be stable from run to run
  (normalise the location: an absolute path, a canonical URL), and ``items()`` must yield
  every item of the source each run: an item not yielded is taken as deleted.
* ``items()`` — the source's items (``groundwire.domain.SourceItem``) in a deterministic
  order: two runs over an unchanged source yield the same ``uri``\\ s in the same order;
  ``uri`` is unique within the source and stable (it is the document's identity). It may
  raise ``groundwire.errors.InvalidRequest`` (or another ``GroundwireError``) at once when
  the source as a whole cannot be listed (nothing is then deleted). A failure of one item is
  that item's, never the run's: the item's ``read()`` raises
  ``groundwire.errors.ReadError`` with a stable ``code`` (``read.too_large``,
  ``read.io_error``...), or the item carries ``permissions_error``; the pipeline records the
  failure for that item and goes on. Reading is lazy: listing never reads content.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from groundwire.domain import SourceItem


@runtime_checkable
class Connector(Protocol):
    @property
    def source(self) -> tuple[str, str]:
        """``(kind, location)`` identifying the source for deletion propagation."""
        ...

    def items(self) -> Iterator[SourceItem]:
        """The source's items, in a deterministic order (see the module docstring)."""
        ...
