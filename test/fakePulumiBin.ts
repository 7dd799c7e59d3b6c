// Puts the fake `pulumi` (test/fakePulumi.ts, with the engine model it runs, test/rollEngine.ts)
// into a directory for PATH, compiled once to plain JavaScript: a call then costs a node start,
// not a TypeScript compile.
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

export function installFakePulumi(bin: string): void {
    fs.mkdirSync(bin, { recursive: true });
    for (const [source, out] of [["fakePulumi.ts", "fake-pulumi.js"], ["rollEngine.ts", "rollEngine.js"]]) {
        const text = fs.readFileSync(path.join(__dirname, source), "utf8");
        fs.writeFileSync(path.join(bin, out), ts.transpileModule(text, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020 } }).outputText);
    }
    fs.writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(bin, "fake-pulumi.js"))} "$@"\n`, { mode: 0o755 });
}
