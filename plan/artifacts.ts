// Writes what the program renders (scripts, cloud-init, kubeadm configs, Helm values,
// Kubernetes objects) as files, read off the recorded inputs: the same bytes `pulumi up` ships.
import * as fs from "fs";
import * as path from "path";
import * as jsyaml from "js-yaml";
import { RecordedInvoke, redact } from "./mocks";
import { Plan } from "./run";

export interface Artifact {
    readonly file: string;
    readonly content: string;
}

const COMMAND_TYPES = new Set(["command:remote:Command", "command:local:Command"]);
const COMMAND_FIELDS: Array<[string, string]> = [["create", "sh"], ["update", "sh"], ["delete", "sh"], ["stdin", "stdin"]];

function safe(name: string): string {
    return name.replace(/[^A-Za-z0-9._-]+/g, "_");
}

/** Script parameters that are documents of their own, and where the plan writes them. */
const EMBEDDED: Record<string, (resource: string) => string> = {
    USER_DATA: (r) => `cloud-init/${r}/user-data`,
    META_DATA: (r) => `cloud-init/${r}/meta-data`,
    NETWORK_CONFIG: (r) => `cloud-init/${r}/network-config`,
    KUBEADM_CONFIG: (r) => `kubeadm/${r}.yaml`,
    ADMIT_CONFIG: (r) => `kubeadm/${r}.yaml`,
};

/** The value of `readonly NAME='...'` in a rendered script (components/shared/script.ts quotes this way). */
export function scriptParam(script: string, name: string): string | undefined {
    const m = new RegExp(`^readonly ${name}='((?:[^']|'\\\\'')*)'$`, "m").exec(script);
    return m ? m[1].replace(/'\\''/g, "'") : undefined;
}

export function collectArtifacts(plan: Plan, invokes: ReadonlyArray<RecordedInvoke>): Artifact[] {
    const out: Artifact[] = [];
    for (const r of plan.resources) {
        if (COMMAND_TYPES.has(r.type)) {
            for (const [field, ext] of COMMAND_FIELDS) {
                const v = r.inputs[field];
                // Values known only at `pulumi up` ("[unknown]") or secret ("[secret]") have no file.
                if (typeof v !== "string" || v === "[unknown]" || v === "[secret]") continue;
                out.push({ file: `commands/${safe(r.name)}.${field}.${ext}`, content: v });
                if (field !== "create") continue;
                for (const [param, where] of Object.entries(EMBEDDED)) {
                    const doc = scriptParam(v, param);
                    if (doc) out.push({ file: where(safe(r.name)), content: doc.endsWith("\n") ? doc : `${doc}\n` });
                }
            }
        } else if (r.custom && r.type.startsWith("kubernetes:") && r.type !== "pulumi:providers:kubernetes") {
            out.push({ file: `kubernetes/${safe(r.name)}.yaml`, content: jsyaml.dump(r.inputs, { noRefs: true, sortKeys: false }) });
        }
    }
    for (const inv of invokes) {
        if (inv.token !== "kubernetes:helm:template") continue;
        const opts = JSON.parse(String(inv.args.jsonOpts)) as { chart: string; release_name?: string; values?: unknown };
        out.push({ file: `helm/${safe(opts.release_name ?? opts.chart)}.values.yaml`, content: jsyaml.dump(redact(opts.values ?? {}), { noRefs: true }) });
    }
    return out;
}

/** What `--out` writes beside the artifacts: the stack and every file it wrote, so that the next run can tell its own. */
export const MANIFEST = ".oslo-mesh-plan.json";

interface Manifest {
    readonly stack: string;
    readonly files: string[];
}

function filesUnder(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)).map((f) => path.join(e.name, f)) : [e.name]));
}

/**
 * `--out DIR` never mixes two plans: DIR must be new, empty, or hold exactly a previous plan of
 * the same stack (what its manifest lists), which is then removed. Anything else is refused
 * before a file is touched.
 */
export function prepareOutDir(dir: string, stack: string): void {
    if (!fs.existsSync(dir)) {
        fs.mkdirSync(dir, { recursive: true });
        return;
    }
    if (!fs.statSync(dir).isDirectory()) throw new Error(`--out ${dir}: not a directory`);
    const present = filesUnder(dir);
    if (present.length === 0) return;
    let manifest: Manifest | undefined;
    try {
        manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), "utf8")) as Manifest;
    } catch {
        manifest = undefined;
    }
    const refuse = (why: string) => {
        throw new Error(`--out ${dir}: ${why}; give a new or empty directory, or the directory of an earlier plan of stack ${stack}`);
    };
    if (!manifest || !Array.isArray(manifest.files)) refuse("is not empty and holds no plan");
    if (manifest!.stack !== stack) refuse(`holds the plan of stack ${manifest!.stack}`);
    const ours = new Set([MANIFEST, ...manifest!.files].map((f) => path.normalize(f)));
    const foreign = present.filter((f) => !ours.has(path.normalize(f)));
    if (foreign.length) refuse(`holds files that are not part of the earlier plan (${foreign.slice(0, 3).join(", ")}${foreign.length > 3 ? ", …" : ""})`);
    for (const f of present) fs.rmSync(path.join(dir, f));
    for (const e of fs.readdirSync(dir)) fs.rmSync(path.join(dir, e), { recursive: true });
}

/** Writes the artifacts and the manifest into a directory that prepareOutDir accepted. */
export function writeArtifacts(dir: string, stack: string, artifacts: ReadonlyArray<Artifact>): void {
    for (const a of artifacts) {
        const file = path.join(dir, a.file);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, a.content, { mode: a.file.endsWith(".sh") ? 0o755 : 0o644 });
    }
    const manifest: Manifest = { stack, files: artifacts.map((a) => a.file).sort() };
    fs.writeFileSync(path.join(dir, MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
}
