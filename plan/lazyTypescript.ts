// Imported first by every entry point that evaluates the program offline (plan/cli.ts,
// bench/evaluate.ts, roll/cli.ts), before @pulumi/pulumi.
//
// Requiring @pulumi/pulumi 3.248 loads the TypeScript compiler (about 240 ms): runtime/index.js
// re-exports serializeFunction from runtime/closure/serializeClosure, whose parseFunction.js
// requires typescript-shim.js (TypeScript from node_modules, else a vendored 3.8.3) at its top,
// although only serializing a closure uses it. The offline plan serializes none (the gates ship
// their own provider text, components/shared/previewGate.ts), so the shim's module is put in
// place as a stand-in that runs the real shim on first use: whatever asks TypeScript for
// anything then gets the real module, as before.
import { Module } from "module";

interface CachedModule {
    exports: unknown;
    filename: string;
    loaded: boolean;
}

const cache = require.cache as Record<string, CachedModule | undefined>;
let shim: string | undefined;
try {
    shim = require.resolve("@pulumi/pulumi/typescript-shim");
} catch {
    // Another SDK layout: nothing to defer.
}

if (shim !== undefined && cache[shim] === undefined) {
    const file = shim;
    let real: object | undefined;
    /** The real shim, run once, on first use. */
    const load = (): object => {
        if (real === undefined) {
            delete cache[file];
            real = require(file) as object;
        }
        return real;
    };
    const standIn = new Module(file) as unknown as CachedModule;
    standIn.filename = file;
    standIn.loaded = true;
    standIn.exports = new Proxy(
        {},
        {
            get: (_, key) => Reflect.get(load(), key),
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

