// The error summary of a rejected form (GOV.UK Design System pattern): focused when the page loads, so the
// user (and their screen reader) starts at the list of problems; each link moves focus to its field and scrolls
// its label or legend into view, which following an anchor alone does not do.
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (!summary) return;
  if (document.activeElement !== summary) summary.focus();  // where autofocus did not

  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) return;
    var input = document.getElementById(link.getAttribute("href").slice(1));
    if (!input) return;
    event.preventDefault();
    var legend = input.closest("fieldset") && input.closest("fieldset").querySelector("legend");
    var label = (input.labels && input.labels[0]) || legend || input;
    label.scrollIntoView();
    input.focus({ preventScroll: true });
  });
})();
