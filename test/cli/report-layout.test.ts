import path from 'node:path';
import { main } from '../../lib/cli/main';
import { captureIo } from '../support/cli-io';

const DEMO = path.join(__dirname, '..', '..', 'events', 'demo-snapshot');
const FULL = 'subnet-0e59dfd0c9e3779b1';
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[/;

async function demoReport(overrides: Parameters<typeof captureIo>[0] = {}, args: string[] = []): Promise<string> {
  const t = captureIo(overrides);
  expect(await main(['report', '--snapshot', DEMO, ...args], t.cli)).toBe(0);
  return t.out();
}

/** The finding sections of a report: each starts at a severity label, 4 columns in. */
function sections(text: string): string[] {
  return text.split(/\n(?= {4}(?:CRITICAL|WARNING|INFO): )/).slice(1);
}

describe('the demo report as a runbook', () => {
  it(`is one finding for the full subnet ${FULL}, listing api-m5l and general-m5xl`, async () => {
    const text = await demoReport();
    const about = sections(text).filter((s) => s.includes(FULL) && s.includes('Cause: subnet close to full'));
    expect(about).toHaveLength(1);
    const [section] = about;
    expect(section).toMatch(new RegExp(`^ {4}CRITICAL: Subnet ${FULL} \\(eu-west-1a\\): 7 of 251 IPs free, 97% used\\n`));
    expect(section).toContain('Nodegroups with no other subnet in eu-west-1a: api-m5l, general-m5xl');
    expect(section).toContain('      Nodegroup api-m5l:\n      - Nodegroup api-m5l has 5 nodes in eu-west-1a;');
    expect(section).toContain('      Nodegroup general-m5xl:\n      - Nodegroup general-m5xl has 2 nodes in eu-west-1a;');
    // The fixes they share are said once; each nodegroup's own move is kept.
    expect(section!.match(/Shrink warm pools/g)).toHaveLength(1);
    expect(section).toMatch(/then scale api-m5l down/);
    expect(section).toMatch(/then scale general-m5xl down/);
    // No section of its own for either nodegroup's AZ.
    expect(text).not.toMatch(/(CRITICAL|WARNING): Nodegroup (api-m5l|general-m5xl) in eu-west-1a/);
    // 3, the two nodegroups whose max size would not fit in it (nodegroup-headroom), the VPC's DNS
    // hostnames off (vpc-dns), its Network Address Usage (network-address-usage), and the leaked ENIs of private-c, and (issue 14) the pods failing IP assignment on a general-m5xl node.
    expect(text).toContain('  Findings (9)\n');
  });

  it('has no line over 100 columns', async () => {
    const long = (await demoReport()).split('\n').filter((l) => [...l].length > 100);
    expect(long).toEqual([]);
  });

  it('writes counts above 999 with thousands separators', async () => {
    const text = await demoReport();
    expect(text).toContain('Pod subnets: 9,396 free IPs, least in one subnet 7\n');
    expect(text).toContain('Nodes: 18, 895 pod IPs held, max pods 1,452; 1 at their ENI limit, 1 with no IP slot left\n');
    expect(text).toMatch(/subnet-0c55317ef17156075 +eu-west-1a +100\.64\.0\.0\/19 +cni-discovery +8,187 +8,187 +0%/);
    expect(text).toMatch(/batch-r6i +managed +r6i\.4xlarge +3 +3\/24 +112\/11,136 +330/);
    // Every other run of four digits or more is an id, a version, a date or a year.
    expect(text.replace(/sampled \S+|since\s+2023|\d{4,}-eksbuild/g, '')).not.toMatch(/(?<![\w.,/-])\d{4,}(?![\w.,/%-])/);
  });
});

describe('the demo subnet shared by two clusters (issue 13, item 5)', () => {
  // events-karpenter's private-b, where events-consumers' nodes and control-plane ENIs are too.
  const SHARED = 'subnet-05d4ff9aee437e93a';

  /** The report section of one cluster: from its "Cluster <name>" line to the next cluster's. */
  function clusterSection(text: string, name: string): string {
    const start = text.indexOf(`\nCluster ${name}  (`);
    expect(start).toBeGreaterThanOrEqual(0);
    const end = text.indexOf('\nCluster ', start + 1);
    return text.slice(start, end < 0 ? undefined : end);
  }

  it("shows each cluster's share in both clusters' reports, adding up to the used addresses", async () => {
    const text = await demoReport();
    for (const [name, line] of [
      ['events-karpenter', `${SHARED}: events-karpenter 75, events-consumers 41, no cluster 0`],
      ['events-consumers', `${SHARED}: events-consumers 41, events-karpenter 75, no cluster 0`],
    ] as const) {
      const section = clusterSection(text, name);
      const row = new RegExp(`\\n {4}${SHARED} +eu-west-1b +10\\.72\\.2\\.0/23 +cluster,node +(\\d+) +(\\d+) +23%\\n`).exec(section);
      expect(row?.slice(1)).toEqual(['391', '507']);
      expect(section).toContain('    Shared with other clusters (IPs each holds; "no cluster": other ENIs, unaccounted):\n');
      expect(section).toContain(`\n      ${line}\n`);
      // The shares (75 + 41 + 0) are the subnet's used addresses: 507 usable − 391 free = 116.
      const shares = [...line.matchAll(/ (\d+)(?=,|$)/g)].map((m) => Number(m[1]));
      expect(shares.reduce((a, b) => a + b, 0)).toBe(Number(row?.[2]) - Number(row?.[1]));
    }
  });
});

describe('colour in the report', () => {
  it('is used on a TTY: severity labels and INCOMPLETE only', async () => {
    const text = await demoReport({ isTTY: true });
    expect(text).toContain('\u001b[1;31mCRITICAL\u001b[0m: Subnet subnet-0e59dfd0c9e3779b1');
    expect(text).toContain('\u001b[33mWARNING\u001b[0m: Nodegroup api-m5l');
    // Without the codes it is the plain report.
    // eslint-disable-next-line no-control-regex
    expect(text.replace(/\u001b\[[\d;]*m/g, '')).toBe(await demoReport());
  });

  it.each([
    ['stdout is not a TTY', {}, []],
    ['isTTY is false', { isTTY: false }, []],
    ['NO_COLOR is set', { isTTY: true, env: { NO_COLOR: '1' } }, []],
    ['--json', { isTTY: true }, ['--json']],
  ])('is never used when %s', async (_, overrides, args) => {
    expect(await demoReport(overrides, args)).not.toMatch(ANSI);
  });
});
