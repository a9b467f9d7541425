/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`) by self time: per
 * owner (this library, grpc-js, Nest, rxjs, protobufjs, prom-client, Node's
 * own JS, native code, GC) and the top functions. With `--per-call µs`, the
 * server CPU per call that profile-target.js printed, each owner's share is
 * also given in µs per call, so two profiles (e.g. `plain` and `raw`) can be
 * subtracted owner by owner.
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof dist/bench/profile-target.js echo plain
 *   node dist/bench/cpu-profile-summary.js /tmp/prof/CPU.*.cpuprofile [--top 25] [--per-call 61.2] [--markdown]
 *
 * With `--against base.cpuprofile --against-per-call 48.0` (and --per-call), also prints the
 * difference in µs per call, owner by owner and for the functions that differ most: where the
 * gap between two servers goes.
 *
 * Idle samples are left out: percentages are of the time the process was on the CPU.
 * Process start-up (module loading, Nest bootstrap) is in the profile too; keep it
 * small with a large PROFILE_CALLS.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Who a function belongs to, from its script URL. */
export function ownerOf(url: string, name: string): string {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)') return 'V8/native (program)';
  if (url.includes('/dist/lib/')) return 'nestjs-blazerpc (lib)';
  if (url.includes('/dist/bench/')) return 'bench (handlers, servers)';
  if (url.includes('node_modules/@grpc/grpc-js/')) return 'grpc-js';
  if (
    url.includes('node_modules/@grpc/proto-loader/') ||
    url.includes('node_modules/protobufjs/') ||
    url.includes('node_modules/@protobufjs/')
  )
    return 'protobufjs';
  if (url.includes('node_modules/@nestjs/')) return 'Nest';
  if (url.includes('node_modules/rxjs/')) return 'rxjs';
  if (url.includes('node_modules/prom-client/') || url.includes('node_modules/@willsoto/')) return 'prom-client';
  if (url.includes('node_modules/'))
    return `other: ${url.split('node_modules/').pop()!.split('/').slice(0, 2).join('/')}`;
  if (url.startsWith('node:')) return 'Node (JS: http2, streams, timers, ...)';
  if (url === '') return 'native / V8 builtins';
  return `other: ${url}`;
}

export function summarise(profile: CpuProfile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMicros = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    // NOTE: timeDeltas[i] is the time since the previous sample; it belongs to sample i - 1. Off by one sample, so
    // attribute sample i the gap to the next one.
    const delta = profile.timeDeltas[i + 1] ?? 0;
    selfMicros.set(profile.samples[i], (selfMicros.get(profile.samples[i]) ?? 0) + delta);
  }
  const functions = new Map<string, { micros: number; owner: string }>();
  const owners = new Map<string, number>();
  let total = 0;
  for (const [id, micros] of selfMicros) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)' || functionName === '(root)') continue;
    const owner = ownerOf(url, functionName);
    const file = url.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^file:\/\//, '');
    const key = `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`;
    const entry = functions.get(key) ?? { micros: 0, owner };
    entry.micros += micros;
    functions.set(key, entry);
    owners.set(owner, (owners.get(owner) ?? 0) + micros);
    total += micros;
  }
  return {
    totalMicros: total,
    owners: [...owners].sort((a, b) => b[1] - a[1]),
    functions: [...functions].sort((a, b) => b[1].micros - a[1].micros),
  };
}

function main() {
  const args = process.argv.slice(2);
  const option = (name: string) => {
    const at = args.indexOf(name);
    return at < 0 ? undefined : args.splice(at, 2)[1];
  };
  const top = Number(option('--top') ?? 25);
  const perCall = option('--per-call');
  const against = option('--against');
  const againstPerCall = option('--against-per-call');
  const markdownAt = args.indexOf('--markdown');
  const markdown = markdownAt >= 0 && args.splice(markdownAt, 1).length > 0;
  for (const file of args) {
    const { totalMicros, owners, functions } = summarise(JSON.parse(readFileSync(file, 'utf8')));
    const pct = (micros: number) => ((micros / totalMicros) * 100).toFixed(1);
    const usPerCall = (micros: number) => (perCall ? ((micros / totalMicros) * Number(perCall)).toFixed(1) : '');
    const ownerRows = owners.map(([owner, micros]) => ({
      owner,
      'self ms': (micros / 1000).toFixed(0),
      '%': pct(micros),
      ...(perCall ? { 'µs/call': usPerCall(micros) } : {}),
    }));
    const functionRows = functions.slice(0, top).map(([fn, { micros, owner }]) => ({
      function: fn,
      owner,
      'self ms': (micros / 1000).toFixed(0),
      '%': pct(micros),
    }));
    console.log(`${file}: ${(totalMicros / 1000).toFixed(0)} ms on CPU (idle excluded)`);
    if (markdown) {
      console.log(toMarkdown(ownerRows));
      console.log();
      console.log(toMarkdown(functionRows));
    } else {
      console.table(ownerRows);
      console.table(functionRows);
    }
    if (against && perCall && againstPerCall) {
      const base = summarise(JSON.parse(readFileSync(against, 'utf8')));
      const here = (micros: number) => (micros / totalMicros) * Number(perCall);
      const there = (micros: number) => (micros / base.totalMicros) * Number(againstPerCall);
      const ownerDiff = new Map<string, [number, number]>();
      for (const [owner, micros] of owners) ownerDiff.set(owner, [here(micros), 0]);
      for (const [owner, micros] of base.owners) ownerDiff.set(owner, [ownerDiff.get(owner)?.[0] ?? 0, there(micros)]);
      const fnDiff = new Map<string, { owner: string; a: number; b: number }>();
      for (const [fn, { micros, owner }] of functions) fnDiff.set(fn, { owner, a: here(micros), b: 0 });
      for (const [fn, { micros, owner }] of base.functions)
        fnDiff.set(fn, { owner, a: fnDiff.get(fn)?.a ?? 0, b: there(micros) });
      const fmt = (v: number) => v.toFixed(2);
      const ownerRows = [...ownerDiff]
        .filter(([, [a, b]]) => Math.abs(a - b) >= 0.05)
        .sort((x, y) => y[1][0] - y[1][1] - (x[1][0] - x[1][1]))
        .map(([owner, [a, b]]) => ({ owner, 'µs/call here': fmt(a), 'µs/call base': fmt(b), diff: fmt(a - b) }));
      const fnRows = [...fnDiff]
        .sort((x, y) => y[1].a - y[1].b - (x[1].a - x[1].b))
        .slice(0, top)
        .map(([fn, { owner, a, b }]) => ({
          function: fn,
          owner,
          'µs/call here': fmt(a),
          'µs/call base': fmt(b),
          diff: fmt(a - b),
        }));
      console.log(
        `against ${against}: ${perCall} vs ${againstPerCall} µs/call, gap ${(Number(perCall) - Number(againstPerCall)).toFixed(1)} µs/call`,
      );
      if (markdown) {
        console.log(toMarkdown(ownerRows));
        console.log();
        console.log(toMarkdown(fnRows));
      } else {
        console.table(ownerRows);
        console.table(fnRows);
      }
    }
  }
}

function toMarkdown(rows: Record<string, string>[]): string {
  const columns = Object.keys(rows[0] ?? {});
  const line = (cells: unknown[]) => `| ${cells.join(' | ')} |`;
  return [
    line(columns),
    line(columns.map(() => '---')),
    ...rows.map((row) => line(columns.map((c) => String(row[c]).replace(/\|/g, '\\|')))),
  ].join('\n');
}

if (process.argv[1]?.endsWith('cpu-profile-summary.js')) main();
