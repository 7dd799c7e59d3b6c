// Every download in a script the program runs is checked against a checksum before it is used.
// A static reading of the rendered script: a `curl`/`wget` that writes a file needs a later
// digest of that same file (sha256sum, sha512sum, …, or a digest tool held in a *SUM* variable),
// or a `sha256sum -c` check; a download piped straight into a command, or `kubectl apply -f URL`,
// is never verified; a pinned digest parameter (…_SHA256, …_SHA512) rendered empty must not
// let the script go ahead unverified (it stops, or takes the publisher's checksum file instead). A check written in a way this reading does not know is reported:
// say it the known way, or teach the rule.
import { commandScripts, isCommand, logicalLines, ScriptLine, scriptParams, shellWords } from "./shell";
import { Finding, ResourceRule, undetermined, UNKNOWN } from "./types";

const DIGEST = /(^|[\s;&|(`"'])(sha1sum|sha224sum|sha256sum|sha384sum|sha512sum|b2sum|shasum|openssl\s+(dgst|sha1|sha256|sha512)|gpg\s+--verify|cosign\s+verify)\b|\$\{?[A-Z_]*SUM[A-Z_]*(\[[^\]]*\])?\}?["']?\s/;
const CHECK_FILE = /(sha\d*sum|b2sum|shasum)\s+(-[a-z]*c\b|--check\b)/;
const CHECKSUM_FILE = /(\.(sum|sha1|sha256|sha512|sha256sum|sha512sum|asc|sig)|SHA\d*SUMS(\.gpg)?)$/i;
const PINNED_DIGEST_PARAM = /(^|_)SHA(1|256|512)$/;

interface Download {
    readonly line: ScriptLine;
    readonly tool: string;
    readonly url: string;
    /** The file it writes, "-" for standard output, "" for a remote name it picks. */
    readonly output: string;
    /** What reads it on standard output, if it is piped. */
    readonly pipedInto?: string;
}

/** The text up to the end of the simple command at `from` (outside quotes: `;`, `&`, `|`, `)`). */
function simpleCommand(text: string, from: number): { command: string; rest: string } {
    let quote = "";
    for (let i = from; i < text.length; i++) {
        const c = text[i];
        if (quote) {
            if (c === quote) quote = "";
        } else if (c === "'" || c === '"') quote = c;
        else if (c === ";" || c === "&" || c === "|" || c === ")") return { command: text.slice(from, i), rest: text.slice(i) };
    }
    return { command: text.slice(from), rest: "" };
}

function parseDownload(line: ScriptLine, tool: string, words: string[], rest: string): Download | undefined {
    let output: string | undefined;
    let url = "";
    for (let i = 1; i < words.length; i++) {
        const w = words[i];
        if (tool === "curl" && (w === "-o" || w === "--output" || /^-[a-zA-Z]*o$/.test(w))) output = words[++i] ?? "";
        else if (tool === "curl" && (w === "-O" || w === "--remote-name" || /^-[a-zA-Z]*O$/.test(w))) output = "";
        else if (tool === "wget" && (w === "-O" || w === "--output-document" || /^-[a-zA-Z]*O$/.test(w))) output = words[++i] ?? "";
        else if (tool === "wget" && /^(-[a-zA-Z]*O|--output-document=)(.+)$/.test(w)) output = w.replace(/^(-[a-zA-Z]*O|--output-document=)/, "");
        else if (w.startsWith(">") && !w.startsWith(">&")) output = w.length > 1 ? w.slice(1) : (words[++i] ?? "");
        else if (w.includes("://") || /^\$\{?[A-Za-z_]/.test(w)) url = url || w;
    }
    if (!url) return undefined; // `command -v curl`, `for tool in … curl`: no download
    if (output === undefined) output = tool === "wget" ? "" : "-";
    const pipe = /^\|(?!\|)\s*(\S+)/.exec(rest);
    return { line, tool, url, output, pipedInto: pipe && output === "-" ? pipe[1] : undefined };
}

function downloadsIn(lines: ScriptLine[]): Download[] {
    const out: Download[] = [];
    const tool = /(^|[\s;&|(!`])(curl|wget)(?=\s)/g;
    for (const line of lines) {
        for (let m = tool.exec(line.text); m; m = tool.exec(line.text)) {
            const start = m.index + m[1].length;
            const { command, rest } = simpleCommand(line.text, start);
            const d = parseDownload(line, m[2], shellWords(command), rest);
            if (d) out.push(d);
        }
    }
    return out;
}

function verifiedLater(d: Download, lines: ScriptLine[]): boolean {
    const after = lines.filter((l) => l.number > d.line.number);
    if (after.some((l) => CHECK_FILE.test(l.text))) return true;
    if (d.output === "") return after.some((l) => DIGEST.test(l.text));
    return after.some((l) => DIGEST.test(l.text) && shellWords(l.text).includes(d.output));
}

/**
 * Whether a script goes on unverified when the pinned digest `param` is empty: it tests
 * `-z "${param}"` and that branch does not stop (exit, return or a `fail` helper), or it guards
 * the check with `-n "${param}"` and fetches no published checksum file to fall back on. A pin
 * compared as it is (an empty one never matches) or refused when empty fails closed.
 */
function emptyPinSkipsCheck(script: string, param: string, fetchesChecksumFile: boolean): boolean {
    const ref = `"?\\$\\{?${param}\\}?"?`;
    for (const m of script.matchAll(new RegExp(`-z\\s+${ref}[^\\n]*?\\bthen\\b([\\s\\S]*?)(?:\\b(?:elif|else|fi)\\b)`, "g"))) {
        if (!/\b(exit\s+[1-9]|return\s+[1-9]|fail)\b/.test(m[1])) return true;
    }
    return new RegExp(`-n\\s+${ref}`).test(script) && !fetchesChecksumFile;
}

export function downloadFindings(name: string, field: string, script: string): Finding[] {
    const lines = logicalLines(script);
    const params = scriptParams(script);
    const show = (s: string) => s.replace(/\$\{?([A-Z][A-Z0-9_]*)\}?/g, (all, p: string) => (typeof params.get(p) === "string" ? String(params.get(p)) : all));
    const findings: Finding[] = [];
    const where = (l: ScriptLine) => `${name} (${field}, line ${l.number})`;
    for (const d of downloadsIn(lines)) {
        if (d.pipedInto !== undefined) {
            if (!/^(sha\d*sum|b2sum|shasum)$/.test(d.pipedInto)) findings.push({ message: `${where(d.line)}: pipes ${show(d.url)} straight into ${d.pipedInto}, unverified; download to a file and check its checksum first` });
            continue;
        }
        if (d.output === "-") continue; // captured into a variable, e.g. a published checksum
        if (CHECKSUM_FILE.test(d.output)) continue; // the checksum itself
        if (!verifiedLater(d, lines)) findings.push({ message: `${where(d.line)}: downloads ${show(d.url)} to ${d.output || "a file"} and no checksum of it is checked afterwards` });
    }
    for (const l of lines) {
        const m = /\bkubectl\b.*\s(apply|create|replace)\b.*\s-f\s+["']?(https?:\/\/\S+)/.exec(l.text);
        if (m) findings.push({ message: `${where(l)}: kubectl ${m[1]} -f ${m[2]} applies a download unverified` });
    }
    const fetchesChecksumFile = downloadsIn(lines).some((d) => CHECKSUM_FILE.test(d.output));
    for (const [param, value] of params) {
        if (PINNED_DIGEST_PARAM.test(param) && value === "" && emptyPinSkipsCheck(script, param, fetchesChecksumFile)) {
            findings.push({ message: `${name} (${field}): ${param} is empty, and then the script uses the download without a checksum check; pin it in the stack config` });
        }
    }
    return findings;
}

export const downloadsVerified: ResourceRule = {
    kind: "resource",
    name: "downloads-verified",
    description: "Every download in a script the program runs is verified against a checksum before it is used.",
    enforcementLevel: "mandatory",
    appliesTo: isCommand,
    check(r) {
        const scripts = commandScripts(r);
        if (scripts.some((s) => s.script === UNKNOWN)) return [undetermined(`${r.name}: its script is known only after pulumi up`)];
        return scripts.flatMap(({ field, script }) => downloadFindings(r.name, field, script));
    },
};
