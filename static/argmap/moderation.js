/*
 * Moderation in the browser: the report form opened from a claim's action bar (live.js adds the
 * "Report" button; the form lands in the claim's compose box), and small niceties of the
 * moderation queue. Everything works without it: every form is a real form.
 */
(() => {
  "use strict";

  const asElement = (target) => (target instanceof Element ? target : null);

  /** Close an inline report or moderator-action form (and its thank-you note). */
  function closeInline(form) {
    const box = form.closest(".compose");
    if (!box) return false;
    const item = form.closest('[role="treeitem"]');
    box.replaceChildren();
    if (item) item.focus();
    return true;
  }

  document.addEventListener("click", (event) => {
    const el = asElement(event.target);
    const cancel = el && el.closest("[data-flag-cancel], [data-mod-cancel]");
    if (!cancel) return;
    const form = cancel.closest("form");
    if (form && closeInline(form)) event.preventDefault();
  });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const el = asElement(event.target);
    const form = el && el.closest("form[data-flag-form], form[data-mod-form]");
    if (form && closeInline(form)) event.preventDefault();
  });

  // The fallacy's name is asked for only when "Fallacy" is the reason.
  function syncFallacy(form) {
    const field = form.querySelector(".flag-fallacy");
    const chosen = form.querySelector('input[name="reason"]:checked');
    if (field) field.hidden = !(chosen && chosen.value === "fallacy") && !field.querySelector(".errorlist");
  }
  document.addEventListener("change", (event) => {
    const form = asElement(event.target) && event.target.closest("form[data-flag-form]");
    if (form) syncFallacy(form);
  });

  // A form that just opened: focus its first choice; a thank-you note leaves after a while.
  document.addEventListener("htmx:afterSwap", (event) => {
    const el = asElement(event.target);
    if (!el || !el.isConnected) return;
    const form = el.matches("form[data-flag-form], form[data-mod-form]")
      ? el
      : el.querySelector("form[data-flag-form], form[data-mod-form]");
    if (form) {
      if (form.matches("[data-flag-form]")) syncFallacy(form);
      const first = form.querySelector('input[name="reason"]:checked, input[name="reason"], textarea');
      if (first && !form.contains(document.activeElement)) first.focus();
    }
    const thanks = el.matches(".flag-thanks") ? el : el.querySelector(".flag-thanks");
    if (thanks) {
      window.setTimeout(() => {
        if (thanks.isConnected && !thanks.matches(":hover")) thanks.remove();
      }, 6000);
    }
  });

  for (const form of document.querySelectorAll("form[data-flag-form]")) syncFallacy(form);
})();
