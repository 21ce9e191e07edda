// search: "/" focuses the search box (the page's own, else the header's), as on GitHub and
// Discourse. Everything else is htmx attributes on a plain GET form.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    const active = document.activeElement;
    if (active && (active.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName))) {
      return;
    }
    const box =
      document.getElementById("search-q") ||
      document.getElementById("map-search-q") ||
      document.getElementById("site-search-q");
    if (!box) return;
    event.preventDefault();
    box.focus();
    box.select();
  });
})();
