import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { parse } from "yaml";
import { domainEntryProblem, domainListProblems } from "../modules/proxy/domains";
import { isGravitonType } from "../modules/core/instance";
import { encodeProxyConfig } from "../modules/proxy/config-delivery";
import { portBlocks } from "../modules/proxy/port-blocks";
import { DENIED_DESTINATIONS, renderSquidConf } from "../modules/proxy/squid-conf";
import { renderAgentConfig, renderProxyUserData, renderSyncScript } from "../modules/proxy/user-data";

describe("renderSquidConf", () => {
  const conf = renderSquidConf({
    listeners: [
      { name: "zeta", port: 4000, allowedDomains: ["api.zeta.example"] },
      { name: "alpha", port: 3128, allowedDomains: [".github.com", "pypi.org"] },
      { name: "mid", port: 3129 },
    ],
    clientCidrs: ["10.0.0.0/20", "10.0.16.0/20"],
    allowedDomains: ["cdn.amazonlinux.com"],
  });
  const lines = conf.split("\n");

  test("one named port per spoke, in name order, with an ACL on each port name", () => {
    expect(lines.filter((l) => l.startsWith("http_port"))).toEqual(["http_port 3128 name=alpha", "http_port 3129 name=mid", "http_port 4000 name=zeta"]);
    expect(lines).toContain("acl spoke_alpha myportname alpha");
  });

  test("each spoke may reach the global list plus its own list, and nothing else", () => {
    // -n: no reverse lookups, so an IP-literal URL never matches a domain entry.
    expect(lines).toContain("acl egress_allowed_everywhere dstdomain -n cdn.amazonlinux.com");
    expect(lines).toContain("acl allowed_alpha dstdomain -n .github.com pypi.org");
    const access = lines.filter((l) => l.startsWith("http_access"));
    expect(access.filter((l) => l.startsWith("http_access allow"))).toEqual([
      "http_access allow egress_allowed_everywhere",
      "http_access allow spoke_alpha allowed_alpha",
      "http_access allow spoke_zeta allowed_zeta",
    ]);
    expect(access[access.length - 1]).toBe("http_access deny all");
  });

  test("denials come before any allow", () => {
    const access = lines.filter((l) => l.startsWith("http_access"));
    expect(access.slice(0, 4)).toEqual([
      "http_access deny !egress_clients",
      "http_access deny !egress_web_ports",
      "http_access deny egress_connect !egress_connect_ports",
      "http_access deny egress_denied_dst",
    ]);
  });

  test("CONNECT only to 443 by default, or the configured ports; plain HTTP on 80", () => {
    expect(lines).toContain("acl egress_connect_ports port 443");
    expect(lines).toContain("acl egress_web_ports port 80 443");
    const wider = renderSquidConf({ listeners: [], clientCidrs: ["10.0.0.0/20"], connectPorts: [8443, 443] }).split("\n");
    expect(wider).toContain("acl egress_connect_ports port 443 8443");
    expect(wider).toContain("acl egress_web_ports port 80 443 8443");
  });

  test("private, shared, loopback and link-local destinations are denied", () => {
    const denied = lines.find((l) => l.startsWith("acl egress_denied_dst dst "))!.split(" ").slice(3);
    expect(denied).toEqual([...DENIED_DESTINATIONS]);
    for (const range of ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "::1", "fc00::/7", "fe80::/10"]) {
      expect(denied).toContain(range);
    }
  });

  test("clients only from the given subnets; no cache, Via, X-Forwarded-For or version; spoke-named log lines", () => {
    expect(lines).toContain("acl egress_clients src 10.0.0.0/20 10.0.16.0/20");
    for (const directive of ["cache deny all", "request_header_access Via deny all", "reply_header_access Via deny all", "forwarded_for delete", "httpd_suppress_version_string on"]) {
      expect(lines).toContain(directive);
    }
    expect(lines).not.toContain("via off");
    expect(lines).toContain("note spoke alpha spoke_alpha");
    expect(lines.find((l) => l.startsWith("logformat egress "))).toMatch(/spoke=%\{spoke\}note .*method=%rm host=%>rd .*status=%>Hs bytes=%<st/);
    expect(lines).toContain("access_log daemon:/var/log/squid/access.log egress");
  });

  test("uses no version-specific predefined ACLs", () => {
    expect(conf).not.toMatch(/\bto_linklocal\b|\bto_localhost\b|\bSSL_ports\b|\bSafe_ports\b|acl CONNECT\b/);
  });

  test("refuses an open proxy, shared ports and bad allow-list entries", () => {
    expect(() => renderSquidConf({ listeners: [], clientCidrs: [] })).toThrow(/'clientCidrs'/);
    expect(() => renderSquidConf({ listeners: [{ name: "a", port: 1 }, { name: "b", port: 1 }], clientCidrs: ["10.0.0.0/8"] })).toThrow(/share port 1/);
    expect(() => renderSquidConf({ listeners: [{ name: "a", port: 1, allowedDomains: ["*.x.com"] }], clientCidrs: ["10.0.0.0/8"] })).toThrow(/allowedDomains\[0\].*wildcard/);
  });
});

describe("allow-list entries", () => {
  test.each([
    ["api.github.com", undefined],
    [".github.com", undefined],
    ["xn--bcher-kva.example", undefined],
    ["https://github.com/x", /is a URL; list the host name only \(e\.g\. "github\.com"\)/],
    ["*.github.com", /wildcard; write "\.github\.com"/],
    ["github.com:443", /has a port; ports are allowed with connectPorts, not per domain; write "github\.com"/],
    ["GitHub.com", /capitals; write "github\.com"/],
    ["192.0.2.1", /IP address/],
    [".com", /top-level domain/],
    ["bad_label.example", /invalid label "bad_label"/],
    ["-x.example", /invalid label "-x"/],
  ])("%s", (entry, problem) => {
    const result = domainEntryProblem(entry);
    if (problem === undefined) expect(result).toBeUndefined();
    else expect(result).toMatch(problem);
  });

  test("entries covered by another entry (Squid would warn) are named", () => {
    expect(domainListProblems([".github.com", "api.github.com", "github.com", "pypi.org", "pypi.org"])).toEqual([
      { index: 1, message: '"api.github.com" is already covered by ".github.com"' },
      { index: 2, message: '"github.com" is already covered by ".github.com"' },
      { index: 4, message: '"pypi.org" is listed twice' },
    ]);
    expect(domainListProblems(["notgithub.com", "github.com"])).toEqual([]);
  });

  test("a spoke entry the global list already allows is named", () => {
    expect(domainListProblems(["x.amazonaws.com"], [".amazonaws.com"], "hub.proxy.allowedDomains")).toEqual([
      { index: 0, message: '"x.amazonaws.com" is already allowed for every spoke by ".amazonaws.com" in hub.proxy.allowedDomains' },
    ]);
  });
});

describe("port blocks", () => {
  test("group by blocks of 50, keyed by the block start, with the used range", () => {
    const blocks = portBlocks([{ port: 3151 }, { port: 3128 }, { port: 3149 }, { port: 4000 }]);
    expect(blocks.map((b) => [b.start, b.fromPort, b.toPort, b.members.length])).toEqual([
      [3100, 3128, 3149, 2],
      [3150, 3151, 3151, 1],
      [4000, 4000, 4000, 1],
    ]);
  });

  test("a spoke's block depends on its port alone", () => {
    const before = portBlocks([{ port: 3128 }, { port: 3160 }]).map((b) => b.start);
    const after = portBlocks([{ port: 3100 }, { port: 3128 }, { port: 3160 }, { port: 3199 }]).map((b) => b.start);
    expect(after).toEqual(before);
  });

  test("60 contiguous spokes need 2 blocks, each within the 50-listener quota", () => {
    const blocks = portBlocks(Array.from({ length: 60 }, (_, i) => ({ port: 3128 + i })));
    expect(blocks.map((b) => b.members.length)).toEqual([22, 38]);
    expect(Math.max(...portBlocks(Array.from({ length: 500 }, (_, i) => ({ port: 20000 + i }))).map((b) => b.members.length))).toBe(50);
  });
});

describe("encodeProxyConfig", () => {
  test("round-trips through gzip + base64 and picks the smallest SSM tier that holds it", () => {
    const small = encodeProxyConfig("http_port 3128 name=a\n");
    expect(gunzipSync(Buffer.from(small.value, "base64")).toString()).toBe("http_port 3128 name=a\n");
    expect(small.tier).toBe("Standard");
    // Hash lines barely compress: about 64 bytes of base64 per line.
    const noise = (n: number) => Array.from({ length: n }, (_, i) => `# ${createHash("sha256").update(String(i)).digest("hex")}\n`).join("");
    const advanced = encodeProxyConfig(noise(120));
    expect(advanced.value.length).toBeGreaterThan(4096);
    expect(advanced.tier).toBe("Advanced");
    expect(() => encodeProxyConfig(noise(400))).toThrow(/SSM parameter holds 8192/);
  });
});

describe("renderProxyUserData", () => {
  const input = { region: "ap-northeast-1", configParameterName: "/egresslink/egress/proxy/squid.conf", logGroupName: "/egresslink/egress/proxy" };
  const doc = parse(renderProxyUserData(input));
  const files = Object.fromEntries((doc.write_files as { path: string; content: string }[]).map((f) => [f.path, f.content]));

  test("installs Squid and the CloudWatch agent, and holds no squid.conf", () => {
    expect(doc.packages).toEqual(["squid", "amazon-cloudwatch-agent"]);
    expect(Object.keys(files)).not.toContain("/etc/squid/squid.conf");
    expect(JSON.stringify(doc)).not.toMatch(/http_port|dstdomain/);
  });

  test("fetches the config at boot, then every minute through a systemd timer", () => {
    expect(doc.runcmd).toContainEqual(["/usr/local/sbin/egresslink-squid-sync"]);
    expect(doc.runcmd).toContainEqual(["systemctl", "enable", "--now", "egresslink-squid-sync.timer"]);
    expect(files["/etc/systemd/system/egresslink-squid-sync.timer"]).toMatch(/OnCalendar=minutely/);
    expect(files["/etc/systemd/system/egresslink-squid-sync.service"]).toMatch(/ExecStart=\/usr\/local\/sbin\/egresslink-squid-sync/);
    expect(files["/usr/local/sbin/egresslink-squid-sync"]).toContain("--name '/egresslink/egress/proxy/squid.conf'");
  });

  test("ships access.log and cache.log to the log group", () => {
    const agent = JSON.parse(files["/opt/aws/amazon-cloudwatch-agent/etc/egresslink.json"]);
    expect(agent.logs.logs_collected.files.collect_list).toEqual([
      { file_path: "/var/log/squid/access.log", log_group_name: "/egresslink/egress/proxy", log_stream_name: "{instance_id}/access.log" },
      { file_path: "/var/log/squid/cache.log", log_group_name: "/egresslink/egress/proxy", log_stream_name: "{instance_id}/cache.log" },
    ]);
    expect(JSON.parse(renderAgentConfig("other")).logs.logs_collected.files.collect_list[0].log_group_name).toBe("other");
  });

  test("single mode attaches the tagged ENI before starting Squid", () => {
    const single = parse(renderProxyUserData({ ...input, eniTag: "egress-proxy" }));
    expect(single.runcmd.slice(0, 2)).toEqual([["/usr/local/sbin/egresslink-attach-eni"], ["/usr/local/sbin/egresslink-squid-sync"]]);
    const attach = single.write_files.find((f: { path: string }) => f.path === "/usr/local/sbin/egresslink-attach-eni").content;
    expect(attach).toContain("Name=tag:egresslink:proxy-eni,Values='egress-proxy'");
    expect(attach).toMatch(/for attempt in \$\(seq 1 60\)/);
  });

  test("quotes values into the scripts safely", () => {
    expect(renderSyncScript("eu-west-1", "/a'b")).toContain(`--name '/a'\\''b'`);
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
