/**
 * Kubernetes API objects in their real shapes, for the tests: a Node of an EKS managed node group
 * (labels as EKS sets them, providerID aws:///<az>/<id>), pods, FailedCreatePodSandBox events with
 * the VPC CNI's messages (aws/amazon-vpc-cni-k8s cmd/routed-eni-cni-plugin/cni.go, wrapped by
 * containerd's "failed to setup network for sandbox"), the aws-node DaemonSet, an ENIConfig, and
 * Karpenter v1 NodePool / EC2NodeClass as in the Karpenter docs (karpenter.sh/docs/concepts/nodepools,
 * nodeclasses).
 */
type Obj = Record<string, unknown>;

export function node(name: string, o: { instanceId?: string; zone?: string; type?: string; nodegroup?: string; nodePool?: string; pods?: number; ready?: boolean } = {}): Obj {
  const zone = o.zone ?? 'eu-west-1a';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      creationTimestamp: '2026-12-01T07:00:00Z',
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': o.type ?? 'm5.large',
        'topology.kubernetes.io/region': 'eu-west-1',
        'topology.kubernetes.io/zone': zone,
        ...(o.nodegroup ? { 'eks.amazonaws.com/nodegroup': o.nodegroup } : {}),
        ...(o.nodePool ? { 'karpenter.sh/nodepool': o.nodePool } : {}),
      },
    },
    spec: { providerID: `aws:///${zone}/${o.instanceId ?? 'i-0123456789abcdef0'}` },
    status: {
      capacity: { cpu: '2', 'ephemeral-storage': '83873772Ki', memory: '7910348Ki', pods: String(o.pods ?? 29) },
      allocatable: { cpu: '1930m', 'ephemeral-storage': '76224326324', memory: '7220172Ki', pods: String(o.pods ?? 29) },
      conditions: [
        { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory' },
        { type: 'Ready', status: o.ready === false ? 'False' : 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
      ],
      nodeInfo: { kubeletVersion: 'v1.31.4-eks-aeac579' },
    },
  };
}

export function pod(namespace: string, name: string, o: { node?: string; ip?: string; hostNetwork?: boolean; phase?: string } = {}): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, uid: `uid-${name}` },
    spec: { ...(o.node ? { nodeName: o.node } : {}), ...(o.hostNetwork ? { hostNetwork: true } : {}), containers: [{ name: 'app', image: 'public.ecr.aws/nginx/nginx:1.27' }] },
    status: { phase: o.phase ?? 'Running', ...(o.ip ? { podIP: o.ip, podIPs: [{ ip: o.ip }] } : {}) },
  };
}

/** containerd's wrapping of a CNI ADD failure, around the VPC CNI's own text. */
export const sandboxMessage = (cniText: string): string =>
  `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "3b1f9c2e0d4a": plugin type="aws-cni" name="aws-cni" failed (add): ${cniText}`;
export const NO_ADDRESS = sandboxMessage('add cmd: failed to assign an IP address to container');
export const IPAMD_DOWN = sandboxMessage(
  'add cmd: Error received from AddNetwork gRPC call: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:50051: connect: connection refused"',
);

export function sandboxEvent(name: string, podName: string, message: string, o: { host?: string; count?: number; last?: string; reason?: string; series?: number } = {}): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: 'default', creationTimestamp: '2026-12-03T09:00:00Z' },
    involvedObject: { kind: 'Pod', namespace: 'default', name: podName, uid: `uid-${podName}`, apiVersion: 'v1' },
    reason: o.reason ?? 'FailedCreatePodSandBox',
    message,
    ...(o.host ? { source: { component: 'kubelet', host: o.host } } : { source: {} }),
    firstTimestamp: '2026-12-03T09:00:00Z',
    lastTimestamp: o.last ?? '2026-12-03T09:10:00Z',
    count: o.count ?? 1,
    ...(o.series ? { series: { count: o.series, lastObservedTime: '2026-12-03T09:20:00.000000Z' } } : {}),
    type: 'Warning',
    reportingComponent: 'kubelet',
    reportingInstance: o.host ?? '',
  };
}

export function awsNodeDaemonSet(env: Record<string, string>, image = '602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni:v1.19.2-eksbuild.1'): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'aws-node', namespace: 'kube-system', labels: { 'k8s-app': 'aws-node' } },
    spec: {
      selector: { matchLabels: { 'k8s-app': 'aws-node' } },
      template: {
        metadata: { labels: { 'k8s-app': 'aws-node' } },
        spec: {
          serviceAccountName: 'aws-node',
          hostNetwork: true,
          containers: [
            {
              name: 'aws-node',
              image,
              env: [
                ...Object.entries(env).map(([name, value]) => ({ name, value })),
                { name: 'MY_NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
              ],
            },
            { name: 'aws-eks-nodeagent', image: '602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon/aws-network-policy-agent:v1.1.6-eksbuild.1' },
          ],
        },
      },
    },
  };
}

export function eniConfig(name: string, subnet: string, groups: string[] = ['sg-0a1b2c3d4e5f60718']): Obj {
  return { apiVersion: 'crd.k8s.amazonaws.com/v1alpha1', kind: 'ENIConfig', metadata: { name }, spec: { subnet, securityGroups: groups } };
}

export function nodePool(name: string, requirements: Obj[], nodeClass = 'default'): Obj {
  return {
    apiVersion: 'karpenter.sh/v1',
    kind: 'NodePool',
    metadata: { name },
    spec: {
      template: { spec: { nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: nodeClass }, requirements, expireAfter: '720h' } },
      limits: { cpu: 1000 },
      disruption: { consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: '1m' },
    },
  };
}

export function ec2NodeClass(name: string, terms: Obj[], subnets: { id: string; zone: string; zoneID: string }[], kubelet?: Obj): Obj {
  return {
    apiVersion: 'karpenter.k8s.aws/v1',
    kind: 'EC2NodeClass',
    metadata: { name },
    spec: {
      role: 'KarpenterNodeRole-demo',
      amiSelectorTerms: [{ alias: 'al2023@latest' }],
      subnetSelectorTerms: terms,
      securityGroupSelectorTerms: [{ tags: { 'karpenter.sh/discovery': 'demo' } }],
      ...(kubelet ? { kubelet } : {}),
    },
    status: { subnets },
  };
}
