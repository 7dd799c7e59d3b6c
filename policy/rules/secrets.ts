// A command that prints a secret (a kubeconfig, a key, a bootstrap token) logs nothing and keeps
// its output secret: `logging: "none"` (unset logs stdout and stderr: provider/pkg/provider/remote/
// logging.go in pulumi-command v1.2.1) and `additionalSecretOutputs: ["stdout"]`.
import { commandScripts, isCommand, logicalLines, shellWords, statements } from "./shell";
import { Finding, PolicyResource, ResourceRule, undetermined, UNKNOWN } from "./types";

/** Files whose content is a secret: kubeconfigs with client keys, private keys, the PKI. */
const SECRET_FILE = /\/etc\/kubernetes\/(admin|super-admin|controller-manager|scheduler|kubelet|bootstrap-kubelet)\.conf\b|\/etc\/kubernetes\/pki\/|\.key\b|\bid_(rsa|ecdsa|ed25519)\b/;

/** Statements that print a secret on standard output unless redirected, by their command word. */
const PRINTS_SECRET: ReadonlyArray<{ command: RegExp; args: RegExp }> = [
    { command: /^(cat|base64|head|tail|tee|xxd|od)$/, args: SECRET_FILE },
    { command: /^kubectl\w*$/, args: /\bconfig\s+view\b.*--raw\b/ },
    { command: /^kubeadm$/, args: /\btoken\s+(create|list)\b|--print-join-command\b|\bupload-certs\b(?!.*--skip-certificate-key-print)|^\s*init\b(?!.*--skip-token-print)(?!\s+phase)/ },
];

/** Whether a pipeline's output goes somewhere other than standard output. */
function swallowed(pipeline: string): boolean {
    const last = pipeline.split(/\|(?!\|)/).pop()!.trim();
    return /(^|[^2])>/.test(last) || /^grep\s+(-[a-zA-Z]*q|--quiet)/.test(last) || /^(true|:)$/.test(last);
}

/** The statements of a script that print a secret, with their line numbers. */
export function secretPrints(script: string): Array<{ line: number; statement: string }> {
    const out: Array<{ line: number; statement: string }> = [];
    for (const line of logicalLines(script)) {
        // What a command substitution prints is captured, not shown.
        let text = line.text;
        for (let prev = ""; prev !== text; ) [prev, text] = [text, text.replace(/\$\([^()]*\)/g, "")];
        for (const raw of statements(text)) {
            const statement = raw.replace(/^((if|then|do|else|elif|while|until|!|\{|sudo(\s+-\S+)*)\s+)+/, "");
            const [command = "", ...rest] = shellWords(statement);
            const args = rest.join(" ");
            if (PRINTS_SECRET.some((p) => p.command.test(command) && p.args.test(args)) && !swallowed(statement)) out.push({ line: line.number, statement });
        }
    }
    return out;
}

function findings(r: PolicyResource): Finding[] {
    const scripts = commandScripts(r);
    if (scripts.some((s) => s.script === UNKNOWN)) return [undetermined(`${r.name}: its script is known only after pulumi up`)];
    const prints = scripts.flatMap(({ field, script }) => secretPrints(script).map((p) => `${field} line ${p.line}: ${p.statement}`));
    const declaredSecret = r.secretOutputs.includes("stdout") || r.secretOutputs.includes("stderr");
    if (prints.length === 0 && !declaredSecret) return [];
    const why = prints.length ? `prints a secret (${prints[0]})` : `marks ${r.secretOutputs.join(", ")} secret`;
    const out: Finding[] = [];
    if (r.props.logging !== "none") out.push({ message: `${r.name} ${why} but logs ${r.props.logging === undefined ? "stdout and stderr (logging unset)" : `"${String(r.props.logging)}"`}: set logging: "none"` });
    if (!r.secretOutputs.includes("stdout")) out.push({ message: `${r.name} ${why} but its stdout is not a secret output: add additionalSecretOutputs: ["stdout"]` });
    return out;
}

export const secretCommandsSilent: ResourceRule = {
    kind: "resource",
    name: "secret-commands-silent",
    description: "A command that prints a secret (a kubeconfig, a key, a bootstrap token) logs nothing (logging: none) and keeps its stdout secret (additionalSecretOutputs).",
    enforcementLevel: "mandatory",
    appliesTo: isCommand,
    check: findings,
};
