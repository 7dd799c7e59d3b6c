// A fake `pulumi` for the canary tests: it keeps a stack's state in a JSON file and answers the
// three commands the progression runs, in the real CLI's formats (pulumi/pulumi v3.248.0):
// - `stack export --stack S`: the UntypedDeployment {"version": 3, "deployment": {...}} as JSON,
//   4-space indent, trailing newline (pkg/cmd/pulumi/stack/stack_export.go: json.Encoder with
//   SetIndent("", "    ")); resources as apitype.ResourceV3 (sdk/go/common/apitype/core.go).
// - `stack output kubeconfig --show-secrets --json --stack S`: the value as JSON, 2-space indent,
//   trailing newline (stack_output.go → ui.FprintJSON → MakeJSONString); without --show-secrets a
//   secret prints as "[secret]" (display.MassageSecrets).
// - `up --stack S --target URN... --yes`: fails without --yes when not interactive
//   (backenderr.go: "--yes or --skip-preview or --preview-only must be passed in to proceed when
//   running in non-interactive mode"); an unknown target fails the whole update before anything
//   changes (deploy/deployment_executor.go checkTargets; diag 2010 "Target '%v' could not be found
//   in the stack.", exit 1); a targeted VirtualService whose spec changes gets `modified` = now, one
//   that does not change keeps it (deploy/step.go UpdateStep.Apply). What the program renders for
//   the route is components/mesh/render.ts renderCanary: only subsets with a weight above 0, and a
//   weight only when more than one remains.
// Environment: FAKE_PULUMI_STATE (state file), FAKE_PULUMI_LOG (one JSON line per call),
// FAKE_PULUMI_KUBECONFIG (the kubeconfig output's text), FAKE_PULUMI_UP_EXIT (make `up` fail).
import * as fs from "fs";
import * as path from "path";
import * as jsyaml from "js-yaml";

interface Resource {
    urn: string;
    type: string;
    parent?: string;
    inputs?: Record<string, any>;
    outputs?: Record<string, any>;
    modified?: string;
}

const argv = process.argv.slice(2);
const env = (k: string) => process.env[k] ?? "";
fs.appendFileSync(env("FAKE_PULUMI_LOG"), `${JSON.stringify({ argv, cwd: process.cwd() })}\n`);

function flag(name: string): string | undefined {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
}

function fail(message: string, code = 1): never {
    process.stderr.write(`error: ${message}\n`);
    process.exit(code);
}

/** Go's time.Time JSON form: RFC 3339 with nanoseconds, in UTC. */
function goTime(ms: number): string {
    return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, (_, frac) => `.${frac}${String(process.hrtime()[1] % 1_000_000).padStart(6, "0")}Z`);
}

const state = () => JSON.parse(fs.readFileSync(env("FAKE_PULUMI_STATE"), "utf8")) as { version: number; deployment: { resources: Resource[] } };

if (argv[0] === "stack" && argv[1] === "export") {
    process.stdout.write(`${JSON.stringify(state(), null, 4)}\n`);
} else if (argv[0] === "stack" && argv[1] === "output" && argv[2] === "kubeconfig") {
    const value = argv.includes("--show-secrets") ? fs.readFileSync(env("FAKE_PULUMI_KUBECONFIG"), "utf8") : "[secret]";
    process.stdout.write(argv.includes("--json") ? `${JSON.stringify(value, null, 2)}\n` : `${value}\n`);
} else if (argv[0] === "up") {
    if (!argv.includes("--yes")) fail("--yes or --skip-preview or --preview-only must be passed in to proceed when running in non-interactive mode");
    const stack = flag("--stack") ?? fail("no stack selected");
    const s = state();
    const targets = argv.flatMap((a, i) => (a === "--target" ? [argv[i + 1]] : []));
    const missing = targets.filter((t) => !s.deployment.resources.some((r) => r.urn === t));
    if (missing.length > 0) {
        for (const t of missing) process.stderr.write(`error: Target '${t}' could not be found in the stack.\n`);
        fail("one or more targets could not be found in the stack");
    }
    if (env("FAKE_PULUMI_UP_EXIT")) fail("update failed", Number(env("FAKE_PULUMI_UP_EXIT")));
    const config = (jsyaml.load(fs.readFileSync(path.join(process.cwd(), `Pulumi.${stack.split("/").pop()}.yaml`), "utf8")) as any).config;
    let updated = 0;
    for (const r of s.deployment.resources) {
        if (!targets.includes(r.urn) || !r.type.endsWith(":VirtualService")) continue;
        const meta = r.outputs!.metadata;
        const canary = (config["oslo-mesh:canaries"] as any[]).find((c) => c.namespace === meta.namespace && c.service === meta.name);
        const weighted = (canary.subsets as Array<{ name: string }>).filter((sub) => (canary.weights[sub.name] ?? 0) > 0);
        const route = weighted.map((sub) => ({ destination: { host: canary.service, subset: sub.name }, ...(weighted.length > 1 ? { weight: canary.weights[sub.name] } : {}) }));
        const http = r.outputs!.spec.http as Array<{ match?: unknown; route: unknown }>;
        const split = http[http.length - 1];
        if (JSON.stringify(split.route) === JSON.stringify(route)) continue;
        split.route = route;
        r.inputs!.spec = JSON.parse(JSON.stringify(r.outputs!.spec));
        r.modified = goTime(Date.now());
        updated++;
    }
    fs.writeFileSync(env("FAKE_PULUMI_STATE"), JSON.stringify(s, null, 4));
    process.stdout.write(`Updating (${stack})\n\nResources:\n    ~ ${updated} updated\n    ${targets.length - updated} unchanged\n\nDuration: 1s\n`);
} else {
    fail(`the fake pulumi does not know \`pulumi ${argv.join(" ")}\``, 2);
}
