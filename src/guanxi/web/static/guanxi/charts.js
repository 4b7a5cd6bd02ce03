// Dashboard charts: each [data-chart] names a json_script block ({kind, series_name, rows});
// ECharts draws it. The data never goes through inline script (CSP), and every chart has a
// table under "Show as a table" for screen readers.
(function () {
  "use strict";
  var PALETTE = ["#c0392b", "#1d5fbf", "#1e7b4a", "#9a6200", "#6d3fc0", "#0f7c8c", "#8a94a6", "#d35400"];

  function read(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function option(spec) {
    var labels = spec.rows.map(function (r) { return r.label; });
    var values = spec.rows.map(function (r) { return Number(r.value); });
    var base = {
      color: PALETTE, animation: false,
      textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
      tooltip: { trigger: spec.kind === "pie" ? "item" : "axis", renderMode: "richText" },
      grid: { left: 8, right: 16, top: 28, bottom: 8, containLabel: true }
    };
    if (spec.kind === "pie") {
      base.legend = { bottom: 0, type: "scroll" };
      base.series = [{ name: spec.series_name, type: "pie", radius: ["38%", "66%"], center: ["50%", "44%"],
        label: { formatter: "{b}: {c}" },
        data: spec.rows.map(function (r) {
          var item = { name: r.label, value: Number(r.value) };
          if (r.color) { item.itemStyle = { color: r.color }; }
          return item;
        }) }];
      return base;
    }
    if (spec.kind === "hbar") {
      // Long category names (lead sources) read better down the side, largest on top.
      base.yAxis = { type: "category", data: labels.slice().reverse(), axisLabel: { width: 120, overflow: "truncate", interval: 0 } };
      base.xAxis = { type: "value", minInterval: 1 };
      base.series = [{ name: spec.series_name, type: "bar", data: values.slice().reverse() }];
      return base;
    }
    base.xAxis = { type: "category", data: labels, axisLabel: { hideOverlap: true } };
    base.yAxis = { type: "value", axisLabel: { hideOverlap: true } };
    base.series = [{ name: spec.series_name, type: spec.kind, data: values, smooth: false,
      areaStyle: spec.kind === "line" ? { opacity: 0.12 } : undefined }];
    if (spec.second_name) {
      base.legend = { top: 0 };
      base.series.push({ name: spec.second_name, type: "bar", data: spec.rows.map(function (r) { return Number(r.weighted); }) });
    }
    return base;
  }

  function draw() {
    if (typeof echarts === "undefined") { return; }
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var spec = read(el.getAttribute("data-chart"));
      if (!spec) { return; }
      var chart = echarts.init(el, null, { renderer: "svg" });
      chart.setOption(option(spec));
      el.setAttribute("data-drawn", "1");
      charts.push(chart);
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
