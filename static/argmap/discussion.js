/*
 * Argmap in the browser, part three: discussion threads.
 *
 * On the map page a claim's thread opens in the side panel (#thread-panel) instead of its own
 * page: from the claim's comment count in the tree, or "Discuss" in its action bar. Without
 * JavaScript those are ordinary links to the thread page, and every form there posts normally.
 *
 * The thread stays live: when the map's live feed says a claim changed (live.js dispatches
 * "argmap:claimChanged"), an open thread of that claim re-reads its comments. A refresh, and the
 * answer to a posted comment, replace the list of comments but never a form being written in:
 * open reply and edit forms are carried over into the new list, focus and caret included.
 *
 * Listeners are delegated from `document`; state lives in the DOM.
 */
(() => {
  "use strict";

  const body = document.body;
  const asElement = (target) => (target instanceof Element ? target : null);
  const panel = () => document.getElementById("thread-panel");
  const openThread = () => {
    const p = panel();
    return p && !p.hidden ? p.querySelector(".thread[data-claim]") : null;
  };
  let opener = null;

  // --- Opening and closing the panel ----------------------------------------------------------

  function open(url, from) {
    const p = panel();
    if (!p || !window.htmx) return false;
    opener = from || null;
    window.htmx.ajax("GET", url, { target: p, swap: "innerHTML" }).then(() => {
      p.hidden = false;
      body.classList.add("thread-open");
      const heading = p.querySelector(".thread-header h2");
      if (heading) {
        heading.tabIndex = -1;
        heading.focus();
      }
    });
    return true;
  }

  function close() {
    const p = panel();
    if (!p) return;
    p.hidden = true;
    p.replaceChildren();
    body.classList.remove("thread-open");
    if (opener && opener.isConnected) {
      const item = opener.closest('[role="treeitem"]');
      (item || opener).focus();
    }
    opener = null;
  }

  document.addEventListener("click", (event) => {
    const el = asElement(event.target);
    if (!el || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    const link = el.closest('a[data-thread], a[data-action="discuss"]');
    if (link && panel() && open(link.getAttribute("href"), link)) {
      event.preventDefault();
      return;
    }
    if (el.closest("[data-thread-close]")) {
      event.preventDefault();
      close();
      return;
    }
    const cancel = el.closest("[data-reply-cancel]");
    if (cancel && window.htmx) {
      event.preventDefault();
      const slot = cancel.closest(".reply-slot");
      const comment = cancel.closest(".comment");
      if (slot) slot.replaceChildren();
      const reply = comment && comment.querySelector("[data-reply]");
      if (reply) reply.focus();
    }
  });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const el = asElement(event.target);
    const p = panel();
    if (!p || p.hidden || !el || !p.contains(el)) return;
    if (el.matches("textarea") && el.value.trim()) return; // never close over a draft
    event.preventDefault();
    close();
  });

  // A reply or edit form that just opened gets the focus.
  document.addEventListener("htmx:afterSwap", (event) => {
    const el = asElement(event.target);
    if (!el || !el.isConnected) return;
    const form = el.matches("form[data-comment-form]") ? el : el.querySelector("form[data-comment-form]");
    if (!form || !el.closest(".reply-slot, .comment")) return;
    const field = form.querySelector("textarea");
    if (field && !form.contains(document.activeElement)) {
      field.focus();
      field.setSelectionRange(field.value.length, field.value.length);
    }
  });

  // --- A comment's edit history, opened under it ------------------------------------------------
  // "edited" (and a tombstone's "history", for moderators) loads the history into the comment's
  // slot with htmx; pressing it again, or "Hide history", closes it. Without JS it is a page.

  const historyToggle = (slot) => {
    const comment = slot.closest(".comment");
    return comment && comment.querySelector("[data-history-toggle]");
  };

  function closeHistory(slot, focus) {
    slot.replaceChildren();
    const toggle = historyToggle(slot);
    if (toggle) {
      toggle.setAttribute("aria-expanded", "false");
      if (focus) toggle.focus();
    }
  }

  // Capturing, so an open history closes before htmx would load it again.
  document.addEventListener("click", (event) => {
    const el = asElement(event.target);
    if (!el || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    const toggle = el.closest("[data-history-toggle]");
    const slot = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
    if (slot && slot.childElementCount) {
      event.preventDefault();
      event.stopPropagation();
      closeHistory(slot, false);
      return;
    }
    const hide = el.closest("[data-history-close]");
    const shown = hide && hide.closest(".history-slot");
    if (shown) {
      event.preventDefault();
      closeHistory(shown, true);
    }
  }, true);

  document.addEventListener("htmx:afterSwap", (event) => {
    const slot = asElement(event.target);
    if (!slot || !slot.matches(".history-slot") || !slot.isConnected) return;
    const toggle = historyToggle(slot);
    if (toggle) toggle.setAttribute("aria-expanded", "true");
    const heading = slot.querySelector(".comment-history-header [tabindex]");
    if (heading) heading.focus();
  });

  // --- Replacing the list of comments without losing drafts -------------------------------------

  /** Put `fresh` (a list of comments) in place of `list`, carrying over the forms open in it
   * (except `done`, the form whose post produced `fresh`). */
  function replaceList(list, fresh, done) {
    const focused = list.contains(document.activeElement) ? document.activeElement : null;
    const caret = focused && "selectionStart" in focused
      ? [focused.selectionStart, focused.selectionEnd] : null;
    for (const form of list.querySelectorAll("form[data-comment-form]")) {
      if (form === done) continue;
      const editing = form.closest(".comment");
      const slot = form.closest(".reply-slot");
      if (slot) {
        const target = fresh.querySelector(`#${CSS.escape(slot.id)}`);
        if (target) target.replaceChildren(form);
      } else if (editing) {
        const target = fresh.querySelector(`#${CSS.escape(editing.id)}`);
        // Kept as it is being edited; a comment gone meanwhile (hidden, say) keeps its form too.
        if (target) target.replaceWith(editing);
        else fresh.append(editing);
      }
    }
    // Open edit histories stay open too.
    for (const slot of list.querySelectorAll(".history-slot")) {
      if (!slot.childElementCount) continue;
      const target = fresh.querySelector(`#${CSS.escape(slot.id)}`);
      if (!target || target === slot) continue;
      target.replaceChildren(...slot.childNodes);
      const toggle = historyToggle(target);
      if (toggle) toggle.setAttribute("aria-expanded", "true");
    }
    list.replaceWith(fresh);
    window.htmx.process(fresh);
    if (focused && focused.isConnected) {
      focused.focus({ preventScroll: true });
      if (caret) focused.setSelectionRange(caret[0], caret[1]);
    }
    updateCount(fresh);
  }

  function updateCount(list) {
    const claim = list.dataset.claim;
    const count = document.getElementById(`thread-count-${claim}`);
    if (count && list.dataset.visible !== undefined) count.textContent = `(${list.dataset.visible})`;
  }

  const parseList = (html) => {
    const doc = new DOMParser().parseFromString(html, "text/html");
    const fresh = doc.querySelector("ol.comments[data-claim]");
    return fresh ? document.importNode(fresh, true) : null;
  };

  // A posted comment or reply answers with the new list: swap it in ourselves, keeping drafts.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const target = asElement(event.detail.target);
    if (!target || !target.matches("ol.comments[data-claim]")) return;
    if (!event.detail.shouldSwap || event.detail.isError) return;
    const fresh = parseList(event.detail.serverResponse);
    if (!fresh) return;
    event.detail.shouldSwap = false;
    const done = asElement(event.detail.requestConfig && event.detail.requestConfig.elt);
    replaceList(target, fresh, done && done.closest("form"));
  });

  // The top form is emptied once its comment is in.
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = asElement(event.detail.elt);
    if (!form || !form.matches("form[data-comment-form]") || !event.detail.successful) return;
    if (form.closest(".thread") && !form.closest(".comments")) form.reset();
  });

  // --- Live: re-read an open thread whose claim changed ------------------------------------------

  let loading = null;
  let again = false;

  function refresh() {
    const thread = openThread();
    if (!thread) return;
    if (loading) {
      again = true;
      return;
    }
    const url = thread.dataset.threadUrl;
    loading = fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
      .then((html) => {
        const current = openThread();
        if (!current || current.dataset.threadUrl !== url) return;
        const list = current.querySelector("ol.comments[data-claim]");
        const fresh = parseList(html);
        if (list && fresh) replaceList(list, fresh, null);
        body.dispatchEvent(new CustomEvent("argmap:threadRefreshed", { bubbles: true }));
      })
      .catch((status) => {
        // Gone for this reader (claim hidden or archived): say so rather than show stale talk.
        if (status === 404) {
          const current = openThread();
          const list = current && current.querySelector("ol.comments");
          if (list) list.replaceChildren(Object.assign(document.createElement("li"), {
            className: "empty",
            textContent: "This claim is no longer shown, and neither is its discussion.",
          }));
        }
      })
      .finally(() => {
        loading = null;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  body.addEventListener("argmap:claimChanged", (event) => {
    const thread = openThread();
    if (!thread) return;
    const id = event.detail && event.detail.id;
    if (id === null || id === undefined || String(id) === thread.dataset.claim) refresh();
  });
})();
