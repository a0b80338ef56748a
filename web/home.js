// The page's own button opens the widget through its small public API.
document.getElementById("ask").addEventListener("click", function () { window.BankChatWidget && window.BankChatWidget.open(); });

// Demo sign-in: the page asks the sandbox bank (through /v1/demo/sign-in) to sign the chat's conversation id for the
// chosen customer, and hands the assertion to the widget, as a bank's logged-in page would.
document.getElementById("demo-login").addEventListener("submit", function (e) {
  e.preventDefault();
  var w = window.BankChatWidget, button = document.getElementById("demo-sign-in");
  if (!w) return;
  var customer = document.getElementById("demo-customer").value;
  button.disabled = true;
  w.open();
  w.ensureConversation().then(function (cid) {
    return fetch("/v1/demo/sign-in", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ customer_id: customer, conversation_id: cid }) });
  }).then(function (res) {
    if (!res.ok) throw new Error("sign-in failed (" + res.status + ")");
    return res.json();
  }).then(function (b) { w.identify(b.assertion); button.textContent = "Signed in"; })
    .catch(function (err) { button.disabled = false; button.textContent = "Log in"; console.warn(err.message); });
});
