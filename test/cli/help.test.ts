/**
 * `--version`, `help`, `COMMAND --help` and `help COMMAND`: what a newcomer types first. Each
 * command's help lists every option its parser takes, an example and its exit status.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMAND_HELP, COMMAND_OPTIONS, LIVE_OPTIONS, USAGE, main, type CommandName } from '../../lib/cli/main';
import { captureIo } from '../support/cli-io';

const VERSION = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
const COMMANDS = Object.keys(COMMAND_OPTIONS) as CommandName[];
const LIVE: readonly CommandName[] = ['report', 'capture', 'plan'];

describe('cli --version', () => {
  it.each([['--version'], ['-v']])('%s prints the version of package.json and exits 0', async (flag) => {
    const t = captureIo();
    expect(await main([flag], t.cli)).toBe(0);
    expect(t.out()).toBe(`${VERSION}\n`);
    expect(t.err()).toBe('');
  });
});

describe('cli help', () => {
  it('lists every command and how to get its help', async () => {
    const t = captureIo();
    expect(await main(['help'], t.cli)).toBe(0);
    expect(t.out()).toBe(USAGE);
    for (const command of COMMANDS) expect(USAGE).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(USAGE).toContain('--version');
  });

  it.each(COMMANDS)('%s --help, -h and help %s print its help and exit 0', async (command) => {
    for (const argv of [[command, '--help'], [command, '-h'], ['help', command]]) {
      const t = captureIo();
      expect(await main(argv, t.cli)).toBe(0);
      expect(t.out()).toBe(COMMAND_HELP[command]);
      expect(t.err()).toBe('');
    }
  });

  it('prints the help even after other arguments, and before checking them', async () => {
    const t = captureIo();
    expect(await main(['policy', 'show', '--bogus', '--help'], t.cli)).toBe(0);
    expect(t.out()).toBe(COMMAND_HELP.policy);
  });

  it.each(COMMANDS)("%s's help names each of its options, an example and the exit status", (command) => {
    const help = COMMAND_HELP[command];
    expect(help.startsWith(`Usage: eks-ip-responder ${command} `)).toBe(true);
    const options = [...Object.keys(COMMAND_OPTIONS[command]), ...(LIVE.includes(command) ? LIVE_OPTIONS : [])];
    for (const option of options) expect(help).toMatch(new RegExp(`--${option}\\b`));
    expect(help).toMatch(/^Examples?:\n {2}eks-ip-responder /m);
    expect(help).toMatch(/^Exit status: 0 /m);
    if (LIVE.includes(command)) expect(help).toContain('3 done, but a cluster is INCOMPLETE');
  });

  it('answers help for an unknown command with a usage error and the overview', async () => {
    const t = captureIo();
    expect(await main(['help', 'frobnicate'], t.cli)).toBe(2);
    expect(t.out()).toBe('');
    expect(t.err()).toBe(`eks-ip-responder: help: unknown command "frobnicate"\n${USAGE}`);
  });

  it("prints the command's own help after its usage error", async () => {
    const t = captureIo();
    expect(await main(['max-pods', '--bogus'], t.cli)).toBe(2);
    // (In jest, node's parseArgs error is of another realm: messageOf prints it as JSON, with its code.)
    expect(t.err()).toMatch(/^eks-ip-responder: .*(Unknown option '--bogus'|ERR_PARSE_ARGS_UNKNOWN_OPTION).*\n/);
    expect(t.err().endsWith(COMMAND_HELP['max-pods'])).toBe(true);
  });
});
