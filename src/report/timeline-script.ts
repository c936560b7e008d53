/**
 * The HTML report's own script, run in the browser after uPlot's: one uPlot chart per entry of the
 * `timeline-data` JSON (see timeline.ts), the bounds and missed samples drawn on the canvas, fault
 * windows and marks laid over the plot as elements (text only through textContent). It exposes
 * the charts as `window.gamedayCharts` ({ id, uplot, points, samples }) for tests and the console.
 * Plain ES5 in a string: it runs in the reader's browser, not in Node.
 */
export const TIMELINE_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('timeline-data').textContent);
  var charts = [];
  window.gamedayCharts = charts;
  if (typeof uPlot !== 'function') {
    document.getElementById('timeline-error').textContent = 'The charts could not be drawn: uPlot did not load.';
    return;
  }
  var HEIGHT = 220;
  var px = function (n) { return n * (uPlot.pxRatio || 1); };
  var fmt = function (t) { return new Date(t * 1000).toISOString().slice(11, 23); };

  function yRange(c) {
    return function (u, min, max) {
      var lo = min, hi = max;
      c.bounds.forEach(function (b) {
        lo = lo == null ? b.value : Math.min(lo, b.value);
        hi = hi == null ? b.value : Math.max(hi, b.value);
      });
      if (lo == null || hi == null) { lo = 0; hi = 1; }
      if (lo === hi) { lo -= 1; hi += 1; }
      var pad = (hi - lo) * 0.08;
      return [lo - pad, hi + pad];
    };
  }

  function drawBoundsAndMisses(c) {
    return function (u) {
      var ctx = u.ctx, box = u.bbox;
      ctx.save();
      ctx.font = px(11) + 'px sans-serif';
      // uPlot leaves the y axis's right alignment on the context.
      ctx.textAlign = 'left';
      ctx.textBaseline = 'alphabetic';
      c.bounds.forEach(function (b) {
        var y = Math.round(u.valToPos(b.value, 'y', true));
        ctx.strokeStyle = ctx.fillStyle = b.kind === 'abort' ? '#b91c1c' : '#c2410c';
        ctx.lineWidth = px(1.5);
        ctx.setLineDash([px(6), px(4)]);
        ctx.beginPath();
        ctx.moveTo(box.left, y);
        ctx.lineTo(box.left + box.width, y);
        ctx.stroke();
        ctx.fillText(b.label, box.left + px(6), y - px(4));
      });
      ctx.fillStyle = '#dc2626';
      var bottom = box.top + box.height;
      c.misses.forEach(function (t) {
        var x = u.valToPos(t, 'x', true);
        ctx.fillRect(x - px(1), bottom - px(10), px(2), px(10));
      });
      ctx.restore();
    };
  }

  function element(tag, className, text) {
    var e = document.createElement(tag);
    e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function overlay(u) {
    var layer = u.over.querySelector('.gd-layer');
    if (!layer) {
      layer = element('div', 'gd-layer');
      u.over.appendChild(layer);
    }
    layer.textContent = '';
    data.faults.forEach(function (f) {
      var left = u.valToPos(f.from, 'x'), right = u.valToPos(f.to, 'x');
      var w = element('div', 'fault-window' + (f.reverted ? '' : ' not-reverted'), f.id);
      w.style.left = left + 'px';
      w.style.width = Math.max(2, right - left) + 'px';
      w.title = f.label + (f.reverted ? '' : ' (NOT REVERTED)');
      w.setAttribute('data-fault', f.id);
      layer.appendChild(w);
    });
    data.marks.forEach(function (m, i) {
      var mark = element('div', 'mark mark-' + m.kind);
      mark.style.left = u.valToPos(m.at, 'x') + 'px';
      mark.title = m.label + ' at ' + fmt(m.at);
      var label = element('span', 'mark-label', m.label);
      label.style.top = (14 + (i % 3) * 14) + 'px';
      // Near the right edge the label goes on the mark's left, where it can be read.
      if (u.valToPos(m.at, 'x') > u.over.clientWidth - 100) label.className += ' flip';
      mark.appendChild(label);
      layer.appendChild(mark);
    });
  }

  data.charts.forEach(function (c) {
    var el = document.getElementById('chart-' + c.id);
    var sparse = c.group === 'steady state';
    var opts = {
      width: Math.max(320, el.clientWidth),
      height: HEIGHT,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'); },
      scales: {
        x: { time: true, range: function () { return [data.range[0], data.range[1]]; } },
        y: { range: yRange(c) }
      },
      series: [
        { value: function (u, v) { return v == null ? '--' : fmt(v); } },
        {
          label: c.field, stroke: '#2563eb', width: 1.5,
          points: { show: sparse || c.x.length <= 300, size: sparse ? 7 : 5, fill: '#2563eb' },
          // The steady state is measured before and after the fault only: a line between would invent the middle.
          paths: sparse ? function () { return null; } : undefined
        }
      ],
      axes: [{}, { label: c.field, size: 64 }],
      hooks: { draw: [drawBoundsAndMisses(c)], ready: [overlay], setSize: [overlay] }
    };
    var u = new uPlot(opts, [c.x, c.y], el);
    charts.push({ id: c.id, uplot: u, points: c.x.length, samples: c.samples });
  });

  window.addEventListener('resize', function () {
    charts.forEach(function (ch) {
      ch.uplot.setSize({ width: Math.max(320, ch.uplot.root.parentNode.clientWidth), height: HEIGHT });
    });
  });
})();
`;
