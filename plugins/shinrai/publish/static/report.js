/* Draws the monthly reliability report's charts from the inlined JSON with the inlined Chart.js.
 * Every <figure data-chart> gets data-rendered="true" once Chart.js has drawn it ("error" if it
 * could not); <html> carries data-charts-total and data-charts-rendered for automated checks. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var root = document.documentElement;
  var figures = Array.prototype.slice.call(document.querySelectorAll("figure[data-chart]"));
  root.dataset.chartsTotal = String(figures.length);
  root.dataset.chartsRendered = "0";

  Chart.defaults.font.family = window.getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 12;
  Chart.defaults.color = "#1f2933";
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.labels.boxWidth = 12;
  Chart.defaults.plugins.legend.labels.boxHeight = 12;
  Chart.defaults.plugins.tooltip.mode = "index";
  Chart.defaults.plugins.tooltip.intersect = false;

  var rendered = {
    id: "shinraiRendered",
    afterRender: function (chart) {
      var figure = chart.canvas.closest("figure");
      if (figure && figure.dataset.rendered !== "true") {
        figure.dataset.rendered = "true";
        root.dataset.chartsRendered = String(document.querySelectorAll('figure[data-rendered="true"]').length);
      }
    }
  };

  function minutes(value) {
    if (value === null || value === undefined || isNaN(value)) { return "–"; }
    var m = Math.round(value);
    if (m < 60) { return m + "m"; }
    if (m < 1440) { return Math.floor(m / 60) + "h " + String(m % 60).padStart(2, "0") + "m"; }
    return Math.floor(m / 1440) + "d " + Math.floor((m % 1440) / 60) + "h";
  }

  // Month axes: "MM" on every tick and the year on a second line under January, the first month and the
  // report's month, unless a neighbouring tick already carries it (the year of "2025-12" beside "2026-01"
  // used to run into the next label: "2025-122026-01"). Chart.js skips ticks when they still do not fit.
  function monthTicks(labels) {
    var last = labels.length - 1;
    function isJanuary(index) { return index >= 0 && index <= last && labels[index].slice(5) === "01"; }
    function showsYear(index) {
      if (isJanuary(index)) { return true; }
      if (index === 0) { return !isJanuary(1); }
      return index === last && !isJanuary(last - 1);
    }
    return {
      font: function (ctx) { return ctx.index === last ? { weight: "bold" } : {}; },
      maxRotation: 0,
      autoSkip: true,
      autoSkipPadding: 6,
      callback: function (value, index) {
        var label = labels[index];
        return showsYear(index) ? [label.slice(5), label.slice(0, 4)] : label.slice(5);
      }
    };
  }

  function isMonthly(spec) {
    return spec.labels.length > 0 && /^\d{4}-\d{2}$/.test(spec.labels[0]);
  }

  function total(spec) {
    var sum = 0;
    (spec.datasets || []).concat(spec.bars || []).forEach(function (ds) {
      ds.data.forEach(function (v) { sum += v || 0; });
    });
    return sum;
  }

  function stackedBar(spec, horizontal) {
    var valueAxis = { stacked: true, beginAtZero: true, ticks: { precision: 0 }, grid: { color: "#eef1f4" } };
    var categoryAxis = { stacked: true, grid: { display: false } };
    if (!horizontal && isMonthly(spec)) { categoryAxis.ticks = monthTicks(spec.labels); }
    return {
      type: "bar",
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (ds) {
          return { label: ds.label, data: ds.data, backgroundColor: ds.color, borderColor: "#ffffff", borderWidth: 0.5,
            maxBarThickness: horizontal ? 22 : 34 };
        })
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        scales: horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            filter: function (item) { return item.raw !== 0; },
            callbacks: {
              footer: function (items) {
                var sum = items.reduce(function (acc, item) { return acc + (item.raw || 0); }, 0);
                return "Σ " + sum;
              }
            }
          }
        }
      }
    };
  }

  // a readable step for a minutes axis: 5m, 10m, ... 1h, 2h, ... 1d, 2d, ...
  function minuteStep(spec) {
    var max = 0;
    spec.datasets.forEach(function (ds) { ds.data.forEach(function (v) { if (v > max) { max = v; } }); });
    var steps = [5, 10, 15, 30, 60, 120, 180, 240, 360, 720, 1440, 2880, 4320, 10080];
    for (var i = 0; i < steps.length; i += 1) {
      if (max / steps[i] <= 6) { return steps[i]; }
    }
    return Math.ceil(max / 6 / 10080) * 10080;
  }

  function mttx(spec) {
    var step = minuteStep(spec);
    return {
      type: "line",
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (ds) {
          return { label: ds.label, data: ds.data, borderColor: ds.color, backgroundColor: ds.color,
            borderDash: ds.dashed ? [6, 4] : [], pointRadius: 3, borderWidth: 2, spanGaps: false, tension: 0.2 };
        })
      },
      options: {
        scales: {
          x: { grid: { display: false }, ticks: monthTicks(spec.labels) },
          y: { beginAtZero: true, grid: { color: "#eef1f4" },
            ticks: { stepSize: step, callback: function (v) { return minutes(v); } } }
        },
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (item) { return item.dataset.label + ": " + minutes(item.raw); },
              footer: function (items) { return items.length ? "n = " + spec.n[items[0].dataIndex] : ""; }
            }
          }
        }
      }
    };
  }

  function timeliness(spec) {
    var datasets = spec.bars.map(function (ds) {
      return { type: "bar", label: ds.label, data: ds.data, backgroundColor: ds.color, yAxisID: "count", order: 2,
        maxBarThickness: 22 };
    }).concat(spec.lines.map(function (ds) {
      return { type: "line", label: ds.label, data: ds.data, borderColor: ds.color, backgroundColor: ds.color,
        yAxisID: "rate", order: 1, pointRadius: 3, borderWidth: 2, spanGaps: true, tension: 0.2 };
    }));
    return {
      type: "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        scales: {
          x: { grid: { display: false }, ticks: monthTicks(spec.labels) },
          count: { position: "left", beginAtZero: true, ticks: { precision: 0 }, grid: { color: "#eef1f4" } },
          rate: { position: "right", min: 0, max: 100, grid: { display: false },
            ticks: { callback: function (v) { return v + "%"; } } }
        },
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (item) {
                var value = item.dataset.yAxisID === "rate" ? (item.raw === null ? "–" : item.raw + "%") : item.raw;
                return item.dataset.label + ": " + value;
              }
            }
          }
        }
      }
    };
  }

  var builders = {
    stacked_bar: function (spec) { return stackedBar(spec, false); },
    hbar_stacked: function (spec) { return stackedBar(spec, true); },
    mttx: mttx,
    timeliness: timeliness
  };

  figures.forEach(function (figure) {
    var name = figure.dataset.chart;
    try {
      var spec = data.charts[name];
      if (!spec) { throw new Error("no data for this chart"); }
      var build = builders[spec.type];
      if (!build) { throw new Error("unknown chart type " + spec.type); }
      var config = build(spec);
      config.plugins = [rendered];
      if (total(spec) === 0) { figure.classList.add("empty"); }
      new Chart(figure.querySelector("canvas"), config);
    } catch (err) {
      figure.dataset.rendered = "error";
      console.error("shinrai report: chart " + name + " failed: " + err);
    }
  });
})();
