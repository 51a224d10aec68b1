"""Quality: evaluation on labelled sets, tuning of retrieval knobs."""
