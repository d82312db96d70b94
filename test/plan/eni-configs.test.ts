/**
 * planEniConfigsWith: custom networking on small hand-built worlds (test/diagnose/world.ts). Two
 * exhausted pod subnets (eu-west-1a, eu-west-1b), m5.large nodes, allow-listed secondary-CIDR
 * subnets as DescribeSubnets gives them; the Kubernetes view as the reader trims it.
 */
import type { Subnet } from '@aws-sdk/client-ec2';
import { CUSTOM_NETWORKING_ENV, planEniConfigs, planEniConfigsWith } from '../../lib/plan/eni-configs';
import type { EniConfigsChange, PlanContext, ProposedAction } from '../../lib/plan/types';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import type { KubeClusterView } from '../../lib/inventory/kube-types';
import type { CniInstall } from '../../lib/inventory/types';
import { DEFAULT_LEAKED_ENIS_POLICY, type EffectivePolicy, type EniConfigsPolicy } from '../../lib/policy/types';
import { subnet, VPC } from '../measure/builders';
import { AZ_A, AZ_B, managedCni, nodegroup, run, TYPES, World } from '../diagnose/world';

const NOW = new Date('2026-11-26T10:00:00Z');
const SG = 'sg-0123456789abcdef0';

function policyFor(eniConfigs: Partial<EniConfigsPolicy> = {}): EffectivePolicy {
  return {
    cluster: 'prod',
    mode: 'apply',
    thresholds: DEFAULT_THRESHOLDS,
    actions: {
      warmTargets: { allowed: false, cooldownMinutes: 60, warmIpTarget: { min: 2, max: 10 }, minimumIpTarget: { min: 0, max: 64 } },
      prefixDelegation: { allowed: false, cooldownMinutes: 60, warmPrefixTarget: { min: 1, max: 2 }, maxPods: { min: 0, max: 250 } },
      cniSubnets: { allowed: false, cooldownMinutes: 60, spareSubnets: [], maxSubnetsPerAction: 1 },
      instanceTypes: { allowed: false, cooldownMinutes: 60, allowedTypes: [], maxInstanceTypes: 1 },
      leakedEnis: { ...DEFAULT_LEAKED_ENIS_POLICY },
      eniConfigs: { allowed: true, cooldownMinutes: 1440, subnets: ['subnet-pa', 'subnet-pa2', 'subnet-pb'], ...eniConfigs },
    },
  };
}

const kube = (o: Partial<KubeClusterView> = {}): KubeClusterView => ({ readAt: '2026-11-26T09:59:00Z', access: { ok: true }, awsNode: { env: {} }, eniConfigs: [], unread: [], ...o });

/** Two nodes of m5.large in each of two /24 node subnets filled to 10 free: both exhausted. */
function world(o: { cni?: CniInstall; kube?: KubeClusterView | undefined } = {}): PlanContext {
  const w = new World().addSubnet('subnet-a', '10.0.0.0/24', AZ_A).addSubnet('subnet-b', '10.0.1.0/24', AZ_B);
  for (const s of ['subnet-a', 'subnet-b']) for (let i = 0; i < 2; i++) w.node({ cluster: 'prod', nodegroup: 'ng', type: 'm5.large', subnetId: s, enis: [10, 10] });
  w.fillTo('subnet-a', 10).fillTo('subnet-b', 10);
  const inv = w.inventory({
    name: 'prod',
    subnets: [
      ['subnet-a', ['node']],
      ['subnet-b', ['node']],
    ],
    nodegroups: [nodegroup('prod', 'ng', ['m5.large'], ['subnet-a', 'subnet-b'], 4)],
    cni: o.cni ?? managedCni(),
  });
  const inventory = { ...inv, cluster: { ...inv.cluster, resourcesVpcConfig: { ...inv.cluster.resourcesVpcConfig, clusterSecurityGroupId: SG } }, ...('kube' in o ? (o.kube ? { kube: o.kube } : {}) : { kube: kube() }) };
  const { usage, findings } = run(inventory);
  return { usage, inventory, instanceTypes: TYPES, findings, policy: policyFor(), now: NOW };
}

/** The allow-listed subnets: a /19 of 100.64.0.0/16 in each zone, one smaller beside it in 1a. */
const ALLOWED: Subnet[] = [subnet('subnet-pa', '100.64.0.0/19', AZ_A, 8000), subnet('subnet-pa2', '100.64.32.0/22', AZ_A, 1000), subnet('subnet-pb', '100.64.64.0/19', AZ_B, 8100)];

const only = (out: ProposedAction[]): ProposedAction & { change: EniConfigsChange } => {
  expect(out).toHaveLength(1);
  const a = out[0] as ProposedAction;
  if (a.change.type !== 'eni-configs') throw new Error('not an eni-configs change');
  return a as ProposedAction & { change: EniConfigsChange };
};

describe('planEniConfigsWith', () => {
  it('proposes one ENIConfig per zone of the nodes, the roomiest allow-listed subnet each, and the env through the add-on', () => {
    const ctx = world();
    expect(ctx.findings.filter((f) => f.kind === 'subnet-exhaustion').length).toBeGreaterThan(0);
    const a = only(planEniConfigsWith(ctx, ALLOWED));
    expect(a).toMatchObject({ id: `prod/eni-configs/${VPC}`, kind: 'eni-configs', blockers: [] });
    expect(a.change.eniConfigs).toEqual([
      { name: AZ_A, subnet: 'subnet-pa', securityGroups: [SG] },
      { name: AZ_B, subnet: 'subnet-pb', securityGroups: [SG] },
    ]);
    expect(a.change.env).toEqual({ type: 'addon-env', set: CUSTOM_NETWORKING_ENV, previous: { AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: '', ENI_CONFIG_LABEL_DEF: '' }, addonVersion: expect.any(String) });
    // m5.large: 3 ENIs × 10 IPv4; without the primary ENI (3 − 1) × (10 − 1) + 2 = 20, from 29.
    expect(a.change.maxPods).toEqual([{ instanceType: 'm5.large', before: 29, after: 20 }]);
    expect(a.predicted.ipsFreed).toBeUndefined();
    expect(a.predicted.text).toMatch(/give pods 16,100 addresses/);
    expect(a.predicted.text).toMatch(/existing nodes keep their current ENIs until they are replaced/);
    expect(a.predicted.text).toMatch(/max pods drops: m5\.large 29 → 20/);
  });

  it("uses the policy's security groups when it names them", () => {
    const ctx = world();
    ctx.policy = policyFor({ securityGroups: ['sg-0fedcba9876543210'] });
    expect(only(planEniConfigsWith(ctx, ALLOWED)).change.eniConfigs.map((e) => e.securityGroups)).toEqual([['sg-0fedcba9876543210'], ['sg-0fedcba9876543210']]);
  });

  it('sets the env on a self-managed aws-node through the Kubernetes API', () => {
    const a = only(planEniConfigsWith(world({ cni: { kind: 'self-managed' }, kube: kube({ awsNode: { env: { ENI_CONFIG_LABEL_DEF: 'k8s.amazonaws.com/eniConfig' } } }) }), ALLOWED));
    expect(a.change.env).toEqual({ type: 'addon-env', set: CUSTOM_NETWORKING_ENV, previous: { AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: '', ENI_CONFIG_LABEL_DEF: 'k8s.amazonaws.com/eniConfig' }, target: 'aws-node' });
    expect(a.blockers).toEqual([]);
  });

  it.each<[string, () => PlanContext, Subnet[], RegExp]>([
    ['the Kubernetes API is not read', () => world({ kube: undefined }), ALLOWED, /Kubernetes API is not read.*ENIConfigs can be neither read nor applied/],
    ['access is denied', () => world({ kube: kube({ access: { ok: false, reason: 'forbidden', detail: '403 on every read', fix: 'bind the ClusterRole' } }) }), ALLOWED, /cannot be reached \(forbidden: 403 on every read\); fix: bind the ClusterRole/],
    ['the ENIConfig CRD is absent', () => world({ kube: kube({ eniConfigs: null }) }), ALLOWED, /ENIConfig CRD \(eniconfigs\.crd\.k8s\.amazonaws\.com\) is not installed/],
    ['an ENIConfig of the name has another spec', () => world({ kube: kube({ eniConfigs: [{ name: AZ_A, subnet: 'subnet-other', securityGroups: [SG] }] }) }), ALLOWED, /ENIConfig eu-west-1a exists with subnet subnet-other.*never overwritten/],
    ['ENIConfigs of other subnets exist', () => world({ kube: kube({ eniConfigs: [{ name: 'pods-a', subnet: 'subnet-other' }] }) }), ALLOWED, /ENIConfig pods-a \(subnet subnet-other\) exists already: custom networking is the operator's here/],
    ['a zone has no usable allow-listed subnet', () => world(), ALLOWED.filter((s) => s.AvailabilityZone === AZ_A), /no allow-listed subnet \(actions\.eniConfigs\.subnets\) in eu-west-1b, where nodes run/],
    ['the subnet there is in another VPC', () => world(), [...ALLOWED.slice(0, 2), { ...subnet('subnet-pb', '100.64.64.0/19', AZ_B, 8100), VpcId: 'vpc-0ffffffffffffffff' }], /in eu-west-1b, where nodes run/],
    ['the subnet there is too small for the pods the zone holds', () => world(), [...ALLOWED.slice(0, 2), subnet('subnet-pb', '100.64.64.0/28', AZ_B, 11)], /in eu-west-1b, where nodes run/],
    ['a self-managed aws-node cannot be read', () => world({ cni: { kind: 'self-managed' }, kube: kube({ awsNode: null }) }), ALLOWED, /^self-managed aws-node: run the command; kube-system\/aws-node does not exist/],
  ])('blocks when %s', (_case, make, subnets, blocker) => {
    const a = only(planEniConfigsWith(make(), subnets));
    expect(a.blockers).toEqual(expect.arrayContaining([expect.stringMatching(blocker)]));
  });

  it("says that Karpenter's nodes keep the max pods of every ENI unless reservedENIs or kubelet.maxPods is set, naming the node classes", () => {
    const pool = (name: string, nodeClass: string) => ({ name, nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: nodeClass }, requirements: [] });
    const karpenter = {
      nodePools: [pool('general', 'default'), pool('batch', 'capped')],
      nodeClasses: [
        { name: 'default', subnetSelectorTerms: [{ tags: { 'karpenter.sh/discovery': 'prod' } }] },
        { name: 'capped', subnetSelectorTerms: [{ tags: { 'karpenter.sh/discovery': 'prod' } }], kubeletMaxPods: 20 },
      ],
    };
    const text = only(planEniConfigsWith(world({ kube: kube({ karpenter }) }), ALLOWED)).predicted.text;
    expect(text).toMatch(/Karpenter gives the nodes of EC2NodeClass default max pods from all their ENIs unless its reservedENIs setting is 1/);
    expect(text).not.toMatch(/EC2NodeClass .*capped/);
    // Without Karpenter, no such sentence.
    expect(only(planEniConfigsWith(world(), ALLOWED)).predicted.text).not.toMatch(/Karpenter/);
  });

  it('names why an allow-listed subnet was not used', () => {
    const a = only(planEniConfigsWith(world(), [...ALLOWED.slice(0, 2), { ...subnet('subnet-pb', '100.64.64.0/19', AZ_B, 8100), VpcId: 'vpc-0ffffffffffffffff' }]));
    expect(a.predicted.text).toMatch(new RegExp(`Not used: subnet-pb is in vpc-0ffffffffffffffff, not the cluster's ${VPC}`));
  });

  it.each<[string, () => PlanContext, Subnet[] | undefined]>([
    ['the policy does not allow it', () => ({ ...world(), policy: policyFor({ allowed: false }) }), ALLOWED],
    ['the allow-listed subnets were not read', () => world(), undefined],
    ['no pod subnet is exhausted', () => ({ ...world(), findings: [] }), ALLOWED],
    ['the cluster is IPv6', () => {
      const ctx = world();
      return { ...ctx, usage: { ...ctx.usage, network: { ...(ctx.usage.network as NonNullable<typeof ctx.usage.network>), ipFamily: 'ipv6' } } };
    }, ALLOWED],
    ['the cluster is EKS Auto Mode', () => {
      const ctx = world();
      return { ...ctx, usage: { ...ctx.usage, network: { ...(ctx.usage.network as NonNullable<typeof ctx.usage.network>), autoMode: true } } };
    }, ALLOWED],
    ['custom networking is in place already', () =>
      world({
        cni: managedCni(CUSTOM_NETWORKING_ENV),
        kube: kube({ eniConfigs: [{ name: AZ_A, subnet: 'subnet-pa', securityGroups: [SG] }, { name: AZ_B, subnet: 'subnet-pb', securityGroups: [SG] }] }),
      }), ALLOWED],
  ])('proposes nothing when %s', (_case, make, subnets) => {
    expect(planEniConfigsWith(make(), subnets)).toEqual([]);
  });

  it('proposes nothing without the subnets read (the planner remediate.ts replaces)', () => {
    expect(planEniConfigs(world())).toEqual([]);
  });

  it('proposes again when the ENIConfigs exist but the env is not set yet (a stop between the two steps)', () => {
    const a = only(
      planEniConfigsWith(world({ kube: kube({ eniConfigs: [{ name: AZ_A, subnet: 'subnet-pa', securityGroups: [SG] }, { name: AZ_B, subnet: 'subnet-pb', securityGroups: [SG] }] }) }), ALLOWED),
    );
    expect(a.blockers).toEqual([]);
  });
});
