/**
 * The observability assets in ops/observability/ stay true to the worker: every metric, label and
 * label value the Grafana dashboard and the alert rules use exists in a real worker's /metrics, the
 * dashboard is importable, the rules carry their runbooks in the README, and (with promtool, which CI
 * must have) Prometheus accepts the rules, the config and every dashboard query, and the alerts fire
 * when they should and only then (`promtool test rules` on scenarios).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { pino } from 'pino';
import {
  checkExpression,
  dashboardPanelExpressions,
  dashboardVariableExpressions,
  headingAnchor,
  parseExposition,
  promqlNames,
  readYaml,
  ruleExpressions,
  withoutGrafanaVariables,
  type CheckOptions,
  type MetricInventory,
  type NamedExpression,
  type YamlValue,
} from '../../../support/observability-asset-lint.ts';
import { waitFor } from '../../../support/emulator.ts';
import { describePromtool, itPromtool, promtool, promtoolTitle, requirePromtool } from '../../../support/promtool.ts';
import { startStackWithWorker, type StackWithWorker } from '../../../support/worker-harness.ts';
import { createTelemetry, METRIC_PREFIX } from '../../../../worker/telemetry.ts';
import { DEFAULT_PROMETHEUS_TARGETS_FILE } from '../../../../ops/local/prometheus-targets.ts';

const ASSETS = fileURLToPath(new URL('../../../../ops/observability/', import.meta.url));
const README = fileURLToPath(new URL('../../../../README.md', import.meta.url));
const JOB = 'iot-ingest-worker';
const CHECK_OPTIONS: CheckOptions = { targetLabels: ['job', 'instance'], syntheticSeries: { up: [] } };
/**
 * The worker's labelled metrics (worker/telemetry.ts) whose label names the scrape below cannot show:
 * counters the worker does not zero, whose first series comes with an event this test does not cause.
 * Checked both ways against the worker's registry and the scrape: a new metric of that kind fails the
 * test until it is declared here (so that the dashboard and the alert rules are checked against its
 * label names), and an entry fails once the scrape shows its labels (the worker zeroes it: drop it).
 */
const LABELS_WITHOUT_SERIES: Readonly<Record<string, readonly string[]>> = {};
/** The README section whose subsections are the runbooks the alert rules link to. */
const RUNBOOK_HOME = 'Operating';
const RUNBOOK_SECTIONS = ['DLQ is not empty', 'queue is growing', 'a bad deploy rejected everything, replay yesterday'];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const asset = (name: string) => readFile(join(ASSETS, name), 'utf8');
const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);
const objects = (value: unknown): JsonObject[] => (Array.isArray(value) ? value.filter(isObject) : []);
const field = (value: unknown, key: string): unknown => (isObject(value) ? value[key] : undefined);
const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value) ?? '');

/** The label names of the worker's metrics by family, from a registry built as the worker builds it. */
function workerLabelNames(): Map<string, readonly string[]> {
  const { registry } = createTelemetry(pino({ level: 'silent' }), { defaultMetrics: false });
  return new Map(
    registry.getMetricsAsArray().map((metric) => {
      // prom-client keeps a metric's label names on the object without declaring them in its types.
      const { labelNames = [] } = metric as unknown as { readonly labelNames?: readonly string[] };
      return [metric.name, labelNames] as const;
    }),
  );
}

/** The worker metrics with labels the scrape does not show (a histogram's are read from its `_count` series). */
function labelsTheScrapeCannotShow(scraped: MetricInventory, labelNames: ReadonlyMap<string, readonly string[]>): Record<string, string[]> {
  const hidden: Record<string, string[]> = {};
  for (const [family, labels] of labelNames) {
    const shown = scraped.get(family) ?? scraped.get(`${family}_count`);
    if (family.startsWith(METRIC_PREFIX) && labels.some((label) => !shown?.has(label))) hidden[family] = [...labels];
  }
  return hidden;
}

/**
 * The headings (their text) nested in the Markdown section `## <title>`, up to the next heading of level 1
 * or 2; fenced code is skipped. Throws when there is no such section, so that renaming it fails the test.
 */
function subheadings(markdown: string, title: string): string[] {
  let inSection = false;
  let fenced = false;
  const found: string[] = [];
  for (const line of markdown.split(/\r?\n/)) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^(#{1,6}) (.+)$/.exec(line);
    if (heading?.[1] === undefined || heading[2] === undefined) continue;
    if (heading[1].length <= 2) {
      if (inSection) break;
      if (heading[1].length === 2 && heading[2].trim() === title) inSection = true;
    } else if (inSection) found.push(heading[2].trim());
  }
  if (!inSection) throw new Error(`README.md has no "## ${title}" section`);
  return found;
}

/** Problems per expression, keyed by where it is: `{}` when everything exists. */
function problemsOf(expressions: readonly NamedExpression[], inventory: MetricInventory, options: CheckOptions): Record<string, string[]> {
  const problems: Record<string, string[]> = {};
  for (const { where, expr, legendFormat } of expressions) {
    const found = checkExpression(expr, inventory, options, legendFormat);
    if (found.length > 0) problems[`${where}: ${expr}`] = found;
  }
  return problems;
}

/** A scrape as a test would see it: a histogram declared but never observed, counters with and without labels. */
const FAKE_SCRAPE = [
  '# HELP iot_ingest_files_total Files',
  '# TYPE iot_ingest_files_total counter',
  'iot_ingest_files_total{outcome="succeeded"} 3',
  'iot_ingest_files_total{outcome="failed_transient"} 0',
  '# TYPE iot_ingest_file_duration_seconds histogram',
  'iot_ingest_file_duration_seconds_bucket{le="0.1",outcome="succeeded"} 1',
  'iot_ingest_file_duration_seconds_bucket{le="+Inf",outcome="succeeded"} 3',
  'iot_ingest_file_duration_seconds_sum{outcome="succeeded"} 0.4',
  'iot_ingest_file_duration_seconds_count{outcome="succeeded"} 3',
  '# TYPE iot_ingest_messages_received_total counter',
  'iot_ingest_messages_received_total 4',
  '# TYPE nodejs_gc_duration_seconds histogram',
  '# TYPE label_escapes gauge',
  'label_escapes{text="a \\"quoted\\", {braced} \\\\ value"} 1',
  '',
].join('\n');

describe('the PromQL name check', () => {
  const inventory = parseExposition(FAKE_SCRAPE);
  const options: CheckOptions = { ...CHECK_OPTIONS, job: JOB };

  it('reads series, the _bucket/_sum/_count of histograms (observed or not), label names and values', () => {
    expect([...inventory.keys()].sort()).toEqual(
      [
        'iot_ingest_file_duration_seconds_bucket',
        'iot_ingest_file_duration_seconds_count',
        'iot_ingest_file_duration_seconds_sum',
        'iot_ingest_files_total',
        'iot_ingest_messages_received_total',
        'label_escapes',
        'nodejs_gc_duration_seconds_bucket',
        'nodejs_gc_duration_seconds_count',
        'nodejs_gc_duration_seconds_sum',
      ].sort(),
    );
    expect([...(inventory.get('iot_ingest_file_duration_seconds_bucket')?.keys() ?? [])]).toEqual(['le', 'outcome']);
    expect([...(inventory.get('label_escapes')?.get('text') ?? [])]).toEqual(['a "quoted", {braced} \\ value']);
  });

  it('picks metric names, matchers, grouping labels and functions out of an expression', () => {
    const names = promqlNames(
      'histogram_quantile(0.95, sum by (le) (rate(iot_ingest_file_duration_seconds_bucket{job=~"$job", outcome="succeeded"}[$__rate_interval])))' +
        ' and on () max(up offset 15m) > bool 0.5 # a comment naming no_such_metric',
    );
    expect(names.selectors).toEqual([
      {
        metric: 'iot_ingest_file_duration_seconds_bucket',
        matchers: [
          { label: 'job', op: '=~', value: '$job' },
          { label: 'outcome', op: '=', value: 'succeeded' },
        ],
      },
      { metric: 'up', matchers: [] },
    ]);
    expect(names.groupingLabels).toEqual(['le']);
    expect(names.functions).toEqual(['histogram_quantile', 'sum', 'rate', 'max']);
  });

  it('accepts an expression whose every name exists', () => {
    const expr =
      'sum by (outcome) (rate(iot_ingest_files_total{job=~"$job", instance=~"$instance", outcome=~"succeeded|failed_transient"}[$__rate_interval]))';
    expect(checkExpression(expr, inventory, options, '{{outcome}} {{ instance }}')).toEqual([]);
    expect(checkExpression(`sum(up{job="${JOB}"}) - sum(iot_ingest_messages_received_total)`, inventory, options)).toEqual([]);
  });

  it.each([
    ['a misspelt metric', 'sum(rate(iot_ingest_file_total[5m]))', undefined, 'unknown metric iot_ingest_file_total'],
    ['a misspelt histogram series', 'histogram_quantile(0.5, sum by (le) (rate(iot_ingest_file_duration_seconds_buckets[5m])))', undefined, 'unknown metric iot_ingest_file_duration_seconds_buckets'],
    ['a misspelt Node metric', 'nodejs_gc_duration_second_bucket', undefined, 'unknown metric nodejs_gc_duration_second_bucket'],
    ['a misspelt label in a selector', 'iot_ingest_files_total{outcom="succeeded"}', undefined, 'unknown label outcom on iot_ingest_files_total'],
    ['a label of another metric', 'iot_ingest_messages_received_total{outcome="succeeded"}', undefined, 'unknown label outcome on iot_ingest_messages_received_total'],
    ['a misspelt label value', 'iot_ingest_files_total{outcome="succeded"}', undefined, 'iot_ingest_files_total{outcome="succeded"}: no such value'],
    ['a misspelt value among alternatives', 'iot_ingest_files_total{outcome=~"succeeded|faild_transient"}', undefined, 'iot_ingest_files_total{outcome="faild_transient"}: no such value'],
    ['a misspelt label in by (…)', 'sum by (outcomes) (iot_ingest_files_total)', undefined, 'unknown label outcomes in by/without/on/ignoring'],
    ['a misspelt function', 'histogram_quantil(0.5, iot_ingest_file_duration_seconds_bucket)', undefined, 'unknown function histogram_quantil'],
    ['a misspelt aggregation keyword', 'sum bye (outcome) (iot_ingest_files_total)', undefined, 'unknown metric sum'],
    ['another job', 'up{job="iot-ingest"} == 0', undefined, 'up{job="iot-ingest"}: the scrape job is iot-ingest-worker'],
    ['a legend naming a missing label', 'sum by (outcome) (iot_ingest_files_total)', '{{reason}}', 'legend {{reason}} names no label of the expression'],
  ])('catches %s', (_what, expr, legend, problem) => {
    const problems = checkExpression(expr, inventory, options, legend);
    expect(problems.some((found) => found.startsWith(problem))).toBe(true);
  });
});

describe('the YAML reader', () => {
  it('reads block mappings, sequences, quoted, plain and block scalars', () => {
    const text = [
      '# comment',
      'groups:',
      '  - name: g # trailing comment',
      '    rules:',
      '    - alert: A',
      '      expr: >-',
      '        sum(x)',
      '        > 0',
      '      labels:',
      '        severity: "critical"',
      '      annotations:',
      "        summary: 'it''s {{ $value }}'",
      '        description: |',
      '          line one',
      '',
      '          line # two',
      'targets:',
      '  - 127.0.0.1:8080',
      '',
    ].join('\n');
    expect(readYaml(text)).toEqual({
      groups: [
        {
          name: 'g',
          rules: [
            {
              alert: 'A',
              expr: 'sum(x) > 0',
              labels: { severity: 'critical' },
              annotations: { summary: "it's {{ $value }}", description: 'line one\n\nline # two\n' },
            },
          ],
        },
      ],
      targets: ['127.0.0.1:8080'],
    });
  });

  it.each([
    ['a flow sequence', 'targets: [a, b]\n'],
    ['an anchor', 'a: &x 1\n'],
    ['a plain scalar starting a flow mapping', 'summary: {{ $value }}\n'],
    ['a multi-line plain scalar', 'a: one\n  two\n'],
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['bad indentation', 'a:\n    b: 1\n  c: 2\n'],
  ])('refuses %s rather than misread it', (_what, text) => {
    expect(() => readYaml(text)).toThrow(/YAML line/);
  });
});

describe('the Grafana dashboard', () => {
  let dashboard: JsonObject;
  let panels: JsonObject[];

  beforeAll(async () => {
    const parsed = JSON.parse(await asset('grafana-dashboard.json')) as Json;
    if (!isObject(parsed)) throw new Error('the dashboard is not a JSON object');
    dashboard = parsed;
    panels = objects(dashboard.panels).flatMap((panel) => [panel, ...objects(panel.panels)]);
  });

  it('is importable: a Prometheus data source input, a uid, a current schema version, no hard-coded data source', () => {
    expect(objects(dashboard.__inputs)).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' })]);
    expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(dashboard.id).toBeNull();
    expect(dashboard.schemaVersion).toEqual(expect.any(Number));
    expect(dashboard.schemaVersion as number).toBeGreaterThanOrEqual(39);
    expect(dashboard.schemaVersion as number).toBeLessThanOrEqual(42);
    const datasourceVariable = objects(field(dashboard.templating, 'list')).find((variable) => variable.type === 'datasource');
    expect(datasourceVariable).toEqual(expect.objectContaining({ name: 'datasource', query: 'prometheus' }));
    expect(field(datasourceVariable?.current, 'value')).toBe('${DS_PROMETHEUS}');

    // Every data source reference, wherever it is, is the variable (or Grafana's own annotations).
    const references: unknown[] = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (isObject(value)) {
        for (const [key, child] of Object.entries(value)) {
          if (key === 'datasource') references.push(child);
          walk(child);
        }
      }
    };
    walk(dashboard.panels);
    walk(dashboard.templating);
    const annotations = objects(field(dashboard.annotations, 'list'));
    expect(references.length).toBeGreaterThan(0);
    expect(references.filter((reference) => !(isObject(reference) && reference.type === 'prometheus' && reference.uid === '${datasource}'))).toEqual([]);
    expect(annotations.map((annotation) => annotation.datasource)).toEqual([{ type: 'grafana', uid: '-- Grafana --' }]);
  });

  it('has job and instance variables, each from label_values of a worker metric', () => {
    const variables = objects(field(dashboard.templating, 'list')).filter((variable) => variable.type === 'query');
    expect(variables.map((variable) => variable.name)).toEqual(['job', 'instance']);
    expect(dashboardVariableExpressions(dashboard).map(({ expr }) => expr)).toEqual([
      'count by (job) (iot_ingest_files_total)',
      'count by (instance) (iot_ingest_files_total{job=~"$job"})',
    ]);
  });

  it('lays out its panels: unique ids, whole grid positions inside 24 columns, no overlaps', () => {
    const ids = panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
    const boxes = panels.map((panel) => {
      const { x, y, w, h } = (isObject(panel.gridPos) ? panel.gridPos : {}) as Partial<Record<'x' | 'y' | 'w' | 'h', number>>;
      return { title: JSON.stringify(panel.title), x: x ?? -1, y: y ?? -1, w: w ?? 0, h: h ?? 0 };
    });
    for (const box of boxes) {
      expect([box.x, box.y, box.w, box.h].every((value) => Number.isInteger(value) && value >= 0)).toBe(true);
      expect(box.w).toBeGreaterThan(0);
      expect(box.h).toBeGreaterThan(0);
      expect(box.x + box.w).toBeLessThanOrEqual(24);
    }
    const overlaps = boxes.flatMap((a, index) =>
      boxes
        .slice(index + 1)
        .filter((b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h)
        .map((b) => `${a.title} / ${b.title}`),
    );
    expect(overlaps).toEqual([]);
  });

  it('gives every panel a title, a type it requires, and queries with an expression and a unique refId', () => {
    const required = new Set(objects(dashboard.__requires).filter((entry) => entry.type === 'panel').map((entry) => entry.id));
    for (const panel of panels.filter((candidate) => candidate.type !== 'row')) {
      const targets = objects(panel.targets);
      expect({ title: panel.title, type: required.has(panel.type) }).toEqual({ title: expect.any(String), type: true });
      expect(targets.length).toBeGreaterThan(0);
      expect(targets.every((target) => typeof target.expr === 'string' && target.expr.trim() !== '')).toBe(true);
      expect(new Set(targets.map((target) => target.refId)).size).toBe(targets.length);
    }
  });

  it('shows what the issue asks for', () => {
    const exprs = dashboardPanelExpressions(dashboard).map(({ expr }) => expr);
    const uses = (pattern: RegExp) => exprs.some((expr) => pattern.test(expr));
    expect(uses(/sum by \(outcome\) \(rate\(iot_ingest_files_total/)).toBe(true);
    expect(uses(/sum by \(outcome\) \(rate\(iot_ingest_records_total/)).toBe(true);
    expect(uses(/sum by \(outcome\) \(increase\(iot_ingest_records_total/)).toBe(true);
    expect(uses(/by \(reason\) .*iot_ingest_records_rejected_total/)).toBe(true);
    for (const quantile of ['0.5', '0.95', '0.99']) {
      expect(uses(new RegExp(`^histogram_quantile\\(${quantile}, sum by \\(le\\) \\(rate\\(iot_ingest_file_duration_seconds_bucket`))).toBe(true);
    }
    for (const metric of [
      'iot_ingest_files_in_flight',
      'nodejs_eventloop_lag_p99_seconds',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'iot_ingest_messages_received_total',
      'iot_ingest_messages_deleted_total',
      'iot_ingest_read_bytes_total',
      'iot_ingest_written_bytes_total',
      'iot_ingest_freshness_objective_seconds',
    ]) {
      expect([metric, uses(new RegExp(`\\b${metric}\\{`))]).toEqual([metric, true]);
    }
    expect(uses(/by \(action\) .*iot_ingest_messages_failed_total/)).toBe(true);
    expect(uses(/^max\(sum by \(instance\) \(iot_ingest_queue_messages\{[^}]*queue="dead_letter", state=~"visible\|in_flight\|delayed"\}\)\)$/)).toBe(true);
    for (const quantile of ['0.5', '0.99']) {
      expect(uses(new RegExp(`^histogram_quantile\\(${quantile}, sum by \\(le\\) \\(rate\\(iot_ingest_freshness_seconds_bucket`))).toBe(true);
    }
    expect(uses(/^max by \(queue, state\) \(iot_ingest_queue_messages/)).toBe(true);
    expect(uses(/^time\(\) - max\(iot_ingest_last_success_timestamp_seconds/)).toBe(true);
  });

  it('counts over the whole selected range in the panels titled "(range)"', () => {
    const ranged = panels.filter((panel) => text(panel.title).endsWith('(range)'));
    const windows = ranged.flatMap((panel) => objects(panel.targets).flatMap((target) => [...text(target.expr).matchAll(/\[([^\]]+)\]/g)].map((match) => match[1])));
    expect(ranged.length).toBeGreaterThan(0);
    expect(new Set(windows)).toEqual(new Set(['$__range']));
  });
});

describe('the alert rules and the Prometheus config', () => {
  let rulesText: string;
  let rules: JsonObject[];
  let config: YamlValue;

  beforeAll(async () => {
    rulesText = await asset('alert-rules.yml');
    rules = objects(field(readYaml(rulesText), 'groups')).flatMap((group) => objects(group.rules));
    config = readYaml(await asset('prometheus.yml'));
  });

  it('reads every rule of the file', () => {
    expect(rules.length).toBe(rulesText.match(/^\s*- alert:/gm)?.length);
    expect(new Set(rules.map((rule) => rule.alert)).size).toBe(rules.length);
  });

  it('has the alerts the issue asks for, with their windows', () => {
    const rule = (name: string) => rules.find((candidate) => candidate.alert === name) ?? {};
    expect(rule('IotIngestDeadLetterQueueNotEmpty')).toEqual(
      expect.objectContaining({
        expr: `max(sum by (instance) (iot_ingest_queue_messages{job="${JOB}", queue="dead_letter", state=~"visible|in_flight|delayed"})) > 0`,
        for: '5m',
      }),
    );
    expect(rule('IotIngestFreshnessObjectiveMissed')).toEqual(
      expect.objectContaining({
        expr:
          `histogram_quantile(0.99, sum by (le) (rate(iot_ingest_freshness_seconds_bucket{job="${JOB}"}[15m])))` +
          ` > max(iot_ingest_freshness_objective_seconds{job="${JOB}"})`,
        for: '10m',
      }),
    );
    expect(rule('IotIngestNoSuccessfulFile').expr).toMatch(/iot_ingest_messages_received_total[\s\S]*queue="ingest", state="visible"[\s\S]*outcome="succeeded"\}\[15m\]\)\) == 0/);
    expect(rule('IotIngestHighRejectRatio').expr).toMatch(/outcome="rejected"\}\[15m\][\s\S]*\) > 0\.2 and on \(\)[\s\S]*>= 100$/);
    expect(rule('IotIngestWorkerDown')).toEqual(expect.objectContaining({ expr: `up{job="${JOB}"} == 0`, for: '2m' }));
    expect(rule('IotIngestManyTransientFailures').expr).toContain('action="retry"');
  });

  it('gives every alert a severity, a summary, a description and a runbook in the README Operating section', async () => {
    const anchors = RUNBOOK_SECTIONS.map(headingAnchor);
    expect(anchors).toEqual(['dlq-is-not-empty', 'queue-is-growing', 'a-bad-deploy-rejected-everything-replay-yesterday']);
    for (const rule of rules) {
      const annotations = isObject(rule.annotations) ? rule.annotations : {};
      expect({ alert: rule.alert, severity: field(rule.labels, 'severity') }).toEqual({ alert: rule.alert, severity: expect.stringMatching(/^(critical|warning)$/) });
      expect({ alert: rule.alert, summary: annotations.summary, description: annotations.description }).toEqual({
        alert: rule.alert,
        summary: expect.stringMatching(/\S/),
        description: expect.stringMatching(/\S/),
      });
      expect({ alert: rule.alert, runbook: annotations.runbook }).toEqual({ alert: rule.alert, runbook: expect.stringMatching(new RegExp(`^README\\.md#(${anchors.join('|')})$`)) });
    }
    expect(new Set(rules.map((rule) => field(rule.annotations, 'runbook')))).toEqual(new Set(anchors.map((anchor) => `README.md#${anchor}`)));
    // Each runbook is a heading inside the README's Operating section, not merely somewhere in the README.
    const headings = subheadings(await readFile(README, 'utf8'), RUNBOOK_HOME).map(headingAnchor);
    expect(anchors.filter((anchor) => !headings.includes(anchor))).toEqual([]);
  });

  it('scrapes the npm start worker wherever it listens (the file npm start writes) every 15 s under the rules job, and loads the rules', () => {
    expect(field(config, 'rule_files')).toEqual(['alert-rules.yml']);
    expect(field(field(config, 'global'), 'evaluation_interval')).toBe('15s');
    const jobs = objects(field(config, 'scrape_configs'));
    expect(jobs).toEqual([
      expect.objectContaining({
        job_name: JOB,
        scrape_interval: '15s',
        metrics_path: '/metrics',
        file_sd_configs: [expect.objectContaining({ files: ['local-worker-targets.json'] })],
      }),
    ]);
    // Relative to prometheus.yml: the very file npm start writes.
    expect(join(ASSETS, 'local-worker-targets.json')).toBe(DEFAULT_PROMETHEUS_TARGETS_FILE);
  });
});

describe('against a real worker scrape', () => {
  let pipeline: StackWithWorker | undefined;
  let scrape: string;
  let inventory: MetricInventory;
  let dashboardText: string;
  let rules: YamlValue;

  beforeAll(async () => {
    dashboardText = await asset('grafana-dashboard.json');
    rules = readYaml(await asset('alert-rules.yml'));
    pipeline = await startStackWithWorker({ env: { QUEUE_METRICS_INTERVAL_SECONDS: '1' } });
    const { clients, resources, harness } = pipeline;
    const body = [
      '{"device_id":"sensor-alpha","temperature":21.5,"humidity":40}',
      '{"device_id":"sensor-nobody-knows","temperature":30,"humidity":41}',
      '{"device_id":"sensor-beta","temperature":3,"humidity":42}',
      'not json',
      '{"device_id":"sensor-gamma","humidity":43}',
      '',
    ].join('\n');
    await clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: 'observability/readings.jsonl', Body: body }));
    await harness.waitForReport((report) => report.ref.key === 'observability/readings.jsonl', 'the file');
    // The queue gauges appear with the first depth sample of both queues.
    inventory = await waitFor(
      async () => {
        scrape = await (await fetch(`${harness.worker.httpAddress}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
        const parsed = parseExposition(scrape);
        return parsed.get('iot_ingest_queue_messages')?.get('queue')?.size === 2 ? parsed : undefined;
      },
      { what: 'a scrape with both queue depth gauges', timeoutMs: 10_000, intervalMs: 200 },
    );
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('declares exactly the worker metrics whose labels the scrape cannot show yet, with their label names', () => {
    const labelNames = workerLabelNames();
    // The label names are really read (were they lost, every metric would look unlabelled and pass).
    expect(labelNames.get('iot_ingest_files_total')).toEqual(['outcome']);
    expect(labelsTheScrapeCannotShow(inventory, labelNames)).toEqual(LABELS_WITHOUT_SERIES);
  });

  it('has the series the file produced', () => {
    expect(scrape).toContain('iot_ingest_records_total{outcome="processed"} 2\n');
    expect(scrape).toContain('iot_ingest_records_total{outcome="filtered"} 1\n');
    expect(scrape).toContain('iot_ingest_records_total{outcome="rejected"} 2\n');
    expect(scrape).toContain('iot_ingest_records_unknown_device_total 1\n');
    expect(inventory.get('iot_ingest_file_duration_seconds_bucket')?.get('le')?.size).toBeGreaterThan(1);
    // The local stack's S3 notification carries an eventTime, so the file's freshness was measured.
    expect(scrape).toContain('iot_ingest_freshness_seconds_count 1\n');
    expect(scrape).toContain('iot_ingest_freshness_objective_seconds 900\n');
  });

  itPromtool(`follows the exposition conventions: promtool check metrics exits 0 (${promtoolTitle})`, async () => {
    requirePromtool();
    // The control: a gauge named like a counter, as prom-client's default nodejs_active_handles_total was.
    const withGaugeNamedTotal = `${scrape}# HELP nodejs_active_handles_total Total number of active handles.\n# TYPE nodejs_active_handles_total gauge\nnodejs_active_handles_total 3\n`;

    const result = await promtool(['check', 'metrics'], scrape);
    const control = await promtool(['check', 'metrics'], withGaugeNamedTotal);

    expect(result).toEqual({ code: 0, output: '' });
    expect(control.code).not.toBe(0);
    expect(control.output).toContain('nodejs_active_handles_total non-counter metrics should not have "_total" suffix');
  });

  /** The scrape, with the label names of LABELS_WITHOUT_SERIES (their values unknown, so unchecked). */
  const checked = (): MetricInventory =>
    new Map([
      ...inventory,
      ...Object.entries(LABELS_WITHOUT_SERIES).map(([family, labels]) => [family, new Map(labels.map((label) => [label, undefined]))] as const),
    ]);

  it('has every metric, label and label value the dashboard queries use', () => {
    expect(problemsOf(dashboardPanelExpressions(JSON.parse(dashboardText)), checked(), CHECK_OPTIONS)).toEqual({});
    expect(problemsOf(dashboardVariableExpressions(JSON.parse(dashboardText)), checked(), CHECK_OPTIONS)).toEqual({});
  });

  it('has every metric, label and label value the alert rules use, under the scrape job', () => {
    expect(problemsOf(ruleExpressions(rules), checked(), { ...CHECK_OPTIONS, job: JOB })).toEqual({});
  });

  it('catches a misspelt metric, label value or label in the dashboard', () => {
    const misspelt = dashboardText
      .replace('iot_ingest_records_rejected_total{', 'iot_ingest_record_rejected_total{')
      .replace('outcome=\\"succeeded\\"', 'outcome=\\"succeded\\"')
      .replace('sum by (reason)', 'sum by (reasons)');
    const problems = Object.values(problemsOf(dashboardPanelExpressions(JSON.parse(misspelt)), inventory, CHECK_OPTIONS)).flat();
    expect(problems).toEqual(
      expect.arrayContaining([
        'unknown metric iot_ingest_record_rejected_total',
        expect.stringMatching(/^iot_ingest_files_total\{outcome="succeded"\}: no such value/),
        expect.stringMatching(/^unknown label reasons in by/),
      ]),
    );
  });

  it('puts every pipeline metric on the dashboard', () => {
    const used = new Set(dashboardPanelExpressions(JSON.parse(dashboardText)).flatMap(({ expr }) => promqlNames(expr).selectors.map((selector) => selector.metric)));
    const families = [...inventory.keys()].filter((name) => name.startsWith('iot_ingest_')).map((name) => name.replace(/_(bucket|sum|count)$/, ''));
    const missing = [...new Set(families)].filter((family) => ![family, `${family}_bucket`, `${family}_sum`, `${family}_count`].some((name) => used.has(name)));
    expect(missing).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------
// promtool (Debian's `prometheus` package): test/support/promtool.ts says when these checks skip or fail.

type Labels = Record<string, string>;
const INSTANCE_A = '10.0.0.1:8080';
const INSTANCE_B = '10.0.0.2:8080';

/** An input series of one worker: the job and instance labels Prometheus adds, and promtool's value notation. */
function series(metric: string, labels: Labels, values: string, instance = INSTANCE_A) {
  const all = { job: JOB, instance, ...labels };
  return { series: `${metric}{${Object.entries(all).map(([name, value]) => `${name}="${value}"`).join(',')}}`, values };
}

const idleWorker = (instance = INSTANCE_A, minutes = 100) => [
  series('up', {}, `1x${minutes}`, instance),
  series('iot_ingest_messages_received_total', {}, `0x${minutes}`, instance),
  series('iot_ingest_files_total', { outcome: 'succeeded' }, `0x${minutes}`, instance),
  series('iot_ingest_records_total', { outcome: 'processed' }, `0x${minutes}`, instance),
  series('iot_ingest_records_total', { outcome: 'rejected' }, `0x${minutes}`, instance),
  series('iot_ingest_messages_failed_total', { action: 'retry' }, `0x${minutes}`, instance),
  series('iot_ingest_sqs_receive_errors_total', {}, `0x${minutes}`, instance),
  series('iot_ingest_queue_messages', { queue: 'ingest', state: 'visible' }, `0x${minutes}`, instance),
  series('iot_ingest_queue_messages', { queue: 'dead_letter', state: 'visible' }, `0x${minutes}`, instance),
  series('iot_ingest_freshness_objective_seconds', {}, `900x${minutes}`, instance),
  ...freshnessBuckets({ withinAMinute: `0x${minutes}`, all: `0x${minutes}` }, instance),
];

/**
 * The freshness histogram of one worker, a few of its bounds (the default objective, 900 s, among them): of
 * `all` the files (their running count), `withinAMinute` were stored within 60 s of their event, the others
 * between 900 s and 1800 s after it.
 */
function freshnessBuckets(counts: { readonly withinAMinute: string; readonly all: string }, instance = INSTANCE_A) {
  return [
    series('iot_ingest_freshness_seconds_bucket', { le: '60' }, counts.withinAMinute, instance),
    series('iot_ingest_freshness_seconds_bucket', { le: '900' }, counts.withinAMinute, instance),
    series('iot_ingest_freshness_seconds_bucket', { le: '1800' }, counts.all, instance),
    series('iot_ingest_freshness_seconds_bucket', { le: '+Inf' }, counts.all, instance),
  ];
}

interface Scenario {
  readonly name: string;
  /** Later entries replace earlier ones of the same series. */
  readonly input: ReadonlyArray<{ series: string; values: string }>;
  /** Evaluation time → the alerts firing then (alert name and the labels beyond alertname and severity); all others must not. */
  readonly firing: Readonly<Record<string, ReadonlyArray<readonly [string, Labels?]>>>;
}

const SCENARIOS: Scenario[] = [
  { name: 'idle workers: nothing fires', input: [...idleWorker(), ...idleWorker(INSTANCE_B)], firing: { '10m': [], '20m': [], '90m': [] } },
  {
    name: 'one message in the DLQ (seen by one worker only): fires after 5 minutes',
    input: [...idleWorker(), ...idleWorker(INSTANCE_B), series('iot_ingest_queue_messages', { queue: 'dead_letter', state: 'visible' }, '0 0 1x30')],
    firing: { '5m': [], '8m': [['IotIngestDeadLetterQueueNotEmpty']] },
  },
  {
    name: 'someone peeks at the DLQ message (in flight for 3 minutes): the DLQ alert keeps firing',
    input: [
      ...idleWorker(),
      series('iot_ingest_queue_messages', { queue: 'dead_letter', state: 'visible' }, '1x10 0x3 1x20'),
      series('iot_ingest_queue_messages', { queue: 'dead_letter', state: 'in_flight' }, '0x10 1x3 0x20'),
    ],
    firing: { '8m': [['IotIngestDeadLetterQueueNotEmpty']], '12m': [['IotIngestDeadLetterQueueNotEmpty']], '20m': [['IotIngestDeadLetterQueueNotEmpty']] },
  },
  {
    name: 'one worker samples the DLQ during a peek, the other not: the DLQ alert keeps firing',
    input: [
      ...idleWorker(),
      ...idleWorker(INSTANCE_B),
      series('iot_ingest_queue_messages', { queue: 'dead_letter', state: 'visible' }, '1x30'),
      series('iot_ingest_queue_messages', { queue: 'dead_letter', state: 'visible' }, '1x10 0x3 1x20', INSTANCE_B),
      series('iot_ingest_queue_messages', { queue: 'dead_letter', state: 'in_flight' }, '0x10 1x3 0x20', INSTANCE_B),
    ],
    firing: { '12m': [['IotIngestDeadLetterQueueNotEmpty']] },
  },
  {
    name: 'a message in the DLQ only delayed (not visible yet): fires after 5 minutes',
    input: [...idleWorker(), series('iot_ingest_queue_messages', { queue: 'dead_letter', state: 'delayed' }, '0 0 1x30')],
    firing: { '5m': [], '8m': [['IotIngestDeadLetterQueueNotEmpty']] },
  },
  {
    name: 'every file stored within a minute of its event: freshness does not fire',
    input: [...idleWorker(), ...freshnessBuckets({ withinAMinute: '0+100x60', all: '0+100x60' })],
    firing: { '30m': [], '55m': [] },
  },
  {
    name: '2 % of the files stored later than the objective (900 s), from minute 10 on: freshness fires',
    input: [...idleWorker(), ...freshnessBuckets({ withinAMinute: '0+100x10 1098+98x49', all: '0+100x60' })],
    firing: { '15m': [], '45m': [['IotIngestFreshnessObjectiveMissed']] },
  },
  {
    name: '0.5 % of the files later than the objective: within the p99, freshness does not fire',
    input: [...idleWorker(), ...freshnessBuckets({ withinAMinute: '0+199x60', all: '0+200x60' })],
    firing: { '30m': [], '55m': [] },
  },
  {
    name: 'the same 2 % late files against an objective of 1800 s: freshness does not fire',
    input: [
      ...idleWorker(),
      ...freshnessBuckets({ withinAMinute: '0+100x10 1098+98x49', all: '0+100x60' }),
      series('iot_ingest_freshness_objective_seconds', {}, '1800x60'),
    ],
    firing: { '45m': [] },
  },
  {
    name: 'messages keep arriving and every file fails: no-success fires once the workers have run 15 minutes',
    input: [
      ...idleWorker(),
      series('iot_ingest_messages_received_total', {}, '0+3x40'),
      series('iot_ingest_messages_failed_total', { action: 'retry' }, '0+3x40'),
      series('iot_ingest_queue_messages', { queue: 'ingest', state: 'visible' }, '5x40'),
    ],
    firing: { '10m': [['IotIngestManyTransientFailures']], '20m': [['IotIngestManyTransientFailures'], ['IotIngestNoSuccessfulFile']] },
  },
  {
    name: 'a backlog waits and nothing is received or succeeds: no-success fires',
    input: [...idleWorker(), series('iot_ingest_queue_messages', { queue: 'ingest', state: 'visible' }, '7x40')],
    firing: { '14m': [], '20m': [['IotIngestNoSuccessfulFile']] },
  },
  {
    name: 'only s3:TestEvent messages arrive: nothing fires',
    input: [
      ...idleWorker(),
      series('iot_ingest_messages_received_total', {}, '0 1 1 2x40'),
      series('iot_ingest_messages_ignored_total', { kind: 'test_event' }, '0 1 1 2x40'),
    ],
    firing: { '10m': [], '20m': [], '30m': [] },
  },
  {
    name: 'one long file still running, nothing waiting: nothing fires',
    input: [...idleWorker(), series('iot_ingest_messages_received_total', {}, '0 1x40')],
    firing: { '10m': [], '20m': [], '30m': [] },
  },
  {
    name: 'steady traffic with a few rejects: nothing fires',
    input: [
      ...idleWorker(),
      series('iot_ingest_messages_received_total', {}, '0+5x90'),
      series('iot_ingest_files_total', { outcome: 'succeeded' }, '0+5x90'),
      series('iot_ingest_records_total', { outcome: 'processed' }, '0+500x90'),
      series('iot_ingest_records_total', { outcome: 'filtered' }, '0+100x90'),
      series('iot_ingest_records_total', { outcome: 'rejected' }, '0+10x90'),
      series('iot_ingest_queue_messages', { queue: 'ingest', state: 'visible' }, '3x90'),
    ],
    firing: { '20m': [], '80m': [] },
  },
  {
    name: 'a bad deploy rejects every line: the reject ratio fires',
    input: [
      ...idleWorker(),
      series('iot_ingest_messages_received_total', {}, '0+2x40'),
      series('iot_ingest_files_total', { outcome: 'succeeded' }, '0+2x40'),
      series('iot_ingest_records_total', { outcome: 'rejected' }, '0+200x40'),
    ],
    firing: { '3m': [], '10m': [['IotIngestHighRejectRatio']] },
  },
  {
    name: 'a few bad lines in little traffic: the reject ratio does not fire',
    input: [
      ...idleWorker(),
      series('iot_ingest_records_total', { outcome: 'processed' }, '0+2x40'),
      series('iot_ingest_records_total', { outcome: 'rejected' }, '0+2x40'),
    ],
    firing: { '30m': [] },
  },
  {
    name: 'one of two workers stops answering scrapes: worker down fires for it after 2 minutes',
    input: [...idleWorker(), ...idleWorker(INSTANCE_B), series('up', {}, '1 1 0x10', INSTANCE_B)],
    firing: { '3m': [], '6m': [['IotIngestWorkerDown', { instance: INSTANCE_B, job: JOB }]] },
  },
  {
    name: 'a one-off burst of transient failures: nothing fires',
    input: [
      ...idleWorker(),
      series('iot_ingest_messages_received_total', {}, '0+10x40'),
      series('iot_ingest_files_total', { outcome: 'succeeded' }, '0+10x40'),
      series('iot_ingest_messages_failed_total', { action: 'retry' }, '0 0 3x40'),
    ],
    firing: { '5m': [], '30m': [] },
  },
  {
    name: 'a worker cannot receive, and cannot sample the DLQ depth: both fire',
    input: [
      ...idleWorker(),
      series('iot_ingest_sqs_receive_errors_total', {}, '0+1x40'),
      series('iot_ingest_queue_depth_sample_failures_total', { queue: 'dead_letter' }, '0+1x40'),
    ],
    firing: { '5m': [], '30m': [['IotIngestCannotReceive', { instance: INSTANCE_A }], ['IotIngestQueueDepthUnknown', { queue: 'dead_letter' }]] },
  },
  {
    name: 'the backlog grows for an hour while files succeed: backlog growing fires',
    input: [
      ...idleWorker(INSTANCE_A, 100),
      series('iot_ingest_messages_received_total', {}, '0+5x100'),
      series('iot_ingest_files_total', { outcome: 'succeeded' }, '0+5x100'),
      series('iot_ingest_queue_messages', { queue: 'ingest', state: 'visible' }, '0+10x100'),
    ],
    firing: { '20m': [], '70m': [['IotIngestBacklogGrowing']] },
  },
];

describePromtool(promtoolTitle, () => {
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'iot-ingest-promtool-'));
    requirePromtool();
  });

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('accepts the alert rules (promtool check rules)', async () => {
    const result = await promtool(['check', 'rules', join(ASSETS, 'alert-rules.yml')]);
    expect(result).toEqual({ code: 0, output: expect.stringContaining('SUCCESS') });
  });

  it('accepts the scrape configuration and the rules it loads (promtool check config)', async () => {
    const result = await promtool(['check', 'config', join(ASSETS, 'prometheus.yml')]);
    expect(result).toEqual({ code: 0, output: expect.stringContaining('SUCCESS: 1 rule files found') });
  });

  it('parses every dashboard query, its Grafana variables filled in', async () => {
    const expressions = dashboardPanelExpressions(JSON.parse(await asset('grafana-dashboard.json')));
    const file = join(scratch, 'dashboard-queries.json');
    const rules = expressions.map(({ expr }, index) => ({ record: `dashboard:query_${index}`, expr: withoutGrafanaVariables(expr) }));
    await writeFile(file, JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
    const result = await promtool(['check', 'rules', file]);
    expect(result).toEqual({ code: 0, output: expect.stringContaining(`SUCCESS: ${expressions.length} rules found`) });
  });

  it('fires each alert when it should and no other (promtool test rules)', async () => {
    // The rules as read, without annotations (promtool would compare their rendered text too).
    const groups = objects(field(readYaml(await asset('alert-rules.yml')), 'groups')).map((group) => ({
      ...group,
      rules: objects(group.rules).map((rule) => Object.fromEntries(Object.entries(rule).filter(([key]) => key !== 'annotations'))),
    }));
    const severity = new Map(groups.flatMap((group) => group.rules.map((rule) => [text(rule.alert), text(field(rule.labels, 'severity'))] as const)));
    const alertNames = [...severity.keys()];
    const tests = SCENARIOS.map((scenario) => {
      const input = new Map(scenario.input.map((entry) => [entry.series, entry.values]));
      return {
        name: scenario.name,
        interval: '1m',
        input_series: [...input].map(([name, values]) => ({ series: name, values })),
        alert_rule_test: Object.entries(scenario.firing).flatMap(([evalTime, firing]) => {
          for (const [name] of firing) if (!severity.has(name)) throw new Error(`no alert ${name}`);
          return alertNames.map((alertname) => ({
            eval_time: evalTime,
            alertname,
            exp_alerts: firing.filter(([name]) => name === alertname).map(([, labels]) => ({ exp_labels: { severity: severity.get(alertname), ...labels } })),
          }));
        }),
      };
    });
    await writeFile(join(scratch, 'rules.json'), JSON.stringify({ groups }));
    await writeFile(join(scratch, 'rules-test.json'), JSON.stringify({ rule_files: ['rules.json'], evaluation_interval: '1m', tests }));
    const result = await promtool(['test', 'rules', join(scratch, 'rules-test.json')]);
    expect(result).toEqual({ code: 0, output: expect.stringContaining('SUCCESS') });
  });
});
