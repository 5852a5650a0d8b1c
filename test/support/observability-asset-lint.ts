/**
 * Keeps the observability assets (Grafana dashboard, alert rules, Prometheus config) true to what the
 * worker exposes: reads the Prometheus text format of a real scrape into an inventory of series names,
 * label names and label values, picks metric names, label matchers, grouping labels and functions out of
 * PromQL expressions with a small lexer, and reports every name the scrape does not have. Also reads
 * the YAML subset these assets are written in (no YAML parser is a dependency of this project).
 * Used by test/integration/ops/observability/assets.test.ts.
 */

/** Series name (with the _bucket/_sum/_count of histograms) → label name → values seen (undefined: not known, not checked). */
export type MetricInventory = ReadonlyMap<string, ReadonlyMap<string, ReadonlySet<string> | undefined>>;

// ---------------------------------------------------------------------------------------------------
// Prometheus text exposition format

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

/** Parses a /metrics body; families declared by `# TYPE` without samples are kept with no labels. */
export function parseExposition(text: string): MetricInventory {
  const inventory = new Map<string, Map<string, Set<string>>>();
  const series = (name: string) => {
    let labels = inventory.get(name);
    if (labels === undefined) inventory.set(name, (labels = new Map<string, Set<string>>()));
    return labels;
  };
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/.exec(line);
      if (type?.[1] === undefined) continue;
      const name = type[1];
      const suffixes = type[2] === 'histogram' ? ['_bucket', '_sum', '_count'] : type[2] === 'summary' ? ['', '_sum', '_count'] : [''];
      for (const suffix of suffixes) series(name + suffix);
      continue;
    }
    const name = METRIC_NAME.exec(line)?.[0];
    if (name === undefined) throw new Error(`line ${index + 1} of the scrape is not a sample: ${line}`);
    const labels = series(name);
    let at = name.length;
    if (line[at] === '{') {
      at += 1;
      while (line[at] !== '}') {
        const label = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(at));
        if (label?.[1] === undefined) throw new Error(`line ${index + 1} of the scrape has a malformed label: ${line}`);
        at += label[0].length;
        let value = '';
        while (line[at] !== '"') {
          if (at >= line.length) throw new Error(`line ${index + 1} of the scrape has an unterminated label value: ${line}`);
          if (line[at] === '\\') {
            const escaped = line[at + 1];
            value += escaped === 'n' ? '\n' : (escaped ?? '');
            at += 2;
          } else {
            value += line[at];
            at += 1;
          }
        }
        at += 1;
        if (line[at] === ',') at += 1;
        let values = labels.get(label[1]);
        if (values === undefined) labels.set(label[1], (values = new Set()));
        values.add(value);
      }
    }
  }
  return inventory;
}

// ---------------------------------------------------------------------------------------------------
// PromQL: a lexer and a scan for the names an expression depends on

const AGGREGATIONS = new Set([
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio',
]);

const FUNCTIONS = new Set([
  'abs', 'absent', 'absent_over_time', 'acos', 'acosh', 'asin', 'asinh', 'atan', 'atanh', 'avg_over_time', 'ceil', 'changes', 'clamp',
  'clamp_max', 'clamp_min', 'cos', 'cosh', 'count_over_time', 'day_of_month', 'day_of_week', 'day_of_year', 'days_in_month', 'deg',
  'delta', 'deriv', 'double_exponential_smoothing', 'exp', 'floor', 'histogram_avg', 'histogram_count', 'histogram_fraction',
  'histogram_quantile', 'histogram_stddev', 'histogram_stdvar', 'histogram_sum', 'holt_winters', 'hour', 'idelta', 'increase', 'info',
  'irate', 'label_join', 'label_replace', 'last_over_time', 'ln', 'log10', 'log2', 'mad_over_time', 'max_over_time', 'min_over_time',
  'minute', 'month', 'pi', 'predict_linear', 'present_over_time', 'quantile_over_time', 'rad', 'rate', 'resets', 'round', 'scalar', 'sgn',
  'sin', 'sinh', 'sort', 'sort_by_label', 'sort_by_label_desc', 'sort_desc', 'sqrt', 'stddev_over_time', 'stdvar_over_time',
  'sum_over_time', 'tan', 'tanh', 'time', 'timestamp', 'vector', 'year',
]);

const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const OTHER_KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan', 'start', 'end']);

type Token =
  | { readonly kind: 'ident'; readonly text: string }
  | { readonly kind: 'string'; readonly text: string }
  | { readonly kind: 'number' | 'variable' | 'punct'; readonly text: string };

/** Splits PromQL (with Grafana variables such as $job, ${job}, $__rate_interval) into tokens. */
export function tokenizePromql(expr: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < expr.length) {
    const rest = expr.slice(at);
    const space = /^(\s+|#[^\n]*)/.exec(rest);
    if (space) {
      at += space[0].length;
      continue;
    }
    const quote = rest[0];
    if (quote === '"' || quote === "'" || quote === '`') {
      let end = 1;
      let value = '';
      while (rest[end] !== quote) {
        if (end >= rest.length) throw new Error(`unterminated string in ${expr}`);
        if (rest[end] === '\\' && quote !== '`') {
          value += rest[end + 1] ?? '';
          end += 2;
        } else {
          value += rest[end];
          end += 1;
        }
      }
      tokens.push({ kind: 'string', text: value });
      at += end + 1;
      continue;
    }
    const match =
      /^\$\{[^}]*\}|^\$[a-zA-Z_]\w*|^\[\[[^\]]*\]\]/.exec(rest) ?? null;
    if (match) {
      tokens.push({ kind: 'variable', text: match[0] });
      at += match[0].length;
      continue;
    }
    const number = /^(\d|\.\d)[\w.]*/.exec(rest);
    if (number) {
      tokens.push({ kind: 'number', text: number[0] });
      at += number[0].length;
      continue;
    }
    const ident = METRIC_NAME.exec(rest);
    if (ident) {
      tokens.push({ kind: 'ident', text: ident[0] });
      at += ident[0].length;
      continue;
    }
    const punct = /^(=~|!~|!=|==|>=|<=|[=<>+\-*/%^(){}[\],@:])/.exec(rest);
    if (punct) {
      tokens.push({ kind: 'punct', text: punct[0] });
      at += punct[0].length;
      continue;
    }
    throw new Error(`unexpected character ${JSON.stringify(rest[0])} in ${expr}`);
  }
  return tokens;
}

export interface LabelMatcher {
  readonly label: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

export interface PromqlNames {
  /** Every vector selector: its metric name and label matchers. */
  readonly selectors: ReadonlyArray<{ readonly metric: string; readonly matchers: readonly LabelMatcher[] }>;
  /** Labels named in by, without, on, ignoring, group_left, group_right. */
  readonly groupingLabels: readonly string[];
  /** Functions and aggregations called. */
  readonly functions: readonly string[];
}

/** The names an expression depends on. Throws on what it cannot read (e.g. a selector with no metric name). */
export function promqlNames(expr: string): PromqlNames {
  const tokens = tokenizePromql(expr);
  const selectors: Array<{ metric: string; matchers: LabelMatcher[] }> = [];
  const groupingLabels: string[] = [];
  const functions: string[] = [];
  const text = (index: number) => tokens[index]?.text;
  const fail = (why: string): never => {
    throw new Error(`${why} in ${expr}`);
  };

  let index = 0;
  while (index < tokens.length) {
    const token = tokens[index];
    if (token === undefined) break;
    if (token.kind === 'punct' && token.text === '[') {
      // A range or subquery: durations and Grafana variables only.
      while (text(index) !== ']') {
        if (index >= tokens.length) fail('unterminated [');
        index += 1;
      }
      index += 1;
      continue;
    }
    if (token.kind === 'punct' && token.text === '{') fail('a selector without a metric name');
    if (token.kind !== 'ident') {
      index += 1;
      continue;
    }
    const word = token.text;
    const next = text(index + 1);
    if (LABEL_LIST_KEYWORDS.has(word.toLowerCase())) {
      index += 1;
      if (text(index) === '(') {
        index += 1;
        while (text(index) !== ')') {
          const label = tokens[index];
          if (label === undefined) fail(`unterminated ${word} (…)`);
          else if (label.kind === 'ident') groupingLabels.push(label.text);
          else if (label.text !== ',') fail(`unexpected ${label.text} in ${word} (…)`);
          index += 1;
        }
        index += 1;
      }
      continue;
    }
    if (OTHER_KEYWORDS.has(word.toLowerCase())) {
      index += 1;
      continue;
    }
    if (next === '(' || (AGGREGATIONS.has(word) && (next === 'by' || next === 'without'))) {
      functions.push(word);
      index += 1;
      continue;
    }
    // A metric name, maybe with label matchers.
    const matchers: LabelMatcher[] = [];
    index += 1;
    if (text(index) === '{') {
      index += 1;
      while (text(index) !== '}') {
        const label = tokens[index];
        const op = tokens[index + 1];
        const value = tokens[index + 2];
        if (label?.kind !== 'ident' || op?.kind !== 'punct' || value?.kind !== 'string' || !['=', '!=', '=~', '!~'].includes(op.text)) {
          return fail(`a malformed label matcher after ${word}{`);
        }
        matchers.push({ label: label.text, op: op.text as LabelMatcher['op'], value: value.text });
        index += 3;
        if (text(index) === ',') index += 1;
      }
      index += 1;
    }
    selectors.push({ metric: word, matchers });
  }
  return { selectors, groupingLabels, functions };
}

// ---------------------------------------------------------------------------------------------------
// Checking expressions against a scrape

export interface CheckOptions {
  /** Labels Prometheus adds to every series it scrapes (job, instance). */
  readonly targetLabels: readonly string[];
  /** Series Prometheus makes itself (up), with the labels they carry. */
  readonly syntheticSeries: Readonly<Record<string, readonly string[]>>;
  /** When set, a `job="…"` matcher must name this job. */
  readonly job?: string;
  /** Extra functions allowed (Grafana's label_values in variable queries). */
  readonly extraFunctions?: readonly string[];
}

const LITERAL_ALTERNATIVES = /^[a-zA-Z0-9_:.-]+(\|[a-zA-Z0-9_:.-]+)*$/;

/** Values a matcher names literally (`=`, `!=`, or `=~`/`!~` on plain alternatives), or none when it uses a variable or a regex. */
function literalValues(matcher: LabelMatcher): string[] {
  if (matcher.value.includes('$')) return [];
  if (matcher.op === '=' || matcher.op === '!=') return [matcher.value];
  return LITERAL_ALTERNATIVES.test(matcher.value) ? matcher.value.split('|') : [];
}

/** Every name in `expr` that the scrape does not have, as readable problems (empty when all is well). */
export function checkExpression(expr: string, inventory: MetricInventory, options: CheckOptions, legendFormat?: string): string[] {
  const problems: string[] = [];
  let names: PromqlNames;
  try {
    names = promqlNames(expr);
  } catch (error) {
    return [error instanceof Error ? error.message : String(error)];
  }
  const allowedFunctions = new Set([...FUNCTIONS, ...AGGREGATIONS, ...(options.extraFunctions ?? [])]);
  for (const name of names.functions) {
    if (!allowedFunctions.has(name)) problems.push(`unknown function ${name}`);
  }
  const usable = new Set(options.targetLabels);
  for (const { metric, matchers } of names.selectors) {
    const synthetic = options.syntheticSeries[metric];
    const scraped = inventory.get(metric);
    if (synthetic === undefined && scraped === undefined) {
      problems.push(`unknown metric ${metric}`);
      continue;
    }
    const labels = new Set([...(synthetic ?? []), ...(scraped?.keys() ?? [])]);
    for (const label of labels) usable.add(label);
    for (const matcher of matchers) {
      if (options.targetLabels.includes(matcher.label)) {
        if (matcher.label === 'job' && options.job !== undefined) {
          for (const value of literalValues(matcher)) {
            if (value !== options.job) problems.push(`${metric}{job="${value}"}: the scrape job is ${options.job}`);
          }
        }
        continue;
      }
      if (!labels.has(matcher.label)) {
        problems.push(`unknown label ${matcher.label} on ${metric} (it has: ${[...labels].join(', ') || 'none'})`);
        continue;
      }
      const seen = scraped?.get(matcher.label);
      for (const value of literalValues(matcher)) {
        if (seen !== undefined && !seen.has(value)) {
          problems.push(`${metric}{${matcher.label}="${value}"}: no such value (seen: ${[...seen].join(', ')})`);
        }
      }
    }
  }
  for (const label of names.groupingLabels) {
    if (!usable.has(label)) problems.push(`unknown label ${label} in by/without/on/ignoring (usable: ${[...usable].join(', ')})`);
  }
  for (const match of (legendFormat ?? '').matchAll(/\{\{\s*([^}\s]+)\s*\}\}/g)) {
    const label = match[1] ?? '';
    if (!usable.has(label)) problems.push(`legend {{${label}}} names no label of the expression`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------
// The assets' expressions

export interface NamedExpression {
  /** Where it is, for messages: panel title and refId, variable name, or alert name. */
  readonly where: string;
  readonly expr: string;
  readonly legendFormat?: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JSON value as text, for messages. */
function show(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value) ?? 'undefined';
}

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function panelsOf(dashboard: unknown): Array<Record<string, Json>> {
  const top = isObject(dashboard) && Array.isArray(dashboard.panels) ? dashboard.panels : [];
  // Collapsed rows keep their panels inside.
  return top.filter(isObject).flatMap((panel) => [panel, ...(Array.isArray(panel.panels) ? panel.panels.filter(isObject) : [])]);
}

/** Every panel query of a dashboard (Grafana's JSON model). */
export function dashboardPanelExpressions(dashboard: unknown): NamedExpression[] {
  return panelsOf(dashboard).flatMap((panel) =>
    (Array.isArray(panel.targets) ? panel.targets.filter(isObject) : []).map((target) => ({
      where: `panel "${show(panel.title)}" ${show(target.refId)}`,
      expr: typeof target.expr === 'string' ? target.expr : '',
      ...(typeof target.legendFormat === 'string' ? { legendFormat: target.legendFormat } : {}),
    })),
  );
}

/**
 * The selectors of a dashboard's query variables, from `label_values(selector, label)`: the selector
 * as an expression, and the label as a `by (label)` so that it is checked too.
 */
export function dashboardVariableExpressions(dashboard: unknown): NamedExpression[] {
  const templating = isObject(dashboard) && isObject(dashboard.templating) ? dashboard.templating : {};
  const variables = Array.isArray(templating.list) ? templating.list.filter(isObject) : [];
  return variables
    .filter((variable) => variable.type === 'query')
    .map((variable) => {
      const query = isObject(variable.query) ? variable.query.query : variable.query;
      const match = typeof query === 'string' ? /^\s*label_values\(\s*(?:(.+?)\s*,\s*)?([a-zA-Z_]\w*)\s*\)\s*$/.exec(query) : null;
      const where = `variable ${show(variable.name)}`;
      if (match?.[1] === undefined || match[2] === undefined) return { where, expr: `unsupported variable query ${JSON.stringify(query)}` };
      return { where, expr: `count by (${match[2]}) (${match[1]})` };
    });
}

/** Every alerting and recording rule expression of a Prometheus rules file (as read by readYaml). */
export function ruleExpressions(rules: unknown): NamedExpression[] {
  const groups = isObject(rules) && Array.isArray(rules.groups) ? rules.groups.filter(isObject) : [];
  return groups.flatMap((group) =>
    (Array.isArray(group.rules) ? group.rules.filter(isObject) : []).map((rule) => ({
      where: `rule ${show(rule.alert ?? rule.record)}`,
      expr: typeof rule.expr === 'string' ? rule.expr : '',
    })),
  );
}

/**
 * A dashboard expression with its Grafana variables replaced, so that Prometheus can parse it:
 * ranges become 5m, the whole-range $__range 1h, other variables (in regex matchers) `.*`.
 */
export function withoutGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$__range\b|\$\{__range\}/g, '1h')
    .replace(/\$__(rate_)?interval\b|\$\{__(rate_)?interval\}/g, '5m')
    .replace(/\$\{[^}]*\}|\$[a-zA-Z_]\w*/g, '.*');
}

/** GitHub's anchor for a Markdown heading. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

// ---------------------------------------------------------------------------------------------------
// The YAML these assets are written in

export type YamlValue = string | YamlValue[] | { [key: string]: YamlValue };

/**
 * Reads block-style YAML: mappings, sequences (also `- key: value` items), plain, quoted and block
 * (`|`, `>`, with chomping) scalars, comments. Every scalar stays a string. Anything else (flow
 * collections, anchors, tags, multi-line plain scalars, several documents) is an error, never a
 * silent misreading: the files are checked by promtool as real YAML as well.
 */
export function readYaml(text: string): YamlValue {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  let row = 0;
  const fail = (why: string): never => {
    throw new Error(`YAML line ${row + 1}: ${why}: ${lines[row] ?? ''}`);
  };
  const indentOf = (line: string) => {
    const spaces = /^ */.exec(line)?.[0].length ?? 0;
    if (line[spaces] === '\t') fail('tab in indentation');
    return spaces;
  };
  const isBlank = (line: string) => /^\s*(#.*)?$/.test(line);
  const skipBlank = () => {
    while (row < lines.length && isBlank(lines[row] ?? '')) row += 1;
  };
  const current = () => lines[row] ?? '';

  function scalar(raw: string): string {
    const value = raw.trim();
    if (value.startsWith('"')) {
      const match = /^("(?:[^"\\]|\\.)*")\s*(#.*)?$/.exec(value);
      if (match?.[1] === undefined) return fail('malformed double-quoted scalar');
      return JSON.parse(match[1]) as string;
    }
    if (value.startsWith("'")) {
      const match = /^'((?:[^']|'')*)'\s*(#.*)?$/.exec(value);
      if (match?.[1] === undefined) return fail('malformed single-quoted scalar');
      return match[1].replace(/''/g, "'");
    }
    const plain = value.replace(/\s+#.*$/, '');
    if (/^[[\]{}&*!|>%@`,]/.test(plain) || plain === '---' || plain === '...') fail('unsupported YAML (flow collection, anchor, alias, tag or directive)');
    if (/:\s/.test(plain) || plain.endsWith(':')) fail('a plain scalar with ": " (quote it)');
    return plain;
  }

  function blockScalar(header: string, parentIndent: number): string {
    const style = /^([|>])([+-]?)\s*(#.*)?$/.exec(header);
    if (style === null) return fail('unsupported block scalar header');
    row += 1;
    const body: string[] = [];
    let contentIndent: number | undefined;
    while (row < lines.length) {
      const line = current();
      if (line.trim() === '') {
        body.push('');
        row += 1;
        continue;
      }
      const indent = indentOf(line);
      if (indent <= parentIndent) break;
      contentIndent ??= indent;
      if (indent < contentIndent) fail('less indented line inside a block scalar');
      body.push(line.slice(contentIndent));
      row += 1;
    }
    while (body.length > 0 && body[body.length - 1] === '') body.pop();
    let value: string;
    if (style[1] === '|') value = body.join('\n');
    else {
      value = '';
      for (const [index, line] of body.entries()) {
        const previous = body[index - 1];
        if (index === 0) value = line;
        else if (line === '') value += '\n';
        else if (previous === '' || line.startsWith(' ') || previous?.startsWith(' ')) value += (previous === '' ? '' : '\n') + line;
        else value += ' ' + line;
      }
    }
    return style[2] === '-' ? value : `${value}\n`;
  }

  /** A value after `key:` or `- `: inline scalar, block scalar, or a nested block. */
  function valueAfter(rest: string, indent: number): YamlValue {
    const inline = rest.replace(/^\s*#.*$/, '').trim();
    if (inline === '') {
      row += 1;
      skipBlank();
      if (row >= lines.length) return '';
      const next = indentOf(current());
      if (next > indent) return block(next);
      if (next === indent && /^ *- /.test(current() + ' ')) return block(next);
      return '';
    }
    if (/^[|>]/.test(inline)) return blockScalar(inline, indent);
    const value = scalar(inline);
    row += 1;
    skipBlank();
    if (row < lines.length && indentOf(current()) > indent) fail('multi-line plain or quoted scalars are not supported');
    return value;
  }

  function block(indent: number): YamlValue {
    skipBlank();
    return /^-( |$)/.test(current().slice(indent)) ? sequence(indent) : mapping(indent);
  }

  function sequence(indent: number): YamlValue[] {
    const items: YamlValue[] = [];
    for (;;) {
      skipBlank();
      if (row >= lines.length || indentOf(current()) !== indent || !/^-( |$)/.test(current().slice(indent))) return items;
      const rest = current().slice(indent + 1);
      const content = rest.trimStart();
      if (/^[^\s#'"][^:]*:(\s|$)/.test(content) || /^["'][^"']*["']:(\s|$)/.test(content)) {
        // `- key: value`: a mapping whose keys line up with `key`.
        const column = indent + 1 + (rest.length - content.length);
        lines[row] = ' '.repeat(column) + content;
        items.push(mapping(column));
      } else items.push(valueAfter(rest, indent));
    }
  }

  function mapping(indent: number): Record<string, YamlValue> {
    const entries: Record<string, YamlValue> = {};
    for (;;) {
      skipBlank();
      if (row >= lines.length) return entries;
      const line = current();
      const lineIndent = indentOf(line);
      if (lineIndent < indent) return entries;
      if (lineIndent > indent) fail('unexpected indentation');
      if (/^-( |$)/.test(line.slice(indent))) return entries;
      const match = /^("(?:[^"\\]|\\.)*"|'[^']*'|[^\s#'"{[&*!|>%@`,-][^:]*?|-[^\s:][^:]*?)\s*:(\s.*|)$/.exec(line.slice(indent));
      if (match?.[1] === undefined || match[2] === undefined) return fail('expected "key: value"');
      const key = match[1].startsWith('"') ? (JSON.parse(match[1]) as string) : match[1].replace(/^'|'$/g, '');
      if (Object.hasOwn(entries, key)) fail(`duplicate key ${key}`);
      entries[key] = valueAfter(match[2], indent);
    }
  }

  skipBlank();
  if (row >= lines.length) return '';
  const document = block(indentOf(current()));
  skipBlank();
  if (row < lines.length) fail('unexpected content');
  return document;
}
