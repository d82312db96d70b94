import {
  ipFailureCauseOf,
  ipFailuresOf,
  newIpFailureTally,
  newPodTally,
  statusOf,
  tallyIpFailureEvents,
  tallyPods,
  trimAwsNode,
  trimEniConfigs,
  trimNodeClasses,
  trimNodePools,
  trimNodes,
} from '../../lib/inventory/kube-trim';
import { awsNodeDaemonSet, ec2NodeClass, eniConfig, IPAMD_DOWN, NO_ADDRESS, node, nodePool, pod, sandboxEvent } from '../support/kube-objects';

describe('trimNodes', () => {
  it('takes the instance id from providerID, the labels, max pods and readiness', () => {
    const [n] = trimNodes([node('ip-10-0-1-23.eu-west-1.compute.internal', { instanceId: 'i-0abc', zone: 'eu-west-1b', type: 'c5.xlarge', nodegroup: 'ng-a', pods: 58, ready: false })]);
    expect(n).toEqual({
      name: 'ip-10-0-1-23.eu-west-1.compute.internal',
      instanceId: 'i-0abc',
      instanceType: 'c5.xlarge',
      zone: 'eu-west-1b',
      nodegroup: 'ng-a',
      maxPods: 58,
      allocatablePods: 58,
      ready: false,
      createdAt: '2026-12-01T07:00:00Z',
    });
    expect(trimNodes([node('k', { nodePool: 'default' })])[0]?.nodePool).toBe('default');
  });

  it('leaves out an instance id when providerID is not aws:///', () => {
    const raw = node('x');
    (raw['spec'] as Record<string, unknown>)['providerID'] = 'kind://docker/x';
    expect(trimNodes([raw])[0]?.instanceId).toBeUndefined();
  });
});

describe('tallyPods', () => {
  it('counts assigned IPv4, awaiting and host-network pods per node over pages, skipping finished pods', () => {
    const t = newPodTally();
    tallyPods(t, [pod('a', 'p1', { node: 'n1', ip: '10.0.1.5' }), pod('a', 'p2', { node: 'n1', ip: '10.0.1.6' }), pod('kube-system', 'aws-node-x', { node: 'n1', ip: '10.0.1.23', hostNetwork: true })]);
    tallyPods(t, [
      pod('a', 'p3', { node: 'n1', phase: 'Pending' }),
      pod('a', 'p4', { node: 'n2', ip: 'fd00::5' }),
      pod('a', 'done', { node: 'n2', ip: '10.0.1.9', phase: 'Succeeded' }),
      pod('a', 'unscheduled', { phase: 'Pending' }),
    ]);
    expect(t.byNode).toEqual({ n1: { assignedIpv4: 2, awaitingIp: 1, hostNetwork: 1 }, n2: { assignedIpv4: 0, awaitingIp: 0, hostNetwork: 0 } });
    expect([...t.awaiting]).toEqual([['a/p3', 'n1']]);
  });
});

describe('IP failure events', () => {
  it('classifies the VPC CNI texts and ignores other sandbox failures', () => {
    expect(ipFailureCauseOf(NO_ADDRESS)).toBe('no-free-address');
    expect(ipFailureCauseOf(IPAMD_DOWN)).toBe('ipamd-unreachable');
    expect(ipFailureCauseOf('Failed to create pod sandbox: rpc error: code = Unknown desc = failed to pull image "registry.k8s.io/pause:3.9"')).toBeUndefined();
  });

  it('groups by node and cause, sums count and series.count, names pods, keeps the newest message', () => {
    const t = newIpFailureTally();
    tallyIpFailureEvents(t, [
      sandboxEvent('e1', 'web-1', NO_ADDRESS, { host: 'n1', count: 5, last: '2026-12-03T09:10:00Z' }),
      sandboxEvent('e2', 'web-2', NO_ADDRESS, { host: 'n1', series: 7 }),
      sandboxEvent('e3', 'web-1', IPAMD_DOWN, { host: 'n1', count: 2 }),
      sandboxEvent('e4', 'api-1', NO_ADDRESS, { count: 3 }),
      sandboxEvent('e5', 'other', 'Back-off restarting failed container', { host: 'n1', reason: 'BackOff' }),
    ]);
    const out = ipFailuresOf(t, new Map([['default/api-1', 'n2']]));
    expect(out).toEqual([
      { node: 'n1', cause: 'ipamd-unreachable', count: 2, pods: ['default/web-1'], lastSeen: '2026-12-03T09:10:00Z', message: IPAMD_DOWN },
      { node: 'n1', cause: 'no-free-address', count: 12, pods: ['default/web-1', 'default/web-2'], lastSeen: '2026-12-03T09:20:00.000000Z', message: NO_ADDRESS },
      { node: 'n2', cause: 'no-free-address', count: 3, pods: ['default/api-1'], lastSeen: '2026-12-03T09:10:00Z', message: NO_ADDRESS },
    ]);
  });
});

describe('trimAwsNode', () => {
  it('keeps literal env values, the image and version, and who owns each env entry', () => {
    const ds = awsNodeDaemonSet({ WARM_IP_TARGET: '5', ENABLE_PREFIX_DELEGATION: 'false' });
    (ds['metadata'] as Record<string, unknown>)['managedFields'] = [
      {
        manager: 'helm',
        operation: 'Update',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"aws-node"}': { 'f:env': { 'k:{"name":"WARM_IP_TARGET"}': { '.': {}, 'f:name': {}, 'f:value': {} }, 'k:{"name":"ENABLE_PREFIX_DELEGATION"}': { '.': {}, 'f:name': {}, 'f:value': {} } } } } } } } },
      },
      {
        manager: 'eks-ip-responder',
        operation: 'Apply',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"aws-node"}': { 'f:env': { 'k:{"name":"WARM_IP_TARGET"}': { '.': {}, 'f:name': {} } } } } } } } },
      },
    ];
    expect(trimAwsNode(ds)).toEqual({
      env: { WARM_IP_TARGET: '5', ENABLE_PREFIX_DELEGATION: 'false' },
      image: '602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni:v1.19.2-eksbuild.1',
      version: '1.19.2',
      envManagers: { WARM_IP_TARGET: 'helm', ENABLE_PREFIX_DELEGATION: 'helm' },
    });
  });
});

describe('CRDs', () => {
  it('trims ENIConfigs, NodePools and EC2NodeClasses', () => {
    expect(trimEniConfigs([eniConfig('eu-west-1a', 'subnet-0a')])).toEqual([{ name: 'eu-west-1a', subnet: 'subnet-0a', securityGroups: ['sg-0a1b2c3d4e5f60718'] }]);
    expect(
      trimNodePools([
        nodePool('default', [
          { key: 'karpenter.k8s.aws/instance-category', operator: 'In', values: ['c', 'm'], minValues: 2 },
          { key: 'karpenter.k8s.aws/instance-generation', operator: 'Gt', values: ['2'] },
          { key: 'weird', operator: 'Matches', values: ['x'] },
        ]),
      ]),
    ).toEqual([
      {
        name: 'default',
        nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: 'default' },
        requirements: [
          { key: 'karpenter.k8s.aws/instance-category', operator: 'In', values: ['c', 'm'], minValues: 2 },
          { key: 'karpenter.k8s.aws/instance-generation', operator: 'Gt', values: ['2'] },
        ],
      },
    ]);
    expect(
      trimNodeClasses([ec2NodeClass('default', [{ tags: { 'karpenter.sh/discovery': 'demo' } }, { id: 'subnet-0b' }], [{ id: 'subnet-0b', zone: 'eu-west-1b', zoneID: 'euw1-az2' }], { maxPods: 110, podsPerCore: 10 })]),
    ).toEqual([
      {
        name: 'default',
        subnetSelectorTerms: [{ tags: { 'karpenter.sh/discovery': 'demo' } }, { id: 'subnet-0b' }],
        resolvedSubnets: [{ id: 'subnet-0b', zone: 'eu-west-1b', zoneId: 'euw1-az2' }],
        kubeletMaxPods: 110,
        podsPerCore: 10,
      },
    ]);
  });

  it('reads a Status file as its code', () => {
    expect(statusOf({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 403, reason: 'Forbidden', message: 'nodes is forbidden' })).toEqual({ code: 403, reason: 'Forbidden', message: 'nodes is forbidden' });
    expect(statusOf({ kind: 'NodeList', items: [] })).toBeUndefined();
  });
});
