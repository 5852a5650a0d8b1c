/**
 * Which Parquet writer, measured: `node ops/parquet-comparison.ts [flags]`.
 *
 *   --records N            processed records per candidate (default 1000000)
 *   --row-group-rows N     rows per row group, the same for every candidate (default the worker's)
 *   --candidates-dir DIR   where the candidates that are not dependencies are installed (default: this
 *                          project); e.g. `npm install --prefix /tmp/pq @dsnp/parquetjs parquetjs-lite
 *                          parquet-wasm apache-arrow` and pass /tmp/pq
 *   --only a,b             run only these candidates (baseline always runs)
 *   --json FILE            also write the figures as JSON
 *
 * Every candidate runs in a child process of its own, with production's Node.js memory flags, on
 * the same records: the seeded synthetic data (ops/synthetic-data.ts) run through evaluateLine with
 * the built-in registry, parsed back, written in row groups of the same size as the rows arrive
 * (never the whole file at once). `baseline` does all of that but the writing, so a candidate's
 * writer time is its time minus the baseline's, and its memory is what it adds to the baseline's
 * peak RSS. DuckDB then reads every output back: row count, column types, sums.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { finished, Writable } from 'node:stream';
import { promisify, parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULT_DEVICE_LOCATIONS } from '../worker/default-device-registry.ts';
import { PARQUET_CODECS, type ParquetCodec } from '../worker/parquet/compression.ts';
import type { ParquetObjectSink } from '../worker/parquet/object-sink.ts';
import { ParquetObjectWriter } from '../worker/parquet/parquet-object-writer.ts';
import { DEFAULT_ROW_GROUP_ROWS, PartitionedParquetWriter } from '../worker/parquet/partitioned-writer.ts';
import { RowGroupBuffer } from '../worker/parquet/row-group-buffer.ts';
import { PARQUET_COLUMNS, toParquetRow } from '../worker/parquet/schema.ts';
import { evaluateLine, type RecordRules } from '../worker/pipeline.ts';
import { PRODUCTION_NODE_OPTIONS } from './production-runtime.ts';
import { generateReadings } from './synthetic-data.ts';

const SCRIPT = fileURLToPath(import.meta.url);
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const SEED = 20250711;
const DEVICES = 100;
/** How often the harness awaits the writer (as the worker does once per input chunk) and samples memory. */
const DRAIN_EVERY_ROWS = 1000;
const MEBIBYTE = 1024 * 1024;
const EXPECTED_TYPES = PARQUET_COLUMNS.map((column) =>
  column.kind === 'string' ? 'VARCHAR' : column.kind === 'double' ? 'DOUBLE' : 'TIMESTAMP WITH TIME ZONE',
);

type ProcessedRecord = Readonly<Record<string, unknown>>;

/** One candidate as the harness drives it. */
interface CandidateWriter {
  add(record: ProcessedRecord): void | Promise<void>;
  drain(): Promise<void>;
  finish(): Promise<void>;
}

interface Candidate {
  readonly name: string;
  /** Packages it needs besides this project's dependencies. */
  readonly packages: readonly string[];
  readonly codec: string;
  open(outDir: string, rowGroupRows: number, load: (specifier: string) => Promise<unknown>): Promise<CandidateWriter>;
}

// ---- the candidates ------------------------------------------------------------------------------

class FileSink implements ParquetObjectSink {
  private readonly stream;
  private bytes = 0;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.stream = createWriteStream(path);
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.bytes += bytes.byteLength;
    if (!this.stream.write(bytes)) await once(this.stream, 'drain');
  }

  async finish(): Promise<number> {
    this.stream.end();
    await promisify(finished)(this.stream);
    return this.bytes;
  }

  abort(): Promise<void> {
    this.stream.destroy();
    return Promise.resolve();
  }
}

function hyparquetSingleFile(codec: ParquetCodec): Candidate {
  return {
    name: `hyparquet-writer ${codec.toLowerCase()}`,
    packages: [],
    codec,
    open(outDir, rowGroupRows) {
      const writer = new ParquetObjectWriter(new FileSink(join(outDir, 'out.parquet')), { rowGroupRows, codec });
      return Promise.resolve({
        add: (record) => writer.add(toParquetRow(record)),
        drain: () => writer.drain(),
        finish: async () => void (await writer.finish()),
      });
    },
  };
}

const HYPARQUET_PARTITIONED: Candidate = {
  name: 'hyparquet-writer zstd, by day',
  packages: [],
  codec: PARQUET_CODECS.zstd,
  open(outDir, rowGroupRows) {
    const writer = new PartitionedParquetWriter({
      inputKey: 'site-1/readings.jsonl',
      prefix: '',
      openObject: (key) => new FileSink(join(outDir, key)),
      rowGroupRows,
      codec: PARQUET_CODECS.zstd,
    });
    return Promise.resolve({
      add: (record) => writer.add(record),
      drain: () => writer.drain(),
      finish: async () => void (await writer.finish()),
    });
  },
};

const BASELINE: Candidate = {
  name: 'baseline',
  packages: [],
  codec: '-',
  open(_outDir, rowGroupRows) {
    const buffer = new RowGroupBuffer();
    return Promise.resolve({
      add: (record) => {
        buffer.add(toParquetRow(record));
        if (buffer.rows >= rowGroupRows) buffer.take();
      },
      drain: () => Promise.resolve(),
      finish: () => Promise.resolve(),
    });
  },
};

interface ParquetJsApi {
  ParquetSchema: new (fields: Record<string, { type: string; optional: boolean; compression: string }>) => object;
  ParquetWriter: {
    openStream(schema: object, stream: NodeJS.WritableStream, options: { rowGroupSize: number }): Promise<{
      appendRow(row: ProcessedRecord): Promise<void>;
      close(): Promise<void>;
    }>;
  };
}

const PARQUETJS_TYPES = { string: 'UTF8', double: 'DOUBLE', timestampMillis: 'TIMESTAMP_MILLIS' } as const;

function parquetJs(packageName: string): Candidate {
  return {
    name: `${packageName} snappy`,
    packages: [packageName],
    codec: PARQUET_CODECS.snappy,
    async open(outDir, rowGroupRows, load) {
      const api = (await load(packageName)) as ParquetJsApi;
      const fields = Object.fromEntries(
        PARQUET_COLUMNS.map((column) => [column.name, { type: PARQUETJS_TYPES[column.kind], optional: column.nullable, compression: 'SNAPPY' }]),
      );
      const writer = await api.ParquetWriter.openStream(new api.ParquetSchema(fields), createWriteStream(join(outDir, 'out.parquet')), {
        rowGroupSize: rowGroupRows,
      });
      // appendRow encodes a row group by itself every rowGroupSize rows.
      return {
        add: (record) => writer.appendRow(toParquetRow(record) as unknown as ProcessedRecord),
        drain: () => Promise.resolve(),
        finish: () => writer.close(),
      };
    },
  };
}

interface ArrowApi {
  Table: new (columns: Record<string, unknown>) => object;
  vectorFromArray(values: unknown, type: object): unknown;
  tableToIPC(table: object, format: 'stream'): Uint8Array;
  Utf8: new () => object;
  Float64: new () => object;
  TimestampMillisecond: new (timezone: string) => object;
}

interface WasmWriterPropertiesBuilder {
  setCompression(codec: number): WasmWriterPropertiesBuilder;
  setMaxRowGroupSize(rows: number): WasmWriterPropertiesBuilder;
  build(): unknown;
}

interface ParquetWasmApi {
  Table: { fromIPCStream(bytes: Uint8Array): { recordBatches(): unknown[] } };
  WriterPropertiesBuilder: new () => WasmWriterPropertiesBuilder;
  Compression: { ZSTD: number };
  transformParquetStream(batches: ReadableStream, properties: unknown): Promise<ReadableStream<Uint8Array>>;
}

/** Record batches handed to parquet-wasm's stream one at a time: the next waits until the previous was taken. */
function batchFeed() {
  let controller!: ReadableStreamDefaultController;
  let taken: (() => void) | undefined;
  const stream = new ReadableStream(
    {
      start: (c) => void (controller = c),
      pull: () => {
        taken?.();
        taken = undefined;
      },
    },
    { highWaterMark: 1 },
  );
  return {
    stream,
    async push(batch: unknown): Promise<void> {
      controller.enqueue(batch);
      if ((controller.desiredSize ?? 1) <= 0) await new Promise<void>((resolve) => (taken = resolve));
    },
    close: () => controller.close(),
  };
}

const PARQUET_WASM: Candidate = {
  name: 'parquet-wasm + apache-arrow zstd',
  packages: ['parquet-wasm', 'apache-arrow'],
  codec: PARQUET_CODECS.zstd,
  async open(outDir, rowGroupRows, load) {
    const wasm = (await load('parquet-wasm')) as ParquetWasmApi;
    const arrow = (await load('apache-arrow')) as ArrowApi;
    const types = { string: new arrow.Utf8(), double: new arrow.Float64(), timestampMillis: new arrow.TimestampMillisecond('UTC') };
    const properties = new wasm.WriterPropertiesBuilder().setCompression(wasm.Compression.ZSTD).setMaxRowGroupSize(rowGroupRows).build();
    const feed = batchFeed();
    const serialized = wasm.transformParquetStream(feed.stream, properties);
    let written: Promise<void> | undefined;
    const buffer = new RowGroupBuffer();

    const flush = async () => {
      if (buffer.rows === 0) return;
      const columns = buffer.take();
      const vectors = Object.fromEntries(
        PARQUET_COLUMNS.map((column, index) => [column.name, arrow.vectorFromArray(columns[index]?.data, types[column.kind])]),
      );
      const ipc = arrow.tableToIPC(new arrow.Table(vectors), 'stream');
      for (const batch of wasm.Table.fromIPCStream(ipc).recordBatches()) await feed.push(batch);
      // parquet-wasm hands out its output stream once it has read the first batch.
      written ??= serialized.then((output) => output.pipeTo(Writable.toWeb(createWriteStream(join(outDir, 'out.parquet'))) as WritableStream<Uint8Array>));
    };
    return {
      add: async (record) => {
        buffer.add(toParquetRow(record));
        if (buffer.rows >= rowGroupRows) await flush();
      },
      drain: () => Promise.resolve(),
      finish: async () => {
        await flush();
        feed.close();
        await written;
      },
    };
  },
};

const CANDIDATES: readonly Candidate[] = [
  BASELINE,
  hyparquetSingleFile(PARQUET_CODECS.zstd),
  hyparquetSingleFile(PARQUET_CODECS.snappy),
  HYPARQUET_PARTITIONED,
  parquetJs('@dsnp/parquetjs'),
  parquetJs('parquetjs-lite'),
  PARQUET_WASM,
];

// ---- one candidate, in a child process -----------------------------------------------------------

interface ChildReport {
  readonly rows: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly peakRssMiB: number;
  readonly peakHeapMiB: number;
  readonly peakExternalMiB: number;
  readonly temperatureSum: number;
  readonly pressureCount: number;
}

function loader(candidatesDir: string): (specifier: string) => Promise<unknown> {
  const require = createRequire(join(candidatesDir, 'package.json'));
  return async (specifier) => {
    const namespace = (await import(pathToFileURL(require.resolve(specifier)).href)) as { default?: unknown };
    // CommonJS packages arrive as the default export.
    return namespace.default ?? namespace;
  };
}

async function runChild(candidate: Candidate, records: number, rowGroupRows: number, outDir: string, candidatesDir: string): Promise<ChildReport> {
  const rules: RecordRules = { temperatureThresholdCelsius: 10, locations: new Map(Object.entries(DEFAULT_DEVICE_LOCATIONS)), unknownLocationId: 'unknown' };
  const writer = await candidate.open(outDir, rowGroupRows, loader(candidatesDir));
  let rows = 0;
  let temperatureSum = 0;
  let pressureCount = 0;
  let peakHeap = 0;
  let peakExternal = 0;
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  // Twice the lines: about two thirds of them are above the temperature threshold.
  for (const line of generateReadings({ records: records * 2, devices: DEVICES, seed: SEED })) {
    const result = evaluateLine(line, rules);
    if (result.outcome !== 'processed') continue;
    const record = JSON.parse(result.output) as ProcessedRecord;
    const pending = writer.add(record);
    if (pending) await pending;
    rows += 1;
    temperatureSum += record.temperature as number;
    if (typeof record.pressure === 'number') pressureCount += 1;
    if (rows % DRAIN_EVERY_ROWS === 0) {
      await writer.drain();
      const memory = process.memoryUsage();
      peakHeap = Math.max(peakHeap, memory.heapUsed);
      peakExternal = Math.max(peakExternal, memory.external + memory.arrayBuffers);
    }
    if (rows === records) break;
  }
  await writer.finish();
  const cpu = process.cpuUsage(cpuStarted);
  return {
    rows,
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssMiB: (process.resourceUsage().maxRSS * 1024) / MEBIBYTE,
    peakHeapMiB: peakHeap / MEBIBYTE,
    peakExternalMiB: peakExternal / MEBIBYTE,
    temperatureSum,
    pressureCount,
  };
}

// ---- the parent: run, check with DuckDB, tabulate ------------------------------------------------

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

interface Check {
  readonly ok: boolean;
  readonly detail: string;
  readonly bytes: number;
  readonly files: number;
  readonly rowGroups: number;
}

async function checkWithDuckDb(outDir: string, report: ChildReport): Promise<Check> {
  // Loaded here, in the parent only: the native library would add its own memory to every child's RSS.
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const files = `'${outDir.replaceAll("'", "''")}/**/*.parquet'`;
    // Without hive_partitioning the dt= folders do not add a column: the files' own schema is checked.
    const rows = `read_parquet(${files}, hive_partitioning = false)`;
    const one = async (sql: string) => (await connection.runAndReadAll(sql)).getRowObjectsJson();
    const [totals] = await one(
      `SELECT count(*) AS n, sum(temperature) AS t, count(pressure) AS p, count(timestamp) AS ts FROM ${rows}`,
    );
    const types = (await one(`DESCRIBE SELECT * FROM ${rows}`)).map((row) => asText(row.column_type));
    const [layout] = await one(
      `SELECT count(DISTINCT file_name) AS files, count(DISTINCT (file_name, row_group_id)) AS groups FROM parquet_metadata(${files})`,
    );
    const [size] = await one(`SELECT sum(size) AS bytes FROM read_blob(${files})`);
    const problems: string[] = [];
    if (Number(totals?.n) !== report.rows) problems.push(`${asText(totals?.n)} rows`);
    if (Math.abs(Number(totals?.t) - report.temperatureSum) > 1e-6 * Math.abs(report.temperatureSum)) problems.push('temperature sum differs');
    if (Number(totals?.p) !== report.pressureCount || Number(totals?.ts) !== report.rows) problems.push('null counts differ');
    const wrongTypes = types.flatMap((type, index) => (type === EXPECTED_TYPES[index] ? [] : [`${PARQUET_COLUMNS[index]?.name}: ${type}`]));
    problems.push(...wrongTypes);
    return {
      ok: problems.length === 0,
      detail: problems.join('; '),
      bytes: Number(size?.bytes),
      files: Number(layout?.files),
      rowGroups: Number(layout?.groups),
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

function spawnChild(name: string, args: readonly string[]): Promise<ChildReport> {
  const flags = PRODUCTION_NODE_OPTIONS.split(' ');
  const child = spawn(process.execPath, [...flags, SCRIPT, '--child', name, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${name} exited with ${code}`));
      resolve(JSON.parse(output.trim().split('\n').at(-1) ?? '') as ChildReport);
    });
  });
}

function missingPackages(candidate: Candidate, candidatesDir: string): string[] {
  const require = createRequire(join(candidatesDir, 'package.json'));
  return candidate.packages.filter((name) => {
    try {
      require.resolve(name);
      return false;
    } catch {
      return true;
    }
  });
}

const format = (value: number, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '1000000' },
      'row-group-rows': { type: 'string', default: String(DEFAULT_ROW_GROUP_ROWS) },
      'candidates-dir': { type: 'string', default: PROJECT_ROOT },
      only: { type: 'string' },
      json: { type: 'string' },
      child: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const records = Number(values.records);
  const rowGroupRows = Number(values['row-group-rows']);
  const candidatesDir = values['candidates-dir'];
  if (!Number.isSafeInteger(records) || records < 1) throw new RangeError(`--records must be a whole number >= 1, got ${values.records}`);
  if (!Number.isSafeInteger(rowGroupRows) || rowGroupRows < 1) throw new RangeError(`--row-group-rows must be >= 1, got ${values['row-group-rows']}`);

  if (values.child !== undefined) {
    const candidate = CANDIDATES.find((each) => each.name === values.child);
    if (candidate === undefined || values.out === undefined) throw new Error(`unknown candidate ${values.child}`);
    process.stdout.write(JSON.stringify(await runChild(candidate, records, rowGroupRows, values.out, candidatesDir)) + '\n');
    return;
  }

  const only = values.only?.split(',').map((name) => name.trim());
  const chosen = CANDIDATES.filter((candidate) => candidate === BASELINE || only === undefined || only.some((name) => candidate.name.includes(name)));
  const workDir = mkdtempSync(join(tmpdir(), 'parquet-comparison-'));
  const results: Array<Record<string, unknown>> = [];
  try {
    for (const candidate of chosen) {
      const missing = missingPackages(candidate, candidatesDir);
      if (missing.length > 0) {
        console.error(`${candidate.name}: skipped, not installed in ${candidatesDir}: ${missing.join(', ')}`);
        results.push({ name: candidate.name, skipped: `not installed: ${missing.join(', ')}` });
        continue;
      }
      const outDir = join(workDir, String(results.length));
      mkdirSync(outDir);
      console.error(`${candidate.name}: writing ${format(records)} records...`);
      const report = await spawnChild(candidate.name, ['--records', String(records), '--row-group-rows', String(rowGroupRows), '--out', outDir, '--candidates-dir', candidatesDir]);
      const check = candidate === BASELINE ? undefined : await checkWithDuckDb(outDir, report);
      results.push({ name: candidate.name, codec: candidate.codec, ...report, check });
      rmSync(outDir, { recursive: true, force: true });
    }
    printTable(results, records, rowGroupRows);
    if (values.json !== undefined) writeFileSync(values.json, JSON.stringify({ date: new Date().toISOString(), records, rowGroupRows, results }, null, 2));
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

function printTable(results: ReadonlyArray<Record<string, unknown>>, records: number, rowGroupRows: number): void {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`\n${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpu}), Node ${process.version}; ${format(records)} processed records, row groups of ${format(rowGroupRows)} rows, ${PRODUCTION_NODE_OPTIONS}`);
  console.log('writer CPU s = the run\'s CPU time minus the baseline\'s (wall time on 2 shared cores is noisier); RSS over baseline = peak RSS minus the baseline\'s\n');
  console.log('| candidate | codec | wall s | CPU s | writer CPU s | records / writer CPU s | peak RSS MiB | RSS over baseline MiB | peak heap MiB | size MiB | files / row groups | DuckDB read-back |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const baseline = results.find((result) => result.name === BASELINE.name) as ChildReport | undefined;
  for (const result of results) {
    if (typeof result.skipped === 'string') {
      console.log(`| ${String(result.name)} | | | | | | | | | | | ${result.skipped} |`);
      continue;
    }
    const report = result as unknown as ChildReport & { name: string; codec: string; check?: Check };
    const { check } = report;
    const writerCpu = report.cpuSeconds - (baseline?.cpuSeconds ?? 0);
    const cells = [
      report.name,
      report.codec,
      format(report.seconds, 2),
      format(report.cpuSeconds, 2),
      check ? format(writerCpu, 2) : '',
      check ? format(report.rows / Math.max(writerCpu, 1e-3)) : '',
      format(report.peakRssMiB),
      check ? format(report.peakRssMiB - (baseline?.peakRssMiB ?? 0)) : '',
      format(report.peakHeapMiB),
      check ? format(check.bytes / MEBIBYTE, 1) : '',
      check ? `${check.files} / ${check.rowGroups}` : '',
      check ? (check.ok ? 'OK' : `FAIL: ${check.detail}`) : '',
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
}

await main();
