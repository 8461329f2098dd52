// The `warden` command line. Each subcommand is a thin adapter over the core and policy modules.

import { createReadStream, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { loadPack, readPack, DEFAULT_PACK_DIR, type LoadOptions } from '../policy/load-pack.js';
import { PackError, compilePack, runExamples } from '../policy/compile.js';
import { cachedRegexSafety } from '../policy/regex-safety.js';
import { screenStream, screenStreamBatched } from './jsonl-screen.js';
import { startScreenPool, PackLoadError } from './screen-pool.js';
import { availableParallelism } from 'node:os';
import { screen } from '../core/screen.js';
import { readLabelledCsv } from '../eval/labelled-csv.js';
import { evaluateOutcomes, formatReport } from '../eval/metrics.js';
import type { Action } from '../core/types.js';
import { runDemo } from './demo.js';
import { CLAUSES } from '../policy/clauses.js';
import { normalise } from '../core/normalise.js';
import { registerDataCommands } from './data-commands.js';
import { registerServeCommands } from './serve-command.js';

// A closed pipe (`warden screen ... | head`) ends the run quietly, like other Unix tools.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const program = new Command();
program.name('warden').description('Acceptable Use Policy enforcement gateway').version('0.1.0');

function collectList(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new Error(`--list expects NAME=FILE, got "${value}"`);
  return { ...previous, [value.slice(0, eq)]: resolve(value.slice(eq + 1)) };
}

function packOptions(cmd: Command): Command {
  return cmd
    .option('--pack <dir>', 'rule pack directory', DEFAULT_PACK_DIR)
    .option('--list <name=file>', 'replace or add a domain list of the pack (repeatable)', collectList, {});
}

function loadOrExit(dir: string, lists: Record<string, string>, extra: LoadOptions = {}) {
  try {
    return loadPack(resolve(dir), { listOverrides: lists, ...extra });
  } catch (e) {
    if (e instanceof PackError) {
      process.stderr.write(`warden: pack ${dir} refused:\n${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}

function progressBar(total: number | null, unit: string): cliProgress.SingleBar | null {
  if (!process.stderr.isTTY) return null;
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `{bar} {percentage}% | {value}/{total} ${unit} | {eta_formatted} left`, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total ?? 0, 0);
  return bar;
}

packOptions(program.command('screen'))
  .description('screen JSONL messages (one per line) and print one JSONL decision per line')
  .argument('[file]', 'input file, or - for standard input', '-')
  .option('--workers <n>', 'screening threads (default: one per core for files over 1 MB, else in-process)')
  .option('--rules-only', "screen with the pack's rules alone, without its statistical model")
  .addOption(new Option('--passthrough', 'parse and re-serialise without screening (benchmark floor)').hideHelp())
  .action(
    async (
      file: string,
      opts: { pack: string; list: Record<string, string>; workers?: string; rulesOnly?: boolean; passthrough?: boolean },
    ) => {
      const input = file === '-' ? process.stdin : createReadStream(file);
      const size = file === '-' ? null : statSync(file).size;
      const workers =
        opts.workers !== undefined
          ? Math.max(1, Number(opts.workers) | 0)
          : size !== null && size > 1 << 20 && !opts.passthrough
            ? Math.min(availableParallelism(), 4)
            : 1;
      const bar = progressBar(size, 'bytes');
      const onProgress = bar ? (_l: number, bytes: number) => bar.update(bytes) : undefined;
      try {
        let result;
        if (workers > 1) {
          let pool;
          try {
            pool = await startScreenPool(workers, resolve(opts.pack), opts.list, opts.rulesOnly === true);
          } catch (e) {
            bar?.stop();
            process.stderr.write(`warden: pack ${opts.pack} refused:\n${(e as Error).message}\n`);
            process.exit(e instanceof PackLoadError ? 2 : 1);
          }
          result = await screenStreamBatched(input, process.stdout, pool, { inFlight: workers * 2, ...(onProgress ? { onProgress } : {}) });
        } else {
          const loaded = opts.passthrough ? null : loadOrExit(opts.pack, opts.list, opts.rulesOnly ? { loadModel: false } : {});
          result = await screenStream(input, process.stdout, {
            ctx: { policy: loaded?.policy as NonNullable<typeof loaded>['policy'] },
            passthrough: opts.passthrough === true,
            ...(onProgress ? { onProgress } : {}),
          });
        }
        bar?.stop();
        if (result.errors > 0)
          process.stderr.write(`warden: ${result.errors} of ${result.lines} lines could not be screened (see error records)\n`);
      } catch (e) {
        bar?.stop();
        process.stderr.write(`warden: ${(e as Error).message}\n`);
        process.exit(1);
      }
    },
  );

packOptions(program.command('eval'))
  .description('screen a labelled CSV and report precision, recall, F1, false-positive rate and a confusion matrix')
  .requiredOption('--dataset <file>', 'CSV file with a header row')
  .option('--text-column <name>', 'column holding the message text', 'text')
  .option('--label-column <name>', 'column holding the label', 'label')
  .option('--positive <labels>', 'comma-separated labels that should be flagged', 'spam,smishing')
  .addOption(
    new Option('--flag-at <action>', 'lowest action that counts as flagged').choices(['review', 'block', 'throttle']).default('review'),
  )
  .option('--json', 'print the report as JSON')
  .addOption(
    new Option('--mode <mode>', 'what decides: the rules alone, the classifier alone, both (pipeline), or all three reports')
      .choices(['rules', 'model', 'pipeline', 'all'])
      .default('pipeline'),
  )
  .action(
    (opts: {
      pack: string;
      list: Record<string, string>;
      dataset: string;
      textColumn: string;
      labelColumn: string;
      positive: string;
      flagAt: Action;
      json?: boolean;
      mode: string;
    }) => {
      const loaded = loadOrExit(opts.pack, opts.list);
      let rows;
      try {
        rows = readLabelledCsv(opts.dataset, opts.textColumn, opts.labelColumn);
      } catch (e) {
        process.stderr.write(`warden: ${(e as Error).message}\n`);
        process.exit(1);
      }
      const positives = new Set(
        opts.positive
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      );
      const modes = opts.mode === 'all' ? ['rules', 'model', 'pipeline'] : [opts.mode];
      const reports: Array<Record<string, unknown>> = [];
      for (const mode of modes) {
        const full = loaded.policy;
        // rules: the pack without its models; model: the models alone, scored against the pack's thresholds.
        const policy = mode === 'rules' ? { ...full, models: [] } : full;
        const bar = progressBar(rows.length, 'messages');
        const ctx = { policy, newId: () => 'eval' };
        const actionOf = (body: string): Action => {
          if (mode !== 'model') return screen({ id: 'eval', customer: 'eval', channel: 'sms', from: '', to: '', body }, ctx).action;
          const text = normalise(body);
          let score = 0;
          for (const m of full.models) for (const s of m.predict(text)) score += Math.max(0, s.weight);
          return score >= full.thresholds.block ? 'block' : score >= full.thresholds.review ? 'review' : 'allow';
        };
        const outcomes = rows.map((r, i) => {
          if (bar && i % 200 === 0) bar.update(i);
          return { label: r.label, action: actionOf(r.text) };
        });
        bar?.update(rows.length);
        bar?.stop();
        const report = evaluateOutcomes(outcomes, positives, opts.flagAt);
        if (opts.json)
          reports.push({
            dataset: opts.dataset,
            mode,
            policyVersion: full.policyVersion,
            models: full.models.map((m) => m.name),
            ...report,
          });
        else process.stdout.write(formatReport(report, `${opts.dataset} [${mode}] with ${full.policyVersion}`) + '\n');
      }
      if (opts.json) process.stdout.write(JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2) + '\n');
    },
  );

const pack = program.command('pack').description('work with rule packs');
pack
  .command('test')
  .description("run every rule's HIT and MISS examples and report failures")
  .argument('[dir]', 'rule pack directory', DEFAULT_PACK_DIR)
  .option('--list <name=file>', 'replace or add a domain list of the pack (repeatable)', collectList, {})
  .action((dir: string, opts: { list: Record<string, string> }) => {
    try {
      const source = readPack(resolve(dir), { listOverrides: opts.list });
      const policy = compilePack(source, { regexSafety: cachedRegexSafety, testExamples: false });
      const report = runExamples(policy, source.rules);
      for (const f of report.failures) process.stdout.write(`FAIL ${f.source.file}:${f.source.line} ${f.message}\n`);
      process.stdout.write(
        `${policy.policyVersion}: ${source.rules.length} rules, ${report.checked} examples, ${report.failures.length} failed\n`,
      );
      process.exit(report.failures.length === 0 ? 0 : 1);
    } catch (e) {
      if (e instanceof PackError) {
        process.stdout.write(`${e.message}\n`);
        process.exit(2);
      }
      throw e;
    }
  });

program
  .command('clauses')
  .description('print the AUP clause catalogue that decisions cite')
  .option('--json', 'print as JSON')
  .action((opts: { json?: boolean }) => {
    if (opts.json) process.stdout.write(JSON.stringify(CLAUSES, null, 2) + '\n');
    else for (const c of CLAUSES) process.stdout.write(`${c.id.padEnd(34)} ${c.summary}\n${''.padEnd(34)} source: ${c.source}\n`);
  });

packOptions(program.command('demo'))
  .description('screen the bundled sample messages and print what Warden decided')
  .action((opts: { pack: string; list: Record<string, string> }) => {
    const loaded = loadOrExit(opts.pack, opts.list);
    runDemo(loaded.policy, readFileSync(new URL('../../../examples/sample-messages.jsonl', import.meta.url), 'utf8'));
  });

registerDataCommands(program);
registerServeCommands(program, DEFAULT_PACK_DIR);

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`warden: ${(e as Error).message}\n`);
  process.exit(1);
});
