"""Data-readiness assessment: is a corpus usable, accessible and trustworthy?

Entry point: ``run_assessment(source, settings, ...)`` (``runner.py``); the report schema is
documented in docs/assessment.md. Importing this package does no work.
"""

from groundwire.assess.runner import run_assessment
from groundwire.assess.source import AssessmentSource

__all__ = ["AssessmentSource", "run_assessment"]
