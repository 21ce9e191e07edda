/*
 * Argmap in the browser: the claim tree's keyboard and expand behaviour, and the link between the
 * tree and the highlighted article.
 *
 * The server renders a complete WAI-ARIA tree (argmap/tree.py) whose links all work without
 * JavaScript; this file only adds behaviour on top. Every listener is delegated from `document`,
 * so tree items that htmx swaps in later need no wiring of their own, and all state lives in the
 * DOM (aria-expanded, [hidden], data-loaded, tabindex) so there is nothing to keep in sync.
 *
 * Pattern: https://www.w3.org/WAI/ARIA/apg/patterns/treeview/ (roving tabindex variant).
 */
(() => {
  "use strict";

  const ITEM = '[role="treeitem"]';
  // "Show N more" links sit between tree items. They join the arrow-key order (and the roving
  // tabindex) so a keyboard user meets each one where it is, not as a stray extra Tab stop.
  const MORE = "li.more > a";
  const STOP = `${ITEM}, ${MORE}`;
  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

  // What the reader is looking at, on either side; see syncActiveQuotes().
  let hovered = null; // the tree item whose row is under the pointer
  let focused = null; // the tree item with focus
  let hoveredQuote = null; // the article highlight under the pointer

  const treeOf = (el) => el.closest('[role="tree"]');
  const groupOf = (item) => item.querySelector(':scope > [role="group"]');
  const rowOf = (item) => item.querySelector(":scope > .claim-row");
  const toggleOf = (item) => item.querySelector(":scope > .claim-row > a.toggle");
  const isExpandable = (item) => item.hasAttribute("aria-expanded");
  const isExpanded = (item) => item.getAttribute("aria-expanded") === "true";
  const asElement = (target) => (target instanceof Element ? target : null);

  /** The tree item owning `el`'s group: the parent of an item, or the owner of a "more" link. */
  function parentItem(el) {
    const parent = el.parentElement && el.parentElement.closest(ITEM);
    return parent && treeOf(parent) === treeOf(el) ? parent : null;
  }

  /** Items and "more" links a user can see, in reading order (collapsed subtrees excluded). */
  function visibleStops(tree) {
    return [...tree.querySelectorAll(STOP)].filter((el) => !el.closest("[hidden]"));
  }

  // --- Roving tabindex: the tree is a single Tab stop; arrows move the stop inside it. ---

  function setCurrent(el) {
    const tree = treeOf(el);
    for (const other of tree.querySelectorAll('[tabindex="0"]')) {
      if (other !== el) other.tabIndex = -1;
    }
    el.tabIndex = 0;
  }

  /** Focus a stop and scroll only its own row into view: an item's box spans its whole subtree. */
  function focusStop(el, { center = false } = {}) {
    setCurrent(el);
    el.focus({ preventScroll: true });
    // (An inline edit form can stand in for the row for a while: then scroll the item itself.)
    const row = (el.matches(ITEM) && rowOf(el)) || el;
    row.scrollIntoView({
      block: center ? "center" : "nearest",
      behavior: center && !reducedMotion.matches ? "smooth" : "auto",
    });
  }

  /**
   * Make each tree keep exactly one visible Tab stop; run at start and after every swap, since a
   * swap can remove or hide the current one. Server-rendered "more" links are ordinary links, so
   * take them out of the Tab order here. htmx fires one event per swapped element: coalesce them.
   */
  let prepareQueued = false;
  function schedulePrepare() {
    if (prepareQueued) return;
    prepareQueued = true;
    queueMicrotask(() => {
      prepareQueued = false;
      prepareTrees();
    });
  }

  function prepareTrees() {
    for (const tree of document.querySelectorAll('[role="tree"]')) {
      for (const link of tree.querySelectorAll(MORE)) {
        if (!link.hasAttribute("tabindex")) link.tabIndex = -1;
      }
      // Items rendered without knowing their depth (live updates send aria-level="0", and their
      // children are then fetched without ?level=) get it from their parent; in document order
      // a parent is always fixed before its children.
      for (const item of tree.querySelectorAll(ITEM)) {
        const parent = parentItem(item);
        const level = parent ? Number(parent.getAttribute("aria-level")) + 1 : 0;
        if (level && item.getAttribute("aria-level") !== String(level)) {
          item.setAttribute("aria-level", String(level));
        } else if (!parent && !(Number(item.getAttribute("aria-level")) > 0)) {
          item.setAttribute("aria-level", "1");
        }
      }
      const current = tree.querySelector('[tabindex="0"]');
      if (current && current.matches(STOP) && !current.closest("[hidden]")) continue;
      const first = tree.querySelector(ITEM);
      if (first) setCurrent(first);
    }
  }

  // --- Expanding and collapsing ---

  function expand(item) {
    if (!isExpandable(item) || isExpanded(item)) return;
    const group = groupOf(item);
    if (group.dataset.loaded === "true" || group.querySelector(ITEM)) {
      group.hidden = false;
      item.setAttribute("aria-expanded", "true");
      return;
    }
    const toggle = toggleOf(item);
    if (!toggle || item.getAttribute("aria-busy") === "true") return;
    if (!window.htmx) {
      window.location.assign(toggle.href); // htmx failed to load: the claim page lists them.
      return;
    }
    item.setAttribute("aria-busy", "true");
    // Content swapped in moments ago is only wired by htmx when it settles; process() is
    // idempotent and makes sure the hx-trigger listener exists before we fire it.
    window.htmx.process(toggle);
    window.htmx.trigger(toggle, "argmap:load");
    // The htmx:afterSwap handler below finishes the job once the children have arrived.
  }

  function collapse(item) {
    if (!isExpanded(item)) return;
    const group = groupOf(item);
    const tree = treeOf(item);
    const current = tree.querySelector('[tabindex="0"]');
    const hadFocus = group.contains(document.activeElement);
    item.setAttribute("aria-expanded", "false");
    group.hidden = true;
    // Hiding the group would strand the Tab stop (and the focus) inside it: pull both up.
    if (current && group.contains(current)) {
      if (hadFocus) focusStop(item);
      else setCurrent(item);
    }
  }

  const toggleItem = (item) => (isExpanded(item) ? collapse(item) : expand(item));

  /** Open every collapsed ancestor so `item` is visible. It is in the DOM, so they are loaded. */
  function reveal(item) {
    for (let parent = parentItem(item); parent; parent = parentItem(parent)) {
      groupOf(parent).hidden = false;
      parent.setAttribute("aria-expanded", "true");
    }
  }

  // A "show more" swap replaces the focused link itself; remember where the new items will start
  // so focus can land on the first of them instead of falling back to <body>.
  let pendingMore = null;

  document.addEventListener("htmx:beforeRequest", (event) => {
    const link = asElement(event.detail.elt);
    if (link && link.matches(MORE) && treeOf(link)) {
      pendingMore = {
        before: link.parentElement.previousElementSibling,
        refocus: document.activeElement === link,
      };
    }
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    const target = asElement(event.detail.target);
    if (target && target.matches('[role="group"]') && treeOf(target)) {
      const item = target.parentElement;
      // Open the group only if this swap answers our own expand; a swap pushed from elsewhere
      // (a live update, say) must not unfold a subtree the reader closed.
      const requested = item.getAttribute("aria-busy") === "true";
      item.removeAttribute("aria-busy");
      target.dataset.loaded = "true";
      if (!target.querySelector(ITEM)) {
        // Everything under it was hidden or archived since the page was rendered.
        target.hidden = true;
        item.removeAttribute("aria-expanded");
      } else if (requested) {
        target.hidden = false;
        item.setAttribute("aria-expanded", "true");
      }
    }
    if (pendingMore && pendingMore.before && pendingMore.before.isConnected) {
      const first = pendingMore.before.nextElementSibling;
      if (first && first.matches(ITEM)) {
        if (pendingMore.refocus) focusStop(first);
        pendingMore = null;
      }
    }
    schedulePrepare();
  });

  // A failed load must not leave the item looking busy forever.
  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.successful) return;
    const elt = asElement(event.detail.elt);
    const item = elt && elt.closest(ITEM);
    if (item) item.removeAttribute("aria-busy");
    pendingMore = null;
  });

  document.addEventListener("htmx:load", schedulePrepare);

  // --- Keyboard ---

  document.addEventListener("keydown", (event) => {
    const el = asElement(event.target);
    if (!el || !el.matches(STOP) || !treeOf(el)) return;
    if (event.altKey || event.ctrlKey || event.metaKey) return; // leave browser shortcuts alone
    const tree = treeOf(el);
    const item = el.matches(ITEM) ? el : null;
    const stops = visibleStops(tree);
    const index = stops.indexOf(el);
    const go = (target) => target && focusStop(target);

    switch (event.key) {
      case "ArrowDown":
        go(stops[index + 1]);
        break;
      case "ArrowUp":
        go(stops[index - 1]);
        break;
      case "Home":
        go(stops[0]);
        break;
      case "End":
        go(stops[stops.length - 1]);
        break;
      case "ArrowRight":
        if (!item || !isExpandable(item)) break;
        if (!isExpanded(item)) expand(item);
        else if (stops[index + 1] && groupOf(item).contains(stops[index + 1])) go(stops[index + 1]);
        break;
      case "ArrowLeft":
        if (item && isExpanded(item)) collapse(item);
        else go(parentItem(el));
        break;
      case "Enter":
        if (!item) return; // a "more" link: let the browser click it, htmx does the rest
        if (isExpandable(item) && !event.shiftKey) {
          toggleItem(item);
        } else {
          // The permalink is out of the Tab order (one Tab stop per tree), so Shift+Enter opens
          // a claim's own page; a leaf has nothing to toggle, so plain Enter does too (APG: Enter
          // "performs the default action" of an end node).
          const permalink = item.querySelector(":scope > .claim-row a.permalink");
          if (permalink) window.location.assign(permalink.href);
        }
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  // --- Pointer ---

  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0) return;
    // Modified clicks (new tab, new window) keep the links' ordinary meaning.
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    const el = asElement(event.target);
    if (!el) return;

    const toggle = el.closest("a.toggle");
    if (toggle && treeOf(toggle)) {
      event.preventDefault(); // without JS this link opens the claim page instead
      const item = toggle.closest(ITEM);
      focusStop(item);
      toggleItem(item);
      return;
    }
    const quote = el.closest("a.quote");
    if (quote) citeFrom(quote, event);
  });

  // Clicking a row focuses its item natively (the <li> has tabindex=-1); follow it with the
  // roving Tab stop so Tab-away-and-back returns to the same place.
  document.addEventListener("focusin", (event) => {
    const el = asElement(event.target);
    if (el && el.matches(STOP) && treeOf(el)) setCurrent(el);
    focused = el && el.matches(ITEM) && treeOf(el) ? el : null;
    if (focused) scrollQuoteIntoPanel(focused.dataset.claim);
    syncActiveQuotes();
  });

  document.addEventListener("focusout", (event) => {
    if (!event.relatedTarget) {
      focused = null;
      syncActiveQuotes();
    }
  });

  // --- Tree <-> article: highlight what is being looked at on the other side ---

  // Ids go into selectors below, so accept digits only.
  const isId = (id) => /^\d+$/.test(id || "");
  const claimIds = (quote) => (quote.dataset.claims || "").split(/\s+/).filter(isId);
  const quotesFor = (id) =>
    isId(id) ? document.querySelectorAll(`a.quote[data-claims~="${id}"]`) : [];

  /** Recompute the highlight marks from scratch: cheap, and it cannot drift out of sync. */
  function syncActiveQuotes() {
    for (const el of document.querySelectorAll("a.quote.active, .claim.linked")) {
      el.classList.remove("active", "linked");
    }
    for (const item of [hovered, focused]) {
      if (item) for (const quote of quotesFor(item.dataset.claim)) quote.classList.add("active");
    }
    if (hoveredQuote) {
      for (const id of claimIds(hoveredQuote)) {
        const item = document.getElementById(`claim-${id}`);
        if (item && item.matches(ITEM)) item.classList.add("linked");
      }
    }
  }

  document.addEventListener("mouseover", (event) => {
    const el = asElement(event.target);
    // Only the row counts: an item's box also covers its children, which have quotes of their own.
    const row = el && el.closest(".claim-row");
    const item = row && treeOf(row) ? row.parentElement : null;
    const quote = el && el.closest("a.quote");
    if (item === hovered && quote === hoveredQuote) return;
    hovered = item;
    hoveredQuote = quote;
    syncActiveQuotes();
  });

  // live.js re-reads the article's highlights after a change: mark the ones in view again.
  document.addEventListener("argmap:articleUpdated", syncActiveQuotes);

  document.addEventListener("mouseout", (event) => {
    if (event.relatedTarget) return; // moving within the page: mouseover handles it
    hovered = hoveredQuote = null;
    syncActiveQuotes();
  });

  /**
   * When the article sits in its own scrolling panel (the two-column layout), bring the focused
   * claim's quote into that panel's view. Only the panel scrolls: scrollIntoView would also move
   * the page, and in the one-column layout it would drag the reader away from the tree.
   */
  function scrollQuoteIntoPanel(id) {
    const quote = quotesFor(id)[0];
    const panel = quote && quote.closest(".article-panel");
    if (!panel || panel.scrollHeight <= panel.clientHeight) return;
    if (getComputedStyle(panel).overflowY === "visible") return;
    const box = panel.getBoundingClientRect();
    const at = quote.getBoundingClientRect();
    if (at.top >= box.top && at.bottom <= box.bottom) return;
    panel.scrollBy({
      top: at.top - box.top - box.height / 3,
      behavior: reducedMotion.matches ? "auto" : "smooth",
    });
  }

  /**
   * A highlight links to the first claim citing it. If any citing claim is already in the tree,
   * show it there instead of leaving the page; otherwise the link opens the claim's own page.
   */
  function citeFrom(quote, event) {
    const items = claimIds(quote)
      .map((id) => document.getElementById(`claim-${id}`))
      .filter((item) => item && item.matches(ITEM) && treeOf(item))
      .sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
    if (!items.length) return;
    event.preventDefault();
    for (const old of document.querySelectorAll(".claim.cited")) old.classList.remove("cited");
    for (const item of items) reveal(item);
    void document.body.offsetWidth; // restart the flash when the same quote is clicked again
    for (const item of items) item.classList.add("cited");
    focusStop(items[0], { center: true });
  }

  prepareTrees();
})();
