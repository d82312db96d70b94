import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main, type CliIo } from '../../lib/cli/main';
import {
  addonArn,
  checkRemediationPolicySize,
  clusterArn,
  deployableRemediationPolicy,
  deployedPolicySize,
  LONGEST_PSEUDO,
  NO_REMEDIATION_SID,
  nodegroupsArn,
  REMEDIATION_POLICY_MAX_CHARS,
  REMEDIATION_WRITE_ACTIONS,
  remediationGrants,
  remediationPolicy,
  RESERVED_TAG_KEY_PATTERNS,
  subnetArn,
  WRITES_OF_KIND,
  type IamPolicyDocument,
  type IamStatement,
} from '../../lib/policy/iam';
import { DEFAULT_APPLY_PROBLEM, type Policy } from '../../lib/policy/load';
import { parsePolicy, readPolicyFile } from '../../lib/policy/yaml';
import { PolicyError } from '../../lib/policy/types';

const REPO_POLICY = resolve(__dirname, '..', '..', 'policy.yml');
const REPO_TEXT = readFileSync(REPO_POLICY, 'utf8');

/** The repository's policy with `clusters` (YAML, indented under `clusters:`) appended. */
function policyWith(clusters: string): Policy {
  return parsePolicy(REPO_TEXT + clusters, 'policy.yml');
}

/** The repository's policy with the default's mode replaced. */
function withDefaultMode(mode: string): string {
  const text = REPO_TEXT.replace(/^(default:\n(?:\s*#.*\n|\s*\n)*\s+mode: )dry-run$/m, `$1${mode}`);
  if (text === REPO_TEXT) throw new Error('policy.yml has no `default: mode: dry-run` to replace');
  return text;
}

const sids = (doc: IamPolicyDocument) => doc.Statement.map((s) => s.Sid);
const statement = (doc: IamPolicyDocument, sid: string): IamStatement => {
  const found = doc.Statement.find((s) => s.Sid === sid);
  if (!found) throw new Error(`no statement ${sid} in ${JSON.stringify(sids(doc))}`);
  return found;
};

const ORDERS = `
  orders-prod:
    mode: apply
    actions:
      cniSubnets:
        spareSubnets: [subnet-0123456789abcdef0, subnet-0fedcba9876543210]
      instanceTypes:
        allowedTypes: [m6i]
`;

describe('parsePolicy and default.mode', () => {
  it('refuses apply for the default, with the line, and keeps observe and dry-run', () => {
    let error: unknown;
    try {
      parsePolicy(withDefaultMode('apply'), 'policy.yml');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).problems).toEqual([expect.stringMatching(new RegExp(`^default\\.mode: ${DEFAULT_APPLY_PROBLEM.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(line \\d+\\)$`))]);
    expect((error as PolicyError).message).toContain(`policy.yml: default.mode: ${DEFAULT_APPLY_PROBLEM}`);
    expect(parsePolicy(withDefaultMode('observe'), 'policy.yml').default.mode).toBe('observe');
    expect(parsePolicy(REPO_TEXT, 'policy.yml').default.mode).toBe('dry-run');
  });

  it('still accepts apply for a named cluster', () => {
    expect(policyWith(ORDERS).clusters['orders-prod']?.mode).toBe('apply');
  });
});

describe('remediationGrants', () => {
  it('grants nothing for the repository’s policy (payments-prod is dry-run)', () => {
    expect(remediationGrants(readPolicyFile(REPO_POLICY))).toEqual([]);
  });

  it('names each cluster in apply mode with the writes its policy allows', () => {
    const policy = policyWith(`${ORDERS}
  warm-only:
    mode: apply
    actions:
      prefixDelegation:
        allowed: false
  prefix-only:
    mode: apply
    actions:
      warmTargets:
        allowed: false
  types-but-not-allowed:
    mode: apply
    actions:
      warmTargets: { allowed: false }
      prefixDelegation: { allowed: false }
      instanceTypes:
        allowed: false
        allowedTypes: [m6i]
      cniSubnets:
        allowed: false
        spareSubnets: [subnet-0123456789abcdef0]
  dry-run-with-everything:
    mode: dry-run
    actions:
      cniSubnets:
        spareSubnets: [subnet-0123456789abcdef0]
      instanceTypes:
        allowedTypes: [m6i]
`);
    expect(remediationGrants(policy)).toEqual([
      { cluster: 'orders-prod', addon: true, nodegroups: true, spareSubnets: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'] },
      // Warm targets only: the add-on; no type listed and no prefix rollout: no nodegroup.
      { cluster: 'warm-only', addon: true, nodegroups: false, spareSubnets: [] },
      // Prefix delegation updates the add-on and rolls nodegroups (CreateNodegroup too).
      { cluster: 'prefix-only', addon: true, nodegroups: true, spareSubnets: [] },
    ]);
  });

  it('covers every action kind with the writes its executor makes', () => {
    expect(Object.keys(WRITES_OF_KIND).sort()).toEqual([
      'cni-subnets',
      'eni-configs',
      'instance-types',
      'karpenter-instance-types',
      'karpenter-subnets',
      'leaked-enis',
      'prefix-delegation',
      'prefix-rollout',
      'subnet-reservations',
      'warm-targets',
    ]);
    // Issue 14: the Karpenter actions write through Kubernetes RBAC, no AWS API.
    expect([WRITES_OF_KIND['karpenter-subnets'], WRITES_OF_KIND['karpenter-instance-types']]).toEqual([[], []]);
    expect([...new Set(Object.values(WRITES_OF_KIND).flat())].sort()).toEqual([...REMEDIATION_WRITE_ACTIONS].sort());
  });

  it('refuses a default in apply mode and a name or subnet that would widen an ARN', () => {
    const policy = readPolicyFile(REPO_POLICY);
    expect(() => remediationGrants({ ...policy, default: { ...policy.default, mode: 'apply' } })).toThrow(PolicyError);
    expect(() => remediationGrants({ ...policy, clusters: { 'prod*': { mode: 'apply' } } })).toThrow(/not an EKS cluster name/);
    expect(() =>
      remediationGrants({ ...policy, clusters: { prod: { mode: 'apply', actions: { cniSubnets: { spareSubnets: ['subnet-*'] } } } } }),
    ).toThrow(/not a subnet id/);
  });
});

describe('remediationPolicy', () => {
  it('is a Deny of every remediation write when no cluster is in apply mode (a CNI ENI delete by its tag)', () => {
    expect(remediationPolicy(readPolicyFile(REPO_POLICY))).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: NO_REMEDIATION_SID,
          Effect: 'Deny',
          Action: ['eks:UpdateAddon', 'eks:CreateNodegroup', 'eks:TagResource', 'eks:UpdateNodegroupConfig', 'ec2:CreateTags', 'ec2:DeleteTags', 'ec2:CreateSubnetCidrReservation'],
          Resource: '*',
        },
        {
          Sid: 'NoClusterInApplyModeCniEnis',
          Effect: 'Deny',
          Action: ['ec2:DeleteNetworkInterface'],
          Resource: '*',
          Condition: { Null: { 'aws:ResourceTag/node.k8s.amazonaws.com/instance_id': 'false' } },
        },
      ],
    });
  });

  it('is the same Deny when the clusters in apply mode allow no write', () => {
    const doc = remediationPolicy(
      policyWith(`
  idle:
    mode: apply
    actions:
      warmTargets: { allowed: false }
      prefixDelegation: { allowed: false }
`),
    );
    expect(sids(doc)).toEqual([NO_REMEDIATION_SID, 'NoClusterInApplyModeCniEnis']);
  });

  it('grants each write on the apply clusters’ ARNs only, as Fn::Sub of the stack’s partition, region and account', () => {
    const doc = remediationPolicy(
      policyWith(`${ORDERS}
  batch-dev:
    mode: apply
    actions:
      warmTargets: { allowed: false }
      prefixDelegation: { allowed: false }
      cniSubnets:
        spareSubnets: [subnet-0123456789abcdef0]
`),
    );
    expect(sids(doc)).toEqual([
      'UpdateVpcCniAddon',
      'CreateReplacementNodegroups',
      'TagReplacementNodegroups',
      'ScaleNodegroups',
      'TagSubnetsForCni',
      'DenyReservedTagKeys',
    ]);
    expect(statement(doc, 'UpdateVpcCniAddon').Resource).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:addon/orders-prod/vpc-cni/*' },
    ]);
    expect(statement(doc, 'CreateReplacementNodegroups')).toEqual({
      Sid: 'CreateReplacementNodegroups',
      Effect: 'Allow',
      Action: ['eks:CreateNodegroup'],
      Resource: [{ 'Fn::Sub': 'arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:cluster/orders-prod' }],
      Condition: {
        Null: { 'aws:RequestTag/eks-ip-responder/replaces': 'false' },
        StringEquals: { 'aws:ResourceTag/eks-ip-responder/remediation': 'apply' },
      },
    });
    expect(statement(doc, 'TagReplacementNodegroups').Resource).toEqual([nodegroupsArn('orders-prod')]);
    expect(statement(doc, 'TagReplacementNodegroups').Condition).toEqual({ Null: { 'aws:RequestTag/eks-ip-responder/replaces': 'false' } });
    expect(statement(doc, 'ScaleNodegroups')).toEqual({
      Sid: 'ScaleNodegroups',
      Effect: 'Allow',
      Action: ['eks:UpdateNodegroupConfig'],
      Resource: [{ 'Fn::Sub': 'arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:nodegroup/orders-prod/*/*' }],
    });
    // Both clusters' spare subnets, the shared one once.
    expect(statement(doc, 'TagSubnetsForCni')).toEqual({
      Sid: 'TagSubnetsForCni',
      Effect: 'Allow',
      Action: ['ec2:CreateTags'],
      Resource: [subnetArn('subnet-0123456789abcdef0'), subnetArn('subnet-0fedcba9876543210')],
      Condition: {
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['kubernetes.io/role/cni'] },
        StringEquals: { 'aws:RequestTag/kubernetes.io/role/cni': '1' },
      },
    });
    expect(statement(doc, 'DenyReservedTagKeys')).toEqual({
      Sid: 'DenyReservedTagKeys',
      Effect: 'Deny',
      Action: ['eks:CreateNodegroup', 'eks:TagResource'],
      Resource: '*',
      Condition: { 'ForAnyValue:StringLike': { 'aws:TagKeys': ['eks-ip-responder/remediation', 'aws:*'] } },
    });
    expect(RESERVED_TAG_KEY_PATTERNS).not.toContain('kubernetes.io/*');
  });

  it('lists several clusters’ ARNs in one statement per write, in the order of clusters:', () => {
    const doc = remediationPolicy(
      policyWith(`
  b-cluster:
    mode: apply
  a-cluster:
    mode: apply
`),
    );
    expect(statement(doc, 'UpdateVpcCniAddon').Resource).toEqual([addonArn('b-cluster'), addonArn('a-cluster')]);
    expect(statement(doc, 'CreateReplacementNodegroups').Resource).toEqual([clusterArn('b-cluster'), clusterArn('a-cluster')]);
    expect(sids(doc)).not.toContain('TagSubnetsForCni');
    expect(sids(doc).filter((s) => s.startsWith('SteerCniSubnets'))).toEqual([]);
  });

  it('lets each cluster delete only its own cluster tag, only on its excludable subnets, and only a request that names its keys', () => {
    const doc = remediationPolicy(
      policyWith(`
  prod:
    mode: apply
    actions:
      cniSubnets:
        excludableSubnets: [subnet-0aaaaaaaaaaaaaaa1]
  staging:
    mode: apply
    actions:
      cniSubnets:
        excludableSubnets: [subnet-0aaaaaaaaaaaaaaa1, subnet-0bbbbbbbbbbbbbbb2]
  batch:
    mode: apply
`),
    );
    expect(statement(doc, 'SteerCniSubnets1')).toEqual({
      Sid: 'SteerCniSubnets1',
      Effect: 'Allow',
      Action: ['ec2:DeleteTags', 'ec2:CreateTags'],
      Resource: [subnetArn('subnet-0aaaaaaaaaaaaaaa1')],
      Condition: {
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['cni.networking.k8s.aws/cluster/prod'] },
        Null: { 'aws:TagKeys': 'false' },
      },
    });
    expect(statement(doc, 'SteerCniSubnets2').Resource).toEqual([subnetArn('subnet-0aaaaaaaaaaaaaaa1'), subnetArn('subnet-0bbbbbbbbbbbbbbb2')]);
    expect(statement(doc, 'SteerCniSubnets2').Condition).toMatchObject({
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['cni.networking.k8s.aws/cluster/staging'] },
    });
    // No spare subnet listed: no CreateTags grant; batch lists nothing to steer: no statement.
    expect(sids(doc)).not.toContain('TagSubnetsForCni');
    expect(sids(doc).filter((s) => s.startsWith('SteerCniSubnets'))).toHaveLength(2);
    expect(JSON.stringify(doc)).not.toContain('cni.networking.k8s.aws/cluster/batch');
  });
});

describe('the size of the remediate policy', () => {
  /** `n` clusters in apply mode with every action, and three spare subnets each if `subnets`. */
  const many = (n: number, subnets = true) =>
    Array.from({ length: n }, (_, i) => {
      const id = (suffix: string) => `subnet-${String(i).padStart(17 - suffix.length, '0')}${suffix}`;
      const spare = subnets ? `      cniSubnets:\n        spareSubnets: [${id('')}, ${id('a')}, ${id('b')}]\n` : '';
      return `  cluster-${String(i).padStart(12, '0')}:\n    mode: apply\n    actions:\n${spare}      instanceTypes:\n        allowedTypes: [m6i]\n`;
    }).join('');

  it('is counted with the longest partition, region and account CloudFormation could substitute', () => {
    const doc: IamPolicyDocument = {
      Version: '2012-10-17',
      Statement: [{ Sid: 'A', Effect: 'Allow', Action: ['x:Y'], Resource: [addonArn('c')] }],
    };
    const expanded = `arn:${LONGEST_PSEUDO['AWS::Partition']}:eks:${LONGEST_PSEUDO['AWS::Region']}:${LONGEST_PSEUDO['AWS::AccountId']}:addon/c/vpc-cni/*`;
    expect(deployedPolicySize(doc)).toBe(JSON.stringify({ ...doc, Statement: [{ ...doc.Statement[0], Resource: [expanded] }] }).length);
    expect(() => deployedPolicySize({ Resource: { Ref: 'X' } })).toThrow(/only Fn::Sub/);
    expect(() => deployedPolicySize({ Resource: { 'Fn::Sub': '${Unknown}' } })).toThrow(/no longest value/);
  });

  it('takes nine clusters (20-character names) with every action and three spare subnets each, or sixteen without, and refuses more, naming them', () => {
    expect(() => deployableRemediationPolicy(policyWith(many(9)), 'policy.yml')).not.toThrow();
    expect(() => deployableRemediationPolicy(policyWith(many(16, false)), 'policy.yml')).not.toThrow();
    const doc = remediationPolicy(policyWith(many(10)));
    expect(deployedPolicySize(doc)).toBeGreaterThan(REMEDIATION_POLICY_MAX_CHARS);
    expect(() => checkRemediationPolicySize(doc, remediationGrants(policyWith(many(10))), 'policy.yml')).toThrow(
      /policy\.yml: \(top level\): the responder's IAM policy for the 10 cluster\(s\) in apply mode \(cluster-000000000000, .*\) would take up to \d+ characters, above the 6500/,
    );
    expect(() => deployableRemediationPolicy(policyWith(many(18, false)), 'policy.yml')).toThrow(/for the 18 cluster\(s\)/);
  });
});

// What serverless.yml calls at packaging time: `${file(./stack/policy.stack.js):remediationPolicy}`.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const resolveStack = require('../../stack/policy.stack.js') as (context?: {
  policyFile?: string;
}) => Promise<{ json: string; remediationPolicy: IamPolicyDocument }>;

describe('policy.stack.js and `policy check`', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'policy-iam-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (text: string) => {
    const file = join(dir, 'policy.yml');
    writeFileSync(file, text);
    return file;
  };

  function io() {
    let out = '';
    let err = '';
    const cli: CliIo = { out: (t) => (out += t), err: (t) => (err += t), env: {}, now: () => new Date('2025-01-01T00:00:00Z') };
    return { cli, out: () => out, err: () => err };
  }

  it('answers the remediate policy of the file it packages', async () => {
    expect((await resolveStack()).remediationPolicy).toEqual(remediationPolicy(readPolicyFile(REPO_POLICY)));
    const file = write(REPO_TEXT + ORDERS);
    expect((await resolveStack({ policyFile: file })).remediationPolicy).toEqual(remediationPolicy(readPolicyFile(file)));
  });

  it('refuses to package a default in apply mode, and `policy check` reports it the same way', async () => {
    const file = write(withDefaultMode('apply'));
    await expect(resolveStack({ policyFile: file })).rejects.toThrow(`${file}: default.mode: ${DEFAULT_APPLY_PROBLEM}`);
    const t = io();
    expect(await main(['policy', 'check', '--policy', file], t.cli)).toBe(1);
    expect(t.err()).toContain(`${file}: default.mode: ${DEFAULT_APPLY_PROBLEM}`);
  });

  it('`policy check` says which clusters the responder’s role may change, or that it may change none', async () => {
    const none = io();
    expect(await main(['policy', 'check', '--policy', REPO_POLICY], none.cli)).toBe(0);
    expect(none.out()).toContain("IAM: no cluster in apply mode: the responder's role is granted no EKS or EC2 write");
    const some = io();
    expect(await main(['policy', 'check', '--policy', write(REPO_TEXT + ORDERS)], some.cli)).toBe(0);
    expect(some.out()).toContain(
      "IAM: the responder's role may change orders-prod (vpc-cni add-on, nodegroups, tags on subnet-0123456789abcdef0, subnet-0fedcba9876543210), and nothing else",
    );
  });
});

describe('subnet reservations in the remediation policy', () => {
  const RESERVE = `
  orders-prod:
    mode: apply
    actions:
      subnetReservations:
        allowed: true
        subnets: [subnet-0123456789abcdef0]
`;

  it('grants CreateSubnetCidrReservation on exactly the listed subnets and any new reservation, and its tags only at creation', () => {
    const doc = remediationPolicy(policyWith(RESERVE));
    expect(statement(doc, 'CreatePrefixReservations')).toEqual({
      Sid: 'CreatePrefixReservations',
      Effect: 'Allow',
      Action: ['ec2:CreateSubnetCidrReservation'],
      Resource: [subnetArn('subnet-0123456789abcdef0'), { 'Fn::Sub': 'arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:subnet-cidr-reservation/*' }],
    });
    expect(statement(doc, 'TagPrefixReservationsOnCreate')).toMatchObject({
      Action: ['ec2:CreateTags'],
      Resource: [{ 'Fn::Sub': 'arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:subnet-cidr-reservation/*' }],
      Condition: {
        StringEquals: { 'ec2:CreateAction': 'CreateSubnetCidrReservation' },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['eks-ip-responder/action', 'eks-ip-responder/write-token'] },
      },
    });
    // Reserving is not tagging subnets: no CreateTags on a subnet ARN.
    expect(sids(doc)).not.toContain('TagSubnetsForCni');
    expect(remediationGrants(policyWith(RESERVE))).toEqual([
      { cluster: 'orders-prod', addon: true, nodegroups: true, spareSubnets: [], reservationSubnets: ['subnet-0123456789abcdef0'] },
    ]);
  });

  it.each([
    ['left out of the cluster (the default: not allowed)', '\n  orders-prod:\n    mode: apply\n'],
    ['allowed with no subnet listed', '\n  orders-prod:\n    mode: apply\n    actions:\n      subnetReservations:\n        allowed: true\n'],
    ['listed but in dry-run', '\n  orders-prod:\n    mode: dry-run\n    actions:\n      subnetReservations:\n        allowed: true\n        subnets: [subnet-0123456789abcdef0]\n'],
  ])('grants nothing to reserve when %s', (_name, clusters) => {
    const doc = remediationPolicy(policyWith(clusters));
    expect(sids(doc)).not.toContain('CreatePrefixReservations');
    expect(JSON.stringify(doc)).not.toContain('subnet-cidr-reservation');
  });
});

describe('issue 14: custom networking (eni-configs)', () => {
  const ONLY_ENI = (extra: string) => `
  orders-prod:
    mode: apply
    actions:
      warmTargets: { allowed: false }
      prefixDelegation: { allowed: false }
      eniConfigs: { allowed: true${extra} }`;

  it('grants UpdateAddon of the cluster vpc-cni add-on (its env step) and nothing more in AWS: the ENIConfigs are Kubernetes RBAC', () => {
    expect(remediationGrants(policyWith(ONLY_ENI(', subnets: [subnet-0a64000000000000a]')))).toEqual([{ cluster: 'orders-prod', addon: true, nodegroups: false, spareSubnets: [] }]);
  });

  it('grants nothing when no subnet is listed (the planner proposes nothing then)', () => {
    expect(remediationGrants(policyWith(ONLY_ENI('')))).toEqual([]);
  });
});

describe('issue 13: ec2:DeleteNetworkInterface of leaked VPC CNI ENIs', () => {
  const APPLY_LEAKED_ONLY = (name: string) => `
  ${name}:
    mode: apply
    actions:
      warmTargets: { allowed: false }
      prefixDelegation: { allowed: false }
      leakedEnis: { allowed: true }`;

  it('is granted on ENIs tagged with an apply cluster that allows it, and carrying the CNI instance tag, only', () => {
    const policy = policyWith(`${APPLY_LEAKED_ONLY('orders-prod')}${APPLY_LEAKED_ONLY('batch-dev')}
  staging:
    mode: dry-run
    actions:
      leakedEnis: { allowed: true }
`);
    expect(remediationGrants(policy)).toEqual([
      { cluster: 'orders-prod', addon: false, nodegroups: false, spareSubnets: [], leakedEnis: true },
      { cluster: 'batch-dev', addon: false, nodegroups: false, spareSubnets: [], leakedEnis: true },
    ]);
    const doc = remediationPolicy(policy);
    expect(sids(doc)).toEqual(['DeleteLeakedCniEnis']);
    expect(statement(doc, 'DeleteLeakedCniEnis')).toEqual({
      Sid: 'DeleteLeakedCniEnis',
      Effect: 'Allow',
      Action: ['ec2:DeleteNetworkInterface'],
      Resource: [{ 'Fn::Sub': 'arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:network-interface/*' }],
      Condition: {
        StringEquals: { 'aws:ResourceTag/cluster.k8s.amazonaws.com/name': ['orders-prod', 'batch-dev'] },
        Null: { 'aws:ResourceTag/node.k8s.amazonaws.com/instance_id': 'false' },
      },
    });
  });

  it('is not granted by default (a policy without leakedEnis, or with allowed: false)', () => {
    const doc = remediationPolicy(policyWith(ORDERS));
    expect(sids(doc)).not.toContain('DeleteLeakedCniEnis');
    expect(doc.Statement.flatMap((s) => (s.Effect === 'Allow' ? s.Action : []))).not.toContain('ec2:DeleteNetworkInterface');
  });

  it('refuses a minAgeMinutes below the hour', () => {
    expect(() => policyWith(`
  orders-prod:
    actions:
      leakedEnis: { allowed: true, minAgeMinutes: 30 }
`)).toThrow(/leakedEnis\.minAgeMinutes.*60/);
  });
});
