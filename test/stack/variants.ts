/**
 * The stack as it is deployed: packaged for the production stages, each without and with the
 * optional params, for the checks that must hold for every template a deploy can send
 * (cfn-spec.test.ts). Packaging takes ~8 s a variant on an idle machine, so a test file packages
 * them once, in a `beforeAll`, and removes them in its `afterAll`.
 */
import { CfnTemplate, packageWith } from './template';

/**
 * The optional params (serverless.yml, params.default: empty means off), each set to a value a
 * deploy would use: an e-mail subscription, roles to pass to EKS, a cluster list.
 */
export const OPTIONAL_PARAMS: Readonly<Record<string, string>> = {
  alertEmail: 'ops@example.com',
  passRoleArns: 'arn:aws:iam::123456789012:role/node-a,arn:aws:iam::123456789012:role/vpc-cni',
  clusterNames: 'orders-prod,payments-prod',
  // The aggregate fallback of the two Metrics Insights alarms (docs/deploy.md).
  multiTimeSeriesAlarms: 'false',
  // Kubernetes access: an access entry per role for one watched cluster, the responder a writer,
  // and both functions in a VPC (docs/kubernetes.md).
  kubernetesClusters: 'orders-prod',
  kubernetesWrite: 'true',
  vpcSubnetIds: 'subnet-0123456789abcdef0,subnet-0123456789abcdef1',
  vpcSecurityGroupIds: 'sg-0123456789abcdef0',
  // The organisation's central view (docs/organisation-central.md): the central topic (in another
  // account and region) and the OAM sink (in the stack's region, eu-west-1 for packageWith).
  centralTopicArn: 'arn:aws:sns:us-east-1:999988887777:eks-ip-responder-central',
  oamSinkIdentifier: 'arn:aws:oam:eu-west-1:999988887777:sink/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
  // The sampler's fan-out mode: a Step Functions state machine, its schedule and roles (stack/fanout.ts).
  cycleMode: 'per-cluster',
};

/** `prod` has stage params of its own (logRetentionInDays); the other is a stage without any. */
export const PRODUCTION_STAGES = ['prod', 'production-eu-central-1'] as const;

/** One packaged template. */
export interface StackVariant {
  /** `<stage>` or `<stage> with optional params`, for test names. */
  name: string;
  stage: string;
  params: Readonly<Record<string, string>>;
  template: CfnTemplate;
  /** Removes the temporary directory it was packaged in. */
  remove(): void;
}

/** What `packageVariants` packages: each production stage, without and with OPTIONAL_PARAMS. */
export const VARIANTS: ReadonlyArray<Pick<StackVariant, 'name' | 'stage' | 'params'>> = PRODUCTION_STAGES.flatMap(
  (stage) => [
    { name: stage, stage, params: {} },
    { name: `${stage} with optional params`, stage, params: OPTIONAL_PARAMS },
  ],
);

/**
 * Packages every variant of VARIANTS, one after the other (`packageWith` waits for its
 * `serverless package`). If one fails, the ones packaged already are removed before it throws.
 */
export function packageVariants(): StackVariant[] {
  const packaged: StackVariant[] = [];
  try {
    for (const variant of VARIANTS) {
      const { template, remove } = packageWith({ ...variant.params }, { stage: variant.stage });
      packaged.push({ ...variant, template, remove });
    }
    return packaged;
  } catch (err) {
    removeVariants(packaged);
    throw err;
  }
}

/** Removes the temporary directories of packaged variants (for an `afterAll`). */
export function removeVariants(variants: readonly StackVariant[]): void {
  for (const variant of variants) variant.remove();
}
