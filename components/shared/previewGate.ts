// A gate that stops `pulumi preview` (and so `pulumi up`) before a transition it must not make.
// It is a dynamic resource that manages nothing outside the state: its state is the inputs it
// last let through, and its provider's check(olds, news) compares them with this run's. The
// engine calls check with the inputs stored in the state as `olds` ({} on first creation),
// during the preview and again before `pulumi up` changes anything
// (pkg/resource/deploy/step_generator.go at v3.248.0, continueStepsFromImport); a failure without
// a property prints as "<type> resource '<name>' has a problem: <reason>"
// (sdk/go/common/diag/errors.go, code 2002) and fails the run. Resources that must not move past
// a refusal depend on the gate, so `--skip-preview` stops there too. A run that targets other
// resources only (`pulumi up --target`) does not check the gate: the engine stubs check out for
// resources it does not target and keeps their old inputs.
//
// The provider travels in the state as source text, in the reserved input `__provider`: Pulumi's
// dynamic provider host loads it with require-from-string and calls its `handler()` for the
// provider (sdk/nodejs/cmd/dynamic-provider/index.ts, getProvider, at v3.248.0), whatever the
// program's code is by then. pulumi.dynamic.Resource makes that text with the SDK's closure
// serializer, which opens a V8 inspector session and loads TypeScript's parser: about 0.6 s of
// every preview and plan. A gate's provider is a pure function, so its text here is two modules
// that import nothing, gateRuntime.ts and the module that decides, compiled as the program runs
// them. The registration is the one dynamic.Resource makes (sdk/nodejs/dynamic/index.ts): the type
// `pulumi-nodejs:dynamic/<module>:<Type>` and the inputs with `__provider`.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

export { GateDecision, GateProvider, GateVerdict, gateProvider, stableJson } from "./gateRuntime";

/** Which provider a gate ships. */
export interface GateSpec {
    /** The module that decides (its file, as require.resolve names it): it must import nothing. */
    readonly decisionModule: string;
    /** The GateDecision that module exports. */
    readonly decide: string;
    /** The id of the one object the gate manages. */
    readonly id: string;
    /** The input a refusal names; "" names the resource as a whole. */
    readonly property?: string;
}

const compiled = new Map<string, string>();

/**
 * A module's JavaScript as the program runs it: the emitted file under bin/ (the offline plan), or
 * the TypeScript source transpiled as ts-node does for `pulumi up` (typescript is there then).
 */
function compiledModule(file: string): string {
    let text = compiled.get(file);
    if (text === undefined) {
        const source = fs.readFileSync(file, "utf8");
        if (file.endsWith(".ts")) {
            const ts = require("typescript") as typeof import("typescript");
            text = ts.transpileModule(source, { fileName: file, compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
        } else {
            // The build's output, without the comment naming its source map (no map travels
            // with the provider): the same text as transpiling the source here.
            text = source.replace(/^\/\/# sourceMappingURL=.*\s*$(?![\s\S])/m, "");
        }
        if (/\brequire\s*\(|\bimport\s*\(/.test(text)) {
            throw new Error(`${file} travels in the Pulumi state with a gate's provider and must import nothing`);
        }
        compiled.set(file, text);
    }
    return text;
}

/** The text of a gate's provider, as the dynamic provider host loads it (a module exporting handler()). */
export function gateProviderSource(spec: GateSpec): string {
    const wrap = (file: string) => `load(function (exports, module) {\n${compiledModule(file)}\n})`;
    return [
        `// oslo-mesh: the provider of a preview gate (components/shared/previewGate.ts); it decides with ${path.basename(spec.decisionModule, path.extname(spec.decisionModule))}.${spec.decide}.`,
        `"use strict";`,
        `function load(define) { const module = { exports: {} }; define(module.exports, module); return module.exports; }`,
        `const runtime = ${wrap(require.resolve("./gateRuntime"))};`,
        `const decisions = ${wrap(spec.decisionModule)};`,
        `exports.handler = function () { return runtime.gateProvider(decisions[${JSON.stringify(spec.decide)}], ${JSON.stringify(spec.id)}, ${JSON.stringify(spec.property ?? "")}); };`,
        ``,
    ].join("\n");
}

/** A gate registered as pulumi.dynamic.Resource registers it: `pulumi-nodejs:dynamic/<module>:<type>`. */
export abstract class PreviewGate extends pulumi.CustomResource {
    constructor(module: string, type: string, spec: GateSpec, name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
        super(`pulumi-nodejs:dynamic/${module}:${type}`, name, { ...props, __provider: gateProviderSource(spec) }, opts);
    }
}
