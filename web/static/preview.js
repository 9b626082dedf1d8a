// Progressive enhancement of a scoring form: the running total and the verdict preview refresh as scores are typed.
(function () {
  var form = document.querySelector("form[data-preview]");
  var box = document.getElementById("preview");
  if (!form || !box || !window.fetch) return;
  var timer = null;
  function refresh() {
    fetch(form.getAttribute("data-preview"), {
      method: "POST", body: new FormData(form), headers: { "X-Requested-With": "fetch" }, credentials: "same-origin"
    }).then(function (r) { return r.ok ? r.text() : null; }).then(function (html) { if (html) box.innerHTML = html; });
  }
  form.addEventListener("input", function (e) {
    if (!e.target.name || e.target.name.indexOf("score-") !== 0) return;
    clearTimeout(timer); timer = setTimeout(refresh, 250);
  });
})();
