// The SSH public key committed in every Pulumi.<stack>.yaml is an example: whoever clones the
// project does not hold its private key, and a node made with it admits whoever does. The
// plan and `pulumi preview` warn; `pulumi up` refuses it, unless the stack says the key is
// the team's own (`oslo-mesh:ssh.exampleKeyIsOurs: true`).
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, formatPath } from "./problems";
import { StackConfig } from "./schema";

/** The key material (second field) of the committed example key. */
export const EXAMPLE_KEY_MATERIAL = "AAAAC3NzaC1lZDI1NTE5AAAAIMiEKnALii5TFl8vcRIThHnJLQBpyE2enwH2o/dnYEqq";

export function isExampleKey(publicKey: string): boolean {
    return publicKey.trim().split(/\s+/)[1] === EXAMPLE_KEY_MATERIAL;
}

const ADVICE =
    `put your own with pulumi config set --path '${formatPath(["ssh", "publicKey"])}' "$(cat ~/.ssh/id_ed25519.pub)"; ` +
    `or, if your team holds its private key: pulumi config set --path '${formatPath(["ssh", "exampleKeyIsOurs"])}' true`;

/** What is wrong with the stack's key, or undefined when it is not the example key or the stack owns it. */
export function exampleKeyProblem(ssh: Pick<StackConfig["ssh"], "publicKey" | "exampleKeyIsOurs">): string | undefined {
    if (!isExampleKey(ssh.publicKey) || ssh.exampleKeyIsOurs === true) return undefined;
    return "is the example key committed with this project, not one of yours";
}

/** A warning in a preview (and the offline plan); a configuration error at `pulumi up`, before anything is created. */
export function checkExampleKey(ssh: Pick<StackConfig["ssh"], "publicKey" | "exampleKeyIsOurs">, dryRun: boolean = pulumi.runtime.isDryRun()): void {
    const problem = exampleKeyProblem(ssh);
    if (!problem) return;
    if (!dryRun) throw new ConfigError([{ path: ["ssh", "publicKey"], message: `${problem}: ${ADVICE}` }]);
    pulumi.log.warn(`${formatPath(["ssh", "publicKey"])}: ${problem}, and pulumi up will refuse it: ${ADVICE}`);
}
