/*! Bank assistant chat widget. Plain JS, no build step, no dependencies.
 *
 * Embed with one tag:
 *   <script src="https://bank.example/static/widget.js" defer
 *           data-api="https://bank.example"      (default: this script's own origin)
 *           data-title="Larkspur Assistant"      (panel title)
 *           data-theme="auto|light|dark"         (default auto: follows prefers-color-scheme)
 *           data-greeting="Hi! …"                (first bubble, not stored)
 *           data-accent="#4b3f9e"                (brand colour)
 *           data-lang="es"                       (language of the texts; default: the page's <html lang>, then en)
 *           data-position="right|left"></script>
 *
 * Styles live in a shadow root, so the host page's CSS cannot reach in and ours cannot leak out.
 * Its texts come from the server's message catalogue (GET /v1/messages?lang=..., docs/i18n.md); it shows
 * itself once they have arrived.
 * Frames follow the streaming contract in docs/chat-api.md (WS /v1/chat/ws).
 * Cross-origin hosts need the API to allow their origin (CORS) for the REST calls.
 * Page API: window.BankChatWidget.open() / .close() / .toggle() / .reset() / .conversationId
 */
(function () {
  "use strict";
  if (window.BankChatWidget) return; // embedded twice: keep the first

  var script = document.currentScript;
  var data = (script && script.dataset) || {};
  var scriptOrigin = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var API = String(data.api || scriptOrigin).replace(/\/+$/, "");
  var WS_URL = API.replace(/^http/, "ws") + "/v1/chat/ws";
  var THEME = /^(light|dark)$/.test(data.theme || "") ? data.theme : "auto";
  var LANG = (function (tag) { // "es", "pt-BR"; the server falls back to the primary subtag, then we to "en"
    var parts = String(tag).split(/[-_]/);
    return parts[0].toLowerCase() + (parts[1] && parts[1].length === 2 ? "-" + parts[1].toUpperCase() : "");
  })(data.lang || document.documentElement.lang || "en");
  var M = {}; // key -> text, from GET /v1/messages; TITLE .. CANCEL are set from it before anything shows
  var TITLE = "", GREETING = "", TALK = "", CANCEL = "";
  var KEY = "bank-chat:" + API; // per API origin
  var MAX_CHARS = 4000;

  // ---------- storage (may throw in sandboxed frames / private modes) ----------
  function storage(kind) { try { return window[kind]; } catch (e) { return null; } }
  function load(kind, k) { try { return storage(kind).getItem(KEY + ":" + k); } catch (e) { return null; } }
  function save(kind, k, v) {
    try { if (v == null) storage(kind).removeItem(KEY + ":" + k); else storage(kind).setItem(KEY + ":" + k, v); } catch (e) { /* ignore */ }
  }

  // ---------- texts ----------
  // T("widget.sources", { count: 2 }) -> "Sources (2)": the catalogue's text with its {fields} filled in.
  function T(key, vars) {
    var text = typeof M[key] === "string" ? M[key] : key;
    return text.replace(/\{(\w+)\}/g, function (field, name) { return vars && name in vars ? String(vars[name]) : field; });
  }
  // The texts in LANG (English for a language the server lacks); offline or starting: try again, backing off.
  function loadTexts(lang, attempt) {
    return fetch(API + "/v1/messages?lang=" + encodeURIComponent(lang), { headers: { accept: "application/json" } })
      .then(function (res) {
        if ((res.status === 404 || res.status === 422) && lang !== "en") return loadTexts("en", attempt);
        if (!res.ok) throw new Error(String(res.status));
        return res.json().then(function (body) { return body.messages || {}; });
      }).catch(function () {
        return new Promise(function (resolve) { setTimeout(resolve, Math.min(30000, 1000 * Math.pow(2, attempt))); })
          .then(function () { return loadTexts(lang, attempt + 1); });
      });
  }

  // ---------- styles ----------
  var DARK = "--accent:#8f84e8;--accent-fg:#13111d;--accent-text:#b3abff;--bg:#1a1826;--fg:#ecebf5;--muted:#a9abbb;" +
    "--line:#34314a;--bot:#272439;--field:#211f30;--agent-bg:#16352a;--agent-fg:#c9f1da;--agent-line:#4fb07f;" +
    "--warn-bg:#3d3215;--warn-fg:#f6dd9a;--focus:#9ab8ff;--head-bg:#2c2752;--head-fg:#f1efff;color-scheme:dark;";
  var CSS = [
    ":host{all:initial !important;}",
    ".root{all:initial;display:block;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;",
    "color:var(--fg);-webkit-font-smoothing:antialiased;text-align:left;",
    "--accent:#4b3f9e;--accent-fg:#fff;--accent-text:#4b3f9e;--bg:#fff;--fg:#1c2230;--muted:#5b6172;--line:#e2e4ec;",
    "--bot:#f2f1f8;--field:#fff;--agent-bg:#e5f4ec;--agent-fg:#13462b;--agent-line:#2f7a55;--warn-bg:#fff4d6;--warn-fg:#5c4400;",
    "--focus:#1a5fd0;--head-bg:var(--accent);--head-fg:var(--accent-fg);color-scheme:light;}",
    ".root[data-theme=dark]{" + DARK + "}",
    "@media (prefers-color-scheme:dark){.root[data-theme=auto]{" + DARK + "}}",
    ".root *,.root *::before,.root *::after{box-sizing:border-box;}",
    ".root [hidden]{display:none !important;}",
    ".sr-only{position:absolute !important;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0;}",
    "button{font:inherit;color:inherit;margin:0;}",
    ".root :focus-visible{outline:3px solid var(--focus);outline-offset:2px;}",
    // launcher
    ".launcher{position:fixed;bottom:20px;right:20px;width:60px;height:60px;border-radius:50%;border:0;padding:0;",
    "background:var(--accent);color:var(--accent-fg);cursor:pointer;display:grid;place-items:center;z-index:2147483000;",
    "box-shadow:0 0 0 2px rgba(255,255,255,.9),0 6px 20px rgba(16,24,40,.28);transition:transform .15s ease;}",
    ".launcher:hover{transform:scale(1.05);}",
    ".launcher svg{width:28px;height:28px;}",
    ".launcher .badge{position:absolute;top:0;right:0;min-width:20px;height:20px;padding:0 6px;border-radius:10px;",
    "background:#c5221f;color:#fff;font-size:12px;font-weight:700;line-height:20px;text-align:center;}",
    // panel
    ".panel{position:fixed;bottom:92px;right:20px;width:384px;height:min(640px,calc(100vh - 112px));min-height:320px;",
    "display:flex;flex-direction:column;background:var(--bg);color:var(--fg);border:1px solid var(--line);",
    "border-radius:16px;overflow:hidden;z-index:2147483000;box-shadow:0 16px 48px rgba(16,24,40,.28);",
    "animation:pop .16s ease-out;}",
    "@keyframes pop{from{opacity:0;transform:translateY(8px) scale(.98);}to{opacity:1;transform:none;}}",
    ".root.left .launcher{right:auto;left:20px;}.root.left .panel{right:auto;left:20px;}",
    ".head{display:flex;align-items:center;gap:10px;padding:12px 10px 12px 16px;background:var(--head-bg);color:var(--head-fg);flex:none;}",
    ".head :focus-visible{outline-color:currentColor;}",
    ".avatar{width:36px;height:36px;border-radius:50%;background:rgba(255,255,255,.2);display:grid;place-items:center;flex:none;}",
    ".avatar svg{width:20px;height:20px;}",
    ".titles{flex:1;min-width:0;}",
    ".title{margin:0;font-size:16px;font-weight:650;line-height:1.25;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;}",
    ".sub{display:flex;align-items:center;gap:6px;font-size:12.5px;opacity:.9;}",
    ".dot{width:8px;height:8px;border-radius:50%;background:#3ccf7a;flex:none;}.dot.off{background:#f2b233;}",
    ".icon-btn{width:36px;height:36px;border-radius:8px;border:0;background:transparent;cursor:pointer;display:grid;place-items:center;flex:none;}",
    ".icon-btn:hover{background:rgba(255,255,255,.16);}",
    ".icon-btn svg{width:20px;height:20px;}",
    ".statusbar{display:flex;align-items:center;gap:8px 10px;flex-wrap:wrap;padding:9px 16px;font-size:13.5px;",
    "background:var(--agent-bg);color:var(--agent-fg);border-bottom:1px solid var(--line);flex:none;}",
    ".statusbar .status-text{flex:1;min-width:150px;font-weight:600;display:flex;align-items:center;gap:8px;}",
    ".spin{width:14px;height:14px;border-radius:50%;border:2px solid currentColor;border-right-color:transparent;animation:spin 1s linear infinite;flex:none;}",
    "@keyframes spin{to{transform:rotate(360deg);}}",
    ".link-btn{border:0;background:transparent;padding:2px 0;cursor:pointer;text-decoration:underline;font-size:13px;color:inherit;text-align:left;}",
    ".conn{padding:6px 16px;font-size:13px;background:var(--warn-bg);color:var(--warn-fg);flex:none;}",
    // thread
    ".scroll{flex:1;overflow-y:auto;padding:16px 14px 8px;overscroll-behavior:contain;}",
    ".thread{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:12px;}",
    ".msg{display:flex;flex-direction:column;max-width:86%;}",
    ".msg-user{align-self:flex-end;align-items:flex-end;}",
    ".msg-bot,.msg-agent{align-self:flex-start;align-items:flex-start;}",
    ".bubble{padding:9px 13px;border-radius:16px;white-space:pre-wrap;overflow-wrap:anywhere;max-width:100%;}",
    ".msg-user .bubble{background:var(--accent);color:var(--accent-fg);border-bottom-right-radius:4px;}",
    ".msg-bot .bubble{background:var(--bot);border-bottom-left-radius:4px;}",
    ".msg-agent .bubble{background:var(--agent-bg);color:var(--agent-fg);border-left:3px solid var(--agent-line);border-bottom-left-radius:4px;}",
    ".who{font-size:12px;font-weight:600;color:var(--muted);margin:0 0 3px 4px;}",
    ".msg-agent .who{color:var(--agent-line);}",
    ".state{font-size:12px;color:var(--muted);margin-top:3px;}",
    ".notice{align-self:center;max-width:92%;text-align:center;font-size:12.5px;color:var(--muted);padding:2px 8px;}",
    ".sources{margin-top:8px;padding-top:6px;border-top:1px solid var(--line);font-size:13px;white-space:normal;}",
    ".sources summary{cursor:pointer;font-weight:600;color:var(--accent-text);border-radius:4px;}",
    ".sources ol{margin:6px 0 0;padding-left:20px;}",
    ".sources li{margin:0 0 6px;}",
    ".src-title{font-weight:600;}.src-section{color:var(--muted);}",
    ".src-snippet{margin:2px 0 0;color:var(--muted);}",
    ".feedback{display:flex;align-items:center;gap:2px;margin:3px 0 0 2px;font-size:12px;color:var(--muted);}",
    ".feedback button{width:30px;height:30px;border-radius:6px;border:1px solid transparent;background:transparent;",
    "color:var(--muted);cursor:pointer;display:grid;place-items:center;padding:0;}",
    ".feedback button:hover{background:var(--bot);}",
    ".feedback button[aria-pressed=true]{color:var(--accent-text);background:var(--bot);border-color:var(--line);}",
    ".feedback svg{width:16px;height:16px;}",
    ".feedback .thanks{margin-left:4px;}",
    ".typing .bubble{display:flex;gap:5px;padding:13px 15px;}",
    ".typing i{width:7px;height:7px;border-radius:50%;background:var(--muted);animation:blink 1.2s infinite ease-in-out;}",
    ".typing i:nth-child(2){animation-delay:.15s;}.typing i:nth-child(3){animation-delay:.3s;}",
    "@keyframes blink{0%,80%,100%{opacity:.3;transform:none;}40%{opacity:1;transform:translateY(-3px);}}",
    // chips, composer, footer
    ".chips{display:flex;flex-wrap:wrap;gap:6px;padding:4px 14px 10px;flex:none;max-height:40%;overflow-y:auto;}",
    ".chip{border:1px solid var(--accent-text);background:transparent;color:var(--accent-text);border-radius:999px;",
    "padding:6px 12px;font-size:13px;line-height:1.3;cursor:pointer;text-align:left;}",
    ".chip:hover{background:var(--bot);}",
    ".verified{margin-left:8px;padding:0 6px;border-radius:999px;border:1px solid currentColor;font-size:11px;}",
    ".verified[hidden]{display:none;}",
    ".composer{display:flex;align-items:flex-end;gap:8px;padding:10px 12px 6px;border-top:1px solid var(--line);flex:none;}",
    ".composer textarea{flex:1;min-width:0;resize:none;height:42px;max-height:120px;margin:0;padding:10px 12px;",
    "font:inherit;line-height:1.4;color:var(--fg);background:var(--field);border:1px solid var(--line);border-radius:12px;}",
    ".composer textarea::placeholder{color:var(--muted);opacity:1;}",
    ".send{width:42px;height:42px;border-radius:50%;border:0;background:var(--accent);color:var(--accent-fg);cursor:pointer;",
    "display:grid;place-items:center;flex:none;padding:0;}",
    ".send svg{width:20px;height:20px;}",
    ".foot{display:flex;align-items:center;justify-content:space-between;gap:8px;padding:2px 12px 10px;font-size:11.5px;color:var(--muted);flex:none;}",
    ".agent-btn{display:inline-flex;align-items:center;gap:6px;border:1px solid var(--line);background:transparent;",
    "color:var(--accent-text);border-radius:999px;padding:5px 11px;font-size:13px;font-weight:600;cursor:pointer;white-space:nowrap;}",
    ".agent-btn:hover{background:var(--bot);}",
    ".agent-btn svg{width:16px;height:16px;}",
    ".agent-btn:disabled{opacity:.6;cursor:default;}",
    ".foot .note{margin-left:auto;text-align:right;}",
    // end-of-conversation survey
    ".survey{align-self:stretch;border:1px solid var(--line);border-radius:12px;padding:10px 12px;background:var(--bot);}",
    ".survey fieldset{border:0;margin:0;padding:0;min-width:0;}",
    ".survey legend{font-weight:600;padding:0;margin:0 0 6px;}",
    ".survey .scale{display:flex;gap:6px;}",
    ".survey .scale label{flex:1;display:grid;place-items:center;border:1px solid var(--accent-text);border-radius:8px;",
    "padding:6px 0;cursor:pointer;color:var(--accent-text);font-weight:600;}",
    ".survey .scale input{position:absolute;opacity:0;width:1px;height:1px;}",
    ".survey .scale input:checked+span{color:var(--accent-fg);}",
    ".survey .scale label:has(input:checked){background:var(--accent);}",
    ".survey .scale label:has(input:focus-visible){outline:3px solid var(--focus);outline-offset:2px;}",
    ".survey .ends{display:flex;justify-content:space-between;font-size:12px;color:var(--muted);margin:3px 0 8px;}",
    ".survey input[type=text]{width:100%;font:inherit;font-size:14px;padding:6px 8px;",
    "color:var(--fg);background:var(--field);border:1px solid var(--line);border-radius:8px;margin:3px 0 8px;}",
    ".survey .actions{display:flex;gap:10px;align-items:center;}",
    ".survey .primary{border:0;border-radius:999px;background:var(--accent);color:var(--accent-fg);padding:6px 14px;",
    "font-weight:600;cursor:pointer;}",
    ".survey .msg-status{font-size:13px;margin:6px 0 0;}",
    "@media (max-width:600px){",
    ".panel{inset:0;width:auto;height:auto;min-height:0;border-radius:0;border:0;animation:none;}",
    ".root.open .launcher{display:none;}",
    ".launcher{bottom:16px;right:16px;}",
    ".msg{max-width:90%;}",
    ".foot{padding-bottom:max(10px,env(safe-area-inset-bottom));}",
    "}",
    "@media (prefers-reduced-motion:reduce){.panel,.typing i,.spin{animation:none;}.launcher{transition:none;}}",
  ].join("");

  var ICONS = {
    chat: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-4.8A8 8 0 1 1 21 12z"/></svg>',
    close: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18"/></svg>',
    send: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M5 12h13M12 5l7 7-7 7"/></svg>',
    person: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><circle cx="12" cy="8" r="4"/><path d="M4 21a8 8 0 0 1 16 0"/></svg>',
    bot: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><rect x="4" y="8" width="16" height="12" rx="3"/><path d="M12 4v4M9 14h.01M15 14h.01"/></svg>',
    up: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M7 10v11H4V10h3zM7 10l4-8a3 3 0 0 1 3 3v4h5.5a2 2 0 0 1 2 2.3l-1.4 8a2 2 0 0 1-2 1.7H7"/></svg>',
    down: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M17 14V3h3v11h-3zM17 14l-4 8a3 3 0 0 1-3-3v-4H4.5a2 2 0 0 1-2-2.3l1.4-8A2 2 0 0 1 5.9 3H17"/></svg>',
  };

  // ---------- DOM helpers ----------
  function h(tag, attrs) {
    var el = document.createElement(tag);
    for (var k in attrs || {}) {
      var v = attrs[k];
      if (v == null || v === false) continue;
      if (k === "text") el.textContent = v;
      else if (k === "html") el.innerHTML = v; // only our own constant icons
      else if (k === "cls") el.className = v;
      else if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (var i = 2; i < arguments.length; i++) if (arguments[i]) el.appendChild(arguments[i]);
    return el;
  }

  var host = document.createElement("bank-chat-widget");
  var shadow = host.attachShadow({ mode: "open" });
  try {
    var sheet = new CSSStyleSheet(); // not blocked by a strict style-src CSP, unlike a <style> element
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
  } catch (e) {
    shadow.appendChild(h("style", { text: CSS }));
  }

  var root = h("div", { cls: "root" + (data.position === "left" ? " left" : ""), "data-theme": THEME });
  if (data.accent && /^#[0-9a-f]{3,8}$/i.test(data.accent)) {
    root.style.setProperty("--accent", data.accent);
    root.style.setProperty("--accent-text", data.accent);
  }

  var badge = h("span", { cls: "badge", hidden: true, "aria-hidden": "true" });
  var launcher = h("button", { cls: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "bank-chat-panel",
    html: ICONS.chat, onclick: function () { toggle(); } });
  launcher.appendChild(badge);

  var titleEl = h("h2", { cls: "title", id: "bank-chat-title" });
  var connDot = h("span", { cls: "dot", "aria-hidden": "true" });
  var connText = h("span");
  // Shown once the bank has proven who the customer is (a reply says customer.verified).
  var verifiedEl = h("span", { cls: "verified", hidden: true });
  var closeBtn = h("button", { cls: "icon-btn", type: "button", html: ICONS.close,
    onclick: function () { close(); } });
  var head = h("div", { cls: "head" },
    h("div", { cls: "avatar", html: ICONS.bot }),
    h("div", { cls: "titles" }, titleEl, h("div", { cls: "sub" }, connDot, connText, verifiedEl)),
    closeBtn);

  var statusText = h("span", { cls: "status-text" });
  var cancelBtn = h("button", { cls: "link-btn", type: "button", hidden: true, onclick: function () { cancelAgent(); } });
  var statusBar = h("div", { cls: "statusbar", hidden: true }, statusText, cancelBtn);
  var connBar = h("div", { cls: "conn", hidden: true });

  var thread = h("ol", { cls: "thread" });
  var scroller = h("section", { cls: "scroll", tabindex: "0" }, thread);
  var chips = h("div", { cls: "chips", role: "group", hidden: true });

  var input = h("textarea", { id: "bank-chat-input", rows: "1", maxlength: String(MAX_CHARS), autocomplete: "off",
    enterkeyhint: "send" });
  var sendBtn = h("button", { cls: "send", type: "submit", html: ICONS.send });
  var form = h("form", { cls: "composer", onsubmit: function (e) { e.preventDefault(); submit(); } }, input, sendBtn);

  var talkBtn = h("button", { cls: "agent-btn", type: "button", html: ICONS.person, onclick: function () { requestAgent(); } });
  var endBtn = h("button", { cls: "link-btn end-btn", type: "button", hidden: true,
    onclick: function () { endChat(); } });
  var note = h("span", { cls: "note" });
  var foot = h("div", { cls: "foot" }, talkBtn, endBtn, note);

  var live = h("div", { cls: "sr-only", "aria-live": "polite", "aria-relevant": "additions" });
  var panel = h("div", { cls: "panel", id: "bank-chat-panel", role: "dialog", "aria-modal": "false",
    "aria-labelledby": "bank-chat-title", hidden: true },
    head, statusBar, connBar, scroller, chips, form, foot);
  root.addEventListener("keydown", function (e) { // Escape closes, from the panel or the launcher
    if (e.key === "Escape" && opened) { e.stopPropagation(); close(); }
  });
  root.appendChild(panel);
  root.appendChild(launcher);
  root.appendChild(live); // outside the panel: an agent's reply is announced even while it is closed
  shadow.appendChild(root);

  function applyTexts() {
    TITLE = data.title || T("widget.title");
    GREETING = data.greeting || T("widget.greeting");
    TALK = T("chip.talk_to_agent");
    CANCEL = T("chip.cancel_wait");
    launcher.setAttribute("aria-label", T("widget.open_chat", { title: TITLE }));
    titleEl.textContent = TITLE;
    connText.textContent = T("widget.assistant");
    verifiedEl.textContent = T("widget.signed_in");
    closeBtn.setAttribute("aria-label", T("widget.close_chat"));
    cancelBtn.textContent = CANCEL;
    connBar.textContent = T("widget.connection_lost");
    scroller.setAttribute("aria-label", T("widget.conversation"));
    chips.setAttribute("aria-label", T("widget.suggested"));
    input.setAttribute("placeholder", T("widget.placeholder"));
    input.setAttribute("aria-label", T("widget.your_message"));
    sendBtn.setAttribute("aria-label", T("widget.send"));
    talkBtn.appendChild(document.createTextNode(TALK));
    endBtn.textContent = T("widget.end_chat");
    note.textContent = T("widget.never_share");
  }
  var textsLoaded = loadTexts(LANG, 0).then(function (messages) { M = messages; applyTexts(); });

  // ---------- state ----------
  var cid = load("localStorage", "cid");
  var token = load("localStorage", "token"); // the conversation's session token (the customer's only credential)
  var status = "bot", agentName = "";
  var ws = null, ready = false, resuming = false, attempt = 0, retryTimer = null, everResumed = false;
  var queue = [], inflight = null, turn = null, typing = null, wantAgent = false;
  var opened = false, unread = 0, started = false, recommended = null, historyPromise = null, historyShown = false;
  var catchUps = 0;
  endBtn.hidden = !cid;

  function setCid(id, tok) {
    if (tok === undefined) tok = id && id === cid ? token : null;
    cid = id || null; token = cid ? tok || null : null;
    save("localStorage", "cid", cid); save("localStorage", "token", token);
    endBtn.hidden = !cid;
  }
  function authHeaders(extra) {
    var hd = Object.assign({ accept: "application/json" }, extra || {});
    if (token) hd.authorization = "Bearer " + token;
    return hd;
  }

  // ---------- rendering ----------
  function nearBottom() { return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80; }
  function scrollDown(force) {
    if (force || nearBottom()) requestAnimationFrame(function () { scroller.scrollTop = scroller.scrollHeight; });
  }
  function append(li, force) {
    var stick = force || nearBottom();
    var anchor = typing && typing.parentNode === thread ? typing : null;
    thread.insertBefore(li, anchor);
    scrollDown(stick);
    return li;
  }
  function reveal(el) { // scroll the thread (never the host page) so an expanded element is in view
    var r = el.getBoundingClientRect(), box = scroller.getBoundingClientRect();
    if (r.bottom > box.bottom) scroller.scrollTop += Math.min(r.bottom - box.bottom + 8, r.top - box.top);
  }
  function announce(text) {
    var p = h("p", { text: text });
    live.appendChild(p);
    setTimeout(function () { p.remove(); }, 15000);
  }
  function bump() {
    if (opened) return;
    unread += 1;
    badge.textContent = String(unread);
    badge.hidden = false;
    launcher.setAttribute("aria-label", T("widget.open_chat_unread", { title: TITLE, count: unread }));
  }

  function greetingItem() {
    return h("li", { cls: "msg msg-bot" }, h("span", { cls: "sr-only", text: T("widget.sr_assistant") }),
      h("div", { cls: "bubble", text: GREETING }));
  }
  function userItem(text) {
    return h("li", { cls: "msg msg-user" }, h("span", { cls: "sr-only", text: T("widget.sr_you") }),
      h("div", { cls: "bubble", text: text }), h("span", { cls: "state", hidden: true }));
  }
  function setPending(li, pending) {
    var st = li.querySelector(".state");
    st.textContent = pending ? T("widget.not_sent") : "";
    st.hidden = !pending;
  }
  function botItem() {
    var text = h("div", { cls: "text" });
    var li = h("li", { cls: "msg msg-bot" }, h("span", { cls: "sr-only", text: T("widget.sr_assistant") }),
      h("div", { cls: "bubble" }, text));
    return { li: li, text: text };
  }
  function agentItem(name, text) {
    return h("li", { cls: "msg msg-agent" }, h("span", { cls: "who", text: T("widget.agent_byline", { name: name || T("widget.agent") }) }),
      h("div", { cls: "bubble", text: text }));
  }
  function noticeItem(text) { return h("li", { cls: "notice", text: text }); }
  // The stored note "Ana joined the conversation." (handoff.agent_joined) names the agent: /^(.+) joined the conversation\.$/
  function joinedPattern() {
    var escape = function (s) { return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); };
    return new RegExp("^" + T("handoff.agent_joined").split("{name}").map(escape).join("(.+)") + "$");
  }

  function sourcesEl(citations) {
    var seen = {}, items = [];
    (citations || []).forEach(function (c) {
      var k = c.doc_id + "|" + (c.section || "");
      if (seen[k]) return;
      seen[k] = true;
      items.push(h("li", null,
        h("span", { cls: "src-title", text: c.title || c.doc_id }),
        c.section ? h("span", { cls: "src-section", text: " · " + c.section }) : null,
        c.snippet ? h("p", { cls: "src-snippet", text: c.snippet }) : null));
    });
    if (!items.length) return null;
    var list = h("ol");
    items.forEach(function (li) { list.appendChild(li); });
    return h("details", { cls: "sources", ontoggle: function (e) { if (e.target.open) reveal(e.target); } },
      h("summary", { text: items.length === 1 ? T("widget.source_one") : T("widget.sources", { count: items.length }) }), list);
  }

  function feedbackEl(messageId, current) {
    var thanks = h("span", { cls: "thanks", role: "status" });
    var up = h("button", { type: "button", "aria-label": T("widget.helpful"), title: T("widget.helpful"), "aria-pressed": String(current === 1), html: ICONS.up });
    var down = h("button", { type: "button", "aria-label": T("widget.not_helpful"), title: T("widget.not_helpful"), "aria-pressed": String(current === -1), html: ICONS.down });
    function rate(rating) {
      var convo = cid;
      fetch(API + "/v1/conversations/" + encodeURIComponent(convo) + "/messages/" + messageId + "/feedback", {
        method: "POST", headers: authHeaders({ "content-type": "application/json" }), body: JSON.stringify({ rating: rating }),
      }).then(function (res) {
        if (!res.ok) throw new Error(String(res.status));
        up.setAttribute("aria-pressed", String(rating === "up"));
        down.setAttribute("aria-pressed", String(rating === "down"));
        thanks.textContent = T("widget.feedback_thanks");
      }).catch(function () { thanks.textContent = T("widget.feedback_failed"); });
    }
    up.addEventListener("click", function () { rate("up"); });
    down.addEventListener("click", function () { rate("down"); });
    return h("div", { cls: "feedback", role: "group", "aria-label": T("widget.rate_answer") }, up, down, thanks);
  }

  function finishBot(item, text, citations, messageId, feedback) {
    item.text.textContent = text;
    var src = sourcesEl(citations);
    if (src) item.text.parentNode.appendChild(src);
    if (messageId != null) item.li.appendChild(feedbackEl(messageId, feedback));
    if (messageId != null) item.li.dataset.messageId = String(messageId);
  }

  function showTyping() {
    if (typing) return;
    typing = h("li", { cls: "msg msg-bot typing" }, h("span", { cls: "sr-only", text: T("widget.typing") }),
      h("div", { cls: "bubble", "aria-hidden": "true" }, h("i"), h("i"), h("i")));
    thread.appendChild(typing);
    scrollDown(true);
  }
  function hideTyping() { if (typing) { typing.remove(); typing = null; } }

  function setChips(list) {
    list = (list || []).filter(function (s) { return s && s !== CANCEL && !(s === TALK && status !== "bot"); });
    chips.replaceChildren.apply(chips, list.map(function (s) {
      return h("button", { cls: "chip", type: "button", text: s, onclick: function () {
        if (s === TALK) requestAgent(); else send(s);
        input.focus();
      } });
    }));
    chips.hidden = !list.length;
  }

  function setStatus(s, name) {
    status = s === "waiting" || s === "agent" ? s : "bot";
    if (name) agentName = name;
    statusBar.hidden = status === "bot";
    cancelBtn.hidden = status !== "waiting";
    talkBtn.hidden = status !== "bot";
    statusText.replaceChildren();
    if (status === "waiting") {
      statusText.appendChild(h("span", { cls: "spin", "aria-hidden": "true" }));
      statusText.appendChild(document.createTextNode(T("widget.connecting_agent")));
    } else if (status === "agent") {
      statusText.appendChild(document.createTextNode(T("widget.with_person", { name: agentName || T("widget.an_agent") })));
    }
  }

  function setConnected(on) {
    connDot.classList.toggle("off", !on);
    connText.textContent = on ? T("widget.online") : T("widget.reconnecting");
    connBar.hidden = on || !started;
    queue.forEach(function (item) { setPending(item.li, !on); });
  }

  function renderHistory(messages) {
    var items = [greetingItem()], name = agentName;
    messages.forEach(function (m) {
      if (m.role === "user") items.push(userItem(m.text));
      else if (m.role === "assistant" && m.text) {
        var item = botItem();
        finishBot(item, m.text, m.citations, m.id, m.feedback);
        items.push(item.li);
      } else if (m.role === "agent") items.push(agentItem(name, m.text));
      else if (m.role === "system") {
        var joined = joinedPattern().exec(m.text || "");
        if (joined) name = joined[1];
        items.push(noticeItem(m.text));
      }
    });
    if (inflight && !inflight.acked) items.push(inflight.li);
    queue.forEach(function (q) { items.push(q.li); });
    typing = null;
    turn = null;
    surveyEl = null;
    thread.replaceChildren.apply(thread, items);
    scrollDown(true);
    return name;
  }

  // ---------- satisfaction survey (end of the conversation) ----------
  var surveyEl = null;
  function rated(id) { return load("localStorage", "rated:" + id) === "1"; }
  function askSurvey(ending) {
    if (!cid || rated(cid) || surveyEl) return;
    var convo = cid;
    var note = h("p", { cls: "msg-status", role: "status" });
    var scale = h("div", { cls: "scale" });
    for (var i = 1; i <= 5; i++) {
      scale.appendChild(h("label", null, h("input", { type: "radio", name: "csat-score", value: String(i),
        "aria-label": i === 1 ? T("widget.score_low", { score: i }) : i === 5 ? T("widget.score_high", { score: i }) : String(i) }),
        h("span", { text: String(i), "aria-hidden": "true" })));
    }
    var comment = h("input", { type: "text", id: "bank-chat-csat-comment", maxlength: "1000", autocomplete: "off" });
    var sendRating = h("button", { cls: "primary", type: "submit", text: T("widget.send_rating") });
    var skip = h("button", { cls: "link-btn", type: "button", text: T("widget.skip"), onclick: function () { done(false); } });
    var form = h("form", { "aria-label": T("widget.rate_conversation") },
      h("fieldset", null, h("legend", { text: T("widget.csat_question") }), scale,
        h("div", { cls: "ends", "aria-hidden": "true" }, h("span", { text: T("csat.very_dissatisfied") }),
          h("span", { text: T("csat.very_satisfied") }))),
      h("label", { "for": "bank-chat-csat-comment", text: T("widget.comment") }), comment,
      h("div", { cls: "actions" }, sendRating, skip), note);
    function done(saved) {
      save("localStorage", "rated:" + convo, "1");
      surveyEl.remove();
      surveyEl = null;
      var text = (saved ? T("widget.rating_thanks") : "") + (ending ? " " + T("widget.chat_ended") : "");
      if (text.trim()) { append(noticeItem(text.trim()), true); announce(text.trim()); }
      if (ending && cid === convo) setCid(null);
      input.focus();
    }
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var picked = form.querySelector("input[name=csat-score]:checked");
      if (!picked) { note.textContent = T("widget.choose_score"); scale.querySelector("input").focus(); return; }
      sendRating.disabled = true;
      fetch(API + "/v1/conversations/" + encodeURIComponent(convo) + "/csat", {
        method: "POST", headers: authHeaders({ "content-type": "application/json" }),
        body: JSON.stringify({ score: Number(picked.value), comment: comment.value.trim() || null }),
      }).then(function (res) {
        if (!res.ok && res.status !== 409) throw new Error(String(res.status));
        done(true);
      }).catch(function () {
        sendRating.disabled = false;
        note.textContent = T("widget.rating_failed");
      });
    });
    surveyEl = h("li", { cls: "survey" }, form);
    append(surveyEl, true);
    announce(T("widget.csat_announce"));
  }
  function endChat() {
    if (!cid) return;
    if (rated(cid)) { append(noticeItem(T("widget.chat_ended")), true); setCid(null); return; }
    askSurvey(true);
    if (surveyEl) surveyEl.querySelector("input").focus();
  }

  // ---------- REST ----------
  function api(path, opts) {
    return fetch(API + path, Object.assign({ headers: authHeaders() }, opts || {}));
  }

  function loadHistory() {
    if (!cid) return Promise.resolve();
    var want = cid;
    return api("/v1/conversations/" + encodeURIComponent(want)).then(function (res) {
      if (want !== cid) return;
      if (res.status === 404 || res.status === 401 || res.status === 403) { fresh(); return; }
      if (!res.ok) return;
      return res.json().then(function (body) {
        if (want !== cid) return;
        var name = renderHistory(body.messages || []);
        historyShown = true;
        setStatus(body.status, name);
        setChips([]);
        var last = (body.messages || [])[body.messages.length - 1];
        // a reply that was still being written when the connection dropped: look again shortly
        if (last && last.role === "user" && status === "bot" && !inflight && catchUps < 10) {
          catchUps += 1;
          setTimeout(function () { if (!inflight && !turn && !typing) loadHistory(); }, 2000);
        } else catchUps = 0;
      });
    }).catch(function () { /* offline: the socket's reconnect will try again */ });
  }

  function loadRecommended() {
    if (recommended) return Promise.resolve(recommended);
    return api("/v1/suggestions?n=4").then(function (res) { return res.ok ? res.json() : []; })
      .then(function (list) { recommended = Array.isArray(list) ? list : []; return recommended; })
      .catch(function () { return []; });
  }

  function fresh() {
    setCid(null);
    agentName = "";
    renderHistory([]);
    setStatus("bot");
    loadRecommended().then(function (list) { if (!cid) setChips(list); });
  }

  function requestAgent() {
    if (status !== "bot") return;
    if (!cid) { // no conversation yet: open one with the request, then ask for a person
      wantAgent = true;
      send(T("widget.ask_agent"));
      return;
    }
    talkBtn.disabled = true;
    api("/v1/conversations/" + encodeURIComponent(cid) + "/handoff", { method: "POST" }).then(function (res) {
      if (res.status === 404 || res.status === 401 || res.status === 403) { fresh(); return requestAgent(); }
      if (!res.ok) throw new Error(String(res.status));
      setStatus("waiting");
      setChips([]);
      var text = T("widget.agent_requested");
      append(noticeItem(text), true);
      announce(text);
      input.focus();
    }).catch(function () {
      append(noticeItem(T("widget.agent_request_failed")), true);
    }).finally(function () { talkBtn.disabled = false; });
  }

  function cancelAgent() {
    if (!cid) return;
    cancelBtn.disabled = true;
    api("/v1/conversations/" + encodeURIComponent(cid) + "/handoff", { method: "DELETE" }).then(function (res) {
      if (!res.ok) throw new Error(String(res.status));
      return res.json().then(function (body) {
        setStatus(body.status);
        if (!ready) append(noticeItem(T("handoff.left_queue")), true);
        input.focus();
      });
    }).catch(function () {
      append(noticeItem(T("widget.cancel_failed")), true);
    }).finally(function () { cancelBtn.disabled = false; });
  }

  // ---------- sending ----------
  function submit() {
    var text = input.value;
    if (!text.trim()) { input.focus(); return; }
    input.value = "";
    grow();
    send(text);
  }

  function send(text) {
    text = String(text || "").trim().slice(0, MAX_CHARS);
    if (!text) return;
    var item = { text: text, li: userItem(text), acked: false };
    queue.push(item);
    setPending(item.li, !ready);
    append(item.li, true);
    setChips([]);
    if (!ws) connect();
    pump();
  }

  function pump() {
    if (!ready || inflight || !queue.length || !ws || ws.readyState !== WebSocket.OPEN) return;
    inflight = queue.shift();
    var frame = { message: inflight.text, channel: "web" };
    if (cid) { frame.conversation_id = cid; frame.session_token = token; }
    if (inflight.identity) frame.identity = inflight.identity;
    try { ws.send(JSON.stringify(frame)); } catch (e) { queue.unshift(inflight); inflight = null; return; }
    setPending(inflight.li, false);
    if (status === "bot") showTyping();
  }

  // ---------- socket ----------
  function onFrame(f) {
    switch (f.type) {
      case "session": // a new conversation: its id and session token, sent once
        setCid(f.conversation_id, f.session_token);
        break;
      case "start":
        if (f.conversation_id && f.conversation_id !== cid) setCid(f.conversation_id);
        if (inflight) inflight.acked = true;
        break;
      case "delta":
        if (!turn) { hideTyping(); turn = botItem(); append(turn.li); }
        turn.text.appendChild(document.createTextNode(f.text || ""));
        scrollDown();
        break;
      case "reply": onReply(f); break;
      case "notice": break; // a failed stage; the apology reply follows
      case "error": onError(f); break;
      case "resumed":
        resuming = false;
        setStatus(f.status);
        // first resume: the history fetched at start; after a drop: fetch again to catch up on what we missed
        var first = !everResumed;
        everResumed = true;
        (first && historyPromise ? historyPromise : Promise.resolve())
          .then(function () { return first && historyShown ? null : loadHistory(); })
          .then(function () { ready = true; setConnected(true); pump(); });
        break;
      case "agent_joined":
        setStatus("agent", f.agent);
        append(noticeItem(f.text || T("handoff.agent_joined", { name: f.agent })));
        announce(f.text || T("handoff.agent_joined", { name: f.agent }));
        bump();
        break;
      case "agent_message":
        if (f.agent) agentName = f.agent;
        if (status !== "agent") setStatus("agent", f.agent);
        append(agentItem(f.agent, f.text));
        announce(T("widget.agent_says", { name: f.agent || T("widget.agent"), text: f.text }));
        bump();
        break;
      case "handoff_ended":
        setStatus("bot");
        append(noticeItem(f.text || T("widget.agent_left")));
        announce(f.text || T("widget.agent_left"));
        bump();
        askSurvey(false);
        break;
    }
  }

  function onReply(f) {
    hideTyping();
    verifiedEl.hidden = !(f.customer && f.customer.verified);
    if (f.conversation_id && f.conversation_id !== cid) setCid(f.conversation_id);
    var text = f.reply || "";
    if (f.path === "human" || !text) { // an agent holds the conversation: the bot stays silent
      if (turn) turn.li.remove();
    } else {
      if (!turn) { turn = botItem(); append(turn.li); }
      finishBot(turn, text, f.citations, f.message_id, null);
      scrollDown();
      announce(T("widget.assistant_says", { text: text }));
      bump();
    }
    turn = null;
    if (f.path === "handoff" && f.handoff && f.handoff.active) setStatus("waiting");
    if (f.path !== "human") setChips(f.suggestions);
    if (f.survey) askSurvey(false);
    inflight = null;
    if (wantAgent) { wantAgent = false; requestAgent(); }
    pump();
  }

  function onError(f) {
    if (f.status === 404 || f.status === 401 || f.status === 403) { // gone, or not ours any more: start afresh
      if (resuming) { // the stored conversation is gone (e.g. expired): start fresh
        resuming = false;
        fresh();
        ready = true;
        setConnected(true);
        pump();
        return;
      }
      if (inflight) { // a message to a conversation the server no longer knows: send it as a new one
        hideTyping();
        setCid(null);
        queue.unshift(inflight);
        inflight = null;
        pump();
        return;
      }
    }
    hideTyping();
    if (turn) { turn.li.remove(); turn = null; }
    if (inflight) {
      inflight = null;
      append(noticeItem(T("widget.not_sent_error")), true);
    }
    pump();
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (ws) return;
    started = true;
    var sock;
    try { sock = new WebSocket(WS_URL); } catch (e) { return retry(); }
    ws = sock;
    sock.onopen = function () {
      attempt = 0;
      if (cid) {
        resuming = true;
        sock.send(JSON.stringify({ type: "resume", conversation_id: cid, session_token: token }));
      } else {
        ready = true;
        setConnected(true);
        pump();
      }
    };
    sock.onmessage = function (ev) {
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (f && typeof f.type === "string") onFrame(f);
    };
    sock.onclose = function () {
      if (ws !== sock) return;
      ws = null;
      ready = false;
      resuming = false;
      hideTyping();
      if (inflight) {
        // not acknowledged: the server may never have seen it, so it goes out again;
        // acknowledged: the turn finishes on the server and the history catch-up shows the reply
        if (!inflight.acked) queue.unshift(inflight);
        inflight = null;
      }
      if (turn) { turn.li.remove(); turn = null; }
      setConnected(false);
      retry();
    };
  }

  function retry() {
    if (retryTimer) return;
    var delay = Math.min(15000, 500 * Math.pow(2, attempt)) * (0.75 + Math.random() * 0.5);
    attempt = Math.min(attempt + 1, 6);
    retryTimer = setTimeout(function () { retryTimer = null; connect(); }, delay);
  }

  window.addEventListener("online", function () { if (!ws && started) { attempt = 0; connect(); } });

  // ---------- open / close ----------
  function start() {
    if (started && ws) return;
    if (cid) { renderHistory([]); historyPromise = loadHistory(); } else fresh();
    connect();
  }

  function open(opts) {
    if (opened) return;
    opened = true;
    panel.hidden = false;
    root.classList.add("open");
    launcher.setAttribute("aria-expanded", "true");
    launcher.innerHTML = ICONS.close;
    launcher.appendChild(badge);
    unread = 0;
    badge.hidden = true;
    launcher.setAttribute("aria-label", T("widget.close_chat_with", { title: TITLE }));
    save("sessionStorage", "open", "1");
    if (!started) start();
    scrollDown(true);
    if (!opts || opts.focus !== false) input.focus();
  }

  function close() {
    if (!opened) return;
    opened = false;
    panel.hidden = true;
    root.classList.remove("open");
    launcher.setAttribute("aria-expanded", "false");
    launcher.innerHTML = ICONS.chat;
    launcher.appendChild(badge);
    launcher.setAttribute("aria-label", T("widget.open_chat", { title: TITLE }));
    save("sessionStorage", "open", null);
    launcher.focus();
  }

  function toggle() { if (opened) close(); else open(); }

  function grow() {
    input.style.height = "auto";
    input.style.height = Math.min(120, Math.max(42, input.scrollHeight + 2)) + "px";
  }
  input.addEventListener("input", grow);
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
  });

  function mount() {
    (document.body || document.documentElement).appendChild(host);
    if (load("sessionStorage", "open") === "1") open({ focus: false });
    else if (cid) start(); // a conversation is under way: connect so agent replies arrive (badge on the launcher)
  }
  // The page may call these before the texts have arrived: they run once they have.
  function whenReady(fn) { return function () { var args = arguments; textsLoaded.then(function () { fn.apply(null, args); }); }; }

  window.BankChatWidget = {
    open: whenReady(open), close: close, toggle: whenReady(toggle),
    reset: whenReady(function () {
      if (ws) { var s = ws; ws = null; s.onclose = null; s.close(); ready = false; }
      queue.length = 0;
      inflight = null;
      everResumed = false;
      fresh();
      if (started) connect();
    }),
    get conversationId() { return cid; },
    // The bank's logged-in page: get this conversation's id (one is started if needed), have the bank sign it
    // into an identity assertion, and pass that to identify(); the next turn carries it and the server checks it.
    ensureConversation: function () {
      if (cid) return Promise.resolve(cid);
      return api("/v1/conversations", { method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ channel: "web" }) }).then(function (res) {
        if (!res.ok) throw new Error("could not start a conversation (" + res.status + ")");
        return res.json();
      }).then(function (b) { setCid(b.conversation_id, b.session_token); return cid; });
    },
    identify: whenReady(function (assertion, text) {
      text = text || T("widget.signed_in_message");
      var item = { text: text, li: userItem(text), acked: false, identity: String(assertion || "") };
      queue.push(item);
      append(item.li, true);
      if (!ws) connect();
      pump();
    }),
  };

  function mountWhenReady() { textsLoaded.then(mount); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountWhenReady);
  else mountWhenReady();
})();
