"""The ``workflows`` section: named human-in-the-loop workflows (see docs/integrations.md).

Each entry turns inbound events (``POST /v1/workflows/{name}/events``) into drafted, cited
replies: delivered to ``callback_url`` when their confidence reaches ``threshold``, queued for
review otherwise. The workflow reads documents as its *service principal* (``tenant``,
``user``, ``groups``), never as anything named in an event.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, SecretStr, field_validator, model_validator

from groundwire.settings.base import _secret, _Section
from groundwire.settings.security import RateLimit

WORKFLOW_ADAPTERS = ("generic", "zendesk", "email")
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")


class WorkflowSettings(_Section):
    """One workflow: where events come from, what it may read, where replies go."""

    name: str = Field(description="URL name (1-64 of a-z, 0-9, '-', '_'): "
                      "`POST /v1/workflows/<name>/events`.")
    adapter: Literal["generic", "zendesk", "email"] = Field(
        "generic", description="Inbound event shape: generic (`{id, subject, body}`), zendesk "
        "(a ticket webhook, `{id, ticket: {id, subject, description}}`) or email (`{message_id, "
        "subject, text}`).")
    index: str = Field("default", description="Index the workflow answers from.")
    tenant: str = Field("default", description="Tenant of the workflow's service principal.")
    user: str = Field("", description="User name of the service principal (default: "
                      "`workflow-<name>`); it reads what this user and `groups` may read.")
    groups: list[str] = Field(default_factory=list,
                              description="Groups of the service principal.")
    threshold: float = Field(
        0.5, ge=0.0, le=1.0, description="Drafts whose confidence is at least this are "
        "delivered at once; lower ones and abstentions go to the review queue.")
    callback_url: str | None = Field(
        None, json_schema_extra=_secret("url_path"),
        description="Where replies are POSTed (signed). Empty: every draft goes to review "
        "and approvals are only recorded.")
    callback_secret: SecretStr | None = Field(
        None, json_schema_extra=_secret("value"),
        description="HMAC-SHA256 key of the `Groundwire-Signature` header on callbacks.")
    callback_attempts: int = Field(5, ge=1, le=20,
                                   description="Delivery attempts (first included).")
    callback_backoff_s: float = Field(
        0.5, ge=0.0, le=60.0, description="Exponential backoff base between attempts "
        "(waits backoff, 2x backoff, ... capped at 30 s).")
    callback_timeout_s: float = Field(10.0, gt=0, le=120, description="Timeout of one attempt.")
    signing_secret: SecretStr | None = Field(
        None, json_schema_extra=_secret("value"),
        description="Shared secret of signing adapters (zendesk: `X-Zendesk-Webhook-Signature`"
        " = base64 HMAC-SHA256 of timestamp + body). Set: unsigned or badly signed events "
        "are refused (401 workflow.bad_signature).")
    signature_tolerance_s: int = Field(
        300, ge=1, le=86_400, description="Largest age of a signed event's timestamp.")
    max_body_bytes: int = Field(256 * 1024, ge=256, le=16 * 1024 * 1024,
                                description="Largest event body (413 request.too_large).")
    rate_limit: RateLimit = Field(default_factory=RateLimit,
                                  description="Events accepted per minute (429 when over).")
    top_k: int = Field(5, ge=1, le=50, description="Passages retrieved per event.")

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not value or len(value) > 64 or not set(value) <= _NAME_CHARS:
            raise ValueError(f"invalid workflow name {value!r}: 1-64 of a-z, 0-9, '-', '_'")
        return value

    @model_validator(mode="after")
    def _callback_needs_secret(self) -> WorkflowSettings:
        if self.callback_url and self.callback_secret is None:
            raise ValueError(f"workflow {self.name!r}: callback_url needs callback_secret "
                             "(replies are always signed)")
        return self

    @property
    def principal_user(self) -> str:
        return self.user or f"workflow-{self.name}"


def unique_workflow_names(value: list[WorkflowSettings]) -> list[WorkflowSettings]:
    """Validator of ``Settings.workflows``: names are unique."""
    names = [w.name for w in value]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate workflow name(s): {duplicates}")
    return value


WorkflowList = Annotated[list[WorkflowSettings], AfterValidator(unique_workflow_names)]
"""The type of ``Settings.workflows``: a list of uniquely named workflows."""
