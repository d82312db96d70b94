// serverless.yml reads the stack's Kubernetes access from here (stack/kubernetes.ts builds it):
//   resources: - ${file(./stack/kubernetes.stack.js):resources}   one AWS::EKS::AccessEntry per
//                                                                 kubernetesClusters cluster per role
//                                                                 and the ENI policy of a VPC placement
//   functions.*.vpc: ${file(./stack/kubernetes.stack.js):vpc}     the functions' VPC placement, or false
//   functions.*.dependsOn: ${file(./stack/kubernetes.stack.js):dependsOn}   that policy, or []
// osls calls the exported function at packaging time (tsx compiles the TypeScript) with
// { resolveVariable }, which takes a variable without its `${}`, here the stage params. A param
// the stack would not deploy with (one of vpcSubnetIds / vpcSecurityGroupIds without the other, an
// invalid cluster name, kubernetesWrite not 'true'/'false') fails the packaging, every problem named
// (stack/checks.ts kubernetesParamProblems).
const path = require('node:path');

module.exports = async ({ resolveVariable }) => {
  // tsx's hook for the duration of one require (as in policy.stack.js).
  const { register } = require('tsx/cjs/api');
  const unregister = register();
  let kubernetes;
  let checks;
  let policyYaml;
  let policyLoad;
  try {
    kubernetes = require('./kubernetes.ts');
    checks = require('./checks.ts');
    policyYaml = require('../lib/policy/yaml.ts');
    policyLoad = require('../lib/policy/load.ts');
  } finally {
    unregister();
  }
  const param = async (name) => String((await resolveVariable(`param:${name}`)) ?? '');
  const params = {
    kubernetesClusters: await param('kubernetesClusters'),
    kubernetesWrite: await param('kubernetesWrite'),
    vpcSubnetIds: await param('vpcSubnetIds'),
    vpcSecurityGroupIds: await param('vpcSecurityGroupIds'),
    clusterNames: await param('clusterNames'),
  };
  // The writer group only on the clusters policy.yml puts in apply mode (as policy.stack.js reads it;
  // an invalid policy fails the packaging there, with every problem named).
  const policyFile = process.env.POLICY_FILE || path.resolve(__dirname, '..', 'policy.yml');
  const applyClusters = new Set(policyLoad.applyModeClusters(policyYaml.readPolicyFile(policyFile)));
  const problems = checks.kubernetesParamProblems(params);
  if (problems.length > 0) {
    throw new Error(`The stack would not deploy (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n- ${problems.join('\n- ')}`);
  }
  return {
    resources: { Resources: kubernetes.kubernetesResources(params, applyClusters) },
    vpc: kubernetes.vpcConfig(params),
    dependsOn: kubernetes.functionDependsOn(params),
  };
};
