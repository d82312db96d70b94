/**
 * Checks of the packaged CloudFormation template that AWS would otherwise make at deploy time,
 * halfway through a stack creation: run by `serverless package` / `deploy` (stack/checks.plugin.js)
 * so that a stage name, a parameter or a rule that AWS would refuse fails the packaging with a
 * message naming what to change, before anything is created.
 *
 * Pure: the template in, the problems out.
 */
import { eventPatternComplexity, MAX_EVENT_PATTERN_COMPLEXITY } from '../lib/events/pattern-complexity';
import type { EventPattern } from '../lib/events/patterns';
import { EKS_NAME_PATTERN } from '../lib/names';
import { parseCentralPolicyLocation } from '../lib/policy/central';
import { PolicyError } from '../lib/policy/types';

/** A CloudFormation template as the Framework writes it; loosely typed, each check tests the shapes it reads. */
export interface PackagedTemplate {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

/** The service name: every named resource of the stack starts with `<service>-<stage>`. */
export const SERVICE = 'eks-ip-responder';

/**
 * The longest resource name is the responder's function, `<service>-<stage>-respond`, and Lambda
 * function names take at most 64 characters (CreateFunction API reference, FunctionName).
 */
export const FUNCTION_NAME_MAX = 64;
export const STAGE_MAX_LENGTH = FUNCTION_NAME_MAX - `${SERVICE}-`.length - '-respond'.length;

/**
 * The characters every named resource accepts: Lambda function names `[a-zA-Z0-9-_]`, SQS queue
 * names `[a-zA-Z0-9-_]`, dashboard names `[A-Za-z0-9-_]`, KMS alias names `[a-zA-Z0-9/_-]`.
 */
const STAGE_PATTERN = /^[A-Za-z0-9_-]+$/;

/**
 * Name limits of the resources the stack names (the property, its maximum length), from each
 * resource's CloudFormation reference page.
 */
const NAME_LIMITS: Record<string, { property: string; max: number }> = {
  'AWS::Lambda::Function': { property: 'FunctionName', max: 64 },
  'AWS::SQS::Queue': { property: 'QueueName', max: 80 },
  'AWS::DynamoDB::Table': { property: 'TableName', max: 255 },
  'AWS::SNS::Topic': { property: 'TopicName', max: 256 },
  'AWS::CloudWatch::Alarm': { property: 'AlarmName', max: 255 },
  'AWS::KMS::Alias': { property: 'AliasName', max: 256 },
  'AWS::Logs::LogGroup': { property: 'LogGroupName', max: 512 },
  'AWS::Events::Rule': { property: 'Name', max: 64 },
  'AWS::StepFunctions::StateMachine': { property: 'StateMachineName', max: 80 },
};

/** The stage name's problems: its characters and its length (every function name must fit). */
export function stageProblems(stage: string): string[] {
  const problems: string[] = [];
  if (!STAGE_PATTERN.test(stage)) {
    problems.push(`stage "${stage}": use letters, digits, hyphens and underscores only (Lambda function and SQS queue names allow no other)`);
  }
  if (stage.length > STAGE_MAX_LENGTH) {
    problems.push(
      `stage "${stage}" is ${stage.length} characters: the function name ${SERVICE}-${stage}-respond would be ` +
        `${SERVICE.length + stage.length + 9} characters, above Lambda's ${FUNCTION_NAME_MAX}; use a stage of at most ${STAGE_MAX_LENGTH} characters`,
    );
  }
  return problems;
}

/** Every literal resource name of the template above its type's limit. */
export function nameProblems(template: PackagedTemplate): string[] {
  const problems: string[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const limit = NAME_LIMITS[resource.Type];
    const name = limit ? resource.Properties?.[limit.property] : undefined;
    if (limit && typeof name === 'string' && name.length > limit.max) {
      problems.push(`${logicalId} (${resource.Type}): ${limit.property} "${name}" is ${name.length} characters, above the ${limit.max} allowed`);
    }
  }
  return problems;
}

/**
 * Lambda allows 4 KB for all of a function's environment variables together, counted as the
 * keys and values (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
 */
export const ENVIRONMENT_MAX_BYTES = 4096;

/** The partition of a region, for the ARNs a Ref resolves to. */
function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/**
 * What a value of the environment becomes once deployed: literals as they are; a `Ref` to the
 * stack's topic is its ARN and to its table its name (the two references the stack passes). The
 * account id is 12 digits in every account, so the length is exact.
 */
function deployedValue(template: PackagedTemplate, value: unknown, region: string, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const ref = typeof value === 'object' && value !== null ? (value as { Ref?: unknown }).Ref : undefined;
  const target = typeof ref === 'string' ? template.Resources[ref] : undefined;
  const name = (property: string): string => {
    const literal = target?.Properties?.[property];
    if (typeof literal !== 'string') throw new Error(`${where}: cannot size ${JSON.stringify(value)}: ${ref} has no literal ${property}`);
    return literal;
  };
  if (target?.Type === 'AWS::SNS::Topic') return `arn:${partitionOf(region)}:sns:${region}:123456789012:${name('TopicName')}`;
  if (target?.Type === 'AWS::DynamoDB::Table') return name('TableName');
  throw new Error(`${where}: cannot size the environment value ${JSON.stringify(value)}`);
}

/** Variables that come from a stage param, and the param to shorten. */
const PARAM_OF: Record<string, string> = {
  CLUSTER_NAMES: 'clusterNames',
  METRIC_NAMESPACE: 'metricNamespace',
  KUBERNETES_CLUSTERS: 'kubernetesClusters',
  FUNCTION_SUBNET_IDS: 'vpcSubnetIds',
  FUNCTION_SECURITY_GROUP_IDS: 'vpcSecurityGroupIds',
  CENTRAL_TOPIC_ARN: 'centralTopicArn',
};

/**
 * Each function's environment against Lambda's 4 KB, with its references resolved as they will
 * be deployed. A problem names the function, the size, and the largest variables.
 */
export function environmentProblems(template: PackagedTemplate, region: string): string[] {
  const problems: string[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const environment = resource.Properties?.['Environment'] as { Variables?: Record<string, unknown> } | undefined;
    const variables = environment?.Variables ?? {};
    const sizes = Object.entries(variables).map(([key, value]) => {
      const bytes = Buffer.byteLength(key) + Buffer.byteLength(deployedValue(template, value, region, `${logicalId}.Environment.${key}`));
      return { key, bytes };
    });
    const total = sizes.reduce((sum, s) => sum + s.bytes, 0);
    if (total <= ENVIRONMENT_MAX_BYTES) continue;
    const largest = [...sizes]
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 3)
      .map((s) => `${s.key} ${s.bytes} bytes${PARAM_OF[s.key] ? ` (the ${PARAM_OF[s.key]} param)` : ''}`);
    const name = resource.Properties?.['FunctionName'] ?? logicalId;
    problems.push(
      `function ${String(name)}: its environment is ${total} bytes, above Lambda's ${ENVIRONMENT_MAX_BYTES} (keys and values together); ` +
        `the largest: ${largest.join(', ')}. Shorten clusterNames (empty watches every cluster of the region) or split the clusters over stages`,
    );
  }
  return problems;
}

/**
 * Every EventBridge rule whose pattern EventBridge would refuse as too complex
 * (InvalidEventPatternException "Rule is too complex"), scored as event-ruler scores it
 * (lib/events/pattern-complexity.ts).
 */
export function patternProblems(template: PackagedTemplate): string[] {
  const problems: string[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const pattern = resource.Type === 'AWS::Events::Rule' ? resource.Properties?.['EventPattern'] : undefined;
    if (pattern === undefined) continue;
    const score = eventPatternComplexity((typeof pattern === 'string' ? JSON.parse(pattern) : pattern) as EventPattern);
    if (score > MAX_EVENT_PATTERN_COMPLEXITY) {
      problems.push(
        `${logicalId} (AWS::Events::Rule): its event pattern scores ${score} for complexity, above the ${MAX_EVENT_PATTERN_COMPLEXITY} ` +
          'this stack keeps to (EventBridge refuses patterns that are too complex): use fewer wildcard terms (lib/events/patterns.ts)',
      );
    }
  }
  return problems;
}

/**
 * The central policy's location (CENTRAL_POLICY, from the centralPolicy param) in each function,
 * where it is a literal: refused at packaging in the words the functions would refuse it at
 * cold start (lib/policy/central.ts parseCentralPolicyLocation).
 */
export function centralPolicyProblems(template: PackagedTemplate): string[] {
  const problems = new Set<string>();
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const value = (resource.Properties?.['Environment'] as { Variables?: Record<string, unknown> } | undefined)?.Variables?.['CENTRAL_POLICY'];
    if (typeof value !== 'string') continue;
    try {
      parseCentralPolicyLocation(value);
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      for (const p of err.problems) problems.add(p);
    }
  }
  return [...problems];
}

/** Every check of the packaged template for a stage and region. */
export function packagedTemplateProblems(template: PackagedTemplate, stage: string, region: string): string[] {
  return [
    ...stageProblems(stage),
    ...nameProblems(template),
    ...environmentProblems(template, region),
    ...patternProblems(template),
    ...centralProblems(template, region),
    ...centralPolicyProblems(template),
  ];
}

/** An SNS topic ARN (a standard topic: the central one is not FIFO). */
export const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):[A-Za-z0-9_-]{1,256}$/;
/** An OAM sink ARN (OAM API reference, Sink: `arn:aws:oam:<region>:<account>:sink/<id>`). */
export const OAM_SINK_ARN = /^arn:aws[a-z-]*:oam:([a-z0-9-]+):(\d{12}):sink\/[A-Za-z0-9-]+$/;

/**
 * The central-view params (centralTopicArn, oamSinkIdentifier) as packaged: each '' (off) or well
 * formed; the sink in the stack's region, since a link can only join a sink of its own region
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-Unified-Cross-Account.html).
 * A value that is not a literal (a StackSet parameter's Ref) is CloudFormation's to check.
 */
export function centralProblems(template: PackagedTemplate, region: string): string[] {
  const problems = new Set<string>();
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const variables = (resource.Properties?.['Environment'] as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    const arn = variables['CENTRAL_TOPIC_ARN'];
    if (typeof arn === 'string' && arn !== '' && !SNS_TOPIC_ARN.test(arn)) {
      problems.add(`centralTopicArn: "${arn}" is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>, the central stack's CentralTopicArn output)`);
    }
  }
  for (const resource of Object.values(template.Resources)) {
    const sink = resource.Type === 'AWS::Oam::Link' ? resource.Properties?.['SinkIdentifier'] : undefined;
    if (typeof sink !== 'string' || sink === '') continue;
    const match = OAM_SINK_ARN.exec(sink);
    if (!match) {
      problems.add(`oamSinkIdentifier: "${sink}" is not an OAM sink ARN (arn:aws:oam:<region>:<account>:sink/<id>, the central stack's SinkArn output)`);
    } else if (match[1] !== region) {
      problems.add(
        `oamSinkIdentifier: the sink is in ${match[1]}, this stack in ${region}: a link joins a sink of its own region only; deploy the central stack in ${region} too and use its SinkArn`,
      );
    }
  }
  return [...problems];
}

/** The Kubernetes and VPC placement params (serverless.yml), as strings; '' = unset. */
export interface KubernetesParamValues {
  kubernetesClusters: string;
  kubernetesWrite: string;
  vpcSubnetIds: string;
  vpcSecurityGroupIds: string;
  clusterNames: string;
}

/**
 * Lambda's VpcConfig takes at most 16 subnets and 5 security groups (Lambda API reference,
 * VpcConfig: SubnetIds "Maximum number of 16 items", SecurityGroupIds "Maximum number of 5 items":
 * https://docs.aws.amazon.com/lambda/latest/api/API_VpcConfig.html).
 */
export const VPC_SUBNETS_MAX = 16;
export const VPC_SECURITY_GROUPS_MAX = 5;

const commaList = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/**
 * The params' problems, checked when the stack is packaged (stack/kubernetes.stack.js): a VPC
 * placement needs both subnets and security groups (osls silently drops a VpcConfig with one of
 * them, which would deploy the functions outside the VPC the operator meant); ids in EC2's forms;
 * cluster names EKS accepts, each once, and among clusterNames when that is set (an access entry
 * for a cluster the stack does not watch reads nothing); kubernetesWrite 'true' or 'false'.
 */
export function kubernetesParamProblems(params: KubernetesParamValues): string[] {
  const problems: string[] = [];
  const subnets = commaList(params.vpcSubnetIds);
  const groups = commaList(params.vpcSecurityGroupIds);
  if (subnets.length > 0 && groups.length === 0) {
    problems.push('vpcSubnetIds is set but vpcSecurityGroupIds is not: a VPC placement needs both (subnets and at least one security group), or neither');
  }
  if (groups.length > 0 && subnets.length === 0) {
    problems.push('vpcSecurityGroupIds is set but vpcSubnetIds is not: a VPC placement needs both (subnets and at least one security group), or neither');
  }
  for (const id of subnets) if (!/^subnet-[0-9a-f]{8,17}$/.test(id)) problems.push(`vpcSubnetIds: "${id}" is not a subnet id (subnet-0123456789abcdef0)`);
  for (const id of groups) if (!/^sg-[0-9a-f]{8,17}$/.test(id)) problems.push(`vpcSecurityGroupIds: "${id}" is not a security group id (sg-0123456789abcdef0)`);
  if (subnets.length > VPC_SUBNETS_MAX) problems.push(`vpcSubnetIds lists ${subnets.length} subnets: Lambda takes at most ${VPC_SUBNETS_MAX}`);
  if (groups.length > VPC_SECURITY_GROUPS_MAX) problems.push(`vpcSecurityGroupIds lists ${groups.length} security groups: Lambda takes at most ${VPC_SECURITY_GROUPS_MAX}`);
  const clusters = commaList(params.kubernetesClusters);
  const watched = commaList(params.clusterNames);
  const seen = new Set<string>();
  for (const name of clusters) {
    if (!EKS_NAME_PATTERN.test(name)) problems.push(`kubernetesClusters: "${name}" is not a valid EKS cluster name`);
    if (seen.has(name)) problems.push(`kubernetesClusters lists "${name}" twice (one access entry per cluster and role)`);
    seen.add(name);
    if (watched.length > 0 && !watched.includes(name)) {
      problems.push(`kubernetesClusters lists "${name}", which clusterNames does not watch: add it to clusterNames or remove it from kubernetesClusters`);
    }
  }
  const write = params.kubernetesWrite.trim();
  if (write !== 'true' && write !== 'false') problems.push(`kubernetesWrite: "${params.kubernetesWrite}" is neither 'true' nor 'false'`);
  return problems;
}

/** The fan-out params (serverless.yml cycleMode, fanOutMaxConcurrency), as strings. */
export interface CycleModeParamValues {
  cycleMode: string;
  fanOutMaxConcurrency: string;
}

/**
 * The fan-out params' problems, checked when the stack is packaged (stack/fanout.stack.js): a mode
 * the stack knows; a concurrency Distributed Map takes (an integer from 1 to 10,000: its
 * MaxConcurrency, where 0 would mean no limit at all).
 */
export function cycleModeProblems(params: CycleModeParamValues): string[] {
  const problems: string[] = [];
  const mode = params.cycleMode.trim();
  if (mode !== 'single' && mode !== 'per-cluster') problems.push(`cycleMode: "${params.cycleMode}" is neither 'single' nor 'per-cluster'`);
  const n = params.fanOutMaxConcurrency.trim();
  if (!/^[0-9]+$/.test(n) || Number(n) < 1 || Number(n) > 10_000) {
    problems.push(`fanOutMaxConcurrency: "${params.fanOutMaxConcurrency}" is not a whole number from 1 to 10000 (the Distributed Map's MaxConcurrency)`);
  }
  return problems;
}
