// Renders the page of `mtif report` from the JSON blob in <script id="mtif-data">.
// Embedded into the mtif binary with template.html and the chart library
// (ECharts, from npm). The data blob's schema is written down in report/README.md.
//
// Rules this file keeps:
// * every string from the data reaches the page through textContent, SVG text
//   drawn by ECharts, or echarts.format.encodeHTML (tooltips are HTML): task
//   labels are user data and may hold markup;
// * a section that fails to render shows the error in the page AND logs it with
//   console.error, so the headless-browser test sees it; the other sections
//   still render;
// * when all is done, #mtif-status gets data-status and data-plots (the ids of
//   the charts drawn), which the test reads.
(function () {
  'use strict';
  const HELP = '#2166ac', HURT = '#b2182b', NEUTRAL = '#f7f7f7';
  const data = JSON.parse(document.getElementById('mtif-data').textContent);
  const main = document.getElementById('main');
  const charts = [];   // ECharts instances, resized with the window
  const plots = [];    // ids of the chart elements drawn
  let errors = 0;

  // ---------- small DOM helpers (text only, never innerHTML with data) ----------
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v; else e.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : String(c));
    }
    return e;
  }
  const esc = (s) => echarts.format.encodeHTML(String(s));

  // Numbers: 4 significant digits, exponent form when small or large.
  function num(v, signed) {
    if (v === null || v === undefined || Number.isNaN(v)) return '—';
    if (typeof v !== 'number') return String(v);
    const a = Math.abs(v);
    let s = (a !== 0 && (a < 1e-3 || a >= 1e5)) ? v.toExponential(3) : String(Number(v.toPrecision(4)));
    if (signed && v > 0) s = '+' + s;
    return s;
  }
  const axisNum = (v) => {
    const a = Math.abs(v);
    return (a !== 0 && (a < 1e-2 || a >= 1e4)) ? v.toExponential(1) : String(Number(v.toPrecision(3)));
  };
  const corr = (v) => (v === null || v === undefined) ? 'n/a' : v.toFixed(4);

  function table(headers, rows, numericCols) {
    const t = el('table');
    t.append(el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', {}, h)))));
    const body = el('tbody');
    for (const r of rows) {
      const tr = el('tr');
      r.forEach((cell, i) => {
        if (cell instanceof Node) { tr.append(el('td', {}, cell)); return; }
        const cls = numericCols && numericCols.includes(i) ? 'num' : '';
        tr.append(el('td', cls ? { class: cls } : {}, cell));
      });
      body.append(tr);
    }
    t.append(body);
    return t;
  }
  function kvTable(pairs) {
    const t = table([], pairs.map(([k, v]) => [k, v === '' ? '—' : typeof v === 'string' ? v : JSON.stringify(v)]));
    t.className = 'kv';
    t.querySelector('thead').remove();
    return t;
  }
  // {"fit": {"fit_s": 0.01}, "loo_s": 0.2} -> ["fit.fit_s 0.01 s", "loo_s 0.2 s"]
  function flatTimings(obj, prefix) {
    const out = [];
    for (const [k, v] of Object.entries(obj || {})) {
      if (v && typeof v === 'object') out.push(...flatTimings(v, prefix + k + '.'));
      else out.push(prefix + k + ' ' + (typeof v === 'number' ? num(v) + ' s' : String(v)));
    }
    return out;
  }

  function section(id, title) {
    const s = el('section', { id: 'section-' + id }, el('h2', {}, title));
    main.append(s);
    return s;
  }

  // A chart in a captioned box; returns the ECharts instance.
  function chart(parent, id, option, caption, tall) {
    const box = el('div', { id: id, class: 'chart' + (tall ? ' tall' : '') });
    parent.append(el('div', { class: 'figure' }, box, caption ? el('div', { class: 'caption' }, caption) : null));
    const c = echarts.init(box, null, { renderer: 'svg' });
    c.setOption(Object.assign({ animation: false, textStyle: { fontFamily: 'system-ui, DejaVu Sans, sans-serif' } }, option));
    charts.push(c);
    plots.push(id);
    return c;
  }

  function guarded(name, parent, fn) {
    try {
      fn();
    } catch (e) {
      errors++;
      console.error('mtif report: section ' + name + ' failed:', e);
      (parent || main).append(el('p', { class: 'error' }, 'This section could not be drawn: ' + e));
    }
  }

  function absent(s, what, how) {
    s.append(el('p', { class: 'muted' }, 'Absent: ' + what + ' ', how ? el('span', {}, 'Produce it with ', el('code', {}, how), '.') : null));
  }

  const SIGN_TEXT = [
    'Sign convention: every number is ', el('b', {}, 'loss_change_if_removed'),
    ' = (test loss of the target without the row or task) − (test loss with it). ',
    el('span', { class: 'helps' }, 'Positive (blue)'), ': removing it would raise the target\'s loss, so it ',
    el('span', { class: 'helps' }, 'helps'), ' the target. ',
    el('span', { class: 'hurts' }, 'Negative (red)'), ': removing it would lower the loss, so it ',
    el('span', { class: 'hurts' }, 'hurts'), ' the target.'];

  // ---------- header and the list of sections ----------
  const subtitle = document.getElementById('subtitle');
  subtitle.textContent = 'from ' + data.from + ' · ' + (data.generated_by || 'mtif');

  const has = {
    run: (data.summaries || []).length > 0 || (data.data_files || []).length > 0,
    relatedness: (data.relatedness || []).length > 0,
    validation: (data.loo || []).length > 0 || (data.loto || []).length > 0,
    rows: !!(data.top_rows && data.top_rows.targets && data.top_rows.targets.length),
    selection: !!data.selection,
    groups: (data.groups || []).length > 0,
  };
  const overview = section('overview', 'What this report holds');
  overview.append(el('div', { class: 'sign' }, ...SIGN_TEXT));
  const list = el('ul', { class: 'status' });
  const names = {
    run: 'Run: data set, seed and settings (from the JSON summaries)',
    relatedness: 'Task relatedness heatmaps (K × K)',
    validation: 'Predicted vs actual (leave-one-out rows, leave-one-task-out matrices)',
    rows: 'Rows that help and hurt each task most',
    selection: 'Data selection',
    groups: 'Task groups (mtif group)',
  };
  for (const k of Object.keys(names)) {
    list.append(el('li', has[k] ? {} : { class: 'absent' }, (has[k] ? '✓ ' : '✗ absent: ') + names[k]));
  }
  overview.append(list);
  for (const n of data.notes || []) overview.append(el('p', { class: 'muted' }, 'Note: ' + n));

  // ---------- run: data set, seed, settings ----------
  const run = section('run', 'Run: data, seed and settings');
  guarded('run', run, () => {
    if (!has.run) { absent(run, 'no JSON summary or data file was found.', 'mtif demo, or any subcommand with --json FILE'); return; }
    for (const s of data.summaries || []) {
      run.append(el('h3', {}, 'mtif ' + s.command + ' — ' + s.file));
      const pairs = [];
      if (s.data !== undefined) pairs.push(['data set', s.data]);
      pairs.push(['seed', s.seed === undefined || s.seed === null ? 'not recorded (the linear model is deterministic)' : s.seed]);
      for (const [k, v] of Object.entries(s.settings || {})) pairs.push([k, v]);
      run.append(kvTable(pairs));
      const t = flatTimings(s.timings, '');
      if (t.length) run.append(el('p', { class: 'muted' }, 'Timings: ' + t.join(', ')));
      for (const w of s.warnings || []) run.append(el('p', { class: 'error' }, 'Warning: ' + w));
    }
    if ((data.data_files || []).length) {
      run.append(el('h3', {}, 'Data files'));
      run.append(table(['file', 'rows', 'columns'], data.data_files.map((f) => [f.file, f.rows, f.columns.join(', ')]), [1]));
    }
  });

  // ---------- task relatedness heatmaps ----------
  const rel = section('relatedness', 'Task relatedness');
  guarded('relatedness', rel, () => {
    if (!has.relatedness) { absent(rel, 'no relatedness matrix was found.', 'mtif relatedness --json R.json --out R.csv'); return; }
    rel.append(el('div', { class: 'sign' },
      'Row = ', el('b', {}, 'source task'), ' (the task removed from training); column = ', el('b', {}, 'target task'),
      ' (the task whose test loss changes). ', el('span', { class: 'helps' }, 'Blue, positive'),
      ': the source task helps the target (removing it raises the target\'s loss). ',
      el('span', { class: 'hurts' }, 'Red, negative'), ': the source task hurts the target (negative transfer). ',
      'The colour scale is centred on zero and set by the off-diagonal entries; the diagonal (a task\'s effect on itself) is usually far larger and shows saturated, its value is printed in the cell.'));
    const grid = el('div', { class: 'grid' });
    rel.append(grid);
    data.relatedness.forEach((r, i) => {
      const K = r.sources.length, T = r.targets.length;
      const cells = [];
      let scale = 0, diagScale = 0;
      for (let l = 0; l < K; l++) for (let t = 0; t < T; t++) {
        const v = r.matrix[l][t];
        cells.push([t, l, v]);
        if (r.sources[l] === r.targets[t]) diagScale = Math.max(diagScale, Math.abs(v));
        else scale = Math.max(scale, Math.abs(v));
      }
      if (scale === 0) scale = diagScale || 1;
      const many = Math.max(K, T) > 10;
      chart(grid, 'heatmap-' + i, {
        title: { text: r.label, subtext: 'from ' + r.file, left: 'center', textStyle: { fontSize: 14 } },
        tooltip: {
          formatter: (p) => esc(r.sources[p.value[1]]) + ' → ' + esc(r.targets[p.value[0]]) + '<br>' +
            num(p.value[2], true) + (p.value[2] > 0 ? ' (helps)' : p.value[2] < 0 ? ' (hurts)' : ''),
        },
        grid: { left: 110, right: 110, top: 62, bottom: 78 },
        xAxis: { type: 'category', data: r.targets, name: 'target task (affected)', nameLocation: 'middle', nameGap: many ? 52 : 30,
                 axisLabel: { rotate: many ? 45 : 0, interval: 0 }, splitArea: { show: false } },
        yAxis: { type: 'category', data: r.sources, inverse: true, name: 'source task (removed)', nameLocation: 'middle', nameGap: 80,
                 axisLabel: { interval: 0 } },
        visualMap: { type: 'continuous', min: -scale, max: scale, calculable: false, orient: 'vertical', right: 4, top: 'middle',
                     itemHeight: 200, text: ['+' + axisNum(scale) + ' (helps)', '−' + axisNum(scale) + ' (hurts)'], inRange: { color: [HURT, NEUTRAL, HELP] },
                     formatter: (v) => axisNum(v) },
        series: [{ type: 'heatmap', data: cells, itemStyle: { borderColor: '#fff', borderWidth: 1 },
                   label: { show: !many, fontSize: 10, formatter: (p) => axisNum(p.value[2]) } }],
      }, r.caption || null, true);
    });
  });

  // ---------- predicted vs actual ----------
  function scatter(parent, id, title, subtitle, xName, yName, groups) {
    let lo = Infinity, hi = -Infinity;
    for (const g of groups) for (const p of g.points) { lo = Math.min(lo, p[0], p[1]); hi = Math.max(hi, p[0], p[1]); }
    if (!Number.isFinite(lo)) { lo = -1; hi = 1; }
    const series = groups.map((g) => ({
      name: g.name, type: 'scatter', data: g.points, symbolSize: 6, itemStyle: { color: g.color, opacity: 0.75 },
    }));
    series.push({ name: 'y = x', type: 'line', data: [[lo, lo], [hi, hi]], symbol: 'none', itemStyle: { color: '#888' },
                  lineStyle: { type: 'dashed', color: '#888', width: 1 }, tooltip: { show: false } });
    return chart(parent, id, {
      title: { text: title, subtext: subtitle, left: 'center', textStyle: { fontSize: 14 } },
      tooltip: { trigger: 'item', formatter: (p) => (p.data && p.data.length > 2 ? esc(p.data[2]) + '<br>' : '') +
                   'actual ' + num(p.data[0], true) + '<br>predicted ' + num(p.data[1], true) },
      legend: { bottom: 2, itemWidth: 14, itemGap: 14 },
      grid: { left: 78, right: 24, top: 70, bottom: 82 },
      xAxis: { type: 'value', name: xName, nameLocation: 'middle', nameGap: 28, scale: true, axisLabel: { formatter: axisNum } },
      yAxis: { type: 'value', name: yName, nameLocation: 'middle', nameGap: 58, scale: true, axisLabel: { formatter: axisNum } },
      series: series,
    });
  }

  const val = section('validation', 'Predicted vs actual retraining');
  guarded('validation', val, () => {
    if (!has.validation) {
      absent(val, 'no leave-one-out refits with matching scores, and no retrained task matrix, were found.',
             'mtif loo --rows 0-99 --out loo.csv --json loo.json plus mtif influence --out scores.csv; or mtif relatedness --method retrain');
      return;
    }
    val.append(el('p', {}, 'Each point is one prediction against the real change measured by retraining without the row (LOO) or without the task (LOTO). Points on the dashed line are exact.'));
    const grid = el('div', { class: 'grid' });
    val.append(grid);
    (data.loo || []).forEach((v, i) => {
      const groups = [
        { name: 'row of the target\'s own task', color: '#e08214', points: v.points.filter((p) => p[2]).map((p) => [p[0], p[1], 'row ' + p[3] + ' (' + p[4] + ') → ' + p[5]]) },
        { name: 'row of another task', color: '#5e3c99', points: v.points.filter((p) => !p[2]).map((p) => [p[0], p[1], 'row ' + p[3] + ' (' + p[4] + ') → ' + p[5]]) },
      ];
      scatter(grid, 'loo-' + i, 'LOO ' + v.mode + ': Pearson ' + corr(v.all.pearson) + ', Spearman ' + corr(v.all.spearman),
              v.all.count + ' (row, target) pairs · within-task Pearson ' + corr(v.within_task.pearson) + ', between-task ' + corr(v.between_task.pearson),
              'actual change of the target\'s loss (refit without the row)', 'predicted (' + v.mode + ')', groups);
      grid.lastChild.append(el('div', { class: 'caption' }, 'Predicted: ' + v.scores_file + '; actual: ' + v.loo_file + '.'));
    });
    (data.loto || []).forEach((v, i) => {
      const pts = (d) => v.points.filter((p) => p[2] === d).map((p) => [p[0], p[1], v.sources[p[3]] + ' removed → ' + v.targets[p[4]]]);
      scatter(grid, 'loto-' + i, 'LOTO ' + v.short + ': Pearson ' + corr(v.pearson) + ', Spearman ' + corr(v.spearman),
              v.label + ' · ' + v.points.length + ' (source, target) pairs',
              'actual change (retrain without the source task)', 'predicted (' + v.short + ')',
              [{ name: 'source = target (diagonal)', color: '#e08214', points: pts(1) },
               { name: 'source ≠ target', color: '#5e3c99', points: pts(0) }]);
      grid.lastChild.append(el('div', { class: 'caption' }, 'Predicted: ' + v.file + '; actual: retraining without each task (' + v.truth_file + ').'));
    });
  });

  // ---------- rows that help and hurt ----------
  const rows = section('rows', 'Training rows that help and hurt each task most');
  guarded('rows', rows, () => {
    if (!has.rows) { absent(rows, 'no per-row scores with task targets were found.', 'mtif influence --out scores.csv'); return; }
    const tr = data.top_rows, img = data.images;
    rows.append(el('p', {}, 'Top ' + tr.count + ' rows per target task by loss_change_if_removed, from ' + tr.file + '. ',
      el('span', { class: 'helps' }, 'Helps most'), ' = largest positive score; ',
      el('span', { class: 'hurts' }, 'hurts most'), ' = most negative (e.g. corrupted labels, rows of a conflicting task).'));
    if (!img) rows.append(el('p', { class: 'muted' }, 'No images file (images.npy) in the run directory, so rows show no thumbnails.'));
    function thumb(row) {
      const px = img && img.rows[String(row)];
      if (!px) return '';
      const c = el('canvas', { class: 'thumb', width: img.width, height: img.height });
      const scale = Math.max(1, Math.round(28 / Math.max(img.width, img.height)));
      c.style.width = img.width * scale + 'px';
      c.style.height = img.height * scale + 'px';
      const ctx = c.getContext('2d'), id = ctx.createImageData(img.width, img.height);
      for (let k = 0; k < px.length; k++) { id.data[4 * k] = id.data[4 * k + 1] = id.data[4 * k + 2] = px[k]; id.data[4 * k + 3] = 255; }
      ctx.putImageData(id, 0, 0);
      return c;
    }
    function rowTable(list) {
      const headers = img ? ['image', 'train_row', 'train_task', 'score'] : ['train_row', 'train_task', 'score'];
      const t = table(headers, list.map((r) => (img ? [thumb(r[0])] : []).concat([r[0], r[1], num(r[2], true)])), img ? [1, 3] : [0, 2]);
      t.querySelectorAll('tbody tr').forEach((tr, k) => tr.lastChild.classList.add(list[k][2] > 0 ? 'pos' : list[k][2] < 0 ? 'neg' : 'zero'));
      return t;
    }
    const grid = el('div', { class: 'grid rows' });
    rows.append(grid);
    for (const t of tr.targets) {
      grid.append(el('div', { class: 'task-card', 'data-target': t.target },
        el('h3', {}, 'Target ' + t.target),
        el('div', { class: 'pair' },
          el('div', {}, el('div', { class: 'helps' }, 'Helps most'), rowTable(t.helps)),
          el('div', {}, el('div', { class: 'hurts' }, 'Hurts most'), rowTable(t.hurts)))));
    }
  });

  // ---------- data selection ----------
  const sel = section('selection', 'Data selection');
  guarded('selection', sel, () => {
    if (!has.selection) { absent(sel, 'no selection summary (JSON with "command": "select") was found.', 'mtif select ... --json selection.json'); return; }
    const s = data.selection, methods = s.methods || [];
    const full = s.full_data && typeof s.full_data.test_loss === 'number' ? s.full_data.test_loss : null;
    sel.append(el('p', {}, 'From ' + s.file + '. Budget ' + num(s.budget) + (s.target_task ? ', target task ' + s.target_task : ', all tasks') +
      (full !== null ? '; test loss with all training rows ' + num(full) + '.' : '.')));
    sel.append(table(['method', 'rows selected', 'validation loss', 'test loss', 'test loss − all rows'],
      methods.map((m) => [m.method, m.rows_selected, num(m.valid_loss), num(m.test_loss),
                          full !== null && typeof m.test_loss === 'number' ? num(m.test_loss - full, true) : '—']), [1, 2, 3, 4]));
    chart(sel, 'selection-bar', {
      title: { text: 'Test loss after selection (lower is better)', left: 'center', textStyle: { fontSize: 14 } },
      tooltip: { trigger: 'axis', formatter: (ps) => esc(ps[0].name) + '<br>test loss ' + num(ps[0].value) },
      grid: { left: 80, right: 30, top: 50, bottom: 40 },
      xAxis: { type: 'category', data: methods.map((m) => m.method), axisLabel: { interval: 0 } },
      yAxis: { type: 'value', name: 'test loss', min: 0, axisLabel: { formatter: axisNum } },
      series: [{ type: 'bar', data: methods.map((m) => m.test_loss), itemStyle: { color: HELP }, barMaxWidth: 60,
                 label: { show: true, position: 'top', formatter: (p) => num(p.value) },
                 markLine: full === null ? undefined : { symbol: 'none', data: [{ yAxis: full, name: 'all rows' }],
                   label: { position: 'insideEndTop', formatter: 'all training rows ' + num(full) }, lineStyle: { color: '#555', type: 'dashed' } } }],
    });
  });

  // ---------- task groups (mtif group) ----------
  const grp = section('groups', 'Task groups');
  guarded('groups', grp, () => {
    if (!has.groups) { absent(grp, 'no group summary (JSON with "command": "group") was found.', 'mtif group ... --groups 2,3 --json groups.json'); return; }
    data.groups.forEach((g, i) => {
      grp.append(el('h3', {}, g.file + ': affinity ' + g.affinity + ', chosen on ' + g.chosen_on));
      grp.append(el('p', { class: 'muted' }, 'One linear model per group. Loss: mean over the ' + g.tasks.length +
        ' tasks of each task\'s mean test loss (lower is better).'));
      const rows = [['one model for all tasks', '—', num(g.all_tasks), '—'], ['one model per task', '—', num(g.single_task), num(g.single_task - g.all_tasks, true)]];
      for (const b of g.budgets) {
        rows.push([b.groups + ' groups (' + b.search + ')', b.partition.map((p) => '{' + p.join(', ') + '}').join(' '),
                   num(b.mean_test_loss), num(b.mean_test_loss - g.all_tasks, true)]);
      }
      grp.append(table(['models', 'groups', 'mean test loss', '− one model'], rows, [2, 3]));
      const labels = ['all tasks', 'per task'].concat(g.budgets.map((b) => 'g = ' + b.groups));
      chart(grp, 'groups-bar-' + i, {
        title: { text: 'Mean test loss by number of models (lower is better)', left: 'center', textStyle: { fontSize: 14 } },
        tooltip: { trigger: 'axis', formatter: (ps) => esc(ps[0].name) + '<br>test loss ' + num(ps[0].value) },
        grid: { left: 80, right: 30, top: 50, bottom: 40 },
        xAxis: { type: 'category', data: labels, axisLabel: { interval: 0 } },
        yAxis: { type: 'value', name: 'test loss', scale: true, axisLabel: { formatter: axisNum } },
        series: [{ type: 'bar', data: [g.all_tasks, g.single_task].concat(g.budgets.map((b) => b.mean_test_loss)),
                   itemStyle: { color: HELP }, barMaxWidth: 60 }],
      });
    });
  });

  window.addEventListener('resize', () => charts.forEach((c) => c.resize()));
  const status = document.getElementById('mtif-status');
  status.setAttribute('data-plots', plots.join(','));
  status.setAttribute('data-status', errors ? 'error' : 'ok');
})();
