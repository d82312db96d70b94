// The stack project's setup file: when its globalSetup could not package (test/stack/global-setup.ts),
// every stack suite fails with that one line instead of with the errors of a stale or absent package.
const problem = process.env['STACK_PACKAGE_PROBLEM'];
if (problem) throw Object.assign(new Error(problem), { stack: problem });
