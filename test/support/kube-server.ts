/** The Kubernetes API test server lives in tools/ (scripts/bench uses it too); re-exported for the tests. */
export * from '../../tools/kube-server';
