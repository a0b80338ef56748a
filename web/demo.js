// Minimal demo client of /v1/chat/ws: streamed deltas, then the final (authoritative) reply.
(function () {
  const log = document.getElementById("log"), form = document.getElementById("form");
  const input = document.getElementById("msg"), chips = document.getElementById("chips");
  let ws, conversationId = sessionStorage.getItem("conversation_id"), current = null;

  function bubble(cls, text) {
    const el = document.createElement("div");
    el.className = "msg " + cls;
    el.textContent = text;
    log.appendChild(el);
    log.scrollTop = log.scrollHeight;
    return el;
  }
  function showChips(list) {
    const waiting = list.includes("Cancel and keep chatting with the assistant");
    list = waiting ? list : [...new Set([...list, "Talk to an agent"])]; // a person is always one click away
    chips.replaceChildren(...list.map((s) => {
      const b = document.createElement("button");
      b.type = "button"; b.textContent = s; b.onclick = () => (ACTIONS[s] ? ACTIONS[s]() : send(s));
      return b;
    }));
  }
  async function handoff(method) {
    if (!conversationId) return bubble("bot system", "Ask a question first, then I can connect you.");
    const res = await fetch("/v1/conversations/" + conversationId + "/handoff", { method });
    const body = await res.json();
    bubble("bot system", method === "POST" ? "Connecting you to an agent… (ticket #" + body.ticket_id + ")" : "You left the queue.");
    showChips(method === "POST" ? ["Cancel and keep chatting with the assistant"] : []);
  }
  const ACTIONS = {
    "Talk to an agent": () => handoff("POST"),
    "Cancel and keep chatting with the assistant": () => handoff("DELETE"),
  };
  function connect() {
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/v1/chat/ws");
    ws.onmessage = (ev) => {
      const f = JSON.parse(ev.data);
      if (f.type === "start") { conversationId = f.conversation_id; sessionStorage.setItem("conversation_id", conversationId); current = bubble("bot", ""); }
      else if (f.type === "delta" && current) { current.textContent += f.text; log.scrollTop = log.scrollHeight; }
      else if (f.type === "reply") {
        current = current || bubble("bot", "");
        current.textContent = f.reply;
        if (f.citations.length) {
          const d = document.createElement("details"), s = document.createElement("summary");
          s.textContent = "Sources (" + f.citations.length + ")";
          d.appendChild(s);
          f.citations.forEach((c) => { const p = document.createElement("p"); p.textContent = c.title + " — " + c.snippet; d.appendChild(p); });
          current.appendChild(d);
        }
        showChips(f.suggestions || []);
        current = null;
      } else if (f.type === "agent_message") { bubble("bot agent", f.agent + ": " + f.text); }
      else if (f.type === "agent_joined" || f.type === "handoff_ended") { bubble("bot system", f.text); }
      else if (f.type === "error") { if (f.status === 404) { conversationId = null; sessionStorage.removeItem("conversation_id"); } bubble("bot", "⚠ " + (typeof f.detail === "string" ? f.detail : "Please check your message.")); }
    };
    ws.onopen = () => { if (conversationId) ws.send(JSON.stringify({ type: "resume", conversation_id: conversationId })); };
    ws.onclose = () => setTimeout(connect, 1000);
  }
  function send(text) {
    text = text.trim();
    if (!text || !ws || ws.readyState !== 1) return;
    bubble("user", text);
    const frame = { message: text, channel: "web" };
    if (conversationId) frame.conversation_id = conversationId;
    ws.send(JSON.stringify(frame));
    input.value = "";
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); send(input.value); });
  showChips(["What is the wire cut-off time?", "How do I report a lost card?", "What is your routing number?"]);
  connect();
})();
