"""Label-free self-tuning moves the fusion weights the right way, on the real store and model.

* Random-token documents, pseudo-questions generated from them (exact keywords): the small
  general-purpose embedder cannot tell random strings apart, BM25 can, so the tuner must
  settle on keyword-dominant weights (dense weight below the 0.5 default).
* Paraphrased questions that share no word with their answer but one decoy word with another
  document (what an LLM question writer produces, passed in as ``kind="llm"``): keyword
  matching points at the wrong document, so the tuner must move toward dense.

Both also check the evidence, storage in ``index_tuning``, that ``status`` data reflects it,
and that an explicit ``retrieval.per_index`` entry still wins.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from groundwire.bootstrap import build_app
from groundwire.quality.autotune import autotune, save_autotune, tuning_status
from groundwire.quality.pseudo_questions import PseudoQuestion
from groundwire.settings import RetrievalTuning

pytestmark = pytest.mark.integration


def _random_token_corpus(folder: Path, docs: int = 150, seed: int = 5) -> None:
    # Each document repeats its own 20 tokens (drawn from a small shared vocabulary) across
    # four sentences, so a sentence's words find their document again even when that sentence
    # is held out of the corpus (the inverse cloze task the tuner uses), and documents share
    # enough tokens that dense noise can flip a close BM25 ranking.
    rng = random.Random(seed)
    vocab = sorted({"".join(rng.choices(string.ascii_lowercase, k=7)) for _ in range(200)})
    folder.mkdir(parents=True)
    for d in range(docs):
        own = rng.sample(vocab, 20)
        sentences = []
        for _ in range(4):
            words = rng.sample(own, 8)
            sentences.append(words[0].capitalize() + " " + " ".join(words[1:]) + ".")
        (folder / f"doc{d:03d}.txt").write_text(" ".join(sentences) + "\n")


async def test_random_tokens_self_tune_keyword_dominant(
    make_settings: Callable[..., Any], real_embedder: Any, tmp_path: Path
) -> None:
    corpus = tmp_path / "random"
    _random_token_corpus(corpus)
    settings = make_settings()
    async with build_app(settings, embedder=real_embedder) as gw:
        await gw.ingest_path(corpus, index="random")
        result = await autotune(gw.engine, "random", questions=160, seed=1)
        evidence = result.evidence
        held = evidence["held_out_ndcg@10"]
        assert evidence["questions"] == 160
        assert evidence["tune_questions"] + evidence["held_out_questions"] == 160
        # Keyword matching is near perfect, dense is not: the tuner leans on keywords.
        assert held["bm25"] > held["dense"] + 0.1
        assert result.tuning.dense_weight < 0.5
        assert result.promoted
        assert held["tuned"] >= max(held["equal_convex"], held["equal_rrf"])

        assert gw.retriever._tuning_for("random").dense_weight == 0.5  # not saved yet
        await save_autotune(gw.engine, result)
        assert gw.retriever._tuning_for("random") == result.tuning
        status = tuning_status(gw.engine, "random")
        assert status["source"] == "auto"
        assert status["auto"]["generation"] == evidence["generation"]
        assert status["auto"]["held_out_ndcg@10"] == held

    # Another process sees the stored tuning; an explicit per_index entry wins over it.
    async with build_app(settings, embedder=real_embedder) as gw:
        assert gw.retriever._tuning_for("random") == result.tuning
    explicit = RetrievalTuning(fusion="rrf", dense_weight=0.8, rrf_k=30)
    pinned = make_settings(retrieval={"per_index": {"random": explicit.model_dump()}})
    async with build_app(pinned, embedder=real_embedder) as gw:
        assert gw.retriever._tuning_for("random") == explicit
        assert tuning_status(gw.engine, "random")["source"] == "per_index"


# (word in the document, its paraphrase in the question): no shared stem.
PAIRS = [
    ("car", "automobile"), ("doctor", "physician"), ("house", "residence"), ("child", "kid"),
    ("ocean", "sea"), ("money", "cash"), ("film", "movie"), ("lawyer", "attorney"),
    ("shop", "store"), ("road", "street"), ("rain", "precipitation"), ("baby", "infant"),
    ("cat", "kitten"), ("dog", "puppy"), ("boat", "ship"), ("teacher", "instructor"),
    ("illness", "disease"), ("forest", "woods"), ("photo", "picture"), ("hill", "mountain"),
    ("bike", "bicycle"), ("plane", "aircraft"), ("garbage", "trash"), ("couch", "sofa"),
    ("jail", "prison"), ("king", "monarch"), ("city", "town"), ("meal", "dinner"),
    ("student", "pupil"), ("stone", "rock"), ("job", "occupation"), ("gift", "present"),
    ("rug", "carpet"), ("lady", "woman"), ("river", "stream"), ("song", "melody"),
    ("cop", "policeman"), ("bucket", "pail"), ("spouse", "wife"), ("soldier", "warrior"),
]


def _code(i: int) -> str:
    rng = random.Random(i)
    return "".join(rng.choice("bdgklmnprstvz") + rng.choice("aeiou") for _ in range(4))


def _paraphrase_corpus(folder: Path) -> Path:
    """One document per pair: three words of the pairs (document side) and its catalogue
    mark."""
    n = len(PAIRS)
    folder.mkdir()
    for i in range(n):
        a, b, c = PAIRS[i][0], PAIRS[(i + 7) % n][0], PAIRS[(i + 19) % n][0]
        (folder / f"d{i:02d}.txt").write_text(
            f"A story about the {a}, the {b} and the {c}. Catalogue mark {_code(i)}.\n")
    return folder


async def test_paraphrased_questions_self_tune_toward_dense(
    make_settings: Callable[..., Any], real_embedder: Any, tmp_path: Path
) -> None:
    n = len(PAIRS)
    corpus = _paraphrase_corpus(tmp_path / "para")
    async with build_app(make_settings(), embedder=real_embedder) as gw:
        await gw.ingest_path(corpus, index="para")
        docs = {d.uri: d.id for d in await gw.documents("para", limit=100)}
        questions = []
        for i in range(n):
            a, b, c = PAIRS[i][1], PAIRS[(i + 7) % n][1], PAIRS[(i + 19) % n][1]
            uri = next(u for u in docs if u.endswith(f"d{i:02d}.txt"))
            # The only word shared with any document is the decoy: another document's mark.
            questions.append(PseudoQuestion(f"{a} {b} {c} {_code((i + 1) % n)}", 0, docs[uri],
                                            uri, "llm"))
        result = await autotune(gw.engine, "para", pseudo=questions, seed=0)
    held = result.evidence["held_out_ndcg@10"]
    assert result.evidence["kinds"] == {"llm": n}
    assert held["dense"] > held["bm25"] + 0.3
    assert result.tuning.dense_weight > 0.5
    assert result.promoted
    assert held["tuned"] > held["equal_convex"]


async def test_llm_written_questions_move_a_paraphrase_corpus_toward_dense(
    make_settings: Callable[..., Any], real_embedder: Any, tmp_path: Path
) -> None:
    """``autotune.llm_questions``: the configured LLM (a real HTTP server on 127.0.0.1 that
    paraphrases its passage) rewrites the generated sentence questions, one call each, and
    those paraphrases move the weights toward dense — which sentence questions, copies of
    their passages, cannot."""
    from support.fault_llm import FaultLLMServer
    from support.llm import provider

    n = len(PAIRS)
    paraphrase = dict(PAIRS)
    mark_of = {_code(i): i for i in range(n)}
    corpus = _paraphrase_corpus(tmp_path / "para-llm")

    def reply(body: dict[str, Any]) -> str:
        passage = next(m["content"] for m in body["messages"] if m["role"] == "user")
        words = [w.strip(".,").lower() for w in passage.split()]
        own = next(mark_of[w] for w in words if w in mark_of)
        # paraphrases of the passage's words, plus another document's mark as a decoy
        return " ".join([paraphrase[w] for w in words if w in paraphrase]
                        + [_code((own + 1) % n)]) + "?"

    with FaultLLMServer(mode="ok") as server:
        server.reply = reply
        settings = make_settings(llm={"providers": [provider("writer", server)]},
                                 cache={"enabled": False})
        async with build_app(settings, embedder=real_embedder) as gw:
            await gw.ingest_path(corpus, index="para")
            server.reset()
            result = await autotune(gw.engine, "para", seed=0, llm_questions=1000)
            calls = server.calls
    kinds = result.evidence["kinds"]
    assert kinds.get("llm", 0) >= n - 5 and "sentence" not in kinds
    assert calls == kinds["llm"]  # one call per rewritten question
    held = result.evidence["held_out_ndcg@10"]
    assert held["dense"] > held["bm25"] + 0.3
    assert result.tuning.dense_weight > 0.5 and result.promoted
