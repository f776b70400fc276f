// itilflow console, the definition editor. Check and Publish work without
// this script; it checks the text again when typing pauses, as the Check
// button would, and shows the problems and their lines beside it.
(function () {
  "use strict";
  var form = document.querySelector("form[data-check]");
  if (!form) { return; }
  var area = form.querySelector("textarea[name=source]");
  var summary = document.getElementById("check-summary");
  var list = document.getElementById("problems");
  var view = document.getElementById("numbered");
  var timer = null, asked = 0;

  area.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(check, 600);
  });

  // check posts the form as its Check button would, asking for JSON; only
  // the latest answer is shown.
  function check() {
    var body = new URLSearchParams(new FormData(form)), n = ++asked;
    body.set("op", "check");
    fetch(form.action, { method: "POST", body: body, credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok && /json/.test(r.headers.get("Content-Type")) ? r.json() : null; })
      .then(function (res) { if (res && n === asked) { show(res); } })
      .catch(function () {});
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  // show lists the problems, each a link to its line, and numbers the text
  // again with those lines flagged, as the server renders them.
  function show(res) {
    summary.textContent = res.summary;
    summary.className = "verdict " + (res.valid ? "ok" : "bad");
    var flagged = {}, items = res.problems.map(function (p) {
      var li = el("li");
      if (p.line > 0) {
        flagged[p.line] = true;
        var a = el("a");
        a.href = "#L" + p.line;
        a.dataset.line = p.line;
        a.dataset.column = p.column;
        a.append(el("span", "pos", p.line + ":" + p.column), " " + p.text);
        li.append(a);
      } else {
        li.textContent = p.text;
      }
      return li;
    });
    list.replaceChildren.apply(list, items);
    var lines = area.value.replace(/\r\n/g, "\n").replace(/\n$/, "").split("\n");
    view.replaceChildren.apply(view, lines.map(function (text, i) {
      var li = el("li", flagged[i + 1] ? "flagged" : "");
      li.id = "L" + (i + 1);
      var ln = el("span", "ln", String(i + 1));
      ln.setAttribute("aria-hidden", "true");
      li.append(ln, el("code", "", text));
      if (flagged[i + 1]) { li.append(el("span", "sr", " " + view.dataset.flagged)); }
      return li;
    }));
    showFirstProblem();
  }

  // showFirstProblem scrolls the numbered text, not the page, to the first
  // flagged line.
  function showFirstProblem() {
    var first = view.querySelector("li.flagged");
    if (first) { view.scrollTop = first.offsetTop - view.clientHeight / 3; }
  }
  showFirstProblem();

  // A problem's link jumps to its line in the numbered text, and puts the
  // caret at its place in the text being edited.
  list.addEventListener("click", function (e) {
    var a = e.target.closest("a[data-line]");
    if (!a) { return; }
    var line = Number(a.dataset.line), lines = area.value.split("\n"), at = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) { at += lines[i].length + 1; }
    at += Math.max(Number(a.dataset.column) - 1, 0);
    area.setSelectionRange(at, at);
    area.focus({ preventScroll: true });
    area.scrollTop = (line - 3) * parseFloat(getComputedStyle(area).lineHeight);
  });
})();
