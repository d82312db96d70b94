import { main } from '../../lib/cli/main';
import { captureIo } from '../support/cli-io';

const io = captureIo;

async function json(args: string[]): Promise<{ code: number; body: MaxPodsJson }> {
  const t = io();
  const code = await main(['max-pods', ...args, '--json'], t.cli);
  return { code, body: JSON.parse(t.out()) as MaxPodsJson };
}

interface MaxPodsJson {
  options: Record<string, unknown>;
  instanceTypes: { instanceType: string; maxPods: number; mode: string; enisForPods: number; podIpSlots: number; notes: string[] }[];
  unknown: string[];
  suggestions: Record<string, string[]>;
  notes: string[];
}

describe('max-pods gives what AWS max-pods-calculator.sh prints', () => {
  // Each expected figure is the output of awslabs/amazon-eks-ami templates/al2/runtime/max-pods-calculator.sh
  // (as of b2289030^; unchanged in templates/al2023/runtime at a92d9fde), run with `aws ec2
  // describe-instance-types` answered from the same DescribeInstanceTypes data the CLI bundles:
  // --cni-version, --cni-prefix-delegation-enabled, --cni-custom-networking-enabled, --cni-max-eni,
  // --show-max-allowed (our --no-cap). 1,248 combinations of 13 types were compared; the only
  // differences were the bare-metal ones below before the CLI followed the calculator there.
  it.each<[string[], number]>([
    [['m5.large', '--cni-version', '1.9.0'], 29],
    [['m5.large', '--cni-version', '1.9.0', '--prefix-delegation'], 110],
    [['m5.large', '--cni-version', '1.9.0', '--prefix-delegation', '--no-cap'], 434],
    [['m5.large', '--cni-version', '1.8.0', '--prefix-delegation', '--no-cap'], 29],
    [['m5.large', '--cni-version', '1.19.2', '--max-eni', '2'], 20],
    [['m5.large', '--cni-version', '1.19.2', '--prefix-delegation', '--max-eni', '2', '--no-cap'], 290],
    [['m5.large', '--cni-version', '1.19.2', '--custom-networking'], 20],
    [['m5.large', '--cni-version', '1.19.2', '--prefix-delegation', '--custom-networking', '--max-eni', '2', '--no-cap'], 146],
    [['m5.large', '--cni-version', '1.19.2', '--max-eni', '1'], 11],
    [['m5.large', '--cni-version', '1.19.2', '--custom-networking', '--max-eni', '1'], 2],
    [['c5.18xlarge', '--cni-version', '1.19.2'], 250],
    [['c5.18xlarge', '--cni-version', '1.19.2', '--no-cap'], 737],
    [['c5.18xlarge', '--cni-version', '1.19.2', '--max-eni', '4'], 198],
    [['c5.18xlarge', '--cni-version', '1.19.2', '--prefix-delegation', '--max-eni', '4', '--no-cap'], 3138],
    [['m5.24xlarge', '--cni-version', '1.19.2', '--prefix-delegation', '--custom-networking'], 250],
    [['m4.large', '--cni-version', '1.19.2', '--prefix-delegation', '--no-cap'], 20],
    [['t3.nano', '--cni-version', '1.19.2', '--prefix-delegation'], 34],
    [['t3.nano', '--cni-version', '1.8.0', '--prefix-delegation'], 4],
    [['p5.48xlarge', '--cni-version', '1.19.2', '--custom-networking'], 51],
    [['p5.48xlarge', '--cni-version', '1.19.2', '--prefix-delegation', '--max-eni', '1', '--no-cap'], 786],
    [['c6g.2xlarge', '--cni-version', '1.19.2', '--prefix-delegation', '--custom-networking', '--max-eni', '2'], 110],
    [['c6in.32xlarge', '--cni-version', '1.19.2', '--max-eni', '4', '--no-cap'], 198],
    // Bare metal has no Hypervisor: the calculator's IS_NITRO is false, so secondary IPs.
    [['m5.metal', '--cni-version', '1.19.2', '--prefix-delegation', '--max-eni', '2', '--no-cap'], 100],
    [['m5.metal', '--cni-version', '1.19.2', '--prefix-delegation'], 250],
  ])('%j → %i', async (args, expected) => {
    const { code, body } = await json(args);
    expect(code).toBe(0);
    expect(body.instanceTypes[0]?.maxPods).toBe(expected);
  });

  it('echoes the options it used', async () => {
    const { body } = await json(['m5.large', '--max-eni', '2', '--cni-version', 'v1.19.2-eksbuild.1', '--prefix-delegation']);
    expect(body.options).toMatchObject({ prefixDelegation: true, maxEni: 2, cniVersion: 'v1.19.2-eksbuild.1', applyKubeletCap: true });
    expect(body.instanceTypes[0]).toMatchObject({ mode: 'prefix', enisForPods: 2, podIpSlots: 288 });
  });
});

describe('max-pods notes', () => {
  it('a CNI older than 1.9.0 cannot do prefix delegation: secondary-IP figures, and it says so', async () => {
    const { body } = await json(['m5.large', '--prefix-delegation', '--cni-version', '1.8.0']);
    expect(body.instanceTypes[0]).toMatchObject({ maxPods: 29, mode: 'secondary-ip' });
    expect(body.notes).toEqual(['prefix delegation needs VPC CNI 1.9.0 or later: with 1.8.0 every figure is for secondary IPs']);
  });

  it('a type that is not Nitro under --prefix-delegation', async () => {
    const t = io();
    expect(await main(['max-pods', 'm4.large', 'm5.large', '--prefix-delegation'], t.cli)).toBe(0);
    expect(t.out()).toContain('note: m4.large is not a Nitro type: prefix delegation does not apply');
    expect(t.out()).not.toContain('note: m5.large');
  });

  it('a bare-metal type under --prefix-delegation: the calculator\'s figure, and what ipamd does', async () => {
    const { body } = await json(['m5.metal', '--prefix-delegation', '--no-cap']);
    expect(body.instanceTypes[0]).toMatchObject({ maxPods: 737, mode: 'secondary-ip', podIpSlots: 11760 });
    expect(body.instanceTypes[0]?.notes[0]).toContain('m5.metal is bare metal');
  });

  it('--all sums the notes up instead of one a type', async () => {
    const t = io();
    await main(['max-pods', '--all', '--prefix-delegation'], t.cli);
    const notes = t.out().split('\n').filter((l) => l.startsWith('note:'));
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(/^note: \d+ types are not Nitro/);
  });
});

describe('max-pods instance type names', () => {
  it('matches names in any case and prints the canonical name', async () => {
    const { code, body } = await json(['M5.Large', 'C6G.2XLARGE']);
    expect(code).toBe(0);
    expect(body.instanceTypes.map((r) => [r.instanceType, r.maxPods])).toEqual([
      ['m5.large', 29],
      ['c6g.2xlarge', 58],
    ]);
  });

  it('suggests the closest known names for an unknown one', async () => {
    const t = io();
    expect(await main(['max-pods', 'm5.larg', 'm7.large'], t.cli)).toBe(1);
    expect(t.err()).toContain('unknown instance type: m5.larg (not in the bundled DescribeInstanceTypes data; did you mean m5.large, m5.xlarge or m5a.large?)');
    expect(t.err()).toContain('unknown instance type: m7.large (not in the bundled DescribeInstanceTypes data; did you mean m7a.large, m7g.large or m7i.large?)');
    const { body } = await json(['m5.huge']);
    expect(body).toMatchObject({ unknown: ['m5.huge'], suggestions: { 'm5.huge': ['m5.large', 'm5.xlarge', 'm5.2xlarge'] } });
  });
});

describe('max-pods usage errors', () => {
  it.each([
    [['m5.large', '--max-eni', '0'], '--max-eni takes a whole number of ENIs, 1 or more, not "0"'],
    [['m5.large', '--max-eni', 'two'], '--max-eni takes a whole number of ENIs, 1 or more, not "two"'],
    [['m5.large', '--cni-version', 'latest'], '--cni-version: "latest" is not a VPC CNI version'],
  ])('%j', async (args, message) => {
    const t = io();
    expect(await main(['max-pods', ...args], t.cli)).toBe(2);
    expect(t.err()).toContain(message);
  });
});
