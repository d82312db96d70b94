#!/bin/sh
# `npm run lint:cfn`: cfn-lint over every template the project produces, when cfn-lint is installed
# (`pip install cfn-lint`; not a dependency of `npm test`, which validates the templates against the
# CloudFormation resource specification itself: test/stack/cfn-spec.ts). Without cfn-lint it says
# so and succeeds. Templates: `npm run package`'s (.serverless/) and `npm run package:org`'s
# (.serverless-org/), when present, and any path given as an argument.
set -eu
cd "$(dirname "$0")/.."
if ! command -v cfn-lint >/dev/null 2>&1; then
  echo "lint:cfn: skipped, cfn-lint is not installed (pip install cfn-lint)" >&2
  exit 0
fi
for template in .serverless/cloudformation-template-update-stack.json .serverless-org/template.json; do
  [ -f "$template" ] && set -- "$@" "$template"
done
if [ "$#" -eq 0 ]; then
  echo "lint:cfn: no template: run npm run package and/or npm run package:org first" >&2
  exit 1
fi
echo "lint:cfn: $(cfn-lint --version) on $*"
# Exit code bits (cfn-lint): 2 errors, 4 warnings, 8 informational. Only errors fail.
status=0
cfn-lint --format parseable -- "$@" || status=$?
if [ $((status & 2)) -ne 0 ] || [ $((status & 1)) -ne 0 ]; then exit 1; fi
exit 0
