// The one secret of the configuration, ssh.privateKey, and how it reaches the program.
//
// `pulumi config set --secret --path oslo-mesh:ssh.privateKey` writes
//     oslo-mesh:ssh: {privateKey: {secure: v1:…}, publicKey: …}
// into the stack file. At `pulumi up` the CLI decrypts it and hands the program the whole
// top-level key as one JSON string, `{"privateKey":"-----BEGIN …","publicKey":"…"}`, listing
// `oslo-mesh:ssh` in PULUMI_CONFIG_SECRET_KEYS: a top-level key is secret when anything inside
// it is (pulumi/pulumi v3.248.0 sdk/go/common/resource/config: object.Secure, Map.SecureKeys,
// Value.MarshalString; pkg/resource/deploy/program_source.go: Config.Decrypt + SecureKeys).
// Offline, nothing can be decrypted: plan/stackFile.ts stands a marked placeholder in for each
// `secure:` value and marks its top-level key secret, as the CLI would.
import { NAMESPACE } from "./problems";

/** The only config paths whose value may be (and must be) a Pulumi secret. */
export const SECRET_PATHS: ReadonlyArray<ReadonlyArray<string>> = [["ssh", "privateKey"]];

/** What the offline plan puts where a `secure:` value cannot be decrypted. */
export const ENCRYPTED_PLACEHOLDER_PREFIX = "[secret placeholder for ";

/** The placeholder for the encrypted value at `oslo-mesh:a.b[0]`. */
export function encryptedPlaceholder(where: string): string {
    return `${ENCRYPTED_PLACEHOLDER_PREFIX}${where}]`;
}

export function isEncryptedPlaceholder(v: unknown): boolean {
    return typeof v === "string" && v.startsWith(ENCRYPTED_PLACEHOLDER_PREFIX) && v.endsWith("]") && !v.includes("\n");
}

/** What the Pulumi CLI writes for an encrypted value: a map whose single key is `secure`, holding the ciphertext. */
export function isSecureObject(v: unknown): v is { secure: string } {
    return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { secure?: unknown }).secure === "string";
}

/** The command that stores the private key encrypted, for messages. */
export const SET_PRIVATE_KEY = `pulumi config set --secret --path '${NAMESPACE}:ssh.privateKey' < ~/.ssh/id_ed25519`;

/**
 * Why a private key does not look like one, or undefined. An OpenSSH or PEM private key block:
 * what pulumi-command's SSH connection parses (golang.org/x/crypto/ssh ParseRawPrivateKey).
 * The messages never quote the key.
 */
export function privateKeyProblem(text: string): string | undefined {
    const m = /^-----BEGIN ((?:OPENSSH |RSA |EC |DSA )?PRIVATE KEY)-----\r?\n([A-Za-z0-9+/=:,\- \r\n]+)\r?\n-----END ([A-Z ]+)-----\s*$/.exec(text);
    if (!m) return "expected an OpenSSH or PEM private key (-----BEGIN … PRIVATE KEY----- … -----END … PRIVATE KEY-----) without a passphrase";
    if (m[1] !== m[3]) return "the private key's BEGIN and END lines do not match";
    return undefined;
}
