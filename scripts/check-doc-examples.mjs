// Type-checks every TypeScript example of the documentation against the package's published types,
// as an ES module app and as a CommonJS app would compile it.
//
// Usage: npm run build && node scripts/check-doc-examples.mjs [--keep] [file.md ...]
//
// - Reads README.md, docs/**/*.md and bench/README.md (or the files given), and takes every fenced block
//   tagged ts or typescript.
// - A block whose first line is a file-name comment (`// app.module.ts`, `// src/main.ts`) is written under
//   that name, so the other blocks of the same page can import it (`import { AppModule } from './app.module.js'`).
//   Other blocks get a name of their own. Each page is a directory of its own.
// - A block preceded by `<!-- not-compiled: reason -->` (the nearest non-blank line before its fence) is
//   skipped and listed; keep such fragments rare.
// - The blocks are compiled twice with the repository's TypeScript: once in a package with "type": "module"
//   (imports of nestjs-blazerpc resolve to dist/lib/*.d.ts) and once in a package without it (CommonJS:
//   dist/cjs/*.d.ts), with `module: nodenext`, strict, `isolatedModules`, decorators and decorator metadata on.
// - Errors are printed as `<markdown file>:<line>:<column> [esm|cjs] TSxxxx: message`; the exit code is 1.
// - Relative links of those files are checked too: the file must exist, and a `#fragment` must name a
//   heading of the page it points to (as GitHub makes heading anchors).
// --keep leaves the generated projects in place and prints where they are.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const keep = args.includes('--keep');
const requested = args.filter((arg) => !arg.startsWith('--'));

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)(.*)$/;
const TS_TAGS = new Set(['ts', 'typescript']);
const SKIP_MARKER = /^\s*<!--\s*not-compiled:(.*?)-->\s*$/;
const FILE_NAME_COMMENT = /^\/\/\s*((?:[\w.-]+\/)*[\w.-]+\.(?:ts|mts|cts))\s*$/;

/** The markdown files to check, relative to the repository root. */
function markdownFiles() {
  if (requested.length > 0) return requested.map((file) => relative(root, resolve(file)));
  const files = ['README.md'];
  const walk = (dir) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) files.push(path);
    }
  };
  if (existsSync(join(root, 'docs'))) walk('docs');
  if (existsSync(join(root, 'bench', 'README.md'))) files.push(join('bench', 'README.md'));
  return files;
}

/** Every TypeScript block of one markdown file: its first content line (1-based), indentation and text. */
function extractBlocks(file, problems) {
  const lines = readFileSync(join(root, file), 'utf8').split(/\r?\n/);
  const blocks = [];
  const skipped = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, tag] = open;
    let end = i + 1;
    const closing = new RegExp(`^\\s*${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    while (end < lines.length && !closing.test(lines[end])) end++;
    if (TS_TAGS.has(tag.toLowerCase())) {
      const body = lines
        .slice(i + 1, end)
        .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line.trimStart()));
      let before = i - 1;
      while (before >= 0 && lines[before].trim() === '') before--;
      const marker = before >= 0 ? SKIP_MARKER.exec(lines[before]) : null;
      if (marker) {
        const reason = marker[1].trim();
        if (!reason)
          problems.push(`${file}:${before + 1}: a not-compiled marker needs a reason: <!-- not-compiled: why -->`);
        skipped.push({ file, line: i + 1, reason });
      } else if (body.every((line) => line.trim() === '')) {
        problems.push(`${file}:${i + 1}: empty TypeScript block`);
      } else {
        blocks.push({ file, line: i + 2, indent: indent.length, body });
      }
    }
    i = end;
  }
  return { blocks, skipped };
}

/** The lines of a markdown file outside fenced code blocks, with their 1-based numbers. */
function proseLines(file) {
  const lines = readFileSync(join(root, file), 'utf8').split(/\r?\n/);
  const prose = [];
  let fence;
  lines.forEach((line, index) => {
    const open = FENCE.exec(line);
    if (fence) {
      if (new RegExp(`^\\s*${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`).test(line)) fence = undefined;
    } else if (open) {
      fence = open[2];
    } else {
      prose.push({ line: index + 1, text: line });
    }
  });
  return prose;
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function headingAnchors(file) {
  const anchors = new Set();
  const seen = new Map();
  for (const { text } of proseLines(file)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (!heading) continue;
    const plain = heading[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/`/g, '');
    const base = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Relative links whose file is missing, or whose fragment names no heading of its page. */
function checkLinks(files, problems) {
  const anchorsOf = new Map();
  const anchors = (file) => {
    if (!anchorsOf.has(file)) anchorsOf.set(file, headingAnchors(file));
    return anchorsOf.get(file);
  };
  let checked = 0;
  for (const file of files) {
    for (const { line, text } of proseLines(file)) {
      for (const link of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = link[1];
        if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // https:, mailto:, ...
        checked++;
        const [path, fragment] = target.split('#');
        const resolved = path === '' ? file : join(dirname(file), path);
        if (!existsSync(join(root, resolved))) {
          problems.push(`${file}:${line}: link to '${target}': ${resolved} does not exist`);
        } else if (fragment !== undefined && resolved.endsWith('.md') && !anchors(resolved).has(fragment)) {
          problems.push(
            `${file}:${line}: link to '${target}': ${resolved} has no heading with the anchor '#${fragment}'`,
          );
        }
      }
    }
  }
  return checked;
}

/** The directory of one page's blocks inside a pass: its path with separators flattened. */
function pageDir(file) {
  return file
    .replace(/\.md$/, '')
    .split(sep)
    .join('__')
    .replace(/[^\w.-]/g, '_');
}

/** Gives each block its file name within its page, and reports names used twice. */
function nameBlocks(blocks, problems) {
  const byPage = new Map();
  for (const block of blocks) {
    const named = FILE_NAME_COMMENT.exec(block.body[0].trim());
    const name = named ? named[1] : `block-line-${block.line - 1}.ts`;
    const page = byPage.get(block.file) ?? new Map();
    byPage.set(block.file, page);
    if (page.has(name)) {
      problems.push(
        `${block.file}:${block.line - 1}: file name '${name}' is already used by the block at line ${page.get(name).line - 1}`,
      );
      continue;
    }
    page.set(name, block);
    block.path = join(pageDir(block.file), name);
  }
  return blocks.filter((block) => block.path);
}

/** node_modules for the generated projects: the repository's packages, and this package under its name. */
function linkNodeModules(into) {
  const target = join(into, 'node_modules');
  mkdirSync(target);
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    if (entry.startsWith('.') || entry === 'nestjs-blazerpc') continue;
    symlinkSync(join(root, 'node_modules', entry), join(target, entry), 'junction');
  }
  symlinkSync(root, join(target, 'nestjs-blazerpc'), 'junction');
}

const COMPILER_OPTIONS = {
  target: 'es2022',
  lib: ['es2023', 'esnext.disposable'],
  module: 'nodenext',
  moduleResolution: 'nodenext',
  types: ['node'],
  strict: true,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  esModuleInterop: true,
  // As `nest new` sets it: every file compiles on its own, and types in decorated signatures are imported as types.
  isolatedModules: true,
  skipLibCheck: true,
  forceConsistentCasingInFileNames: true,
  noEmit: true,
};

/** Writes one pass's project and compiles it; returns the diagnostics mapped back to the markdown. */
function compile(work, pass, blocks) {
  const dir = join(work, pass);
  mkdirSync(dir);
  const packageJson = pass === 'esm' ? { private: true, type: 'module' } : { private: true };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(packageJson, null, 2)}\n`);
  const byPath = new Map();
  for (const block of blocks) {
    const file = join(dir, block.path);
    mkdirSync(dirname(file), { recursive: true });
    // `export {}` makes every block a module, so blocks never share a global scope.
    writeFileSync(file, `${block.body.join('\n')}\nexport {};\n`);
    byPath.set(block.path.split(sep).join('/'), block);
  }
  const files = blocks.map((block) => block.path.split(sep).join('/'));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    `${JSON.stringify({ compilerOptions: COMPILER_OPTIONS, files }, null, 2)}\n`,
  );
  const tsc = spawnSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'],
    {
      cwd: dir,
      encoding: 'utf8',
    },
  );
  if (tsc.error) throw tsc.error;
  const diagnostics = [];
  for (const line of `${tsc.stdout}${tsc.stderr}`.split('\n')) {
    const located = /^(.+?)\((\d+),(\d+)\): (error|warning) (TS\d+): (.*)$/.exec(line);
    if (located) {
      const [, path, row, column, , code, message] = located;
      const block = byPath.get(relative(dir, resolve(dir, path)).split(sep).join('/'));
      const where = block
        ? `${block.file}:${block.line + Number(row) - 1}:${block.indent + Number(column)}`
        : `${pass}/${path}:${row}:${column}`;
      diagnostics.push(`${where} [${pass}] ${code}: ${message}`);
    } else if (line.trim() !== '' && diagnostics.length > 0 && /^\s/.test(line)) {
      diagnostics[diagnostics.length - 1] += `\n    ${line.trim()}`;
    } else if (line.trim() !== '') {
      diagnostics.push(`[${pass}] ${line}`);
    }
  }
  if (tsc.status !== 0 && diagnostics.length === 0) diagnostics.push(`[${pass}] tsc exited with ${tsc.status}`);
  return diagnostics;
}

function main() {
  for (const types of ['dist/lib/index.d.ts', 'dist/cjs/index.d.ts']) {
    if (!existsSync(join(root, types))) {
      console.error(`${types} is missing: run \`npm run build\` first.`);
      return 2;
    }
  }
  const problems = [];
  const blocks = [];
  const skipped = [];
  const files = markdownFiles();
  for (const file of files) {
    const found = extractBlocks(file, problems);
    blocks.push(...found.blocks);
    skipped.push(...found.skipped);
  }
  const named = nameBlocks(blocks, problems);
  const links = checkLinks(files, problems);
  const work = mkdtempSync(join(tmpdir(), 'doc-examples-'));
  let diagnostics = [];
  try {
    linkNodeModules(work);
    diagnostics = [...compile(work, 'esm', named), ...compile(work, 'cjs', named)];
  } finally {
    if (keep) console.log(`Generated projects kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  for (const skip of skipped) console.log(`skipped ${skip.file}:${skip.line} (not-compiled: ${skip.reason})`);
  const failures = [...problems, ...diagnostics];
  for (const failure of failures) console.error(failure);
  const summary =
    `${named.length} TypeScript blocks from ${files.length} markdown files, each compiled as an ES module and as CommonJS ` +
    `(${named.length * 2} compilations), ${skipped.length} marked not-compiled; ${links} relative links`;
  if (failures.length > 0) {
    console.error(`\n${failures.length} problem(s) in ${summary}.`);
    return 1;
  }
  console.log(`OK: ${summary}.`);
  return 0;
}

process.exitCode = main();
