// The page's own button opens the widget through its small public API.
document.getElementById("ask").addEventListener("click", function () { window.BankChatWidget && window.BankChatWidget.open(); });
