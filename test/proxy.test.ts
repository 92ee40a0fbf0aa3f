import { parse } from "yaml";
import { isGravitonType } from "../modules/proxy/proxy-instance";
import { DENIED_DESTINATIONS, renderSquidConf } from "../modules/proxy/squid-conf";
import { renderProxyUserData, USER_DATA_LIMIT_BYTES } from "../modules/proxy/user-data";

describe("renderSquidConf", () => {
  const conf = renderSquidConf({ listeners: [{ name: "zeta", port: 4000 }, { name: "alpha", port: 3128 }], clientCidrs: ["10.0.0.0/20", "10.0.16.0/20"] });
  const lines = conf.split("\n");

  test("one named port per spoke, in name order, and an ACL on each port name", () => {
    expect(lines.filter((l) => l.startsWith("http_port"))).toEqual(["http_port 3128 name=alpha", "http_port 4000 name=zeta"]);
    expect(lines).toContain("acl spoke_alpha myportname alpha");
    expect(lines).toContain("http_access allow spoke_zeta");
  });

  test("denials come before any allow, and everything else is denied last", () => {
    const access = lines.filter((l) => l.startsWith("http_access"));
    const firstAllow = access.findIndex((l) => l.startsWith("http_access allow"));
    expect(access.slice(0, firstAllow)).toEqual([
      "http_access deny !egress_clients",
      "http_access deny !egress_web_ports",
      "http_access deny egress_connect !egress_tls_ports",
      "http_access deny egress_denied_dst",
    ]);
    expect(access[access.length - 1]).toBe("http_access deny all");
  });

  test("private, loopback and link-local destinations (the metadata service) are denied", () => {
    const denied = lines.find((l) => l.startsWith("acl egress_denied_dst dst "))!.split(" ").slice(3);
    expect(denied).toEqual([...DENIED_DESTINATIONS]);
    expect(denied).toEqual(expect.arrayContaining(["169.254.0.0/16", "10.0.0.0/8", "127.0.0.0/8", "fe80::/10"]));
  });

  test("clients only from the given subnets; no cache, no Via, no X-Forwarded-For, no version string", () => {
    expect(lines).toContain("acl egress_clients src 10.0.0.0/20 10.0.16.0/20");
    for (const directive of ["cache deny all", "via off", "forwarded_for delete", "httpd_suppress_version_string on"]) expect(lines).toContain(directive);
  });

  test("refuses to render a proxy open to any client", () => {
    expect(() => renderSquidConf({ listeners: [], clientCidrs: [] })).toThrow(/'clientCidrs'/);
  });
});

describe("renderProxyUserData", () => {
  test("is #cloud-config YAML installing squid and writing the config after the package", () => {
    const userData = renderProxyUserData({ squidConf: "http_port 3128 name=a\n" });
    expect(userData.split("\n")[0]).toBe("#cloud-config");
    const doc = parse(userData);
    expect(doc.packages).toEqual(["squid"]);
    expect(doc.write_files).toEqual([expect.objectContaining({ path: "/etc/squid/squid.conf", content: "http_port 3128 name=a\n", defer: true })]);
    expect(doc.runcmd).toContainEqual(["systemctl", "enable", "--now", "squid"]);
  });

  test("rejects user data over the EC2 limit", () => {
    expect(() => renderProxyUserData({ squidConf: "#".repeat(USER_DATA_LIMIT_BYTES) })).toThrow(/16384/);
  });
});

test.each([
  ["t4g.small", true],
  ["m7g.large", true],
  ["c7gn.xlarge", true],
  ["im4gn.large", true],
  ["t3.small", false],
  ["m7i-flex.large", false],
  ["g5.xlarge", false],
])("isGravitonType(%s) = %s", (type, expected) => expect(isGravitonType(type)).toBe(expected));
