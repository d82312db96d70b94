/**
 * A large EKS cluster's Kubernetes objects for the bench, in the API's full shapes (what a real
 * Node, Pod, Event, DaemonSet, NodePool and EC2NodeClass carry, not only the fields the reader
 * uses, so that bytes and parse cost are a real cluster's): `nodes` nodes, 30 pods a node (2 of
 * them host-network DaemonSet pods), 2% more finished Job pods (filtered out server-side), ~2,000
 * FailedCreatePodSandBox events plus other events, aws-node, 3 ENIConfigs, 5 NodePools and
 * EC2NodeClasses. Deterministic. `put(path, object)` stores each (tools/kube-server.ts).
 */

export interface BenchKubeShape {
  nodes: number;
  /** Pods bound to a node that hold (or wait for) an address, host-network included. */
  pods: number;
  /** Finished Job pods (phase Succeeded), which the reader's field selector leaves out. */
  finishedPods: number;
  /** FailedCreatePodSandBox events with the VPC CNI's message. */
  failedSandboxEvents: number;
  /** Other events (Scheduled, Pulled...), left out by the reader's field selector. */
  otherEvents: number;
  nodePools: number;
  eniConfigs: number;
}

type Put = (path: string, object: Record<string, unknown>) => void;

const ZONES = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];
const TYPES = ['m5.xlarge', 'm5.2xlarge', 'c6i.2xlarge', 'r6i.2xlarge'];
/** Max pods of the types (EKS calculator, secondary-IP mode: ENIs × (IPs per ENI − 1) + 2). */
const MAX_PODS: Record<string, number> = { 'm5.xlarge': 58, 'm5.2xlarge': 58, 'c6i.2xlarge': 58, 'r6i.2xlarge': 58 };
const PODS_PER_NODE = 30;
const NODEGROUPS = 10;
const CREATED = '2026-11-20T08:00:00Z';
const NOW = '2026-11-26T12:00:00Z';

const hex = (n: number, len: number): string => {
  let x = (n * 2654435761) >>> 0;
  let out = '';
  while (out.length < len) {
    x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) >>> 0;
    out += x.toString(16).padStart(8, '0');
  }
  return out.slice(0, len);
};
const uid = (n: number): string => `${hex(n, 8)}-${hex(n + 1, 4)}-4${hex(n + 2, 3)}-8${hex(n + 3, 3)}-${hex(n + 4, 12)}`;
const ip = (n: number): string => `10.${64 + ((n >> 16) & 63)}.${(n >> 8) & 255}.${n & 255}`;

/** The shape of a size: 30 pods a node; ~2,000 failure events whatever the size. */
export function benchKubeShape(nodes: number): BenchKubeShape {
  return { nodes, pods: nodes * PODS_PER_NODE, finishedPods: Math.round(nodes * PODS_PER_NODE * 0.02), failedSandboxEvents: 2000, otherEvents: 3000, nodePools: 5, eniConfigs: 3 };
}

/** The failure message the kubelet records when the VPC CNI has no address to give (tools/synthetic-kube.ts ipAssignFailureMessage). */
const failureMessage = (sandbox: string): string =>
  `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "${sandbox}": plugin type="aws-cni" name="aws-cni" failed (add): add cmd: failed to assign an IP address to container`;

function nodeName(i: number): string {
  return `ip-${ip(i * 64).replace(/\./g, '-')}.eu-west-1.compute.internal`;
}

function node(i: number, shape: BenchKubeShape): Record<string, unknown> {
  const name = nodeName(i);
  const zone = ZONES[i % ZONES.length]!;
  const type = TYPES[i % TYPES.length]!;
  const karpenter = i % 10 >= 7;
  const group = karpenter ? `pool-${i % shape.nodePools}` : `ng-${i % NODEGROUPS}`;
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/instance-type': type,
    'beta.kubernetes.io/os': 'linux',
    'failure-domain.beta.kubernetes.io/region': 'eu-west-1',
    'failure-domain.beta.kubernetes.io/zone': zone,
    'k8s.io/cloud-provider-aws': 'a3f0c1b2d4e5f60718293a4b5c6d7e8f',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'node.kubernetes.io/instance-type': type,
    'topology.ebs.csi.aws.com/zone': zone,
    'topology.k8s.aws/zone-id': `euw1-az${(i % 3) + 1}`,
    'topology.kubernetes.io/region': 'eu-west-1',
    'topology.kubernetes.io/zone': zone,
    ...(karpenter
      ? { 'karpenter.sh/nodepool': group, 'karpenter.sh/capacity-type': 'on-demand', 'karpenter.sh/initialized': 'true', 'karpenter.sh/registered': 'true', 'karpenter.k8s.aws/instance-family': type.split('.')[0]! }
      : { 'eks.amazonaws.com/nodegroup': group, 'eks.amazonaws.com/capacityType': 'ON_DEMAND', 'eks.amazonaws.com/nodegroup-image': 'ami-0a1b2c3d4e5f60718', 'eks.amazonaws.com/sourceLaunchTemplateId': 'lt-0123456789abcdef0', 'eks.amazonaws.com/sourceLaunchTemplateVersion': '3' }),
  };
  const pods = String(MAX_PODS[type]);
  const condition = (type: string, status: string, reason: string, message: string) => ({ type, status, lastHeartbeatTime: NOW, lastTransitionTime: CREATED, reason, message });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      uid: uid(i * 7),
      creationTimestamp: CREATED,
      labels,
      annotations: {
        'alpha.kubernetes.io/provided-node-ip': ip(i * 64),
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        'csi.volume.kubernetes.io/nodeid': `{"ebs.csi.aws.com":"i-0${hex(i, 16)}"}`,
      },
    },
    spec: { providerID: `aws:///${zone}/i-0${hex(i, 16)}` },
    status: {
      capacity: { cpu: '8', 'ephemeral-storage': '83873772Ki', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '32386040Ki', pods },
      allocatable: { cpu: '7910m', 'ephemeral-storage': '76224326324', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '31369208Ki', pods },
      conditions: [
        condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: ip(i * 64) },
        { type: 'InternalDNS', address: name },
        { type: 'Hostname', address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: hex(i + 11, 32),
        systemUUID: uid(i * 7 + 3),
        bootID: uid(i * 7 + 5),
        kernelVersion: '6.1.115-126.197.amzn2023.x86_64',
        osImage: 'Amazon Linux 2023.6.20241121',
        containerRuntimeVersion: 'containerd://1.7.23',
        kubeletVersion: 'v1.31.2-eks-94953ac',
        kubeProxyVersion: 'v1.31.2-eks-94953ac',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
      images: [
        ['602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni:v1.19.0-eksbuild.1', 42_131_744],
        ['602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni-init:v1.19.0-eksbuild.1', 61_390_233],
        ['602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon/aws-network-policy-agent:v1.1.5-eksbuild.1', 29_741_530],
        ['602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/kube-proxy:v1.31.2-minimal-eksbuild.3', 38_115_234],
        ['602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/pause:3.5', 298_689],
        [`111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/web:${hex(i % 7, 12)}`, 182_334_112],
        [`111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/api:${hex(i % 5, 12)}`, 211_908_221],
        ['public.ecr.aws/datadog/agent:7.59.0', 401_223_881],
      ].map(([n, size]) => ({ names: [n, `${String(n).split(':')[0]}@sha256:${hex(String(n).length * 31, 64)}`], sizeBytes: size })),
    },
  };
}

interface PodOpts {
  n: number;
  namespace: string;
  workload: string;
  node: string;
  hostIp: string;
  podIp?: string;
  hostNetwork?: boolean;
  phase: 'Running' | 'Pending' | 'Succeeded';
  owner: 'ReplicaSet' | 'DaemonSet' | 'Job';
}

function pod(o: PodOpts): Record<string, unknown> {
  const hash = hex(o.workload.length * 97, 10);
  const name = `${o.workload}-${o.owner === 'ReplicaSet' ? `${hash}-` : ''}${o.n.toString(36)}`;
  const ready = o.phase === 'Running';
  const container = {
    name: o.workload,
    image: `111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/${o.workload}:${hash}`,
    imagePullPolicy: 'IfNotPresent',
    ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
    env: [
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'AWS_REGION', value: 'eu-west-1' },
      { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
    ],
    resources: { limits: { memory: '512Mi' }, requests: { cpu: '250m', memory: '256Mi' } },
    readinessProbe: { httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
    volumeMounts: [{ name: `kube-api-access-${hex(o.n + 9, 5)}`, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      generateName: `${o.workload}-`,
      namespace: o.namespace,
      uid: uid(o.n * 13),
      creationTimestamp: CREATED,
      labels: { app: o.workload, 'app.kubernetes.io/name': o.workload, ...(o.owner === 'ReplicaSet' ? { 'pod-template-hash': hash } : {}) },
      ownerReferences: [{ apiVersion: o.owner === 'Job' ? 'batch/v1' : 'apps/v1', kind: o.owner, name: o.owner === 'ReplicaSet' ? `${o.workload}-${hash}` : o.workload, uid: uid(o.workload.length * 17), controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      volumes: [
        {
          name: `kube-api-access-${hex(o.n + 9, 5)}`,
          projected: {
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
            ],
            defaultMode: 420,
          },
        },
      ],
      containers: [container],
      restartPolicy: o.owner === 'Job' ? 'Never' : 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: o.hostNetwork ? 'ClusterFirstWithHostNet' : 'ClusterFirst',
      serviceAccountName: o.workload,
      serviceAccount: o.workload,
      nodeName: o.node,
      ...(o.hostNetwork ? { hostNetwork: true } : {}),
      securityContext: {},
      schedulerName: 'default-scheduler',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
    status: {
      phase: o.phase,
      conditions: [
        { type: 'PodReadyToStartContainers', status: ready ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: CREATED },
        { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: CREATED },
        { type: 'Ready', status: ready ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: CREATED },
        { type: 'ContainersReady', status: ready ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: CREATED },
        { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: CREATED },
      ],
      hostIP: o.hostIp,
      hostIPs: [{ ip: o.hostIp }],
      ...(o.podIp ? { podIP: o.podIp, podIPs: [{ ip: o.podIp }] } : {}),
      startTime: CREATED,
      containerStatuses: [
        ready
          ? { name: o.workload, state: { running: { startedAt: CREATED } }, lastState: {}, ready: true, restartCount: 0, image: container.image, imageID: `${container.image.split(':')[0]}@sha256:${hex(o.workload.length, 64)}`, containerID: `containerd://${hex(o.n * 3, 64)}`, started: true }
          : o.phase === 'Succeeded'
            ? { name: o.workload, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: CREATED, finishedAt: CREATED, containerID: `containerd://${hex(o.n * 3, 64)}` } }, lastState: {}, ready: false, restartCount: 0, image: container.image, imageID: '', started: false }
            : { name: o.workload, state: { waiting: { reason: 'ContainerCreating' } }, lastState: {}, ready: false, restartCount: 0, image: container.image, imageID: '', started: false },
      ],
      qosClass: 'Burstable',
    },
  };
}

const WORKLOADS = ['web', 'api', 'checkout', 'cart', 'search', 'catalog', 'payments', 'recommendations', 'inventory', 'notifications'];

/** Stores the cluster's objects; returns what the reader should find (for checking the view). */
export function putBenchKubeCluster(shape: BenchKubeShape, put: Put): { pendingPods: number; awsNodeEnv: number } {
  // Failing nodes: every app pod of the first nodes waits for an address, one event each.
  const appPods = PODS_PER_NODE - 2;
  const failingNodes = Math.ceil(shape.failedSandboxEvents / appPods);
  const pendingPods: { name: string; node: string }[] = [];
  let n = 0;
  for (let i = 0; i < shape.nodes; i++) {
    const name = nodeName(i);
    put(`/api/v1/nodes/${name}`, node(i, shape));
    const hostIp = ip(i * 64);
    for (const ds of ['aws-node', 'kube-proxy']) {
      put(`/api/v1/namespaces/kube-system/pods/${ds}-${n.toString(36)}`, pod({ n: n++, namespace: 'kube-system', workload: ds, node: name, hostIp, podIp: hostIp, hostNetwork: true, phase: 'Running', owner: 'DaemonSet' }));
    }
    for (let k = 0; k < appPods; k++) {
      const waits = i < failingNodes && pendingPods.length < shape.failedSandboxEvents;
      const workload = WORKLOADS[(i + k) % WORKLOADS.length]!;
      const p = pod({ n: n++, namespace: 'shop', workload, node: name, hostIp, ...(waits ? {} : { podIp: ip(i * 64 + k + 1) }), phase: waits ? 'Pending' : 'Running', owner: 'ReplicaSet' });
      const podName = (p['metadata'] as { name: string }).name;
      put(`/api/v1/namespaces/shop/pods/${podName}`, p);
      if (waits) pendingPods.push({ name: podName, node: name });
    }
  }
  for (let j = 0; j < shape.finishedPods; j++) {
    const i = (j * 7) % shape.nodes;
    const p = pod({ n: n++, namespace: 'batch', workload: `report-${j % 40}`, node: nodeName(i), hostIp: ip(i * 64), phase: 'Succeeded', owner: 'Job' });
    put(`/api/v1/namespaces/batch/pods/${(p['metadata'] as { name: string }).name}`, p);
  }

  // FailedCreatePodSandBox events: one per pending pod, from its node's kubelet.
  for (let e = 0; e < shape.failedSandboxEvents; e++) {
    const { name: podName, node: name } = pendingPods[e % pendingPods.length]!;
    put(`/api/v1/namespaces/shop/events/${podName}.${hex(e, 16)}`, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${podName}.${hex(e, 16)}`, namespace: 'shop', uid: uid(e * 19), creationTimestamp: CREATED },
      involvedObject: { kind: 'Pod', namespace: 'shop', name: podName, uid: uid(e * 23), apiVersion: 'v1', resourceVersion: String(7_000_000 + e) },
      reason: 'FailedCreatePodSandBox',
      message: failureMessage(hex(e * 29, 64)),
      source: { component: 'kubelet', host: name },
      firstTimestamp: CREATED,
      lastTimestamp: NOW,
      count: 1 + (e % 12),
      type: 'Warning',
      eventTime: null,
      reportingComponent: 'kubelet',
      reportingInstance: name,
    });
  }
  const reasons: [string, string][] = [['Scheduled', 'Successfully assigned shop/web to node'], ['Pulled', 'Container image already present on machine'], ['Created', 'Created container web'], ['Started', 'Started container web']];
  for (let e = 0; e < shape.otherEvents; e++) {
    const [reason, message] = reasons[e % reasons.length]!;
    put(`/api/v1/namespaces/shop/events/other-${e}.${hex(e + 5, 16)}`, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `other-${e}.${hex(e + 5, 16)}`, namespace: 'shop', uid: uid(e * 31), creationTimestamp: CREATED },
      involvedObject: { kind: 'Pod', namespace: 'shop', name: `web-${e}`, uid: uid(e * 37), apiVersion: 'v1' },
      reason,
      message,
      source: { component: 'kubelet', host: nodeName(e % shape.nodes) },
      firstTimestamp: NOW,
      lastTimestamp: NOW,
      count: 1,
      type: 'Normal',
    });
  }

  // aws-node (the VPC CNI's DaemonSet; env as the EKS add-on sets it, aws/amazon-vpc-cni-k8s config/master/aws-k8s-cni.yaml).
  const env: Record<string, string> = {
    ADDITIONAL_ENI_TAGS: '{}', ANNOTATE_POD_IP: 'false', AWS_VPC_CNI_NODE_PORT_SUPPORT: 'true', AWS_VPC_ENI_MTU: '9001', AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'false',
    AWS_VPC_K8S_CNI_EXTERNALSNAT: 'false', AWS_VPC_K8S_CNI_LOGLEVEL: 'DEBUG', AWS_VPC_K8S_CNI_LOG_FILE: '/host/var/log/aws-routed-eni/ipamd.log', AWS_VPC_K8S_CNI_RANDOMIZESNAT: 'prng',
    AWS_VPC_K8S_CNI_VETHPREFIX: 'eni', AWS_VPC_K8S_PLUGIN_LOG_FILE: '/var/log/aws-routed-eni/plugin.log', AWS_VPC_K8S_PLUGIN_LOG_LEVEL: 'DEBUG', DISABLE_INTROSPECTION: 'false',
    DISABLE_METRICS: 'false', DISABLE_NETWORK_RESOURCE_PROVISIONING: 'false', ENABLE_IPv4: 'true', ENABLE_IPv6: 'false', ENABLE_POD_ENI: 'false', ENABLE_PREFIX_DELEGATION: 'false',
    ENABLE_SUBNET_DISCOVERY: 'true', NETWORK_POLICY_ENFORCING_MODE: 'standard', VPC_CNI_VERSION: 'v1.19.0', WARM_ENI_TARGET: '1', WARM_PREFIX_TARGET: '1',
  };
  put('/apis/apps/v1/namespaces/kube-system/daemonsets/aws-node', {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'aws-node', namespace: 'kube-system', uid: uid(1), generation: 4, labels: { 'app.kubernetes.io/instance': 'aws-vpc-cni', 'app.kubernetes.io/name': 'aws-node', 'k8s-app': 'aws-node' } },
    spec: {
      selector: { matchLabels: { 'k8s-app': 'aws-node' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%', maxSurge: 0 } },
      template: {
        metadata: { labels: { 'app.kubernetes.io/instance': 'aws-vpc-cni', 'app.kubernetes.io/name': 'aws-node', 'k8s-app': 'aws-node' } },
        spec: {
          hostNetwork: true,
          priorityClassName: 'system-node-critical',
          serviceAccountName: 'aws-node',
          initContainers: [{ name: 'aws-vpc-cni-init', image: '602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni-init:v1.19.0-eksbuild.1', env: [{ name: 'DISABLE_TCP_EARLY_DEMUX', value: 'false' }, { name: 'ENABLE_IPv6', value: 'false' }] }],
          containers: [
            {
              name: 'aws-node',
              image: '602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni:v1.19.0-eksbuild.1',
              env: [...Object.entries(env).map(([name, value]) => ({ name, value })), { name: 'MY_NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } }],
              ports: [{ containerPort: 61678, name: 'metrics', protocol: 'TCP' }],
              resources: { requests: { cpu: '25m' } },
            },
            { name: 'aws-eks-nodeagent', image: '602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon/aws-network-policy-agent:v1.1.5-eksbuild.1', args: ['--enable-ipv6=false', '--enable-network-policy=false'] },
          ],
        },
      },
    },
    status: { currentNumberScheduled: shape.nodes, desiredNumberScheduled: shape.nodes, numberAvailable: shape.nodes, numberReady: shape.nodes, observedGeneration: 4, updatedNumberScheduled: shape.nodes },
  });

  for (let z = 0; z < shape.eniConfigs; z++) {
    const zone = ZONES[z % ZONES.length]!;
    put(`/apis/crd.k8s.amazonaws.com/v1alpha1/eniconfigs/${zone}`, { apiVersion: 'crd.k8s.amazonaws.com/v1alpha1', kind: 'ENIConfig', metadata: { name: zone, uid: uid(100 + z) }, spec: { subnet: `subnet-0${hex(200 + z, 16)}`, securityGroups: ['sg-0a1b2c3d4e5f60718'] } });
  }
  // Karpenter v1 (karpenter.sh/v1 NodePool, karpenter.k8s.aws/v1 EC2NodeClass).
  for (let p = 0; p < shape.nodePools; p++) {
    const name = `pool-${p}`;
    put(`/apis/karpenter.sh/v1/nodepools/${name}`, {
      apiVersion: 'karpenter.sh/v1',
      kind: 'NodePool',
      metadata: { name, uid: uid(300 + p), generation: 2 },
      spec: {
        disruption: { consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: '1m', budgets: [{ nodes: '10%' }] },
        limits: { cpu: '4000' },
        template: {
          metadata: { labels: { team: `team-${p}` } },
          spec: {
            expireAfter: '720h',
            nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name },
            requirements: [
              { key: 'karpenter.k8s.aws/instance-category', operator: 'In', values: ['c', 'm', 'r'] },
              { key: 'karpenter.k8s.aws/instance-generation', operator: 'Gt', values: ['4'] },
              { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
              { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
            ],
          },
        },
      },
      status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: '', lastTransitionTime: CREATED, observedGeneration: 2 }], resources: { cpu: '800', nodes: '100', pods: '3000' } },
    });
    put(`/apis/karpenter.k8s.aws/v1/ec2nodeclasses/${name}`, {
      apiVersion: 'karpenter.k8s.aws/v1',
      kind: 'EC2NodeClass',
      metadata: { name, uid: uid(400 + p), generation: 1 },
      spec: {
        amiSelectorTerms: [{ alias: 'al2023@latest' }],
        role: 'KarpenterNodeRole-prod',
        subnetSelectorTerms: [{ tags: { 'karpenter.sh/discovery': 'prod' } }],
        securityGroupSelectorTerms: [{ tags: { 'karpenter.sh/discovery': 'prod' } }],
        kubelet: { maxPods: 58 },
        metadataOptions: { httpEndpoint: 'enabled', httpProtocolIPv6: 'disabled', httpPutResponseHopLimit: 1, httpTokens: 'required' },
      },
      status: {
        subnets: ZONES.map((zone, z) => ({ id: `subnet-0${hex(500 + z, 16)}`, zone, zoneID: `euw1-az${z + 1}` })),
        securityGroups: [{ id: 'sg-0a1b2c3d4e5f60718', name: 'eks-cluster-sg-prod' }],
        amis: [{ id: 'ami-0a1b2c3d4e5f60718', name: 'amazon-eks-node-al2023-x86_64-standard-1.31-v20241121', requirements: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }] }],
        instanceProfile: `prod_${hex(p, 20)}`,
        conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: '', lastTransitionTime: CREATED, observedGeneration: 1 }],
      },
    });
  }
  return { pendingPods: pendingPods.length, awsNodeEnv: Object.keys(env).length };
}
