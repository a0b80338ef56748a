/* /console/analytics: filters, charts (vendored chart.js) and tables of every figure; any bar, card or
 * table cell opens the conversations behind it (/console/conversations). Needs the supervisor role. */
(function () {
  "use strict";
  var C = window.Console, el = C.el;
  var ORDER = ["series", "channels", "handoff_reasons", "routes", "intents_top", "intents_rising", "unanswered_summary",
    "unanswered", "flows", "csat", "csat_channels", "thumbs_down_docs", "agents", "queue", "gaps"];
  var PALETTE = ["#3b5bdb", "#d9480f", "#2b8a3e", "#862e9c", "#c2255c", "#0b7285", "#5c940d", "#e67700"];
  var charts = {};
  var form = document.getElementById("filters");
  var statusEl = document.getElementById("status");

  function iso(d) { return d.toISOString().slice(0, 10); }
  function defaults() {
    var end = new Date(), start = new Date(Date.now() - 29 * 86400000);
    return { start: iso(start), end: iso(end), channel: "", intent: "", granularity: "day" };
  }
  function fromUrl() {
    var q = new URLSearchParams(location.search), f = defaults();
    Object.keys(f).forEach(function (k) { if (q.get(k) !== null) f[k] = q.get(k); });
    return f;
  }
  function current() {
    var f = {};
    ["start", "end", "channel", "intent", "granularity"].forEach(function (k) { f[k] = form.elements[k].value.trim(); });
    return f;
  }
  function query(f, extra) {
    var q = new URLSearchParams();
    Object.keys(f).forEach(function (k) { if (f[k]) q.set(k, f[k]); });
    Object.keys(extra || {}).forEach(function (k) { q.set(k, extra[k]); });
    return q.toString();
  }

  function format(value, kind) {
    if (value === null || value === undefined) return "–";
    if (kind === "rate") return (100 * value).toFixed(1) + " %";
    if (kind === "seconds") return value >= 60 ? Math.floor(value / 60) + " min " + Math.round(value % 60) + " s" : value.toFixed(1) + " s";
    if (kind === "score") return Number(value).toFixed(2);
    if (kind === "number" && typeof value === "number" && !Number.isInteger(value)) return value <= 1 ? (100 * value).toFixed(1) + " %" : value.toFixed(2);
    if (typeof value === "number") return value.toLocaleString("en-US");
    return String(value);
  }

  // ---- the conversations behind a cell
  function drill(table, row, column) {
    var f = current();
    var label = table.title + ": " + table.rows[row][0] + " · " + (table.columns.find(function (c) { return c.name === column; }) || {}).label;
    statusEl.textContent = "Finding the conversations behind " + label + "…";
    C.api("/v1/analytics/drill?" + query(f, { figure: table.id, key: table.keys[row], column: column })).then(function (res) {
      if (!res.ok) throw new Error("drill " + res.status);
      return res.json();
    }).then(function (body) {
      if (!body.conversation_ids.length) { statusEl.textContent = "No conversations behind " + label + "."; return; }
      location.href = "/console/conversations?" + new URLSearchParams({ ids: body.conversation_ids.join(","), title: label,
        more: body.more ? "1" : "0", back: location.pathname + location.search }).toString();
    }).catch(function () { statusEl.textContent = "Could not load the conversations behind " + label + "."; });
  }

  function drillButton(table, row, column, text) {
    return el("button", { type: "button", cls: "cell-link", "data-figure": table.id, "data-key": table.keys[row],
      "data-column": column, "aria-label": text + ": open the conversations (" + table.rows[row][0] + ", " + column + ")",
      onclick: function () { drill(table, row, column); } }, text);
  }

  // ---- rendering
  function renderKpis(table) {
    var box = document.getElementById("kpis");
    box.replaceChildren();
    table.rows.forEach(function (row, i) {
      var card = el("div", { cls: "kpi card" }, el("span", { cls: "kpi-label", text: row[0] }),
        drillButton(table, i, "value", format(row[1], "number")));
      box.appendChild(card);
    });
    box.appendChild(el("div", { cls: "kpi card" }, el("span", { cls: "kpi-label", text: "Overview" }),
      el("button", { type: "button", cls: "csv quiet", onclick: function () { csv(table); } }, "Download CSV")));
  }

  function renderTable(node, table) {
    node.querySelector("caption").textContent = table.title;
    var head = el("tr");
    table.columns.forEach(function (c) { head.appendChild(el("th", { scope: "col", cls: c.kind === "text" ? "" : "num" }, c.label)); });
    node.querySelector("thead").replaceChildren(head);
    var body = node.querySelector("tbody");
    body.replaceChildren();
    table.rows.forEach(function (row, r) {
      var tr = el("tr");
      row.forEach(function (v, k) {
        var col = table.columns[k], text = format(v, col.kind);
        var cell = el(k === 0 ? "th" : "td", { scope: k === 0 ? "row" : null, cls: col.kind === "text" ? "" : "num" });
        cell.appendChild(table.drill.indexOf(col.name) >= 0 && v !== null && v !== 0 ? drillButton(table, r, col.name, text) : document.createTextNode(text));
        tr.appendChild(cell);
      });
      body.appendChild(tr);
    });
    if (!table.rows.length) body.appendChild(el("tr", null, el("td", { colspan: String(table.columns.length), cls: "empty" }, "Nothing in this period.")));
  }

  function renderChart(node, table) {
    var box = node.querySelector(".chart-box");
    if (charts[table.id]) { charts[table.id].destroy(); delete charts[table.id]; }
    if (table.chart.type === "none" || !table.rows.length || !window.Chart) { box.hidden = true; return; }
    box.hidden = false;
    var idx = function (name) { return table.columns.findIndex(function (c) { return c.name === name; }); };
    var labelAt = idx(table.chart.label);
    var series = table.chart.series.filter(function (s) { return idx(s) >= 0; });
    var canvas = node.querySelector("canvas");
    canvas.setAttribute("aria-label", table.title + " chart; the table below has the same numbers, and its cells open the conversations.");
    charts[table.id] = new window.Chart(canvas, {
      type: table.chart.type,
      data: {
        labels: table.rows.map(function (r) { return String(r[labelAt]).slice(0, 40); }),
        datasets: series.map(function (s, i) {
          return { label: table.columns[idx(s)].label, data: table.rows.map(function (r) { return r[idx(s)]; }),
            backgroundColor: PALETTE[i % PALETTE.length], borderColor: PALETTE[i % PALETTE.length], _column: s };
        }),
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: { x: { stacked: table.chart.stacked }, y: { stacked: table.chart.stacked, beginAtZero: true } },
        onClick: function (_evt, found) {
          if (!found.length) return;
          // a bar of a count opens its conversations; a bar of a time or a mean, those of its row
          var column = this.data.datasets[found[0].datasetIndex]._column;
          if (table.drill.indexOf(column) < 0) column = table.drill[0];
          if (column) drill(table, found[0].index, column);
        },
        onHover: function (evt, found) { evt.native.target.style.cursor = found.length ? "pointer" : "default"; },
      },
    });
  }

  function csv(table) {
    C.api("/v1/analytics/figures/" + table.id + "/csv?" + query(current())).then(function (res) {
      if (!res.ok) throw new Error(String(res.status));
      return res.blob();
    }).then(function (blob) {
      var a = el("a", { href: URL.createObjectURL(blob), download: table.id + ".csv" });
      document.body.appendChild(a);
      a.click();
      setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    }).catch(function () { statusEl.textContent = "Could not download " + table.title + "."; });
  }

  function section(id) {
    var node = document.getElementById("fig-" + id);
    if (node) return node;
    node = document.getElementById("figure-tpl").content.firstElementChild.cloneNode(true);
    node.id = "fig-" + id;
    node.setAttribute("aria-labelledby", "fig-" + id + "-title");
    node.querySelector("h2").id = "fig-" + id + "-title";
    if (id === "unanswered" || id === "gaps" || id === "series" || id === "agents" || id === "queue") node.classList.add("wide");
    document.getElementById("figures").appendChild(node);
    return node;
  }

  function render(table) {
    if (table.id === "overview") { renderKpis(table); return; }
    var node = section(table.id);
    node.querySelector("h2").textContent = table.title;
    node.querySelector(".note").textContent = table.note || "";
    node.querySelector(".csv").onclick = function () { csv(table); };
    node.querySelector(".csv").setAttribute("aria-label", "Download " + table.title + " as CSV");
    renderChart(node, table);
    renderTable(node, table);
    if (table.id === "intents_top") {
      document.getElementById("intent-list").replaceChildren.apply(document.getElementById("intent-list"),
        table.rows.map(function (r) { return el("option", { value: r[0] }); }));
    }
  }

  function load() {
    var f = current(), t0 = performance.now(), failed = 0;
    statusEl.textContent = "Loading…";
    ORDER.forEach(section);
    var jobs = ["overview"].concat(ORDER).map(function (id) {
      return C.api("/v1/analytics/figures/" + id + "?" + query(f)).then(function (res) {
        if (res.status === 404 && id === "gaps") { section(id).remove(); return; }
        if (!res.ok) return res.json().then(function (b) { throw new Error(typeof b.detail === "string" ? b.detail : res.status); });
        return res.json().then(render);
      }).catch(function (err) { failed += 1; statusEl.textContent = "Could not load " + id + ": " + err.message; });
    });
    Promise.all(jobs).then(function () {
      if (!failed) statusEl.textContent = "Figures for " + f.start + " to " + f.end + " loaded in " + Math.round(performance.now() - t0) + " ms.";
      document.getElementById("dashboard").setAttribute("data-loaded", "1");
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    history.replaceState(null, "", location.pathname + "?" + query(current()));
    document.getElementById("dashboard").removeAttribute("data-loaded");
    load();
  });

  C.requireStaff(["supervisor"], function () {
    var f = fromUrl();
    Object.keys(f).forEach(function (k) { form.elements[k].value = f[k]; });
    document.getElementById("dashboard").hidden = false;
    load();
  });
})();
