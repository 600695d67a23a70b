/* Draws the dashboard's charts with the analysis pages' own script (static/analysis/analysis.js),
 * so a dashboard chart looks, reads and drills exactly like an analysis chart.
 *
 * analysis.js draws the one chart of a page: the element #analysis-chart from the JSON in
 * #analysis-data (portal/analysis/registry.py:result_json). The dashboard has several, so for
 * each chart in turn this loader lends those two ids to the chart's holder and JSON, runs
 * analysis.js (a script of the portal's own origin, allowed by the page's CSP), and takes the
 * ids back when it has run. If analysis.js one day offers window.PortalAnalysis.draw(holder,
 * data, texts), that is called instead. Nothing is fetched from anywhere but the portal. */
(function () {
  "use strict";

  var me = document.currentScript;
  var source = me && me.getAttribute("data-chart-script");
  var holders = Array.prototype.slice.call(document.querySelectorAll(".dashboard-chart"));
  if (!source || !holders.length || !window.echarts) return;

  function dataFor(holder) {
    return document.querySelector('.dashboard-data[data-panel="' + holder.getAttribute("data-panel") + '"]');
  }

  function drawWithFunction(holder) {
    var texts = JSON.parse(document.getElementById("analysis-texts").textContent);
    window.PortalAnalysis.draw(holder, JSON.parse(dataFor(holder).textContent), texts);
  }

  function next(index) {
    if (index >= holders.length) {
      document.getElementById("dashboard").setAttribute("data-charts-drawn", String(holders.length));
      return;
    }
    var holder = holders[index];
    var data = dataFor(holder);
    if (!data) return next(index + 1);
    if (window.PortalAnalysis && typeof window.PortalAnalysis.draw === "function") {
      drawWithFunction(holder);
      return next(index + 1);
    }
    var holderId = holder.id;
    holder.id = "analysis-chart";
    data.id = "analysis-data";
    var script = document.createElement("script");
    script.src = source;
    if (me.nonce) script.nonce = me.nonce;
    function done() {
      holder.id = holderId;
      data.removeAttribute("id");
      script.remove();
      next(index + 1);
    }
    script.onload = done;
    script.onerror = done;
    document.body.appendChild(script);
  }

  next(0);
})();
