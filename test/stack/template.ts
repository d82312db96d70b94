/**
 * Reads the CloudFormation template that `serverless package` writes, and answers the questions
 * the stack tests ask of it. The template is data produced by the Framework, so it is typed
 * loosely here and every test asserts the shape it relies on.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const TEMPLATE_PATH = join(
  __dirname,
  '..',
  '..',
  '.serverless',
  'cloudformation-template-update-stack.json',
);

/** A CloudFormation value: a literal or an intrinsic function such as `{ Ref: 'X' }`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CfnValue = any;

export interface CfnResource {
  Type: string;
  Properties: Record<string, CfnValue>;
  Condition?: string;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Conditions?: Record<string, CfnValue>;
  Outputs?: Record<string, { Value: CfnValue; Description?: string }>;
}

/** Loads the packaged template; fails with the command to run when it has not been packaged. */
export function loadTemplate(path: string = TEMPLATE_PATH): CfnTemplate {
  if (!existsSync(path)) {
    throw new Error(
      `${path} is missing: run \`npm run package\` (serverless package --stage test --region eu-west-1) before the stack tests`,
    );
  }
  return JSON.parse(readFileSync(path, 'utf8')) as CfnTemplate;
}

/** Every resource of a type, as [logicalId, resource] pairs in template order. */
export function resourcesOfType(template: CfnTemplate, type: string): Array<[string, CfnResource]> {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

/** The one resource with this logical id and type; throws if it is absent or of another type. */
export function resource(template: CfnTemplate, logicalId: string, type: string): CfnResource {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`resource ${logicalId} is not in the template`);
  if (found.Type !== type) throw new Error(`resource ${logicalId} is a ${found.Type}, not a ${type}`);
  return found;
}

/**
 * Resolves an `Fn::Sub` string with the given values for `${Name}` and `${Name.Attribute}`,
 * as CloudFormation would at deploy time. A placeholder without a value is an error, so that a
 * typo in the template cannot hide behind the dummy values.
 */
export function resolveSub(sub: CfnValue, values: Record<string, string>): string {
  if (typeof sub !== 'object' || sub === null || typeof sub['Fn::Sub'] !== 'string') {
    throw new Error(`expected { "Fn::Sub": "<string>" }, got ${JSON.stringify(sub)}`);
  }
  const text: string = sub['Fn::Sub'];
  // `${!Literal}` is CloudFormation's escape for a literal `${Literal}`.
  return text.replace(/\$\{(!?)([^}]+)\}/g, (_match, bang: string, name: string) => {
    if (bang) return `\${${name}}`;
    const value = values[name];
    if (value === undefined) throw new Error(`Fn::Sub placeholder \${${name}} has no value`);
    return value;
  });
}

/** The policy statements of an IAM role's inline policies, flattened. */
export function roleStatements(role: CfnResource): Array<Record<string, CfnValue>> {
  const policies: Array<{ PolicyDocument: { Statement: Array<Record<string, CfnValue>> } }> =
    role.Properties.Policies ?? [];
  return policies.flatMap((policy) => policy.PolicyDocument.Statement);
}

/** A statement's Action or Resource as an array (IAM accepts a string or a list). */
export function asList<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

/**
 * Resolves a CloudFormation value as CloudFormation would at deploy time: literals, `Ref`,
 * `Fn::GetAtt` (looked up as `Name.Attribute`), `Fn::Join` and string `Fn::Sub`, with the given
 * values for names and pseudo parameters. Anything else, or a name without a value, is an error.
 */
export function resolveValue(value: CfnValue, values: Record<string, string>): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.keys(value).length !== 1) {
    throw new Error(`cannot resolve ${JSON.stringify(value)}`);
  }
  const lookup = (name: string): string => {
    const found = values[name];
    if (found === undefined) throw new Error(`${name} has no value`);
    return found;
  };
  if (typeof value.Ref === 'string') return lookup(value.Ref);
  const getAtt = value['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt.length === 2) return lookup(`${getAtt[0]}.${getAtt[1]}`);
  const join = value['Fn::Join'];
  if (Array.isArray(join) && join.length === 2 && typeof join[0] === 'string' && Array.isArray(join[1])) {
    return (join[1] as CfnValue[]).map((part) => resolveValue(part, values)).join(join[0]);
  }
  if (typeof value['Fn::Sub'] === 'string') return resolveSub(value, values);
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

/** Pseudo parameters of the account and region the stack tests pretend to deploy to. */
export const PSEUDO: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'eu-west-1',
  'AWS::AccountId': '123456789012',
  'AWS::StackName': 'eks-ip-responder-test',
};

/**
 * The ARN an `AWS::Events::Rule` gets: `rule/<Name>`, or, for a rule without a Name,
 * CloudFormation's generated one (stack name, logical id, a random suffix; a fixed one here).
 */
export function ruleArn(template: CfnTemplate, logicalId: string): string {
  const rule = resource(template, logicalId, 'AWS::Events::Rule');
  const name: string = rule.Properties.Name ?? `${PSEUDO['AWS::StackName']}-${logicalId}-GENERATED`;
  return `arn:${PSEUDO['AWS::Partition']}:events:${PSEUDO['AWS::Region']}:${PSEUDO['AWS::AccountId']}:rule/${name}`;
}

/**
 * Reads, for the IAM checks: Describe*, List*, Get* and Query (a trailing `*` allowed, as in
 * `ec2:Describe*`). Everything else (a bare `*` or `service:*` included) counts as a write.
 */
export function isReadAction(action: string): boolean {
  return /^[a-z0-9-]+:((Describe|List|Get)[A-Za-z0-9]*\*?|Query)$/i.test(action);
}

/** The actions of Allow statements that are not reads, are on Resource '*' and have no Condition. */
export function unscopedWrites(statements: Array<Record<string, CfnValue>>): string[] {
  return statements
    .filter((s) => s.Effect === 'Allow' && s.Condition === undefined && asList(s.Resource).includes('*'))
    .flatMap((s) => asList<string>(s.Action ?? []).filter((action) => !isReadAction(action)));
}

/** An IAM action pattern (`*` and `?` wildcards, case-insensitive) as a RegExp. */
export function actionRegExp(pattern: string): RegExp {
  const body = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'i');
}

/** What neither Lambda role may ever be granted: changes to EKS and EC2, and passing roles. */
export const FORBIDDEN_ACTION_PATTERNS = [
  'eks:Update*',
  'eks:Create*',
  'eks:Delete*',
  'ec2:Create*',
  'ec2:Modify*',
  'ec2:Assign*',
  'ec2:Attach*',
  'ec2:CreateTags',
  'iam:PassRole',
] as const;

/** Real actions under each forbidden pattern, to catch a granted wildcard (`ec2:*`, `*`, `eks:Up*`). */
const FORBIDDEN_EXAMPLES = [
  'eks:UpdateNodegroupConfig',
  'eks:UpdateClusterConfig',
  'eks:UpdateAddon',
  'eks:CreateNodegroup',
  'eks:CreateAddon',
  'eks:DeleteNodegroup',
  'eks:DeleteCluster',
  'ec2:CreateNetworkInterface',
  'ec2:CreateSubnet',
  'ec2:ModifyNetworkInterfaceAttribute',
  'ec2:ModifySubnetAttribute',
  'ec2:AssignPrivateIpAddresses',
  'ec2:AssignIpv6Addresses',
  'ec2:AttachNetworkInterface',
  'ec2:CreateTags',
  'iam:PassRole',
];

/**
 * The forbidden patterns an Allowed action grants: either the action itself falls under one
 * (`ec2:CreateTags`, `eks:UpdateAddon`) or it is a wildcard that covers a forbidden action.
 */
export function forbiddenGrants(action: string): string[] {
  return FORBIDDEN_ACTION_PATTERNS.filter((forbidden) => {
    if (actionRegExp(forbidden).test(action)) return true;
    const granted = actionRegExp(action);
    return FORBIDDEN_EXAMPLES.some((example) => actionRegExp(forbidden).test(example) && granted.test(example));
  });
}
