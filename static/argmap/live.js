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
      window.htmx.ajax("GET", window.location.pathname, {
        target: '[role="tree"]',
        select: '[role="tree"]',
        swap: "outerHTML",
      });
      state.dataset.version = changes.dataset.version;
      return;
    }
    for (const template of changes.querySelectorAll("template[data-claim]")) {
      const id = template.dataset.claim;
      const existing = document.getElementById(`claim-${id}`);
      if (template.dataset.state === "gone") {
        if (existing) removeItem(existing);
        continue;
      }
      const fresh = template.content.querySelector(ITEM);
      if (!fresh) continue;
      const parentId = template.dataset.parent;
      if (existing) {
        const currentParent = itemOf(existing.parentElement);
        if (parentId && currentParent && currentParent.dataset.claim !== parentId) {
          removeItem(existing);
          insertItem(fresh, parentId);
        } else {
          updateItem(existing, fresh);
        }
      } else if (parentId) {
        insertItem(fresh, parentId);
      }
    }
    state.dataset.version = changes.dataset.version;
    body.dispatchEvent(new CustomEvent("argmap:applied", { bubbles: true }));
  }

  function removeItem(item) {
    const parent = itemOf(item.parentElement);
    if (item.contains(document.activeElement) && parent) parent.focus();
    item.remove();
    if (parent) syncExpanded(parent);
  }

  /** Refresh a claim's row in place, keeping its loaded children and any open form. */
  function updateItem(item, fresh) {
    const row = rowOf(item);
    const freshRow = rowOf(fresh);
    if (row && freshRow && !row.matches("form")) {
      row.replaceWith(freshRow);
      window.htmx.process(freshRow);
    }
    item.className = fresh.className;
    for (const name of ["data-position", "data-author", "data-quote-start", "data-quote-end"]) {
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

  function placeAmongSiblings(item, group) {
    const position = Number(item.dataset.position);
    const siblings = [...group.children].filter((el) => el !== item);
    const after = siblings.find(
      (el) => el.matches(ITEM) && Number(el.dataset.position) > position,
    );
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

  function mayChange(item) {
    return me && (staff || item.dataset.author === me);
  }

  function actionBar(item) {
    const id = item.dataset.claim;
    const bar = document.createElement("span");
    bar.className = "claim-actions";
    bar.setAttribute("role", "toolbar");
    bar.setAttribute("aria-label", "Claim actions");
    const add = (label, attrs, title) => {
      const el = document.createElement(attrs.href ? "a" : "button");
      if (!attrs.href) el.type = "button";
      el.className = "action";
      el.textContent = label;
      if (title) el.title = title;
      for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
      bar.append(el);
    };
    const compose = `#compose-${id}`;
    add("+ Pro", { "hx-get": `${claimUrl(id, "add")}?stance=support`, "hx-target": compose, "data-action": "add-support" }, "Add a claim that supports this one");
    add("+ Con", { "hx-get": `${claimUrl(id, "add")}?stance=counter`, "hx-target": compose, "data-action": "add-counter" }, "Add a counterpoint");
    if (mayChange(item)) {
      add("Edit", { "hx-get": claimUrl(id, "edit"), "hx-target": `#row-${id}`, "hx-swap": "outerHTML", "data-action": "edit" });
      if (item.getAttribute("aria-level") !== "1" && !item.classList.contains("thesis")) {
        add("Move", { "hx-get": claimUrl(id, "move"), "hx-target": compose, "data-action": "move" });
        add("↑", { "hx-post": claimUrl(id, "reorder"), "hx-vals": '{"direction": "up"}', "hx-swap": "none", "aria-label": "Move up" });
        add("↓", { "hx-post": claimUrl(id, "reorder"), "hx-vals": '{"direction": "down"}', "hx-swap": "none", "aria-label": "Move down" });
        add("Archive", { "hx-post": claimUrl(id, "archive"), "hx-target": `#claim-${id}`, "hx-swap": "outerHTML", "data-action": "archive" });
      }
    }
    add("History", { href: claimUrl(id, "history") });
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
    if (!row || row.matches("form") || row.querySelector(".claim-actions")) return;
    for (const old of document.querySelectorAll(".claim-actions")) {
      if (!old.contains(document.activeElement)) old.remove();
    }
    ensureCompose(item);
    const bar = actionBar(item);
    row.querySelector(".claim-meta").prepend(bar);
    window.htmx.process(bar);
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

  document.addEventListener("htmx:afterSwap", (event) => {
    const target = asElement(event.detail.target);
    if (!target) return;
    const form = target.matches("form[data-claim-form]")
      ? target
      : target.querySelector("form[data-claim-form], [data-move-dialog] input[type=search]");
    if (form) {
      const field = form.matches("input") ? form : form.querySelector("textarea");
      if (field) {
        field.focus();
        if (field.setSelectionRange) field.setSelectionRange(field.value.length, field.value.length);
      }
      if (pendingQuote && form.matches("form[data-claim-form]")) fillQuote(form, pendingQuote);
    }
    if (target.matches(".claim-row") && !target.matches("form")) {
      // An edit was saved or cancelled: give focus back to the claim.
      const item = itemOf(target);
      if (item && (document.activeElement === body || !document.activeElement)) item.focus();
    }
  });

  function cancelForm(form) {
    const item = itemOf(form);
    if (form.matches("[data-edit-form]")) {
      window.htmx.ajax("GET", form.dataset.cancelUrl, { target: form, swap: "outerHTML" }).then(() => {
        const again = item && document.getElementById(item.id);
        if (again) again.focus();
      });
      return;
    }
    const box = form.closest(".compose");
    if (box) box.replaceChildren();
    if (item) item.focus();
  }

  document.addEventListener("keydown", (event) => {
    const el = asElement(event.target);
    const form = el && el.closest("form[data-claim-form], [data-move-dialog]");
    if (form && event.key === "Escape") {
      event.preventDefault();
      cancelForm(form.matches("form") ? form : form);
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

  // A claim was added by this reader: show and focus it in its place.
  body.addEventListener("argmap:claimAdded", (event) => {
    const item = document.getElementById(`claim-${event.detail.id}`);
    if (!item) return;
    const parent = itemOf(item.parentElement);
    if (parent) {
      const group = groupOf(parent);
      if (group.dataset.loaded !== "true") {
        // Only the new claim is here; load its siblings too, then focus it.
        delete group.dataset.loaded;
        item.remove();
        parent.setAttribute("aria-expanded", "false");
        const toggle = rowOf(parent).querySelector("a.toggle");
        if (toggle) {
          parent.setAttribute("aria-busy", "true");
          window.htmx.process(toggle);
          window.htmx.trigger(toggle, "argmap:load");
          focusAfterLoad = event.detail.id;
        }
        return;
      }
      item.setAttribute("aria-level", String(Number(parent.getAttribute("aria-level") || 0) + 1));
      group.hidden = false;
      parent.setAttribute("aria-expanded", "true");
    }
    focusItem(item);
  });

  let focusAfterLoad = null;
  document.addEventListener("htmx:afterSettle", () => {
    if (focusAfterLoad === null) return;
    const item = document.getElementById(`claim-${focusAfterLoad}`);
    if (item) {
      focusAfterLoad = null;
      focusItem(item);
    }
  });

  function focusItem(item) {
    const tree = item.closest('[role="tree"]');
    for (const other of tree.querySelectorAll('[tabindex="0"]')) other.tabIndex = -1;
    item.tabIndex = 0;
    item.focus();
    item.classList.add("cited");
    window.setTimeout(() => item.classList.remove("cited"), 1600);
  }

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
    const dialog = document.querySelector("[data-move-dialog]");
    if (dialog) dialog.closest(".compose").replaceChildren();
  });

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
      const rect = window.getSelection().getRangeAt(0).getBoundingClientRect();
      popup.style.top = `${window.scrollY + rect.bottom + 6}px`;
      popup.style.left = `${window.scrollX + rect.left}px`;
      popup.querySelector("[data-use-selection]").hidden = !document.querySelector(
        "form[data-claim-form]",
      );
      popup.hidden = false;
    }, 120);
  });

  popup.addEventListener("click", (event) => {
    const el = asElement(event.target);
    if (!el || !popup.quote) return;
    if (el.matches("[data-use-selection]")) {
      const form = document.querySelector("form[data-claim-form]");
      if (form) fillQuote(form, popup.quote);
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

  function stopPicking() {
    picking = false;
    body.classList.remove("picking");
    banner.hidden = true;
  }

  function pickClaim(item) {
    stopPicking();
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
