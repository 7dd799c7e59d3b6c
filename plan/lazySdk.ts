// Imported first by every entry point that evaluates the program offline (plan/cli.ts,
// bench/evaluate.ts, roll/cli.ts, test/policyPlanDump.ts) and by `npm test`'s mocha processes
// (test/run.js), before @pulumi/pulumi.
//
// Requiring @pulumi/pulumi 3.248 loads about 550 modules the offline plan never uses (measured:
// the four SDKs load in about 0.73 s with them, 0.27 s without), because three of its modules
// are required eagerly at its top although only rarely used features need them:
//
// - `typescript-shim.js`, the TypeScript compiler (about 240 ms): runtime/index.js re-exports
//   serializeFunction from runtime/closure/serializeClosure, whose parseFunction.js requires the
//   shim at its top; only serializing a closure uses it, and the plan serializes none (the gates
//   ship their own provider text, components/shared/previewGate.ts).
// - `runtime/closure/codePaths.js`, which requires @npmcli/arborist (npm's dependency tree:
//   pacote, cacache, about 470 modules, 330 ms) at its top; only computeCodePaths, which packs a
//   program's dependencies for a serialized function (e.g. a Lambda callback), uses it.
//   runtime/index.js reads `computeCodePaths` off it at load time, so the stand-in hands out a
//   function that calls the real one.
// - `automation/index.js`, the Automation API (execa, a gRPC server for inline programs), which
//   index.js binds as `pulumi.automation` through `__importStar`: a module marked `__esModule`
//   is bound as it is, so the stand-in answers that mark without loading anything.
//
// Each is put in require.cache as a stand-in that runs the real module on first use: reading,
// writing, defining or deleting anything in it then reaches the real module (test/plan.test.ts
// proves that a whole plan loads none of them and that each still works after its stand-in).
// One difference stays: a binding made before first use (`pulumi.automation`) keeps the stand-in,
// while a require() after it gets the real module; both reach the same properties.
// pulumi/pulumi#10185 (2022) made the SDK avoid exactly this for TypeScript; the eager
// re-exports bring it back.
import { Module } from "module";

interface CachedModule {
    exports: unknown;
    filename: string;
    loaded: boolean;
}

interface Deferral {
    /** The module, as require.resolve takes it. */
    readonly module: string;
    /** The module marks itself `__esModule` (TypeScript's emit): answered without loading it. */
    readonly esModule: boolean;
    /** Functions its requirers read off it at their own load time: handed out as callers of the real ones. */
    readonly functions: readonly string[];
}

/** What is deferred, and how (see above). */
const DEFERRED: readonly Deferral[] = [
    { module: "@pulumi/pulumi/typescript-shim", esModule: false, functions: [] },
    { module: "@pulumi/pulumi/runtime/closure/codePaths", esModule: true, functions: ["computeCodePaths"] },
    { module: "@pulumi/pulumi/automation", esModule: true, functions: [] },
];

const cache = require.cache as Record<string, CachedModule | undefined>;

function defer({ module, esModule, functions }: Deferral): void {
    let file: string;
    try {
        file = require.resolve(module);
    } catch {
        return; // Another SDK layout: nothing to defer.
    }
    if (cache[file] !== undefined) return;
    let real: Record<PropertyKey, unknown> | undefined;
    /** The real module, run once, on first use. */
    const load = (): Record<PropertyKey, unknown> => {
        if (real === undefined) {
            // Asked again while the real module runs (a cycle): its exports so far, as require() gives them.
            const current = cache[file];
            if (current !== undefined && current !== standIn) return current.exports as Record<PropertyKey, unknown>;
            delete cache[file];
            real = require(file) as Record<PropertyKey, unknown>;
        }
        return real;
    };
    const callers = new Map<PropertyKey, unknown>(functions.map((name) => [name, (...args: unknown[]) => (load()[name] as (...a: unknown[]) => unknown)(...args)]));
    const standIn = new Module(file) as unknown as CachedModule;
    standIn.filename = file;
    standIn.loaded = true;
    standIn.exports = new Proxy(
        {},
        {
            get: (_, key) => {
                if (key === "__esModule" && esModule && real === undefined) return true;
                if (callers.has(key) && real === undefined) return callers.get(key);
                return Reflect.get(load(), key);
            },
            set: (_, key, value) => Reflect.set(load(), key, value),
            defineProperty: (_, key, descriptor) => Reflect.defineProperty(load(), key, descriptor),
            deleteProperty: (_, key) => Reflect.deleteProperty(load(), key),
            has: (_, key) => Reflect.has(load(), key),
            ownKeys: () => Reflect.ownKeys(load()),
            getOwnPropertyDescriptor: (_, key) => {
                const d = Reflect.getOwnPropertyDescriptor(load(), key);
                return d && { ...d, configurable: true };
            },
        },
    );
    cache[file] = standIn;
}

for (const d of DEFERRED) defer(d);
