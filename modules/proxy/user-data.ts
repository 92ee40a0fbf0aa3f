import { stringify } from "yaml";

export interface ProxyUserDataInput {
  /** The rendered squid.conf. */
  readonly squidConf: string;
}

/** EC2 user data is capped at 16 KB before base64. */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;

/**
 * cloud-init user data for an Amazon Linux 2023 proxy: installs Squid, writes its config
 * after the package (so the RPM's default never wins), and starts it.
 */
export function renderProxyUserData(input: ProxyUserDataInput): string {
  const doc = {
    packages: ["squid"],
    write_files: [{ path: "/etc/squid/squid.conf", content: input.squidConf, owner: "root:squid", permissions: "0640", defer: true }],
    runcmd: [
      ["squid", "-k", "parse", "-f", "/etc/squid/squid.conf"],
      ["systemctl", "enable", "--now", "squid"],
    ],
  };
  const userData = `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
  const size = Buffer.byteLength(userData, "utf8");
  if (size > USER_DATA_LIMIT_BYTES) {
    throw new Error(`proxy user data is ${size} bytes; EC2 allows ${USER_DATA_LIMIT_BYTES}`);
  }
  return userData;
}
