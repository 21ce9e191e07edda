/*
 * Curation: the new-map form's size check, and the annotate view, where a selected passage of
 * the article fills the claim form with the passage and its offsets.
 *
 * Offsets are sent in Unicode code points, the unit of Python's str (and of the server's
 * anchors): JavaScript strings count UTF-16 code units, so an emoji before the passage would
 * otherwise shift it by one. `[...text].length` counts code points. Each block of the rendered
 * article carries `data-offset`, its start in the source, in code points.
 */
(() => {
  "use strict";

  const asElement = (target) => (target instanceof Element ? target : null);
  const codePoints = (text) => {
    let count = 0;
    for (const _ of text) count += 1; // iterates code points, without building an array
    return count;
  };

  // --- New map: refuse a too-large article before sending it (nothing typed is lost) --------

  document.addEventListener(
    "submit",
    (event) => {
      const form = asElement(event.target);
      if (!form || !form.matches("[data-new-map-form]")) return;
      const text = form.querySelector("[data-max-chars]");
      const error = form.querySelector("[data-size-error]");
      if (!text || !error) return;
      const limit = Number(text.dataset.maxChars);
      const size = codePoints(text.value);
      if (size <= limit) {
        error.hidden = true;
        return;
      }
      // Capture phase on document: stop the event before htmx (on the form) sends it.
      event.preventDefault();
      event.stopImmediatePropagation();
      error.textContent =
        `The article text is larger than ${limit.toLocaleString("en")} characters ` +
        `(it has ${size.toLocaleString("en")}). Shorten it or split it into several sources.`;
      error.hidden = false;
      text.setAttribute("aria-invalid", "true");
      text.focus();
    },
    true,
  );

  // --- Annotate: a selection in the article becomes the form's passage ---------------------

  const popup = document.createElement("div");
  popup.className = "selection-popup annotate-popup";
  popup.hidden = true;
  const claimButton = document.createElement("button");
  claimButton.type = "button";
  claimButton.className = "button primary";
  claimButton.dataset.claimFromPassage = "";
  claimButton.textContent = "Claim from this passage";
  popup.append(claimButton);

  /** The selection inside one block of the article as {exact, start, end} in code points. */
  function selectedPassage() {
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return null;
    const range = selection.getRangeAt(0).cloneRange();
    const startEl = asElement(range.startContainer.parentElement || range.startContainer);
    const block = startEl && startEl.closest("[data-annotate] [data-offset]");
    if (!block) return null;
    if (!block.contains(range.endContainer)) {
      // A triple-click selects the paragraph up to the start of the next one: keep the part in
      // this block if nothing but white space lies beyond it.
      const beyond = document.createRange();
      beyond.setStart(block, block.childNodes.length);
      beyond.setEnd(range.endContainer, range.endOffset);
      if (beyond.toString().trim()) return null;
      range.setEnd(block, block.childNodes.length);
    }
    const before = document.createRange();
    before.setStart(block, 0);
    before.setEnd(range.startContainer, range.startOffset);
    const raw = range.toString();
    const exact = raw.trim();
    if (!exact) return null;
    const lead = raw.length - raw.trimStart().length;
    const start =
      Number(block.dataset.offset) + codePoints(before.toString()) + codePoints(raw.slice(0, lead));
    return { exact, start, end: start + codePoints(exact) };
  }

  document.addEventListener("selectionchange", () => {
    if (!document.querySelector("[data-annotate]")) return;
    window.clearTimeout(popup.timer);
    popup.timer = window.setTimeout(() => {
      const passage = selectedPassage();
      if (!passage) {
        if (!popup.contains(document.activeElement)) popup.hidden = true;
        return;
      }
      if (!popup.isConnected) document.body.append(popup);
      popup.passage = passage;
      popup.hidden = false;
      const rect = window.getSelection().getRangeAt(0).getBoundingClientRect();
      const left = Math.max(8, Math.min(rect.left, document.documentElement.clientWidth - 240));
      popup.style.top = `${window.scrollY + rect.bottom + 6}px`;
      popup.style.left = `${window.scrollX + left}px`;
    }, 120);
  });

  let prefilled = "";
  claimButton.addEventListener("click", () => {
    const form = document.querySelector("[data-annotate-form]");
    if (!form || !popup.passage) return;
    fillPassage(form, popup.passage);
    popup.hidden = true;
  });

  function fillPassage(form, passage) {
    const set = (name, value) => {
      const input = form.querySelector(`[name="${name}"]`);
      if (input) input.value = value;
    };
    set("quote_exact", passage.exact);
    set("quote_prefix", "");
    set("quote_suffix", "");
    set("quote_start", passage.start);
    set("quote_end", passage.end);
    const text = form.querySelector('[name="text"]');
    if (text) {
      // Prefill the claim from the passage unless the curator already wrote their own.
      if (!text.value.trim() || text.value === prefilled) {
        prefilled = passage.exact.split(/\s+/).join(" ");
        text.value = prefilled;
      }
      text.focus();
    }
  }

  // Editing the passage by hand drops the offsets: the server then finds it by its text.
  document.addEventListener("input", (event) => {
    const el = asElement(event.target);
    if (!el || el.name !== "quote_exact" || !el.closest("[data-annotate-form]")) return;
    for (const name of ["quote_start", "quote_end"]) {
      const input = el.form.querySelector(`[name="${name}"]`);
      if (input) input.value = "";
    }
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !popup.hidden) popup.hidden = true;
  });
})();
