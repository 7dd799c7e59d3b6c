// The VPS section's own config rules (components/vps/validate.ts), each with the exact path.
import * as assert from "assert";
import { problemsOf, stackFileConfig } from "./harness";

type Config = Record<string, any>;
const cases: Array<{ what: string; stack: string; edit: (c: Config) => void; expect?: [string, string] }> = [
    { what: "the committed prod stack", stack: "prod", edit: () => undefined },
    { what: "the default image with Ubuntu's SHA256SUMS beside it", stack: "staging", edit: () => undefined },
    {
        what: "another image URL with the default checksum file",
        stack: "staging",
        edit: (c) => (c["oslo-mesh:vps"].image = { url: "https://cloud-images.ubuntu.com/releases/jammy/release/ubuntu-22.04-server-cloudimg-amd64.img" }),
        expect: ["oslo-mesh:vps.image.checksumUrl", "not of the image's directory https://cloud-images.ubuntu.com/releases/jammy/release/"],
    },
    {
        what: "another image with its own checksum file",
        stack: "staging",
        edit: (c) =>
            (c["oslo-mesh:vps"].image = {
                url: "https://cloud-images.ubuntu.com/releases/jammy/release/ubuntu-22.04-server-cloudimg-amd64.img",
                checksumUrl: "https://cloud-images.ubuntu.com/releases/jammy/release/SHA256SUMS",
            }),
    },
    {
        what: "another image with a pinned sha256",
        stack: "staging",
        edit: (c) => (c["oslo-mesh:vps"].image = { url: "https://mirror.example/images/focal.img", sha256: "a".repeat(64) }),
    },
    {
        what: "a pinned sha256 that is not one",
        stack: "staging",
        edit: (c) => (c["oslo-mesh:vps"].image = { sha256: "ABC" }),
        expect: ["oslo-mesh:vps.image.sha256", "must be a sha256 in lowercase hex"],
    },
    {
        what: "this machine's libvirt next to hypervisors reached over SSH",
        stack: "staging",
        edit: (c) => delete c["oslo-mesh:vps"].hypervisors[1].host,
        expect: ["oslo-mesh:vps.hypervisors[1].host", "either every hypervisor is reached over SSH"],
    },
];

describe("vps: config rules", () => {
    for (const { what, stack, edit, expect } of cases) {
        it(`${stack}: ${what}${expect ? " is refused" : " is valid"}`, () => {
            const config = stackFileConfig(stack) as Config;
            edit(config);
            const problems = problemsOf(stack, config);
            if (!expect) return assert.deepStrictEqual(problems, []);
            assert.ok(
                problems.some((p) => p.startsWith(`${expect[0]}: `) && p.includes(expect[1])),
                `expected a problem at ${expect[0]} saying "${expect[1]}", got:\n${problems.join("\n")}`,
            );
        });
    }
});
