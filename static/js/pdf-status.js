// While a signed PDF is being prepared, ask every few seconds and show the download link as soon as it exists.
(function () {
  "use strict";
  var box = document.getElementById("pdf-status");
  if (!box || !box.hasAttribute("data-waiting")) return;
  var url = box.getAttribute("data-status-url");
  var attempts = 0;

  function check() {
    attempts += 1;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && data.ready) {
          box.removeAttribute("data-waiting");
          box.innerHTML = "";
          var text = document.createElement("p");
          text.textContent = "Your signed PDF is ready.";
          var link = document.createElement("a");
          link.className = "btn btn-primary";
          link.href = data.url;
          link.textContent = "Download the signed PDF";
          box.appendChild(text);
          box.appendChild(link);
        } else if (attempts < 60) {
          window.setTimeout(check, attempts < 10 ? 2000 : 10000);
        }
      })
      .catch(function () { if (attempts < 60) window.setTimeout(check, 10000); });
  }
  window.setTimeout(check, 1500);
})();
