// Imported first by every entry point that evaluates the program (plan/cli.ts, bench/evaluate.ts).
//
// Pulumi's SDK (3.248) captures a stack trace for every promise it wraps
// (`debuggablePromise` in @pulumi/pulumi/runtime/debuggable.js: `new Error().stack`, some thirty
// call sites: every registration, invoke, output and RPC), and keeps it only to explain leaked
// promises when PULUMI_DEBUG_PROMISE_LEAKS is set. Formatting those traces is a large share of an
// offline plan's CPU, growing with the number of resources. With a limit of 0 V8 captures no frame.
// What the SDK captures per resource for its source position (`Resource.callsites` in
// resource.js) raises the limit to Infinity itself for that one trace; that one stays.
//
// OSLO_MESH_DEBUG=1 (or the SDK's own PULUMI_DEBUG_PROMISE_LEAKS) keeps every trace.
export const debugging = !!(process.env.OSLO_MESH_DEBUG || process.env.PULUMI_DEBUG_PROMISE_LEAKS);
if (!debugging) Error.stackTraceLimit = 0;
