import { CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Title, Tooltip, type ChartDataset, type PointStyle } from 'chart.js';
import type { Series } from './api.ts';
import { h } from './dom.ts';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip, Title);
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif';

// Series differ in point style and dash pattern as well as colour (Okabe–Ito palette, readable by colour-blind readers).
const colours = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];
const pointStyles: PointStyle[] = ['circle', 'triangle', 'rect', 'rectRot', 'crossRot', 'star', 'cross', 'rectRounded'];
const dashes: number[][] = [[], [8, 4], [2, 3], [10, 3, 2, 3], [4, 4], [12, 6], [1, 2], [6, 2, 2, 2]];

type Metric = 'tokens' | 'gco2e';
const units: Record<Metric, string> = { tokens: 'tokens', gco2e: 'g CO2e' };

export class SeriesCharts {
  private readonly charts = new Map<Metric, Chart<'line', { x: number; y: number }[]>>();

  constructor(private readonly canvases: Record<Metric, HTMLCanvasElement>, private readonly tables: Record<Metric, HTMLElement>) {}

  render(data: Series): void {
    for (const metric of ['tokens', 'gco2e'] as const) {
      const datasets: ChartDataset<'line', { x: number; y: number }[]>[] = data.series.map((s, i) => ({
        label: s.key,
        // Clock time on the x axis (the log's recordedAt): "over time" as a reader means it; positions are in the table.
        data: s.points.map((p) => ({ x: Date.parse(p.time), y: p[metric] })),
        borderColor: colours[i % colours.length],
        backgroundColor: colours[i % colours.length],
        pointStyle: pointStyles[i % pointStyles.length],
        pointRadius: 5,
        pointHoverRadius: 7,
        borderDash: dashes[i % dashes.length],
        borderWidth: 2,
        stepped: false,
      }));
      const existing = this.charts.get(metric);
      const title = `${metric === 'tokens' ? 'Tokens' : 'gCO2e (usage)'} by ${data.by}`;
      if (existing) {
        existing.data.datasets = datasets;
        if (existing.options.plugins?.title) existing.options.plugins.title.text = title;
        existing.update('none');
      } else {
        this.charts.set(metric, new Chart<'line', { x: number; y: number }[]>(this.canvases[metric], {
          type: 'line',
          data: { datasets },
          options: {
            animation: false,
            responsive: true,
            maintainAspectRatio: false,
            parsing: false,
            interaction: { mode: 'nearest', intersect: false },
            scales: {
              x: { type: 'linear', title: { display: true, text: 'time (UTC, as recorded)' }, ticks: { callback: (value) => clockTime(Number(value)), maxTicksLimit: 6 } },
              y: { type: 'linear', beginAtZero: true, title: { display: true, text: units[metric] } },
            },
            plugins: {
              title: { display: true, text: title },
              legend: { display: true, position: 'bottom', labels: { usePointStyle: true, boxWidth: 40 } },
              tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${item.parsed.y} ${units[metric]} at ${new Date(item.parsed.x ?? 0).toISOString()}` } },
            },
          },
        }));
      }
      this.canvases[metric].setAttribute('aria-label', `${title}: ${data.series.length} series; the table below lists every point`);
      this.renderTable(metric, data);
    }
  }

  /** The same data as a table, for screen readers and for anyone who prefers numbers to lines. */
  private renderTable(metric: Metric, data: Series): void {
    const rows = data.series.flatMap((s) => s.points.map((p) => h('tr', {}, h('td', {}, s.key), h('td', {}, p.position), h('td', {}, p.time), h('td', {}, String(p[metric])))));
    this.tables[metric].replaceChildren(h('table', {},
      h('caption', {}, `${units[metric]} by ${data.by}`),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, data.by), h('th', { scope: 'col' }, 'position'), h('th', { scope: 'col' }, 'time'), h('th', { scope: 'col' }, units[metric]))),
      h('tbody', {}, rows)));
  }
}

/** An axis label for a recorded time: HH:MM:SS in UTC (the log's times are UTC). */
function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}
