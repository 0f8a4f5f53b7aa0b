import { createRequire } from 'node:module'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import picocolors from 'picocolors'
import { CliError, describeError } from './cli-error'
import { backupCommand } from './commands/backup'
import { backupsCommand } from './commands/backups'
import { compactCommand } from './commands/compact'
import { exportCommand } from './commands/export'
import { initCommand, SAMPLE_NAMES } from './commands/init'
import { repairCommand } from './commands/repair'
import { restoreCommand } from './commands/restore'
import { verifyCommand } from './commands/verify'
import { EXIT, EXIT_CODE_HELP } from './exit-codes'
import { type CliIo, colorEnabled, createOutput, type Output } from './output'

/**
 * The `saveflow` command: parses the arguments with commander, runs one command, and turns every outcome into an
 * exit code (see `exit-codes.ts`). Nothing here calls `process.exit`: the caller sets the exit code, so output
 * written to a pipe is flushed before the process ends.
 */

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string }

/** Global options, valid before or after the command name. */
interface GlobalOptions {
  debug?: boolean
  color?: boolean
}

const DOC_HELP = 'a document key: project, settings, conversation/<id> or cache/<name>'

function nonNegativeInt(value: string): number {
  const n = Number(value)
  if (!/^\d{1,6}$/.test(value) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError('Give a whole number >= 0.')
  }
  return n
}

function seedNumber(value: string): number {
  if (!/^\d{1,10}$/.test(value)) throw new InvalidArgumentError('Give a whole number from 0 to 4294967295.')
  return Number(value) >>> 0
}

/** Builds the program; `run` receives the command's work and returns its exit code. */
function buildProgram(
  io: CliIo,
  run: (work: (out: Output) => Promise<number>, json: boolean) => Promise<void>,
): Command {
  const program = new Command('saveflow')
  const errColors = picocolors.createColors(colorEnabled(io.stderr, io.env, true))
  program
    .description('Inspect, verify, back up, repair and restore a saveflow workspace folder.')
    .version(version, '-V, --version', 'print the version')
    .option('--debug', 'print stack traces of errors')
    .option('--no-color', 'never colour the output (NO_COLOR does the same)')
    .helpOption('-h, --help', 'show help for the command')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(errColors.red(text)),
    })
    .addHelpText('after', `\n${EXIT_CODE_HELP}\n\nSee "saveflow <command> --help" for each command.`)

  const jsonOption = () => new Option('--json', 'print a JSON report on stdout (see src/cli/README.md)')

  program
    .command('verify')
    .description('Check every document, backup and leftover file; change nothing.')
    .argument('<dir>', 'the workspace folder')
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nExit code 0: healthy; 1: problems "saveflow repair" can fix; 2: data that needs a choice (a damaged file\nwith no valid backup, a log damaged in the middle). Temp files, torn log tails, damaged backups and damaged\nfiles with a valid backup are repairable.',
    )
    .action((dir: string, opts: { json?: boolean }) =>
      run((out) => verifyCommand(dir, io, out), opts.json === true),
    )

  program
    .command('repair')
    .description(
      'Do what recovery on open would do: remove temp files, quarantine damaged files, restore backups.',
    )
    .argument('<dir>', 'the workspace folder')
    .option(
      '--quarantine-unrecoverable',
      'also move damaged files that have no valid backup, and the damaged backups that are all that is left of them, to quarantine (that document then starts empty)',
    )
    .option(
      '--keep-journal-prefix',
      'accept what loads of a log damaged in the middle (a copy of the damaged file goes to quarantine)',
    )
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nNever deletes what a user wrote: damaged files go to .saveflow/quarantine/. Takes the workspace lock and\nrefuses (exit code 3) while another process holds it. Exit code: 0 when healthy afterwards, 2 when data still\nneeds a choice, 6 when an action failed.',
    )
    .action(
      (
        dir: string,
        opts: { json?: boolean; quarantineUnrecoverable?: boolean; keepJournalPrefix?: boolean },
      ) => {
        const options = {
          quarantineUnrecoverable: opts.quarantineUnrecoverable === true,
          keepJournalPrefix: opts.keepJournalPrefix === true,
        }
        return run((out) => repairCommand(dir, options, io, out), opts.json === true)
      },
    )

  program
    .command('backups')
    .description('List backups (time, revision, size, valid?), newest first.')
    .argument('<dir>', 'the workspace folder')
    .argument('[doc]', `${DOC_HELP}; all documents when left out`)
    .addOption(jsonOption())
    .action((dir: string, doc: string | undefined, opts: { json?: boolean }) =>
      run((out) => backupsCommand(dir, doc, io, out), opts.json === true),
    )

  program
    .command('backup')
    .description('Take a backup of one document, or of every document, now.')
    .argument('<dir>', 'the workspace folder')
    .argument('[doc]', `${DOC_HELP}; all documents when left out`)
    .addOption(jsonOption())
    .action((dir: string, doc: string | undefined, opts: { json?: boolean }) =>
      run((out) => backupCommand(dir, doc, io, out), opts.json === true),
    )

  program
    .command('restore')
    .description(
      'Put a verified backup in place of a document; the replaced file is kept as a backup (undoable).',
    )
    .argument('<dir>', 'the workspace folder')
    .argument('<doc>', DOC_HELP)
    .argument('[backup-id]', 'the backup file name, as "saveflow backups" lists it')
    .option('--latest', 'restore the newest backup that verifies')
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nExample:\n  saveflow restore ./ws project --latest\n  saveflow restore ./ws project 20260115T103000123Z-r41.json',
    )
    .action(
      (dir: string, doc: string, backupId: string | undefined, opts: { json?: boolean; latest?: boolean }) =>
        run(
          (out) => restoreCommand(dir, doc, backupId, { latest: opts.latest === true }, io, out),
          opts.json === true,
        ),
    )

  program
    .command('compact')
    .description(
      'Remove backups beyond the backup count and expired caches; compact logs and the project journal.',
    )
    .argument('<dir>', 'the workspace folder')
    .option(
      '--keep <n>',
      'backups to keep per document (default: backupCount in settings.json, else 10)',
      nonNegativeInt,
    )
    .addOption(jsonOption())
    .action((dir: string, opts: { json?: boolean; keep?: number }) =>
      run((out) => compactCommand(dir, { keep: opts.keep }, io, out), opts.json === true),
    )

  program
    .command('export')
    .description('Write the project, settings and conversations as one JSON file, verified data only.')
    .argument('<dir>', 'the workspace folder')
    .argument('<file>', 'the file to write ("-" for stdout)')
    .option('--pretty', 'indent the JSON')
    .addHelpText(
      'after',
      '\nExit code 1 when a document did not verify: it is left out and listed under "skipped" in the file.',
    )
    .action((dir: string, file: string, opts: { pretty?: boolean }) =>
      run((out) => exportCommand(dir, file, { pretty: opts.pretty === true }, io, out), false),
    )

  program
    .command('init')
    .description('Create a workspace with deterministic sample data.')
    .argument('<dir>', 'the folder to create (must be empty or missing)')
    .addOption(
      new Option(
        '--sample <size>',
        'empty, small (50 nodes, about 30 KB) or large (20,000 nodes, about 20 MB)',
      )
        .choices(SAMPLE_NAMES)
        .default('empty'),
    )
    .option('--seed <n>', 'seed of the generator: equal seeds give equal data', seedNumber, 1)
    .option('--force', 'write into a folder that is not empty (replaced files are backed up first)')
    .addOption(jsonOption())
    .action(
      (
        dir: string,
        opts: { json?: boolean; sample: (typeof SAMPLE_NAMES)[number]; seed: number; force?: boolean },
      ) =>
        run(
          (out) =>
            initCommand(dir, { sample: opts.sample, seed: opts.seed, force: opts.force === true }, io, out),
          opts.json === true,
        ),
    )

  return program
}

/**
 * Runs the command line `argv` (without `node` and the script) and resolves with the exit code. Never throws and
 * never exits the process.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok
  // Read from argv, not from commander: an error while parsing is reported the same way as one in the command.
  const json = argv.includes('--json')
  const debug = argv.includes('--debug')
  const color = !argv.includes('--no-color')
  const program = buildProgram(io, async (work, jsonOption) => {
    const globals = program.opts<GlobalOptions>()
    exitCode = await work(createOutput(io, { json: jsonOption, color: globals.color !== false }))
  })
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return exitCode
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander printed the help, the version or its own one-line error already.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok
      if (json) {
        const message = error.message.replace(/^error: /, '')
        const usage = new CliError('usage', message, EXIT.usage)
        io.stdout.write(`${JSON.stringify({ error: describeError(usage) }, null, 2)}\n`)
      }
      return EXIT.usage
    }
    return reportError(io, error, { json, debug, color })
  }
}

function reportError(
  io: CliIo,
  error: unknown,
  options: { json: boolean; debug: boolean; color: boolean },
): number {
  const described = describeError(error)
  if (options.json) {
    io.stdout.write(`${JSON.stringify({ error: described }, null, 2)}\n`)
  } else {
    const c = picocolors.createColors(colorEnabled(io.stderr, io.env, options.color))
    io.stderr.write(`${c.red(`error: ${described.message}`)}\n`)
    if (described.hint !== null) io.stderr.write(`${c.dim(`hint: ${described.hint}`)}\n`)
  }
  if (options.debug && error instanceof Error && error.stack !== undefined)
    io.stderr.write(`${error.stack}\n`)
  return described.exitCode
}
