// A grouped bar chart as inline SVG: no library, scales to the width of a phone, mirrored right-to-left.
import { digits, getLang, num } from './i18n.js';

const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs = {}, text = null) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== null) el.textContent = text;
  return el;
}

/**
 * barChart({title, categories: ['1404-08', ...], series: [{label, values: [..], tone: 'a'}]})
 * One group of bars per category; a legend; the numbers above the bars; role="img" with a summary label.
 */
export function barChart({ title, categories, series }) {
  const rtl = getLang() === 'fa';
  const width = 360;
  const height = 240;
  const top = 24;
  const bottom = 40;
  const side = 8;
  const plotH = height - top - bottom;
  const max = Math.max(1, ...series.flatMap((x) => x.values));
  const groupW = (width - 2 * side) / Math.max(1, categories.length);
  const barW = Math.max(4, Math.min(22, (groupW - 10) / series.length));
  const summary = categories.map((c, i) => `${digits(c)}: ${series.map((x) => `${x.label} ${num(x.values[i])}`).join('، ')}`)
    .join('؛ ');
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', class: 'chart', 'aria-label': `${title}. ${summary}` });
  svg.append(s('title', {}, title));
  svg.append(s('line', { x1: side, x2: width - side, y1: top + plotH, y2: top + plotH, class: 'axis' }));
  categories.forEach((category, i) => {
    const slot = rtl ? categories.length - 1 - i : i;
    const gx = side + slot * groupW + (groupW - barW * series.length) / 2;
    series.forEach((serie, k) => {
      const value = serie.values[i] || 0;
      const barH = Math.round((value / max) * (plotH - 14));
      const order = rtl ? series.length - 1 - k : k;
      const x = gx + order * barW;
      svg.append(s('rect', { x, y: top + plotH - barH, width: barW - 2, height: barH, class: `bar ${serie.tone}` }));
      svg.append(s('text', { x: x + (barW - 2) / 2, y: top + plotH - barH - 3, class: 'value', 'text-anchor': 'middle' },
        num(value)));
    });
    svg.append(s('text', { x: side + slot * groupW + groupW / 2, y: height - 14, class: 'label', 'text-anchor': 'middle' },
      digits(category)));
  });
  return svg;
}

/** The legend of a chart, as HTML so it wraps on a narrow screen. */
export function legend(series) {
  const list = document.createElement('ul');
  list.className = 'legend';
  for (const serie of series) {
    const item = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = `swatch ${serie.tone}`;
    swatch.setAttribute('aria-hidden', 'true');
    item.append(swatch, serie.label);
    list.append(item);
  }
  return list;
}
