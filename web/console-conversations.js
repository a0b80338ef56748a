/* /console/conversations?ids=a,b,…&title=…: the redacted transcripts behind a dashboard figure. */
(function () {
  "use strict";
  var C = window.Console, el = C.el;
  var WHO = { user: "Customer", assistant: "Assistant", agent: "Agent", system: "Note" };

  function transcript(c) {
    var meta = [c.channel, "started " + c.started + " UTC", "status " + c.status];
    if (c.csat) meta.push("CSAT " + c.csat.score + "/5" + (c.csat.comment ? " (\u201c" + c.csat.comment + "\u201d)" : ""));
    c.tickets.forEach(function (t) {
      meta.push("hand-off: " + t.reason + " (" + t.status + (t.resolution ? ", " + t.resolution : "") + ")");
    });
    var list = el("ol", { "aria-label": "Messages" });
    c.messages.forEach(function (m) {
      var li = el("li", { cls: m.role }, el("span", { cls: "who", text: (WHO[m.role] || m.role) + " · " + (m.at || "") }), m.text);
      if (m.path) li.appendChild(el("span", { cls: "tag", text: m.path }));
      if (m.intent && m.role === "user") li.appendChild(el("span", { cls: "tag", text: m.intent + (m.confidence != null ? " " + m.confidence : "") }));
      if (m.flow) li.appendChild(el("span", { cls: "tag", text: "flow " + m.flow + (m.route ? ": " + m.route : "") }));
      if (m.feedback) li.appendChild(el("span", { cls: "tag", text: m.feedback > 0 ? "thumbs up" : "thumbs down" }));
      if (m.sources && m.sources.length) li.appendChild(el("span", { cls: "tag", text: "sources: " + m.sources.join(", ") }));
      list.appendChild(li);
    });
    return el("article", { cls: "card convo", "data-conversation": c.id, "aria-labelledby": "c-" + c.id },
      el("h2", { id: "c-" + c.id, text: "Conversation " + c.id }), el("p", { cls: "meta", text: meta.join(" · ") }), list);
  }

  C.requireStaff(["supervisor"], function () {
    var q = new URLSearchParams(location.search);
    var ids = (q.get("ids") || "").split(",").filter(Boolean).slice(0, 200);
    var status = document.getElementById("status");
    document.getElementById("view").hidden = false;
    if (q.get("title")) document.getElementById("title").textContent = "Conversations behind " + q.get("title");
    var back = q.get("back");
    if (back && back.indexOf("/console/") === 0) document.getElementById("back").href = back;
    if (!ids.length) { status.textContent = "No conversations were given."; return; }
    status.textContent = "Loading " + ids.length + " conversations…";
    C.api("/v1/analytics/conversations?ids=" + encodeURIComponent(ids.join(","))).then(function (res) {
      if (!res.ok) throw new Error(String(res.status));
      return res.json();
    }).then(function (body) {
      var list = document.getElementById("list");
      list.replaceChildren.apply(list, body.conversations.map(transcript));
      status.textContent = body.conversations.length + " conversations" + (q.get("more") === "1" ? " (the most recent; there are more)" : "") +
        ". Text is shown as stored: card numbers, codes and other personal data are masked.";
    }).catch(function () { status.textContent = "Could not load the conversations."; });
  });
})();
