/**
 * The dependency rules of the code base, checked on the import statements themselves:
 *   - the core (src/) never imports Slack; only src/main.ts, the composition root, wires it;
 *   - only adapters (src/aws, src/store) import the AWS SDK;
 *   - blocks/ are pure builders: no Slack client, no AWS, no I/O;
 *   - handlers/ and slack/ (the Slack adapters that are not listeners) never talk to AWS directly;
 *   - handlers/ and slack/ never import the policy (src/policy, src/policy-report): they ask the
 *     service, which decides and returns what blocks/ render;
 *   - nothing but src/main.ts reads process.env (config.ts parses what main hands it);
 *   - nothing outside test/ imports test/ (the stand-ins shared with the demo and the bench live in
 *     testkit/), and shipped code (src, handlers, blocks, slack) never imports testkit/;
 *   - shipped code has no import cycles among the modules it loads at run time.
 *   - the core writes no Slack: no mrkdwn backticks and no `/jit` hints in the string literals of
 *     src/ (comments may); it returns problem codes, blocks/errors.ts has the words.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

const ROOT = join(__dirname, '..');

function files(dir: string, source = /\.ts$/): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules') return [];
    if (statSync(join(ROOT, path)).isDirectory()) return files(path, source);
    return source.test(path) && !path.endsWith('.d.ts') ? [path] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm)].map((m) => m[1] ?? m[2] ?? m[3] ?? m[4]!);
}

const violations = (dir: string, forbidden: RegExp, except: (file: string) => boolean = () => false) =>
  files(dir)
    .filter((f) => !except(f))
    .flatMap((f) => imports(f).filter((i) => forbidden.test(i)).map((i) => `${relative(ROOT, join(ROOT, f))} imports ${i}`));

it('the core never imports Slack (only the composition root does)', () => {
  expect(violations('src', /^@slack\/|\.\.\/handlers|\.\.\/blocks|\.\.\/slack(\/|$)/, (f) => f === join('src', 'main.ts'))).toEqual([]);
});

it('only adapters import the AWS SDK', () => {
  const adapter = (f: string) => f.startsWith(join('src', 'aws')) || f.startsWith(join('src', 'store')) || f === join('src', 'main.ts');
  expect(violations('src', /^@aws-sdk\//, adapter)).toEqual([]);
  expect(violations('handlers', /^@aws-sdk\//)).toEqual([]);
  expect(violations('slack', /^@aws-sdk\//)).toEqual([]);
});

it('handlers and the Slack adapters never import the policy: the service decides, they render', () => {
  const policy = /(^|\/)src\/policy(-report)?$/;
  expect(violations('handlers', policy)).toEqual([]);
  expect(violations('slack', policy)).toEqual([]);
  // The pattern does match real imports of the policy (the policy's own tests), so the rule can fail.
  expect(violations('test', policy)).toEqual(expect.arrayContaining([join('test', 'policy.test.ts') + ' imports ../src/policy']));
});

it('blocks are pure: no clients, no AWS, no I/O', () => {
  expect(violations('blocks', /^@slack\/(bolt|web-api)$|^@aws-sdk\/|^node:(fs|http|https|net|child_process)$|\.\.\/handlers|\.\.\/slack\/|\.\.\/src\/(service|store|aws|main)/)).toEqual([]);
});

it('nothing outside the composition root reads process.env', () => {
  const code = (f: string) => readFileSync(join(ROOT, f), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const readers = [...files('src'), ...files('handlers'), ...files('slack'), ...files('blocks')].filter((f) => f !== join('src', 'main.ts') && /process\.env/.test(code(f)));
  expect(readers).toEqual([]);
});

/** Where each relative import of the files under `dirs` lands, as repository paths (`from` → `to`). */
function resolvedImports(dirs: string[]): { from: string; to: string }[] {
  return dirs
    .flatMap((d) => files(d, /\.(ts|js|mjs|cjs)$/))
    .flatMap((f) => imports(f).filter((i) => i.startsWith('.')).map((i) => ({ from: f, to: relative(ROOT, join(ROOT, dirname(f), i)) })));
}
const under = (dir: string) => (path: string) => path === dir || path.startsWith(dir + sep);

it('nothing outside test/ imports test/: the demo, the bench and the test kit stand alone', () => {
  const outside = ['src', 'handlers', 'blocks', 'slack', 'demo', 'bench', 'testkit', 'scripts'];
  expect(resolvedImports(outside).filter((i) => under('test')(i.to)).map((i) => `${i.from} imports ${i.to}`)).toEqual([]);
  // The resolver does see imports into testkit/ (the demo uses the Slack stand-in), so the rule can fail.
  expect(resolvedImports(['demo']).some((i) => under('testkit')(i.to))).toBe(true);
});

it('shipped code (src, handlers, blocks, slack) never imports the test kit', () => {
  expect(resolvedImports(['src', 'handlers', 'blocks', 'slack']).filter((i) => under('testkit')(i.to)).map((i) => `${i.from} imports ${i.to}`)).toEqual([]);
});

it('the production build compiles nothing under test/', () => {
  const build = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
  expect(build.include.filter((entry) => under('test')(entry.replace(/\/+$/, '').split('/').join(sep)))).toEqual([]);
  expect(build.include).toEqual(expect.arrayContaining(['src', 'handlers', 'blocks', 'slack', 'testkit']));
});

/**
 * Relative imports that are kept at run time (not `import type`), resolved to the file they load,
 * for the files under `dirs`.
 */
function runtimeGraph(dirs: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const f of dirs.flatMap((d) => files(d))) {
    const text = readFileSync(join(ROOT, f), 'utf8');
    const targets = [...text.matchAll(/^\s*(?:import|export)\s+(?!type\s)[^'";]*?from\s+['"](\.[^'"]+)['"]|^\s*import\s+['"](\.[^'"]+)['"]/gm)]
      .map((m) => relative(ROOT, join(ROOT, dirname(f), m[1] ?? m[2]!)))
      .map((to) => [`${to}.ts`, join(to, 'index.ts')].find((candidate) => graph.has(candidate) || existsSync(join(ROOT, candidate))) ?? to);
    graph.set(f, targets);
  }
  return graph;
}

/** Every import cycle (as a path that returns to its start), found by depth-first search. */
function cycles(graph: Map<string, string[]>): string[] {
  const found = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.add([...path.slice(path.indexOf(next)), next].join(' → '));
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return [...found];
}

it('shipped code has no import cycles (what loads at run time)', () => {
  const graph = runtimeGraph(['src', 'handlers', 'blocks', 'slack']);
  expect(cycles(graph)).toEqual([]);
  // The finder does find a cycle, so the rule can fail.
  expect(cycles(new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']]]))).toEqual(['a.ts → b.ts → c.ts → a.ts']);
  // And the graph does resolve imports to files (index.ts included).
  expect(graph.get(join('src', 'main.ts'))).toEqual(expect.arrayContaining([join('src', 'config.ts')]));
});

/** The text of every string literal and template literal (its text parts, not its ${} code) in `source`, with its line; comments skipped. */
function literals(source: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  const braces: number[] = []; // for each open template ${, the brace depth it started at
  let depth = 0;
  let i = 0;
  let prev = ''; // last significant character of code (decides whether `/` starts a regex)
  let word = ''; // last identifier-like word of code
  const lineAt = (at: number) => source.slice(0, at).split('\n').length;
  const template = (start: number): number => {
    // reads template text from `start` (just after ` or }) to the closing ` or the next ${
    let text = '';
    let j = start;
    while (j < source.length) {
      const c = source[j]!;
      if (c === '\\') {
        text += source.slice(j, j + 2);
        j += 2;
      } else if (c === '`') {
        out.push({ line: lineAt(start), text });
        return j + 1;
      } else if (c === '$' && source[j + 1] === '{') {
        out.push({ line: lineAt(start), text });
        braces.push(depth);
        depth++;
        return j + 2;
      } else {
        text += c;
        j++;
      }
    }
    return j;
  };
  while (i < source.length) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      i = source.indexOf('\n', i);
      if (i === -1) break;
    } else if (c === '/' && next === '*') {
      i = source.indexOf('*/', i + 2) + 2;
      if (i === 1) break;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let text = '';
      while (j < source.length && source[j] !== c) {
        if (source[j] === '\\') {
          text += source.slice(j, j + 2);
          j += 2;
        } else text += source[j++];
      }
      out.push({ line: lineAt(i), text });
      i = j + 1;
      prev = c;
      word = '';
    } else if (c === '`') {
      i = template(i + 1);
      prev = '`';
      word = '';
    } else if (c === '/' && (prev === '' || '(,=:[!&|?{};+-*%<>~^'.includes(prev) || ['return', 'typeof', 'case', 'in', 'of'].includes(word))) {
      // a regular expression literal: skip it (character classes may hold / and quotes)
      let j = i + 1;
      let inClass = false;
      while (j < source.length && (source[j] !== '/' || inClass)) {
        if (source[j] === '\\') j++;
        else if (source[j] === '[') inClass = true;
        else if (source[j] === ']') inClass = false;
        j++;
      }
      i = j + 1;
      while (/[a-z]/i.test(source[i] ?? '')) i++;
      prev = '/';
      word = '';
    } else if (c === '}' && braces.length > 0 && braces[braces.length - 1] === depth - 1) {
      braces.pop();
      depth--;
      i = template(i + 1);
      prev = '`';
      word = '';
    } else {
      if (c === '{') depth++;
      if (c === '}') depth--;
      if (/\s/.test(c)) {
        i++;
        continue;
      }
      if (/[\w$]/.test(c)) word = /[\w$]/.test(prev) ? word + c : c;
      else word = '';
      prev = c;
      i++;
    }
  }
  return out;
}

/**
 * Literals under src/ that may hold a backtick or a `/jit` hint, each for a reason; keep this short.
 * Config errors and doctor output are read by operators on the console (and quoted in `/jit doctor`),
 * not user replies: they keep their plain words.
 */
const SLACK_WORDS_ALLOWED: { file: string; text: string; why: string }[] = [
  { file: join('src', 'config.ts'), text: '(`tags` are the target', why: 'a config error for the operator: quotes a YAML key' },
  { file: join('src', 'store', 'doctor.ts'), text: '/jit doctor checks it from inside the bot', why: 'doctor output on the console, naming the command that checks from inside' },
];

/** A `/jit` command hint (not a path such as ./jit.config.yaml). */
const JIT_HINT = /(?<![\w.])\/jit(?![\w.-])/;

/** `file:line: text` for each string or template literal under `dir` with a backtick or a `/jit` hint in its text. */
function slackWords(dir: string): string[] {
  return files(dir).flatMap((f) =>
    literals(readFileSync(join(ROOT, f), 'utf8'))
      .filter((l) => l.text.includes('`') || JIT_HINT.test(l.text))
      .filter((l) => !SLACK_WORDS_ALLOWED.some((a) => a.file === f && l.text.includes(a.text)))
      .map((l) => `${f}:${l.line}: ${l.text}`),
  );
}

it('the core writes no Slack: no backticks and no /jit hints in the string literals of src/ (blocks/ has the words)', () => {
  expect(slackWords('src')).toEqual([]);
  // The scanner sees literals, not comments, so the rule can fail: blocks/ holds both kinds of words.
  expect(slackWords('blocks').some((l) => l.includes('/jit'))).toBe(true);
  expect(slackWords('blocks').some((l) => l.includes('`'))).toBe(true);
  expect(literals('// `/jit` in a comment\n/* `x` */ const a = /`[/jit]`/; const b = `${\'`\'}`;').map((l) => l.text)).toEqual(['', '`', '']);
});
