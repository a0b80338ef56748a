// Agent console: REST for actions, a websocket for live queue and customer messages.
(function () {
  const $ = (id) => document.getElementById(id);
  let token = sessionStorage.getItem("agent_token"), me = JSON.parse(sessionStorage.getItem("agent") || "null");
  let current = null, ws = null, canned = [];

  async function api(path, opts = {}) {
    const res = await fetch(path, { ...opts, headers: { "content-type": "application/json", authorization: "Bearer " + token, ...(opts.headers || {}) } });
    if (res.status === 401) { logout(); throw new Error("login required"); }
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(typeof body.detail === "string" ? body.detail : "request failed (" + res.status + ")");
    return body;
  }
  function logout() {  // ends the login on the server too (POST /v1/agent/logout), then forgets it here
    if (token) fetch("/v1/agent/logout", { method: "POST", headers: { authorization: "Bearer " + token } }).catch(() => {});
    token = null; sessionStorage.clear(); if (ws) ws.close();
    $("console").hidden = true; $("login-view").hidden = false; $("logout").hidden = true; $("who").textContent = "";
  }
  async function start() {
    $("login-view").hidden = true; $("console").hidden = false; $("logout").hidden = false;
    $("who").textContent = me.display_name;
    canned = await api("/v1/agent/canned");
    await refreshQueue();
    connect();
    if (current) openTicket(current.id);
  }
  function connect() {
    // the token goes in the first frame, never in the URL (URLs are logged)
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/v1/agent/ws");
    ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token: token }));
    ws.onmessage = (ev) => {
      const f = JSON.parse(ev.data);
      if (f.type.startsWith("ticket_")) refreshQueue();
      if (f.type === "customer_message" && current && f.ticket_id === current.id) appendLine("user", f.text);
    };
    // 4401: logged out elsewhere, disabled or expired: back to the sign-in form; other drops: reconnect
    ws.onclose = (ev) => { if (ev.code === 4401) { token = null; logout(); } else if (token) setTimeout(connect, 1000); };
  }
  const mins = (s) => (s < 60 ? Math.round(s) + " s" : Math.round(s / 60) + " min");
  async function refreshQueue() {
    const tickets = await api("/v1/agent/tickets");
    $("count").textContent = "(" + tickets.length + ")";
    $("queue").replaceChildren(...tickets.map((t) => {
      const li = document.createElement("li");
      li.dataset.id = t.id;
      li.className = current && current.id === t.id ? "active" : "";
      li.innerHTML = "<div></div><div class='sub'></div>";
      li.firstChild.textContent = "#" + t.id + " · " + t.reason;
      li.lastChild.textContent = t.channel + " · " + (t.sentiment || "neutral") + " · " +
        (t.status === "queued" ? "waiting " + mins(t.wait_s) : "with " + t.claimed_by_name);
      li.onclick = () => openTicket(t.id);
      return li;
    }));
  }
  function appendLine(role, text) {
    const li = document.createElement("li");
    li.className = role; li.textContent = text;
    const list = document.querySelector("#ticket .transcript");
    if (list) { list.appendChild(li); list.scrollTop = list.scrollHeight; }
  }
  async function openTicket(id) {
    const t = await api("/v1/agent/tickets/" + id);
    current = t;
    const view = $("ticket-tpl").content.cloneNode(true);
    view.querySelector(".title").textContent = "Ticket #" + t.id + " — " + t.reason;
    view.querySelector(".meta").textContent = t.channel + " · sentiment " + (t.sentiment || "neutral") + " · " + t.status +
      (t.claimed_by_name ? " (" + t.claimed_by_name + ")" : "") + (t.branch_id ? " · branch " + t.branch_id : "");
    view.querySelector(".summary").textContent = t.summary;
    const mine = t.status === "claimed" && t.claimed_by === me.id;
    view.querySelector(".claim").disabled = t.status !== "queued";
    ["handback", "close"].forEach((c) => (view.querySelector("." + c).disabled = !mine));
    view.querySelectorAll(".reply .text, .reply button").forEach((el) => (el.disabled = !mine));
    const sel = view.querySelector(".canned");
    canned.forEach((c) => { const o = document.createElement("option"); o.value = o.textContent = c; sel.appendChild(o); });
    $("ticket").replaceChildren(view);
    t.messages.forEach((m) => appendLine(m.role, m.text));
    const root = $("ticket");
    root.querySelector(".claim").onclick = () => act(() => api("/v1/agent/tickets/" + id + "/claim", { method: "POST" }));
    root.querySelector(".handback").onclick = () => act(() => api("/v1/agent/tickets/" + id + "/handback", { method: "POST" }));
    root.querySelector(".close").onclick = () => act(() => api("/v1/agent/tickets/" + id + "/close",
      { method: "POST", body: JSON.stringify({ resolution: root.querySelector(".resolution").value }) }));
    root.querySelector(".canned").onchange = (e) => { root.querySelector(".reply .text").value = e.target.value; };
    root.querySelector(".reply").onsubmit = async (e) => {
      e.preventDefault();
      const input = root.querySelector(".reply .text"), text = input.value.trim();
      if (!text) return;
      await api("/v1/agent/tickets/" + id + "/messages", { method: "POST", body: JSON.stringify({ text }) });
      appendLine("agent", text); input.value = "";
    };
    refreshQueue();
  }
  async function act(fn) {
    try { await fn(); } catch (err) { alert(err.message); }
    if (current) openTicket(current.id);
  }
  $("login").onsubmit = async (e) => {
    e.preventDefault();
    const res = await fetch("/v1/agent/login", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: $("username").value, password: $("password").value }) });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) { $("login-error").textContent = body.detail || "sign-in failed"; return; }
    token = body.token; me = body.agent;
    sessionStorage.setItem("agent_token", token); sessionStorage.setItem("agent", JSON.stringify(me));
    start();
  };
  $("logout").onclick = logout;
  if (token && me) start().catch(logout);
})();
