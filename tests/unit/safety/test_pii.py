"""PiiDetector: every kind in realistic sentences, checksum validation (Luhn, IBAN mod-97),
benign look-alikes left alone, redaction, and masking that never reveals the value."""

from __future__ import annotations

import re

import pytest

from groundwire.errors import ConfigurationError
from groundwire.safety.pii import PII_KINDS, PiiDetector, PiiFinding


@pytest.fixture(scope="module")
def detector() -> PiiDetector:
    return PiiDetector()


def values(detector: PiiDetector, text: str, kind: str | None = None) -> list[str]:
    return [text[f.start:f.end] for f in detector.find(text) if kind is None or f.kind == kind]


POSITIVES = [
    ("email", "Send the signed form to jane.doe@example.com before Friday.",
     "jane.doe@example.com"),
    ("email", "Questions? Write to support+billing@mail.acme-corp.co.uk.",
     "support+billing@mail.acme-corp.co.uk"),
    ("phone", "For urgent issues call the on-call engineer at (415) 555-2671.", "(415) 555-2671"),
    ("phone", "Our London office: +44 20 7946 0958 (reception).", "+44 20 7946 0958"),
    ("phone", "Zentrale Berlin, Telefon 030/2345 6789, Fax folgt.", "030/2345 6789"),
    ("phone", "Mobile: 98765 43210 (after 6 pm).", "98765 43210"),
    ("payment_card", "The refund went to card 4111 1111 1111 1111 yesterday.",
     "4111 1111 1111 1111"),
    ("payment_card", "Mastercard 5555-5555-5555-4444 was charged twice.", "5555-5555-5555-4444"),
    ("payment_card", "Amex 378282246310005 expires 08/27.", "378282246310005"),
    ("iban", "Please wire the deposit to IBAN GB82 WEST 1234 5698 7654 32.",
     "GB82 WEST 1234 5698 7654 32"),
    ("iban", "Bankverbindung: DE89370400440532013000, Verwendungszweck Miete.",
     "DE89370400440532013000"),
    ("national_id", "Employee SSN 536-22-1234 is stored in the HR system.", "536-22-1234"),
    ("national_id", "Her national insurance number is AB 12 34 56 C.", "AB 12 34 56 C"),
    ("national_id", "NIF del cliente: 12345678Z.", "12345678Z"),
    ("national_id", "Codice fiscale RSSMRA85T10A562S allegato.", "RSSMRA85T10A562S"),
    ("ip_address", "The login came from 203.0.113.42 at midnight.", "203.0.113.42"),
    ("ip_address", "Client IP 2001:db8::8a2e:370:7334 was blocked.", "2001:db8::8a2e:370:7334"),
    ("secret", "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    ("secret", "git clone https://ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8@github.com/x/y",
     "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
    ("secret", "OPENAI_API_KEY: sk-proj-Zq81mXv02LkPw9Rt5sYb3NcJd7Hf4Ga6",
     "sk-proj-Zq81mXv02LkPw9Rt5sYb3NcJd7Hf4Ga6"),
    ("secret", "slack bot token xoxb-2048151637-9a8b7c6d5e4f3g2h1",
     "xoxb-2048151637-9a8b7c6d5e4f3g2h1"),
    ("secret", "db config: password=Xk9#mP2qL!vR7w", "Xk9#mP2qL!vR7w"),
    ("secret", 'settings.api_key = "f3a9c1e7b2d84c6a9e0f"', 'f3a9c1e7b2d84c6a9e0f'),
]


@pytest.mark.parametrize(("kind", "text", "value"), POSITIVES,
                         ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(POSITIVES)])
def test_each_kind_is_found_in_a_sentence(
    detector: PiiDetector, kind: str, text: str, value: str
) -> None:
    found = [(f.kind, text[f.start:f.end]) for f in detector.find(text)]
    assert (kind, value) in found, found


def test_private_key_block_is_one_secret(detector: PiiDetector) -> None:
    text = ("deploy key below\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMx"
            "\nH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0\n-----END RSA PRIVATE KEY-----\nend")
    [finding] = detector.find(text)
    assert finding.kind == "secret"
    assert text[finding.start:finding.end].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert text[finding.start:finding.end].endswith("-----END RSA PRIVATE KEY-----")
    assert "MIIE" not in finding.masked


def test_card_numbers_failing_luhn_are_not_cards(detector: PiiDetector) -> None:
    for text in ("Card 4111 1111 1111 1112 was declined.",
                 "Tracking number 5555 5555 5555 4440 for your parcel.",
                 "Order 4242424242424241 shipped."):
        assert values(detector, text, "payment_card") == [], text


def test_iban_with_a_bad_checksum_is_not_an_iban(detector: PiiDetector) -> None:
    assert values(detector, "IBAN GB82 WEST 1234 5698 7654 33 is wrong.", "iban") == []
    assert values(detector, "IBAN DE89370400440532013001 is wrong.", "iban") == []


BENIGN = [
    "Order 4155552671 shipped on 2024-01-15 and arrives 15/01/2024.",
    "Order #88231904 and invoice INV-2024-000123 are attached.",
    "Upgrade to Python 3.11.4; version 10.2.0.1 of the firmware fixes it; see v1.2.3.4.",
    "See section 1.2.3.4 of the manual and RFC 7231.",
    "ISBN 978-0-306-40615-7, also printed as 9780306406157.",
    "The meeting runs 10:30:45 to 11:00 in room 12; budget was 1,250,000 EUR.",
    "Request id 123e4567-e89b-12d3-a456-426614174000 failed with HTTP 503.",
    "password=changeme is the default and api_key=${API_KEY} comes from the environment.",
    "Set token: <your-token-here> and secret=xxxxxxxxxxxx in the template.",
    "The study enrolled 1234 patients over 56 months (p < 0.001, 95% CI 1.2-3.4).",
    "Use std::vector and ab::cd in C++; the ratio is 3:2:1.",
    "Write to the owner of the repository (see the @maintainers team) for access.",
    "Healthy men use 3000-5000 IU daily; AUROC 0.753 [99% CI, 0.750-0.757], n=3001-3500.",
    "Tyrosine hydroxylase (EC 1.14.16.2) was blocked by the antagonist SR141716A.",
    "Over half (54.0%, 11 256/20 849) had 1968 [1644-2332] pg/mL at cutoff 0.408730.",
    "PD 0332991 slowed growth in both cell lines, respectively.",
    "Enrolment by year: 2019 2020 2021 and cohort ids 88231 88231 in table 4.",
    'Serve on 127.0.0.1:8000 or 0.0.0.0, never ::1; client = OpenAI(api_key="unused-for-now")',
]


@pytest.mark.parametrize("text", BENIGN)
def test_benign_look_alikes_are_not_found(detector: PiiDetector, text: str) -> None:
    assert detector.find(text) == [], [(f.kind, text[f.start:f.end]) for f in detector.find(text)]


def test_redact_replaces_each_finding_with_its_kind(detector: PiiDetector) -> None:
    text = ("Contact jane.doe@example.com or (415) 555-2671; card 4111 1111 1111 1111; "
            "key AKIAIOSFODNN7EXAMPLE.")
    assert detector.redact(text) == (
        "Contact <EMAIL> or <PHONE>; card <PAYMENT_CARD>; key <SECRET>."
    )
    assert detector.redact("nothing to see here") == "nothing to see here"
    assert detector.redact("db: password=Xk9#mP2qL!vR7w") == "db: password=<SECRET>"


def test_findings_are_sorted_and_disjoint(detector: PiiDetector) -> None:
    text = " ".join(t for _, t, _ in POSITIVES)
    found = detector.find(text)
    assert {f.kind for f in found} == set(PII_KINDS)
    for a, b in zip(found, found[1:], strict=False):
        assert a.end <= b.start
    assert all(isinstance(f, PiiFinding) and 0.5 <= f.score <= 1.0 for f in found)


@pytest.mark.parametrize(("kind", "text", "value"), POSITIVES,
                         ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(POSITIVES)])
def test_masking_never_reveals_the_value(
    detector: PiiDetector, kind: str, text: str, value: str
) -> None:
    [finding] = [f for f in detector.find(text) if text[f.start:f.end] == value]
    masked = finding.masked
    assert value not in masked
    assert "*" in masked
    alnum = re.sub(r"[^A-Za-z0-9]", "", value)
    revealed = re.sub(r"[^A-Za-z0-9]", "", masked)
    if kind in ("payment_card", "phone", "iban", "national_id", "ip_address"):
        digits_shown = sum(c.isdigit() for c in masked)
        assert digits_shown <= 4, masked
        # No run of 5+ consecutive characters of the value survives.
        assert not any(alnum[i:i + 5] in revealed for i in range(len(alnum) - 4)), masked
    if kind == "secret":
        assert value[-6:] not in masked and value[4:10] not in masked
    if kind == "email":
        assert masked == finding.masked
        assert value.split("@")[0] not in masked and value.split("@")[1] not in masked


def test_card_mask_keeps_only_the_last_four(detector: PiiDetector) -> None:
    [f] = detector.find("card 4111 1111 1111 1111")
    assert f.masked == "**** **** **** 1111"
    [e] = detector.find("mail jane.doe@example.com")
    assert e.masked == "j***@e***.com"


def test_kinds_restricts_what_is_found() -> None:
    text = "jane.doe@example.com, (415) 555-2671"
    only_email = PiiDetector(["email"])
    assert [f.kind for f in only_email.find(text)] == ["email"]
    assert only_email.redact(text) == "<EMAIL>, (415) 555-2671"


def test_min_score_drops_weak_findings() -> None:
    text = "Call (415) 555-2671 now"  # a formatted phone with context: below 1.0
    assert PiiDetector(min_score=0.5).find(text)
    assert PiiDetector(min_score=0.99).find(text) == []


def test_unknown_kind_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        PiiDetector(["email", "shoe_size"])


def test_import_is_lazy_and_detection_never_touches_the_network() -> None:
    """In a fresh interpreter: importing the module loads no Presidio; building and using a
    detector (e-mail domains are checked against the public-suffix list) opens no socket."""
    import subprocess
    import sys

    code = (
        "import socket, sys\n"
        "import groundwire.safety.pii as pii\n"
        "assert 'presidio_analyzer' not in sys.modules and 'spacy' not in sys.modules\n"
        "def refuse(*a, **k):\n"
        "    raise AssertionError('network access attempted')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "found = pii.PiiDetector().find('mail jane@mail.example.co.uk or +44 20 7946 0958')\n"
        "assert [f.kind for f in found] == ['email', 'phone'], found\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr
