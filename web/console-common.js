/* Supervisor console pages: the staff login (POST /v1/agent/login), kept in sessionStorage under
 * "bankassist.staff" as {token, agent}, and authorised API calls. Plain JS, no build step. */
(function () {
  "use strict";
  var KEY = "bankassist.staff";

  function session() {
    try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch (e) { return null; }
  }
  function setSession(s) {
    try { if (s) sessionStorage.setItem(KEY, JSON.stringify(s)); else sessionStorage.removeItem(KEY); } catch (e) { /* private mode */ }
  }

  // fetch with the staff token; a 401 signs out (the token expired or was revoked)
  function api(path, opts) {
    var s = session();
    var headers = Object.assign({ accept: "application/json" }, (opts && opts.headers) || {});
    if (s && s.token) headers.authorization = "Bearer " + s.token;
    return fetch(path, Object.assign({}, opts || {}, { headers: headers })).then(function (res) {
      if (res.status === 401) { setSession(null); location.reload(); throw new Error("signed out"); }
      return res;
    });
  }

  function el(tag, attrs) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      var v = attrs[k];
      if (v == null || v === false) continue;
      if (k === "text") e.textContent = v;
      else if (k === "cls") e.className = v;
      else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (var i = 2; i < arguments.length; i++) if (arguments[i] != null) e.appendChild(
      typeof arguments[i] === "string" ? document.createTextNode(arguments[i]) : arguments[i]);
    return e;
  }

  // Shows the login form until a staff account holding one of `roles` signs in, then calls onReady(agent).
  function requireStaff(roles, onReady) {
    var loginView = document.getElementById("login-view");
    var form = document.getElementById("login");
    var error = document.getElementById("login-error");
    var who = document.getElementById("who");
    var logout = document.getElementById("logout");
    function allowed(agent) {
      var held = (agent && agent.roles) || [];
      return held.indexOf("admin") >= 0 || roles.some(function (r) { return held.indexOf(r) >= 0; });
    }
    function ready(s) {
      loginView.hidden = true;
      who.textContent = "Signed in as " + (s.agent.display_name || s.agent.username);
      logout.hidden = false;
      onReady(s.agent);
    }
    logout.addEventListener("click", function () {
      api("/v1/agent/logout", { method: "POST" }).catch(function () {}).finally(function () {
        setSession(null);
        location.reload();
      });
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      error.textContent = "";
      fetch("/v1/agent/login", {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: form.username.value, password: form.password.value }),
      }).then(function (res) {
        return res.json().then(function (body) {
          if (!res.ok) throw new Error(typeof body.detail === "string" ? body.detail : "Sign-in failed.");
          if (!allowed(body.agent)) throw new Error("This page needs the " + roles.join(" or ") + " role.");
          var s = { token: body.token, agent: body.agent };
          setSession(s);
          form.password.value = "";
          ready(s);
        });
      }).catch(function (err) { error.textContent = err.message; });
    });
    var s = session();
    if (s && s.token && allowed(s.agent)) ready(s);
    else { loginView.hidden = false; form.username.focus(); }
  }

  window.Console = { api: api, el: el, requireStaff: requireStaff, session: session };
})();
