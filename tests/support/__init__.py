"""Test support code shared by several test packages (importable as ``support.*``).

``tests/`` has no ``__init__.py``; pytest (import mode ``prepend``) puts ``tests/`` on
``sys.path`` when it loads ``tests/conftest.py``, which makes this package importable.
"""
