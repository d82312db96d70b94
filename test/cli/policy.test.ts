import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '../../lib/cli/main';
import { effectivePolicy } from '../../lib/policy/load';
import { readPolicyFile } from '../../lib/policy/yaml';
import { captureIo } from '../support/cli-io';

const REPO_POLICY = resolve(__dirname, '..', '..', 'policy.yml');
const DEMO = resolve(__dirname, '..', '..', 'events', 'demo-snapshot');

const io = () => captureIo({ now: () => new Date('2026-01-01T00:00:00Z') });

describe('cli policy show', () => {
  it('prints the policy in force for a cluster the policy names', async () => {
    const t = io();
    expect(await main(['policy', 'show', '--cluster', 'payments-prod', '--policy', REPO_POLICY], t.cli)).toBe(0);
    expect(JSON.parse(t.out())).toEqual(effectivePolicy(readPolicyFile(REPO_POLICY), 'payments-prod'));
  });

  it.each(['typo', 'payments-prd', 'Payments-Prod'])(
    'refuses --cluster %s, a name the policy does not list, in one line suggesting the closest name',
    async (name) => {
      const t = io();
      expect(await main(['policy', 'show', '--cluster', name, '--policy', REPO_POLICY], t.cli)).toBe(1);
      expect(t.out()).toBe('');
      expect(t.err()).toBe(
        `eks-ip-responder: ${REPO_POLICY} has no entry for cluster "${name}" (did you mean payments-prod?); ` +
          'a cluster without an entry gets the default: policy show --default\n',
      );
    },
  );

  it('suggests up to three names, closest first, and says when the policy names none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-show-'));
    try {
      const text = readFileSync(REPO_POLICY, 'utf8');
      const many = join(dir, 'many.yml');
      writeFileSync(many, `${text}  orders-prod: {}\n  orders-dev: {}\n  batch: {}\n`);
      const t = io();
      expect(await main(['policy', 'show', '--cluster', 'order-prod', '--policy', many], t.cli)).toBe(1);
      expect(t.err()).toContain('(did you mean orders-prod, orders-dev or payments-prod?)');
      const none = join(dir, 'none.yml');
      writeFileSync(none, text.replace(/^ {2}payments-prod:[\s\S]*$/m, ''));
      const n = io();
      expect(await main(['policy', 'show', '--cluster', 'payments-prod', '--policy', none], n.cli)).toBe(1);
      expect(n.err()).toContain(`${none} has no entry for cluster "payments-prod" (it names no cluster)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints the default, what any cluster without an entry gets, with --default', async () => {
    const t = io();
    expect(await main(['policy', 'show', '--default', '--policy', REPO_POLICY], t.cli)).toBe(0);
    const { cluster: _name, ...expected } = effectivePolicy(readPolicyFile(REPO_POLICY), 'any');
    expect(JSON.parse(t.out())).toEqual(expected);
  });

  it.each([[['policy', 'show']], [['policy', 'show', '--default', '--cluster', 'payments-prod']]])(
    'is a usage error without exactly one of --cluster and --default (%j)',
    async (argv) => {
      const t = io();
      expect(await main([...argv, '--policy', REPO_POLICY], t.cli)).toBe(2);
      expect(t.err()).toMatch(/^eks-ip-responder: policy show takes --cluster NAME or --default\n/);
    },
  );
});

describe('cli policy check', () => {
  it('names every problem of the repository policy\'s default at once: a bad value and a broken relation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-check-'));
    try {
      const text = readFileSync(REPO_POLICY, 'utf8');
      const file = join(dir, 'policy.yml');
      const edited = text
        .replace(/^( {6}warmIpTarget: )\{ min: \d+, max: \d+ \}/m, '$1{ min: 20, max: 16 }')
        .replace(/^( {6}maxCapacityIncreasePercent: )\d+/m, '$1-5');
      expect(edited).not.toBe(text);
      writeFileSync(file, edited);
      const t = io();
      expect(await main(['policy', 'check', '--policy', file], t.cli)).toBe(1);
      const lines = t.err().trimEnd().split('\n');
      expect(lines[0]).toMatch(/\(2 problems\):$/);
      expect(lines.slice(1)).toEqual([
        expect.stringMatching(/: default\.actions\.instanceTypes\.maxCapacityIncreasePercent: must be a whole number from 0 to 1000, not -5 /),
        expect.stringMatching(/: default\.actions\.warmTargets\.warmIpTarget: min 20 is above max 16 \(line \d+\)$/),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the policy file flag', () => {
  it('is --policy for policy check and show, as for plan', async () => {
    for (const argv of [['policy', 'check'], ['policy', 'show', '--default'], ['plan', '--snapshot', DEMO]]) {
      const t = io();
      expect(await main([...argv, '--policy', REPO_POLICY], t.cli)).toBe(0);
      expect(t.err()).toBe('');
    }
  });

  it('still takes --file, the old name, with a one-line note that it is deprecated', async () => {
    const t = io();
    expect(await main(['policy', 'show', '--default', '--file', REPO_POLICY], t.cli)).toBe(0);
    expect(t.err()).toBe('eks-ip-responder: note: --file is deprecated, use --policy FILE (the same flag as plan)\n');
    const { cluster: _name, ...expected } = effectivePolicy(readPolicyFile(REPO_POLICY), 'any');
    expect(JSON.parse(t.out())).toEqual(expected);
  });

  it('is a usage error given under both names', async () => {
    const t = io();
    expect(await main(['policy', 'check', '--file', REPO_POLICY, '--policy', REPO_POLICY], t.cli)).toBe(2);
    expect(t.err().split('\n')[0]).toBe('eks-ip-responder: --file is the old name of --policy: give --policy alone');
  });

  it('is not --file for plan, which never took it', async () => {
    const t = io();
    expect(await main(['plan', '--snapshot', DEMO, '--file', REPO_POLICY], t.cli)).toBe(2);
    expect(t.err().split('\n')[0]).toMatch(/^eks-ip-responder: .*(Unknown option '--file'|ERR_PARSE_ARGS_UNKNOWN_OPTION)/);
  });
});
