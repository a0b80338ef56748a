// Quality inspection console: the review queue, item-by-item review with evidence, the scorer's
// agreement with reviewers, and reports (chart, CSV, PDF). Staff log in with POST /v1/agent/login;
// the token lives in sessionStorage["bankassist.staff"] as {token, staff}.
(() => {
  const KEY = "bankassist.staff";
  const $ = (id) => document.getElementById(id);
  let auth = JSON.parse(sessionStorage.getItem(KEY) || "null");
  let current = null, chart = null, scorecard = null;

  const el = (tag, props = {}, ...kids) => {
    const n = Object.assign(document.createElement(tag), props);
    for (const k of kids) n.append(k);
    return n;
  };
  const say = (text) => { $("status").textContent = text; };

  async function api(path, opts = {}) {
    const res = await fetch(path, { ...opts, headers: { ...(opts.headers || {}), authorization: `Bearer ${auth.token}` } });
    if (res.status === 401) { logout(); throw new Error("login required"); }
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      throw new Error(typeof body.detail === "string" ? body.detail : `request failed (${res.status})`);
    }
    return res;
  }
  const json = async (path, opts) => (await api(path, opts)).json();

  function logout() {
    if (auth) fetch("/v1/agent/logout", { method: "POST", headers: { authorization: `Bearer ${auth.token}` } }).catch(() => {});
    auth = null; sessionStorage.removeItem(KEY);
    $("console").hidden = true; $("login-view").hidden = false; $("logout").hidden = true; $("who").textContent = "";
  }

  async function start() {
    $("login-view").hidden = true; $("console").hidden = false; $("logout").hidden = false;
    $("who").textContent = `${auth.staff.display_name} (${auth.staff.roles.join(", ")})`;
    try {
      scorecard = await json("/v1/qa/scorecard");
      await Promise.all([loadAgreement(), loadQueue(), loadReport()]);
      $("main").focus();
    } catch (err) { say(err.message); }
  }

  async function loadAgreement() {
    const a = await json("/v1/qa/agreement");
    $("agreement-rate").textContent = a.rate === null ? "no reviews yet" : `${(a.rate * 100).toFixed(1)}%`;
    $("agreement-count").textContent = `${a.agreed} of ${a.reviewed} reviewed items kept the scorer's result`;
    $("agreement-items").tBodies[0].replaceChildren(...a.items.map((r) => el("tr", {},
      el("td", { textContent: title(r.item_id) }), el("td", { textContent: r.part }),
      el("td", { textContent: r.reviewed }), el("td", { textContent: r.agreed }),
      el("td", { textContent: `${(r.rate * 100).toFixed(0)}%` }))));
  }

  const title = (id) => (scorecard && scorecard.items.find((i) => i.id === id) || { title: id }).title;

  async function loadQueue() {
    const rows = await json("/v1/qa/queue");
    $("queue-count").textContent = `(${rows.length})`;
    $("queue").replaceChildren(...rows.map((r) => el("li", {}, scoreButton(r))));
  }

  function scoreButton(r) {
    const b = el("button", { type: "button" });
    b.dataset.score = r.id;
    b.append(el("strong", { textContent: r.score === null ? "n/a" : `${r.score}` }), " ",
      el("span", { textContent: r.agent || "bot only" }), el("br"),
      el("span", { className: "sub", textContent: `${r.risk.join(", ") || "scored"} · ${new Date(r.closed_at).toLocaleString()}` }));
    b.onclick = () => openReview(r.id);
    return b;
  }

  function highlighted(m, items) {
    // The message text with each evidence span marked: the reviewer sees what decided an item.
    const spans = items.filter((i) => i.message_id === m.id && i.span).map((i) => i.span).sort((a, b) => a[0] - b[0]);
    const out = [];
    let at = 0;
    for (const [s, e] of spans) {
      if (s < at) continue;
      out.push(m.text.slice(at, s), el("mark", { textContent: m.text.slice(s, e) }));
      at = e;
    }
    out.push(m.text.slice(at));
    return out;
  }

  async function openReview(id) {
    const d = await json(`/v1/qa/scores/${id}`);
    current = d;
    document.querySelectorAll("#queue button").forEach((b) => b.setAttribute("aria-current", String(b.dataset.score == id)));
    $("review").querySelector(".empty").hidden = true; $("review-body").hidden = false;
    $("review-title").textContent = `Review: conversation ${d.conversation_id.slice(0, 8)} · score ${d.score ?? "n/a"}`;
    $("review-meta").textContent = `${d.agent ? "agent " + d.agent : "bot only"} · ${d.scorecard} · risk: ${d.risk.join(", ") || "none"}`;
    $("transcript").replaceChildren(...d.messages.map((m) => {
      const li = el("li", { className: m.role, id: `msg-${m.id}`, tabIndex: -1 });
      li.append(el("span", { className: "who", textContent: `${m.role} · ${m.part} part · #${m.id}` }), ...highlighted(m, d.items));
      return li;
    }));
    $("items").tBodies[0].replaceChildren(...d.items.map(itemRow));
    $("review-title").focus();
  }

  function itemRow(i) {
    const name = `verdict-${i.id}`, chosen = i.review_result || i.result;
    const radios = ["pass", "fail", "na"].map((v) => el("label", {},
      el("input", { type: "radio", name, value: v, checked: v === chosen }), ` ${v === "na" ? "n/a" : v}`));
    const evidence = i.message_id
      ? el("button", { type: "button", className: "link", textContent: `message #${i.message_id}`,
        onclick: () => { const m = $(`msg-${i.message_id}`); if (m) { m.scrollIntoView({ block: "center" }); m.focus(); } } })
      : el("span", { className: "sub", textContent: "none" });
    return el("tr", {},
      el("th", { scope: "row", textContent: title(i.item_id) + (i.critical ? " (critical)" : "") }),
      el("td", { textContent: i.part }),
      el("td", {}, el("span", { className: `res-${i.result}`, textContent: i.result === "na" ? "n/a" : i.result }),
        el("br"), el("span", { className: "sub", textContent: i.note })),
      el("td", {}, evidence),
      el("td", {}, el("fieldset", {}, el("legend", { textContent: `Verdict for ${title(i.item_id)}, ${i.part} part` }), ...radios)));
  }

  $("review-form").onsubmit = async (e) => {
    e.preventDefault();
    if (!current) return;
    const verdicts = current.items.map((i) => ({ item_result_id: i.id,
      result: document.querySelector(`input[name="verdict-${i.id}"]:checked`).value }));
    try {
      await json(`/v1/qa/scores/${current.id}/review`, { method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ verdicts }) });
      const changed = verdicts.filter((v, k) => v.result !== current.items[k].result).length;
      say(`Review saved: ${verdicts.length - changed} item(s) confirmed, ${changed} overridden.`);
      await Promise.all([loadAgreement(), loadQueue()]);
    } catch (err) { say(err.message); }
  };

  async function loadReport() {
    const group = $("group").value, weeks = $("weeks").value;
    const rows = await json(`/v1/qa/reports?group=${group}&weeks=${weeks}`);
    $("report").tBodies[0].replaceChildren(...rows.map((r) => el("tr", {},
      el("th", { scope: "row", textContent: r.key }),
      el("td", {}, drill(r, `${r.conversations}`, {})),
      el("td", { textContent: r.mean_score ?? "n/a" }),
      el("td", { textContent: r.under_pass_mark }),
      el("td", { textContent: r.critical_fails }),
      el("td", {}, ...r.worst_items.map((w) => el("div", {}, drill(r, `${title(w.item_id)}: ${w.fails} fail(s)`,
        { item: w.item_id, result: "fail" })))))));
    drawTrend(rows);
  }

  function drill(row, text, extra) {
    // Every number opens the conversations behind it.
    const params = new URLSearchParams({ ...row.filter, ...extra });
    return el("button", { type: "button", className: "link", textContent: text, onclick: async () => {
      const list = await json(`/v1/qa/scores?${params}`);
      $("drill").hidden = false;
      $("drill-title").textContent = `${list.length} conversation(s): ${text} (${row.key})`;
      $("drill-list").replaceChildren(...list.map((r) => el("li", {}, scoreButton(r))));
      $("drill-title").focus();
    } });
  }

  function drawTrend(rows) {
    if (!window.Chart) return;
    const weeks = [...new Set(rows.flatMap((r) => r.trend.map((t) => t.week)))].sort();
    const datasets = rows.map((r) => ({ label: r.key,
      data: weeks.map((w) => (r.trend.find((t) => t.week === w) || {}).mean_score ?? null), spanGaps: true }));
    if (chart) chart.destroy();
    chart = new Chart($("trend"), { type: "line", data: { labels: weeks, datasets },
      options: { maintainAspectRatio: false, animation: false, scales: { y: { min: 0, max: 100 } } } });
  }

  async function download(format) {
    const group = $("group").value, weeks = $("weeks").value;
    try {
      const blob = await (await api(`/v1/qa/reports?group=${group}&weeks=${weeks}&format=${format}`)).blob();
      const a = el("a", { href: URL.createObjectURL(blob), download: `qa-report-${group}-${weeks}w.${format}` });
      document.body.append(a); a.click(); a.remove();
      say(`${format.toUpperCase()} report downloaded.`);
    } catch (err) { say(err.message); }
  }

  $("report-form").onsubmit = (e) => { e.preventDefault(); loadReport().catch((err) => say(err.message)); };
  $("csv").onclick = () => download("csv");
  $("pdf").onclick = () => download("pdf");
  $("login").onsubmit = async (e) => {
    e.preventDefault();
    const res = await fetch("/v1/agent/login", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: $("username").value, password: $("password").value }) });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) { $("login-error").textContent = body.detail || "sign-in failed"; return; }
    auth = { token: body.token, staff: body.agent };
    sessionStorage.setItem(KEY, JSON.stringify(auth));
    start();
  };
  $("logout").onclick = logout;
  if (auth) start();
})();
