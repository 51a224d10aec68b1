"""One module per assessment dimension. Each has ``observe(doc, i)`` (called for every
document in stream order, in a worker thread) and ``finish(ctx) -> Section``."""
