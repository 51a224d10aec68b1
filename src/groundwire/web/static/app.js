// Groundwire ask page: posts the question to /v1/ask and renders the answer,
// citation cards and passages. Response text is untrusted (it comes from indexed
// documents), so every node is built with textContent — never innerHTML.
"use strict";

const $ = (id) => document.getElementById(id);
const form = $("ask-form"), question = $("question"), indexInput = $("index");
const button = $("ask-button"), statusEl = $("status");
const answerEl = $("answer"), citationsEl = $("citations"), passagesEl = $("passages"), metaEl = $("meta");

// Create an element with an optional class and text content.
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = String(text);
  return node;
}

function setStatus(text, isError = false) {
  statusEl.textContent = text;
  statusEl.classList.toggle("error", isError);
}

function clearResults() {
  for (const node of [answerEl, citationsEl, passagesEl, metaEl]) {
    node.replaceChildren();
    node.hidden = true;
  }
}

// Answer text with each "[n]" marker turned into a clickable citation chip.
function renderAnswer(data) {
  const p = el("p", data.abstained ? "answer-text abstained" : "answer-text");
  const text = String(data.answer || (data.abstained ? "No confident answer." : ""));
  const re = /\[(\d+)\]/g;
  let last = 0, m;
  while ((m = re.exec(text)) !== null) {
    p.append(text.slice(last, m.index));
    const chip = el("a", "cite", `[${m[1]}]`);
    chip.href = `#cite-${m[1]}`;
    chip.dataset.n = m[1];
    p.append(chip);
    last = re.lastIndex;
  }
  p.append(text.slice(last));
  if (data.abstained) answerEl.append(el("p", "abstain-note", "No confident answer"));
  answerEl.append(p);
  answerEl.hidden = false;
}

// Passage text with `quote` wrapped in <mark> when found verbatim.
function quotedText(text, quote) {
  const body = el("p", "passage-text");
  const t = String(text || ""), q = String(quote || "");
  const at = q ? t.indexOf(q) : -1;
  if (at < 0) { body.textContent = t; return body; }
  body.append(t.slice(0, at), el("mark", null, q), t.slice(at + q.length));
  return body;
}

function sourceLine(item) {
  const line = el("p", "source");
  line.append(el("span", "uri", item.uri || ""));
  const path = Array.isArray(item.heading_path) ? item.heading_path.join(" › ") : "";
  if (path) line.append(el("span", "sep", " · "), el("span", "heading-path", path));
  return line;
}

function card(item, n) {
  const art = el("article", "card");
  if (n != null) { art.id = `cite-${n}`; art.tabIndex = -1; }
  const title = item.title || item.uri || "Untitled";
  art.append(el("h3", "card-title", n != null ? `[${n}] ${title}` : title), sourceLine(item),
             quotedText(item.text, item.quote));
  return art;
}

function renderCitations(data) {
  const cites = Array.isArray(data.citations) ? data.citations : [];
  const passages = Array.isArray(data.passages) ? data.passages : [];
  if (data.abstained) {
    if (!passages.length && !cites.length) return;
    citationsEl.append(el("h2", null, "Closest passages"));
    (cites.length ? cites : passages).forEach((c) => citationsEl.append(card(c, c.n)));
  } else {
    if (!cites.length) return;
    citationsEl.append(el("h2", null, "Sources"));
    cites.forEach((c) => citationsEl.append(card(c, c.n)));
  }
  citationsEl.hidden = false;
}

function renderPassages(data) {
  const passages = Array.isArray(data.passages) ? data.passages : [];
  if (!passages.length) return;
  const details = el("details");
  details.append(el("summary", null, `All passages read (${passages.length})`));
  const list = el("ol", "passage-list");
  for (const p of passages) {
    const li = el("li", "passage");
    const head = el("p", "passage-head");
    head.append(el("strong", null, p.title || p.uri || "Untitled"));
    const score = Number(p.score);
    if (Number.isFinite(score)) head.append(el("span", "score", `score ${score.toFixed(3)}`));
    li.append(head, sourceLine(p), el("p", "passage-text", p.text || ""));
    list.append(li);
  }
  details.append(list);
  passagesEl.append(details);
  passagesEl.hidden = false;
}

function renderMeta(data) {
  const parts = [];
  if (typeof data.confidence === "number") parts.push(`Confidence ${data.confidence.toFixed(2)}`);
  const total = data.timings_ms && Number(data.timings_ms.total);
  if (Number.isFinite(total)) parts.push(`${total.toFixed(1)} ms`);
  if (data.answerer) parts.push(String(data.answerer));
  if (data.provider) parts.push(`by ${data.provider}`);
  if (typeof data.groundedness === "number") {
    parts.push(`Grounded ${(data.groundedness * 100).toFixed(0)}%`);
  }
  if (data.cached) parts.push("cached");
  if (!parts.length) return;
  metaEl.textContent = parts.join(" · ");
  metaEl.hidden = false;
}

// An LLM is configured but this answer is the extractive fallback: say so, and why.
function renderDegraded(data) {
  if (!data.degraded) return;
  const why = data.degraded_reason === "budget.exceeded"
    ? "the usage budget is spent"
    : `the language model was unavailable (${data.degraded_reason || "unknown"})`;
  answerEl.prepend(el("p", "degraded-note",
    `Quoted straight from the documents because ${why}.`));
}

// Thumbs up / down under the answer: POST /v1/feedback linked to the answer record.
function renderFeedback(data) {
  if (!data.record_id) return;
  const box = el("div", "feedback");
  const label = el("span", "feedback-label", "Was this helpful?");
  const up = el("button", "feedback-up", "👍 Yes");
  const down = el("button", "feedback-down", "👎 No");
  const note = el("span", "feedback-status");
  note.setAttribute("role", "status");
  for (const [btn, helpful] of [[up, true], [down, false]]) {
    btn.type = "button";
    btn.setAttribute("aria-label", helpful ? "Helpful" : "Not helpful");
    btn.addEventListener("click", async () => {
      up.disabled = true;
      down.disabled = true;
      try {
        const res = await fetch("/v1/feedback", {
          method: "POST",
          headers: apiHeaders(),
          body: JSON.stringify({ record_id: data.record_id, helpful }),
        });
        if (!res.ok) throw new Error(await errorText(res));
        note.textContent = "Thanks for the feedback.";
      } catch (err) {
        note.textContent = `Feedback not sent: ${err.message || err}`;
        up.disabled = false;
        down.disabled = false;
      }
    });
  }
  box.append(label, up, down, note);
  answerEl.append(box);
}

// The API key (if any) lives in this tab's sessionStorage only and goes out as a Bearer token.
const keyInput = $("api-key");
if (keyInput) {
  keyInput.value = sessionStorage.getItem("groundwire-key") || "";
  keyInput.addEventListener("change", () => {
    sessionStorage.setItem("groundwire-key", keyInput.value.trim());
  });
}

function apiHeaders() {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  const key = keyInput ? keyInput.value.trim() : "";
  if (key) headers.Authorization = `Bearer ${key}`;
  else {
    // Signed in to the web app (/signin): the session cookie goes along by itself, and a
    // request riding on it must echo the page's CSRF cookie (docs/web.md).
    const csrf = document.cookie.split("; ").find((c) => c.startsWith("gw_csrf="));
    if (csrf) headers["X-CSRF-Token"] = decodeURIComponent(csrf.slice("gw_csrf=".length));
  }
  return headers;
}

// Turn a failed response into "message (code)"; never shows a raw body or stack.
async function errorText(res) {
  try {
    const body = await res.json();
    const err = body && body.error;
    if (err && err.message) return `${err.message}${err.code ? ` (${err.code})` : ""}`;
  } catch (_) { /* not JSON */ }
  return `Request failed (HTTP ${res.status})`;
}

let inFlight = false;

async function ask() {
  const q = question.value.trim();
  if (!q) { setStatus("Please type a question.", true); question.focus(); return; }
  if (inFlight) return;
  inFlight = true;
  button.disabled = true;
  form.setAttribute("aria-busy", "true");
  clearResults();
  setStatus("Searching…");
  try {
    const res = await fetch("/v1/ask", {
      method: "POST",
      headers: apiHeaders(),
      body: JSON.stringify({ question: q, index: indexInput.value.trim() || "default" }),
    });
    if (res.status === 401 && keyInput) {
      setStatus(`${await errorText(res)} — paste an API key above.`, true);
      keyInput.focus();
      return;
    }
    if (!res.ok) { setStatus(await errorText(res), true); return; }
    const data = await res.json();
    renderAnswer(data);
    renderCitations(data);
    renderPassages(data);
    renderMeta(data);
    renderDegraded(data);
    renderFeedback(data);
    setStatus(data.abstained ? "No confident answer found." : "");
  } catch (_) {
    setStatus("Could not reach the server or read its reply.", true);
  } finally {
    inFlight = false;
    button.disabled = false;
    form.removeAttribute("aria-busy");
  }
}

form.addEventListener("submit", (e) => { e.preventDefault(); ask(); });

// Enter submits; Shift+Enter inserts a newline; ignore IME composition.
question.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); ask(); }
});

// Citation chips: scroll to the card and highlight it briefly.
answerEl.addEventListener("click", (e) => {
  const chip = e.target.closest("a.cite");
  if (!chip) return;
  const target = $(`cite-${chip.dataset.n}`);
  if (!target) return;
  e.preventDefault();
  target.scrollIntoView({ behavior: "smooth", block: "center" });
  target.focus({ preventScroll: true });
  target.classList.remove("active");
  void target.offsetWidth; // restart the highlight when clicked repeatedly
  target.classList.add("active");
  clearTimeout(target._activeTimer);
  target._activeTimer = setTimeout(() => target.classList.remove("active"), 2000);
});
