/**
 * A small Prometheus registry and its text exposition format (version 0.0.4): counters, gauges and histograms,
 * each family with its HELP and TYPE lines. Values are either kept here (inc, observe) or read from their owner
 * at scrape time (`read`), so the daemon keeps one set of counts. Names and label names are checked when a
 * family is declared; label values are escaped when written.
 */

export type Labels = Readonly<Record<string, string>>;
export interface Sample {
  labels: Labels;
  value: number;
}

type Kind = 'counter' | 'gauge' | 'histogram';

interface Family {
  name: string;
  help: string;
  kind: Kind;
  lines(): string[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A label value in the text format: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** HELP text: backslash and line feed escaped. */
function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function checkLabels(metric: string, labels: Labels): void {
  for (const k of Object.keys(labels)) {
    if (!LABEL_NAME.test(k) || k.startsWith('__') || k === 'le') throw new Error(`metric ${metric}: invalid label name ${JSON.stringify(k)}`);
  }
}

/** Labels as a map key, in the order given (each call site names them in one order) */
const keyOf = (labels: Labels) => JSON.stringify(labels);

export class Counter {
  private readonly values = new Map<string, Sample>();

  constructor(private readonly name: string) {}

  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0)) throw new Error(`counter ${this.name}: cannot add ${by}`);
    const key = keyOf(labels);
    const found = this.values.get(key);
    if (found) found.value += by;
    else {
      checkLabels(this.name, labels);
      this.values.set(key, { labels, value: by });
    }
  }

  samples(): Sample[] {
    return [...this.values.values()];
  }
}

export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(readonly buckets: readonly number[]) {
    this.counts = new Array<number>(buckets.length).fill(0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    // buckets are few (about ten): a scan is as fast as a search
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= this.buckets[i]) {
        this.counts[i]++;
        return;
      }
    }
  }

  lines(name: string): string[] {
    const out: string[] = [];
    let cumulative = 0;
    this.buckets.forEach((le, i) => {
      cumulative += this.counts[i];
      out.push(`${name}_bucket{le="${formatValue(le)}"} ${cumulative}`);
    });
    out.push(`${name}_bucket{le="+Inf"} ${this.count}`, `${name}_sum ${formatValue(this.sum)}`, `${name}_count ${this.count}`);
    return out;
  }
}

export class Registry {
  private readonly families: Family[] = [];

  private add(name: string, help: string, kind: Kind, lines: () => string[]): void {
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name ${JSON.stringify(name)}`);
    if (kind === 'counter' && !name.endsWith('_total')) throw new Error(`counter ${name}: a counter's name ends with _total`);
    if (this.families.some((f) => f.name === name)) throw new Error(`metric ${name} is declared twice`);
    this.families.push({ name, help, kind, lines });
  }

  /** A counter kept here. */
  counter(name: string, help: string): Counter {
    const counter = new Counter(name);
    this.add(name, help, 'counter', () => counter.samples().map((s) => `${name}${labelText(s.labels)} ${formatValue(s.value)}`));
    return counter;
  }

  /** A counter or gauge whose values its owner keeps: read at every scrape. */
  read(kind: 'counter' | 'gauge', name: string, help: string, read: () => Sample[] | number): void {
    this.add(name, help, kind, () => {
      const value = read();
      const samples = typeof value === 'number' ? [{ labels: {}, value }] : value;
      return samples.map((s) => {
        checkLabels(name, s.labels);
        return `${name}${labelText(s.labels)} ${formatValue(s.value)}`;
      });
    });
  }

  /** A histogram without labels; `buckets` are upper bounds, increasing. */
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    if (buckets.some((b, i) => i > 0 && b <= buckets[i - 1])) throw new Error(`histogram ${name}: buckets must increase`);
    const histogram = new Histogram(buckets);
    this.add(name, help, 'histogram', () => histogram.lines(name));
    return histogram;
  }

  /** The text exposition of every family, in declaration order. A family that fails to read is left out, with a comment. */
  text(): string {
    const out: string[] = [];
    for (const f of this.families) {
      let lines: string[];
      try {
        lines = f.lines();
      } catch (error) {
        out.push(`# ${f.name}: not available (${(error as Error).message.replace(/\n/g, ' ')})`);
        continue;
      }
      out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.kind}`, ...lines);
    }
    return `${out.join('\n')}\n`;
  }
}
