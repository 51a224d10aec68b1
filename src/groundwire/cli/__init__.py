"""The ``groundwire`` command line (Typer). The only module tree that imports Typer."""
