/* Draws an analysis page's chart with ECharts (served by the portal: static/vendor/echarts)
 * from the JSON the server embedded (#analysis-data, portal/analysis/registry.py:result_json):
 * columns, rows, per-row drill URLs and the chart's kind and series. Clicking a bar, a slice,
 * a point or a tree node opens its drill URL: the customer grid filtered to those customers.
 * Nothing is fetched from anywhere: the numbers are in the page. */
(function () {
  "use strict";

  var holder = document.getElementById("analysis-chart");
  var dataEl = document.getElementById("analysis-data");
  if (!holder || !dataEl || !window.echarts) return;
  var data = JSON.parse(dataEl.textContent);
  var T = JSON.parse(document.getElementById("analysis-texts").textContent);
  var spec = data.chart;
  if (!spec || !data.rows.length) return;

  var columns = {};
  data.columns.forEach(function (c) { columns[c.key] = c; });
  var rows = data.rows.map(function (r, i) { return { row: r, index: i }; });
  if (spec.top && rows.length > spec.top) rows = rows.slice(0, spec.top);

  function text(value) { return value === null || value === undefined ? "—" : String(value); }
  function num(value) { return value === null || value === undefined ? 0 : Number(value); }
  function drillUrl(index, key) {
    var entry = data.drill[index];
    if (!entry) return null;
    return entry[key] || entry["*"] || null;
  }
  function money(value) {
    return Number(value).toLocaleString(document.documentElement.lang || "zh-CN", { maximumFractionDigits: 2 });
  }

  var option;
  var base = { animationDuration: 300, tooltip: {}, grid: { left: 60, right: 30, top: 40, bottom: 60, containLabel: true } };
  if (spec.kind === "pie") {
    var key = spec.series[0].key;
    option = Object.assign(base, {
      tooltip: { trigger: "item", formatter: function (p) { return p.name + ": " + money(p.value) + " (" + p.percent + "%)"; } },
      legend: { type: "scroll", bottom: 0 },
      series: [{ type: "pie", radius: ["30%", "65%"], name: spec.series[0].label,
        data: rows.map(function (r) { return { name: text(r.row[spec.category]), value: num(r.row[key]), rowIndex: r.index, seriesKey: key }; }) }],
    });
  } else if (spec.kind === "scatter") {
    var groups = {};
    rows.forEach(function (r) {
      var g = spec.group ? text(r.row[spec.group]) : "";
      (groups[g] = groups[g] || []).push({ value: [num(r.row[spec.x]), num(r.row[spec.y])], name: text(r.row[spec.name]), rowIndex: r.index, seriesKey: spec.y });
    });
    var marks = [];
    if (spec.marks && spec.marks.x !== undefined && spec.marks.x !== null) marks.push({ xAxis: spec.marks.x });
    if (spec.marks && spec.marks.y !== undefined && spec.marks.y !== null) marks.push({ yAxis: spec.marks.y });
    option = Object.assign(base, {
      tooltip: { trigger: "item", formatter: function (p) { return p.data.name + "<br>" + columns[spec.x].label + ": " + money(p.value[0]) + "<br>" + columns[spec.y].label + ": " + money(p.value[1]); } },
      legend: { bottom: 0 },
      xAxis: { type: "value", name: columns[spec.x].label, scale: true },
      yAxis: { type: "value", name: columns[spec.y].label, scale: true },
      series: Object.keys(groups).map(function (g, i) {
        var s = { type: "scatter", name: g, data: groups[g], symbolSize: 10 };
        if (i === 0 && marks.length) s.markLine = { silent: true, symbol: "none", lineStyle: { type: "dashed" }, data: marks };
        return s;
      }),
    });
  } else if (spec.kind === "tree") {
    option = Object.assign(base, {
      tooltip: { trigger: "item", formatter: function (p) { return p.name + (p.value !== undefined && p.value !== null ? ": " + p.value : ""); } },
      series: [{ type: "tree", data: [{ name: T.chains, children: spec.tree || [] }], top: "2%", left: "8%", bottom: "2%", right: "20%",
        symbolSize: 9, initialTreeDepth: 3, expandAndCollapse: false, label: { position: "left", verticalAlign: "middle", align: "right" },
        leaves: { label: { position: "right", verticalAlign: "middle", align: "left" } } }],
    });
  } else {
    var horizontal = !!spec.horizontal;
    var categories = rows.map(function (r) { return text(r.row[spec.category]); });
    var categoryAxis = { type: "category", data: categories, axisLabel: { interval: 0, rotate: horizontal ? 0 : (categories.length > 8 ? 35 : 0) } };
    var valueAxis = { type: "value" };
    option = Object.assign(base, {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: spec.series.length > 1 ? { type: "scroll", top: 0 } : undefined,
      xAxis: horizontal ? valueAxis : categoryAxis,
      yAxis: horizontal ? Object.assign(categoryAxis, { inverse: true }) : valueAxis,
      series: spec.series.map(function (s) {
        return { type: spec.kind === "line" ? "line" : "bar", name: s.label,
          stack: spec.kind === "stacked_bar" ? (s.stack || "all") : undefined,
          data: rows.map(function (r) { return { value: num(r.row[s.key]), rowIndex: r.index, seriesKey: s.key }; }) };
      }),
    });
    if (horizontal) holder.style.height = Math.max(320, 28 * categories.length + 80) + "px";
  }

  var chart = echarts.init(holder, null, { renderer: "canvas", locale: (document.documentElement.lang || "zh").indexOf("en") === 0 ? "EN" : "ZH" });
  chart.on("finished", function () { holder.dataset.rendered = "1"; });
  chart.setOption(option);
  chart.on("click", function (p) {
    var url = null;
    if (p.data && p.data.url) url = p.data.url;
    else if (p.data && p.data.rowIndex !== undefined) url = drillUrl(p.data.rowIndex, p.data.seriesKey);
    if (url) window.location.href = url;
  });
  chart.getZr().on("mousemove", function (e) { chart.getZr().setCursorStyle(e.target ? "pointer" : "default"); });
  window.addEventListener("resize", function () { chart.resize(); });
  window.portalChart = chart;
})();
