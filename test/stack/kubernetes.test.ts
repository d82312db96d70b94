// The stack's Kubernetes access (stack/kubernetes.ts, stack/kubernetes.stack.js): access entries per
// listed cluster and role, the VPC placement and its ENI policy, the params' checks at packaging,
// and the RBAC manifest (lib/kube-rbac.ts, stack/kubernetes-rbac.yaml).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { rbacManifest, rbacObjects } from '../../lib/kube-rbac';
import { KUBE_READER_GROUP, KUBE_WRITER_GROUP } from '../../lib/names';
import { kubernetesParamProblems } from '../../stack/checks';
import { accessEntries, accessEntryLogicalId, kubernetesResources, vpcConfig, type KubernetesParams } from '../../stack/kubernetes';
import {
  asList,
  deployedStatements,
  evaluateRequest,
  isReadAction,
  loadTemplate,
  packageWith,
  PSEUDO,
  REPOSITORY_ROOT,
  resourcesOfType,
  roleStatements,
  type CfnTemplate,
  type Packaged,
} from './template';

const NONE: KubernetesParams = { kubernetesClusters: '', kubernetesWrite: 'false', vpcSubnetIds: '', vpcSecurityGroupIds: '' };
const SUBNETS = 'subnet-0123456789abcdef0,subnet-0123456789abcdef1';
const GROUPS = 'sg-0123456789abcdef0';

describe('accessEntries', () => {
  it('makes one STANDARD entry per listed cluster per role: the sampler a reader, the responder a reader', () => {
    const entries = accessEntries({ ...NONE, kubernetesClusters: ' orders-prod, pay_x ' }, new Set(['orders-prod']));
    const summary = Object.values(entries).map((e) => [e.Properties['ClusterName'], e.Properties['PrincipalArn'], e.Properties['Type'], e.Properties['KubernetesGroups']]);
    expect(summary).toEqual([
      ['orders-prod', { 'Fn::GetAtt': ['SamplerRole', 'Arn'] }, 'STANDARD', [KUBE_READER_GROUP]],
      ['orders-prod', { 'Fn::GetAtt': ['RespondRole', 'Arn'] }, 'STANDARD', [KUBE_READER_GROUP]],
      ['pay_x', { 'Fn::GetAtt': ['SamplerRole', 'Arn'] }, 'STANDARD', [KUBE_READER_GROUP]],
      ['pay_x', { 'Fn::GetAtt': ['RespondRole', 'Arn'] }, 'STANDARD', [KUBE_READER_GROUP]],
    ]);
    expect(Object.values(entries).every((e) => e.Type === 'AWS::EKS::AccessEntry')).toBe(true);
  });

  it('adds the writer group to the responder’s entries only with kubernetesWrite=true, and only on clusters in apply mode', () => {
    const entries = Object.values(accessEntries({ ...NONE, kubernetesClusters: 'orders-prod,pay_x', kubernetesWrite: 'true' }, new Set(['orders-prod'])));
    expect(entries.map((e) => [e.Properties['ClusterName'], e.Properties['KubernetesGroups']])).toEqual([
      ['orders-prod', [KUBE_READER_GROUP]],
      ['orders-prod', [KUBE_READER_GROUP, KUBE_WRITER_GROUP]],
      ['pay_x', [KUBE_READER_GROUP]],
      ['pay_x', [KUBE_READER_GROUP]],
    ]);
  });

  it('makes none when kubernetesClusters is empty', () => {
    expect(accessEntries({ ...NONE, kubernetesWrite: 'true' }, new Set(['orders-prod']))).toEqual({});
  });

  it('takes the apply-mode clusters from policy.yml when the stack is packaged (stack/kubernetes.stack.js)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-policy-'));
    const file = join(dir, 'policy.yml');
    const repo = readFileSync(join(__dirname, '..', '..', 'policy.yml'), 'utf8');
    writeFileSync(file, repo.replace('\nclusters:\n', '\nclusters:\n  orders-prod:\n    mode: apply\n'));
    const previous = process.env.POLICY_FILE;
    process.env.POLICY_FILE = file;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const stack = require('../../stack/kubernetes.stack.js') as (c: { resolveVariable: (v: string) => Promise<string> }) => Promise<{ resources: { Resources: Record<string, { Properties: Record<string, unknown> }> } }>;
      const params: Record<string, string> = { 'param:kubernetesClusters': 'orders-prod,payments-prod', 'param:kubernetesWrite': 'true', 'param:clusterNames': '' };
      const out = await stack({ resolveVariable: async (v) => params[v] ?? '' });
      const groups = Object.values(out.resources.Resources).map((r) => [r.Properties['ClusterName'], r.Properties['KubernetesGroups']]);
      expect(groups).toEqual([
        ['orders-prod', [KUBE_READER_GROUP]],
        ['orders-prod', [KUBE_READER_GROUP, KUBE_WRITER_GROUP]],
        ['payments-prod', [KUBE_READER_GROUP]],
        ['payments-prod', [KUBE_READER_GROUP]],
      ]);
    } finally {
      if (previous === undefined) delete process.env.POLICY_FILE;
      else process.env.POLICY_FILE = previous;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives alphanumeric logical ids that tell apart names differing only in - and _', () => {
    const ids = ['a-b', 'ab', 'a_b'].map((c) => accessEntryLogicalId('SamplerAccessEntry', c));
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id).toMatch(/^SamplerAccessEntryab[0-9a-f]{8}$/);
  });
});

describe('vpcConfig and kubernetesResources', () => {
  it('places the functions only with both subnets and groups, and adds the ENI policy only then', () => {
    expect(vpcConfig({ ...NONE, vpcSubnetIds: SUBNETS, vpcSecurityGroupIds: GROUPS })).toEqual({
      subnetIds: SUBNETS.split(','),
      securityGroupIds: [GROUPS],
    });
    expect(vpcConfig({ ...NONE, vpcSubnetIds: SUBNETS })).toBe(false);
    expect(vpcConfig(NONE)).toBe(false);
    expect(Object.keys(kubernetesResources({ ...NONE, vpcSubnetIds: SUBNETS, vpcSecurityGroupIds: GROUPS }, new Set()))).toEqual(['FunctionVpcAccessPolicy']);
    expect(kubernetesResources(NONE, new Set())).toEqual({});
  });
});

describe('kubernetesParamProblems', () => {
  const ok = { ...NONE, clusterNames: '' };
  it('takes the defaults and a full, valid set', () => {
    expect(kubernetesParamProblems(ok)).toEqual([]);
    expect(
      kubernetesParamProblems({ kubernetesClusters: 'orders-prod', kubernetesWrite: 'true', vpcSubnetIds: SUBNETS, vpcSecurityGroupIds: GROUPS, clusterNames: 'orders-prod,b' }),
    ).toEqual([]);
  });

  it.each([
    [{ vpcSubnetIds: SUBNETS }, 'vpcSubnetIds is set but vpcSecurityGroupIds is not: a VPC placement needs both (subnets and at least one security group), or neither'],
    [{ vpcSecurityGroupIds: GROUPS }, 'vpcSecurityGroupIds is set but vpcSubnetIds is not: a VPC placement needs both (subnets and at least one security group), or neither'],
    [{ vpcSubnetIds: 'subnet-1', vpcSecurityGroupIds: GROUPS }, 'vpcSubnetIds: "subnet-1" is not a subnet id (subnet-0123456789abcdef0)'],
    [{ vpcSubnetIds: SUBNETS, vpcSecurityGroupIds: 'default' }, 'vpcSecurityGroupIds: "default" is not a security group id (sg-0123456789abcdef0)'],
    [{ kubernetesClusters: '-bad' }, 'kubernetesClusters: "-bad" is not a valid EKS cluster name'],
    [{ kubernetesClusters: 'a,a' }, 'kubernetesClusters lists "a" twice (one access entry per cluster and role)'],
    [{ kubernetesClusters: 'c', clusterNames: 'a,b' }, 'kubernetesClusters lists "c", which clusterNames does not watch: add it to clusterNames or remove it from kubernetesClusters'],
    [{ kubernetesWrite: 'yes' }, `kubernetesWrite: "yes" is neither 'true' nor 'false'`],
  ])('refuses %j', (change, problem) => {
    expect(kubernetesParamProblems({ ...ok, ...change })).toEqual([problem]);
  });

  it('refuses more subnets or groups than Lambda takes', () => {
    const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(17, '0')}`).join(',');
    expect(kubernetesParamProblems({ ...ok, vpcSubnetIds: ids('subnet', 17), vpcSecurityGroupIds: ids('sg', 6) })).toEqual([
      'vpcSubnetIds lists 17 subnets: Lambda takes at most 16',
      'vpcSecurityGroupIds lists 6 security groups: Lambda takes at most 5',
    ]);
  });
});

describe('the RBAC manifest', () => {
  it('is what stack/kubernetes-rbac.yaml holds (regenerate: npx eks-ip-responder rbac > stack/kubernetes-rbac.yaml)', () => {
    expect(readFileSync(join(REPOSITORY_ROOT, 'stack', 'kubernetes-rbac.yaml'), 'utf8')).toBe(rbacManifest());
  });

  it('parses into a ClusterRole, a kube-system Role and their bindings per group', () => {
    const docs = parseAllDocuments(rbacManifest()).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string }; subjects?: { name: string }[] });
    expect(docs).toEqual(rbacObjects());
    expect(docs.map((d) => `${d.kind} ${d.metadata.namespace ?? '-'} ${d.metadata.name}`)).toEqual([
      `ClusterRole - ${KUBE_READER_GROUP}`,
      `ClusterRoleBinding - ${KUBE_READER_GROUP}`,
      `Role kube-system ${KUBE_READER_GROUP}`,
      `RoleBinding kube-system ${KUBE_READER_GROUP}`,
      `ClusterRole - ${KUBE_WRITER_GROUP}`,
      `ClusterRoleBinding - ${KUBE_WRITER_GROUP}`,
      `Role kube-system ${KUBE_WRITER_GROUP}`,
      `RoleBinding kube-system ${KUBE_WRITER_GROUP}`,
    ]);
    for (const d of docs.filter((x) => x.subjects)) expect(d.subjects?.map((s) => s.name)).toEqual([d.metadata.name]);
  });

  it('gives the reader get and list only, and aws-node by name', () => {
    const [readerCluster, , readerNs] = rbacObjects() as { rules: { verbs: string[]; resources: string[]; resourceNames?: string[] }[] }[];
    const verbs = [...readerCluster!.rules, ...readerNs!.rules].flatMap((r) => r.verbs);
    expect([...new Set(verbs)].sort()).toEqual(['get', 'list']);
    expect(readerNs!.rules).toEqual([{ apiGroups: ['apps'], resources: ['daemonsets'], resourceNames: ['aws-node'], verbs: ['get'] }]);
  });
});

describe('the packaged template', () => {
  let placed: Packaged | undefined;
  let refused = '';
  beforeAll(() => {
    placed = packageWith({ kubernetesClusters: 'orders-prod,payments-prod', kubernetesWrite: 'true', vpcSubnetIds: SUBNETS, vpcSecurityGroupIds: GROUPS });
    try {
      packageWith({ vpcSecurityGroupIds: GROUPS }).remove();
    } catch (err) {
      refused = String(err);
    }
  }, 180_000);
  afterAll(() => placed?.remove());
  const withAccess = (): CfnTemplate => {
    if (!placed) throw new Error('not packaged');
    return placed.template;
  };
  const functions = (t: CfnTemplate) => resourcesOfType(t, 'AWS::Lambda::Function');

  it('without the params: no access entry, no VPC config, no ENI policy, KUBERNETES_CLUSTERS empty', () => {
    const template = loadTemplate();
    expect(resourcesOfType(template, 'AWS::EKS::AccessEntry')).toEqual([]);
    expect(template.Resources['FunctionVpcAccessPolicy']).toBeUndefined();
    for (const [, fn] of functions(template)) {
      expect(fn.Properties.VpcConfig).toBeUndefined();
      expect(fn.Properties.Environment.Variables).toMatchObject({ KUBERNETES_CLUSTERS: '', FUNCTION_SUBNET_IDS: '', FUNCTION_SECURITY_GROUP_IDS: '' });
    }
  });

  it('with them: an entry per cluster and role, the groups right (no writer group: the repository policy puts no cluster in apply mode)', () => {
    const entries = resourcesOfType(withAccess(), 'AWS::EKS::AccessEntry').map(([, e]) => [e.Properties.ClusterName, e.Properties.PrincipalArn['Fn::GetAtt'][0], e.Properties.KubernetesGroups]);
    expect(entries).toEqual([
      ['orders-prod', 'SamplerRole', [KUBE_READER_GROUP]],
      ['orders-prod', 'RespondRole', [KUBE_READER_GROUP]],
      ['payments-prod', 'SamplerRole', [KUBE_READER_GROUP]],
      ['payments-prod', 'RespondRole', [KUBE_READER_GROUP]],
    ]);
  });

  it('with them: both functions in the subnets and groups, after their ENI policy, told their placement', () => {
    for (const [, fn] of functions(withAccess())) {
      expect(fn.Properties.VpcConfig).toEqual({ SubnetIds: SUBNETS.split(','), SecurityGroupIds: [GROUPS] });
      expect(asList(fn.DependsOn ?? [])).toContain('FunctionVpcAccessPolicy');
      expect(fn.Properties.Environment.Variables).toMatchObject({ KUBERNETES_CLUSTERS: 'orders-prod,payments-prod', FUNCTION_SUBNET_IDS: SUBNETS, FUNCTION_SECURITY_GROUP_IDS: GROUPS });
    }
  });

  it('with them: each role may create ENIs in its account and region, and change only those in the placement subnets', () => {
    const arn = 'arn:aws:ec2:eu-west-1:123456789012:network-interface/eni-0123456789abcdef0';
    const inPlacement = { 'ec2:Subnet': 'arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-0123456789abcdef1' };
    const elsewhere = { 'ec2:Subnet': 'arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-0aaaaaaaaaaaaaaaa' };
    const answers = (role: string) => {
      const statements = deployedStatements(withAccess(), roleStatements(withAccess(), role));
      const ask = (action: string, resource: string, context: Record<string, string> = {}) => evaluateRequest(statements, { action, resource, context }, PSEUDO);
      return {
        create: ask('ec2:CreateNetworkInterface', 'arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-0123456789abcdef0'),
        createInAnotherRegion: ask('ec2:CreateNetworkInterface', 'arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0123456789abcdef0'),
        ...Object.fromEntries(
          ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'].flatMap((action) => [
            [`${action} in placement`, ask(action, arn, inPlacement)],
            [`${action} elsewhere`, ask(action, arn, elsewhere)],
          ]),
        ),
      };
    };
    const expected = {
      create: 'allowed',
      createInAnotherRegion: 'implicit-deny',
      'ec2:DeleteNetworkInterface in placement': 'allowed',
      'ec2:DeleteNetworkInterface elsewhere': 'implicit-deny',
      'ec2:AssignPrivateIpAddresses in placement': 'allowed',
      'ec2:AssignPrivateIpAddresses elsewhere': 'implicit-deny',
      'ec2:UnassignPrivateIpAddresses in placement': 'allowed',
      'ec2:UnassignPrivateIpAddresses elsewhere': 'implicit-deny',
    };
    expect(answers('SamplerRole')).toEqual(expected);
    // With no cluster in apply mode, RespondRole's `remediate` policy denies every remediation
    // write (lib/policy/iam.ts, NoClusterInApplyMode), the delete of a VPC CNI ENI included; the
    // functions' own ENIs of the placement carry no CNI tag, so Lambda can still delete them.
    expect(answers('RespondRole')).toEqual(expected);
    const cniEni = { ...inPlacement, 'aws:ResourceTag/node.k8s.amazonaws.com/instance_id': 'i-0123456789abcdef0' };
    const ask = (role: string) => evaluateRequest(deployedStatements(withAccess(), roleStatements(withAccess(), role)), { action: 'ec2:DeleteNetworkInterface', resource: arn, context: cniEni }, PSEUDO);
    expect({ sampler: ask('SamplerRole'), respond: ask('RespondRole') }).toEqual({ sampler: 'implicit-deny', respond: 'explicit-deny' });
    const samplerEc2Writes = deployedStatements(withAccess(), roleStatements(withAccess(), 'SamplerRole'))
      .filter((s) => s.Effect === 'Allow')
      .flatMap((s) => asList<string>(s.Action))
      .filter((a) => a.startsWith('ec2:') && !isReadAction(a));
    expect(samplerEc2Writes.sort()).toEqual(['ec2:AssignPrivateIpAddresses', 'ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:UnassignPrivateIpAddresses']);
  });

  it('refuses a security group without subnets, before anything is written', () => {
    expect(refused).toContain('The stack would not deploy (1 problem)');
    expect(refused).toContain('vpcSecurityGroupIds is set but vpcSubnetIds is not');
  });
});
