/* The live board: creates each chart once on the board's one time axis, then polls the JSON endpoints and
 * updates in place. Every figure arrives computed and worded by the server (METRICS.md); this file only draws it.
 *
 * Light updates (incidents/live_updates.py): each endpoint answers 304 when nothing changed, or a patch from the
 * version this page holds (new buckets appended, changed values replaced), so an open board costs a few KB a
 * minute instead of re-downloading every series. Polls every 5 s while the tab is visible, every 60 s while
 * hidden, and says when updates stop. */
(function () {
  "use strict";

  var board = document.getElementById("board");
  if (!board) { return; }
  var Chart = window.Chart;
  var annotationPlugin = window["chartjs-plugin-annotation"];
  if (Chart && annotationPlugin) { Chart.register(annotationPlugin); }

  var VISIBLE_MS = 5000;
  var HIDDEN_MS = 60000;
  var STALE_AFTER_MS = 20000; // four missed refreshes while visible
  var REQUEST_TIMEOUT_MS = 15000; // a request that hangs must not stop the polling for good
  var Y_AXIS_WIDTH = 52; // every chart's y-axis is this wide, so the time axes line up under each other
  var LANG = board.dataset.lang || "en";
  var T = board.dataset;
  var canManage = T.canManage === "1";

  var store = {}; // url -> {version, payload}: what this page holds of each endpoint
  var charts = {};
  var chartPayloads = {};
  var live = null;
  // Ages are measured on the monotonic clock: a laptop waking up or a clock being set back never shows
  // "updated -40 s ago" or hides the stale warning.
  function now() { return window.performance && performance.now ? performance.now() : Date.now(); }
  var loadedAt = now(); // the page itself arrived with fresh tiles and queue
  var lastSuccess = null;
  var timer = null;
  var inFlight = false;

  function fmt(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (match, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : match;
    });
  }
  function text(el, value) { if (el && el.textContent !== value) { el.textContent = value; } }
  function has(obj, key) { return obj !== null && typeof obj === "object" && Object.prototype.hasOwnProperty.call(obj, key); }

  // --- Patches: the same rules as incidents.live_updates.patch_apply ---------------------------------------
  function applyPatch(old, patch) {
    if (patch === null || patch === undefined) { return old; }
    if (has(patch, "$v")) { return patch.$v; }
    if (has(patch, "$o")) {
      var out = {};
      Object.keys(old || {}).forEach(function (k) { out[k] = old[k]; });
      Object.keys(patch.$o).forEach(function (k) { out[k] = applyPatch(out[k], patch.$o[k]); });
      (patch.$del || []).forEach(function (k) { delete out[k]; });
      return out;
    }
    if (has(patch, "$r")) {
      var key = patch.$r;
      var before = {};
      (old || []).forEach(function (row) { before[String(row[key])] = row; });
      return patch.order.map(function (id) {
        var sid = String(id);
        return has(patch.rows, sid) ? applyPatch(before[sid], patch.rows[sid]) : before[sid];
      });
    }
    if (has(patch, "$l")) {
      var list = (old || []).slice(0, patch.$l);
      while (list.length < patch.$l) { list.push(null); }
      Object.keys(patch.at).forEach(function (i) { list[Number(i)] = applyPatch(list[Number(i)], patch.at[i]); });
      return list;
    }
    throw new Error("not a patch");
  }

  function request(url, options) {
    var controller = window.AbortController ? new AbortController() : null;
    var timeout = controller ? window.setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;
    options = options || {};
    options.credentials = "same-origin";
    options.signal = controller ? controller.signal : undefined;
    return fetch(url, options).finally(function () { window.clearTimeout(timeout); });
  }

  // One endpoint's current payload: 304 keeps what we hold, a patch updates it, a full answer replaces it.
  function fetchVersioned(url, retried) {
    var held = store[url];
    var headers = { Accept: "application/json" };
    var target = url;
    if (held) {
      target = url + (url.indexOf("?") >= 0 ? "&" : "?") + "since=" + encodeURIComponent(held.version);
      headers["If-None-Match"] = '"' + held.version + '"';
    }
    return request(target, { headers: headers, cache: "no-store" }).then(function (r) {
      if (r.status === 304 && held) { return { payload: held.payload, changed: false }; }
      // A redirect to the login page (session expired) is no update either.
      if (!r.ok || r.redirected) { throw new Error("HTTP " + r.status + " for " + url); }
      return r.json().then(function (body) {
        var payload;
        if (has(body, "full")) { payload = body.full; }
        else if (has(body, "patch") && held && body.base === held.version) { payload = applyPatch(held.payload, body.patch); }
        else if (!retried) { delete store[url]; return fetchVersioned(url, true); }
        else { throw new Error("no usable answer from " + url); }
        store[url] = { version: body.version, payload: payload };
        return { payload: payload, changed: true };
      });
    });
  }

  // --- Time axis and marks ----------------------------------------------------------------------------------
  function formatter(options) {
    try { return new Intl.DateTimeFormat(LANG, Object.assign({ timeZone: live.axis.zone }, options)); }
    catch (e) { return new Intl.DateTimeFormat(LANG, Object.assign({ timeZone: "UTC" }, options)); }
  }

  // Ticks come from the server at round times of the brand's clock; on a narrow chart every other (or third)
  // one is kept, and a kept tick shows its date when it is the first of its day.
  function xScale(axis) {
    var shown = {};
    return {
      type: "linear", min: axis.min, max: axis.max, offset: false,
      afterBuildTicks: function (scale) {
        var every = Math.max(1, Math.ceil(axis.ticks.length * 80 / Math.max(scale.width, 1)));
        var kept = axis.ticks.filter(function (t, i) { return i % every === 0; });
        shown = {};
        var lastDate = null;
        kept.forEach(function (t) {
          var label = t.time ? [t.time] : [t.date];
          if (t.time && t.date !== lastDate) { label.push(t.date); }
          lastDate = t.date;
          shown[t.at] = label;
        });
        scale.ticks = kept.map(function (t) { return { value: t.at }; });
      },
      ticks: { autoSkip: false, maxRotation: 0, includeBounds: false,
               callback: function (value) { return shown[value] || ""; } },
      grid: { color: "rgba(0,0,0,0.06)" }
    };
  }

  function yScale(y, stacked) {
    var scale = { beginAtZero: y.min === 0, stacked: Boolean(stacked), ticks: { precision: 0, maxTicksLimit: 6 },
                  title: { display: Boolean(y.title), text: y.title },
                  afterFit: function (s) { s.width = Y_AXIS_WIDTH; } };
    if (y.min !== undefined) { scale.min = y.min; }
    if (y.max !== undefined) { scale.max = y.max; }
    if (y.min === -1) { scale.ticks.precision = 1; }
    return scale;
  }

  function pixelWidth(chart, from, to) {
    var x = chart.scales.x;
    if (!x) { return 0; }
    return x.getPixelForValue(Math.min(to, x.max)) - x.getPixelForValue(Math.max(from, x.min));
  }

  // A box's label only shows when the box is wide enough for it: "before" and "outage window" never overlap.
  function fits(from, to, label) {
    return function (ctx) { return pixelWidth(ctx.chart, from, to) > label.length * 6.5 + 10; };
  }

  // Labels along the time axis (status changes, channels) are kept left to right while they do not touch the
  // one before; the others stay marks without words.
  function labelShown(items, index, text) {
    return function (ctx) {
      var x = ctx.chart.scales.x;
      if (!x) { return false; }
      var lastRight = -Infinity;
      var kept = false;
      for (var k = 0; k <= index; k += 1) {
        var px = x.getPixelForValue(items[k].at);
        var half = (text(items[k]).length * 5.6 + 8) / 2;
        kept = px >= x.left && px <= x.right && px - half >= lastRight + 4;
        if (kept) { lastRight = px + half; }
      }
      return kept;
    };
  }
  function statusShown(statuses, index) { return labelShown(statuses, index, function (s) { return s.label; }); }

  var patterns = {};
  function pattern(colour, kind) {
    var key = colour + kind;
    if (patterns[key]) { return patterns[key]; }
    if (kind === "solid") { patterns[key] = colour; return colour; }
    var size = 8;
    var canvas = document.createElement("canvas");
    canvas.width = size; canvas.height = size;
    var c = canvas.getContext("2d");
    c.fillStyle = colour; c.fillRect(0, 0, size, size);
    c.strokeStyle = "rgba(255,255,255,0.85)"; c.fillStyle = "rgba(255,255,255,0.85)"; c.lineWidth = 1.5;
    c.beginPath();
    if (kind === "diagonal") { c.moveTo(0, size); c.lineTo(size, 0); c.moveTo(-2, 2); c.lineTo(2, -2); c.moveTo(size - 2, size + 2); c.lineTo(size + 2, size - 2); }
    else if (kind === "cross") { c.moveTo(size / 2, 0); c.lineTo(size / 2, size); c.moveTo(0, size / 2); c.lineTo(size, size / 2); }
    else if (kind === "vertical") { c.moveTo(size / 2, 0); c.lineTo(size / 2, size); }
    else if (kind === "zigzag") { c.moveTo(0, 6); c.lineTo(2, 2); c.lineTo(4, 6); c.lineTo(6, 2); c.lineTo(8, 6); }
    c.stroke();
    if (kind === "dots") { c.beginPath(); c.arc(size / 2, size / 2, 1.6, 0, 2 * Math.PI); c.fill(); }
    patterns[key] = c.createPattern(canvas, "repeat");
    return patterns[key];
  }

  function hatch() { return pattern("rgba(87,96,106,0.28)", "diagonal"); }

  function annotationsFor(name, payload) {
    var marks = live.marks;
    var a = {};
    var w = marks.window;
    a.window = {
      type: "box", xMin: w.from, xMax: w.to, adjustScaleRange: false, drawTime: "beforeDatasetsDraw",
      backgroundColor: "rgba(213,94,0,0.09)", borderColor: "rgba(213,94,0,0.75)", borderWidth: 1, borderDash: [4, 4],
      label: { display: fits(w.from, w.to, w.label), content: w.label, position: { x: "start", y: "start" },
               yAdjust: 16, color: "#1b1f24", backgroundColor: "rgba(255,255,255,0.8)", font: { size: 11 }, padding: 3 }
    };
    marks.phases.forEach(function (p, i) {
      a["phase" + i] = {
        type: "box", xMin: p.from, xMax: p.to, adjustScaleRange: false, drawTime: "beforeDatasetsDraw",
        backgroundColor: "rgba(0,0,0,0)", borderWidth: 0,
        label: { display: fits(p.from, p.to, p.label), content: p.label, position: { x: "start", y: "start" },
                 yAdjust: 16, color: "#57606a", backgroundColor: "rgba(255,255,255,0.8)", font: { size: 11 }, padding: 3 }
      };
    });
    marks.silences.forEach(function (s, i) {
      a["silence" + i] = { type: "box", xMin: s.from, xMax: s.to, adjustScaleRange: false, drawTime: "beforeDatasetsDraw",
                           backgroundColor: hatch(), borderWidth: 0, yMin: function (ctx) {
                             var y = ctx.chart.scales.y; return y ? y.max - (y.max - y.min) * 0.06 : 0; } };
    });
    if (name === "within" && marks.pending && marks.pending.to > marks.pending.from) {
      a.pending = { type: "box", xMin: marks.pending.from, xMax: marks.pending.to, adjustScaleRange: false,
                    drawTime: "beforeDatasetsDraw", backgroundColor: "rgba(0,114,178,0.08)", borderWidth: 0 };
    }
    marks.statuses.forEach(function (s, i) {
      a["status" + i] = {
        type: "line", scaleID: "x", value: s.at, adjustScaleRange: false, borderColor: "#1b1f24", borderWidth: 1.5,
        label: { display: statusShown(marks.statuses, i), content: s.label, position: "end", color: "#1b1f24",
                 backgroundColor: "rgba(255,255,255,0.9)", font: { size: 10 }, padding: 2 }
      };
    });
    var offPlatform = marks.communications.filter(function (c) { return c.off_platform; });
    marks.communications.forEach(function (c, i) {
      var style = marks.styles[c.category] || {};
      var top = function (ctx) { var y = ctx.chart.scales.y; return y ? y.max : 0; };
      // Off-platform communications (SMS, video…) take their channel's shape, edged in black, and are named.
      a["comm" + i] = { type: "point", xValue: c.at, yValue: top, yAdjust: 7, adjustScaleRange: false,
                        pointStyle: c.point || style.point || "circle", radius: c.off_platform ? 6 : 4.5,
                        backgroundColor: style.colour || "#000", borderColor: c.off_platform ? "#000000" : "#ffffff",
                        borderWidth: c.off_platform ? 2 : 1, drawTime: "afterDatasetsDraw" };
      if (c.off_platform) {
        a["channel" + i] = { type: "label", xValue: c.at, yValue: top, yAdjust: 22, adjustScaleRange: false,
                             content: c.channel, color: "#000000", backgroundColor: "rgba(255,255,255,0.85)",
                             display: labelShown(offPlatform, offPlatform.indexOf(c), function (m) { return m.channel; }),
                             font: { size: 10, weight: "bold" }, padding: 1, drawTime: "afterDatasetsDraw" };
      }
      if (c.off_message) {
        a["off" + i] = { type: "point", xValue: c.at, yValue: top, yAdjust: 7, adjustScaleRange: false,
                         pointStyle: "crossRot", radius: 8, backgroundColor: "rgba(0,0,0,0)", borderColor: "#000000",
                         borderWidth: 2, drawTime: "afterDatasetsDraw" };
      }
    });
    if (payload.target) {
      a.target = { type: "line", scaleID: "y", value: payload.target.value, borderColor: "#1a7f37", borderWidth: 1.5,
                   borderDash: [2, 3],
                   label: { display: true, content: payload.target.label, position: "start", color: "#1a7f37",
                            backgroundColor: "rgba(255,255,255,0.9)", font: { size: 10 }, padding: 2 } };
    }
    return a;
  }

  // --- Charts -----------------------------------------------------------------------------------------------
  function points(series, data) {
    var out = new Array(data.length);
    for (var i = 0; i < data.length; i += 1) { out[i] = { x: series.start + (i + 0.5) * series.step, y: data[i] }; }
    return out;
  }

  function isEmpty(v) { return v === null || v === undefined; }
  // No point markers on lines; a lone bucket between gaps gets a dot, or it would not show at all.
  function loneRadius(ctx) {
    var data = ctx.dataset.data;
    var i = ctx.dataIndex;
    if (!data[i] || isEmpty(data[i].y)) { return 0; }
    var before = i > 0 && data[i - 1] ? data[i - 1].y : null;
    var after = i < data.length - 1 && data[i + 1] ? data[i + 1].y : null;
    return isEmpty(before) && isEmpty(after) ? 2.5 : 0;
  }

  function datasetFor(d, series) {
    var line = d.type === "line";
    return {
      label: d.label, type: d.type, data: points(series, d.data), borderColor: d.colour,
      backgroundColor: d.pattern ? pattern(d.colour, d.pattern) : d.colour, borderDash: d.dash || [],
      borderWidth: line ? 2 : 0, pointRadius: line ? loneRadius : 0, pointHoverRadius: line ? 4 : 0,
      pointHitRadius: 6, spanGaps: Boolean(d.spanGaps), stack: d.stack, barPercentage: 1, categoryPercentage: 0.9,
      order: line ? 0 : 1, tension: 0
    };
  }

  function tooltipTitle(items) {
    if (!items.length || !live) { return ""; }
    var step = live.axis.step;
    var start = items[0].parsed.x - step / 2;
    return formatter({ weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" })
      .format(new Date(start)) + " – " + formatter({ hour: "2-digit", minute: "2-digit" }).format(new Date(start + step));
  }

  function optionsFor(name, payload) {
    return {
      responsive: true, maintainAspectRatio: false, animation: false, normalized: true,
      interaction: { mode: "index", intersect: false, axis: "x" },
      layout: { padding: { top: 10 } },
      scales: { x: Object.assign(xScale(live.axis), { stacked: Boolean(payload.stacked) }),
                y: yScale(payload.y || {}, payload.stacked) },
      plugins: {
        legend: { position: "bottom", labels: { boxWidth: 14, boxHeight: 10, padding: 8, font: { size: 11 } } },
        tooltip: { callbacks: { title: tooltipTitle } },
        annotation: { clip: false, annotations: annotationsFor(name, payload) }
      },
      onClick: function (event, elements, chart) {
        var x = chart.scales.x.getValueForPixel(event.x);
        if (x >= live.axis.min && x < live.axis.max) { showBucket(x); }
      }
    };
  }

  function drawChart(name, canvas, payload) {
    chartPayloads[name] = payload;
    var caption = board.querySelector('[data-bucket-of="' + name + '"]');
    text(caption, payload.bucket ? "· " + payload.bucket : "");
    if (!Chart) { return; }
    var chart = charts[name];
    var datasets = payload.datasets.map(function (d) { return datasetFor(d, payload.series); });
    if (!chart) {
      var anyBar = payload.datasets.some(function (d) { return d.type === "bar"; });
      charts[name] = new Chart(canvas, { type: anyBar ? "bar" : "line", data: { datasets: datasets },
                                         options: optionsFor(name, payload) });
      return;
    }
    // Data replaced dataset by dataset so Chart.js keeps its state (hidden series, hover) intact.
    datasets.forEach(function (dataset, i) {
      if (chart.data.datasets[i]) { chart.data.datasets[i].data = dataset.data; chart.data.datasets[i].label = dataset.label; }
      else { chart.data.datasets.push(dataset); }
    });
    chart.data.datasets.length = datasets.length;
    chart.options.scales.y = yScale(payload.y || {}, payload.stacked);
    chart.options.plugins.annotation.annotations = annotationsFor(name, payload);
    chart.update("none");
  }

  function applyAxisAndMarks() {
    Object.keys(charts).forEach(function (name) {
      var chart = charts[name];
      chart.options.scales.x = Object.assign(xScale(live.axis), { stacked: Boolean(chartPayloads[name].stacked) });
      chart.options.plugins.annotation.annotations = annotationsFor(name, chartPayloads[name]);
      chart.update("none");
    });
  }

  // --- Tiles ------------------------------------------------------------------------------------------------
  function renderTiles(tiles) {
    var list = board.querySelector(".tiles");
    tiles.forEach(function (tile) {
      var el = board.querySelector('[data-tile="' + tile.key + '"]');
      if (!el) {
        el = document.createElement("li");
        el.className = "tile";
        el.dataset.tile = tile.key;
        ["tile-label", "tile-value", "tile-hint"].forEach(function (cls) {
          var part = document.createElement(cls === "tile-value" ? "strong" : "span");
          part.className = cls;
          el.appendChild(part);
        });
        list.appendChild(el);
      }
      text(el.querySelector(".tile-label"), tile.label);
      text(el.querySelector(".tile-value"), tile.value);
      text(el.querySelector(".tile-hint"), tile.hint || "");
      el.classList.toggle("tile-alert", Boolean(tile.alert));
    });
  }

  // --- Queue ------------------------------------------------------------------------------------------------
  var queueBody = document.getElementById("queue-body");
  var queueTable = document.getElementById("queue-table");
  var columnLabels = queueTable ? Array.prototype.map.call(queueTable.querySelectorAll("thead th"), function (th) {
    return th.textContent.trim();
  }) : [];
  var lastRows = null;

  function queueQuery() {
    var params = new URLSearchParams(window.location.search);
    var keep = new URLSearchParams();
    ["order", "state", "complaints", "lang", "platform", "older", "after", "before"].forEach(function (k) {
      if (params.get(k)) { keep.set(k, params.get(k)); }
    });
    return keep.toString();
  }
  function queueUrl() { var q = queueQuery(); return T.queueUrl + (q ? "?" + q : ""); }

  function cell(row, cls, label) {
    var td = document.createElement("td");
    td.className = cls;
    if (label) { td.dataset.label = label; }
    row.appendChild(td);
    return td;
  }

  function buildRow(item) {
    var row = document.createElement("tr");
    row.dataset.mention = item.id;
    row.className = "age-" + item.age;
    var offset = 0;
    if (canManage) {
      var pick = cell(row, "q-select");
      var box = document.createElement("input");
      box.type = "checkbox"; box.name = "mention"; box.value = item.id; box.setAttribute("form", "queue-actions");
      box.setAttribute("aria-label", fmt(T.textSelect, { author: item.author }));
      pick.appendChild(box);
      offset = 1;
    }
    var age = cell(row, "q-age", columnLabels[offset]);
    var waiting = document.createElement("span");
    waiting.className = "age age-" + item.age;
    waiting.textContent = item.waiting;
    var level = document.createElement("span");
    level.className = "age-label";
    level.textContent = item.age_label;
    var at = document.createElement("span");
    at.className = "muted q-at";
    at.textContent = item.at;
    age.appendChild(waiting); age.appendChild(document.createTextNode(" ")); age.appendChild(level); age.appendChild(at);
    cell(row, "q-author", columnLabels[offset + 1]).textContent = "@" + item.author;
    var post = cell(row, "q-text", columnLabels[offset + 2]);
    if (item.complaint) {
      var badge = document.createElement("span");
      badge.className = "badge complaint";
      badge.textContent = "⚠ " + T.textComplaint;
      post.appendChild(badge);
      post.appendChild(document.createTextNode(" "));
    }
    post.appendChild(document.createTextNode(item.text));
    var linkCell = cell(row, "q-link", columnLabels[offset + 3]);
    if (item.url && /^https?:\/\//i.test(item.url)) {  // the server sends only http(s) links
      var link = document.createElement("a");
      link.href = item.url; link.rel = "noopener noreferrer"; link.target = "_blank";
      link.textContent = item.open_label;
      linkCell.appendChild(link);
    } else { linkCell.textContent = item.platform; }
    var state = cell(row, "q-state", columnLabels[offset + 4]);
    var lines = [];
    if (item.handled) { lines.push(fmt(T.textHandledBy, { reason: item.handled.label, by: item.handled.by, at: item.handled.at })); }
    if (item.assigned) { lines.push(fmt(T.textAssignedTo, { to: item.assigned.to, by: item.assigned.by, at: item.assigned.at })); }
    lines.forEach(function (line, i) {
      if (i) { state.appendChild(document.createElement("br")); }
      state.appendChild(document.createTextNode(line));
    });
    return row;
  }

  function setLink(id, query) {
    var link = document.getElementById(id);
    if (!link) { return; }
    if (query) {
      var params = new URLSearchParams();
      Object.keys(query).forEach(function (k) { params.set(k, query[k]); });
      link.href = "?" + params.toString() + "#queue";
      link.hidden = false;
    } else { link.hidden = true; }
  }

  function renderQueue(q) {
    var counts = q.counts;
    text(document.getElementById("queue-n-of-m"), fmt(T.textCounts, counts));
    text(document.getElementById("queue-handled-count"), fmt(T.textHandledCount, { n: counts.handled }));
    text(document.getElementById("queue-assigned-count"), fmt(T.textAssignedCount, { n: counts.assigned, mine: counts.mine }));
    setLink("queue-first", q.pages.first);
    setLink("queue-prev", q.pages.prev);
    setLink("queue-next", q.pages.next);
    // Unchanged rows: leave the DOM alone, so a keyboard user tabbing through it keeps their place.
    var signature = JSON.stringify(q.rows);
    if (signature === lastRows || !queueBody) { return; }
    lastRows = signature;
    var checked = {};
    Array.prototype.forEach.call(queueBody.querySelectorAll("input[name=mention]:checked"), function (box) {
      checked[box.value] = true;
    });
    // Remember which row held the focus, to give it back to the same mention after the rows are replaced.
    var focused = document.activeElement && queueBody.contains(document.activeElement) ? document.activeElement : null;
    var focusedRow = focused ? focused.closest("tr[data-mention]") : null;
    var focusedMention = focusedRow ? focusedRow.dataset.mention : null;
    var focusedTag = focused ? focused.tagName : null;
    var rows = document.createDocumentFragment();
    if (!q.rows.length) {
      var empty = document.createElement("tr");
      empty.className = "empty-row";
      var td = cell(empty, "empty");
      td.colSpan = 6;
      var params = new URLSearchParams(queueQuery());
      var filtered = ["complaints", "lang", "platform", "older"].some(function (k) { return params.get(k); }) ||
        (params.get("state") && params.get("state") !== "todo");
      td.textContent = filtered || counts.unanswered ? T.textNoMatch : T.textNoUnanswered;
      rows.appendChild(empty);
    }
    q.rows.forEach(function (item) {
      var row = buildRow(item);
      var box = row.querySelector("input[name=mention]");
      if (box && checked[String(item.id)]) { box.checked = true; }
      rows.appendChild(row);
    });
    queueBody.replaceChildren(rows);
    if (focused) {
      var again = focusedMention && queueBody.querySelector('tr[data-mention="' + focusedMention + '"] ' +
                                                            (focusedTag === "INPUT" ? "input" : "a"));
      // The mention was answered and left the queue: focus the queue itself rather than losing the place.
      if (again) { again.focus(); } else if (queueTable) { queueTable.setAttribute("tabindex", "-1"); queueTable.focus(); }
    }
  }

  // ``switched``: the page was switched to other filters or another page, so even a 304 must be drawn.
  function refreshQueue(switched) {
    if (!queueBody) { return Promise.resolve(); }
    return fetchVersioned(queueUrl()).then(function (answer) {
      if (answer.changed || switched) { renderQueue(answer.payload); }
    });
  }

  function goToQueue(query, push) {
    var url = window.location.pathname + (query ? "?" + query : "") + "#queue";
    if (push) { window.history.pushState(null, "", url); } else { window.history.replaceState(null, "", url); }
    var hidden = document.getElementById("queue-query");
    if (hidden) { hidden.value = query; }
    lastRows = null;
    return refreshQueue(true);
  }

  var filterForm = document.getElementById("queue-filters");
  if (filterForm) {
    filterForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var params = new URLSearchParams();
      new FormData(filterForm).forEach(function (value, key) {
        if (value && !(key === "order" && value === "oldest") && !(key === "state" && value === "todo")) { params.set(key, value); }
      });
      goToQueue(params.toString(), true);
    });
  }
  var pager = document.getElementById("queue-pager");
  if (pager) {
    pager.addEventListener("click", function (event) {
      var link = event.target.closest("a");
      if (!link) { return; }
      event.preventDefault();
      goToQueue(link.search.replace(/^\?/, ""), true).then(function () {
        var heading = document.getElementById("queue-h");
        if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
      });
    });
  }
  window.addEventListener("popstate", function () { lastRows = null; refreshQueue(true); });

  var actions = document.getElementById("queue-actions");
  if (actions) {
    actions.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(actions);
      if (event.submitter && event.submitter.name) { data.set(event.submitter.name, event.submitter.value); }
      data.set("query", queueQuery());
      var result = document.getElementById("queue-action-result");
      // Not actions.action: the form has buttons named "action", which shadow the property.
      request(actions.getAttribute("action"), { method: "POST", body: data, headers: { Accept: "application/json" } })
        .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
        .then(function (answer) {
          text(result, answer.ok ? answer.body.message : fmt(T.textFailed, { error: answer.body.error }));
          if (answer.ok) {
            lastRows = null;
            return Promise.all([refreshQueue(true), refreshLive()]);
          }
        }, function (error) { text(result, fmt(T.textFailed, { error: error.message })); });
    });
    var all = document.getElementById("queue-select-all");
    if (all) {
      all.addEventListener("change", function () {
        Array.prototype.forEach.call(queueBody.querySelectorAll("input[name=mention]"), function (box) { box.checked = all.checked; });
      });
    }
  }

  // --- One bucket's posts -----------------------------------------------------------------------------------
  var bucketPanel = document.getElementById("bucket-posts");
  function listPosts(list, items, extra) {
    var fragment = document.createDocumentFragment();
    items.forEach(function (item) {
      var li = document.createElement("li");
      var head = document.createElement("span");
      head.className = "muted";
      head.textContent = item.at + " · @" + item.author + " · " + extra(item) + " ";
      li.appendChild(head);
      li.appendChild(document.createTextNode(item.text + " "));
      if (item.url && /^https?:\/\//i.test(item.url)) {  // the server sends only http(s) links
        var a = document.createElement("a");
        a.href = item.url; a.rel = "noopener noreferrer"; a.target = "_blank";
        a.textContent = item.platform + " — " + T.textOpen;
        li.appendChild(a);
      }
      fragment.appendChild(li);
    });
    list.replaceChildren(fragment);
  }
  function countText(template, part) {
    var out = fmt(template, { n: part.count });
    return part.count > part.items.length ? out + " (" + fmt(T.textBucketMore, { n: part.items.length }) + ")" : out;
  }
  function showBucket(at) {
    if (!bucketPanel) { return; }
    request(T.bucketUrl + "?at=" + Math.floor(at), { headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    }).then(function (bucket) {
      text(document.getElementById("bucket-posts-h"), bucket.title);
      text(document.getElementById("bucket-mentions-h"), countText(T.textBucketMentions, bucket.mentions));
      text(document.getElementById("bucket-official-h"), countText(T.textBucketOfficial, bucket.official));
      listPosts(document.getElementById("bucket-mentions"), bucket.mentions.items, function (item) {
        return (item.complaint ? "⚠ " + T.textComplaint + " · " : "") + (item.answered ? T.textAnswered : T.textUnanswered);
      });
      listPosts(document.getElementById("bucket-official"), bucket.official.items, function (item) {
        return item.kind + " · " + item.category;
      });
      bucketPanel.hidden = false;
    }).catch(function () { /* a click that finds nothing changes nothing */ });
  }
  var closeBucket = document.getElementById("bucket-close");
  if (closeBucket) { closeBucket.addEventListener("click", function () { bucketPanel.hidden = true; }); }

  // --- Refreshing -------------------------------------------------------------------------------------------
  function refreshLive() {
    return fetchVersioned(T.liveUrl).then(function (answer) {
      if (!answer.changed) { return false; }
      var before = live;
      live = answer.payload;
      renderTiles(live.tiles);
      text(document.getElementById("board-status"), live.status);
      var axisChanged = !before || JSON.stringify(before.axis) !== JSON.stringify(live.axis) ||
        JSON.stringify(before.marks) !== JSON.stringify(live.marks);
      if (axisChanged) { applyAxisAndMarks(); }
      return true;
    });
  }

  function refreshCharts() {
    var canvases = Array.prototype.slice.call(board.querySelectorAll("canvas[data-chart]"));
    return Promise.all(canvases.map(function (canvas) {
      return fetchVersioned(canvas.dataset.url).then(function (answer) {
        if (answer.changed || !charts[canvas.dataset.chart]) { drawChart(canvas.dataset.chart, canvas, answer.payload); }
      });
    }));
  }

  function refresh() {
    if (inFlight) { return Promise.resolve(); }
    inFlight = true;
    // The axis and marks come first: every chart is drawn on them.
    return refreshLive().then(function () {
      return Promise.all([refreshCharts(), refreshQueue()]);
    }).then(function () {
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
    if (lastSuccess === null) { text(ago, T.textNever); }
    else { text(ago, T.textUpdated.replace("{s}", String(Math.max(0, Math.round(age / 1000))))); }
    // Also when no poll ever succeeded: the page's own figures are as old as the page.
    var isStale = age > STALE_AFTER_MS && !document.hidden;
    if (stale && stale.hidden === isStale) { stale.hidden = !isStale; }
    board.classList.toggle("board-stale", isStale);
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { refresh().then(schedule); }, document.hidden ? HIDDEN_MS : VISIBLE_MS);
  }

  // --- Print: a one-page snapshot -----------------------------------------------------------------------------
  function resizeCharts() { Object.keys(charts).forEach(function (name) { charts[name].resize(); }); }
  function beforePrint() {
    if (live) { text(document.getElementById("printed-at"), formatter({ dateStyle: "medium", timeStyle: "short" }).format(new Date())); }
    resizeCharts();
  }
  window.addEventListener("beforeprint", beforePrint);
  window.addEventListener("afterprint", resizeCharts);
  if (window.matchMedia) {
    var printing = window.matchMedia("print");
    if (printing.addEventListener) { printing.addEventListener("change", beforePrint); }
  }
  var printButton = document.getElementById("print-board");
  if (printButton) { printButton.addEventListener("click", function () { window.print(); }); }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { refresh().then(schedule); } else { schedule(); }
  });
  window.setInterval(showAge, 1000);
  refresh().then(schedule);
})();
