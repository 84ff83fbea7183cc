// While an adoption certificate is being issued, ask every few seconds and show its fingerprint as soon as it
// exists (the adoption page; like pdf-status.js for a signed PDF). Without JavaScript the page says it is being
// prepared, and the download link issues it anyway.
(function () {
  "use strict";
  var box = document.getElementById("certificate-status");
  if (!box || !box.hasAttribute("data-waiting")) return;
  var term = document.getElementById("certificate-status-term");
  var url = box.getAttribute("data-status-url");
  var attempts = 0;

  function check() {
    attempts += 1;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && data.ready) {
          box.removeAttribute("data-waiting");
          if (term) term.textContent = "Certificate (SHA-256)";
          box.classList.add("hash");
          box.textContent = data.sha256;
        } else if (attempts < 60) {
          window.setTimeout(check, attempts < 10 ? 2000 : 10000);
        }
      })
      .catch(function () { if (attempts < 60) window.setTimeout(check, 10000); });
  }
  window.setTimeout(check, 1500);
})();
