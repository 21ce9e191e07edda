/*
 * Impact votes in the tree: the "Vote" / "You: 3" control of each row opens a small popover with
 * the 0..4 scale (the same form as the vote page, fetched with htmx); choosing a value or
 * "Withdraw" posts it, the row comes back refreshed out of band and the popover closes.
 *
 * Without JavaScript the control is a link to the claim's vote page. Listeners are delegated
 * from `document`, so rows replaced by live updates (live.js) or by a vote need no re-binding.
 * Keyboard: "Vote" in the focused claim's toolbar (Tab from the claim, then the arrow keys)
 * opens the popover with focus on your vote (or the first value); Tab moves through the values,
 * Enter votes, Escape closes it and returns to the row's vote control.
 */
(() => {
  "use strict";

  const ITEM = '[role="treeitem"]';
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

  // From the keyboard the vote is an action of the claim's toolbar (live.js builds the bar on
  // focus and hover; this listener runs after its own): "Vote" opens the same popover.
  function addToBar(item) {
    const bar = item && item.querySelector(":scope > .claim-row .claim-actions");
    const toggle = item && item.querySelector(":scope > .claim-row .vote-toggle");
    if (!bar || !toggle || bar.querySelector('[data-action="vote"]')) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "action";
    button.tabIndex = -1;
    button.dataset.action = "vote";
    button.dataset.voteFor = toggle.dataset.vote;
    button.textContent = "Vote";
    button.title = toggle.title;
    // Just before "History" (kept last), out of the way of the editing actions.
    const history = [...bar.querySelectorAll(".action")].find((el) => el.textContent === "History");
    if (history) history.before(button);
    else bar.append(button);
  }
  for (const name of ["focusin", "mouseover"]) {
    document.addEventListener(name, (event) => {
      const el = asElement(event.target);
      const item = el && el.closest(ITEM);
      if (item && item.closest('[role="tree"]')) addToBar(item);
    });
  }
  document.addEventListener("click", (event) => {
    const el = asElement(event.target);
    const button = el && el.closest('.claim-actions [data-action="vote"]');
    const toggle = button && toggleFor(button.dataset.voteFor);
    if (toggle) {
      event.preventDefault();
      open(toggle);
    }
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
