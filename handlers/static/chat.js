// Sapa ASN web chat. Plain JS, no framework. Every text is set with textContent, never as HTML.
// localStorage holds only the recovery code; nothing else is kept in the browser.
(function () {
  "use strict";
  var KEY = "sapa.code";
  var S = { code: null, lang: document.documentElement.lang || "id", texts: {}, after: 0,
    live: null, poll: null, pending: {}, statusTimer: null };

  function $(id) { return document.getElementById(id); }
  function t(key) { return S.texts[key] || key; }
  function show(el, on) { el.hidden = !on; }

  function applyTexts() {
    document.documentElement.lang = S.lang;
    document.title = t("web.title");
    document.querySelectorAll("[data-t]").forEach(function (el) {
      el.textContent = t(el.getAttribute("data-t"));
    });
    document.querySelectorAll("[data-tp]").forEach(function (el) {
      el.setAttribute("placeholder", t(el.getAttribute("data-tp")));
    });
    document.querySelectorAll("[data-tl]").forEach(function (el) {
      el.setAttribute("aria-label", t(el.getAttribute("data-tl")));
    });
  }

  async function loadTexts(lang) {
    var r = await fetch("/api/chat/texts?locale=" + encodeURIComponent(lang), { cache: "no-store" });
    var j = await r.json();
    S.texts = j.texts; S.lang = j.locale;
    $("notice").textContent = j.notice;
    applyTexts();
  }

  async function api(method, path, body) {
    var headers = {};
    if (S.code) headers.Authorization = "Bearer " + S.code;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    var r = await fetch("/api/chat/" + path, { method: method, headers: headers, cache: "no-store",
      credentials: "omit", body: body === undefined ? undefined : JSON.stringify(body) });
    var data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (!r.ok) {
      var err = new Error((data && data.message) || t("web.bad_request"));
      err.status = r.status; err.code = data && data.error;
      throw err;
    }
    return data;
  }

  function alertText(text) { $("alert").textContent = text || ""; show($("alert"), !!text); }

  function newId() {
    var b = new Uint8Array(12); crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }

  // --- messages ---------------------------------------------------------------------------
  function bubble(text, cls) {
    var li = document.createElement("li"); li.className = "msg " + cls;
    var p = document.createElement("p"); p.textContent = text; li.appendChild(p);
    $("log").appendChild(li); li.scrollIntoView({ block: "end" });
    return li;
  }

  function render(m) {
    if (m.seq <= S.after) return;
    S.after = m.seq;
    if (m.mine && m.id && S.pending[m.id]) {
      S.pending[m.id].classList.remove("pending"); delete S.pending[m.id]; return;
    }
    var li = bubble(m.text, m.mine ? "mine" : (m.urgent ? "them urgent" : "them"));
    if (m.buttons && m.buttons.length) {
      var box = document.createElement("div"); box.className = "choices";
      m.buttons.forEach(function (b) {
        var btn = document.createElement("button"); btn.type = "button"; btn.textContent = b[0];
        btn.addEventListener("click", function () { choose(b[1], btn, box); });
        box.appendChild(btn);
      });
      li.appendChild(box); li.scrollIntoView({ block: "end" });
    }
    if (!m.mine) refreshStatusSoon();
  }

  async function fetchMessages() {
    if (!S.code) return;
    var code = S.code;
    try {
      (await api("GET", "messages?after=" + S.after)).forEach(render);
    } catch (e) { if (e.status === 401 && S.code === code) forget(); }
  }

  function nudge() { setTimeout(fetchMessages, 250); }

  async function choose(data, btn, box) {
    box.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    try {
      await api("POST", "choose", { data: data });
      btn.classList.add("chosen"); alertText(""); nudge();
    } catch (e) {
      box.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      alertText(e.message);
    }
  }

  async function send(ev) {
    ev.preventDefault();
    var box = $("text"), text = box.value, id = newId();
    // Cleared at once: what is typed while this message is on its way is kept.
    box.value = "";
    // An empty text still goes to the server, which answers with a kind sentence.
    var li = text.trim() ? bubble(text, "mine pending") : document.createElement("li");
    S.pending[id] = li;
    for (var attempt = 0; ; attempt++) {
      try {
        await api("POST", "message", { text: text, client_msg_id: id });
        alertText(""); nudge(); return;
      } catch (e) {
        if (e.status === undefined && attempt < 2) {  // network: retry, the id de-duplicates
          await new Promise(function (ok) { setTimeout(ok, 1500); }); continue;
        }
        li.remove(); delete S.pending[id];
        if (!box.value) box.value = text;  // not sent: given back to edit or send again
        alertText(e.status === undefined ? t("web.send_failed") : e.message);
        if (e.status === 401) forget();
        return;
      }
    }
  }

  // --- live updates: server-sent events over fetch (the code stays in a header) ------------
  function parseEvent(block) {
    var data = "", kind = "message";
    block.split("\n").forEach(function (line) {
      if (line.indexOf("data:") === 0) data += line.slice(5).trim();
      else if (line.indexOf("event:") === 0) kind = line.slice(6).trim();
    });
    if (kind === "gone") { forget(); return; }
    if (data) render(JSON.parse(data));
  }

  async function startLive() {
    stopLive();
    var ctrl = new AbortController(); S.live = ctrl;
    try {
      var r = await fetch("/api/chat/events?after=" + S.after, { cache: "no-store",
        headers: { Authorization: "Bearer " + S.code }, signal: ctrl.signal, credentials: "omit" });
      if (r.status === 401) { forget(); return; }
      if (!r.ok || !r.body) throw new Error("no stream");
      var reader = r.body.getReader(), decoder = new TextDecoder(), buf = "", i;
      for (;;) {
        var part = await reader.read();
        if (part.done) break;
        stopPolling();
        if ($("alert").textContent === t("web.offline")) alertText("");
        buf += decoder.decode(part.value, { stream: true });
        while ((i = buf.indexOf("\n\n")) >= 0) { parseEvent(buf.slice(0, i)); buf = buf.slice(i + 2); }
      }
      if (S.live === ctrl) setTimeout(startLive, 300);  // the server ends streams now and then
    } catch (e) {
      if (ctrl.signal.aborted || S.live !== ctrl) return;
      if (e instanceof TypeError) alertText(t("web.offline"));
      startPolling();  // fall back to polling, and try the stream again later
      setTimeout(function () { if (S.live === ctrl) startLive(); }, 15000);
    }
  }

  function stopLive() { if (S.live) { var c = S.live; S.live = null; c.abort(); } }
  function startPolling() { if (!S.poll) S.poll = setInterval(fetchMessages, 3000); fetchMessages(); }
  function stopPolling() { if (S.poll) { clearInterval(S.poll); S.poll = null; } }

  // --- status, session ------------------------------------------------------------------
  function setCase(code) { $("case-code").textContent = code || ""; show($("case"), !!code); }

  function refreshStatusSoon() {
    clearTimeout(S.statusTimer);
    S.statusTimer = setTimeout(async function () {
      try { setCase((await api("GET", "status")).case_code); } catch (e) { /* shown elsewhere */ }
    }, 400);
  }

  async function enterChat() {
    var st = await api("GET", "status");
    if (st.locale !== S.lang) await loadTexts(st.locale);
    setCase(st.case_code);
    show($("welcome"), false); show($("chat"), true);
    await fetchMessages();
    startLive();
  }

  function forget(note) {
    stopLive(); stopPolling();
    localStorage.removeItem(KEY);
    S.code = null; S.after = 0; S.pending = {};
    $("log").textContent = ""; setCase(null);
    show($("chat"), false); show($("confirm"), false); show($("recovery"), false);
    show($("welcome"), true);
    $("welcome-note").textContent = note || ""; show($("welcome-note"), !!note);
  }

  async function agree() {
    try {
      var started = await api("POST", "start");
      S.code = started.code;
      await api("POST", "consent", { agree: true, locale: S.lang });
      localStorage.setItem(KEY, S.code);
      $("recovery-code").textContent = S.code; show($("recovery"), true);
      await enterChat();
    } catch (e) {
      S.code = null;
      $("welcome-note").textContent = e.message; show($("welcome-note"), true);
    }
  }

  async function resume(ev) {
    ev.preventDefault();
    var code = $("resume-code").value.toUpperCase().replace(/[\s-]/g, "");
    S.code = code.replace(/(.{5})(?=.)/g, "$1-");
    try {
      await enterChat();
      localStorage.setItem(KEY, S.code); $("resume-code").value = ""; show($("resume-error"), false);
    } catch (e) {
      S.code = null;
      $("resume-error").textContent = e.status === 401 ? t("web.code_invalid") : e.message;
      show($("resume-error"), true);
    }
  }

  async function action(method, path, body) {
    try { var r = await api(method, path, body); alertText(""); nudge(); return r; } catch (e) {
      alertText(e.message); if (e.status === 401) forget(); return null;
    }
  }

  async function exportData() {
    try {
      var r = await fetch("/api/chat/export", { headers: { Authorization: "Bearer " + S.code },
        cache: "no-store", credentials: "omit" });
      if (!r.ok) throw new Error(((await r.json()) || {}).message || t("web.bad_request"));
      var url = URL.createObjectURL(await r.blob()), a = document.createElement("a");
      a.href = url; a.download = "sapa-asn-data.json"; document.body.appendChild(a); a.click();
      a.remove(); setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    } catch (e) { alertText(e.message); }
  }

  async function erase() {
    stopLive(); stopPolling();  // the stream would see the erased session and reset the page
    try { forget((await api("POST", "delete", { confirm: true })).message); } catch (e) {
      alertText(e.message); if (S.code) startLive();
    }
  }

  async function switchLanguage() {
    var other = S.lang === "id" ? "en" : "id";
    if (S.code && !$("chat").hidden) await action("POST", "locale", { locale: other });
    await loadTexts(other);
  }

  function quickExit() {
    stopLive();
    try { localStorage.clear(); sessionStorage.clear(); } catch (e) { /* leave anyway */ }
    location.replace("https://www.google.com/");
  }

  function wire() {
    $("exit").addEventListener("click", quickExit);
    $("lang").addEventListener("click", switchLanguage);
    $("agree").addEventListener("click", agree);
    $("refuse").addEventListener("click", function () {
      $("welcome-note").textContent = t("web.refused"); show($("welcome-note"), true);
    });
    $("resume-form").addEventListener("submit", resume);
    $("recovery-done").addEventListener("click", function () {
      $("recovery-code").textContent = ""; show($("recovery"), false);
    });
    $("composer").addEventListener("submit", send);
    $("text").addEventListener("keydown", function (e) {
      if (e.key !== "Enter" || e.shiftKey) return;
      e.preventDefault();
      if ($("composer").requestSubmit) $("composer").requestSubmit(); else send(e);
    });
    $("status").addEventListener("click", async function () {
      var st = await action("GET", "status");
      if (st) { bubble(st.text, "local"); setCase(st.case_code); }
    });
    $("close").addEventListener("click", function () { action("POST", "close"); });
    $("export").addEventListener("click", exportData);
    $("delete").addEventListener("click", function () { show($("confirm"), true); });
    $("delete-no").addEventListener("click", function () { show($("confirm"), false); });
    $("delete-yes").addEventListener("click", erase);
    window.addEventListener("online", function () { if (S.code) startLive(); });
  }

  async function boot() {
    wire();
    try { await loadTexts(S.lang); } catch (e) { /* the page keeps its server-rendered texts */ }
    var saved = localStorage.getItem(KEY);
    if (saved) {
      S.code = saved;
      try { await enterChat(); return; } catch (e) {
        if (e.status === 401) localStorage.removeItem(KEY);
        S.code = null;
      }
    }
    show($("welcome"), true);
  }

  boot();
})();
