// A table or chart wider than the screen scrolls inside its box (.table-responsive, .report-figure, [data-scroll-box]).
// While it does, the box is a labelled region a keyboard user can reach (Tab) and scroll with the arrow keys
// (WCAG 2.1.1; axe's scrollable-region-focusable); when it fits again it is no longer a stop in the tab order.
(function () {
  "use strict";
  var used = {};

  function labelFor(box) {
    var caption = box.querySelector("caption, figcaption");
    var text = box.getAttribute("data-scroll-label") || (caption && caption.textContent.trim()) || "";
    if (!text) {
      var section = box.closest("[aria-labelledby]");
      var heading = section && document.getElementById(section.getAttribute("aria-labelledby"));
      text = heading ? heading.textContent.trim() : "Table";
    }
    text += " (scrolls sideways)";
    used[text] = (used[text] || 0) + 1;
    return used[text] > 1 ? text + " " + used[text] : text;
  }

  function update() {
    document.querySelectorAll(".table-responsive, .report-figure, [data-scroll-box]").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("data-scroll-on")) {
        var added = [];
        var wanted = { tabindex: "0", role: "region", "aria-label": null };
        Object.keys(wanted).forEach(function (name) {
          if (box.hasAttribute(name)) return;
          box.setAttribute(name, wanted[name] === null ? labelFor(box) : wanted[name]);
          added.push(name);
        });
        box.setAttribute("data-scroll-on", added.join(" "));
      } else if (!scrolls && box.hasAttribute("data-scroll-on")) {
        // Only what this script added is taken away again.
        box.getAttribute("data-scroll-on").split(" ").filter(Boolean).forEach(function (name) {
          box.removeAttribute(name);
        });
        box.removeAttribute("data-scroll-on");
      }
    });
  }

  update();
  var pending;
  window.addEventListener("resize", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(update, 100);
  });
})();
