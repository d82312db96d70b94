/**
 * Writes `events/demo-snapshot/`, the snapshot that ships with the project and that `npm start`
 * reports on, from the synthetic-account generator with a fixed seed and a hand-set scenario.
 *
 *   npx tsx scripts/make-demo-snapshot.ts [dir]
 *
 * The scenario, region eu-west-1, 55 nodes in six clusters (38 in the first two), one finding of every kind `diagnose` knows:
 * - `payments-prod`, EKS 1.31, managed vpc-cni v1.19.2 with WARM_IP_TARGET=5 / MINIMUM_IP_TARGET=10
 *   (secondary IPs). Its private /24 in eu-west-1a is down to 7 free addresses; a /19 on the
 *   100.64.0.0/16 secondary CIDR in the same AZ is tagged `kubernetes.io/role/cni` and unused
 *   (the relief CNI subnet discovery would use); its /23 in eu-west-1b shows 12 addresses held
 *   by ENIs this account cannot see (the VPC is shared through RAM). Two m5.large nodes are at
 *   their ENI limit with every IP in use. A NAT gateway, two ALB ENIs, VPC endpoints and Lambda
 *   ENIs share its subnets with the nodes and the EKS control-plane ENIs.
 * - `batch-dev`, EKS 1.30, managed vpc-cni v1.18.6 with ENABLE_PREFIX_DELEGATION=true /
 *   WARM_PREFIX_TARGET=1: its r6i and spot m5 nodes hold /28 prefixes; a t3.medium nodegroup
 *   launched before prefix delegation was turned on still uses secondary IPs, one node at its limit.
 *   Two subnets in eu-west-1c, not among the cluster's own (added for nodegroups later):
 *   - a /23 for the prefix-mode `etl-c6g` nodes (20 /28 prefixes), whose free space is scattered by
 *     eight Lambda ENIs (one address in each of eight /28s): 176 addresses free, only 2 aligned /28
 *     blocks (prefix-fragmentation).
 *   - a /25 for `legacy-m4`: m4.xlarge is not Nitro, so ipamd falls back to secondary IPs, and with
 *     WARM_ENI_TARGET at its default of 1 each node keeps a whole spare ENI (14 IPs): 32 free, and
 *     at least 42 of the 91 used addresses are idle in warm pools (ips-held-by-others; the /25 is
 *     also nearly full and too small for prefixes).
 *   The /25 is tagged `kubernetes.io/role/cni=0`, which v1.18.6 reads as an opt-in (the tag key
 *   alone counts before 1.22), and payments-prod's 100.64 subnet carries the cluster-scoped tag
 *   `cni.networking.k8s.aws/cluster/payments-prod`: the report's discovery section explains both.
 *   They were added after the rest, on PRNG stream 1 (`stream: 1`): every id of the first 32
 *   nodes, their subnets and ENIs stays what the sample events in `events/*.json` refer to.
 * - The network preflight: payments-prod's VPC has DNS hostnames off (vpc-dns); batch-dev's
 *   `private-d` has no default route and its VPC no ecr.dkr endpoint (node-egress). Their ids are
 *   derived from the VPC id, so no other id changed.
 *
 * - `search-auto` (EKS Auto Mode: NodePools general-purpose and system, no vpc-cni add-on),
 *   `events-karpenter` (a Karpenter NodePool `default` whose m5.large nodes are at their ENI limit,
 *   beside a managed nodegroup) and `ml-ipv6` (IPv6: one IPv4 per node; its /27 is short of IPv4 for
 *   new nodes), on PRNG streams 71-73.
 *
 * - Region-level limits: the ENI quota at its AWS default (5,000), every ENI of the
 *   account in the region-wide file, and payments-prod's VPC at 54,000 NAU units by its metric
 *   (network-address-usage, a warning).
 *
 * - In payments-prod's private-c, four leaked ENIs of the VPC CNI hold addresses for
 *   instances that are gone (leaked-enis).
 * - `events-consumers` (stream 74) lives in events-karpenter's VPC; its two nodes and two
 *   control-plane ENIs are in events-karpenter's `private-b`, a subnet shared by the two.
 *
 * Every number is consistent: each subnet's AvailableIpAddressCount is its usable addresses
 * (2^(32 − prefix) − 5) minus what its ENIs hold (IPs + 16 per /28), minus the 12 invisible
 * addresses in the one shared subnet. `test/inventory/snapshot.test.ts` checks it.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  buildAccount,
  writeSyntheticSnapshot,
  type AccountSpec,
  type SyntheticAccount,
} from '../tools/synthetic-account';
import { writeKubernetesSnapshot, type KubeClusterSpec } from '../tools/synthetic-kube';

/** The demo scenario. Change it here, run the script, and commit the regenerated files. */
export const demoSpec: AccountSpec = {
  seed: 20261126,
  region: 'eu-west-1',
  accountId: '111122223333',
  capturedAt: '2026-11-26T10:00:00Z',
  enisPerNode: 2,
  // The ENIs-per-Region quota at its AWS default (no applied value), and payments-prod's
  // VPC, shared with other teams' workloads, reporting 54,000 Network Address Usage units (84 % of
  // 64,000) and 71,000 with its peered VPCs: a network-address-usage warning.
  quotas: { 'vpc/L-DF5E4CA3': { awsDefault: 5000 } },
  nauMetrics: { 'payments-prod': { usage: 54000, peered: 71000 } },
  clusters: [
    {
      name: 'payments-prod',
      version: '1.31',
      mode: 'secondary',
      addon: {
        version: 'v1.19.2-eksbuild.1',
        configurationValues: { env: { WARM_IP_TARGET: '5', MINIMUM_IP_TARGET: '10' } },
      },
      endpointPublicAccess: false,
      // The network preflight (vpc-dns): DNS hostnames off, so the private endpoint does not resolve.
      network: { dnsHostnames: false },
      subnets: [
        { name: 'private-a', az: 0, cidr: '10.20.0.0/24', controlPlaneEnis: 2, others: ['vpc-endpoint', 'lambda'], available: 7 },
        { name: 'private-b', az: 1, cidr: '10.20.2.0/23', controlPlaneEnis: 2, others: ['vpc-endpoint', 'lambda'], unaccounted: 12 },
        {
          name: 'private-c',
          az: 2,
          cidr: '10.20.4.0/22',
          others: ['vpc-endpoint'],
          // ENIs the VPC CNI left behind: two of this cluster's nodes that are gone (one
          // still answered terminated, one no longer known), one made 15 minutes ago (too young to
          // delete), and one of `payments-old`, a cluster deleted long ago. On their own streams.
          leakedEnis: [
            { instance: 'terminated', ips: 10, ageHours: 30, stream: 0x41 },
            { instance: 'missing', ips: 6, ageHours: 52, stream: 0x42 },
            { instance: 'missing', ips: 1, ageHours: 0.25, stream: 0x43 },
            { instance: 'missing', ips: 4, ageHours: 400, clusterTag: 'payments-old', stream: 0x44 },
          ],
        },
        {
          name: 'public-a',
          az: 0,
          cidr: '10.20.8.0/24',
          tags: { 'kubernetes.io/role/elb': '1' },
          others: ['nat-gateway', 'load-balancer', 'load-balancer'],
        },
        {
          name: 'cni-a',
          az: 0,
          cidr: '100.64.0.0/19',
          inCluster: false,
          // Reserved to this cluster for the CNI 1.22.1+ (cni.networking.k8s.aws/cluster/<name>);
          // v1.19 reads only the role key (lib/measure/cni-discovery.ts).
          tags: { 'kubernetes.io/role/cni': '1', 'cni.networking.k8s.aws/cluster/payments-prod': 'shared' },
        },
      ],
      nodegroups: [
        {
          name: 'general-m5xl',
          instanceTypes: ['m5.xlarge'],
          nodes: 6,
          subnets: ['private-a', 'private-b', 'private-c'],
          labels: { workload: 'general' },
        },
        {
          name: 'api-m5l',
          instanceTypes: ['m5.large'],
          nodes: 10,
          subnets: ['private-a', 'private-b'],
          atEniLimit: 2,
          labels: { workload: 'api' },
        },
        {
          name: 'arm-c6g',
          instanceTypes: ['c6g.2xlarge'],
          nodes: 4,
          subnets: ['private-b', 'private-c'],
          labels: { workload: 'ledger' },
        },
      ],
    },
    {
      name: 'batch-dev',
      version: '1.30',
      mode: 'prefix',
      addon: {
        version: 'v1.18.6-eksbuild.1',
        configurationValues: { env: { ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: '1' } },
      },
      // The network preflight (node-egress): legacy-m4's /25 is on a route table with no default
      // route, and the VPC has the ec2, ecr.api, s3 and sts endpoints but not ecr.dkr.
      network: { noEgress: ['private-d'], endpoints: ['ec2', 'ecr.api', 's3', 'sts'] },
      subnets: [
        { name: 'private-a', az: 0, cidr: '10.30.0.0/20', controlPlaneEnis: 2, others: ['vpc-endpoint'] },
        { name: 'private-b', az: 1, cidr: '10.30.16.0/20', controlPlaneEnis: 2, others: ['lambda', 'load-balancer'] },
        // Added after the rest, on a PRNG stream of their own (with etl-c6g and legacy-m4): every id
        // generated before stays the same.
        {
          name: 'private-c',
          az: 2,
          cidr: '10.30.32.0/23',
          inCluster: false,
          fragmentFreeBlocksTo: 2,
          fragmentedBy: 'lambda',
          stream: 1,
        },
        // Tagged kubernetes.io/role/cni=0 to keep pods out: v1.18.6 reads only the key, so the tag
        // excludes nothing before 1.22 (the report's discovery section says so).
        {
          name: 'private-d',
          az: 2,
          cidr: '10.30.34.0/25',
          inCluster: false,
          others: ['vpc-endpoint'],
          tags: { 'kubernetes.io/role/cni': '0' },
          stream: 1,
        },
        // Subnet CIDR reservations, on a stream of its own: a CNI-discovery /23 with an
        // explicit /27 (kept for appliances) and a prefix /25 that nobody uses yet. Their 160
        // unused addresses are out of AvailableIpAddressCount: the report shows them as Reserved,
        // not as used by others.
        {
          name: 'pods-e',
          az: 1,
          cidr: '10.30.36.0/23',
          inCluster: false,
          tags: { 'kubernetes.io/role/cni': '1' },
          reservations: [
            { type: 'prefix', prefixLength: 25, description: 'prefixes for the VPC CNI' },
            { type: 'explicit', prefixLength: 27, description: 'appliances' },
          ],
          stream: 2,
        },
      ],
      nodegroups: [
        { name: 'batch-r6i', instanceTypes: ['r6i.4xlarge'], nodes: 3, subnets: ['private-a', 'private-b'] },
        {
          name: 'spot-mixed',
          instanceTypes: ['m5.large', 'm5.xlarge'],
          nodes: 5,
          subnets: ['private-a', 'private-b'],
          capacityType: 'SPOT',
        },
        {
          name: 'legacy-t3',
          instanceTypes: ['t3.medium'],
          nodes: 4,
          subnets: ['private-b', 'private-a'],
          mode: 'secondary',
          atEniLimit: 1,
          enis: 2,
        },
        { name: 'etl-c6g', instanceTypes: ['c6g.2xlarge'], nodes: 3, subnets: ['private-c'], labels: { workload: 'etl' }, stream: 1 },
        // m4 is not Nitro: ipamd falls back to secondary IPs, and WARM_ENI_TARGET=1 (the default)
        // keeps a whole spare ENI on every node.
        {
          name: 'legacy-m4',
          instanceTypes: ['m4.xlarge'],
          nodes: 3,
          subnets: ['private-d'],
          mode: 'secondary',
          enis: 2,
          fullEnis: true,
          labels: { workload: 'reports' },
          stream: 1,
        },
      ],
    },
    // Auto Mode, Karpenter and IPv6 clusters, each on a PRNG stream of its own (71-73) with fixed CIDRs: every
    // id generated before stays the same.
    {
      // EKS Auto Mode: no vpc-cni add-on; EKS gives the pods /28 prefixes; nodes tagged by NodePool.
      name: 'search-auto',
      version: '1.32',
      mode: 'prefix',
      autoMode: true,
      stream: 71,
      subnets: [
        { name: 'private-a', az: 0, cidr: '10.71.0.0/22', controlPlaneEnis: 2, others: ['vpc-endpoint'] },
        { name: 'private-b', az: 1, cidr: '10.71.4.0/22', controlPlaneEnis: 2 },
      ],
      nodegroups: [
        { name: 'general-purpose', instanceTypes: ['m5.xlarge'], nodes: 3, subnets: ['private-a', 'private-b'], launcher: 'auto-mode' },
        { name: 'system', instanceTypes: ['c6g.2xlarge'], nodes: 2, subnets: ['private-a', 'private-b'], launcher: 'auto-mode' },
      ],
    },
    {
      // Karpenter beside a managed nodegroup: its NodePool `default` runs m5.large nodes at their ENI limit.
      name: 'events-karpenter',
      version: '1.31',
      mode: 'secondary',
      addon: { version: 'v1.19.2-eksbuild.1', configurationValues: { env: { WARM_IP_TARGET: '4', MINIMUM_IP_TARGET: '8' } } },
      stream: 72,
      subnets: [
        { name: 'private-a', az: 0, cidr: '10.72.0.0/23', controlPlaneEnis: 2, others: ['nat-gateway'] },
        { name: 'private-b', az: 1, cidr: '10.72.2.0/23', controlPlaneEnis: 2 },
      ],
      nodegroups: [
        { name: 'system', instanceTypes: ['m5.xlarge'], nodes: 2, subnets: ['private-a', 'private-b'] },
        { name: 'default', instanceTypes: ['m5.large'], nodes: 4, subnets: ['private-a', 'private-b'], atEniLimit: 3, launcher: 'karpenter' },
      ],
    },
    {
      // IPv6: pods take IPv6 from a /80 per node; the nodes' /27 is short of IPv4 for new nodes.
      name: 'ml-ipv6',
      version: '1.31',
      mode: 'prefix',
      ipFamily: 'ipv6',
      addon: { version: 'v1.19.2-eksbuild.1', configurationValues: { env: { ENABLE_PREFIX_DELEGATION: 'true' } } },
      stream: 73,
      subnets: [
        // Lambda functions share the nodes' small subnet: 13 of its 27 addresses are theirs.
        { name: 'private-a', az: 0, cidr: '10.73.0.0/27', controlPlaneEnis: 1, others: ['vpc-endpoint', ...Array<'lambda'>(13).fill('lambda')] },
        { name: 'private-b', az: 1, cidr: '10.73.1.0/24', controlPlaneEnis: 1 },
      ],
      nodegroups: [{ name: 'workers', instanceTypes: ['m6i.xlarge'], nodes: 4, subnets: ['private-a', 'private-b'] }],
    },
    {
      // A subnet shared by two clusters, on a PRNG stream of its own (74): a cluster in events-karpenter's VPC
      // whose nodes and control-plane ENIs are in events-karpenter's private-b, which both clusters'
      // reports split into each one's share.
      name: 'events-consumers',
      version: '1.31',
      mode: 'secondary',
      addon: { version: 'v1.19.2-eksbuild.1' },
      stream: 74,
      subnets: [],
      sharedSubnets: [
        { cluster: 'events-karpenter', subnet: 'private-a', inCluster: true },
        { cluster: 'events-karpenter', subnet: 'private-b', inCluster: true, controlPlaneEnis: 2 },
      ],
      nodegroups: [{ name: 'consumers', instanceTypes: ['m5.large'], nodes: 2, subnets: ['events-karpenter/private-b'] }],
    },
  ],
};

/**
 * The Kubernetes part (`kubernetes/<cluster>/`, RAW API shapes; tools/synthetic-kube.ts).
 * - payments-prod: every node but one arm-c6g node (launched, not registered yet) has its Node
 *   and pods (5 warm addresses a node, as WARM_IP_TARGET=5 keeps; all in use at the ENI limit); a
 *   general-m5xl node in the scarce private-a has 3 pods failing IP assignment 2 minutes ago
 *   (pods-failing-ip, cause: the subnet), and an arm-c6g node one 50 minutes ago (outside the window).
 * - events-karpenter: NodePool `default` allows only medium and large sizes; its EC2NodeClass sets
 *   kubelet maxPods 58 where an m5.large's IPs serve 29 (max-pods-mismatch, critical: the nodes are
 *   at their limit and one has 2 pods failing); status.subnets names the cluster's two subnets.
 *   NodePool `batch` (no node yet) allows only c5 and c6i in large and xlarge sizes with max pods left
 *   to Karpenter: every type it allows is capped by its ENIs (karpenter-pool).
 * - batch-dev: authentication mode CONFIG_MAP, so its API is not read (access.json).
 * The other clusters have no kubernetes/ directory: not read.
 */
export function demoKubernetes(account: SyntheticAccount): KubeClusterSpec[] {
  const subnet = (name: string) => {
    const s = account.subnets.find((x) => x.Tags?.some((t) => t.Key === 'Name' && t.Value === name));
    if (!s?.SubnetId) throw new Error(`no subnet ${name} in the demo`);
    return { id: s.SubnetId, zone: s.AvailabilityZone ?? '', zoneID: s.AvailabilityZoneId ?? '' };
  };
  const karpenterSubnets = [subnet('events-karpenter-private-a'), subnet('events-karpenter-private-b')];
  return [
    {
      cluster: 'payments-prod',
      warmPerNode: 5,
      namespaces: { 'general-m5xl': 'shop', 'api-m5l': 'api', 'arm-c6g': 'ledger' },
      notRegistered: { nodegroup: 'arm-c6g', subnet: 'private-c' },
      failures: [
        { nodegroup: 'general-m5xl', subnet: 'private-a', pods: 3, minutesAgo: 2, count: 7, namespace: 'shop' },
        { nodegroup: 'arm-c6g', subnet: 'private-b', pods: 1, minutesAgo: 50, count: 2, namespace: 'ledger' },
      ],
    },
    {
      cluster: 'events-karpenter',
      warmPerNode: 4,
      maxPods: { default: 58 },
      namespaces: { system: 'kube-system', default: 'events' },
      failures: [{ nodegroup: 'default', subnet: 'private-a', pods: 2, minutesAgo: 1, count: 4, namespace: 'events' }],
      karpenter: {
        nodePools: [
          {
            apiVersion: 'karpenter.sh/v1',
            kind: 'NodePool',
            metadata: { name: 'default', uid: '5b0f6c1e-2d7a-4e39-9a41-7c2e8d9f0a13', resourceVersion: '39881204', generation: 3 },
            spec: {
              template: {
                spec: {
                  nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: 'default' },
                  // Only medium and large sizes: types whose ENIs cap them at 17-29 pods (secondary IPs).
                  requirements: [
                    { key: 'karpenter.k8s.aws/instance-category', operator: 'In', values: ['m', 'c'] },
                    { key: 'karpenter.k8s.aws/instance-size', operator: 'In', values: ['medium', 'large'] },
                    { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
                    { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
                  ],
                  expireAfter: '720h',
                },
              },
              limits: { cpu: '64' },
              disruption: { consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: '1m' },
            },
            status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', lastTransitionTime: '2026-11-02T08:00:00Z' }], resources: { cpu: '8', nodes: '4', pods: '232' } },
          },
          {
            // No node yet; its node class leaves max pods to Karpenter, so every type it allows is
            // capped by its ENIs below what its vCPUs carry (karpenter-pool, instance types).
            apiVersion: 'karpenter.sh/v1',
            kind: 'NodePool',
            metadata: { name: 'batch', uid: '9c3e1f27-4b8d-4a06-8e5f-2d7b9a1c6e40', resourceVersion: '39881377', generation: 1 },
            spec: {
              template: {
                spec: {
                  nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: 'batch' },
                  requirements: [
                    { key: 'karpenter.k8s.aws/instance-family', operator: 'In', values: ['c5', 'c6i'] },
                    { key: 'karpenter.k8s.aws/instance-size', operator: 'In', values: ['large', 'xlarge'] },
                    { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
                  ],
                },
              },
              limits: { cpu: '32' },
            },
            status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', lastTransitionTime: '2026-11-20T08:00:00Z' }], resources: { cpu: '0', nodes: '0', pods: '0' } },
          },
        ],
        nodeClasses: [
          {
            apiVersion: 'karpenter.k8s.aws/v1',
            kind: 'EC2NodeClass',
            metadata: { name: 'default', uid: '0e6d2a9b-8f31-4c57-b2d4-61a9e3f7c508', resourceVersion: '39881190', generation: 2 },
            spec: {
              amiSelectorTerms: [{ alias: 'al2023@latest' }],
              role: 'KarpenterNodeRole-events-karpenter',
              subnetSelectorTerms: karpenterSubnets.map((s) => ({ id: s.id })),
              securityGroupSelectorTerms: [{ tags: { 'karpenter.sh/discovery': 'events-karpenter' } }],
              // Above the 29 pods an m5.large's addresses serve (Karpenter v1: kubelet settings live here).
              kubelet: { maxPods: 58 },
            },
            status: {
              subnets: karpenterSubnets,
              conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', lastTransitionTime: '2026-11-02T08:00:00Z' }],
            },
          },
          {
            apiVersion: 'karpenter.k8s.aws/v1',
            kind: 'EC2NodeClass',
            metadata: { name: 'batch', uid: '4f8a2c61-7e3b-4d95-a0c8-3b6e1d9f2a57', resourceVersion: '39881360', generation: 1 },
            spec: {
              amiSelectorTerms: [{ alias: 'al2023@latest' }],
              role: 'KarpenterNodeRole-events-karpenter',
              subnetSelectorTerms: [{ tags: { 'karpenter.sh/discovery': 'events-karpenter' } }],
              securityGroupSelectorTerms: [{ tags: { 'karpenter.sh/discovery': 'events-karpenter' } }],
            },
            status: {
              subnets: karpenterSubnets,
              conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', lastTransitionTime: '2026-11-20T08:00:00Z' }],
            },
          },
        ],
      },
    },
    {
      cluster: 'batch-dev',
      warmPerNode: 0,
      access: {
        ok: false,
        reason: 'authentication-mode',
        detail: 'accessConfig.authenticationMode is CONFIG_MAP: access entries cannot be used',
        fix: 'aws eks update-cluster-config --name batch-dev --access-config authenticationMode=API_AND_CONFIG_MAP, then redeploy with the cluster in kubernetesClusters',
      },
    },
  ];
}

/** One line per subnet and per notable node, for the person who regenerates the demo. */
export function describeDemo(account: SyntheticAccount): string[] {
  const lines: string[] = [];
  const limits = new Map(account.instanceTypes.map((t) => [t.InstanceType, t.NetworkInfo]));
  for (const subnet of account.subnets) {
    const name = subnet.Tags?.find((t) => t.Key === 'Name')?.Value;
    lines.push(`subnet ${subnet.SubnetId} ${name} ${subnet.CidrBlock} ${subnet.AvailabilityZone}: ${subnet.AvailableIpAddressCount} free`);
  }
  const enisByInstance = new Map<string, typeof account.networkInterfaces>();
  for (const eni of account.networkInterfaces) {
    const id = eni.Attachment?.InstanceId;
    if (id !== undefined) enisByInstance.set(id, [...(enisByInstance.get(id) ?? []), eni]);
  }
  for (const instance of account.instances) {
    // Terminated instances (named by leaked ENIs) are no nodes.
    if (instance.State?.Name === 'terminated') continue;
    const enis = enisByInstance.get(instance.InstanceId ?? '') ?? [];
    const info = limits.get(instance.InstanceType);
    const ips = enis.reduce((n, e) => n + (e.PrivateIpAddresses?.length ?? 0), 0);
    const prefixes = enis.reduce((n, e) => n + (e.Ipv4Prefixes?.length ?? 0), 0);
    const full =
      enis.length === info?.MaximumNetworkInterfaces &&
      enis.every((e) => (e.PrivateIpAddresses?.length ?? 0) + (e.Ipv4Prefixes?.length ?? 0) === info.Ipv4AddressesPerInterface);
    const tagOf = (key: string) => instance.Tags?.find((t) => t.Key === key)?.Value;
    const ng = tagOf('eks:nodegroup-name') ?? tagOf('karpenter.sh/nodepool') ?? tagOf('eks:kubernetes-node-pool-name');
    lines.push(
      `node ${instance.InstanceId} ${ng} ${instance.InstanceType} ${instance.PrivateIpAddress}: ${enis.length}/${info?.MaximumNetworkInterfaces} ENIs, ${ips} IPs` +
        (prefixes > 0 ? `, ${prefixes} /28 prefixes` : '') +
        (full ? ' — AT ENI LIMIT' : ''),
    );
  }
  return lines;
}

async function main(): Promise<void> {
  const dir = process.argv[2] ?? path.join(__dirname, '..', 'events', 'demo-snapshot');
  const account = buildAccount(demoSpec);
  // The directory is generated output: replace it whole so no file of an older scenario stays.
  await fs.rm(dir, { recursive: true, force: true });
  const files = await writeSyntheticSnapshot(account, dir);
  files.push(...(await writeKubernetesSnapshot(account, demoKubernetes(account), dir)));
  for (const line of describeDemo(account)) console.log(line);
  console.log(`wrote ${files.length} files to ${dir}`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
