"""Named sources: connectors with options, synced on demand or on a schedule (issue 20).

``service.SourceService`` is the use case (the application gives it a host); ``schedule``
parses schedules; ``secrets`` keeps credentials as references; ``errors`` has
``SourceUnreachable``. Nothing here imports the application.
"""
