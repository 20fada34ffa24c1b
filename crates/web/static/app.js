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
  // Volunteer check-in (form[data-geo]): send the phone's position when the browser gives
  // it. Without JavaScript or a position the form still posts, and the server explains
  // when the activity checks the position.
  var geo = { pending: null, done: false };
  function locate(form, then) {
    var say = form.querySelector('[data-geo-status]');
    if (!navigator.geolocation) { if (then) then(); return; }
    if (say) say.textContent = '正在获取位置…';
    navigator.geolocation.getCurrentPosition(function (p) {
      form.elements.latitude.value = p.coords.latitude.toFixed(6);
      form.elements.longitude.value = p.coords.longitude.toFixed(6);
      geo.done = true;
      if (say) say.textContent = '已获取位置（误差约 ' + Math.round(p.coords.accuracy) + ' 米）';
      if (then) then();
    }, function () {
      geo.done = true;
      if (say) say.textContent = '未能获取位置；如活动要求在现场签到，请允许定位后重试';
      if (then) then();
    }, { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 });
  }
  var lastSubmitter = null;
  document.addEventListener('click', function (e) {
    var b = e.target.closest && e.target.closest('form[data-geo] button[type=submit]');
    if (b) lastSubmitter = b;
  });
  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (!form.matches || !form.matches('form[data-geo]') || geo.done || !navigator.geolocation) return;
    e.preventDefault();
    var b = e.submitter || lastSubmitter;
    var action = b && b.getAttribute('formaction');
    if (b) b.disabled = true;
    var sent = false;
    var send = function () { if (sent) return; sent = true; if (action) form.action = action; form.submit(); };
    // a permission prompt left unanswered must not keep the form from going
    setTimeout(send, 12000);
    locate(form, send);
  });
  // The activity form: another time-slot row (rows are plain inputs without JavaScript).
  document.addEventListener('click', function (e) {
    var b = e.target.closest && e.target.closest('[data-add-slot]');
    if (!b) return;
    var box = document.querySelector(b.getAttribute('data-add-slot'));
    var rows = box.querySelectorAll('.slot-row'), row = rows[rows.length - 1].cloneNode(true), n = rows.length + 1;
    row.querySelectorAll('input').forEach(function (i) { i.value = ''; i.id = i.id.replace(/_\d+$/, '_' + n); });
    row.querySelectorAll('label').forEach(function (l) { l.htmlFor = l.htmlFor.replace(/_\d+$/, '_' + n); });
    box.appendChild(row);
  });
  // "Select all" boxes (data-check-all="name").
  document.addEventListener('change', function (e) {
    var name = e.target.getAttribute && e.target.getAttribute('data-check-all');
    if (!name) return;
    e.target.form.querySelectorAll('input[name="' + name + '"]').forEach(function (c) { c.checked = e.target.checked; });
  });
  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('[data-add-slot], [data-check-all]').forEach(function (el) { el.hidden = false; });
    var form = document.querySelector('form[data-geo]');
    if (form) locate(form);
  });
  document.addEventListener('DOMContentLoaded', function () { initCharts(document); });
  document.addEventListener('htmx:afterSwap', function (e) { initCharts(e.target); });
})();
