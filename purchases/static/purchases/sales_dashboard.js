/* The admin's sales dashboard: draws each <canvas data-chart="ID"> with Chart.js (vendored, see
 * vendor/README.md) from the JSON in <script type="application/json" id="ID"> (json_script).
 * Amounts arrive as decimal strings; they become numbers here only to be drawn. The same figures
 * are in the table beside each chart. Each canvas's data-number-locale (en-IN or en-US, from
 * settings.NUMBER_GROUPING) groups the digits of its tooltips and axis as the page's tables do. */
(function () {
  "use strict";

  var COLOURS = ["#1f8a73", "#d9534f", "#3b6fb6", "#e0a526", "#7a5cb8", "#5b6776", "#2aa0b8", "#b85c8a"];
  function moneyFormat(locale) {
    return new Intl.NumberFormat(locale || undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function dataset(spec, index, type) {
    var colour = COLOURS[index % COLOURS.length];
    var set = {
      label: spec.label,
      data: spec.data.map(Number),
      borderColor: colour,
      backgroundColor: colour,
    };
    if (type === "line") {
      set.backgroundColor = colour + "33";
      set.fill = index === 0;
      set.tension = 0.2;
      set.pointRadius = spec.data.length > 62 ? 0 : 2;
    } else if (type === "doughnut") {
      set.backgroundColor = spec.data.map(function (_, i) { return COLOURS[i % COLOURS.length]; });
      set.borderColor = "#fff";
    }
    return set;
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    var spec = JSON.parse(source.textContent);
    var round = spec.type === "doughnut";
    var locale = canvas.dataset.numberLocale || undefined;
    var money = moneyFormat(locale);
    var options = {
      locale: locale,
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: {
        legend: { display: round || spec.datasets.length > 1, position: round ? "right" : "top" },
        tooltip: {
          callbacks: {
            label: function (context) {
              var value = round ? context.parsed : spec.horizontal ? context.parsed.x : context.parsed.y;
              return context.dataset.label + ": " + money.format(value);
            },
          },
        },
      },
    };
    if (!round) {
      options.indexAxis = spec.horizontal ? "y" : "x";
      options.scales = {};
      options.scales[spec.horizontal ? "x" : "y"] = { beginAtZero: true };
    }
    new window.Chart(canvas, {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (set, i) { return dataset(set, i, spec.type); }),
      },
      options: options,
    });
  }

  function start() {
    if (!window.Chart) return; // the tables still carry every figure
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
