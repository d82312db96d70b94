/**
 * The StackSet template (`npm run package:org`, scripts/package-org.ts): the stack packaged by
 * osls once with a sentinel value per deploy-time stage param, then rewritten here: each sentinel
 * becomes a `Ref` to a CloudFormation Parameter (or a `${Name}` of an `Fn::Sub`), the packaging
 * region `${AWS::Region}`, the functions' code a per-region bucket, and the osls deployment bucket
 * is removed. Every serverless.yml param is a Parameter unless PACKAGING_TIME_PARAMS names it.
 *
 * Pure: templates in, template and problems out. Design notes: docs/organisation.md.
 */

// A template is data; every function here tests the shapes it reads.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/**
 * Params that shape the template when it is packaged, so they cannot be Parameters of one template
 * deployed everywhere: their value is fixed for the StackSet at `npm run package:org`.
 */
export const PACKAGING_TIME_PARAMS: Readonly<Record<string, string>> = {
  kubernetesClusters: 'creates one AWS::EKS::AccessEntry per listed cluster and function role (stack/kubernetes.ts)',
  kubernetesWrite: "chooses the access entries' Kubernetes groups, with policy.yml's apply-mode clusters (stack/kubernetes.ts)",
  vpcSubnetIds: 'places the functions in a VPC and adds the ENI policy they depend on (VpcConfig, DependsOn: stack/kubernetes.ts)',
  vpcSecurityGroupIds: 'places the functions in a VPC and adds the ENI policy they depend on (VpcConfig, DependsOn: stack/kubernetes.ts)',
  cycleMode: 'per-cluster adds the fan-out state machine, its schedule and roles, and disables the direct schedules (stack/fanout.ts)',
  fanOutMaxConcurrency: "is written into the state machine's definition, which takes no intrinsic function (stack/fanout.ts)",
};

/** Why clusterNames is packaging-time when kubernetesClusters is set (stack/checks.ts kubernetesParamProblems). */
export const CLUSTER_NAMES_WITH_KUBERNETES =
  'kubernetesClusters is set: every cluster with an access entry must be among clusterNames, checked at packaging';

/** The params fixed at packaging for these resolved values, with the reason of each. */
export function packagingTimeParams(resolved: Readonly<Record<string, unknown>>): Record<string, string> {
  const fixed: Record<string, string> = {};
  for (const [name, reason] of Object.entries(PACKAGING_TIME_PARAMS)) if (name in resolved) fixed[name] = reason;
  if ('clusterNames' in resolved && String(resolved['kubernetesClusters'] ?? '').trim() !== '') {
    fixed['clusterNames'] = CLUSTER_NAMES_WITH_KUBERNETES;
  }
  return fixed;
}

/** The Parameters the StackSet template adds for the code location. */
export const CODE_BUCKET_PREFIX = 'CodeBucketPrefix';
export const CODE_KEY_PREFIX = 'CodeKeyPrefix';

/**
 * A CloudFormation Parameter declaration (`parameters-section-structure`: Type, Default,
 * AllowedValues, AllowedPattern, MinValue, MaxValue, MinLength, MaxLength, Description,
 * ConstraintDescription).
 */
export interface CfnParameter {
  Type: 'String' | 'Number';
  Default?: string | number;
  Description?: string;
  AllowedValues?: Array<string | number>;
  AllowedPattern?: string;
  ConstraintDescription?: string;
  MinValue?: number;
  MaxValue?: number;
  MinLength?: number;
  MaxLength?: number;
}

/**
 * Lambda's limits (CreateFunction API reference: MemorySize 128-10240 MB, Timeout at most 900 s,
 * https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html) and CloudWatch Logs'
 * retention values (PutRetentionPolicy, retentionInDays:
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html).
 */
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
const RATE = {
  AllowedPattern: '^(rate|cron)\\(.+\\)$',
  ConstraintDescription: 'an EventBridge schedule expression: rate(5 minutes) or cron(...)',
};
const COUNT = { Type: 'Number', MinValue: 0 } as const;

/**
 * The constraints of the params known today, so that a StackSet refuses at once what the
 * functions or CloudFormation would refuse later. A param not listed (a new one) is a String
 * Parameter with its default: still a Parameter, never dropped.
 */
export const PARAMETER_CONSTRAINTS: Readonly<Record<string, Omit<CfnParameter, 'Default' | 'Description'>>> = {
  scheduleRate: { Type: 'String', ...RATE },
  remediationRate: { Type: 'String', ...RATE },
  // CloudWatch alarm periods are 10, 20, 30 or a multiple of 60 (PutMetricAlarm, Period:
  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html); the
  // sampler publishes at most once a scheduleRate, so a minute is the floor here.
  // At most an hour: METRIC_PERIOD_SECONDS' range (lib/config.ts), which the functions check at
  // cold start; a Parameter wider than the functions' ranges would deploy functions that refuse
  // to start (every invocation an error, seen only by the Errors alarms).
  alarmPeriodSeconds: { Type: 'Number', MinValue: 60, MaxValue: 3600 },
  // CloudWatch namespaces: 1-255 characters, no colon, not starting with AWS/ (PutMetricData, Namespace).
  // The functions take [0-9A-Za-z.\-_/#:] (lib/config.ts); the colon is left out here, as before.
  metricNamespace: { Type: 'String', MinLength: 1, MaxLength: 255, AllowedPattern: '^(?!AWS/)[0-9A-Za-z._/#-]+$' },
  clusterNames: {
    Type: 'String',
    AllowedPattern: '^$|^[0-9A-Za-z][A-Za-z0-9_-]*(,[0-9A-Za-z][A-Za-z0-9_-]*)*$',
    ConstraintDescription: 'comma-separated EKS cluster names without spaces, or empty for every cluster',
  },
  alertEmail: { Type: 'String', AllowedPattern: '^$|^[^@\\s]+@[^@\\s]+$', ConstraintDescription: 'an e-mail address, or empty' },
  subnetFreeIpsAlarmThreshold: COUNT,
  controlPlaneFreeIpsAlarmThreshold: COUNT,
  subnetFreeIpsCritical: COUNT,
  // FORECAST_WINDOW_HOURS 2-336 and RENOTIFY_AFTER_HOURS 0-720 (lib/config.ts).
  forecastWindowHours: { Type: 'Number', MinValue: 2, MaxValue: 336 },
  renotifyAfterHours: { Type: 'Number', MinValue: 0, MaxValue: 720 },
  passRoleArns: {
    Type: 'String',
    AllowedPattern: '^$|^arn:[a-z-]+:iam::\\d{12}:role/[^,]+(,arn:[a-z-]+:iam::\\d{12}:role/[^,]+)*$',
    ConstraintDescription: 'comma-separated IAM role ARNs without spaces, or empty',
  },
  multiTimeSeriesAlarms: { Type: 'String', AllowedValues: ['true', 'false'] },
  logLevel: { Type: 'String', AllowedValues: ['DEBUG', 'INFO', 'WARN', 'ERROR'] },
  memorySize: { Type: 'Number', MinValue: 128, MaxValue: 10240 },
  timeout: { Type: 'Number', MinValue: 1, MaxValue: 900 },
  logRetentionInDays: { Type: 'Number', AllowedValues: RETENTION_DAYS },
  // The central stack's outputs (docs/organisation-central.md), as stack/checks.ts checks them.
  centralTopicArn: {
    Type: 'String',
    AllowedPattern: '^$|^arn:aws[a-z-]*:sns:[a-z0-9-]+:\\d{12}:[A-Za-z0-9_-]{1,256}$',
    ConstraintDescription: "the central stack's CentralTopicArn output, or empty",
  },
  oamSinkIdentifier: {
    Type: 'String',
    AllowedPattern: '^$|^arn:aws[a-z-]*:oam:[a-z0-9-]+:\\d{12}:sink/[A-Za-z0-9-]+$',
    ConstraintDescription: "the SinkArn output of the central stack in the same region, or empty (override it per region)",
  },
  // lib/policy/central.ts parseCentralPolicyLocation's two forms, as narrow as it takes them (the
  // functions check it again at cold start, where a refused value stops every invocation): no IAM
  // wildcard (`*`, `?`) or policy variable (`$`), which would widen the ReadCentralPolicy grant
  // (resources/roles.yml); the region as a region is spelt; no empty segment in the name; a key
  // that does not end in a space (the functions trim it, the grant would not). What it still
  // takes that they refuse: a bucket with '..' and names or keys above their length limits.
  centralPolicy: {
    Type: 'String',
    AllowedPattern:
      '^$|^arn:aws[a-z-]*:ssm:[a-z]{2}(-[a-z]+)+-\\d:\\d{12}:parameter/[a-zA-Z0-9_.-]+(/[a-zA-Z0-9_.-]+)*$' +
      '|^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^*?$]*[^*?$\\s]$',
    ConstraintDescription: 'an SSM parameter ARN (arn:aws:ssm:<region>:<account>:parameter/<name>), s3://<bucket>/<key>, or empty',
  },
};

/**
 * Sentinels osls's configuration schema accepts for the params it validates (provider.memorySize
 * <= 10240, provider.timeout <= 900, provider.logRetentionInDays one of RETENTION_DAYS): any
 * other number would fail the packaging.
 */
const SENTINEL_OVERRIDES: Readonly<Record<string, number>> = { memorySize: 9973, timeout: 877, logRetentionInDays: 3653 };

/** The region the sentinel packaging runs in (scripts/package-org.ts); the rewrite makes it `AWS::Region`. */
export const SENTINEL_REGION = 'mx-central-1';

/**
 * Sentinels for the params stack/checks.ts checks as ARNs (an ARN of the right service, the
 * sink's in the stack's own region): the ARN of a made-up resource named by the sentinel token.
 * The rewrite replaces the whole ARN, its region included, by the Parameter (params before the
 * region, tokensOf). At deploy time their Parameter's AllowedPattern does the format check; the
 * sink's region can only be checked by OAM (a link names a sink of its own region).
 */
const ARN_SENTINELS: Readonly<Record<string, (token: string) => string>> = {
  centralTopicArn: (token) => `arn:aws:sns:${SENTINEL_REGION}:000000000000:${token}`,
  oamSinkIdentifier: (token) => `arn:aws:oam:${SENTINEL_REGION}:000000000000:sink/${token}`,
  // An SSM parameter's ARN (stack/checks.ts centralPolicyProblems); an s3:// value is the same Parameter's.
  centralPolicy: (token) => `arn:aws:ssm:${SENTINEL_REGION}:000000000000:parameter/${token}`,
};

/** A deploy-time param: its Parameter's logical id, default (the value osls resolves) and sentinel. */
export interface OrgParam {
  name: string;
  parameter: string;
  default: string | number;
  sentinel: string | number;
}

/** `scheduleRate` -> `ScheduleRate`: the Parameter's logical id (alphanumeric). */
export function parameterName(param: string): string {
  const alnum = param.replace(/[^A-Za-z0-9]/g, '');
  return alnum.charAt(0).toUpperCase() + alnum.slice(1);
}

/**
 * The sentinel of the i-th deploy-time param: a number for a numeric default (osls writes numbers
 * into numeric properties), a rate expression for a schedule (osls checks its format), else a
 * string of letters and digits that every consumer passes through unchanged.
 */
export function sentinelFor(name: string, value: unknown, index: number): string | number {
  if (SENTINEL_OVERRIDES[name] !== undefined) return SENTINEL_OVERRIDES[name]!;
  if (ARN_SENTINELS[name]) return ARN_SENTINELS[name]!(`zzorgparam${index}zz`);
  if (typeof value === 'number') return 9_100_000 + index;
  if (typeof value === 'string' && /^(rate|cron)\(/.test(value)) return `rate(${9_200_000 + index} minutes)`;
  return `zzorgparam${index}zz`;
}

/** The deploy-time params of resolved values, packaging-time ones left out, in serverless.yml order. */
export function deployTimeParams(resolved: Readonly<Record<string, unknown>>): OrgParam[] {
  const fixed = packagingTimeParams(resolved);
  return Object.entries(resolved)
    .filter(([name]) => !(name in fixed))
    .map(([name, value], index) => ({
      name,
      parameter: parameterName(name),
      default: typeof value === 'number' ? value : String(value ?? ''),
      sentinel: sentinelFor(name, value, index),
    }));
}

/** The Parameter declaration of a deploy-time param. */
export function parameterOf(param: OrgParam): CfnParameter {
  const constraints = PARAMETER_CONSTRAINTS[param.name] ?? { Type: typeof param.default === 'number' ? 'Number' : 'String' };
  return {
    ...constraints,
    Default: param.default,
    Description: `serverless.yml param ${param.name} (deploy time; docs/configuration.md)`,
  };
}

/** The code location: the Parameters' defaults and the key of each zip (by file name). */
export interface CodeLocation {
  bucketPrefix: string;
  keyPrefix: string;
  /** `sample.zip` -> `sample-<sha256 prefix>.zip`: a new key for new code, so that an update replaces it. */
  keys: Readonly<Record<string, string>>;
}

export interface StackSetOptions {
  params: readonly OrgParam[];
  /** The region the template was packaged for: its literal becomes `${AWS::Region}`. */
  region: string;
  code: CodeLocation;
}

/** The osls deployment bucket and its policy: created per stack by osls, removed here. */
export const DEPLOYMENT_BUCKET = 'ServerlessDeploymentBucket';
const DEPLOYMENT_RESOURCES = [DEPLOYMENT_BUCKET, 'ServerlessDeploymentBucketPolicy'];

const isObject = (value: Json): value is Record<string, Json> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Whether a value refers (Ref, GetAtt, Sub) to one of the logical ids. */
function refersTo(value: Json, ids: readonly string[]): boolean {
  if (Array.isArray(value)) return value.some((v) => refersTo(v, ids));
  if (!isObject(value)) return false;
  if (typeof value.Ref === 'string' && ids.includes(value.Ref)) return true;
  const getAtt = value['Fn::GetAtt'];
  if (Array.isArray(getAtt) && ids.includes(getAtt[0])) return true;
  const sub = value['Fn::Sub'];
  const text = typeof sub === 'string' ? sub : Array.isArray(sub) && typeof sub[0] === 'string' ? sub[0] : undefined;
  if (text !== undefined && ids.some((id) => new RegExp(`\\$\\{${id}(\\.[^}]*)?\\}`).test(text))) return true;
  return Object.values(value).some((v) => refersTo(v, ids));
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A token to find in strings: a param's sentinel or the region, and what it becomes in an Fn::Sub. */
interface Token {
  pattern: RegExp;
  variable: string;
  /** The value a whole string or number equal to the token becomes. */
  whole: Json;
  param?: string;
}

function tokensOf(options: StackSetOptions): Token[] {
  const tokens: Token[] = options.params.map((p) => {
    const text = String(p.sentinel);
    // A number must not match inside a longer number; a string sentinel is unique as it is.
    const pattern = typeof p.sentinel === 'number' ? new RegExp(`(?<![0-9.])${text}(?![0-9])`, 'g') : new RegExp(escapeRegExp(text), 'g');
    return { pattern, variable: p.parameter, whole: { Ref: p.parameter }, param: p.name };
  });
  // A region name inside a longer name (eu-west-10) is not the region.
  tokens.push({ pattern: new RegExp(`(?<![A-Za-z0-9])${escapeRegExp(options.region)}(?![0-9])`, 'g'), variable: 'AWS::Region', whole: { Ref: 'AWS::Region' } });
  return tokens;
}

const matches = (token: Token, text: string): boolean => {
  token.pattern.lastIndex = 0;
  return token.pattern.test(text);
};

/**
 * Rewrites a template's sentinels and region (see the module header). Problems: a token where
 * CloudFormation takes no intrinsic function (a logical id, a condition name, a key, a
 * description), a sentinel left anywhere, a deployment bucket still referred to.
 */
export function toStackSet(packaged: Json, options: StackSetOptions): { template: Json; problems: string[] } {
  const problems: string[] = [];
  const template = JSON.parse(JSON.stringify(packaged)) as Json;
  const tokens = tokensOf(options);
  const found = (text: string): Token[] => tokens.filter((t) => matches(t, text));
  const literalOnly = (value: Json, path: string): void => {
    const text = JSON.stringify(value) ?? '';
    for (const token of found(text)) {
      problems.push(
        `${path}: ${token.param ? `param ${token.param}` : `region ${options.region}`} is in a place that takes no intrinsic function` +
          (token.param ? '; list it in PACKAGING_TIME_PARAMS (stack/org.ts)' : ''),
      );
    }
  };

  // 1. The osls deployment bucket, its policy and what refers to them (the bucket-name output).
  for (const id of DEPLOYMENT_RESOURCES) delete template.Resources?.[id];
  for (const [name, output] of Object.entries((template.Outputs ?? {}) as Record<string, Json>)) {
    if (refersTo(output, DEPLOYMENT_RESOURCES)) delete template.Outputs[name];
  }
  if (template.Outputs && Object.keys(template.Outputs).length === 0) delete template.Outputs;

  // 2. The functions' code: the per-region bucket and the keyed zip.
  for (const [id, resource] of Object.entries((template.Resources ?? {}) as Record<string, Json>)) {
    const code = resource?.Type === 'AWS::Lambda::Function' ? resource.Properties?.Code : undefined;
    if (!isObject(code)) continue;
    if (!refersTo(code.S3Bucket, [DEPLOYMENT_BUCKET]) || typeof code.S3Key !== 'string') {
      problems.push(`Resources.${id}.Properties.Code: not in the osls deployment bucket (${JSON.stringify(code)})`);
      continue;
    }
    const file = code.S3Key.split('/').pop()!;
    const key = options.code.keys[file];
    if (key === undefined) {
      problems.push(`Resources.${id}.Properties.Code: no artifact for ${file}`);
      continue;
    }
    resource.Properties.Code = {
      S3Bucket: { 'Fn::Sub': `\${${CODE_BUCKET_PREFIX}}-\${AWS::Region}` },
      S3Key: { 'Fn::Sub': `\${${CODE_KEY_PREFIX}}${key}` },
    };
  }

  // 3. Sentinels and region.
  const subText = (text: string, escape: boolean): string => {
    let out = escape ? text.replace(/\$\{/g, '${!') : text;
    for (const token of tokens) {
      token.pattern.lastIndex = 0;
      out = out.replace(token.pattern, `\${${token.variable}}`);
    }
    return out;
  };
  const rewrite = (value: Json, path: string): Json => {
    if (typeof value === 'number') {
      const param = options.params.find((p) => p.sentinel === value);
      return param ? { Ref: param.parameter } : value;
    }
    if (typeof value === 'string') {
      const hits = found(value);
      if (hits.length === 0) return value;
      if (hits.length === 1 && value.replace(new RegExp(hits[0]!.pattern.source), '') === '') return hits[0]!.whole;
      return { 'Fn::Sub': subText(value, true) };
    }
    if (Array.isArray(value)) return value.map((item, i) => rewrite(item, `${path}[${i}]`));
    if (!isObject(value)) return value;
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === 'Fn::Sub') {
      const args = value['Fn::Sub'];
      if (typeof args === 'string') return { 'Fn::Sub': subText(args, false) };
      if (Array.isArray(args) && typeof args[0] === 'string') {
        for (const name of Object.keys(args[1] ?? {})) {
          if (tokens.some((t) => t.variable === name)) problems.push(`${path}.Fn::Sub: its variable ${name} hides a Parameter`);
        }
        return { 'Fn::Sub': [subText(args[0], false), rewrite(args[1], `${path}.Fn::Sub[1]`)] };
      }
    }
    if (keys.length === 1 && ['Ref', 'Fn::GetAtt', 'Condition'].includes(keys[0]!)) {
      literalOnly(value, `${path}.${keys[0]}`);
      return value;
    }
    const out: Record<string, Json> = {};
    for (const [key, item] of Object.entries(value)) {
      literalOnly(key, `${path} (key ${JSON.stringify(key)})`);
      if (key === 'Fn::If' && Array.isArray(item)) {
        literalOnly(item[0], `${path}.Fn::If[0]`);
        out[key] = [item[0], ...item.slice(1).map((v: Json, i: number) => rewrite(v, `${path}.Fn::If[${i + 1}]`))];
      } else if ((key === 'Fn::Join' || key === 'Fn::Split') && Array.isArray(item)) {
        literalOnly(item[0], `${path}.${key}[0]`);
        out[key] = [item[0], rewrite(item[1], `${path}.${key}[1]`)];
      } else {
        out[key] = rewrite(item, `${path}.${key}`);
      }
    }
    return out;
  };

  literalOnly(template.Description, 'Description');
  for (const [id, resource] of Object.entries((template.Resources ?? {}) as Record<string, Json>)) {
    const path = `Resources.${id}`;
    literalOnly(id, path);
    for (const [key, item] of Object.entries(resource as Record<string, Json>)) {
      if (key === 'Properties') resource.Properties = rewrite(item, `${path}.Properties`);
      else if (key === 'Metadata') resource.Metadata = rewrite(item, `${path}.Metadata`);
      else literalOnly(item, `${path}.${key}`);
    }
  }
  if (template.Conditions) template.Conditions = rewrite(template.Conditions, 'Conditions');
  for (const [name, output] of Object.entries((template.Outputs ?? {}) as Record<string, Json>)) {
    literalOnly(name, `Outputs.${name}`);
    literalOnly(output.Description, `Outputs.${name}.Description`);
    template.Outputs[name] = { ...output, Value: rewrite(output.Value, `Outputs.${name}.Value`), ...(output.Export ? { Export: rewrite(output.Export, `Outputs.${name}.Export`) } : {}) };
  }

  // 4. The Parameters: the code location, then every deploy-time param.
  const parameters: Record<string, CfnParameter> = {
    [CODE_BUCKET_PREFIX]: {
      Type: 'String',
      Default: options.code.bucketPrefix,
      // S3 bucket names: 3-63 lowercase letters, digits, dots and hyphens; the region is appended.
      AllowedPattern: '^[a-z0-9][a-z0-9.-]*[a-z0-9]$',
      Description: 'The code buckets: <prefix>-<region>, one in each region of the StackSet, readable by the organisation (docs/organisation.md)',
    },
    [CODE_KEY_PREFIX]: {
      Type: 'String',
      Default: options.code.keyPrefix,
      Description: 'The key prefix of the code zips in the code buckets (docs/organisation.md)',
    },
  };
  for (const param of options.params) {
    if (param.parameter in parameters || param.parameter in (template.Resources ?? {})) {
      problems.push(`Parameters.${param.parameter}: the name of param ${param.name} is taken already`);
    }
    parameters[param.parameter] = parameterOf(param);
  }
  const { AWSTemplateFormatVersion, Description, ...rest } = template;
  const result = { AWSTemplateFormatVersion: AWSTemplateFormatVersion ?? '2010-09-09', Description, Parameters: parameters, ...rest };

  // 5. Nothing left behind.
  const text = JSON.stringify({ ...result, Parameters: {} });
  for (const param of options.params) {
    const token = tokens.find((t) => t.param === param.name)!;
    if (matches(token, text)) problems.push(`param ${param.name}: its sentinel ${String(param.sentinel)} is still in the template`);
  }
  if (text.includes(DEPLOYMENT_BUCKET)) problems.push(`${DEPLOYMENT_BUCKET} is still referred to`);
  return { template: result, problems };
}

/**
 * The template with its Parameters' values put in (`values` by logical id): each `Ref` to one is
 * the value as a string (as CloudFormation makes it), each `${Name}` of an Fn::Sub the value; an
 * Fn::Sub left without variables is its string. For comparing with a stack packaged with values.
 */
export function resolveParameters(template: Json, values: Readonly<Record<string, string | number>>): Json {
  const resolve = (value: Json): Json => {
    if (Array.isArray(value)) return value.map(resolve);
    if (!isObject(value)) return value;
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === 'Ref' && typeof value.Ref === 'string' && value.Ref in values) return String(values[value.Ref]);
    if (keys.length === 1 && keys[0] === 'Fn::Sub' && typeof value['Fn::Sub'] === 'string') {
      const text = (value['Fn::Sub'] as string).replace(/\$\{([^!}][^}]*)\}/g, (match, name: string) => (name in values ? String(values[name]) : match));
      return /\$\{[^!]/.test(text) ? { 'Fn::Sub': text } : text.replace(/\$\{!/g, '${');
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
  };
  const { Parameters: _parameters, ...rest } = template;
  return resolve(rest);
}

/**
 * The proof that the Parameters replace the params faithfully: the StackSet template with each
 * Parameter at its default must be `reference`, the same rewrite of the stack packaged with those
 * values (without params). A param consumed or transformed at packaging (a count derived from it,
 * a resource per item) leaves a difference, named here.
 */
export function parameterisationProblems(stackSet: Json, reference: Json, params: readonly OrgParam[]): string[] {
  const values = Object.fromEntries(params.map((p) => [p.parameter, p.default]));
  const mismatch = differences(normalizeScalars(resolveParameters(stackSet, values)), normalizeScalars(resolveParameters(reference, {})));
  if (mismatch.length === 0) return [];
  return [
    'the StackSet template with its Parameters at their defaults is not the stack packaged with those values: a param shapes the ' +
      `template at packaging; list it in PACKAGING_TIME_PARAMS (stack/org.ts). Differences:\n  ${mismatch.join('\n  ')}`,
  ];
}

/** Numbers and booleans as strings, as CloudFormation converts them: for comparing templates. */
export function normalizeScalars(value: Json): Json {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(normalizeScalars);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalizeScalars(v)]));
  return value;
}

/** The paths at which two JSON values differ (at most `limit`), for a readable mismatch. */
export function differences(a: Json, b: Json, path = '', limit = 10, out: string[] = []): string[] {
  if (out.length >= limit) return out;
  if (isObject(a) && isObject(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) differences(a[key], b[key], path ? `${path}.${key}` : key, limit, out);
  } else if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((item, i) => differences(item, b[i], `${path}[${i}]`, limit, out));
  } else if (JSON.stringify(a) !== JSON.stringify(b)) {
    out.push(`${path}: ${(JSON.stringify(a) ?? 'absent').slice(0, 120)} != ${(JSON.stringify(b) ?? 'absent').slice(0, 120)}`);
  }
  return out;
}
