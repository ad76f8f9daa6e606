/* The live incident board: creates each chart once, then polls the JSON endpoints and updates in place.
 * Every figure arrives computed and worded by the server (METRICS.md); this file only draws it.
 * Polls every 5 s while the tab is visible, every 60 s while hidden, and says when updates stop. */
(function () {
  "use strict";

  var board = document.getElementById("board");
  if (!board || !window.Chart) { return; }

  var VISIBLE_MS = 5000;
  var HIDDEN_MS = 60000;
  var STALE_AFTER_MS = 20000; // four missed refreshes while visible
  var REQUEST_TIMEOUT_MS = 15000; // a request that hangs must not stop the polling for good
  var annotation = window["chartjs-plugin-annotation"];
  if (annotation) { window.Chart.register(annotation); }

  var charts = {};
  // Ages are measured on the monotonic clock: a laptop waking up or a clock being set back never shows
  // "updated -40 s ago" or hides the stale warning.
  function now() { return window.performance && performance.now ? performance.now() : Date.now(); }
  var loadedAt = now(); // the page itself arrived with fresh tiles and queue
  var lastSuccess = null;
  var lastQueue = null;
  var timer = null;
  var inFlight = false;

  var commonOptions = {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    interaction: { mode: "nearest", intersect: false },
    plugins: { legend: { position: "bottom", labels: { usePointStyle: true } } }
  };

  function optionsFor(name, canvas, payload) {
    var options = JSON.parse(JSON.stringify(commonOptions));
    if (name === "volume") {
      options.scales = { x: { ticks: { maxTicksLimit: 12 } }, y: { beginAtZero: true, ticks: { precision: 0 } } };
      options.plugins.annotation = { annotations: phaseBoxes(payload) };
    } else if (name === "frt") {
      options.scales = {
        y: { beginAtZero: true, title: { display: true, text: canvas.dataset.axisLeft } },
        y1: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false },
              title: { display: true, text: canvas.dataset.axisRight } }
      };
    } else if (name === "tone") {
      // Customers' net sentiment (line, left) against the official posts' categories (stacked bars, right).
      options.scales = {
        x: { stacked: true, ticks: { maxTicksLimit: 12 } },
        y: { min: -1, max: 1, title: { display: true, text: canvas.dataset.axisLeft } },
        y1: { position: "right", beginAtZero: true, stacked: true, grid: { drawOnChartArea: false },
              ticks: { precision: 0 }, title: { display: true, text: canvas.dataset.axisRight } }
      };
    } else if (name === "official") {
      options.scales = {
        x: { type: "category", labels: payload.labels, ticks: { maxTicksLimit: 12 } },
        y: { type: "category", labels: payload.categories, offset: true }
      };
      // Off-platform channels with nothing to show stay out of the legend.
      options.plugins.legend.labels.filter = function (item, data) {
        var dataset = data.datasets[item.datasetIndex];
        return !dataset.hideWhenEmpty || dataset.data.length > 0;
      };
      options.plugins.tooltip = { callbacks: { label: function (ctx) {
        var raw = ctx.raw || {};
        return (raw.kind ? raw.kind + ": " : "") + (raw.text || "");
      } } };
    }
    return options;
  }

  function phaseBoxes(payload) {
    var phases = payload.phases || {};
    var boxes = {};
    if (phases.during) {
      boxes.during = {
        type: "box", xMin: phases.during.from, xMax: phases.during.to,
        backgroundColor: "rgba(213, 94, 0, 0.12)", borderColor: "#D55E00", borderWidth: 1, borderDash: [4, 4],
        label: { display: true, content: phases.during.label, position: "start", color: "#1b1f24" }
      };
    }
    ["before", "after"].forEach(function (key) {
      var phase = phases[key];
      if (phase && phase.to > phase.from) {
        boxes[key] = {
          type: "box", xMin: phase.from, xMax: phase.to, backgroundColor: "rgba(0, 0, 0, 0)", borderWidth: 0,
          label: { display: true, content: phase.label, position: "start", color: "#57606a" }
        };
      }
    });
    return boxes;
  }

  function draw(name, canvas, payload) {
    var chart = charts[name];
    if (!chart) {
      charts[name] = new window.Chart(canvas, {
        type: name === "official" ? "scatter" : (name === "volume" ? "bar" : "line"),
        data: { labels: payload.labels, datasets: payload.datasets },
        options: optionsFor(name, canvas, payload)
      });
      return;
    }
    chart.data.labels = payload.labels;
    // Replace data arrays dataset by dataset so Chart.js keeps its state (hidden series, hover) intact.
    payload.datasets.forEach(function (dataset, i) {
      if (chart.data.datasets[i]) { chart.data.datasets[i].data = dataset.data; }
      else { chart.data.datasets.push(dataset); }
    });
    if (name === "volume") { chart.options.plugins.annotation.annotations = phaseBoxes(payload); }
    if (name === "official") { chart.options.scales.x.labels = payload.labels; }
    chart.update("none");
  }

  function text(el, value) { if (el) { el.textContent = value; } }

  function renderTiles(tiles) {
    tiles.forEach(function (tile) {
      var el = board.querySelector('[data-tile="' + tile.key + '"]');
      if (!el) { return; }
      text(el.querySelector(".tile-value"), tile.value);
      text(el.querySelector(".tile-hint"), tile.hint || "");
      el.classList.toggle("tile-alert", Boolean(tile.alert));
    });
  }

  function cell(row, content) {
    var td = document.createElement("td");
    if (content instanceof Node) { td.appendChild(content); } else { td.textContent = content; }
    row.appendChild(td);
    return td;
  }

  function renderQueue(queue) {
    // Unchanged queue: leave the DOM alone, so a keyboard user tabbing through it keeps their place.
    var signature = JSON.stringify(queue);
    if (signature === lastQueue) { return; }
    lastQueue = signature;
    var body = document.getElementById("queue-body");
    // Remember which row held the focus, to give it back to the same mention after the rows are replaced.
    var focused = document.activeElement && body.contains(document.activeElement) ? document.activeElement : null;
    var focusedRow = focused ? focused.closest("tr[data-mention]") : null;
    var focusedMention = focusedRow ? focusedRow.dataset.mention : null;
    var rows = document.createDocumentFragment();
    if (!queue.length) {
      var empty = document.createElement("tr");
      empty.className = "empty-row";
      var td = cell(empty, board.dataset.textNoUnanswered);
      td.colSpan = 4;
      td.className = "empty";
      rows.appendChild(empty);
    }
    queue.forEach(function (item) {
      var row = document.createElement("tr");
      row.dataset.mention = item.id;
      cell(row, item.waiting);
      cell(row, "@" + item.author);
      var post = cell(row, "");
      if (item.complaint) {
        var badge = document.createElement("span");
        badge.className = "badge complaint";
        badge.textContent = "⚠ " + board.dataset.textComplaint;
        post.appendChild(badge);
        post.appendChild(document.createTextNode(" "));
      }
      post.appendChild(document.createTextNode(item.text));
      if (item.url) {
        var link = document.createElement("a");
        link.href = item.url;
        link.rel = "noopener noreferrer";
        link.target = "_blank";
        link.textContent = item.platform + " — " + board.dataset.textOpen;
        cell(row, link);
      } else {
        cell(row, item.platform);
      }
      rows.appendChild(row);
    });
    body.replaceChildren(rows);
    if (focused) {
      var again = focusedMention && body.querySelector('tr[data-mention="' + focusedMention + '"] a');
      // The mention was answered and left the queue: focus the queue itself rather than losing the place.
      var table = body.closest("table");
      if (again) { again.focus(); } else if (table) { table.setAttribute("tabindex", "-1"); table.focus(); }
    }
  }

  function getJSON(url) {
    var controller = window.AbortController ? new AbortController() : null;
    var timeout = controller ? window.setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" },
                        signal: controller ? controller.signal : undefined }).then(function (r) {
      // A redirect to the login page (session expired) is no update either.
      if (!r.ok || r.redirected) { throw new Error("HTTP " + r.status + " for " + url); }
      return r.json();
    }).finally(function () { window.clearTimeout(timeout); });
  }

  function refresh() {
    if (inFlight) { return Promise.resolve(); }
    inFlight = true;
    var canvases = Array.prototype.slice.call(board.querySelectorAll("canvas[data-chart]"));
    var jobs = canvases.map(function (canvas) {
      return getJSON(canvas.dataset.url).then(function (payload) { draw(canvas.dataset.chart, canvas, payload); });
    });
    jobs.push(getJSON(board.dataset.liveUrl).then(function (live) {
      renderTiles(live.tiles);
      renderQueue(live.queue);
      text(document.getElementById("board-status"), live.status);
    }));
    return Promise.all(jobs).then(function () {
      lastSuccess = now();
      board.dataset.refreshedAt = String(Date.now());
      showAge();
    }, function () {
      // A failed poll is not an error to shout about: the stale warning tells people when it lasts.
      showAge();
    }).then(function () { inFlight = false; });
  }

  function showAge() {
    var ago = document.getElementById("updated-ago");
    var stale = document.getElementById("stale-warning");
    var age = now() - (lastSuccess === null ? loadedAt : lastSuccess);
    if (lastSuccess === null) { text(ago, board.dataset.textNever); }
    else { text(ago, board.dataset.textUpdated.replace("{s}", String(Math.max(0, Math.round(age / 1000))))); }
    // Also when no poll ever succeeded: the page's own figures are as old as the page.
    var isStale = age > STALE_AFTER_MS && !document.hidden;
    if (stale && stale.hidden === isStale) { stale.hidden = !isStale; }
    board.classList.toggle("board-stale", isStale);
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { refresh().then(schedule); }, document.hidden ? HIDDEN_MS : VISIBLE_MS);
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { refresh().then(schedule); } else { schedule(); }
  });
  window.setInterval(showAge, 1000);
  refresh().then(schedule);
})();
