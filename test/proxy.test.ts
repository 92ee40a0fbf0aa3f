import { parse } from "yaml";
import { domainEntryProblem, domainListProblems } from "../modules/proxy/domains";
import { isGravitonType } from "../modules/core/instance";
import { PROXY_CONFIG_KEY, proxyConfigPointer, terraformLiteral } from "../modules/proxy/config-delivery";
import { portBlocks } from "../modules/proxy/port-blocks";
import { cidrContains } from "../modules/network/cidr";
import { assembleSquidConf, DEFAULT_LOG_DAEMON, DENIED_DESTINATIONS, deniedDestinations, hubSquidConf, PORT_BLOCKS_MARKER, renderSquidBase, renderSquidConf, renderSquidPortBlock } from "../modules/proxy/squid-conf";
import { renderAgentConfig, renderLogDaemon, renderProxyUserData, renderSyncScript } from "../modules/proxy/user-data";
import { defaultConfig } from "./helpers";
import { ipv6Bytes } from "./helpers-squid";

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

  test("one named port per spoke, by port block and by name within one, with an ACL on each port name", () => {
    expect(lines.filter((l) => l.startsWith("http_port"))).toEqual(["http_port 32767 name=egresslink-health", "http_port 3128 name=alpha", "http_port 3129 name=mid", "http_port 4000 name=zeta"]);
    expect(lines).toContain("acl spoke_alpha myportname alpha");
  });

  test("is the base config with each port block's fragment, in block order, in place of the marker", () => {
    const input = { clientCidrs: ["10.0.0.0/20", "10.0.16.0/20"], allowedDomains: ["cdn.amazonlinux.com"] };
    const base = renderSquidBase(input);
    expect(base.split("\n").filter((l) => l === PORT_BLOCKS_MARKER)).toHaveLength(1);
    expect(base).not.toMatch(/alpha|zeta|mid/);
    const block3100 = renderSquidPortBlock([{ name: "mid", port: 3129 }, { name: "alpha", port: 3128, allowedDomains: [".github.com", "pypi.org"] }], input.allowedDomains);
    const block4000 = renderSquidPortBlock([{ name: "zeta", port: 4000, allowedDomains: ["api.zeta.example"] }], input.allowedDomains);
    expect(block3100).not.toContain("zeta");
    expect(assembleSquidConf(base, [block3100, block4000])).toBe(conf);
    // The spokes' rules sit after the global ones and right before deny all.
    const access = lines.filter((l) => l.startsWith("http_access"));
    expect(access.slice(-3)).toEqual(["http_access allow spoke_alpha allowed_alpha !egress_denied_dst", "http_access allow spoke_zeta allowed_zeta !egress_denied_dst", "http_access deny all"]);
    expect(() => assembleSquidConf(base.replace(PORT_BLOCKS_MARKER, "# gone"), [block3100])).toThrow(/must hold the line "# egresslink: port blocks" once/);
    expect(() => renderSquidPortBlock([{ name: "alpha", port: 3128, allowedDomains: ["cdn.amazonlinux.com"] }], input.allowedDomains)).toThrow(/listener "alpha" allowedDomains\[0\]/);
    expect(() => renderSquidPortBlock([])).toThrow(/at least one spoke/);
  });

  test("each spoke may reach the global list plus its own list, and nothing else", () => {
    // -n: no reverse lookups, so an IP-literal URL never matches a domain entry.
    expect(lines).toContain("acl egress_allowed_everywhere dstdomain -n cdn.amazonlinux.com");
    expect(lines).toContain("acl allowed_alpha dstdomain -n .github.com pypi.org");
    const access = lines.filter((l) => l.startsWith("http_access"));
    expect(access.filter((l) => l.startsWith("http_access allow"))).toEqual([
      "http_access allow egress_allowed_everywhere !egress_denied_dst",
      "http_access allow spoke_alpha allowed_alpha !egress_denied_dst",
      "http_access allow spoke_zeta allowed_zeta !egress_denied_dst",
    ]);
    expect(access[access.length - 1]).toBe("http_access deny all");
  });

  test("denials that need no DNS come before any allow", () => {
    const access = lines.filter((l) => l.startsWith("http_access"));
    expect(access.slice(0, 6)).toEqual([
      "http_access deny !egress_clients",
      "http_access deny !egress_web_ports",
      "http_access deny egress_connect !egress_connect_ports",
      "http_access deny !egress_http !egress_connect",
      "http_access deny egress_squid_internal",
      "http_access deny egress_overlong_name",
    ]);
  });

  test("a destination's addresses are looked up only after its name passed an allow-list", () => {
    // Squid evaluates a line's ACLs left to right and stops at the first mismatch; `dst` resolves the name.
    const access = lines.filter((l) => l.startsWith("http_access"));
    const allowLists = new Set(lines.filter((l) => / dstdomain -n /.test(l)).map((l) => l.split(" ")[1]));
    for (const line of access.filter((l) => l.includes("egress_denied_dst"))) {
      const acls = line.split(" ").slice(2);
      expect(acls[acls.length - 1]).toBe("!egress_denied_dst");
      expect(acls.slice(0, -1).some((acl) => allowLists.has(acl))).toBe(true);
    }
    expect(lines.filter((l) => / dst /.test(l)).map((l) => l.split(" ")[1])).toEqual(["egress_denied_dst"]);
  });

  test("only plain HTTP URLs and CONNECT; no cache manager or other Squid-internal URL on any host", () => {
    expect(lines).toContain("acl egress_http proto HTTP");
    expect(lines).toContain("acl egress_squid_internal urlpath_regex ^/squid-internal-");
  });

  test("host names DNS cannot carry (a label over 63 or a name over 253 characters) are refused by their text", () => {
    const acl = lines.find((l) => l.startsWith("acl egress_overlong_name "))!;
    expect(acl).toBe("acl egress_overlong_name dstdom_regex -n [^.]{64} .{254}");
    const [label, name] = acl.split(" ").slice(4).map((r) => new RegExp(r));
    expect(label.test(`${"a".repeat(64)}.example.com`)).toBe(true);
    expect(label.test(`${"a".repeat(63)}.example.com`)).toBe(false);
    const longest = `${["a", "b", "c"].map((c) => c.repeat(63)).join(".")}.${"d".repeat(61)}`;
    expect(longest).toHaveLength(253);
    expect(name.test(longest)).toBe(false);
    expect(name.test(`${longest}e`)).toBe(true);
  });

  test("no reverse lookups of clients: the unused helpers' extras drop Squid's default %>A", () => {
    expect(lines).toContain('url_rewrite_extras "%>a %un %>rm myip=%la myport=%lp"');
    expect(lines).toContain('store_id_extras "%>a %un %>rm myip=%la myport=%lp"');
    expect(conf).not.toContain("%>A");
  });

  test("CONNECT only to 443 by default, or the configured ports; plain HTTP on 80", () => {
    expect(lines).toContain("acl egress_connect_ports port 443");
    expect(lines).toContain("acl egress_web_ports port 80 443");
    const wider = renderSquidConf({ listeners: [], clientCidrs: ["10.0.0.0/20"], connectPorts: [8443, 443] }).split("\n");
    expect(wider).toContain("acl egress_connect_ports port 443 8443");
    expect(wider).toContain("acl egress_web_ports port 80 443 8443");
  });

  test("private, shared, loopback and link-local destinations are denied, and IPv6 forms of IPv4", () => {
    const denied = lines.find((l) => l.startsWith("acl egress_denied_dst dst "))!.split(" ").slice(3);
    expect(denied).toEqual([...DENIED_DESTINATIONS]);
    expect(denied).toEqual([
      "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16",
      "::/96", "64:ff9b::/96", "64:ff9b:1::/48", "2001::/32", "2002::/16", "fc00::/7", "fe80::/10",
    ]);
  });

  test("clients only from the given subnets; no cache, Via, X-Forwarded-For or version; spoke-named log lines", () => {
    expect(lines).toContain("acl egress_clients src 10.0.0.0/20 10.0.16.0/20");
    for (const directive of ["cache deny all", "request_header_access Via deny all", "reply_header_access Via deny all", "forwarded_for delete", "httpd_suppress_version_string on"]) {
      expect(lines).toContain(directive);
    }
    expect(lines).not.toContain("via off");
    expect(lines).toContain("note spoke alpha spoke_alpha");
    expect(lines.find((l) => l.startsWith("logformat egress "))).toBe("logformat egress %ts.%03tu %{spoke}note %>a %>lp %rm %>Hs %Ss %>st %<st %>rd %ru");
    expect(lines).toContain("access_log daemon:/var/log/squid/access.log egress");
    // Through egresslink's daemon, which names the spoke on lines no note reaches.
    expect(lines).toContain("logfile_daemon /usr/local/libexec/egresslink-log-daemon");
    expect(renderSquidConf({ listeners: [], clientCidrs: ["10.0.0.0/8"], logDaemon: "/tmp/x/log-daemon" })).toMatch(/^logfile_daemon \/tmp\/x\/log-daemon$/m);
  });

  test("uses no version-specific predefined ACLs", () => {
    expect(conf).not.toMatch(/\bto_linklocal\b|\bto_localhost\b|\bSSL_ports\b|\bSafe_ports\b|acl CONNECT\b/);
  });

  test("refuses an open proxy, shared ports and bad allow-list entries", () => {
    expect(() => renderSquidConf({ listeners: [], clientCidrs: [] })).toThrow(/'clientCidrs'/);
    expect(() => renderSquidConf({ listeners: [{ name: "a", port: 1 }, { name: "b", port: 1 }], clientCidrs: ["10.0.0.0/8"] })).toThrow(/share port 1/);
    expect(() => renderSquidConf({ listeners: [{ name: "a", port: 1, allowedDomains: ["*.x.com"] }], clientCidrs: ["10.0.0.0/8"] })).toThrow(/allowedDomains\[0\].*wildcard/);
    expect(() => renderSquidConf({ listeners: [], clientCidrs: ["10.0.0.0/8"], hubCidr: "198.18.0.1/16" })).toThrow(/hubCidr: .*host bits set/);
  });
});

describe("deniedDestinations", () => {
  test.each([
    ["10.0.0.0/16", "10/8"],
    ["100.64.0.0/16", "100.64/10"],
    ["192.168.0.0/16", "192.168/16 (the same range)"],
  ])("a hub on %s is already covered by %s", (hubCidr) => {
    expect(deniedDestinations(hubCidr)).toEqual([...DENIED_DESTINATIONS]);
  });

  test.each(["198.18.0.0/16", "198.19.128.0/20", "52.10.0.0/16"])("a hub on %s is added after the IPv4 ranges", (hubCidr) => {
    const denied = deniedDestinations(hubCidr);
    expect(denied).toContain(hubCidr);
    expect(denied.filter((d) => !DENIED_DESTINATIONS.includes(d))).toEqual([hubCidr]);
    expect(denied.indexOf(hubCidr)).toBe(denied.indexOf("::/96") - 1);
  });

  test("no entry lies inside another (Squid warns and drops one), and IPv4-mapped space is not listed", () => {
    // Squid reads ::ffff:0:0/96 as 0.0.0.0/0: mapped addresses are IPv4 to it, denied by the IPv4 ranges.
    for (const hubCidr of ["10.0.0.0/16", "198.18.0.0/16"]) {
      const denied = deniedDestinations(hubCidr);
      expect(denied.filter((d) => d.startsWith("::ffff:"))).toEqual([]);
      const nested = denied.flatMap((outer) => denied.filter((inner) => inner !== outer && rangeContains(outer, inner)).map((inner) => `${inner} inside ${outer}`));
      expect(nested).toEqual([]);
    }
    expect([rangeContains("::/96", "::1"), rangeContains("2002::/16", "2001::/32"), rangeContains("10.0.0.0/8", "10.1.0.0/16")]).toEqual([true, false, true]);
  });

  test("hubSquidConf denies the hub's own CIDR", () => {
    const config = defaultConfig();
    const conf = hubSquidConf({ ...config.hub, cidr: "198.18.0.0/16" }, config.spokes);
    expect(conf).toMatch(/^acl egress_denied_dst dst .* 192\.168\.0\.0\/16 198\.18\.0\.0\/16 ::\/96 /m);
    expect(hubSquidConf(config.hub, config.spokes)).toContain(`acl egress_denied_dst dst ${DENIED_DESTINATIONS.join(" ")}\n`);
  });
});

/** Whether CIDR `outer` contains `inner` (IPv4 or IPv6; false across families). */
function rangeContains(outer: string, inner: string): boolean {
  const v6 = (c: string) => c.includes(":");
  if (v6(outer) !== v6(inner)) return false;
  if (!v6(outer)) return cidrContains(outer, inner);
  const bits = (c: string) => {
    const [address, prefix] = c.split("/");
    return { value: BigInt(`0x${ipv6Bytes(address).toString("hex")}`), prefix: Number(prefix ?? 128) };
  };
  const o = bits(outer);
  const i = bits(inner);
  const shift = BigInt(128 - o.prefix);
  return i.prefix >= o.prefix && i.value >> shift === o.value >> shift;
}

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

describe("terraformLiteral", () => {
  test("escapes Terraform's template sequences, and only those", () => {
    expect(terraformLiteral("logformat egress spoke=%{spoke}note url=%ru ${HOME} $5 %s")).toBe("logformat egress spoke=%%{spoke}note url=%ru $${HOME} $5 %s");
  });
});

describe("proxyConfigPointer", () => {
  test("names the bucket, key and version as the sync script parses them", () => {
    expect(proxyConfigPointer("egress-proxy-config-2026", PROXY_CONFIG_KEY, "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY")).toBe("s3://egress-proxy-config-2026/squid.conf?versionId=3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY");
  });
});

describe("renderProxyUserData", () => {
  const input = { region: "ap-northeast-1", configParameterName: "/egresslink/egress/proxy/base", portBlockParameterPath: "/egresslink/egress/proxy/ports", logGroupName: "/egresslink/egress/proxy" };
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
    expect(files["/usr/local/sbin/egresslink-squid-sync"]).toContain("--name '/egresslink/egress/proxy/base'");
    expect(files["/usr/local/sbin/egresslink-squid-sync"]).toContain("get-parameters-by-path --region 'ap-northeast-1' --path '/egresslink/egress/proxy/ports'");
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

  test("installs the access-log daemon squid.conf's logfile_daemon names, executable by Squid's user", () => {
    const daemon = (doc.write_files as { path: string; permissions: string; owner: string }[]).find((f) => f.path === DEFAULT_LOG_DAEMON);
    expect(daemon).toMatchObject({ permissions: "0755", owner: "root:root" });
    expect(files[DEFAULT_LOG_DAEMON]).toBe(renderLogDaemon());
    expect(renderLogDaemon()).toContain("EGL_CONF='/etc/squid/squid.conf'");
  });

  test("stays under EC2's 16 KB, single mode included", () => {
    expect(Buffer.byteLength(renderProxyUserData({ ...input, eniTag: "egress-proxy" }))).toBeLessThan(16 * 1024);
  });

  test("quotes values into the scripts safely", () => {
    expect(renderSyncScript("eu-west-1", "/a'b", "/c'd")).toContain(`--name '/a'\\''b'`);
    expect(renderSyncScript("eu-west-1", "/a'b", "/c'd")).toContain(`--path '/c'\\''d'`);
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
