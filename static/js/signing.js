// Signing and declaration forms: show the interests only when there are some to declare,
// add interest rows on demand, and stop a double click sending the form twice.
(function () {
  "use strict";

  function setDisabled(container, disabled) {
    container.querySelectorAll("[data-interest] input, [data-interest] select, [data-interest] textarea").forEach(function (field) {
      field.disabled = disabled;
    });
  }

  function isBlank(row) {
    return Array.prototype.every.call(row.querySelectorAll("input:not([type=checkbox]), select, textarea"), function (field) {
      return !field.value;
    });
  }

  function setUpDeclaration(fieldset) {
    var interests = fieldset.querySelector("[data-interests]");
    var radios = fieldset.querySelectorAll("input[type=radio][name$='choice']");
    var addButton = fieldset.querySelector("[data-add-interest]");
    var template = fieldset.querySelector("template[data-empty-interest]");
    var total = fieldset.querySelector("input[name$='-TOTAL_FORMS']");
    if (!interests || !radios.length) return;

    function sync() {
      var chosen = fieldset.querySelector("input[type=radio][name$='choice']:checked");
      var listing = chosen && chosen.value === "interests";
      interests.hidden = !listing;
      setDisabled(interests, !listing);
    }
    radios.forEach(function (radio) { radio.addEventListener("change", sync); });

    // Keep one blank row in view; the others wait behind "Add another interest".
    var rows = Array.prototype.slice.call(interests.querySelectorAll("[data-interest]"));
    var blankShown = false;
    var hasErrors = interests.querySelector(".is-invalid") !== null;
    rows.forEach(function (row) {
      if (isBlank(row) && !hasErrors) {
        if (blankShown) row.hidden = true;
        blankShown = true;
      }
    });
    if (addButton && template && total) {
      addButton.hidden = false;
      addButton.addEventListener("click", function () {
        var hiddenRow = interests.querySelector("[data-interest][hidden]");
        if (!hiddenRow) {
          var index = parseInt(total.value, 10);
          var html = template.innerHTML.replace(/__prefix__/g, String(index));
          var holder = document.createElement("div");
          holder.innerHTML = html.trim();
          hiddenRow = holder.firstElementChild;
          hiddenRow.hidden = true;
          addButton.parentNode.insertBefore(hiddenRow, addButton);
          total.value = String(index + 1);
        }
        hiddenRow.hidden = false;
        var legend = hiddenRow.querySelector("legend");
        var count = interests.querySelectorAll("[data-interest]:not([hidden])").length;
        if (legend) legend.textContent = "Interest " + count;
        var first = hiddenRow.querySelector("select, input, textarea");
        if (first) first.focus();
      });
    }
    sync();
  }

  document.querySelectorAll("[data-declaration]").forEach(setUpDeclaration);

  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        // Disabled after the browser has taken the form's data, so the submission itself is unaffected.
        window.setTimeout(function () { button.disabled = true; button.textContent = form.dataset.once || "Sending…"; }, 0);
      });
    });
  });
})();
