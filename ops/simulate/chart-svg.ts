/**
 * One SVG per run: four panels sharing the time axis (in hours) — arrivals, backlog, the oldest message's age with
 * the alarm threshold, running tasks with the oracle's. Plain SVG text, 800 px wide, for a README.
 */
import type { SimulationResult } from './types.ts';

const WIDTH = 800;
const MARGIN = { left: 64, right: 16, top: 40, bottom: 36 };
const PANEL_HEIGHT = 130;
const PANEL_GAP = 34;
const PLOT_WIDTH = WIDTH - MARGIN.left - MARGIN.right;

export const PANEL_TITLES = ['Arrivals per minute', 'Backlog (visible + in flight)', 'Oldest message age (s)', 'Running tasks'] as const;

interface Line {
  readonly values: readonly number[];
  readonly color: string;
  readonly dashed?: boolean;
  readonly label: string;
}

interface Panel {
  readonly title: string;
  readonly lines: readonly Line[];
  /** A horizontal dashed line, such as the alarm threshold. */
  readonly rule?: { readonly value: number; readonly label: string };
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The smallest of 1, 2, 5 × 10^k at least `value`. */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].find((step) => step * magnitude >= value * (1 - 1e-12)) ?? 10) * magnitude;
}

/** An hour step giving at most about 12 ticks over `totalHours`. */
export function hourStep(totalHours: number): number {
  return [0.25, 0.5, 1, 2, 3, 6, 12, 24, 48, 168].find((step) => totalHours / step <= 12) ?? 336;
}

export function compactNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (abs >= 1e3) return `${Number((value / 1e3).toPrecision(3))}k`;
  return `${Number(value.toPrecision(3))}`;
}

const round = (value: number): string => String(Math.round(value * 10) / 10);

/**
 * The line's points, one per pixel column at most: each column shows its minutes' maximum, so that a one-minute
 * burst in a day's run stays visible.
 */
function points(values: readonly number[], totalMinutes: number, x: (minute: number) => number, y: (value: number) => number): string {
  const columns = Math.min(values.length, PLOT_WIDTH);
  const out: string[] = [];
  for (let column = 0; column < columns; column += 1) {
    const from = Math.floor((column * values.length) / columns);
    const to = Math.max(from + 1, Math.floor(((column + 1) * values.length) / columns));
    let peak = 0;
    for (let minute = from; minute < to; minute += 1) peak = Math.max(peak, values[minute] ?? 0);
    // A minute's sample is its end: plot it at the minute's end, the run starting from its first value.
    out.push(`${round(x(Math.min(totalMinutes, to)))},${round(y(peak))}`);
  }
  if (values.length > 0) out.unshift(`${round(x(0))},${round(y(values[0] ?? 0))}`);
  return out.join(' ');
}

function panelSvg(panel: Panel, index: number, totalMinutes: number): string {
  const top = MARGIN.top + index * (PANEL_HEIGHT + PANEL_GAP);
  const bottom = top + PANEL_HEIGHT;
  const peak = Math.max(0, ...panel.lines.flatMap((line) => line.values), panel.rule?.value ?? 0);
  const yMax = niceCeiling(peak);
  const x = (minute: number): number => MARGIN.left + (totalMinutes === 0 ? 0 : (minute / totalMinutes) * PLOT_WIDTH);
  const y = (value: number): number => bottom - (value / yMax) * PANEL_HEIGHT;
  const parts: string[] = [];
  parts.push(`<g class="panel">`);
  parts.push(`<text x="${MARGIN.left}" y="${top - 8}" font-size="13" font-weight="bold">${escapeXml(panel.title)}</text>`);
  parts.push(`<rect x="${MARGIN.left}" y="${top}" width="${PLOT_WIDTH}" height="${PANEL_HEIGHT}" fill="none" stroke="#999"/>`);
  for (let tick = 0; tick <= 4; tick += 1) {
    const value = (yMax * tick) / 4;
    const ty = round(y(value));
    parts.push(`<line x1="${MARGIN.left - 4}" y1="${ty}" x2="${MARGIN.left + PLOT_WIDTH}" y2="${ty}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${ty}" font-size="10" text-anchor="end" dominant-baseline="middle">${compactNumber(value)}</text>`);
  }
  const step = hourStep(totalMinutes / 60);
  for (let hour = 0; hour * 60 <= totalMinutes + 1e-9; hour += step) {
    const tx = round(x(hour * 60));
    parts.push(`<line x1="${tx}" y1="${bottom}" x2="${tx}" y2="${bottom + 4}" stroke="#666"/>`);
    parts.push(`<text x="${tx}" y="${bottom + 15}" font-size="10" text-anchor="middle">${Number(hour.toFixed(2))}</text>`);
  }
  if (panel.rule) {
    const ry = round(y(panel.rule.value));
    parts.push(`<line x1="${MARGIN.left}" y1="${ry}" x2="${MARGIN.left + PLOT_WIDTH}" y2="${ry}" stroke="#d62728" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${MARGIN.left + PLOT_WIDTH - 4}" y="${Number(ry) - 4}" font-size="10" text-anchor="end" fill="#d62728">${escapeXml(panel.rule.label)}</text>`);
  }
  for (const line of panel.lines) {
    const dash = line.dashed ? ' stroke-dasharray="5 3"' : '';
    parts.push(`<polyline fill="none" stroke="${line.color}" stroke-width="1.5"${dash} points="${points(line.values, totalMinutes, x, y)}"/>`);
  }
  panel.lines.forEach((line, position) => {
    // On the title's row, right-aligned: inside the plot it would hide a peak at the run's start.
    const lx = MARGIN.left + PLOT_WIDTH - (panel.lines.length - position) * 140;
    const ly = top - 8;
    const dash = line.dashed ? ' stroke-dasharray="5 3"' : '';
    parts.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 18}" y2="${ly - 4}" stroke="${line.color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${lx + 22}" y="${ly}" font-size="10">${escapeXml(line.label)}</text>`);
  });
  parts.push(`</g>`);
  return parts.join('\n');
}

export function chartSvg(result: SimulationResult, oracle: { tasksPerMinute: number[] }, alarmThresholdSeconds: number): string {
  const samples = result.minutes;
  const totalMinutes = samples.length;
  const panels: Panel[] = [
    { title: PANEL_TITLES[0], lines: [{ values: samples.map((sample) => sample.arrivals), color: '#1f77b4', label: 'arrivals' }] },
    { title: PANEL_TITLES[1], lines: [{ values: samples.map((sample) => sample.visible + sample.inFlight), color: '#ff7f0e', label: 'visible + in flight' }] },
    {
      title: PANEL_TITLES[2],
      lines: [{ values: samples.map((sample) => sample.oldestAgeSeconds), color: '#2ca02c', label: 'oldest age' }],
      rule: { value: alarmThresholdSeconds, label: `alarm threshold ${alarmThresholdSeconds} s` },
    },
    {
      title: PANEL_TITLES[3],
      lines: [
        { values: samples.map((sample) => sample.runningTasks), color: '#9467bd', label: 'running (policy)' },
        { values: oracle.tasksPerMinute.slice(0, Math.max(totalMinutes, 1)), color: '#555555', dashed: true, label: 'oracle' },
      ],
    },
  ];
  const height = MARGIN.top + panels.length * (PANEL_HEIGHT + PANEL_GAP) - PANEL_GAP + MARGIN.bottom;
  const axisY = height - 8;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="18" font-size="14" font-weight="bold">${escapeXml(`${result.profile.name}: ${result.profile.description}`)}</text>`,
    ...panels.map((panel, index) => panelSvg(panel, index, totalMinutes)),
    `<text x="${MARGIN.left + PLOT_WIDTH / 2}" y="${axisY}" font-size="11" text-anchor="middle">hours from the start of the run</text>`,
    `</svg>`,
    '',
  ].join('\n');
}
