#!/bin/sh
# npm run test:deploy [-- --stage rehearsal --region eu-west-1 --param k=v ...]
#
# Optional deploy rehearsal (scripts/deploy-rehearsal.py): packages the stack into a temporary
# directory, lints it with cfn-lint and deploys it into moto on 127.0.0.1. Not part of `npm test`:
# it needs Python with cfn-lint and moto, which a fresh machine does not have. Exit code 3 when
# they are missing, so that a missing prerequisite is never taken for a pass.
set -eu
PYTHON=${PYTHON:-python3}
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "deploy rehearsal: not run, it needs $PYTHON with cfn-lint and moto: pip install cfn-lint 'moto[server]'" >&2
  exit 3
fi
exec "$PYTHON" "$(dirname "$0")/deploy-rehearsal.py" "$@"
