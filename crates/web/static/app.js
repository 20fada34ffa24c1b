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
  // Exports: download with a progress line (bytes received), then hand the file over.
  function exportWithProgress(a) {
    var status = document.getElementById('export-progress');
    var say = function (t) { if (status) status.textContent = t; };
    say('正在生成…');
    fetch(a.href, { credentials: 'same-origin' }).then(function (res) {
      if (!res.ok) return res.json().then(function (e) { throw new Error(e.error ? e.error.message : res.statusText); });
      var name = 'export';
      var cd = res.headers.get('content-disposition') || '';
      var m = /filename\*=UTF-8''([^;]+)/.exec(cd);
      if (m) name = decodeURIComponent(m[1]);
      var reader = res.body.getReader(), chunks = [], got = 0;
      function pump() {
        return reader.read().then(function (r) {
          if (r.done) return new Blob(chunks, { type: res.headers.get('content-type') || '' });
          chunks.push(r.value); got += r.value.length;
          say('已接收 ' + Math.round(got / 1024) + ' KB');
          return pump();
        });
      }
      return pump().then(function (blob) {
        var url = URL.createObjectURL(blob), link = document.createElement('a');
        link.href = url; link.download = name; document.body.appendChild(link); link.click();
        setTimeout(function () { URL.revokeObjectURL(url); link.remove(); }, 1000);
        say('已下载 ' + name);
      });
    }).catch(function (e) { say('导出失败：' + e.message); });
  }
  document.addEventListener('click', function (e) {
    var a = e.target.closest && e.target.closest('a[data-export]');
    if (a && window.fetch && window.ReadableStream) { e.preventDefault(); exportWithProgress(a); }
  });
  // Uploads sent by htmx (form[data-upload]): show how much of the file has been sent.
  document.addEventListener('htmx:xhr:progress', function (e) {
    var form = e.target.closest && e.target.closest('form[data-upload]');
    if (!form || !e.detail || !e.detail.lengthComputable || !e.detail.total) return;
    var pct = Math.round(e.detail.loaded * 100 / e.detail.total);
    var bar = form.querySelector('[data-upload-bar]'), text = form.querySelector('[data-upload-text]');
    if (bar) { bar.style.width = pct + '%'; bar.parentNode.setAttribute('aria-valuenow', pct); }
    if (text) text.textContent = pct < 100 ? '正在上传 ' + pct + '%' : '已上传，正在开始导入…';
  });
  document.addEventListener('DOMContentLoaded', function () { initCharts(document); });
  document.addEventListener('htmx:afterSwap', function (e) { initCharts(e.target); });
})();
