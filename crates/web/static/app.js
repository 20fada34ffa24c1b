// Wushe front-end glue: ECharts for every .chart element (option JSON in data-chart),
// initialised on load and after htmx swaps.
(function () {
  function initCharts(root) {
    if (!window.echarts) return;
    root.querySelectorAll('.chart[data-chart]').forEach(function (el) {
      if (el.dataset.ready) return;
      el.dataset.ready = '1';
      var chart = echarts.init(el);
      chart.setOption(JSON.parse(el.dataset.chart));
      window.addEventListener('resize', function () { chart.resize(); });
    });
  }
  document.addEventListener('DOMContentLoaded', function () { initCharts(document); });
  document.addEventListener('htmx:afterSwap', function (e) { initCharts(e.target); });
})();
