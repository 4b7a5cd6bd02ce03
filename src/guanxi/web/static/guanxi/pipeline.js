// The pipeline kanban: drag-and-drop with SortableJS, posting the move through htmx so the
// drag and the keyboard path (each card's stage menu) share one server response: the board
// re-rendered, plus a status line read out by screen readers. No inline handlers (CSP).
(function () {
  "use strict";

  function board() { return document.getElementById("board"); }

  function refreshBoard() {
    htmx.ajax("GET", window.location.pathname + window.location.search, { target: "#board", swap: "innerHTML" });
  }

  function onDrop(event) {
    var card = event.item;
    var stage = event.to.getAttribute("data-stage");
    if (!stage || event.from === event.to) { return; }
    board().setAttribute("data-pending", "1");
    htmx.ajax("POST", card.getAttribute("data-move-url"), {
      source: card, target: "#board", swap: "innerHTML",
      values: { stage: stage, version: card.getAttribute("data-version") }
    });
  }

  function enableDragging(root) {
    if (typeof Sortable === "undefined") { return; }
    var lists = root.querySelectorAll ? root.querySelectorAll("ul.deals[data-stage]") : [];
    lists.forEach(function (list) {
      var owner = list.closest("[data-board]");
      if (list.getAttribute("data-sortable-ready") || !owner || owner.getAttribute("data-can-move") !== "1") { return; }
      list.setAttribute("data-sortable-ready", "1");
      Sortable.create(list, {
        group: "pipeline", draggable: ".deal", animation: 120, forceFallback: true, fallbackTolerance: 4,
        filter: "select, button, a, input, label", preventOnFilter: false, onAdd: onDrop
      });
    });
  }

  htmx.onLoad(function (root) {
    enableDragging(root.querySelectorAll ? root : document);
  });

  // A refused move (409 someone else changed it, 422 invalid) still re-renders the board, so
  // the card goes back where the database says it is and the status line says why.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if ((status === 409 || status === 422 || status === 403) && event.detail.target === board()) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // The server announces every move (done or refused) with an HX-Trigger event; the status
  // line is a polite live region that stays in the page, so screen readers read it out.
  var focusDeal = null;
  var viaMenu = false;
  document.addEventListener("htmx:beforeRequest", function (event) {
    viaMenu = !!(event.detail.elt && event.detail.elt.matches && event.detail.elt.matches("form.deal-move"));
    if (viaMenu && board()) { board().setAttribute("data-pending", "1"); }
  });
  document.addEventListener("pipelineMoved", function (event) {
    var status = document.getElementById("pipeline-status");
    if (status) {
      status.textContent = event.detail.message;
      status.classList.toggle("refused", !event.detail.ok);
    }
    focusDeal = viaMenu ? String(event.detail.deal) : null;
  });

  // After a move through the stage menu, keep the keyboard where it was: on the moved card's menu.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target !== board()) { return; }
    board().removeAttribute("data-pending");
    if (!focusDeal) { return; }
    var card = board().querySelector('[data-deal="' + focusDeal + '"]');
    var menu = card && card.querySelector("select");
    focusDeal = null;
    if (menu) { menu.focus(); }
  });

  // Closing the lost-reason dialog without answering puts the card (dragged, or its menu) back.
  document.addEventListener("close", function (event) {
    if (event.target.id === "modal" && board() && board().getAttribute("data-pending")) {
      board().removeAttribute("data-pending");
      refreshBoard();
    }
  }, true);
})();
