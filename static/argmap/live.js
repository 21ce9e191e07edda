/*
 * Argmap in the browser, part two: writing together. Inline forms for adding, editing and
 * moving claims, the per-claim action bar, quoting a selection from the article, and applying
 * live updates pushed by the server.
 *
 * Live updates are notify-then-pull: the page holds one server-sent-events stream (htmx's SSE
 * extension on #live); a "version" event makes #live-pull ask for /changes/?since=<our version>,
 * and applyChanges() below puts the returned tree items in place. The same pull runs on a slow
 * timer, so a browser whose stream is down still catches up. Every server answer is rendered
 * for this reader; nothing rendered travels through the bus.
 *
 * Like app.js, listeners are delegated from `document` and state lives in the DOM.
 */
(() => {
  "use strict";

  const ITEM = '[role="treeitem"]';
  const body = document.body;
  const me = body.dataset.user || "";
  const staff = body.dataset.staff === "true";
  const asElement = (target) => (target instanceof Element ? target : null);
  const itemOf = (el) => el && el.closest(ITEM);
  const rowOf = (item) => item.querySelector(":scope > .claim-row");
  const groupOf = (item) => item.querySelector(':scope > [role="group"]');
  const mapSlug = () => {
    const tree = document.querySelector('[role="tree"][data-map]');
    return tree ? tree.dataset.map : null;
  };
  const claimUrl = (id, action) => `/maps/${mapSlug()}/claims/${id}/${action ? `${action}/` : ""}`;

  // --- Live updates ---------------------------------------------------------------------------

  const live = () => document.getElementById("live");

  document.addEventListener("htmx:configRequest", (event) => {
    const elt = asElement(event.detail.elt);
    if (elt && elt.id === "live-pull") {
      event.detail.parameters.since = live().dataset.version;
    }
  });

  document.addEventListener("htmx:afterRequest", (event) => {
    const elt = asElement(event.detail.elt);
    if (!elt || elt.id !== "live-pull" || !event.detail.successful) return;
    const doc = new DOMParser().parseFromString(event.detail.xhr.responseText, "text/html");
    const changes = doc.getElementById("live-changes");
    if (changes) applyChanges(changes);
  });

  /** Put each changed claim in place: replace, move, insert or remove; idempotent. */
  function applyChanges(changes) {
    const state = live();
    if (Number(changes.dataset.version) <= Number(state.dataset.version)) return;
    if (changes.dataset.reload === "true") {
      // Too far behind to patch: fetch the tree afresh (and the article with it).
      window.htmx.ajax("GET", window.location.pathname, {
        target: '[role="tree"]',
        select: '[role="tree"]',
        swap: "outerHTML",
      });
      state.dataset.version = changes.dataset.version;
      refreshArticle();
      body.dispatchEvent(new CustomEvent("argmap:claimChanged", { detail: { id: null } }));
      return;
    }
    let articleStale = false;
    const groups = new Set();
    for (const template of changes.querySelectorAll("template[data-claim]")) {
      const id = template.dataset.claim;
      // Others listen per claim (discussion.js re-reads an open thread whose claim changed).
      body.dispatchEvent(new CustomEvent("argmap:claimChanged", { detail: { id } }));
      const existing = document.getElementById(`claim-${id}`);
      const fresh = template.dataset.state === "gone" ? null : template.content.querySelector(ITEM);
      if (quoteChanged(id, existing, fresh)) articleStale = true;
      if (!fresh) {
        if (existing) removeItem(existing);
        continue;
      }
      const parentId = template.dataset.parent;
      if (existing) {
        const currentParent = itemOf(existing.parentElement);
        updateItem(existing, fresh);
        if (parentId && currentParent && currentParent.dataset.claim !== parentId) {
          moveItem(existing, parentId);
        }
      } else if (parentId) {
        insertItem(fresh, parentId);
      }
      const group = document.getElementById(`group-${parentId}`);
      if (group) groups.add(group);
    }
    // Siblings arrive one by one, each with its new position: settle each group's order once
    // all of them are in.
    for (const group of groups) sortGroup(group);
    state.dataset.version = changes.dataset.version;
    if (articleStale) refreshArticle();
    body.dispatchEvent(new CustomEvent("argmap:applied", { bubbles: true }));
  }

  const quoteOf = (el) => (el && el.hasAttribute("data-quote-start")
    ? `${el.getAttribute("data-quote-start")}-${el.getAttribute("data-quote-end")}`
    : "");

  /**
   * Whether a change adds, moves or removes a highlight in the article. A claim in the tree
   * carries its quote's offsets, so compare those; for one that is not, the article itself says
   * whether it cites the claim.
   */
  function quoteChanged(id, existing, fresh) {
    if (!document.getElementById("article") || !/^\d+$/.test(id)) return false;
    if (existing) return quoteOf(existing) !== quoteOf(fresh);
    const cited = Boolean(document.querySelector(`#article a.quote[data-claims~="${id}"]`));
    return cited !== Boolean(quoteOf(fresh));
  }

  /**
   * Re-read the article's highlights and coverage from the map page (rendered for this reader,
   * cached per map version on the server). Runs one at a time; a request made meanwhile runs
   * once more at the end.
   */
  let articleLoading = null;
  let articleAgain = false;
  function refreshArticle() {
    if (!document.getElementById("article")) return;
    if (articleLoading) {
      articleAgain = true;
      return;
    }
    articleLoading = fetch(window.location.pathname, {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    })
      .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
      .then((html) => {
        const doc = new DOMParser().parseFromString(html, "text/html");
        for (const id of ["article", "coverage"]) {
          const current = document.getElementById(id);
          const next = doc.getElementById(id);
          if (current && next) current.replaceChildren(...next.childNodes);
        }
        body.dispatchEvent(new CustomEvent("argmap:articleUpdated", { bubbles: true }));
      })
      .catch(() => {
        // The slow poll or the next change will try again; the highlights are only a view.
      })
      .finally(() => {
        articleLoading = null;
        if (articleAgain) {
          articleAgain = false;
          refreshArticle();
        }
      });
  }

  function removeItem(item) {
    const parent = itemOf(item.parentElement);
    if (item.contains(document.activeElement) && parent) parent.focus();
    item.remove();
    if (parent) syncExpanded(parent);
  }

  /**
   * Move a claim, with whatever of its subtree is loaded here, under its new parent; if this
   * reader has not loaded that parent's children, it just leaves (the parent's count says so).
   */
  function moveItem(item, parentId) {
    const oldParent = itemOf(item.parentElement);
    const group = document.getElementById(`group-${parentId}`);
    if (!group || group.dataset.loaded !== "true") {
      removeItem(item);
      const parent = document.getElementById(`claim-${parentId}`);
      if (parent) syncExpanded(parent);
      return;
    }
    const hadFocus = item.contains(document.activeElement) ? document.activeElement : null;
    placeAmongSiblings(item, group);
    relevel(item, Number(itemOf(group).getAttribute("aria-level") || 0) + 1);
    if (oldParent) syncExpanded(oldParent);
    syncExpanded(itemOf(group));
    if (hadFocus && hadFocus.isConnected) hadFocus.focus({ preventScroll: true });
  }

  function relevel(item, level) {
    item.setAttribute("aria-level", String(level));
    const group = groupOf(item);
    if (!group) return;
    for (const child of group.querySelectorAll(`:scope > ${ITEM}`)) relevel(child, level + 1);
  }

  /** Refresh a claim's row in place, keeping its loaded children and any open form. */
  function updateItem(item, fresh) {
    const row = rowOf(item);
    const freshRow = rowOf(fresh);
    if (row && freshRow && !row.matches("form")) {
      // Refill the row rather than replace it: a request in flight may target it (Edit swaps
      // its form into #row-<id>), and htmx holds on to the element it resolved. Keep the
      // action bar, and the focus if it is on one of its buttons.
      const focused = row.contains(document.activeElement) ? document.activeElement : null;
      const bar = row.querySelector(".claim-actions");
      row.replaceChildren(...freshRow.childNodes);
      const meta = row.querySelector(".claim-meta");
      if (bar && meta) meta.append(bar);
      window.htmx.process(row);
      if (focused && focused.isConnected) {
        focused.focus({ preventScroll: true });
      } else if (focused) {
        // A control of the row itself (the vote control, the comment link) was replaced by
        // its fresh copy: focus that copy, keeping it in the Tab order.
        const again = focused.classList.length && row.querySelector(`.${focused.classList[0]}`);
        if (again) {
          again.tabIndex = 0;
          again.focus({ preventScroll: true });
        }
      }
    }
    item.className = fresh.className;
    for (const name of ["data-position", "data-author", "data-quote-start", "data-quote-end",
      "data-status", "data-votes", "data-impact"]) {
      if (fresh.hasAttribute(name)) item.setAttribute(name, fresh.getAttribute(name));
      else item.removeAttribute(name);
    }
    if (item.parentElement) placeAmongSiblings(item, item.parentElement);
    syncExpanded(item, fresh);
  }

  /** Insert a claim under its parent, if the reader has that parent's children loaded. */
  function insertItem(fresh, parentId) {
    const group = document.getElementById(`group-${parentId}`);
    if (!group || group.dataset.loaded !== "true") {
      const parent = document.getElementById(`claim-${parentId}`);
      if (parent) syncExpanded(parent);
      return;
    }
    const parent = itemOf(group);
    fresh.setAttribute("aria-level", String(Number(parent.getAttribute("aria-level") || 0) + 1));
    placeAmongSiblings(fresh, group);
    window.htmx.process(fresh);
    syncExpanded(parent);
  }

  /**
   * The server's sibling order: position, then id; or, when the tree is sorted by impact
   * (data-sort="impact", ?sort=impact), mean vote first (unvoted last), then votes, then position.
   */
  function siblingOrder(group, a, b) {
    const tree = group.closest('[role="tree"]');
    const key = (el) => {
      const base = [Number(el.dataset.position), Number(el.dataset.claim)];
      if (!tree || tree.dataset.sort !== "impact") return base;
      return [-Number(el.dataset.impact || -1), -Number(el.dataset.votes || 0), ...base];
    };
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i += 1) if (ka[i] !== kb[i]) return ka[i] - kb[i];
    return 0;
  }

  /** Order a group's items as the server does (see siblingOrder). */
  function sortGroup(group) {
    const items = [...group.children].filter((el) => el.matches(ITEM));
    const sorted = [...items].sort((a, b) => siblingOrder(group, a, b));
    if (sorted.every((el, index) => el === items[index])) return;
    const focused = group.contains(document.activeElement) ? document.activeElement : null;
    const more = [...group.children].find((el) => el.matches("li.more")) || null;
    for (const el of sorted) group.insertBefore(el, more);
    if (focused && focused.isConnected) focused.focus({ preventScroll: true });
  }

  function placeAmongSiblings(item, group) {
    const siblings = [...group.children].filter((el) => el !== item);
    const after = siblings.find((el) => el.matches(ITEM) && siblingOrder(group, el, item) > 0);
    const more = siblings.find((el) => el.matches("li.more"));
    const anchor = after || more || null;
    if (item.parentElement !== group || item.nextElementSibling !== anchor) {
      group.insertBefore(item, anchor);
    }
  }

  /** Keep aria-expanded true to what the group shows after children came or went. */
  function syncExpanded(item, fresh) {
    const group = groupOf(item);
    if (!group) return;
    const hasToggle = rowOf(item) && rowOf(item).querySelector("a.toggle");
    const visibleChildren = group.querySelector(ITEM);
    if (!hasToggle && !visibleChildren) {
      item.removeAttribute("aria-expanded");
      group.hidden = true;
      group.dataset.loaded = "true";
      return;
    }
    if (!item.hasAttribute("aria-expanded")) {
      // A leaf that just got its first child: show it if we have it, else offer to load.
      const shown = Boolean(visibleChildren);
      item.setAttribute("aria-expanded", shown ? "true" : "false");
      group.hidden = !shown;
      if (!shown) delete group.dataset.loaded;
    } else if (fresh && !fresh.hasAttribute("aria-expanded") && !visibleChildren) {
      item.removeAttribute("aria-expanded");
    }
  }

  // --- The action bar of the focused claim -----------------------------------------------------

  // What this reader may do, as the server rendered it on the tree (a muted member, a locked
  // map): the bar offers nothing the server would refuse. Missing attributes mean "yes".
  const treeAllows = (name) => {
    const tree = document.querySelector('[role="tree"][data-map]');
    return !tree || tree.dataset[name] !== "false";
  };

  function mayChange(item) {
    return me && treeAllows("canWrite") && (staff || item.dataset.author === me);
  }

  function actionBar(item) {
    const id = item.dataset.claim;
    const bar = document.createElement("span");
    bar.className = "claim-actions";
    bar.setAttribute("role", "toolbar");
    bar.setAttribute("aria-label", `Actions for claim #${id}`);
    let into = bar;
    const add = (label, attrs, title) => {
      const el = document.createElement(attrs.href ? "a" : "button");
      if (!attrs.href) el.type = "button";
      // A toolbar is one Tab stop, and only on the focused claim (see activateBar); the arrow
      // keys move inside it (see the keydown handler).
      el.tabIndex = -1;
      el.className = "action";
      el.textContent = label;
      if (title) el.title = title;
      for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
      into.append(el);
    };
    const compose = `#compose-${id}`;
    // A locked claim takes no new claims, except from moderators.
    const tree = item.closest('[role="tree"]');
    const moderator = Boolean(tree && tree.dataset.canModerate === "true");
    const locked = item.classList.contains("is-locked") && !moderator;
    if (treeAllows("canAdd") && !locked) {
      add("+ Pro", { "hx-get": `${claimUrl(id, "add")}?stance=support`, "hx-target": compose, "data-action": "add-support" }, "Add a claim that supports this one");
      add("+ Con", { "hx-get": `${claimUrl(id, "add")}?stance=counter`, "hx-target": compose, "data-action": "add-counter" }, "Add a counterpoint");
    }
    if (mayChange(item)) {
      add("Edit", { "hx-get": claimUrl(id, "edit"), "hx-target": `#row-${id}`, "hx-swap": "outerHTML", "data-action": "edit" });
      if (item.getAttribute("aria-level") !== "1" && !item.classList.contains("thesis")) {
        add("Move", { "hx-get": claimUrl(id, "move"), "hx-target": compose, "data-action": "move" });
        into = document.createElement("span"); // ↑ and ↓ wrap to a new line together
        into.className = "action-pair";
        bar.append(into);
        add("↑", { "hx-post": claimUrl(id, "reorder"), "hx-vals": '{"direction": "up"}', "hx-swap": "none", "aria-label": "Move up" }, "Move up among its siblings");
        add("↓", { "hx-post": claimUrl(id, "reorder"), "hx-vals": '{"direction": "down"}', "hx-swap": "none", "aria-label": "Move down" }, "Move down among its siblings");
        into = bar;
        add("Archive", { "hx-post": claimUrl(id, "archive"), "hx-target": `#claim-${id}`, "hx-swap": "outerHTML", "data-action": "archive" });
      }
    }
    add("Discuss", { href: claimUrl(id, "thread"), "data-action": "discuss", "data-thread": id }, "Open this claim's discussion");
    add("History", { href: claimUrl(id, "history") });
    if (treeAllows("canFlag")) {
      add("Report", { "hx-get": claimUrl(id, "flag"), "hx-target": compose, "data-action": "flag" }, "Report this claim to the moderators");
    }
    if (moderator) {
      // Moderator actions open a form (for the reason) in the compose box.
      const act = (label, action, title) => add(label, { "hx-get": claimUrl(id, `moderate/${action}`), "hx-target": compose, "data-action": `mod-${action}` }, title);
      const status = item.dataset.status || "published";
      if (status === "published" && !item.classList.contains("thesis")) act("Hide", "hide", "Hide this claim from readers");
      if (status === "hidden") act("Unhide", "restore", "Show this hidden claim again");
      if (item.classList.contains("is-locked")) act("Unlock", "unlock", "Allow new claims and edits again");
      else act("Lock", "lock", "No new claims under it, no edits");
    }
    return bar;
  }

  function ensureCompose(item) {
    const id = item.dataset.claim;
    let box = document.getElementById(`compose-${id}`);
    if (!box) {
      box = document.createElement("div");
      box.className = "compose";
      box.id = `compose-${id}`;
      rowOf(item).after(box);
    }
    return box;
  }

  function showActions(item) {
    if (!me || !item || !mapSlug()) return;
    const row = rowOf(item);
    if (!row || row.matches("form")) return;
    // One bar for the pointer and one for the focus at most: hovering must not take the bar
    // away from the claim a keyboard user is on (nor from the one whose button has focus).
    const focusedItem = itemOf(asElement(document.activeElement));
    for (const old of document.querySelectorAll(".claim-actions")) {
      const owner = itemOf(old);
      if (owner !== focusedItem && owner !== item) old.remove();
    }
    let bar = row.querySelector(".claim-actions");
    if (!bar) {
      ensureCompose(item);
      bar = actionBar(item);
      row.querySelector(".claim-meta").append(bar);
      window.htmx.process(bar);
    }
    if (item === focusedItem) activateBar(bar);
  }

  /** Put the focused claim's toolbar in the Tab order (a hovered claim's stays out of it). */
  function activateBar(bar) {
    const buttons = [...bar.querySelectorAll(".action")];
    if (!buttons.some((button) => button.tabIndex === 0) && buttons.length) buttons[0].tabIndex = 0;
  }

  document.addEventListener("focusin", (event) => {
    const item = itemOf(asElement(event.target));
    if (item && item === event.target) showActions(item);
  });
  document.addEventListener("mouseover", (event) => {
    const el = asElement(event.target);
    const row = el && el.closest(".claim-row");
    if (row) showActions(itemOf(row));
  });

  // --- Forms: focus, Escape, keep mine / keep theirs ------------------------------------------

  // htmx fires afterSwap on each element it put in place (for an outerHTML swap, the new
  // element, not the detached old one): focus the field of a form that just opened.
  document.addEventListener("htmx:afterSwap", (event) => {
    const el = asElement(event.target);
    if (!el || !el.isConnected) return;
    const opened = el.matches("form[data-claim-form], [data-move-dialog]")
      ? el
      : el.querySelector("form[data-claim-form], [data-move-dialog]");
    if (opened) {
      const field = opened.querySelector("textarea, input[type=search]");
      if (field && !opened.contains(document.activeElement)) {
        field.focus();
        if (field.setSelectionRange) field.setSelectionRange(field.value.length, field.value.length);
      }
      if (pendingQuote && opened.matches("form[data-claim-form]")) fillQuote(opened, pendingQuote);
    }
    const source = asElement(event.detail.requestConfig && event.detail.requestConfig.elt);
    if (el.matches(".claim-row") && source && source.matches("form[data-edit-form]")) {
      // An edit was saved or cancelled: give focus back to the claim. (Only then: other answers
      // refresh rows out of band, and must not pull the focus to them.)
      const item = itemOf(el);
      if (item && (document.activeElement === body || !document.activeElement)) focusItem(item);
    }
  });

  function cancelForm(form) {
    const item = itemOf(form);
    if (form.matches("[data-edit-form]")) {
      window.htmx.ajax("GET", form.dataset.cancelUrl, { target: form, swap: "outerHTML" }).then(() => {
        const again = item && document.getElementById(item.id);
        if (again) focusItem(again, { flash: false });
      });
      return;
    }
    const box = form.closest(".compose");
    if (box) box.replaceChildren();
    if (item) focusItem(item, { flash: false });
  }

  // The action bar is a WAI-ARIA toolbar: ←/→ (and Home/End) move between its buttons, Tab
  // leaves it, Escape goes back to the claim.
  document.addEventListener("keydown", (event) => {
    const el = asElement(event.target);
    const bar = el && el.closest(".claim-actions");
    if (!bar || event.altKey || event.ctrlKey || event.metaKey) return;
    const buttons = [...bar.querySelectorAll(".action")];
    const index = buttons.indexOf(el);
    const go = {
      ArrowRight: buttons[(index + 1) % buttons.length],
      ArrowLeft: buttons[(index - 1 + buttons.length) % buttons.length],
      Home: buttons[0],
      End: buttons[buttons.length - 1],
    }[event.key];
    if (go) {
      event.preventDefault();
      for (const button of buttons) button.tabIndex = button === go ? 0 : -1;
      go.focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      focusItem(itemOf(bar), { flash: false });
    }
  });

  document.addEventListener("keydown", (event) => {
    const el = asElement(event.target);
    const form = el && el.closest("form[data-claim-form], [data-move-dialog]");
    if (form && event.key === "Escape") {
      event.preventDefault();
      cancelForm(form);
      return;
    }
    if (form && event.key === "Enter" && (event.ctrlKey || event.metaKey) && el.matches("textarea")) {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    if (event.key === "Escape" && picking) stopPicking();
    if (picking && event.key === "Enter") {
      const item = itemOf(el);
      if (item && item === el) {
        event.preventDefault();
        event.stopImmediatePropagation();
        pickClaim(item);
      }
    }
  }, true);

  document.addEventListener("click", (event) => {
    const el = asElement(event.target);
    if (!el) return;
    const cancel = el.closest("[data-cancel]");
    const form = cancel && cancel.closest("form[data-claim-form], [data-move-dialog]");
    if (form && window.htmx) {
      event.preventDefault();
      cancelForm(form);
      return;
    }
    const keep = el.closest("[data-keep-mine], [data-keep-theirs]");
    if (keep) {
      const editForm = keep.closest("form");
      if (keep.matches("[data-keep-mine]")) {
        editForm.querySelector("textarea").value = editForm.querySelector("[data-mine]").textContent;
        editForm.requestSubmit();
      } else {
        cancelForm(editForm);
      }
      return;
    }
    if (picking) {
      const row = el.closest(".claim-row");
      if (row && itemOf(row)) {
        event.preventDefault();
        pickClaim(itemOf(row));
      }
    }
  }, true);

  // A claim was added by this reader: show and focus it in its place. htmx fires the response's
  // HX-Trigger events before it swaps, so remember the id and finish once the swap is done.
  let addedClaim = null;
  let focusAfterLoad = null;
  body.addEventListener("argmap:claimAdded", (event) => {
    addedClaim = String(event.detail.id);
    // Our own stream may have announced it first: keep one copy, the response's.
    const early = document.getElementById(`claim-${addedClaim}`);
    if (early) early.remove();
  });

  document.addEventListener("htmx:afterSwap", () => {
    if (addedClaim === null) return;
    const item = document.getElementById(`claim-${addedClaim}`);
    if (!item) return;
    addedClaim = null;
    if (quoteOf(item)) refreshArticle(); // a claim made from a selection: highlight its quote
    const parent = itemOf(item.parentElement);
    if (parent) {
      const group = groupOf(parent);
      if (group.dataset.loaded !== "true") {
        // Only the new claim is here; load its siblings too, then focus it.
        item.remove();
        const toggle = rowOf(parent).querySelector("a.toggle");
        if (toggle) {
          parent.setAttribute("aria-expanded", "false");
          parent.setAttribute("aria-busy", "true");
          window.htmx.process(toggle);
          window.htmx.trigger(toggle, "argmap:load");
          focusAfterLoad = { id: item.id, parent: parent.id };
        }
        return;
      }
      item.setAttribute("aria-level", String(Number(parent.getAttribute("aria-level") || 0) + 1));
      placeAmongSiblings(item, group); // before a "Show more" link, not after it
      group.hidden = false;
      parent.setAttribute("aria-expanded", "true");
    }
    focusItem(item);
  });

  // A claim that came live (or from this reader's own form) may come again in a page of
  // children loaded later ("Show more"): the copy just swapped in wins, in the server's order.
  document.addEventListener("htmx:afterSwap", (event) => {
    const el = asElement(event.target);
    if (!el || !el.matches(ITEM) || !el.isConnected) return;
    for (const other of document.querySelectorAll(`[id="${el.id}"]`)) {
      if (other !== el && !other.contains(el)) other.remove();
    }
  });

  // The children asked for above have arrived: focus the new claim among them (or, if it landed
  // past the first page, its parent).
  document.addEventListener("htmx:afterSettle", (event) => {
    if (focusAfterLoad === null) return;
    const target = asElement(event.detail.target);
    if (!target || target.id !== `group-${focusAfterLoad.parent.slice("claim-".length)}`) return;
    const item = document.getElementById(focusAfterLoad.id) || document.getElementById(focusAfterLoad.parent);
    focusAfterLoad = null;
    if (item) focusItem(item);
  });

  /** Make `item` the tree's Tab stop and focus it; `flash` marks where a claim landed. */
  function focusItem(item, { flash = true } = {}) {
    const tree = item.closest('[role="tree"]');
    if (!tree) return;
    for (const other of tree.querySelectorAll('[tabindex="0"]')) other.tabIndex = -1;
    item.tabIndex = 0;
    item.focus();
    if (!flash) return;
    item.classList.add("cited");
    window.setTimeout(() => item.classList.remove("cited"), 1600);
  }

  const siblingItem = (item, direction) => {
    let el = item[`${direction}ElementSibling`];
    while (el && !el.matches(ITEM)) el = el[`${direction}ElementSibling`];
    return el;
  };

  // Archiving takes the claim out of the tree: focus goes to its next sibling, else the previous
  // one, else its parent, instead of falling back to the top of the page.
  let afterArchive = null;
  document.addEventListener("htmx:beforeRequest", (event) => {
    const elt = asElement(event.detail.elt);
    if (!elt || !elt.matches('.claim-actions [data-action="archive"]')) return;
    const item = itemOf(elt);
    afterArchive = item && (siblingItem(item, "next") || siblingItem(item, "previous")
      || itemOf(item.parentElement));
  });
  // (The button is gone by the time htmx:afterRequest fires on it, and events on a detached
  // element never reach `document`: act from beforeSwap, once the swap is through.)
  document.addEventListener("htmx:beforeSwap", (event) => {
    const elt = asElement(event.detail.requestConfig && event.detail.requestConfig.elt);
    if (!afterArchive || !elt || !elt.matches('[data-action="archive"]')) return;
    const next = afterArchive;
    afterArchive = null;
    if (!event.detail.shouldSwap || event.detail.isError) return;
    window.setTimeout(() => {
      const lost = !document.activeElement || document.activeElement === body;
      if (next.isConnected && lost) focusItem(next, { flash: false });
    });
  });

  // After a move or reorder by this reader, pull at once and focus the claim where it landed.
  body.addEventListener("argmap:pull", (event) => {
    const id = event.detail && event.detail.focus;
    if (!id) return;
    body.addEventListener(
      "argmap:applied",
      () => {
        const item = document.getElementById(`claim-${id}`);
        if (item) focusItem(item);
      },
      { once: true },
    );
    // (The move dialog is closed by the response's own swap: removing it here, before htmx
    // swaps, would leave the response's out-of-band notice without a document to land in.)
  });

  // --- Notices ---------------------------------------------------------------------------------

  // "Moved.", "Archived … Undo", a refusal: out-of-band swaps into #live-notice, shown as a toast
  // (app.css). It clears itself after a while, but never under the pointer or the focus.
  let noticeTimer = null;
  document.addEventListener("htmx:oobAfterSwap", (event) => {
    const notice = asElement(event.target);
    if (notice && notice.id === "live-notice") clearNoticeLater(notice);
  });

  function clearNoticeLater(notice) {
    window.clearTimeout(noticeTimer);
    if (!notice.textContent.trim()) return;
    const seconds = notice.querySelector("button, a") ? 15 : notice.matches(".error") ? 10 : 6;
    noticeTimer = window.setTimeout(() => {
      if (!notice.isConnected) return;
      if (notice.matches(":hover, :focus-within")) {
        clearNoticeLater(notice);
        return;
      }
      notice.replaceChildren();
      notice.className = "notice";
      notice.setAttribute("role", "status");
    }, seconds * 1000);
  }

  // --- Quoting the article ---------------------------------------------------------------------

  let pendingQuote = null;
  let picking = false;
  const popup = document.createElement("div");
  popup.className = "selection-popup";
  popup.hidden = true;
  popup.innerHTML =
    '<button type="button" class="button primary" data-new-from-selection>New claim from selection</button>' +
    '<button type="button" class="button" data-use-selection>Use as quote</button>';
  body.append(popup);

  /** The selection inside one block of the article as a quote {exact, start, end}, or null. */
  function selectedQuote() {
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return null;
    const range = selection.getRangeAt(0);
    const start = asElement(range.startContainer.parentElement || range.startContainer);
    const block = start && start.closest("#article [data-offset]");
    if (!block || !block.contains(range.endContainer)) return null;
    const before = document.createRange();
    before.setStart(block, 0);
    before.setEnd(range.startContainer, range.startOffset);
    const offset = Number(block.dataset.offset) + [...before.toString()].length;
    let exact = range.toString();
    // Trim the whitespace a double-click often takes along, keeping offsets true.
    const lead = exact.length - exact.trimStart().length;
    exact = exact.trim();
    if (!exact) return null;
    const startAt = offset + [...range.toString().slice(0, lead)].length;
    return { exact, start: startAt, end: startAt + [...exact].length };
  }

  document.addEventListener("selectionchange", () => {
    if (!me || !mapSlug()) return;
    window.clearTimeout(popup.timer);
    popup.timer = window.setTimeout(() => {
      const quote = selectedQuote();
      if (!quote) {
        if (!popup.contains(document.activeElement)) popup.hidden = true;
        return;
      }
      popup.quote = quote;
      popup.querySelector("[data-use-selection]").hidden = !quoteTarget();
      popup.hidden = false;
      placePopup();
    }, 120);
  });

  // "Use as quote" fills the claim form the reader was last in (several may be open).
  let lastForm = null;
  document.addEventListener("focusin", (event) => {
    const form = asElement(event.target) && event.target.closest("form[data-claim-form]");
    if (form) lastForm = form;
  });
  const quoteTarget = () =>
    lastForm && lastForm.isConnected ? lastForm : document.querySelector("form[data-claim-form]");

  /** Put the popup under the selection, inside the window; hide it if the selection is out of
   * view (the article panel scrolls on its own in the two-column layout). */
  function placePopup() {
    const selection = window.getSelection();
    if (popup.hidden || !selection || !selection.rangeCount) return;
    const rect = selection.getRangeAt(0).getBoundingClientRect();
    const panel = document.getElementById("article");
    const frame = (panel && panel.closest(".article-panel")) || panel;
    const box = frame ? frame.getBoundingClientRect() : null;
    if (box && (rect.bottom < box.top || rect.top > box.bottom)) {
      popup.style.visibility = "hidden";
      return;
    }
    popup.style.visibility = "";
    const width = popup.offsetWidth;
    const left = Math.max(8, Math.min(rect.left, document.documentElement.clientWidth - width - 8));
    popup.style.top = `${window.scrollY + rect.bottom + 6}px`;
    popup.style.left = `${window.scrollX + left}px`;
  }

  document.addEventListener("scroll", placePopup, { capture: true, passive: true });
  window.addEventListener("resize", placePopup);

  popup.addEventListener("click", (event) => {
    const el = asElement(event.target);
    if (!el || !popup.quote) return;
    if (el.matches("[data-use-selection]")) {
      const form = quoteTarget();
      if (form) {
        fillQuote(form, popup.quote);
        const field = form.querySelector("textarea");
        if (field) field.focus(); // back to the writing, with the quote now in the form
      }
    } else if (el.matches("[data-new-from-selection]")) {
      pendingQuote = popup.quote;
      startPicking();
    }
    popup.hidden = true;
  });

  function fillQuote(form, quote) {
    const set = (name, value) => {
      const input = form.querySelector(`[name="${name}"]`);
      if (input) input.value = value;
    };
    set("quote_exact", quote.exact);
    set("quote_prefix", "");
    set("quote_suffix", "");
    set("quote_start", quote.start);
    set("quote_end", quote.end);
    const remove = form.querySelector('[name="remove_quote"]');
    if (remove) remove.checked = false;
    const preview = form.querySelector(".quote-preview");
    if (preview) {
      preview.hidden = false;
      preview.querySelector("[data-quote-preview]").textContent = quote.exact;
    }
  }

  const banner = document.createElement("div");
  banner.className = "pick-banner";
  banner.setAttribute("role", "status");
  banner.hidden = true;
  banner.innerHTML =
    "<span>Now pick the claim this quote speaks to: click it, or focus it and press Enter.</span> " +
    '<button type="button" class="link-button" data-stop-picking>Cancel</button>';
  body.append(banner);
  banner.addEventListener("click", (event) => {
    if (asElement(event.target).matches("[data-stop-picking]")) stopPicking();
  });

  function startPicking() {
    picking = true;
    body.classList.add("picking");
    banner.hidden = false;
    const current = document.querySelector('[role="tree"] [tabindex="0"]');
    if (current) current.focus();
  }

  /** Leave picking mode; unless a claim was picked, the quote is dropped (it must not turn up
   * in the next form this reader opens). */
  function stopPicking({ picked = false } = {}) {
    picking = false;
    body.classList.remove("picking");
    banner.hidden = true;
    if (!picked) pendingQuote = null;
  }

  function pickClaim(item) {
    stopPicking({ picked: true });
    const box = ensureCompose(item);
    window.htmx.ajax("GET", `${claimUrl(item.dataset.claim, "add")}?stance=support`, {
      target: box,
      swap: "innerHTML",
    }).then(() => {
      const form = box.querySelector("form[data-claim-form]");
      if (form && pendingQuote) fillQuote(form, pendingQuote);
      pendingQuote = null;
    });
  }
})();
