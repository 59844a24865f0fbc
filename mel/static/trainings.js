/* Charts of the trainings page, drawn with Chart.js from <script type="application/json"> blocks.
   No inline script (the Content-Security-Policy forbids it); re-run after every htmx swap. */
(function () {
  "use strict";

  /* Category-axis ticks shortened to about max characters; the tooltip and the table keep the full text. */
  function shortTicks(max) {
    return function (value) {
      var label = String(this.getLabelForValue(value));
      return label.length > max ? label.slice(0, max - 1).trimEnd() + "\u2026" : label;
    };
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    if (window.Chart.getChart(canvas)) {
      return; /* already drawn: htmx swaps in new canvases, old ones keep their chart */
    }
    var spec = JSON.parse(source.textContent);
    var horizontal = Boolean(spec.horizontal);
    var stacked = Boolean(spec.stacked);
    new window.Chart(canvas, {
      type: spec.type || "bar",
      data: { labels: spec.labels, datasets: spec.datasets },
      options: {
        indexAxis: horizontal ? "y" : "x",
        locale: document.documentElement.lang || "en",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: spec.datasets.length > 1 } },
        scales: {
          x: { stacked: stacked, beginAtZero: true, ticks: horizontal ? {} : { callback: shortTicks(18) } },
          y: { stacked: stacked, beginAtZero: true, ticks: horizontal ? { callback: shortTicks(28), autoSkip: false } : {} }
        }
      }
    });
  }

  function drawAll(root) {
    var canvases = (root || document).querySelectorAll("canvas[data-chart]");
    for (var i = 0; i < canvases.length; i += 1) {
      draw(canvases[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  } else {
    drawAll(document);
  }
  document.addEventListener("htmx:afterSettle", function () {
    drawAll(document);
  });
})();
