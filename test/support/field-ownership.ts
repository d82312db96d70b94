/** Server-side apply's field ownership lives in tools/ (tools/kube-server.ts uses it); re-exported for the tests. */
export * from '../../tools/field-ownership';
