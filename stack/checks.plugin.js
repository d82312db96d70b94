// A local Serverless Framework (osls) plugin: checks the packaged CloudFormation template before
// it is saved (stack/checks.ts), so that `serverless package` and `serverless deploy` fail
// at once, naming what to change, instead of AWS failing the stack halfway through creating it.
//
// serverless.yml:  plugins: [serverless-esbuild, ./stack/checks.plugin.js]
// Hook: before aws:package:finalize:saveServiceState, when the template is complete (functions,
// events and the resources section merged) and not yet written.
'use strict';

class StackChecks {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options || {};
    this.hooks = {
      'before:aws:package:finalize:saveServiceState': () => this.check(),
    };
  }

  check() {
    // tsx's hook for the duration of one require (as policy.stack.js does).
    const { register } = require('tsx/cjs/api');
    const unregister = register();
    let checks;
    try {
      checks = require('./checks.ts');
    } finally {
      unregister();
    }
    const provider = this.serverless.getProvider('aws');
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const problems = checks.packagedTemplateProblems(template, provider.getStage(), provider.getRegion());
    if (problems.length > 0) {
      const message = `The stack would not deploy (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n- ${problems.join('\n- ')}`;
      throw new this.serverless.classes.Error(message, 'EKS_IP_RESPONDER_STACK_CHECK');
    }
  }
}

module.exports = StackChecks;
