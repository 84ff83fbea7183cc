// Keeps a report job's page up to date: polls its status until it is ready or has failed,
// then shows the download link. Without JavaScript the page says to reload it.
(function () {
  "use strict";
  var root = document.getElementById("job");
  if (!root) { return; }
  var url = root.getAttribute("data-status-url");
  var status = document.getElementById("job-status");
  var progress = document.getElementById("job-progress");
  var percent = document.getElementById("job-percent");
  var errorBox = document.getElementById("job-error");
  var download = document.getElementById("job-download");
  var link = document.getElementById("job-download-link");
  var delay = 1000;

  function show(state) {
    root.setAttribute("data-status", state.status);
    var text = state.status_label;
    if ((state.status === "pending" || state.status === "running") && state.total) {
      text += ": " + state.done + " of " + state.total;
    }
    if (status.textContent !== text) { status.textContent = text; }
    progress.value = state.percent;
    progress.textContent = state.percent + "%";
    percent.textContent = state.percent + "%";
    if (state.status === "done") {
      link.setAttribute("href", state.download_url);
      link.textContent = "Download " + (state.file_name || "the file");
      download.hidden = false;
      link.focus();
    }
    if (state.status === "failed") {
      progress.classList.add("meter-failed");
      errorBox.textContent = state.error || "The report could not be built.";
      errorBox.classList.remove("d-none");
    }
  }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (state) {
        show(state);
        if (state.status === "pending" || state.status === "running") {
          delay = Math.min(delay * 1.3, 5000);
          window.setTimeout(poll, delay);
        }
      })
      .catch(function () {
        // A dropped connection: try again a little later rather than giving up.
        delay = Math.min(delay * 2, 15000);
        window.setTimeout(poll, delay);
      });
  }

  var initial = root.getAttribute("data-status");
  if (initial === "pending" || initial === "running") { window.setTimeout(poll, delay); }
}());
