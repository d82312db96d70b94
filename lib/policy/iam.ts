/**
 * The responder's remediation permissions, computed from the policy when the stack is packaged
 * (stack/policy.stack.js → resources/roles.yml, RespondRole's inline policy `remediate`): each
 * EKS and EC2 write is granted only on the resources of the clusters whose policy is in apply
 * mode and allows the action kinds that make it, so that IAM holds the responder to what its own
 * gates (lib/plan/gates.ts) allow. Pure: no file, no AWS, no environment.
 * Design: docs/iam.md
 */
import {
  ACTION_TAG_KEY,
  CNI_CLUSTER_TAG_PREFIX,
  CNI_ENI_CLUSTER_TAG_KEY,
  CNI_ENI_INSTANCE_TAG_KEY,
  CNI_ROLE_TAG_KEY,
  CNI_ROLE_TAG_VALUE,
  REPLACES_TAG_KEY,
  WRITE_TOKEN_TAG_KEY,
} from '../names';
import { effectivePolicy } from './load';
import { CLUSTER_NAME_PATTERN, SUBNET_ID_PATTERN } from './schema';
import { actionPolicyOf, OPT_IN_TAG_KEY, OPT_IN_TAG_VALUE, PolicyError, type ActionKind, type EffectivePolicy, type Policy } from './types';

/** A CloudFormation `Fn::Sub`: the stack's partition, region and account are known only at deploy time. */
export interface CfnSub {
  'Fn::Sub': string;
}

/** An IAM policy statement as the template writes it. */
export interface IamStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string | Array<string | CfnSub>;
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** An IAM policy document (RespondRole's inline policy `remediate`). */
export interface IamPolicyDocument {
  Version: '2012-10-17';
  Statement: IamStatement[];
}

/** Every EKS and EC2 write the remediation makes: the only ones in the stack. */
export const REMEDIATION_WRITE_ACTIONS = [
  'eks:UpdateAddon',
  'eks:CreateNodegroup',
  'eks:TagResource',
  'eks:UpdateNodegroupConfig',
  'ec2:CreateTags',
  'ec2:DeleteTags',
  'ec2:CreateSubnetCidrReservation',
  'ec2:DeleteNetworkInterface',
] as const;

export type RemediationWriteAction = (typeof REMEDIATION_WRITE_ACTIONS)[number];

/** The writes each action kind makes (its executor, lib/act/execute-*.ts). A new kind must say which. */
export const WRITES_OF_KIND: Readonly<Record<ActionKind, readonly RemediationWriteAction[]>> = {
  // UpdateAddon of the vpc-cni add-on's configurationValues (lib/act/execute-addon.ts).
  'warm-targets': ['eks:UpdateAddon'],
  'prefix-delegation': ['eks:UpdateAddon'],
  // A copy of the nodegroup (CreateNodegroup, which tags it), then the old one scaled to 0
  // (UpdateNodegroupConfig): lib/act/execute-nodegroup.ts.
  'prefix-rollout': ['eks:CreateNodegroup', 'eks:TagResource', 'eks:UpdateNodegroupConfig'],
  'instance-types': ['eks:CreateNodegroup', 'eks:TagResource', 'eks:UpdateNodegroupConfig'],
  // CreateTags kubernetes.io/role/cni=1 on allow-listed subnets (lib/act/execute-subnets.ts).
  // DeleteTags cni.networking.k8s.aws/cluster/<cluster> on allow-listed shared subnets (steering).
  'cni-subnets': ['ec2:CreateTags', 'ec2:DeleteTags'],
  // CreateSubnetCidrReservation of type prefix on allow-listed subnets, tagged as it is created
  // (lib/act/execute-reservations.ts); its tagging is granted with it (statement TagPrefixReservationsOnCreate).
  'subnet-reservations': ['ec2:CreateSubnetCidrReservation'],
  // DeleteNetworkInterface of leaked VPC CNI ENIs tagged with the cluster (lib/act/execute-enis.ts).
  'leaked-enis': ['ec2:DeleteNetworkInterface'],
  // Server-side apply through the cluster's access entry (Kubernetes RBAC: get and patch on
  // karpenter.k8s.aws ec2nodeclasses / karpenter.sh nodepools), no AWS API write.
  'karpenter-subnets': [],
  'karpenter-instance-types': [],
  // ENIConfigs are Kubernetes objects (server-side apply through the access entry: RBAC, not IAM);
  // the CNI env goes through UpdateAddon when the CNI is the managed add-on (lib/act/execute-eni-configs.ts).
  'eni-configs': ['eks:UpdateAddon'],
};

/**
 * Tag keys the responder may never set on anything (an explicit Deny, which no Allow overrides):
 * the opt-in key, so that the responder can never opt a cluster in, or carry it elsewhere; and
 * `aws:*`, the prefix AWS reserves for itself. Not `kubernetes.io/*` or `k8s.io/*`: no component
 * reads a managed nodegroup's resource tags (EKS does not propagate them to the Auto Scaling
 * group or the instances), and a replacement nodegroup copies the old nodegroup's tags
 * (lib/aws/nodegroup.ts replacementNodegroupInput), which often carry such keys: refusing them
 * would only make those replacements fail. For the same reason the keys are a deny list, not an
 * allow list: the copied keys are the operator's, unknown when the stack is packaged.
 */
export const RESERVED_TAG_KEY_PATTERNS = [OPT_IN_TAG_KEY, 'aws:*'] as const;

/** What IAM must grant for one cluster in apply mode. */
export interface ClusterGrants {
  cluster: string;
  /** eks:UpdateAddon on its vpc-cni add-on (warm targets or prefix delegation allowed). */
  addon: boolean;
  /** CreateNodegroup, TagResource and UpdateNodegroupConfig (instance types with types listed, or prefix delegation's rollout). */
  nodegroups: boolean;
  /** The spare subnets it may tag (CNI subnets allowed): exactly those, by id. */
  spareSubnets: string[];
  /** The shared subnets it may steer away from (`excludableSubnets`): DeleteTags of its own cluster tag only. Absent = none. */
  excludableSubnets?: string[];
  /** The subnets it may reserve prefix ranges in (subnet reservations allowed): exactly those, by id. Absent = none. */
  reservationSubnets?: string[];
  /** ec2:DeleteNetworkInterface on ENIs tagged cluster.k8s.amazonaws.com/name=<cluster> (leaked ENIs allowed). Absent = false. */
  leakedEnis?: boolean;
}

/** Whether an action kind can ever be applied under a cluster's policy (the planners' own preconditions included). */
function kindApplies(policy: EffectivePolicy, kind: ActionKind): boolean {
  if (!actionPolicyOf(policy.actions, kind).allowed) return false;
  // With no type listed the planner proposes nothing it could apply (lib/plan/instance-types.ts:
  // "policy allows no instance types"), nor, with no spare subnet, the CNI-subnets planner.
  if (kind === 'instance-types') return policy.actions.instanceTypes.allowedTypes.length > 0;
  if (kind === 'cni-subnets') return policy.actions.cniSubnets.spareSubnets.length > 0 || (policy.actions.cniSubnets.excludableSubnets ?? []).length > 0;
  // Nor, with no subnet listed, the subnet-reservations planner.
  if (kind === 'subnet-reservations') return (policy.actions.subnetReservations?.subnets.length ?? 0) > 0;
  // Nor, with no subnet listed, the ENIConfig planner.
  if (kind === 'eni-configs') return (policy.actions.eniConfigs?.subnets.length ?? 0) > 0;
  return true;
}

/**
 * The clusters IAM must grant remediation writes on, in the order of `clusters:`: those whose
 * effective policy is apply and which allow at least one write. The default is never apply
 * (parsePolicy refuses it), so these are clusters named under `clusters:`.
 * @throws PolicyError when the default is apply (a policy that did not come through parsePolicy),
 *   or a cluster name or subnet id could widen an ARN (a wildcard character).
 */
export function remediationGrants(policy: Policy): ClusterGrants[] {
  if (policy.default.mode === 'apply') {
    throw new PolicyError('default.mode: apply cannot be turned into IAM permissions: name the clusters under clusters:', [
      'default.mode: apply',
    ]);
  }
  const grants: ClusterGrants[] = [];
  for (const cluster of Object.keys(policy.clusters)) {
    // The name goes into an ARN: one with `*` or `?` would grant more than that cluster.
    if (!CLUSTER_NAME_PATTERN.test(cluster)) {
      throw new PolicyError(`clusters.${cluster}: not an EKS cluster name; no IAM permission can be derived`, [`clusters.${cluster}`]);
    }
    const effective = effectivePolicy(policy, cluster);
    if (effective.mode !== 'apply') continue;
    const writes = new Set(
      (Object.keys(WRITES_OF_KIND) as ActionKind[]).filter((kind) => kindApplies(effective, kind)).flatMap((kind) => WRITES_OF_KIND[kind]),
    );
    const spareSubnets = writes.has('ec2:CreateTags') ? [...effective.actions.cniSubnets.spareSubnets] : [];
    for (const id of spareSubnets) {
      if (!SUBNET_ID_PATTERN.test(id)) {
        throw new PolicyError(`clusters.${cluster}.actions.cniSubnets.spareSubnets: ${id} is not a subnet id`, [id]);
      }
    }
    const excludableSubnets = writes.has('ec2:DeleteTags') ? [...(effective.actions.cniSubnets.excludableSubnets ?? [])] : [];
    for (const id of excludableSubnets) {
      if (!SUBNET_ID_PATTERN.test(id)) {
        throw new PolicyError(`clusters.${cluster}.actions.cniSubnets.excludableSubnets: ${id} is not a subnet id`, [id]);
      }
    }
    const reservationSubnets = writes.has('ec2:CreateSubnetCidrReservation') ? [...(effective.actions.subnetReservations?.subnets ?? [])] : [];
    for (const id of reservationSubnets) {
      if (!SUBNET_ID_PATTERN.test(id)) {
        throw new PolicyError(`clusters.${cluster}.actions.subnetReservations.subnets: ${id} is not a subnet id`, [id]);
      }
    }
    const grant: ClusterGrants = {
      cluster,
      addon: writes.has('eks:UpdateAddon'),
      nodegroups: writes.has('eks:CreateNodegroup'),
      spareSubnets,
      ...(excludableSubnets.length > 0 ? { excludableSubnets } : {}),
      ...(reservationSubnets.length > 0 ? { reservationSubnets } : {}),
      ...(writes.has('ec2:DeleteNetworkInterface') ? { leakedEnis: true } : {}),
    };
    if (grant.addon || grant.nodegroups || grant.spareSubnets.length > 0 || excludableSubnets.length > 0 || reservationSubnets.length > 0 || grant.leakedEnis === true) {
      grants.push(grant);
    }
  }
  return grants;
}

/**
 * A resource ARN in the stack's partition, region and account. The ARNs below:
 * A nodegroup's or add-on's UUID is not known before it exists (a replacement is named by the
 * planner, its UUID by EKS), hence `nodegroup/<cluster>/*` + `/*` and `addon/<cluster>/vpc-cni/*`.
 * EKS cluster names have no wildcard character (CLUSTER_NAME_PATTERN), so `<cluster>` matches
 * that one cluster only: `prod` never matches `prod-2`, the `/` after it ends the name.
 */
const arn = (service: 'eks' | 'ec2', resource: string): CfnSub => ({
  'Fn::Sub': `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${resource}`,
});

/** The vpc-cni add-on of a cluster (any UUID). */
export const addonArn = (cluster: string): CfnSub => arn('eks', `addon/${cluster}/vpc-cni/*`);
/** A cluster. */
export const clusterArn = (cluster: string): CfnSub => arn('eks', `cluster/${cluster}`);
/** Every nodegroup of a cluster (any name, any UUID). */
export const nodegroupsArn = (cluster: string): CfnSub => arn('eks', `nodegroup/${cluster}/*/*`);
/** One subnet. */
export const subnetArn = (subnetId: string): CfnSub => arn('ec2', `subnet/${subnetId}`);
/** Any subnet CIDR reservation (its id is EC2's, known only once it exists). */
export const subnetCidrReservationsArn = (): CfnSub => arn('ec2', 'subnet-cidr-reservation/*');

/** Every ENI of the account and region: an ENI's id is not known before the plan (the condition on its tags scopes it). */
export const networkInterfacesArn = (): CfnSub => arn('ec2', 'network-interface/*');

/** The Sid of the Deny of every remediation write a policy without any remediation grant holds. */
export const NO_REMEDIATION_SID = 'NoClusterInApplyMode';
/** The Sid of its Deny of deleting the VPC CNI's ENIs (the one remediation write scoped by a condition). */
export const NO_REMEDIATION_CNI_ENIS_SID = 'NoClusterInApplyModeCniEnis';

/**
 * RespondRole's `remediate` policy for a policy: the remediation writes on the resources of
 * {@link remediationGrants} only. Without any grant (the repository's policy: no cluster in apply
 * mode) it holds an explicit Deny of every remediation write, Sid {@link NO_REMEDIATION_SID} (the
 * delete of a VPC CNI ENI in a second statement, {@link NO_REMEDIATION_CNI_ENIS_SID}):
 * an IAM policy needs at least one statement, and the Deny also says, in the role, that it
 * changes nothing.
 *
 * Statements (each only when some cluster needs it):
 * - UpdateVpcCniAddon: eks:UpdateAddon on `addon/<cluster>/vpc-cni/*`.
 * - CreateReplacementNodegroups: eks:CreateNodegroup on `cluster/<cluster>`, only with the request
 *   tag eks-ip-responder/replaces (every replacement carries it: lib/aws/nodegroup.ts) and only
 *   while the cluster carries the opt-in tag (aws:ResourceTag on the cluster, a CreateNodegroup
 *   condition key): IAM itself then refuses a nodegroup on a cluster that is not opted in.
 * - TagReplacementNodegroups: eks:TagResource on `nodegroup/<cluster>/*` + `/*`, only with that
 *   request tag (CreateNodegroup authorises its tags as TagResource on the new nodegroup).
 * - ScaleNodegroups: eks:UpdateNodegroupConfig on `nodegroup/<cluster>/*` + `/*` (the old
 *   nodegroup, scaled to 0 once its replacement is ACTIVE).
 * - TagSubnetsForCni: ec2:CreateTags on exactly the listed spare subnets, only the tag
 *   kubernetes.io/role/cni, only the value 1.
 * - CreatePrefixReservations: ec2:CreateSubnetCidrReservation on exactly the subnets listed under
 *   actions.subnetReservations.subnets and on `subnet-cidr-reservation/*` (the new reservation).
 * - TagPrefixReservationsOnCreate: ec2:CreateTags on `subnet-cidr-reservation/*` only with
 *   ec2:CreateAction CreateSubnetCidrReservation and only the responder's action and token keys.
 * - DenyReservedTagKeys (with any nodegroup grant): a Deny of eks:CreateNodegroup and
 *   eks:TagResource whose request carries a key of {@link RESERVED_TAG_KEY_PATTERNS}.
 *
 * Facts this relies on, from the Service Authorization Reference for Amazon EKS
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelastickubernetesservice.html)
 * and Amazon EC2 (…/list_amazonec2.html):
 * - eks:UpdateAddon authorises on `addon*` (`arn:${Partition}:eks:${Region}:${Account}:addon/${ClusterName}/${AddonName}/${UUID}`);
 * - eks:CreateNodegroup authorises on `cluster*` (`…:cluster/${ClusterName}`), its only resource
 *   type, with the condition keys aws:RequestTag/${TagKey}, aws:ResourceTag/${TagKey} (the
 *   cluster's tags) and aws:TagKeys; the CreateNodegroup API also needs eks:TagResource (on the
 *   new nodegroup, for the tags of the request) and iam:PassRole (the node role, passRoleArns);
 * - eks:TagResource authorises on `nodegroup` (among others) with aws:RequestTag, aws:ResourceTag
 *   and aws:TagKeys; eks:UpdateNodegroupConfig on `nodegroup*`
 *   (`…:nodegroup/${ClusterName}/${NodegroupName}/${UUID}`);
 * - ec2:CreateTags authorises on `subnet` (`arn:${Partition}:ec2:${Region}:${Account}:subnet/${SubnetId}`)
 *   with aws:RequestTag and aws:TagKeys;
 * - ec2:CreateSubnetCidrReservation authorises on `subnet` and on `subnet-cidr-reservation`
 *   (`arn:${Partition}:ec2:${Region}:${Account}:subnet-cidr-reservation/${SubnetCidrReservationId}`);
 *   tags given at creation (TagSpecifications) also need ec2:CreateTags on the new resource, which
 *   the condition key ec2:CreateAction limits to that creation (EC2 user guide, "Grant permission
 *   to tag Amazon EC2 resources during creation",
 *   https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html).
 */
export function remediationPolicy(policy: Policy): IamPolicyDocument {
  const grants = remediationGrants(policy);
  const addons = grants.filter((g) => g.addon).map((g) => g.cluster);
  const nodegroups = grants.filter((g) => g.nodegroups).map((g) => g.cluster);
  // A subnet listed for two clusters is granted once.
  const subnets = [...new Set(grants.flatMap((g) => g.spareSubnets))];
  const reservationSubnets = [...new Set(grants.flatMap((g) => g.reservationSubnets ?? []))];

  const statements: IamStatement[] = [];
  if (addons.length > 0) {
    statements.push({ Sid: 'UpdateVpcCniAddon', Effect: 'Allow', Action: ['eks:UpdateAddon'], Resource: addons.map(addonArn) });
  }
  if (nodegroups.length > 0) {
    statements.push(
      {
        Sid: 'CreateReplacementNodegroups',
        Effect: 'Allow',
        Action: ['eks:CreateNodegroup'],
        Resource: nodegroups.map(clusterArn),
        Condition: {
          Null: { [`aws:RequestTag/${REPLACES_TAG_KEY}`]: 'false' },
          StringEquals: { [`aws:ResourceTag/${OPT_IN_TAG_KEY}`]: OPT_IN_TAG_VALUE },
        },
      },
      {
        Sid: 'TagReplacementNodegroups',
        Effect: 'Allow',
        Action: ['eks:TagResource'],
        Resource: nodegroups.map(nodegroupsArn),
        Condition: { Null: { [`aws:RequestTag/${REPLACES_TAG_KEY}`]: 'false' } },
      },
      {
        Sid: 'ScaleNodegroups',
        Effect: 'Allow',
        Action: ['eks:UpdateNodegroupConfig'],
        Resource: nodegroups.map(nodegroupsArn),
      },
    );
  }
  if (subnets.length > 0) {
    statements.push({
      Sid: 'TagSubnetsForCni',
      Effect: 'Allow',
      Action: ['ec2:CreateTags'],
      Resource: subnets.map(subnetArn),
      // ForAllValues: every tag key of the request is the CNI's; StringEquals on the request tag
      // also requires that key (ForAllValues alone is true for a request without tags).
      Condition: {
        'ForAllValues:StringEquals': { 'aws:TagKeys': [CNI_ROLE_TAG_KEY] },
        StringEquals: { [`aws:RequestTag/${CNI_ROLE_TAG_KEY}`]: CNI_ROLE_TAG_VALUE },
      },
    });
  }
  // Steering: per cluster, DeleteTags of that cluster's own cni.networking.k8s.aws/cluster/<name>
  // key, on its excludable subnets only. ec2:DeleteTags authorises on `subnet` with aws:TagKeys
  // (Service Authorization Reference, Amazon EC2); a DeleteTags without Tags deletes every tag
  // of the resource (EC2 API reference, DeleteTags), and ForAllValues is true for an empty key
  // set, so Null aws:TagKeys false requires the request to name its keys. CreateTags of the same
  // key: the executor puts it back when a concurrent steer left the subnet with no cluster tag.
  grants
    .filter((g) => (g.excludableSubnets ?? []).length > 0)
    .forEach((g, i) => {
      statements.push({
        Sid: `SteerCniSubnets${i + 1}`,
        Effect: 'Allow',
        Action: ['ec2:DeleteTags', 'ec2:CreateTags'],
        Resource: (g.excludableSubnets ?? []).map(subnetArn),
        Condition: {
          'ForAllValues:StringEquals': { 'aws:TagKeys': [`${CNI_CLUSTER_TAG_PREFIX}${g.cluster}`] },
          Null: { 'aws:TagKeys': 'false' },
        },
      });
    });
  if (reservationSubnets.length > 0) {
    statements.push(
      {
        // CreateSubnetCidrReservation authorises on the subnet and on the new reservation: the
        // subnets exactly (an allow list, so no VPC condition is needed to pin them), any
        // reservation id (EC2's, unknown before it exists).
        Sid: 'CreatePrefixReservations',
        Effect: 'Allow',
        Action: ['ec2:CreateSubnetCidrReservation'],
        Resource: [...reservationSubnets.map(subnetArn), subnetCidrReservationsArn()],
      },
      {
        // The tags of the request (the action and its write token: lib/names.ts), only as the
        // reservation is created (ec2:CreateAction), and only the responder's two keys.
        Sid: 'TagPrefixReservationsOnCreate',
        Effect: 'Allow',
        Action: ['ec2:CreateTags'],
        Resource: [subnetCidrReservationsArn()],
        Condition: {
          StringEquals: { 'ec2:CreateAction': 'CreateSubnetCidrReservation' },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [ACTION_TAG_KEY, WRITE_TOKEN_TAG_KEY] },
        },
      },
    );
  }
  // ec2:DeleteNetworkInterface authorises on `network-interface*`
  // (arn:${Partition}:ec2:${Region}:${Account}:network-interface/${NetworkInterfaceId}), whose
  // condition keys include aws:ResourceTag/${TagKey}, ec2:ResourceTag/${TagKey}, ec2:Subnet and
  // ec2:Vpc (Service Authorization Reference for Amazon EC2, list_amazonec2.html; as generated in
  // udondan/iam-floyd@50d8b534ec46 lib/generated/policy-statements/ec2.ts `toDeleteNetworkInterface`,
  // `onNetworkInterface`). The ENI's own tags scope it: only ENIs the VPC CNI tagged with a cluster
  // in apply mode that allows the action, and only ENIs that carry the CNI's instance tag.
  const leaky = grants.filter((g) => g.leakedEnis === true).map((g) => g.cluster);
  if (leaky.length > 0) {
    statements.push({
      Sid: 'DeleteLeakedCniEnis',
      Effect: 'Allow',
      Action: ['ec2:DeleteNetworkInterface'],
      Resource: [networkInterfacesArn()],
      Condition: {
        StringEquals: { [`aws:ResourceTag/${CNI_ENI_CLUSTER_TAG_KEY}`]: leaky },
        Null: { [`aws:ResourceTag/${CNI_ENI_INSTANCE_TAG_KEY}`]: 'false' },
      },
    });
  }
  if (statements.length === 0) {
    return {
      Version: '2012-10-17',
      Statement: [
        { Sid: NO_REMEDIATION_SID, Effect: 'Deny', Action: REMEDIATION_WRITE_ACTIONS.filter((a) => a !== 'ec2:DeleteNetworkInterface'), Resource: '*' },
        // The remediation deletes only the VPC CNI's ENIs (tagged with their instance): the Deny
        // names those, so that Lambda can still delete the function's own ENIs of a VPC placement
        // (stack/kubernetes.ts vpcAccessPolicy), which carry no such tag.
        {
          Sid: NO_REMEDIATION_CNI_ENIS_SID,
          Effect: 'Deny',
          Action: ['ec2:DeleteNetworkInterface'],
          Resource: '*',
          Condition: { Null: { [`aws:ResourceTag/${CNI_ENI_INSTANCE_TAG_KEY}`]: 'false' } },
        },
      ],
    };
  }
  if (nodegroups.length > 0) {
    statements.push({
      Sid: 'DenyReservedTagKeys',
      Effect: 'Deny',
      Action: ['eks:CreateNodegroup', 'eks:TagResource'],
      Resource: '*',
      // ForAnyValue: denied when any key of the request matches; a request without tags is not
      // denied here (the Allows above require the replaces tag anyway).
      Condition: { 'ForAnyValue:StringLike': { 'aws:TagKeys': [...RESERVED_TAG_KEY_PATTERNS] } },
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}

/**
 * IAM's bound on all the inline policies of one role together, in characters without
 * whitespace (IAM and AWS STS quotas: "Role policy size cannot exceed 10,240 characters",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
 */
export const ROLE_INLINE_POLICIES_MAX_CHARS = 10_240;

/**
 * What the `remediate` policy may take of {@link ROLE_INLINE_POLICIES_MAX_CHARS}: the rest is
 * RespondRole's `respond` policy, about 3,200 characters at its worst (the longest partition and
 * region, 150-character ARNs for the stack's own resources, passRoleArns of four role ARNs of
 * 100 characters), which test/stack/iam.test.ts measures against this bound. Each cluster in
 * apply mode with every action (a 20-character name) takes about 340 characters, and each spare
 * subnet about 80 more: nine such clusters with three spare subnets each, or sixteen without
 * (test/policy/iam.test.ts).
 */
export const REMEDIATION_POLICY_MAX_CHARS = 6_500;

/**
 * The longest values CloudFormation may substitute, so that a size measured here is never
 * below the deployed one: `aws-us-gov` (the longest partition), a 16-character region name
 * (the longest today, `ap-southeast-7` or `eusc-de-east-1`, has 14), a 12-digit account.
 */
export const LONGEST_PSEUDO: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws-us-gov',
  'AWS::Region': 'xx-xxxxxxxxxx-99',
  'AWS::AccountId': '123456789012',
};

/**
 * The size IAM counts for a policy document as CloudFormation will deploy it: its JSON without
 * whitespace outside strings, every `Fn::Sub` replaced by its longest expansion
 * ({@link LONGEST_PSEUDO}). Other intrinsic functions (`Ref`, `Fn::GetAtt`) are counted as
 * `resolve` answers for them.
 */
export function deployedPolicySize(document: unknown, resolve: (value: Record<string, unknown>) => string = () => {
  throw new Error('only Fn::Sub of pseudo parameters can be sized');
}): number {
  const expand = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(expand);
    if (typeof value !== 'object' || value === null) return value;
    const record = value as Record<string, unknown>;
    const sub = record['Fn::Sub'];
    if (typeof sub === 'string' && Object.keys(record).length === 1) {
      return sub.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
        const found = LONGEST_PSEUDO[name];
        if (found === undefined) throw new Error(`Fn::Sub placeholder \${${name}} has no longest value`);
        return found;
      });
    }
    if (Object.keys(record).some((key) => key === 'Ref' || key.startsWith('Fn::'))) return resolve(record);
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, expand(v)]));
  };
  return JSON.stringify(expand(document)).length;
}

/**
 * Refuses a policy whose `remediate` document would not fit beside the `respond` one in the role.
 * @throws PolicyError naming the size, the bound and the apply clusters.
 */
export function checkRemediationPolicySize(document: IamPolicyDocument, grants: ClusterGrants[], file: string): void {
  const size = deployedPolicySize(document);
  if (size <= REMEDIATION_POLICY_MAX_CHARS) return;
  const problem =
    `(top level): the responder's IAM policy for the ${grants.length} cluster(s) in apply mode (${grants.map((g) => g.cluster).join(', ')}) ` +
    `would take up to ${size} characters, above the ${REMEDIATION_POLICY_MAX_CHARS} it may (IAM allows ${ROLE_INLINE_POLICIES_MAX_CHARS} ` +
    'for all the inline policies of a role): put fewer clusters in apply mode per stack, or list fewer spare subnets';
  throw new PolicyError(`invalid remediation policy ${file} (1 problem):\n${file}: ${problem}`, [problem]);
}

/**
 * The `remediate` policy for a validated policy, checked to fit the role: what the stack deploys.
 * @throws PolicyError as {@link remediationGrants} and {@link checkRemediationPolicySize}.
 */
export function deployableRemediationPolicy(policy: Policy, file: string): IamPolicyDocument {
  const document = remediationPolicy(policy);
  checkRemediationPolicySize(document, remediationGrants(policy), file);
  return document;
}
