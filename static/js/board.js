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
  var annotation = window["chartjs-plugin-annotation"];
  if (annotation) { window.Chart.register(annotation); }

  var charts = {};
  var lastSuccess = null;
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
      options.scales = { y: { min: -1, max: 1 } };
    } else if (name === "official") {
      options.scales = {
        x: { type: "category", labels: payload.labels, ticks: { maxTicksLimit: 12 } },
        y: { type: "category", labels: payload.categories, offset: true }
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
    var body = document.getElementById("queue-body");
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
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status + " for " + url); }
      return r.json();
    });
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
      lastSuccess = Date.now();
      board.dataset.refreshedAt = String(lastSuccess);
      showAge();
    }, function () {
      // A failed poll is not an error to shout about: the stale warning tells people when it lasts.
      showAge();
    }).then(function () { inFlight = false; });
  }

  function showAge() {
    var ago = document.getElementById("updated-ago");
    var stale = document.getElementById("stale-warning");
    if (lastSuccess === null) { text(ago, board.dataset.textNever); return; }
    var age = Date.now() - lastSuccess;
    text(ago, board.dataset.textUpdated.replace("{s}", String(Math.round(age / 1000))));
    stale.hidden = !(age > STALE_AFTER_MS && !document.hidden);
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
