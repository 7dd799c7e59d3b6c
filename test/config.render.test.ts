// Hostile values rendered into their targets (issue 14): each target is read back by its real
// consumer and nothing executes. The grub fragment is sourced by dash and bash as update-grub
// would; user-data is parsed back as YAML; the virt-install options the create script builds are
// split by virt-install's own parser; script parameters are read back by bash.
import * as assert from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as fc from "fast-check";
import * as jsyaml from "js-yaml";
import { bashCommand, renderScript } from "../components/shared/script";
import { placeNodes } from "../components/vps/placement";
import { GRUB_FRAGMENT_PATH, grubCmdlineFragment, HypervisorConfig, NodeConfig, renderCloudInit } from "../components/vps/render";
import { HYPERVISOR_SETTINGS, renderCreateScript, vmVolumeNames } from "../components/vps/scripts";
import { interfaceName, libvirtName } from "../stacks/grammar";
import { parsedConfig, stackFileConfig, TEST_PUBLIC_KEY } from "./harness";

/** Payloads that run `touch "$M"` if they ever reach a shell unquoted; $M is a marker file in the sandbox. */
const HOSTILE = [
    'x"; touch "$M"; "',
    '$(touch "$M")',
    '`touch "$M"`',
    `'; touch "$M"; '`,
    'quiet\ntouch "$M"',
    'quiet; touch "$M"',
    '" ; touch "$M" #',
    "\\",
    `"'"'`,
    "$IFS*~root!$",
    "\u2028é😀",
];

function sandbox(): { dir: string; marker: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-hostile-"));
    return { dir, marker: path.join(dir, "pwned") };
}

/** The shell update-grub sources /etc/default/grub.d/*.cfg with: grub-mkconfig is `#! /bin/sh`, dash on Debian and Ubuntu. */
const SHELLS = ["dash", "bash"].filter((s) => spawnSync("sh", ["-c", `command -v ${s}`]).status === 0);

/** What GRUB_CMDLINE_LINUX_DEFAULT holds after `shell` sources `fragment` the way grub-mkconfig does. */
function sourceGrubFragment(shell: string, fragment: string): { value: string; executed: boolean } {
    const { dir, marker } = sandbox();
    const file = path.join(dir, "90-oslo-mesh.cfg");
    fs.writeFileSync(file, fragment);
    const r = spawnSync(shell, ["-c", 'GRUB_CMDLINE_LINUX_DEFAULT="quiet splash"; . "$1"; printf %s "$GRUB_CMDLINE_LINUX_DEFAULT"', "sh", file], {
        cwd: dir,
        encoding: "utf8",
        env: { PATH: process.env.PATH, HOME: dir, M: marker },
    });
    return { value: r.status === 0 ? r.stdout : `exit ${r.status}: ${r.stderr}`, executed: fs.existsSync(marker) };
}

describe("hostile values rendered: the grub fragment update-grub sources as root", () => {
    it("has a shell to test with", () => assert.ok(SHELLS.includes("bash")));

    for (const shell of SHELLS) {
        it(`${shell}: every hostile token stays one literal word and nothing executes`, () => {
            const { value, executed } = sourceGrubFragment(shell, grubCmdlineFragment(HOSTILE));
            assert.strictEqual(executed, false, "a payload ran");
            assert.strictEqual(value, ["quiet splash", ...HOSTILE].join(" "));
        });

        it(`${shell}: any string round-trips exactly (property)`, () => {
            fc.assert(
                fc.property(fc.array(fc.string({ unit: "binary", maxLength: 30 }).filter((s) => !s.includes("\0")), { minLength: 1, maxLength: 20 }), (tokens) => {
                    const { value, executed } = sourceGrubFragment(shell, grubCmdlineFragment(tokens));
                    assert.strictEqual(executed, false);
                    assert.strictEqual(value, ["quiet splash", ...tokens].join(" "));
                }),
                { numRuns: 25 },
            );
        });
    }

    it("the sandbox detects execution: the fragment as it was rendered before runs the payload", () => {
        const old = `GRUB_CMDLINE_LINUX_DEFAULT="\${GRUB_CMDLINE_LINUX_DEFAULT} ${HOSTILE[0]}"\n`;
        assert.strictEqual(sourceGrubFragment(SHELLS[0], old).executed, true);
    });

    it("renderCloudInit refuses a token that is not one kernel argument, even past validation", () => {
        const cfg = parsedConfig("prod", stackFileConfig("prod"));
        const [{ node, hypervisor }] = placeNodes(cfg.nodes, cfg.vps.hypervisors);
        for (const bad of HOSTILE) {
            assert.throws(() => renderCloudInit({ node, hypervisor, sshUser: "ubuntu", sshPublicKey: TEST_PUBLIC_KEY, kernelArgs: [bad] }), /refusing kernel argument/);
        }
    });
});

describe("hostile values rendered: cloud-init user-data, parsed back", () => {
    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack}: the grub fragment and the authorized key come back exactly as configured`, () => {
            const cfg = parsedConfig(stack, stackFileConfig(stack));
            for (const { node, hypervisor } of placeNodes(cfg.nodes, cfg.vps.hypervisors)) {
                const ci = renderCloudInit({ node, hypervisor, sshUser: cfg.ssh.user, sshPublicKey: cfg.ssh.publicKey, kernelArgs: cfg.vps.image.kernelArgs });
                const userData = jsyaml.load(ci.userData) as { users: Array<{ ssh_authorized_keys: string[] }>; write_files: Array<{ path: string; content: string }> };
                assert.deepStrictEqual(userData.users[0].ssh_authorized_keys, [cfg.ssh.publicKey]);
                const grub = userData.write_files.find((f) => f.path === GRUB_FRAGMENT_PATH)!;
                for (const shell of SHELLS) {
                    const { value, executed } = sourceGrubFragment(shell, grub.content);
                    assert.strictEqual(executed, false);
                    assert.strictEqual(value, ["quiet splash", ...cfg.vps.image.kernelArgs].join(" "));
                }
            }
        });
    }

    it("a key comment full of YAML syntax stays one authorized key", () => {
        const key = `${TEST_PUBLIC_KEY} ops: #1 &a *b 'q' "d" {x} [y] | > % @ \` - ? !tag`;
        const cfg = parsedConfig("prod", { ...stackFileConfig("prod"), "oslo-mesh:ssh": { publicKey: key } });
        const [{ node, hypervisor }] = placeNodes(cfg.nodes, cfg.vps.hypervisors);
        const ci = renderCloudInit({ node, hypervisor, sshUser: cfg.ssh.user, sshPublicKey: cfg.ssh.publicKey, kernelArgs: cfg.vps.image.kernelArgs });
        const userData = jsyaml.load(ci.userData) as { users: Array<{ ssh_authorized_keys: string[] }> };
        assert.deepStrictEqual(userData.users[0].ssh_authorized_keys, [key]);
    });

    it("renderCloudInit refuses a public key of several lines, even past validation", () => {
        const cfg = parsedConfig("prod", stackFileConfig("prod"));
        const [{ node, hypervisor }] = placeNodes(cfg.nodes, cfg.vps.hypervisors);
        assert.throws(() => renderCloudInit({ node, hypervisor, sshUser: "ubuntu", sshPublicKey: `${TEST_PUBLIC_KEY}\ncommand="sh" ${TEST_PUBLIC_KEY}`, kernelArgs: [] }), /exactly one line/);
    });
});

// --- virt-install's own option parser on what libvirt-create.sh passes it ---

const VIRT_INSTALL = spawnSync("sh", ["-c", "command -v virt-install"], { encoding: "utf8" }).stdout.trim();
/** virt-install's interpreter (its shebang) and its library, so the parser is the one that would run. */
const VIRTINST = VIRT_INSTALL ? { python: fs.readFileSync(VIRT_INSTALL, "utf8").split("\n")[0].replace(/^#!\s*/, "").trim(), lib: "/usr/share/virt-manager" } : undefined;

/**
 * Fakes for the hypervisor's tools, enough for libvirt-create.sh to reach virt-install on a
 * fresh hypervisor and finish: virsh lists no domain and no volume, prints a dir pool as libvirt
 * formats it (`<pool type='dir'>`, virStoragePoolDefFormat), the domain as persistent, autostarted
 * and running (tools/virsh-domain-monitor.c cmdDomInfo, cmdDomState), and downloads every volume
 * as empty (the pinned image sha256 is the empty file's); the rest create their output files.
 * virt-install records its arguments, NUL-separated, and prints a bare domain (--print-xml).
 */
function hypervisorFakes(dir: string): string {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const write = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
    // domifaddr: virsh's lease table (tools/virsh-domain-monitor.c cmdDomIfAddr: Name, MAC address, Protocol, Address).
    write(
        "virsh",
        `for a in "$@"; do case "$a" in
  pool-dumpxml) echo "<pool type='dir'>"; exit 0 ;;
  list|vol-list|vol-download) exit 0 ;;
  dominfo) printf 'Persistent:     yes\\nAutostart:      enable\\n'; exit 0 ;;
  domstate) echo running; exit 0 ;;
  domifaddr) printf ' %-10s %-20s %-12s %s\\n' Name 'MAC address' Protocol Address vnet0 52:54:00:aa:bb:cc ipv4 192.168.122.50/24; exit 0 ;;
esac; done; exit 0`,
    );
    write("qemu-img", `printf '{\\n    "format": "qcow2",\\n    "virtual-size": 16777216\\n}\\n'`);
    write("virt-install", `printf '%s\\0' "$@" >"\${VIRT_INSTALL_ARGV}"; printf '<domain>\\n</domain>\\n'`);
    write("curl", `while [ $# -gt 0 ]; do [ "$1" = -o ] && : >"$2"; shift; done`);
    write("genisoimage", `while [ $# -gt 0 ]; do [ "$1" = -output ] && : >"$2"; shift; done`);
    return bin;
}

/** sha256 of the empty file: what the fake curl downloads and the fake virsh hands back. */
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

type Options = { disk: Array<Array<[string, string]>>; network: Array<Array<[string, string]>> };

/**
 * The sub-options virt-install 4.1's own parser (virtinst/cli.py parse_optstr_tuples) reads from
 * each option string: one python process for the file, asked one JSON line at a time.
 */
interface Parser {
    readonly proc: ChildProcess;
    /** The callers waiting for an answer, in the order they asked. */
    readonly waiting: Array<{ resolve: (o: Options) => void; reject: (e: Error) => void }>;
}
let parser: Parser | undefined;
function parseOptions(args: { disk: string[]; network: string[] }): Promise<Options> {
    if (!parser) {
        const parse = `
import json, sys
sys.path.insert(0, ${JSON.stringify(VIRTINST!.lib)})
from virtinst.cli import parse_optstr_tuples
for line in sys.stdin:
    args = json.loads(line)
    print(json.dumps({k: [parse_optstr_tuples(v) for v in vs] for k, vs in args.items()}), flush=True)`;
        const proc = spawn(VIRTINST!.python, ["-c", parse], { stdio: ["pipe", "pipe", "pipe"] });
        const p: Parser = { proc, waiting: [] };
        let out = "";
        let err = "";
        proc.stdout!.on("data", (d: Buffer) => {
            out += d;
            for (let nl = out.indexOf("\n"); nl >= 0; nl = out.indexOf("\n")) {
                const line = out.slice(0, nl);
                out = out.slice(nl + 1);
                p.waiting.shift()?.resolve(JSON.parse(line) as Options);
            }
        });
        proc.stderr!.on("data", (d: Buffer) => (err += d));
        proc.on("exit", (code) => {
            for (const w of p.waiting.splice(0)) w.reject(new Error(`virt-install's parser exited ${code}: ${err}`));
            if (parser === p) parser = undefined;
        });
        parser = p;
    }
    const p = parser;
    return new Promise((resolve, reject) => {
        p.waiting.push({ resolve, reject });
        p.proc.stdin!.write(`${JSON.stringify(args)}\n`);
    });
}

/** The --disk and --network option strings libvirt-create.sh gives virt-install, read off its argv. */
function virtInstallArgs(node: NodeConfig, hypervisor: HypervisorConfig): { status: number | null; stderr: string; disk: string[]; network: string[] } {
    const { dir } = sandbox();
    const bin = hypervisorFakes(dir);
    const cloudInit = { userData: "#cloud-config\n", metaData: "", networkConfig: "" };
    const script = path.join(dir, "create.sh");
    const host = { ...HYPERVISOR_SETTINGS, ipWaitSeconds: 5 };
    fs.writeFileSync(script, renderCreateScript({ stack: "prod", node, hypervisor, image: { url: "https://images.example/focal.img", sha256: EMPTY_SHA256 }, cloudInit, host }));
    const argvFile = path.join(dir, "virt-install.argv");
    const run = spawnSync("bash", [script], { encoding: "utf8", env: { PATH: `${bin}:${process.env.PATH}`, HOME: dir, TMPDIR: dir, XDG_RUNTIME_DIR: dir, VIRT_INSTALL_ARGV: argvFile } });
    const out = { status: run.status, stderr: run.stderr, disk: [] as string[], network: [] as string[] };
    if (!fs.existsSync(argvFile)) return out;
    const args = fs.readFileSync(argvFile, "utf8").split("\0").slice(0, -1);
    for (let i = 0; i < args.length; i++) {
        for (const opt of ["disk", "network"] as const) {
            if (args[i] === `--${opt}`) out[opt].push(args[++i]);
            else if (args[i].startsWith(`--${opt}=`)) out[opt].push(args[i].slice(opt.length + 3));
        }
    }
    return out;
}

/** The sub-options virt-install reads from each --disk and --network the script gave it. */
function virtInstallOptions(node: NodeConfig, hypervisor: HypervisorConfig): Promise<Options> {
    const got = virtInstallArgs(node, hypervisor);
    assert.strictEqual(got.status, 0, got.stderr);
    return parseOptions({ disk: got.disk, network: got.network });
}

describe("hostile values rendered: virt-install options cannot gain sub-options", function () {
    before(function () {
        if (!VIRTINST) {
            if (process.env.CI) throw new Error("virt-install (Debian's virtinst) is missing; CI installs it");
            this.skip();
        }
    });
    after(() => parser?.proc.stdin!.end());

    const expected = (node: NodeConfig, h: HypervisorConfig) => ({
        disk: [
            [["vol", `${h.pool}/${vmVolumeNames("prod", node.name).disk}`], ["bus", "virtio"], ["cache", "none"], ["io", "native"]],
            [["vol", `${h.pool}/${vmVolumeNames("prod", node.name).seed}`], ["device", "cdrom"]],
        ],
        network: [h.bridge ? [["bridge", h.bridge], ["model", "virtio"]] : [["network", h.network], ["model", "virtio"]]],
    });

    for (const stack of ["dev", "prod"]) {
        it(`${stack}: exactly the sub-options the script means`, async () => {
            const cfg = parsedConfig(stack, stackFileConfig(stack));
            const [{ node, hypervisor }] = placeNodes(cfg.nodes, cfg.vps.hypervisors);
            assert.deepStrictEqual(await virtInstallOptions(node, hypervisor), expected(node, hypervisor));
        });
    }

    it("any pool, bridge and network the grammar admits stays one value (property)", async () => {
        const cfg = parsedConfig("prod", stackFileConfig("prod"));
        const [{ node, hypervisor }] = placeNodes(cfg.nodes, cfg.vps.hypervisors);
        const pool = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/);
        const bridge = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/);
        await fc.assert(
            fc.asyncProperty(pool, bridge, fc.boolean(), async (p, b, useBridge) => {
                assert.ok(libvirtName.safeParse(p).success && interfaceName.safeParse(b).success && libvirtName.safeParse(b).success);
                const h: HypervisorConfig = useBridge ? { ...hypervisor, pool: p, bridge: b, network: undefined } : { ...hypervisor, pool: p, bridge: undefined, network: b };
                assert.deepStrictEqual(await virtInstallOptions(node, h), expected(node, h));
            }),
            { numRuns: 10 },
        );
    });

    it("the check detects injection: ',mac=' in a bridge is a sub-option to virt-install; the grammar and the script refuse it", async () => {
        const cfg = parsedConfig("prod", stackFileConfig("prod"));
        const [{ node, hypervisor }] = placeNodes(cfg.nodes, cfg.vps.hypervisors);
        const hostile = "br0,mac=52:54:00:00:00:01";
        assert.deepStrictEqual((await parseOptions({ disk: [], network: [`bridge=${hostile},model=virtio`] })).network, [[["bridge", "br0"], ["mac", "52:54:00:00:00:01"], ["model", "virtio"]]]);
        assert.strictEqual(interfaceName.safeParse(hostile).success, false);
        assert.strictEqual(libvirtName.safeParse("default,filterref=clean-traffic").success, false);
        // Past the config's grammar, the script itself refuses before calling virt-install.
        const got = virtInstallArgs(node, { ...hypervisor, bridge: hostile });
        assert.notStrictEqual(got.status, 0);
        assert.match(got.stderr, /BRIDGE 'br0,mac=52:54:00:00:00:01' is not a libvirt name/);
        assert.deepStrictEqual(got.network, [], "virt-install was never called");
    });
});

describe("hostile values rendered: script parameters", () => {
    function paramScript(dir: string): string {
        const file = path.join(dir, "params.sh");
        fs.writeFileSync(file, '#!/usr/bin/env bash\nset -euo pipefail\nprintf "%s\\0" "${ONE}" "${LIST[@]}"\n');
        return file;
    }

    it("every hostile value reaches the script as itself, and nothing executes", () => {
        const { dir, marker } = sandbox();
        const script = renderScript(paramScript(dir), { ONE: HOSTILE.join("|"), LIST: HOSTILE });
        const r = spawnSync("bash", ["-c", script], { cwd: dir, encoding: "utf8", env: { PATH: process.env.PATH, M: marker } });
        assert.strictEqual(r.status, 0, r.stderr);
        assert.deepStrictEqual(r.stdout.split("\0").slice(0, -1), [HOSTILE.join("|"), ...HOSTILE]);
        assert.ok(!fs.existsSync(marker));
    });

    it("also through bashCommand, the way a host receives it (sh, heredoc)", () => {
        const { dir, marker } = sandbox();
        const script = renderScript(paramScript(dir), { ONE: HOSTILE[0], LIST: HOSTILE });
        const r = spawnSync("sh", ["-c", bashCommand(script, { sudo: false })], { cwd: dir, encoding: "utf8", env: { PATH: process.env.PATH, M: marker, TMPDIR: dir } });
        assert.strictEqual(r.status, 0, r.stderr);
        assert.deepStrictEqual(r.stdout.split("\0").slice(0, -1), [HOSTILE[0], ...HOSTILE]);
        assert.ok(!fs.existsSync(marker));
    });

    it("a value holding the heredoc delimiter line, or a NUL, is refused instead of cut short", () => {
        const { dir } = sandbox();
        assert.throws(() => renderScript(paramScript(dir), { ONE: "x\nOSLO_MESH_SCRIPT\ntouch /tmp/pwned", LIST: [] }), /parameter ONE holds the line OSLO_MESH_SCRIPT/);
        assert.throws(() => renderScript(paramScript(dir), { ONE: "x", LIST: ["a\0b"] }), /parameter LIST holds a NUL/);
        assert.throws(() => bashCommand("#!/usr/bin/env bash\necho hi\nOSLO_MESH_SCRIPT", { sudo: false }), /must not contain the line OSLO_MESH_SCRIPT/);
    });
});
