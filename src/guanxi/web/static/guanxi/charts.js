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

  function number(value) { return Number(value).toLocaleString(document.documentElement.lang || undefined); }

  // The insights charts. Every data item may carry `url`: a click opens the customers it counts.
  var EXTRA = {
    // Customer pyramid: share of customers to the left, share of profit to the right, top grade on top.
    pyramid: function (spec, base) {
      var rows = spec.rows.slice().reverse();
      base.tooltip = { trigger: "item", renderMode: "richText", formatter: function (p) {
        var r = rows[p.dataIndex];
        return r.label + "\n" + spec.customers_name + ": " + number(r.customers) + " (" + r.customers_share + "%)\n" +
          spec.profit_name + ": " + number(r.profit) + " (" + r.profit_share + "%)";
      } };
      base.legend = { top: 0 };
      base.grid.top = 32;
      base.grid.left = 24;  // room for the customer counts left of the longest bar
      base.yAxis = { type: "category", data: rows.map(function (r) { return r.label; }), axisTick: { show: false } };
      base.xAxis = { type: "value", min: -100, max: 100, axisLabel: { formatter: function (v) { return Math.abs(v) + "%"; } } };
      base.series = [
        { name: spec.customers_name, type: "bar", stack: "pyramid", barCategoryGap: "18%",
          label: { show: true, position: "left", formatter: function (p) { return number(rows[p.dataIndex].customers); } },
          data: rows.map(function (r) { return { value: -r.customers_share, url: r.url }; }) },
        { name: spec.profit_name, type: "bar", stack: "pyramid",
          label: { show: true, position: "right", formatter: function (p) { return rows[p.dataIndex].profit_share + "%"; } },
          data: rows.map(function (r) { return { value: r.profit_share, url: r.url }; }) }
      ];
      return base;
    },
    // RFM heatmap and the 2×2 matrices: colour = customers; cells carry their own labels.
    heatmap: function (spec, base) {
      var max = Math.max.apply(null, [1].concat(spec.cells.map(function (c) { return c.value; })));
      base.tooltip = { trigger: "item", renderMode: "richText", formatter: function (p) {
        var c = spec.cells[p.dataIndex];
        var text = spec.y_name + " " + spec.y_labels[c.y] + ", " + spec.x_name + " " + spec.x_labels[c.x] + ": " + number(c.value) + " " + spec.series_name;
        if (c.average !== undefined && c.average !== null) { text += "\n" + spec.average_name + ": " + number(c.average); }
        if (c.label) { text = c.label + "\n" + spec.series_name + ": " + number(c.value) + "\n" + spec.profit_name + ": " + number(c.profit); }
        return text;
      } };
      base.grid.bottom = 48;
      base.grid.top = 36;
      base.xAxis = { type: "category", data: spec.x_labels, name: spec.x_name, nameLocation: "middle", nameGap: 26, splitArea: { show: true } };
      base.yAxis = { type: "category", data: spec.y_labels, name: spec.y_name, nameLocation: "end", nameGap: 10,
        nameTextStyle: { align: "left" }, splitArea: { show: true } };
      base.visualMap = { min: 0, max: max, show: false, inRange: { color: ["#eef3fb", "#1d5fbf"] } };
      base.series = [{ name: spec.series_name, type: "heatmap",
        label: { show: true, formatter: function (p) {
          var c = spec.cells[p.dataIndex];
          // The segment's short name ("Best", not "Best (frequent, high value)"): the axes say the rest.
          return c.label ? c.label.split(/\s*[(（]/)[0] + "\n" + number(c.value) : number(c.value);
        } },
        data: spec.cells.map(function (c) { return { value: [c.x, c.y, c.value], url: c.url }; }) }];
      return base;
    },
    // Two counts per category, stacked across (warnings: open and acknowledged per kind).
    stacked: function (spec, base) {
      var rows = spec.rows.slice().reverse();
      base.legend = { top: 0 };
      base.grid.top = 32;
      base.yAxis = { type: "category", data: rows.map(function (r) { return r.label; }), axisLabel: { width: 140, overflow: "truncate", interval: 0 } };
      base.xAxis = { type: "value", minInterval: 1 };
      base.series = [
        { name: spec.series_name, type: "bar", stack: "n", data: rows.map(function (r) { return { value: r.value, url: r.url }; }) },
        { name: spec.second_name, type: "bar", stack: "n", data: rows.map(function (r) { return { value: r.second, url: r.second_url }; }) }
      ];
      return base;
    },
    // KPI trend: new and returning buyers stacked, repurchase rate and discount share as lines (%).
    kpi: function (spec, base) {
      base.legend = { top: 0 };
      base.grid.top = 36;
      base.xAxis = { type: "category", data: spec.rows.map(function (r) { return r.label; }), axisLabel: { hideOverlap: true } };
      base.yAxis = [{ type: "value", minInterval: 1 }, { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } }];
      function column(key) { return spec.rows.map(function (r) { return r[key]; }); }
      var detailed = spec.rows.length && spec.rows[0]["new"] !== null;
      base.series = (detailed ? [
        { name: spec.new_name, type: "bar", stack: "buyers", data: column("new") },
        { name: spec.returning_name, type: "bar", stack: "buyers", data: column("returning") },
        { name: spec.repurchase_name, type: "line", yAxisIndex: 1, data: column("repurchase") }
      ] : [{ name: spec.buyers_name, type: "bar", data: column("buyers") }]).concat(
        [{ name: spec.sensitivity_name, type: "line", yAxisIndex: 1, data: column("sensitivity") }]);
      return base;
    }
  };
  EXTRA.matrix = EXTRA.heatmap;

  function option(spec) {
    var base = {
      color: PALETTE, animation: false,
      textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
      tooltip: { trigger: spec.kind === "pie" ? "item" : "axis", renderMode: "richText" },
      grid: { left: 8, right: 16, top: 28, bottom: 8, containLabel: true }
    };
    if (EXTRA[spec.kind]) { return EXTRA[spec.kind](spec, base); }
    var labels = spec.rows.map(function (r) { return r.label; });
    var values = spec.rows.map(function (r) { return r.url ? { value: Number(r.value), url: r.url } : Number(r.value); });
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
      chart.on("click", function (p) { if (p.data && p.data.url) { window.location.assign(p.data.url); } });
      el.setAttribute("data-drawn", "1");
      // The figures' table stays open without JavaScript; with the chart drawn it folds away.
      var card = el.closest(".chart-card");
      var table = card && card.querySelector("details[data-chart-table]");
      if (table) { table.open = false; }
      charts.push(chart);
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
