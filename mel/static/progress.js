/* Charts of the progress pages, drawn with Chart.js from <script type="application/json"> blocks.
   No inline script (the Content-Security-Policy forbids it); re-run after every htmx swap.
   canvas[data-progress-chart]: an indicator's series (actual, target, reported) with context events
   drawn as dashed vertical lines; canvas[data-chart]: a plain bar chart (the disaggregation explorer). */
(function () {
  "use strict";

  var COLORS = ["#1f5f99", "#b26a00", "#2e7d32", "#8e44ad", "#b3261e", "#00838f"];

  var eventLines = {
    id: "melEvents",
    afterDatasetsDraw: function (chart, _args, options) {
      var events = (options && options.events) || [];
      if (!events.length) { return; }
      var ctx = chart.ctx, x = chart.scales.x, area = chart.chartArea;
      ctx.save();
      ctx.strokeStyle = "#b3261e";
      ctx.fillStyle = "#b3261e";
      ctx.setLineDash([4, 3]);
      ctx.font = "11px system-ui, sans-serif";
      /* Each flag carries the event's number in the list under the chart and the start of its title
         (at most 150 px), on the first of three rows where it does not run into an earlier label;
         the list under the chart holds the full titles. */
      var ends = [-Infinity, -Infinity, -Infinity];
      events.forEach(function (e, i) {
        var px = x.getPixelForValue(e.index);
        ctx.beginPath();
        ctx.moveTo(px, area.top);
        ctx.lineTo(px, area.bottom);
        ctx.stroke();
        var head = "\u2691" + (e.n || i + 1) + " ";
        var label = head + fit(ctx, e.title, 150 - ctx.measureText(head).width);
        var width = ctx.measureText(label).width;
        var left = px + 3 + width > area.right ? Math.max(area.left, px - 3 - width) : px + 3;
        var row = ends.indexOf(Math.min.apply(null, ends));
        for (var r = 0; r < 3; r += 1) { if (ends[r] <= left) { row = r; break; } }
        ctx.fillText(label, left, area.top + 12 + row * 13);
        ends[row] = left + width + 6;
      });
      ctx.restore();
    }
  };

  /* The longest start of text that fits in width pixels, with an ellipsis when cut. */
  function fit(ctx, text, width) {
    if (ctx.measureText(text).width <= width) { return text; }
    var cut = text.length;
    while (cut > 0 && ctx.measureText(text.slice(0, cut) + "\u2026").width > width) { cut -= 1; }
    return cut > 0 ? text.slice(0, cut).trimEnd() + "\u2026" : "";
  }

  /* Category-axis ticks shortened to about max characters; the tooltip and the table keep the full text. */
  function shortTicks(max) {
    return function (value) {
      var label = String(this.getLabelForValue(value));
      return label.length > max ? label.slice(0, max - 1).trimEnd() + "\u2026" : label;
    };
  }

  function series(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-progress-chart"));
    if (!source || typeof window.Chart === "undefined" || window.Chart.getChart(canvas)) { return; }
    var spec = JSON.parse(source.textContent);
    var n = 0;
    var datasets = spec.datasets.map(function (d) {
      var color = d.kind === "target" ? "#5b6775" : COLORS[n++ % COLORS.length];
      return {
        label: d.label,
        data: d.data,
        type: d.kind === "reported" ? "bar" : "line",
        borderColor: color,
        backgroundColor: d.kind === "reported" ? "rgba(31,95,153,0.18)" : color,
        borderDash: d.kind === "target" ? [6, 4] : [],
        pointRadius: d.kind === "target" ? 0 : 2,
        spanGaps: true,
        order: d.kind === "reported" ? 2 : 1
      };
    });
    new window.Chart(canvas, {
      type: "line",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        locale: document.documentElement.lang || "en",
        plugins: { melEvents: { events: spec.events || [] } },
        scales: { y: { beginAtZero: true, suggestedMax: spec.percent ? 100 : undefined } }
      },
      plugins: [eventLines]
    });
  }

  function bars(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source || typeof window.Chart === "undefined" || window.Chart.getChart(canvas)) { return; }
    var spec = JSON.parse(source.textContent);
    if (!spec.labels) { return; }
    new window.Chart(canvas, {
      type: spec.type || "bar",
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (d, i) {
          return { label: d.label, data: d.data, backgroundColor: COLORS[i % COLORS.length] };
        })
      },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        locale: document.documentElement.lang || "en",
        plugins: { legend: { display: spec.datasets.length > 1 } },
        scales: { x: { beginAtZero: true }, y: { ticks: { callback: shortTicks(28), autoSkip: false } } }
      }
    });
  }

  function drawAll(root) {
    var scope = root || document;
    Array.prototype.forEach.call(scope.querySelectorAll("canvas[data-progress-chart]"), series);
    Array.prototype.forEach.call(scope.querySelectorAll("canvas[data-chart]"), bars);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  } else {
    drawAll(document);
  }
  document.addEventListener("htmx:afterSettle", function () { drawAll(document); });
})();
