// Forms marked data-submit-once disable their buttons once submitted, so a double click sends one request.
// The server refuses a repeat anyway (an adoption is recorded once per board); this spares the user the error page.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.matches("form[data-submit-once]")) return;
  if (form.dataset.submitted === "1") { event.preventDefault(); return; }
  form.dataset.submitted = "1";
  window.setTimeout(function () {
    form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (button) {
      button.disabled = true;
      button.setAttribute("aria-disabled", "true");
    });
  }, 0);
});
