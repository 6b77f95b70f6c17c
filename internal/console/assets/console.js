// console.js — the few things latchkey's console does that HTML cannot do
// alone: copy buttons, the reveal toggle's label, enabling "Done" once
// "I have stored the key" is ticked, and showing the custom expiry date only
// when it is chosen. Every page works without it. No inline script exists
// (the CSP forbids it); behaviour hangs off data-* attributes, bound once
// at the document so that pages swapped in by htmx work too.
(function () {
  "use strict";

  function syncEnables(box) {
    var target = document.querySelector(box.getAttribute("data-enables"));
    if (target) target.disabled = !box.checked;
  }

  function syncShowWhen(root) {
    root.querySelectorAll("[data-show-when]").forEach(function (el) {
      var rule = el.getAttribute("data-show-when").split("=");
      var ctl = document.getElementById(rule[0]);
      if (ctl) el.hidden = ctl.value !== rule[1];
    });
  }

  // On phones the navigation is one row that scrolls sideways: keep the
  // current page's item in sight.
  function showCurrentNav() {
    var cur = document.querySelector(".sidebar [aria-current=page]");
    var list = cur && cur.closest("ul");
    if (list && list.scrollWidth > list.clientWidth) {
      list.scrollLeft = cur.offsetLeft - (list.clientWidth - cur.offsetWidth) / 2;
    }
  }

  function init(root) {
    root.querySelectorAll("[data-copy]").forEach(function (b) { b.hidden = false; });
    root.querySelectorAll("[data-enables]").forEach(syncEnables);
    syncShowWhen(document);
    showCurrentNav();
  }

  function say(button, text) {
    var status = button.parentElement.querySelector(".copy-status");
    if (status) status.textContent = text;
  }

  function copy(button) {
    var src = document.querySelector(button.getAttribute("data-copy"));
    if (!src) return;
    var text = src.value !== undefined && src.tagName === "INPUT" ? src.value : src.textContent.trim();
    var fallback = function () {
      var ta = document.createElement("textarea");
      ta.value = text;
      ta.setAttribute("readonly", "");
      ta.className = "offscreen";
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(ta);
      say(button, ok ? "Copied" : "Press Ctrl+C to copy");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { say(button, "Copied"); }, fallback);
    } else {
      fallback();
    }
  }

  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-copy]");
    if (b) { copy(b); return; }
    // A click outside an open menu closes it, as people expect of menus.
    document.querySelectorAll("details.menu[open]").forEach(function (d) {
      if (!d.contains(e.target)) d.open = false;
    });
  });

  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach(function (d) {
      d.open = false;
      var s = d.querySelector("summary");
      if (s) s.focus();
    });
  });

  document.addEventListener("change", function (e) {
    if (e.target.matches("[data-enables]")) syncEnables(e.target);
    if (e.target.tagName === "SELECT") syncShowWhen(document);
  });

  document.addEventListener("input", function (e) {
    // Typing a custom date means choosing "Custom date".
    if (e.target.id === "expires_at") {
      var sel = document.getElementById("expires");
      if (sel) sel.value = "custom";
    }
  });

  // toggle does not bubble: listen in the capture phase.
  document.addEventListener("toggle", function (e) {
    var d = e.target;
    if (!d.matches || !d.matches("details.reveal")) return;
    var label = d.querySelector("[data-reveal-label]");
    if (label) label.textContent = d.open ? "Hide" : "Reveal";
    var mask = d.parentElement.querySelector(".secret-mask");
    if (mask) mask.hidden = d.open;
  }, true);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
  document.addEventListener("htmx:load", function (e) { init(e.target); });
})();
