/**
 * The stack's Kubernetes access, from the stage params: one `AWS::EKS::AccessEntry` per listed
 * cluster per function role (kubernetesClusters, kubernetesWrite), and the functions' optional VPC
 * placement (vpcSubnetIds, vpcSecurityGroupIds). Pure: params in, template fragments out; the
 * params' problems (stack/checks.ts kubernetesParamProblems) are thrown by stack/kubernetes.stack.js.
 * Design: docs/kubernetes.md, "Granting access" and "Private endpoints".
 */
import { createHash } from 'node:crypto';
import { CNI_ENI_INSTANCE_TAG_KEY, KUBE_READER_GROUP, KUBE_WRITER_GROUP } from '../lib/names';

/** The params, as osls resolves them (strings; '' = unset). */
export interface KubernetesParams {
  kubernetesClusters: string;
  kubernetesWrite: string;
  vpcSubnetIds: string;
  vpcSecurityGroupIds: string;
}

/** A comma list param as its items, trimmed, empties dropped. */
export function listParam(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The function roles of the stack (resources/roles.yml) and the groups each is given. */
export function roleGroups(write: boolean): { role: 'SamplerRole' | 'RespondRole'; prefix: string; groups: string[] }[] {
  return [
    { role: 'SamplerRole', prefix: 'SamplerAccessEntry', groups: [KUBE_READER_GROUP] },
    { role: 'RespondRole', prefix: 'RespondAccessEntry', groups: write ? [KUBE_READER_GROUP, KUBE_WRITER_GROUP] : [KUBE_READER_GROUP] },
  ];
}

/**
 * A logical id for a cluster's entry: CloudFormation logical ids are alphanumeric (template
 * anatomy, Resources: "The logical ID must be alphanumeric (A-Za-z0-9)"), and EKS names also take
 * `-` and `_`; so the name without them, plus 8 hex of its SHA-256 so that `a-b` and `ab` differ.
 */
export function accessEntryLogicalId(prefix: string, cluster: string): string {
  const hash = createHash('sha256').update(cluster).digest('hex').slice(0, 8);
  return `${prefix}${cluster.replace(/[^A-Za-z0-9]/g, '')}${hash}`;
}

/**
 * The access entries. Property names from the CloudFormation Template Reference, AWS::EKS::AccessEntry
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-eks-accessentry.html):
 * ClusterName and PrincipalArn required; Type `STANDARD` (the type for IAM principals that are not
 * nodes); KubernetesGroups, the `kind: Group` subject names of RBAC bindings (EKS does not check
 * they exist: stack/kubernetes-rbac.yaml binds them). No AccessPolicies: an access policy cannot
 * express the narrow set (docs/kubernetes.md). `@aws-cdk/cfnspec` 2.72.1 (spec v117, spring 2023)
 * predates access entries (December 2023): test/stack/cfn-spec.test.ts checks these against the
 * reference's property list instead.
 */
export function accessEntries(
  params: KubernetesParams,
  /**
   * The clusters policy.yml puts in apply mode: the only ones whose responder entry gets the writer
   * group, as the `remediate` IAM policy grants AWS writes only on them (lib/policy/iam.ts).
   */
  applyClusters: ReadonlySet<string>,
): Record<string, { Type: string; Properties: Record<string, unknown> }> {
  const out: Record<string, { Type: string; Properties: Record<string, unknown> }> = {};
  const write = params.kubernetesWrite.trim() === 'true';
  for (const cluster of listParam(params.kubernetesClusters)) {
    for (const { role, prefix, groups } of roleGroups(write && applyClusters.has(cluster))) {
      out[accessEntryLogicalId(prefix, cluster)] = {
        Type: 'AWS::EKS::AccessEntry',
        Properties: {
          ClusterName: cluster,
          PrincipalArn: { 'Fn::GetAtt': [role, 'Arn'] },
          Type: 'STANDARD',
          KubernetesGroups: groups,
        },
      };
    }
  }
  return out;
}

/** The logical id of the VPC placement's ENI policy (both roles), and each function's `dependsOn` on it. */
export const VPC_POLICY_ID = 'FunctionVpcAccessPolicy';

/**
 * The permissions Lambda needs to place a function in a VPC: it creates and manages the function's
 * Hyperplane ENIs with the execution role's permissions, ec2:CreateNetworkInterface,
 * DeleteNetworkInterface, AssignPrivateIpAddresses and UnassignPrivateIpAddresses, plus
 * DescribeNetworkInterfaces and DescribeSubnets, which work only on '*' and both roles already have
 * (resources/roles.yml SharedReadPolicy): AWSLambdaVPCAccessExecutionRole's actions without its logs
 * ones (Lambda developer guide, "Giving Lambda functions access to resources in an Amazon VPC",
 * Required IAM permissions: https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html;
 * the managed policy: https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaVPCAccessExecutionRole.html).
 * CreateNetworkInterface on the account and region's EC2 resources, the form the guide gives ("include
 * all resource IDs"), since Lambda checks it when it creates the function. The changes to existing
 * ENIs only on ENIs in the placement's subnets: they authorise on `network-interface`, whose
 * condition keys include ec2:Subnet, the subnet's ARN (Service Authorization Reference for Amazon
 * EC2, as lib/policy/iam.ts cites it), so that a role in a VPC cannot delete the region's other ENIs.
 * A managed policy of its own, only in a template with a placement, so that a stack without one
 * grants the sampler no EC2 write at all (test/stack/iam.test.ts); each function depends on it.
 */
export function vpcAccessPolicy(params: KubernetesParams): { Type: string; Properties: Record<string, unknown> } {
  const ec2 = (path: string) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:ec2:\${AWS::Region}:\${AWS::AccountId}:${path}` });
  return {
    Type: 'AWS::IAM::ManagedPolicy',
    Properties: {
      Description: 'eks-ip-responder: the ENIs Lambda manages for the functions in their VPC placement (vpcSubnetIds)',
      Roles: [{ Ref: 'SamplerRole' }, { Ref: 'RespondRole' }],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'VpcCreateNetworkInterfaces',
            Effect: 'Allow',
            Action: ['ec2:CreateNetworkInterface'],
            Resource: ec2('*/*'),
          },
          {
            Sid: 'VpcManageOwnNetworkInterfaces',
            Effect: 'Allow',
            Action: ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
            Resource: ec2('network-interface/*'),
            Condition: {
              ArnLike: { 'ec2:Subnet': listParam(params.vpcSubnetIds).map((id) => ec2(`subnet/${id}`)) },
              // Never a VPC CNI ENI (tagged with its node's instance), should the placement share a node subnet.
              Null: { [`aws:ResourceTag/${CNI_ENI_INSTANCE_TAG_KEY}`]: 'true' },
            },
          },
        ],
      },
    },
  };
}

/** The stack's resources from the params: the access entries, and the ENI policy when placed in a VPC. */
export function kubernetesResources(params: KubernetesParams, applyClusters: ReadonlySet<string>): Record<string, { Type: string; Properties: Record<string, unknown> }> {
  return { ...accessEntries(params, applyClusters), ...(vpcConfig(params) ? { [VPC_POLICY_ID]: vpcAccessPolicy(params) } : {}) };
}

/** Each function's `dependsOn`: the ENI policy when placed in a VPC, else nothing. */
export function functionDependsOn(params: KubernetesParams): string[] {
  return vpcConfig(params) ? [VPC_POLICY_ID] : [];
}

/** Each function's `vpc` in serverless.yml: both lists, or `false` (osls's "not in a VPC"). */
export function vpcConfig(params: KubernetesParams): { subnetIds: string[]; securityGroupIds: string[] } | false {
  const subnetIds = listParam(params.vpcSubnetIds);
  const securityGroupIds = listParam(params.vpcSecurityGroupIds);
  return subnetIds.length > 0 && securityGroupIds.length > 0 ? { subnetIds, securityGroupIds } : false;
}
