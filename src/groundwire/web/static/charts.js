/* The console's charts: uPlot (vendored, static/vendor/uplot) over the dashboard JSON the
   server embedded in #dashboard-data. Each chart has a text alternative: its figure caption plus
   the totals and tables on the same page. */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof uPlot === "undefined") return;
  var d = JSON.parse(source.textContent);
  var palette = ["#1f5fbf", "#b3261e", "#2e7d32", "#8a5a00"];

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
               axes: [{}, {size: 50}], legend: {show: true}},
              [d.x].concat(spec.data), el);
  });
})();
