/**
 * A cluster with Karpenter for the karpenter-pool finding and the Karpenter planners: subnets
 * in two AZs built with test/diagnose/world.ts (real addresses, AvailableIpAddressCount computed),
 * nodes of NodePool `default` tagged as Karpenter tags its instances, and the Kubernetes view
 * (KubeClusterView) with the NodePool and its EC2NodeClass.
 */
import type { InstanceTypeInfo } from '@aws-sdk/client-ec2';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import type { KarpenterNodeClass, KarpenterNodePool, KubeClusterView, KubeRequirement } from '../../lib/inventory/kube-types';
import type { ClusterInventory, Subnet } from '../../lib/inventory/types';
import type { PlanContext } from '../../lib/plan/types';
import { DEFAULT_LEAKED_ENIS_POLICY, type EffectivePolicy, type KarpenterInstanceTypesPolicy, type KarpenterSubnetsPolicy } from '../../lib/policy/types';
import { AZ_A, AZ_B, managedCni, run, World } from '../diagnose/world';
import { instanceTypes, subnet, VPC } from '../measure/builders';

export const CLUSTER = 'prod';
export const NOW = new Date('2026-12-03T10:00:00Z');
/** Node subnets of the pool: A (eu-west-1a, filled to `free`), B (eu-west-1b, roomy). */
export const SUB_A = 'subnet-0a0a0a0a0a0a0a0a1';
export const SUB_B = 'subnet-0b0b0b0b0b0b0b0b1';
/** An allow-listed subnet with room in eu-west-1a, not selected by the node class. */
export const SPARE_A = 'subnet-0c0c0c0c0c0c0c0c1';
export const TYPES: Record<string, InstanceTypeInfo> = instanceTypes('m5.large', 'm5.xlarge', 'm5.2xlarge', 'm5.4xlarge');

export interface KarpenterClusterOptions {
  free?: number;
  requirements?: KubeRequirement[];
  nodeClass?: Partial<KarpenterNodeClass>;
  /** Override the Kubernetes view (access failed, Karpenter absent, parts unread). */
  kube?: Partial<KubeClusterView>;
  prefixDelegation?: boolean;
}

export const SIZES_SMALL: KubeRequirement[] = [
  { key: 'karpenter.k8s.aws/instance-family', operator: 'In', values: ['m5'] },
  { key: 'karpenter.k8s.aws/instance-size', operator: 'In', values: ['large', 'xlarge', '2xlarge'] },
  { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
];

export function karpenterCluster(o: KarpenterClusterOptions = {}): { inventory: ClusterInventory; ctx: (p: EffectivePolicy) => PlanContext; spare: Subnet } {
  const w = new World().addSubnet(SUB_A, '10.0.1.0/24', AZ_A).addSubnet(SUB_B, '10.0.2.0/24', AZ_B);
  const a1 = w.node({ cluster: CLUSTER, nodegroup: 'x', type: 'm5.large', subnetId: SUB_A, enis: [10, 10] });
  const a2 = w.node({ cluster: CLUSTER, nodegroup: 'x', type: 'm5.large', subnetId: SUB_A, enis: [10] });
  const b1 = w.node({ cluster: CLUSTER, nodegroup: 'x', type: 'm5.large', subnetId: SUB_B, enis: [10] });
  // Karpenter's instance tags instead of a managed nodegroup's.
  for (const x of w.instances) {
    if ([a1, a2, b1].includes(x.instance.InstanceId ?? '')) {
      x.instance.Tags = [
        { Key: 'karpenter.sh/nodepool', Value: 'default' },
        { Key: `kubernetes.io/cluster/${CLUSTER}`, Value: 'owned' },
        { Key: 'karpenter.k8s.aws/ec2nodeclass', Value: 'default' },
      ];
    }
  }
  w.fillTo(SUB_A, o.free ?? 10);
  const base = w.inventory({
    name: CLUSTER,
    subnets: [
      [SUB_A, ['node']],
      [SUB_B, ['node']],
    ],
    cni: managedCni(o.prefixDelegation ? { ENABLE_PREFIX_DELEGATION: 'true' } : { WARM_IP_TARGET: '5' }),
  });
  const tagged = (s: Subnet): Subnet => ({ ...s, Tags: [...(s.Tags ?? []), { Key: 'karpenter.sh/discovery', Value: CLUSTER }] });
  const nodePool: KarpenterNodePool = {
    name: 'default',
    nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: 'default' },
    requirements: o.requirements ?? SIZES_SMALL,
    resourceVersion: '41',
  };
  const nodeClass: KarpenterNodeClass = {
    name: 'default',
    subnetSelectorTerms: [{ tags: { 'karpenter.sh/discovery': CLUSTER } }],
    resolvedSubnets: [
      { id: SUB_A, zone: AZ_A },
      { id: SUB_B, zone: AZ_B },
    ],
    resourceVersion: '7',
    ...o.nodeClass,
  };
  const kube: KubeClusterView = {
    readAt: NOW.toISOString(),
    access: { ok: true },
    karpenter: { nodePools: [nodePool], nodeClasses: [nodeClass] },
    unread: [],
    ...o.kube,
  };
  const inventory: ClusterInventory = { ...base, subnets: base.subnets.map(tagged), kube };
  const { usage, findings } = run(inventory, {}, TYPES);
  const spare: Subnet = { ...subnet(SPARE_A, '100.64.0.0/22', AZ_A, 1019), VpcId: VPC };
  return { inventory, spare, ctx: (p) => ({ usage, inventory, instanceTypes: TYPES, findings, policy: p, now: NOW }) };
}

export function karpenterPolicy(o: { subnets?: Partial<KarpenterSubnetsPolicy>; types?: Partial<KarpenterInstanceTypesPolicy>; mode?: EffectivePolicy['mode'] } = {}): EffectivePolicy {
  return {
    cluster: CLUSTER,
    mode: o.mode ?? 'apply',
    thresholds: DEFAULT_THRESHOLDS,
    actions: {
      warmTargets: { allowed: false, cooldownMinutes: 60, warmIpTarget: { min: 1, max: 16 }, minimumIpTarget: { min: 0, max: 64 } },
      prefixDelegation: { allowed: false, cooldownMinutes: 60, warmPrefixTarget: { min: 0, max: 2 }, maxPods: { min: 10, max: 110 } },
      cniSubnets: { allowed: false, cooldownMinutes: 60, spareSubnets: [], maxSubnetsPerAction: 2 },
      instanceTypes: { allowed: false, cooldownMinutes: 60, allowedTypes: [], maxInstanceTypes: 3 },
      leakedEnis: { ...DEFAULT_LEAKED_ENIS_POLICY },
      karpenterSubnets: { allowed: true, cooldownMinutes: 1440, subnets: [SPARE_A], nodeClasses: ['default'], ...o.subnets },
      karpenterInstanceTypes: { allowed: true, cooldownMinutes: 1440, nodePools: ['default'], maxCapacityIncreasePercent: 100, ...o.types },
    },
  };
}
