// Knowledge-base editor: drafts, review, publish, versions, rollback, "try it", FAQs from knowledge gaps.
// The staff login token lives in sessionStorage "bankassist.staff" (shared by the /console pages).
(function () {
  "use strict";
  const KEY = "bankassist.staff";
  const $ = (id) => document.getElementById(id);
  let token = readToken(), me = null, docs = [], current = null;

  function readToken() {  // a bare token, or {"token": ...} written by another console page
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    try { const v = JSON.parse(raw); return typeof v === "string" ? v : (v && v.token) || null; } catch (e) { return raw; }
  }
  class ApiError extends Error {
    constructor(status, body) {
      super(typeof body.detail === "string" ? body.detail : "request failed (" + status + ")");
      this.status = status; this.body = body;
    }
  }
  async function api(path, opts = {}) {
    const res = await fetch(path, { ...opts, headers: { "content-type": "application/json", authorization: "Bearer " + token } });
    const body = await res.json().catch(() => ({}));
    if (res.status === 401) { signOut(false); }
    if (!res.ok) throw new ApiError(res.status, body);
    return body;
  }
  const post = (path, data) => api(path, { method: "POST", body: JSON.stringify(data || {}) });
  function say(text) { $("status").textContent = text; }
  function el(tag, text, cls) { const e = document.createElement(tag); if (text != null) e.textContent = text; if (cls) e.className = cls; return e; }
  function itemButton(label, sub, onclick) {
    const li = el("li"), b = el("button", null, "item");
    b.type = "button"; b.append(el("span", label)); if (sub) { b.append(el("br")); b.append(el("span", sub, "sub")); }
    b.onclick = onclick; li.append(b); return li;
  }

  // ---- session ----
  function signOut(server) {
    if (server && token) fetch("/v1/agent/logout", { method: "POST", headers: { authorization: "Bearer " + token } }).catch(() => {});
    token = null; me = null; sessionStorage.removeItem(KEY);
    $("workspace").hidden = true; $("login-view").hidden = false; $("logout").hidden = true; $("who").textContent = "";
  }
  async function start() {
    me = await api("/v1/kb-editor/me");
    $("who").textContent = me.display_name + " (" + me.roles.join(", ") + ")";
    $("login-view").hidden = true; $("logout").hidden = false;
    if (!me.can_edit) { $("login-error").textContent = "This page needs the kb_editor or kb_approver role."; signOut(false); return; }
    $("workspace").hidden = false;
    await Promise.all([loadGaps(), loadDrafts(), loadDocs()]);
  }
  $("login").onsubmit = async (e) => {
    e.preventDefault();
    $("login-error").textContent = "";
    const res = await fetch("/v1/agent/login", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: $("username").value, password: $("password").value }) });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) { $("login-error").textContent = body.detail || "sign-in failed"; return; }
    token = body.token; sessionStorage.setItem(KEY, token);
    $("password").value = "";
    start().catch((err) => { $("login-error").textContent = err.message; });
  };
  $("logout").onclick = () => signOut(true);

  // ---- lists ----
  async function loadGaps() {  // GET /v1/analytics/gaps: {"gaps": [{id, name, count, examples, conversation_ids}]}; 404: no panel
    let gaps = null;
    try { gaps = (await api("/v1/analytics/gaps")).gaps; } catch (e) { gaps = null; }
    $("gaps-panel").hidden = !Array.isArray(gaps);
    if (!Array.isArray(gaps)) return;
    $("gaps").replaceChildren(...gaps.map((g) => {
      const li = el("li", null, "gap"), ex = el("ul");
      li.append(el("strong", g.name), el("span", " · " + g.count + " questions", "sub"));
      (g.examples || []).slice(0, 3).forEach((q) => ex.append(el("li", q)));
      const b = el("button", "Draft an FAQ from this gap"); b.type = "button";
      b.setAttribute("aria-label", "Draft an FAQ from the gap " + g.name);
      b.onclick = () => draftFromQuestions(g.examples || [], { id: String(g.id), name: g.name || "", conversation_ids: (g.conversation_ids || []).map(String) });
      li.append(ex, b); return li;
    }));
    if (!gaps.length) $("gaps").append(el("li", "No knowledge gaps right now.", "sub"));
  }
  async function loadDrafts() {
    const drafts = await api("/v1/kb-editor/drafts");
    $("drafts").replaceChildren(...drafts.map((d) => itemButton("#" + d.id + " " + d.doc_id, d.status + " · " + d.author_name, () => openDraft(d.id))));
    if (!drafts.length) $("drafts").append(el("li", "No open drafts.", "sub"));
  }
  async function loadDocs() { docs = await api("/v1/kb-editor/documents"); renderDocs(); }
  function renderDocs() {
    const q = $("doc-filter").value.trim().toLowerCase();
    const shown = docs.filter((d) => !q || (d.doc_id + " " + d.title).toLowerCase().includes(q)).slice(0, q ? 40 : 15);
    $("docs").replaceChildren(...shown.map((d) => itemButton(d.title, d.doc_id + " · " + (d.category || "?") + (d.version ? " · v" + d.version : ""), () => openDoc(d.doc_id))));
  }
  $("doc-filter").oninput = renderDocs;
  async function draftFromQuestions(questions, gap) {
    say("Drafting an FAQ from " + questions.length + " questions…");
    try { const d = await post("/v1/kb-editor/drafts/from-questions", { questions, gap }); await loadDrafts(); show(d); say("Draft #" + d.id + " created. Nothing is published until an approver publishes it."); }
    catch (err) { say(err.message); }
  }
  $("fromq").onsubmit = (e) => {
    e.preventDefault();
    const lines = $("fromq-text").value.split("\n").map((s) => s.trim()).filter(Boolean);
    if (lines.length) draftFromQuestions(lines, null);
  };
  $("new-doc").onsubmit = async (e) => {
    e.preventDefault();
    try { const d = await post("/v1/kb-editor/drafts", { doc_id: $("new-id").value.trim(), kind: $("new-kind").value }); await loadDrafts(); show(d); }
    catch (err) { say(err.message); }
  };

  // ---- a draft ----
  async function openDraft(id) { try { show(await api("/v1/kb-editor/drafts/" + id)); } catch (err) { say(err.message); } }
  function show(d) {
    current = d;
    const v = $("draft-tpl").content.cloneNode(true), root = v.querySelector(".draft"), f = root.querySelector(".edit");
    root.querySelector(".title").textContent = "Draft #" + d.id + ": " + d.doc_id;
    root.querySelector(".meta").textContent = (d.kind === "faq" ? "FAQ entry" : "Document") + (d.regulation ? " · regulation (needs a second person)" : "") +
      " · " + d.status + " · revision " + d.revision + " · by " + d.author_name + (d.published_version ? " · published as version " + d.published_version : "");
    if (d.review_note) { const n = root.querySelector(".review-note"); n.hidden = false; n.textContent = "Sent back: " + d.review_note; }
    root.querySelector(".stale").hidden = !d.stale;
    const faq = d.kind === "faq" && d.faq;
    f.querySelector(".faq-fields").hidden = !faq; f.querySelector(".md").hidden = !!faq;
    if (faq) {
      f.elements.title.value = d.faq.title; f.elements.questions.value = d.faq.questions.join("\n");
      f.elements.answer.value = d.faq.answer; f.elements.answer_doc.value = d.faq.answer_doc; f.elements.source.value = d.faq.source;
    }
    f.elements.content.value = d.content;
    const open = d.status === "draft" || d.status === "submitted";
    f.querySelector(".save").disabled = !open;
    f.querySelector(".discard").hidden = !open;
    f.querySelector(".submit").hidden = d.status !== "draft";
    const pub = f.querySelector(".publish");
    pub.hidden = !me.can_publish || !open; pub.disabled = !d.can_publish;
    f.querySelector(".why").textContent = me.can_publish && open && !d.can_publish ? "Publish: " + d.why_not : "";
    f.querySelector(".send-back").hidden = !(me.can_publish && d.status === "submitted");
    f.onsubmit = (e) => { e.preventDefault(); act(f, () => api("/v1/kb-editor/drafts/" + d.id, { method: "PUT", body: JSON.stringify(edited(f, d)) }), "Saved."); };
    f.querySelector(".submit").onclick = () => act(f, () => post("/v1/kb-editor/drafts/" + d.id + "/submit", { revision: d.revision }), "Submitted for review.");
    f.querySelector(".discard").onclick = () => act(f, () => post("/v1/kb-editor/drafts/" + d.id + "/discard", { revision: d.revision }), "Draft discarded.");
    f.querySelector(".send-back-btn").onclick = () => act(f, () => post("/v1/kb-editor/drafts/" + d.id + "/send-back",
      { revision: d.revision, note: f.elements.note.value || "needs changes" }), "Sent back to the author.");
    pub.onclick = () => act(f, async () => {
      say("Publishing: every server rebuilds its index…");
      const r = await post("/v1/kb-editor/drafts/" + d.id + "/publish", { revision: d.revision });
      loadDocs(); return r.draft;
    }, "Published. The assistant answers with it now.");
    showSources(root, d);
    root.querySelector(".try-form").onsubmit = (e) => { e.preventDefault(); tryIt(root, d); };
    root.querySelector(".diff").textContent = d.diff || "(no change)";
    $("pane").replaceChildren(v);
    $("pane").querySelector(".title").focus();
  }
  function edited(f, d) {
    if (!f.querySelector(".faq-fields").hidden) {
      return { revision: d.revision, faq: { title: f.elements.title.value, answer: f.elements.answer.value, answer_doc: f.elements.answer_doc.value.trim(),
        source: f.elements.source.value, effective_date: d.faq.effective_date, questions: f.elements.questions.value.split("\n").map((s) => s.trim()).filter(Boolean) } };
    }
    return { revision: d.revision, content: f.elements.content.value };
  }
  async function act(f, fn, done) {
    const error = f.querySelector(".error");
    error.textContent = "";
    try {
      const d = await fn();
      await loadDrafts();
      show(d); say(done);
    } catch (err) {
      say("");
      error.textContent = err.message;
      if (err.status === 409) {
        const b = el("button", "Reload the draft"); b.type = "button"; b.onclick = () => openDraft(current.id);
        error.append(" ", b);
      }
      if (err.status === 422 && err.body && err.body.line && !f.querySelector(".md").hidden) selectLine(f.elements.content, err.body.line);
    }
  }
  function selectLine(area, line) {  // put the caret on the line the server named
    const lines = area.value.split("\n"), start = lines.slice(0, line - 1).join("\n").length + (line > 1 ? 1 : 0);
    area.focus(); area.setSelectionRange(start, start + (lines[line - 1] || "").length);
  }
  function showSources(root, d) {
    const n = d.notes || {};
    if (!n.questions) return;
    root.querySelector(".sources").hidden = false;
    if (n.gap) root.querySelector(".sources h3").textContent = "Drafted from the gap “" + n.gap.name + "” (" + (n.gap.conversation_ids || []).length + " conversations)";
    if (n.existing && n.existing.length) {
      const w = root.querySelector(".existing"); w.hidden = false;
      w.textContent = "Already answered in part by: " + n.existing.map((x) => x.title + " (" + x.doc_id + ")").join("; ");
    }
    const ul = root.querySelector(".cites");
    (n.citations || []).forEach((c) => ul.append(el("li", c.title + (c.section ? " — " + c.section : "") + " (" + c.doc_id + ")")));
    if (!(n.citations || []).length) ul.append(el("li", "No passage answers these questions: write the answer."));
  }
  async function tryIt(root, d) {
    const box = root.querySelector(".try-answer"), q = root.querySelector(".try-form").elements.question.value;
    box.replaceChildren(el("p", "Building a temporary index with this draft…", "sub"));
    try {
      const r = await post("/v1/kb-editor/drafts/" + d.id + "/try", { question: q });
      const cites = el("ul");
      r.citations.forEach((c) => {
        const li = el("li", c.title + (c.section ? " — " + c.section : "") + " (" + c.doc_id + ")");
        if (c.doc_id === d.doc_id) li.append(" ", el("span", "this draft", "draft-cite"));
        cites.append(li);
      });
      box.replaceChildren(el("p", r.answer, "answer"), el("p", "Route: " + r.path + (r.cites_draft ? " · cites this draft" : " · does not cite this draft"), "sub"), cites);
    } catch (err) { box.replaceChildren(el("p", err.message, "error")); }
  }

  // ---- a published document ----
  async function openDoc(docId) {
    let doc;
    try { doc = await api("/v1/kb-editor/documents/" + docId); } catch (err) { say(err.message); return; }
    const v = $("doc-tpl").content.cloneNode(true), root = v.querySelector(".doc");
    root.querySelector(".title").textContent = doc.title;
    root.querySelector(".meta").textContent = doc.doc_id + " · " + doc.category + (doc.versions.length ? " · version " + doc.versions[0].version : "");
    root.querySelector(".content").textContent = doc.content;
    root.querySelector(".edit-doc").onclick = async () => {
      try { const d = await post("/v1/kb-editor/drafts", { doc_id: doc.doc_id }); await loadDrafts(); show(d); } catch (err) { say(err.message); }
    };
    root.querySelector(".no-versions").hidden = doc.versions.length > 0;
    root.querySelector(".versions").hidden = !doc.versions.length;
    const latest = doc.versions.length ? doc.versions[0].version : 0;
    root.querySelector("tbody").replaceChildren(...doc.versions.map((x) => {
      const tr = el("tr"), acts = el("td");
      const what = x.action + (x.rollback_to ? " to version " + x.rollback_to : "") + (x.draft_id ? " (draft #" + x.draft_id + ")" : "");
      tr.append(el("td", String(x.version)), el("td", what), el("td", x.published_by_name), el("td", new Date(x.created_at).toLocaleString()));
      const view = el("button", "Changes"); view.type = "button"; view.setAttribute("aria-label", "Changes in version " + x.version);
      view.onclick = () => showVersion(root, doc.doc_id, x.version);
      acts.append(view);
      if (me.can_publish && x.version !== latest) {
        const rb = el("button", "Roll back to this"); rb.type = "button"; rb.setAttribute("aria-label", "Roll back to version " + x.version);
        rb.onclick = () => rollback(root, doc.doc_id, x.version, latest);
        acts.append(" ", rb);
      }
      tr.append(acts); return tr;
    }));
    $("pane").replaceChildren(v);
    $("pane").querySelector(".title").focus();
  }
  async function showVersion(root, docId, n) {
    const x = await api("/v1/kb-editor/documents/" + docId + "/versions/" + n);
    const box = root.querySelector(".version-view"); box.hidden = false;
    box.querySelector(".vtitle").textContent = "Version " + n + ": changes";
    box.querySelector(".vdiff").textContent = x.diff || "(no change)";
    box.querySelector(".vtitle").focus();
  }
  async function rollback(root, docId, n, latest) {
    const error = root.querySelector(".error"); error.textContent = "";
    say("Rolling back: every server rebuilds its index…");
    try {
      const r = await post("/v1/kb-editor/documents/" + docId + "/rollback", { version: n, current_version: latest });
      await openDoc(docId); loadDocs(); say("Rolled back: version " + r.version + " is version " + n + "'s text.");
    } catch (err) { say(""); error.textContent = err.message; }
  }

  if (token) start().catch(() => signOut(false));
})();
