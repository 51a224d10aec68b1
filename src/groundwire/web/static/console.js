/* Groundwire web app: the little script the server-rendered pages need.
   - every fetch that changes something sends the page's CSRF token (X-CSRF-Token);
   - ask: streams a conversation turn (Server-Sent Events over fetch), then shows the stored turn;
   - feedback buttons, upload (drag and drop, per-file progress and result), confirm dialogs. */
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function describe(body, status) {
    var e = body && body.error;
    return e ? e.code + ": " + e.message : "HTTP " + status;
  }

  function api(method, url, body) {
    return fetch(url, {
      method: method, credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json"},
      body: body === undefined ? undefined : JSON.stringify(body)
    });
  }

  // ---------------------------------------------------------------- confirm dialogs
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
    });
  });

  // ---------------------------------------------------------------- a citation: go to the mark
  var cited = document.getElementById("cited");
  if (cited) { cited.scrollIntoView({block: "center"}); cited.focus({preventScroll: true}); }

  // ---------------------------------------------------------------- feedback
  document.querySelectorAll(".feedback").forEach(function (box) {
    var status = box.querySelector(".feedback-status");
    box.querySelectorAll("button").forEach(function (button) {
      button.addEventListener("click", function () {
        box.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
        api("POST", "/v1/feedback", {record_id: box.dataset.record, helpful: button.dataset.helpful === "true"})
          .then(function (r) {
            if (r.ok) { status.textContent = "Thanks for the feedback."; return; }
            return r.json().catch(function () { return null; }).then(function (b) {
              status.textContent = describe(b, r.status);
              box.querySelectorAll("button").forEach(function (x) { x.disabled = false; });
            });
          });
      });
    });
  });

  // ---------------------------------------------------------------- ask (streamed)
  var form = document.getElementById("ask-form");
  if (form) {
    var question = document.getElementById("question");
    var button = document.getElementById("ask-button");
    var statusEl = document.getElementById("ask-status");
    question.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var text = question.value.trim();
      if (!text) return;
      var id = form.dataset.conversation;
      var live = document.getElementById("live");
      var answer = document.getElementById("live-answer");
      var rewritten = document.getElementById("live-rewritten");
      document.getElementById("live-question").textContent = text;
      answer.textContent = ""; rewritten.hidden = true; live.hidden = false;
      button.disabled = true; statusEl.textContent = "Answering…";
      api("POST", "/v1/conversations/" + encodeURIComponent(id) + "/messages",
          {question: text, stream: true}).then(function (r) {
        if (!r.ok) {
          return r.json().catch(function () { return null; }).then(function (b) {
            throw new Error(describe(b, r.status));
          });
        }
        return readEvents(r.body, function (event, data) {
          if (event === "rewrite" && data.rewriter !== "none") {
            rewritten.textContent = "Searched for: \u201c" + data.rewritten_query + "\u201d";
            rewritten.hidden = false;
          } else if (event === "token") {
            answer.textContent += data.text;
          } else if (event === "restart") {
            answer.textContent = "";
          } else if (event === "error") {
            throw new Error(describe(data, 500));
          } else if (event === "turn") {
            statusEl.textContent = "Answered.";
            window.location.assign("/app/c/" + encodeURIComponent(id) + "?turn=" + data.seq + "#turn-" + data.seq);
          }
        });
      }).catch(function (err) {
        statusEl.textContent = String(err.message || err);
        button.disabled = false;
      });
    });
  }

  function readEvents(stream, onEvent) {
    var reader = stream.getReader(), decoder = new TextDecoder(), buffer = "";
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) return;
        buffer += decoder.decode(chunk.value, {stream: true}).replace(/\r\n/g, "\n");
        var at;
        while ((at = buffer.indexOf("\n\n")) >= 0) {
          var frame = buffer.slice(0, at); buffer = buffer.slice(at + 2);
          var event = "message", data = [];
          frame.split("\n").forEach(function (line) {
            if (line.indexOf("event:") === 0) event = line.slice(6).trim();
            else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
          });
          if (data.length) onEvent(event, JSON.parse(data.join("\n")));
        }
        return pump();
      });
    }
    return pump();
  }

  // ---------------------------------------------------------------- upload
  var drop = document.getElementById("dropzone");
  if (drop) {
    var input = document.getElementById("files");
    var table = document.getElementById("upload-results");
    var rows = table.querySelector("tbody");
    drop.addEventListener("click", function () { input.click(); });
    drop.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); input.click(); }
    });
    ["dragenter", "dragover"].forEach(function (name) {
      drop.addEventListener(name, function (ev) { ev.preventDefault(); drop.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      drop.addEventListener(name, function () { drop.classList.remove("over"); });
    });
    drop.addEventListener("drop", function (ev) { ev.preventDefault(); send(ev.dataTransfer.files); });
    input.addEventListener("change", function () { send(input.files); input.value = ""; });

    function send(files) {
      table.hidden = false;
      Array.prototype.forEach.call(files, function (file) {
        var tr = document.createElement("tr");
        var name = document.createElement("td"); name.textContent = file.name;
        var prog = document.createElement("td");
        var bar = document.createElement("progress"); bar.max = 100; bar.value = 0;
        bar.setAttribute("aria-label", "Upload of " + file.name);
        prog.appendChild(bar);
        var result = document.createElement("td"); result.className = "result"; result.textContent = "uploading…";
        tr.appendChild(name); tr.appendChild(prog); tr.appendChild(result); rows.appendChild(tr);
        var body = new FormData();
        body.append("files", file, file.name);
        body.append("index", document.getElementById("upload-index").value);
        var xhr = new XMLHttpRequest();
        xhr.open("POST", "/v1/documents/upload");
        xhr.setRequestHeader("X-CSRF-Token", csrf);
        xhr.setRequestHeader("Accept", "application/json");
        xhr.upload.onprogress = function (ev) {
          if (ev.lengthComputable) bar.value = Math.round(ev.loaded / ev.total * 100);
          if (bar.value >= 100) result.textContent = "indexing…";
        };
        xhr.onload = function () {
          bar.value = 100;
          var data = null;
          try { data = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
          if (xhr.status >= 200 && xhr.status < 300 && data && data.results) {
            var r = data.results[0];
            tr.dataset.status = r.status;
            result.textContent = r.status + (r.code ? " \u2014 " + r.code + ": " + r.message : "");
            result.className = "result " + r.status;
          } else {
            tr.dataset.status = "failed";
            result.textContent = "failed \u2014 " + describe(data, xhr.status);
            result.className = "result failed";
          }
        };
        xhr.onerror = function () { tr.dataset.status = "failed"; result.textContent = "failed \u2014 network error"; };
        xhr.send(body);
      });
    }
  }
})();
