// itilflow console: everything works without this script; it only spares a
// click or a reload.
(function () {
  "use strict";
  // The language menu applies as soon as a language is chosen.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
    s.addEventListener("change", function () { s.form.submit(); });
  });
  // A process page reloads when its process changes (a timer fired, someone
  // else acted), unless the person is filling in a form.
  var page = document.querySelector("[data-process]");
  if (!page) { return; }
  var id = page.getAttribute("data-process"), seq = page.getAttribute("data-seq"), editing = false;
  document.addEventListener("input", function () { editing = true; });
  setInterval(function () {
    if (editing || document.hidden) { return; }
    fetch("/processes/" + encodeURIComponent(id) + "/seq", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : seq; })
      .then(function (now) { if (now !== seq) { location.reload(); } })
      .catch(function () {});
  }, 5000);
})();
