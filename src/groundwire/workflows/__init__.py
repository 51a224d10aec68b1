"""Workflow automation with a human in the loop (issue 21).

An inbound event (``POST /v1/workflows/{name}/events``: generic JSON, a Zendesk-style ticket
webhook or an e-mail form, ``adapters.py``) is acknowledged at once and drafted in a
background job (``service.py``): the question is built from the event (``text.py``), the
app's ask flow answers it as the workflow's service principal, and the draft is scored
(``confidence.py``). Confident drafts are delivered to the workflow's callback, signed and
retried (``signing.py``, ``delivery.py``); the rest wait in the review queue (``review.py``),
whose decisions are recorded and measured (``metrics.py``, ``GET .../stats``).
"""
