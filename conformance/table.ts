// The report as a person reads it: one row per check (id, verdict, what Azure is expected to do, what was observed),
// cells wrapped to fit, sources as numbered notes below so their URLs stay whole and clickable. Pure.
import type { Verdict } from './check.ts';
import type { ConformanceReport } from './runner.ts';

/** Splits text into lines of at most `width` characters, at spaces where possible. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (let word of text.split(/\s+/).filter((w) => w !== '')) {
    while (word.length > width) {
      if (line !== '') {
        lines.push(line);
        line = '';
      }
      lines.push(word.slice(0, width));
      word = word.slice(width);
    }
    if (line === '') line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== '' || lines.length === 0) lines.push(line);
  return lines;
}

/** A text table: a header row, a rule, then each row with its cells wrapped to the column widths. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], widths: readonly number[]): string {
  const out: string[] = [];
  const emit = (cells: readonly string[]): void => {
    const wrapped = cells.map((c, i) => wrap(c, widths[i]!));
    const height = Math.max(...wrapped.map((w) => w.length));
    for (let l = 0; l < height; l++) out.push(wrapped.map((w, i) => (w[l] ?? '').padEnd(widths[i]!)).join('  ').trimEnd());
  };
  emit(headers);
  out.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) emit(row);
  return out.join('\n');
}

const VERDICT_ORDER: readonly Verdict[] = ['pass', 'differs', 'error', 'skipped', 'not observed'];

/** The whole report: target, table, sources, totals and what cleanup did. `width` is the terminal's. */
export function formatReport(report: ConformanceReport, width = 160): string {
  const lines = [`target: ${report.target}`, `tier: ${report.sku ?? 'unknown'}    prefix: ${report.prefix}`];
  if (report.outcome === 'refused') {
    lines.push('', `refused: ${report.refusal ?? ''}`);
    return `${lines.join('\n')}\n`;
  }
  const idWidth = Math.max(5, ...report.results.map((r) => r.id.length));
  const verdictWidth = 12;
  const rest = Math.max(40, width - idWidth - verdictWidth - 6);
  const expectedWidth = Math.floor(rest / 2);
  const sources: string[] = [];
  const rows = report.results.map((r) => {
    let n = sources.indexOf(r.source) + 1;
    if (n === 0) n = sources.push(r.source);
    return [r.id, r.verdict, `${r.expected} [${n}]`, r.observed];
  });
  lines.push('', renderTable(['check', 'verdict', 'expected (source)', 'observed'], rows, [idWidth, verdictWidth, expectedWidth, rest - expectedWidth]));
  lines.push('', 'sources:', ...sources.map((s, i) => `  [${i + 1}] ${s}`));
  const counts = VERDICT_ORDER.map((v) => [v, report.results.filter((r) => r.verdict === v).length] as const).filter(([, n]) => n > 0);
  lines.push('', `${report.results.length} checks: ${counts.map(([v, n]) => `${n} ${v}`).join(', ')}${report.outcome === 'interrupted' ? ' (interrupted)' : ''}`);
  if (report.leftovers.length > 0) lines.push(`deleted first (earlier run): ${report.leftovers.join(', ')}`);
  lines.push(`cleanup: ${report.cleanup.deleted.length} deleted${report.cleanup.failed.length > 0 ? `, FAILED: ${report.cleanup.failed.join('; ')}` : ''}`);
  if (report.results.some((r) => r.verdict === 'differs')) {
    lines.push('', 'A check differs: please report it (the table above and --json output) at the project\'s issue tracker; see docs/conformance.md.');
  }
  return `${lines.join('\n')}\n`;
}
