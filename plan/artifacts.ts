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
    // Day 2: the jobs and the etcd restore runbook each control plane gets.
    RESTORE_SCRIPT: (r) => `runbooks/${r}/etcd-restore.sh`,
    SNAPSHOT_SCRIPT: (r) => `runbooks/${r}/etcd-snapshot.sh`,
    RENEW_SCRIPT: (r) => `runbooks/${r}/renew-certificates.sh`,
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
        const opts = JSON.parse(String(inv.args.jsonOpts)) as { chart?: string; path?: string; release_name?: string; values?: unknown };
        const release = safe(opts.release_name ?? opts.chart ?? "chart");
        out.push({ file: `helm/${release}.values.yaml`, content: jsyaml.dump(redact(opts.values ?? {}), { noRefs: true }) });
        // A local chart as Helm gets it, byte for byte (when it is on this machine).
        if (opts.path && fs.existsSync(path.join(opts.path, "Chart.yaml"))) {
            for (const file of listFiles(opts.path)) out.push({ file: `helm/${release}/chart/${file}`, content: fs.readFileSync(path.join(opts.path, file), "utf8") });
        }
    }
    return out;
}

function listFiles(dir: string, rel = ""): string[] {
    return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
        const child = rel ? `${rel}/${e.name}` : e.name;
        return e.isDirectory() ? listFiles(dir, child) : e.isFile() ? [child] : [];
    });
}

export function writeArtifacts(dir: string, artifacts: ReadonlyArray<Artifact>): void {
    for (const a of artifacts) {
        const file = path.join(dir, a.file);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, a.content, { mode: a.file.endsWith(".sh") ? 0o755 : 0o644 });
    }
}
