/* The brand page's download form: says how many rows each download holds with the filters as they stand.
 * The server counts (the same queries as the downloads); this file only asks again when a filter changes. */
(function () {
  "use strict";

  var form = document.getElementById("download-form");
  var output = document.getElementById("download-count");
  if (!form || !output || !window.fetch) { return; }

  var timer = null;
  var sequence = 0;

  function ask() {
    var params = new URLSearchParams(new FormData(form));
    params.delete("bom");
    var mine = ++sequence;
    fetch(form.dataset.countsUrl + "?" + params.toString(), {
      credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (answer) {
      if (mine !== sequence) { return; } // a newer question is on its way
      output.textContent = answer.ok ? answer.body.text : answer.body.error;
      output.classList.toggle("download-count-error", !answer.ok);
    }).catch(function () { /* keep the last count: the download itself still works */ });
  }

  form.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, 300);
  });
  form.addEventListener("change", ask);
})();
