/**
 * RESULTS.md: one run's report as Markdown, the file in which the bench's figures live between runs
 * (a standard run replaces it; see options.ts). Pure.
 */
import type { ProfileSummary } from './profiling.ts';
import { LATENCY_TABLE_NOTE, latencyTableHeaders, latencyTableRows } from './latency-report.ts';
import { FIGURE_HEADERS, figureRows, LOAD_HEADERS, loadRows, renderCpuProfile, TARGET_HEADERS, targetRows, type RunDescription } from './report.ts';
import type { BenchResults, ScenarioLoad } from './results.ts';
import type { TargetResult } from './targets.ts';

export interface BenchRun {
  readonly description: RunDescription;
  readonly results: BenchResults;
  readonly targets: readonly TargetResult[];
  readonly loads: readonly ScenarioLoad[];
  readonly profiles: readonly ProfileSummary[];
  readonly wallSeconds: number;
}

/** A Markdown table; a `|` inside a cell is escaped so that it stays in its column. */
export function markdownTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]) => `| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map((row) => line(headers.map((_, column) => row[column] ?? '')))].join('\n');
}

/** What the figures mean and what bounds them here: the same for every run, so it is written once, here. */
const READING_THE_FIGURES = `## Reading the figures

- The floors bound the worker: it reads, processes and writes at once, so the slower of scenario 1 (the
  record rules alone, in memory) and scenario 2 (the same bytes through S3, no processing) is the best it
  can do on this machine. \`worker CPU ÷ (compute floor + I/O floor client CPU)\` near 1 means the worker
  spends nothing beyond processing and moving the bytes.
- The emulator runs on the same cores and does the work S3 does elsewhere: while the worker parses in one
  thread, the emulator takes CPU the worker could otherwise use (the "emulator CPU meanwhile" rows).
- The naive baseline varies more than anything else from run to run: it holds the whole file and both
  outputs in its heap, close to the production heap limit, so garbage collection decides its time. Judge
  the ratios to it over several runs.
- Small files: every file costs the same requests (receive, get, two puts, a share of a batched delete),
  so the CPU per file across worker, emulator and bench bounds the files/s on these cores however many
  files or processes are in flight ("files/s the cores allow"). On loopback a request takes no time;
  against S3 and SQS the bound on files in flight matters far more than here.
- Memory: the worker's peak RSS is a plateau (the part being filled and the parts in flight, per
  output), not a function of the file's size. A small file whose outputs never fill a part stays below
  the plateau, which is what scenario 8's "peak RSS large ÷ small" shows.
- gzip (\`--gzip\`): zlib runs on libuv's thread pool, so the worker's CPU time can exceed its wall time.
- Latency (scenarios 10 and 11): a proxy process between the worker and the emulator holds every request
  of the worker for the delay before forwarding it (the bench's own puts go straight to the emulator), so
  a small file's few round trips, not the CPU, decide how fast one file goes, as on AWS. Requests per file
  count what ended between the first put and the last file's delete (idle long polls that a worker's
  shutdown cuts short are left out); the proxy's CPU is its own, like the emulator's, and shares the cores
  too. Each cell has a fresh worker and its own number of files (fewer where a file takes longer), so
  compare files/s, not totals.`;

function latencySection(results: BenchResults): string[] {
  const figures = results.requestLatency;
  if (figures === undefined) return [];
  return ['## Latency per request', '', `Files/s: ${LATENCY_TABLE_NOTE}.`, '', markdownTable(latencyTableHeaders(figures), latencyTableRows(figures)), ''];
}

function runLines(run: BenchRun): string[] {
  const { description } = run;
  return [
    `- Command: \`${description.command}\` (${description.mode} run)`,
    `- Date: ${description.date}`,
    `- Machine: ${description.machine}`,
    `- Worker: ${description.workerRuntime}`,
    '- Changed from production defaults:',
    ...description.changedSettings.map((setting) => `  - ${setting}`),
    `- Bench wall time: ${run.wallSeconds.toFixed(1)} s`,
  ];
}

function profileSections(profiles: readonly ProfileSummary[]): string[] {
  if (profiles.length === 0) return [];
  return ['## CPU profiles', '', ...profiles.flatMap((profile) => ['```text', renderCpuProfile(profile), '```', ''])];
}

function failureSections(failures: RunDescription['failures']): string[] {
  if (failures.length === 0) return [];
  return ['## Failed scenarios', '', ...failures.map(({ scenario, error }) => `- ${scenario}: ${error.split('\n')[0] ?? ''}`), ''];
}

export function renderResultsMarkdown(run: BenchRun): string {
  return [
    '# Bench results',
    '',
    'Written by `npm run bench` (ops/bench/main.ts): a full run of every scenario at the default sizes replaces',
    'this file; other runs write their report only where `--results FILE` says. Compare only ratios measured in',
    'one run: machines of one kind differ in speed, and the emulator shares the cores with the worker.',
    '',
    ...runLines(run),
    '',
    ...failureSections(run.description.failures),
    '## Figures',
    '',
    markdownTable(FIGURE_HEADERS, figureRows(run.results)),
    '',
    ...latencySection(run.results),
    '## Targets',
    '',
    markdownTable(TARGET_HEADERS, targetRows(run.targets)),
    '',
    '## Other load on the machine',
    '',
    'CPU that other processes used while each scenario ran: the figures above are only as good as this is small.',
    '',
    markdownTable(LOAD_HEADERS, loadRows(run.loads)),
    '',
    ...profileSections(run.profiles),
    READING_THE_FIGURES,
    '',
  ].join('\n');
}
