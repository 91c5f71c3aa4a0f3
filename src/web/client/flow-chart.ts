// Flows per member of the selected VIP as a Chart.js bar chart, updated in place as traffic runs.
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from 'chart.js';
import type { FlowShare } from '../view-model.ts';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

const PALETTE = ['#2563eb', '#db2777', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#dc2626', '#4d7c0f'];

export class FlowChart {
  private readonly chart: Chart<'bar', number[], string>;

  constructor(canvas: HTMLCanvasElement) {
    this.chart = new Chart(canvas, {
      type: 'bar',
      data: { labels: [], datasets: [{ label: 'flows', data: [], backgroundColor: [] }] },
      options: {
        animation: { duration: 150 },
        maintainAspectRatio: false,
        indexAxis: 'y',
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: {
          tooltip: {
            callbacks: {
              label: (item) => {
                const total = this.total();
                const n = Number(item.raw);
                return `${n} flows${total > 0 ? ` (${((100 * n) / total).toFixed(1)} %)` : ''}`;
              },
            },
          },
        },
      },
    });
  }

  update(shares: readonly FlowShare[]): void {
    const labels = shares.map((s) => s.member);
    const data = shares.map((s) => s.flows);
    const same = labels.join('|') === (this.chart.data.labels ?? []).join('|') && data.join('|') === this.chart.data.datasets[0].data.join('|');
    if (same) return;
    this.chart.data.labels = labels;
    this.chart.data.datasets[0].data = data;
    this.chart.data.datasets[0].backgroundColor = labels.map((_, i) => PALETTE[i % PALETTE.length]);
    this.chart.update();
  }

  /** What the bars add up to (the tests compare it with the flows sent). */
  total(): number {
    return this.chart.data.datasets[0].data.reduce((a, b) => a + b, 0);
  }
}
