// Keyboard shortcuts for the review queue and item pages. The forms work without this file;
// it only selects rows, submits the selected row's form with a key, and remembers the
// reviewer's name in this browser. It never builds HTML from data.
"use strict";

(function () {
  const reviewerKey = "infodemic.reviewer";
  const reviewerInput = document.getElementById("reviewer");

  function reviewerFields() {
    return document.querySelectorAll("input.reviewer-field");
  }

  function applyReviewer(name) {
    if (!name) return;
    if (reviewerInput) reviewerInput.value = name;
    reviewerFields().forEach((field) => { field.value = name; });
  }

  try {
    applyReviewer(window.localStorage.getItem(reviewerKey));
  } catch (_) { /* storage may be disabled */ }

  if (reviewerInput) {
    reviewerInput.addEventListener("input", () => {
      const name = reviewerInput.value.trim();
      reviewerFields().forEach((field) => { field.value = name; });
      try { window.localStorage.setItem(reviewerKey, name); } catch (_) { /* ignore */ }
    });
  }

  const rows = Array.from(document.querySelectorAll("li.queue-item"));
  let selected = -1;

  function select(index) {
    if (rows.length === 0) return;
    const bounded = Math.max(0, Math.min(rows.length - 1, index));
    if (selected >= 0 && rows[selected]) rows[selected].classList.remove("selected");
    selected = bounded;
    const row = rows[selected];
    row.classList.add("selected");
    row.setAttribute("aria-current", "true");
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  const queue = document.getElementById("queue");
  if (queue) {
    const at = parseInt(queue.dataset.at || "0", 10);
    select(Number.isFinite(at) ? at : 0);
    rows.forEach((row, index) => row.addEventListener("click", () => select(index)));
  }

  // The form a verdict key submits: the selected row's on the queue, the item's own form on
  // an item page.
  function currentForm() {
    if (rows.length > 0 && selected >= 0) return rows[selected].querySelector("form.verdict-form");
    return document.querySelector("article.item form.verdict-form");
  }

  function submitVerdict(key) {
    const form = currentForm();
    if (!form) return false;
    const button = form.querySelector('button.verdict[data-key="' + key + '"]');
    if (!button) return false;
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit(button);
    } else {
      button.click();
    }
    return true;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    const typing = target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement ||
      target instanceof HTMLSelectElement;
    if (typing) return;
    const key = event.key;
    if (key === "j") { select(selected + 1); event.preventDefault(); return; }
    if (key === "k") { select(selected - 1); event.preventDefault(); return; }
    if ((key === "o" || key === "Enter") && rows.length > 0 && selected >= 0) {
      const link = rows[selected].querySelector("a.open");
      if (link) { window.location.assign(link.getAttribute("href")); event.preventDefault(); }
      return;
    }
    if (key === "?") {
      const help = document.getElementById("help");
      if (help && typeof help.showModal === "function") help.showModal();
      event.preventDefault();
      return;
    }
    if (key.length === 1 && submitVerdict(key)) event.preventDefault();
  });
})();
