/**
 * The subset of CloudWatch metric math the template's alarms and scaling policies use: numbers, ids, + - * /,
 * unary minus, parentheses, comparisons (> < >= <= == !=), AND, OR, NOT, IF(c, a, b), IF(c, a) and FILL(x, v).
 *
 * A value is one period's datapoint; undefined is a missing datapoint. It propagates through every operator
 * (the result is missing too) unless FILL replaces it. Booleans are 1 and 0, as in CloudWatch.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
 */

export type MetricValues = Readonly<Record<string, number | undefined>>;
type Evaluate = (values: MetricValues) => number | undefined;

const compiled = new Map<string, Evaluate>();

/** Evaluates a metric math expression for one period; throws naming the expression if it does not parse. */
export function evaluateExpression(expression: string, values: MetricValues): number | undefined {
  let evaluate = compiled.get(expression);
  if (evaluate === undefined) {
    evaluate = parseExpression(expression);
    compiled.set(expression, evaluate);
  }
  return evaluate(values);
}

type Token =
  | { readonly kind: 'number'; readonly value: number; readonly at: number }
  | { readonly kind: 'word'; readonly text: string; readonly at: number }
  | { readonly kind: 'symbol'; readonly text: string; readonly at: number }
  | { readonly kind: 'end'; readonly at: number };

const SYMBOLS = ['>=', '<=', '==', '!=', '>', '<', '+', '-', '*', '/', '(', ')', ','];

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < expression.length) {
    const rest = expression.slice(at);
    const space = /^\s+/.exec(rest);
    if (space) {
      at += space[0].length;
      continue;
    }
    const number = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(rest);
    if (number) {
      tokens.push({ kind: 'number', value: Number(number[0]), at });
      at += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (word) {
      tokens.push({ kind: 'word', text: word[0], at });
      at += word[0].length;
      continue;
    }
    const symbol = SYMBOLS.find((candidate) => rest.startsWith(candidate));
    if (symbol === undefined) throw new Error(`unexpected character '${rest[0]}' at ${at}`);
    tokens.push({ kind: 'symbol', text: symbol, at });
    at += symbol.length;
  }
  tokens.push({ kind: 'end', at });
  return tokens;
}

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IF', 'FILL']);

type Binary = (left: number, right: number) => number | undefined;

const COMPARISONS: Readonly<Record<string, Binary>> = {
  '>': (a, b) => Number(a > b),
  '<': (a, b) => Number(a < b),
  '>=': (a, b) => Number(a >= b),
  '<=': (a, b) => Number(a <= b),
  '==': (a, b) => Number(a === b),
  '!=': (a, b) => Number(a !== b),
};

const ARITHMETIC: Readonly<Record<string, Binary>> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  // A quotient with no finite value is no datapoint rather than an Infinity that would breach any threshold.
  '/': (a, b) => (b === 0 ? undefined : a / b),
};

function binary(operation: Binary, left: Evaluate, right: Evaluate): Evaluate {
  return (values) => {
    const a = left(values);
    const b = right(values);
    return a === undefined || b === undefined ? undefined : operation(a, b);
  };
}

function parseExpression(expression: string): Evaluate {
  try {
    return new Parser(tokenize(expression)).parseAll();
  } catch (error) {
    throw new Error(`cannot parse metric math expression "${expression}": ${(error as Error).message}`, { cause: error });
  }
}

/** Recursive descent, lowest precedence first: OR, AND, NOT, comparison, + -, * /, unary minus, primary. */
class Parser {
  private position = 0;
  private readonly tokens: readonly Token[];

  constructor(tokens: readonly Token[]) {
    this.tokens = tokens;
  }

  parseAll(): Evaluate {
    const evaluate = this.or();
    const next = this.peek();
    if (next.kind !== 'end') throw new Error(`unexpected ${describe(next)} at ${next.at}`);
    return evaluate;
  }

  private or(): Evaluate {
    let left = this.and();
    while (this.acceptWord('OR')) left = binary((a, b) => Number(a !== 0 || b !== 0), left, this.and());
    return left;
  }

  private and(): Evaluate {
    let left = this.not();
    while (this.acceptWord('AND')) left = binary((a, b) => Number(a !== 0 && b !== 0), left, this.not());
    return left;
  }

  private not(): Evaluate {
    if (!this.acceptWord('NOT')) return this.comparison();
    const operand = this.not();
    return (values) => {
      const value = operand(values);
      return value === undefined ? undefined : Number(value === 0);
    };
  }

  private comparison(): Evaluate {
    const left = this.additive();
    const next = this.peek();
    if (next.kind === 'symbol' && next.text in COMPARISONS) {
      this.position++;
      return binary(COMPARISONS[next.text]!, left, this.additive());
    }
    return left;
  }

  private additive(): Evaluate {
    let left = this.multiplicative();
    for (let next = this.peek(); next.kind === 'symbol' && (next.text === '+' || next.text === '-'); next = this.peek()) {
      this.position++;
      left = binary(ARITHMETIC[next.text]!, left, this.multiplicative());
    }
    return left;
  }

  private multiplicative(): Evaluate {
    let left = this.unary();
    for (let next = this.peek(); next.kind === 'symbol' && (next.text === '*' || next.text === '/'); next = this.peek()) {
      this.position++;
      left = binary(ARITHMETIC[next.text]!, left, this.unary());
    }
    return left;
  }

  private unary(): Evaluate {
    if (!this.acceptSymbol('-')) return this.primary();
    const operand = this.unary();
    return (values) => {
      const value = operand(values);
      return value === undefined ? undefined : -value;
    };
  }

  private primary(): Evaluate {
    const token = this.next();
    if (token.kind === 'number') return () => token.value;
    if (token.kind === 'symbol' && token.text === '(') {
      const inner = this.or();
      this.expectSymbol(')');
      return inner;
    }
    if (token.kind === 'word' && token.text === 'IF') return this.ifCall();
    if (token.kind === 'word' && token.text === 'FILL') return this.fillCall();
    if (token.kind === 'word' && !KEYWORDS.has(token.text)) {
      if (this.peek().kind === 'symbol' && (this.peek() as { text: string }).text === '(') {
        throw new Error(`unsupported function ${token.text} at ${token.at}`);
      }
      const id = token.text;
      return (values) => values[id];
    }
    throw new Error(`unexpected ${describe(token)} at ${token.at}`);
  }

  /** IF(condition, then[, else]): a missing condition is a missing result; IF without else drops the datapoint. */
  private ifCall(): Evaluate {
    this.expectSymbol('(');
    const condition = this.or();
    this.expectSymbol(',');
    const whenTrue = this.or();
    const whenFalse = this.acceptSymbol(',') ? this.or() : () => undefined;
    this.expectSymbol(')');
    return (values) => {
      const value = condition(values);
      if (value === undefined) return undefined;
      return value !== 0 ? whenTrue(values) : whenFalse(values);
    };
  }

  private fillCall(): Evaluate {
    this.expectSymbol('(');
    const series = this.or();
    this.expectSymbol(',');
    const filler = this.or();
    this.expectSymbol(')');
    return (values) => series(values) ?? filler(values);
  }

  private peek(): Token {
    return this.tokens[this.position]!;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.position++;
    return token;
  }

  private acceptWord(text: string): boolean {
    const token = this.peek();
    if (token.kind !== 'word' || token.text !== text) return false;
    this.position++;
    return true;
  }

  private acceptSymbol(text: string): boolean {
    const token = this.peek();
    if (token.kind !== 'symbol' || token.text !== text) return false;
    this.position++;
    return true;
  }

  private expectSymbol(text: string): void {
    const token = this.peek();
    if (!this.acceptSymbol(text)) throw new Error(`expected '${text}' but found ${describe(token)} at ${token.at}`);
  }
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'number':
      return `number ${token.value}`;
    case 'end':
      return 'end of expression';
    default:
      return `'${token.text}'`;
  }
}
