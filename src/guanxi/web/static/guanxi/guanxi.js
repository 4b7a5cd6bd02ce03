// Guanxi's only hand-written script: the quick-action modal. Everything else is htmx attributes.
// No inline handlers (CSP): behaviour hangs off data attributes and htmx events.
(function () {
  "use strict";
  function modal() { return document.getElementById("modal"); }

  // A response swapped into the modal body opens the modal.
  document.addEventListener("htmx:afterSwap", function (event) {
    var dialog = modal();
    if (dialog && event.detail.target.id === "modal-body" && !dialog.open) {
      dialog.showModal();
      var first = dialog.querySelector("input:not([type=hidden]), select, textarea");
      if (first) { first.focus(); }
    }
  });

  // The server closes the modal after a successful quick action (HX-Trigger: closeModal).
  document.addEventListener("closeModal", function () {
    var dialog = modal();
    if (dialog && dialog.open) { dialog.close(); }
  });

  document.addEventListener("click", function (event) {
    var dialog = modal();
    if (!dialog) { return; }
    if (event.target.closest("[data-close-modal]") || event.target === dialog) { dialog.close(); }
  });

  // Escape or a click outside the search box hides live search results.
  document.addEventListener("click", function (event) {
    var box = document.getElementById("global-search-results");
    if (box && !event.target.closest(".global-search")) { box.innerHTML = ""; }
  });
  document.addEventListener("keydown", function (event) {
    var box = document.getElementById("global-search-results");
    if (event.key === "Escape" && box) { box.innerHTML = ""; }
  });
})();
