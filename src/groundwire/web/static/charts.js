/* The console's charts: uPlot (vendored, static/vendor/uplot) over the dashboard JSON the
   server embedded in #dashboard-data. Each chart has a text alternative: its figure caption plus
   the totals and tables on the same page. */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof uPlot === "undefined") return;
  var d = JSON.parse(source.textContent);
  var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  var palette = dark ? ["#8cb4ff", "#ff9a91", "#8fd694", "#e0b660"]
                     : ["#1f5fbf", "#b3261e", "#2e7d32", "#8a5a00"];
  var ink = getComputedStyle(document.body).color;  // axis labels readable in either scheme
  var grid = dark ? "#353a42" : "#e3e5e8";
  function axis(extra) {
    var a = {stroke: ink, grid: {stroke: grid, width: 1}, ticks: {stroke: grid, width: 1}};
    for (var k in extra) a[k] = extra[k];
    return a;
  }

  function series(labels) {
    return [{}].concat(labels.map(function (label, i) {
      return {label: label, stroke: palette[i % palette.length], width: 2, spanGaps: false,
              points: {show: true, size: 5}};
    }));
  }

  var charts = {
    answers: {labels: ["answers"], data: [d.answers]},
    rates: {labels: ["abstention", "negative feedback"], data: [d.abstention_rate, d.negative_feedback_rate]},
    groundedness: {labels: ["groundedness"], data: [d.groundedness]},
    latency: {labels: ["p50 ms", "p95 ms"], data: [d.latency_p50, d.latency_p95]},
    cost: {labels: d.budget_line ? ["cost", "budget"] : ["cost"],
           data: d.budget_line ? [d.cost, d.budget_line] : [d.cost]},
    feedback: {labels: ["feedback"], data: [d.feedback]}
  };

  document.querySelectorAll(".chart[data-chart]").forEach(function (el) {
    var spec = charts[el.dataset.chart];
    if (!spec) return;
    var width = Math.max(240, Math.min(el.clientWidth || 480, 640));
    el.setAttribute("role", "img");
    el.setAttribute("aria-label", el.parentNode.querySelector("figcaption").textContent +
                    ", one point per day");
    new uPlot({width: width, height: 180, series: series(spec.labels),
               axes: [axis({}), axis({size: 50})], legend: {show: true},
               // the buckets are UTC days: label them in UTC, whatever the browser's zone
               tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); }},
              [d.x].concat(spec.data), el);
  });
})();
