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
      events.forEach(function (e, i) {
        var px = x.getPixelForValue(e.index);
        ctx.beginPath();
        ctx.moveTo(px, area.top);
        ctx.lineTo(px, area.bottom);
        ctx.stroke();
        ctx.fillText("\u2691 " + e.title, Math.min(px + 3, area.right - 80), area.top + 12 + (i % 3) * 13);
      });
      ctx.restore();
    }
  };

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
        plugins: { legend: { display: spec.datasets.length > 1 } },
        scales: { x: { beginAtZero: true } }
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
