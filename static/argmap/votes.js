/*
 * Impact votes in the tree: the "Vote" / "You: 3" control of each row opens a small popover with
 * the 0..4 scale (the same form as the vote page, fetched with htmx); choosing a value or
 * "Withdraw" posts it, the row comes back refreshed out of band and the popover closes.
 *
 * Without JavaScript the control is a link to the claim's vote page. Listeners are delegated
 * from `document`, so rows replaced by live updates (live.js) or by a vote need no re-binding.
 * Keyboard: the focused claim's vote control joins the Tab order right after the claim; Enter or Space opens the popover with focus on your vote (or the first
 * value), Tab moves through the values, Escape closes it and returns to the control.
 */
(() => {
  "use strict";

  const ITEM = '[role="treeitem"]';
  const ROW_VOTE = ":scope > .claim-row .vote-toggle";
  const asElement = (target) => (target instanceof Element ? target : null);
  const popFor = (id) => document.getElementById(`vote-pop-${id}`);
  const toggleFor = (id) => document.querySelector(`#row-${id} .vote-toggle`);

  function open(toggle) {
    const id = toggle.dataset.vote;
    const item = toggle.closest(ITEM);
    const row = item && item.querySelector(":scope > .claim-row");
    if (!row || !window.htmx) {
      window.location.assign(toggle.href);
      return;
    }
    for (const other of document.querySelectorAll(".vote-pop")) {
      if (other.id !== `vote-pop-${id}`) close(other, { refocus: false });
    }
    let pop = popFor(id);
    if (pop) {
      close(pop);
      return;
    }
    pop = document.createElement("div");
    pop.className = "vote-pop";
    pop.id = `vote-pop-${id}`;
    pop.dataset.claim = id;
    // No role="group" here: app.js takes every group inside the tree for a claim's children.
    row.after(pop);
    toggle.setAttribute("aria-expanded", "true");
    toggle.setAttribute("aria-controls", pop.id);
    const url = new URL(toggle.href, window.location.href);
    url.searchParams.set("in", "tree");
    window.htmx
      .ajax("GET", url.pathname + url.search, { target: pop, swap: "innerHTML" })
      .then(() => settle(pop));
  }

  /** Show the popover's close button and put the focus on the reader's vote or the first value. */
  function settle(pop) {
    if (!pop.isConnected) return;
    const closer = pop.querySelector("[data-vote-close]");
    if (closer) closer.hidden = false;
    const first =
      pop.querySelector('.vote-option[aria-pressed="true"]') || pop.querySelector(".vote-option");
    if (first) first.focus();
  }

  function close(pop, { refocus = true } = {}) {
    const id = pop.dataset.claim;
    pop.remove();
    const toggle = toggleFor(id);
    if (!toggle) return;
    toggle.setAttribute("aria-expanded", "false");
    toggle.removeAttribute("aria-controls");
    if (refocus) {
      toggle.tabIndex = 0;
      toggle.focus();
    }
  }

  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    const el = asElement(event.target);
    if (!el) return;
    const toggle = el.closest("a.vote-toggle");
    if (toggle && toggle.closest('[role="tree"]')) {
      event.preventDefault();
      open(toggle);
      return;
    }
    const closer = el.closest("[data-vote-close]");
    const pop = closer && closer.closest(".vote-pop");
    if (pop) {
      event.preventDefault();
      close(pop);
    }
  });

  document.addEventListener("keydown", (event) => {
    const el = asElement(event.target);
    if (!el) return;
    // A link does not answer Space by itself; a control that opens a popover should.
    if (event.key === " " && el.matches("a.vote-toggle") && el.closest('[role="tree"]')) {
      event.preventDefault();
      open(el);
      return;
    }
    const pop = el.closest(".vote-pop");
    if (pop && event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close(pop);
    }
  });

  // A vote was cast or withdrawn from the popover: the form came back (status 200) and the row
  // was refreshed out of band; close the popover and go back to the control. A refusal (422)
  // keeps it open with the reason.
  document.addEventListener("htmx:afterSwap", (event) => {
    const el = asElement(event.target);
    const pop = el && el.closest(".vote-pop");
    const config = event.detail.requestConfig;
    if (!pop || !config || config.verb !== "post") return;
    if (event.detail.xhr && event.detail.xhr.status === 200) close(pop);
    else settle(pop);
  });

  // Clicking elsewhere closes an open popover (without moving the focus).
  document.addEventListener("pointerdown", (event) => {
    const el = asElement(event.target);
    for (const pop of document.querySelectorAll(".vote-pop")) {
      if (el && (pop.contains(el) || el.closest(`#row-${pop.dataset.claim} .vote-toggle`))) continue;
      close(pop, { refocus: false });
    }
  });

  // The focused claim's vote control joins the Tab order, right after the claim and before its
  // action bar (one claim at a time; see app.js's roving tabindex for the tree itself). Only
  // readers who may vote have one; the comment count is reached through the bar's "Discuss".
  document.addEventListener("focusin", (event) => {
    const el = asElement(event.target);
    if (!el || !el.matches(ITEM) || !el.closest('[role="tree"]')) return;
    for (const link of document.querySelectorAll('[role="tree"] .vote-toggle[tabindex="0"]')) {
      if (link.closest(ITEM) !== el) link.tabIndex = -1;
    }
    for (const link of el.querySelectorAll(ROW_VOTE)) link.tabIndex = 0;
  });

  // A live update refills rows: keep an open popover's control marked as open.
  document.body.addEventListener("argmap:applied", () => {
    for (const pop of document.querySelectorAll(".vote-pop")) {
      const toggle = toggleFor(pop.dataset.claim);
      if (toggle) {
        toggle.setAttribute("aria-expanded", "true");
        toggle.setAttribute("aria-controls", pop.id);
      }
    }
  });
})();
