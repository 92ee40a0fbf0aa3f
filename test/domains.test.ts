import { domainCovers, domainEntryProblem, domainListProblems, MAX_ALLOWED_DOMAINS, suggestDomainFix } from "../modules/proxy/domains";

/** The promise every message keeps: a suggestion is a valid entry and is quoted whole in the message. */
function expectKeptPromise(entry: string): void {
  const message = domainEntryProblem(entry);
  const suggestion = suggestDomainFix(entry);
  if (message === undefined) {
    expect(suggestion).toBeUndefined();
    // Nothing that could break squid.conf or mean something else gets through.
    expect(entry).toMatch(/^\.?[a-z0-9-]+(\.[a-z0-9-]+)+$/);
    return;
  }
  expect(message.length).toBeLessThanOrEqual(300);
  if (suggestion !== undefined) {
    expect(domainEntryProblem(suggestion)).toBeUndefined();
    expect(message).toContain(`"${suggestion}"`);
  }
}

// [entry, what the message must say, the suggestion (undefined: none)]
const BAD: [string, RegExp, string | undefined][] = [
  ["10.0.0.0/8", /is an IP range; allow-lists take domain names/, undefined],
  ["0.0.0.0/0", /is an IP range/, undefined],
  ["192.168.1.0/24", /is an IP range.*private ranges are always denied/, undefined],
  ["2001:db8::/32", /is an IP range/, undefined],
  ["::/0", /is an IP range/, undefined],

  ["", /^"" is empty$/, undefined],
  [".", /is empty \(only dots\)/, undefined],
  ["..", /is empty \(only dots\)/, undefined],
  ["   ", /is empty \(only whitespace\)/, undefined],
  ["\t", /^"\\t" is empty \(only whitespace\)/, undefined],

  [" example.com", /^" example\.com" has leading or trailing whitespace/, "example.com"],
  ["example.com\n", /^"example\.com\\n" has leading or trailing whitespace/, "example.com"],
  ["\u00a0.example.com", /^"\\u00a0\.example\.com" has leading or trailing whitespace/, ".example.com"],
  [" Example.com ", /leading or trailing whitespace/, "example.com"],
  ["example.com.", /ends with a dot/, "example.com"],
  [".example.com.", /ends with a dot/, ".example.com"],
  ["example..com", /has an empty label/, "example.com"],
  ["..example.com", /has an empty label/, ".example.com"],
  ["1..2.3.4", /has an empty label/, undefined],

  ["::1", /is an IP address/, undefined],
  ["[2001:db8::1]", /is an IP address/, undefined],
  ["fe80::1", /is an IP address/, undefined],
  ["fe80::1%eth0", /is an IP address/, undefined],
  ["[::1]:443", /is an IP address/, undefined],
  ["192.0.2.1", /is an IP address/, undefined],
  ["192.0.2.1:443", /is an IP address/, undefined],
  [".10.1.2.3", /is an IP address/, undefined],

  ["*.example.com", /has a wildcard; write "\.example\.com" to allow a domain and its subdomains/, ".example.com"],
  ["*.Example.COM", /has a wildcard; write "\.example\.com"/, ".example.com"],
  ["*.bücher.de", /has a wildcard; write "\.xn--bcher-kva\.de"/, ".xn--bcher-kva.de"],
  ["*.com", /has a wildcard; a leading dot/, undefined],
  ["*", /would allow every domain; list the domains instead$/, undefined],
  ["*.*", /would allow every domain/, undefined],
  [".*", /would allow every domain/, undefined],
  ["**", /would allow every domain/, undefined],
  ["*.", /would allow every domain/, undefined],
  ["api.*.example.com", /wildcard inside the name \(Squid matches whole names, or a domain with its subdomains\); write "\.example\.com" to allow all of that domain, more than this entry/, ".example.com"],
  ["*.*.example.com", /wildcard inside the name.*more than this entry/, ".example.com"],
  ["api-*.example.com", /wildcard inside the name/, ".example.com"],
  ["ex*ample.com", /wildcard inside the name.*; list the names instead$/, undefined],
  ["*example.com", /wildcard inside the name.*; list the names instead$/, undefined],
  ["example.c*m", /wildcard inside the name/, undefined],

  ["bücher.de", /is not ASCII; Squid compares names in punycode \(xn--\) form; write "xn--bcher-kva\.de"/, "xn--bcher-kva.de"],
  [".日本.jp", /is not ASCII/, ".xn--wgv71a.jp"],
  ["Bücher.DE", /is not ASCII/, "xn--bcher-kva.de"],
  ["ｅｘａｍｐｌｅ.com", /is not ASCII/, "example.com"],
  ["bücher_x.de", /is not ASCII/, undefined],
  ["ü%41.de", /is not ASCII/, undefined],

  ["https://github.com/x", /is a URL; list the host name only \(e\.g\. "github\.com"\)/, "github.com"],
  ["http://*.foo.com/", /is a URL.*"\.foo\.com"/, ".foo.com"],
  ["HTTPS://API.Example.COM:443/path", /is a URL.*"api\.example\.com"/, "api.example.com"],
  ["github.com/", /is a URL/, "github.com"],
  ["https://user:secret@example.com/", /is a URL/, "example.com"],
  ["ftp://files.example.com?x=/y", /is a URL/, "files.example.com"],
  ["https://bücher.de/x", /is a URL/, "xn--bcher-kva.de"],
  ["https://[::1]/", /is a URL; list the host name only$/, undefined],
  ["https://10.0.0.1/", /is a URL; list the host name only$/, undefined],
  ["https://*.com/", /is a URL; list the host name only$/, undefined],

  ["example.com:443", /has a port; ports are allowed with connectPorts, not per domain; write "example\.com"/, "example.com"],
  ["Example.com:8080", /has a port/, "example.com"],
  ["*.example.com:443", /has a port/, ".example.com"],
  ["localhost:80", /has a port; ports are allowed with connectPorts, not per domain$/, undefined],

  ["GitHub.com", /has capitals; write "github\.com"/, "github.com"],
  [".Example.COM", /has capitals/, ".example.com"],

  ["exam\u200bple.com", /^"exam\\u200bple\.com" has invisible or control characters/, "example.com"],
  ["a\u0000b.com", /^"a\\u0000b\.com" has invisible or control characters/, undefined],
  ["example.com\u202e", /^"example\.com\\u202e" has invisible or control characters/, undefined],

  ["a".repeat(300) + ".com", /is 304 characters long; a domain name has at most 253/, undefined],
  [".com", /is a top-level domain; allow a registered domain \(e\.g\. "\.example\.com"\) or a host/, undefined],
  ["localhost", /is a top-level domain/, undefined],
  ["COM.", /is a top-level domain.*"\.example\.com"/, undefined],
  ["bad_label.example", /has an invalid label "bad_label"/, undefined],
  ["-x.example", /has an invalid label "-x"/, undefined],
  ["exa mple.com", /has an invalid label "exa mple"/, undefined],
  ["a@b.com", /has an invalid label "a@b"/, undefined],
  ["example.com:https", /has an invalid label "com:https"/, undefined],
  ["x".repeat(64) + ".com", /has an invalid label "x{64}"/, undefined],
];

describe("domainEntryProblem and suggestDomainFix", () => {
  // Titles in printable ASCII, cut: some entries hold bidi overrides or run to hundreds of characters.
  const title = (entry: string) => JSON.stringify(entry).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).slice(0, 60);
  test.each(BAD.map(([entry, reason, suggestion]) => ({ name: title(entry), entry, reason, suggestion })))("$name", ({ entry, reason, suggestion }) => {
    expect(domainEntryProblem(entry)).toMatch(reason);
    expect(suggestDomainFix(entry)).toBe(suggestion);
    expectKeptPromise(entry);
  });

  test.each(["api.github.com", ".github.com", "xn--bcher-kva.de", ".xn--wgv71a.jp", "a-b.c0.example", "1.2.3.example", "x".repeat(63) + ".com", `.${"a.".repeat(125)}com`])("%s is fine", (entry) => {
    expect(domainEntryProblem(entry)).toBeUndefined();
    expect(suggestDomainFix(entry)).toBeUndefined();
  });

  test("a huge entry is quoted escaped and cut, never echoed", () => {
    for (const entry of ["a".repeat(20_000_000), `https://${"a".repeat(20_000_000)}/`, "\u0000".repeat(1_000_000), `${"ü".repeat(10_000_000)}.de`, `x${"\u202e".repeat(1000)}`]) {
      const message = domainEntryProblem(entry)!;
      expect(message.length).toBeLessThanOrEqual(300);
      const quoted = /^"(.*?)\.\.\."/.exec(message)![1];
      expect(quoted.length).toBeLessThanOrEqual(80);
      expect(quoted).not.toMatch(/[\u0000-\u001f\u202e]/);
      expect(suggestDomainFix(entry)).toBeUndefined();
    }
    expect(domainEntryProblem("\u0000".repeat(300))).toMatch(/^"(\\u0000){13}\.\.\." is 300 characters long/);
  });

  test("a suggestion is quoted whole however long, so the longest message is under 500 characters", () => {
    const name = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(54)}.com`;
    for (const [entry, suggestion] of [[`x*.${name}`, `.${name}`], [name.toUpperCase(), name], [`https://${name}:443/${"p".repeat(1000)}`, name]]) {
      expect(suggestDomainFix(entry)).toBe(suggestion);
      expect(domainEntryProblem(entry)).toContain(`"${suggestion}"`);
      expect(domainEntryProblem(entry)!.length).toBeLessThan(500);
    }
  });

  test("fuzz: every suggestion is accepted when pasted back; messages stay short", () => {
    let seed = 20240601;
    const random = () => {
      // mulberry32: small, seeded, repeatable.
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
    const alphabet = [..."abcxyzAXZ019.-*:/ _", ".", ".", "ü", "日", "\u200b", "\u00a0", "ｅ", "。"];
    const prefixes = ["", "", "", "*.", ".", "https://", "HTTP://", " "];
    const suffixes = ["", "", "", ".com", ".example.org", ":443", "/", "."];
    let suggested = 0;
    for (let i = 0; i < 5000; i++) {
      const middle = Array.from({ length: Math.floor(random() * 20) }, () => pick(alphabet)).join("");
      const entry = pick(prefixes) + middle + pick(suffixes);
      expectKeptPromise(entry);
      if (suggestDomainFix(entry) !== undefined) suggested++;
    }
    // The property is not vacuous: many inputs get a suggestion.
    expect(suggested).toBeGreaterThan(250);
  });
});

/** The original quadratic check, as the reference for which entry is reported and by which coverer. */
function referenceProblems(entries: readonly string[], alsoAllowed: readonly string[], name: string) {
  const problems: { index: number; message: string }[] = [];
  entries.forEach((entry, index) => {
    const invalid = domainEntryProblem(entry);
    if (invalid) return problems.push({ index, message: invalid });
    const inList = entries.findIndex((other, j) => j !== index && domainEntryProblem(other) === undefined && domainCovers(other, entry) && !(other === entry && j > index));
    if (inList !== -1) {
      return problems.push({ index, message: entries[inList] === entry ? `"${entry}" is listed twice` : `"${entry}" is already covered by "${entries[inList]}"` });
    }
    const global = alsoAllowed.find((other) => domainCovers(other, entry));
    if (global !== undefined) problems.push({ index, message: `"${entry}" is already allowed for every spoke by "${global}" in ${name}` });
    return undefined;
  });
  return problems;
}

describe("domainListProblems: duplicates and coverage", () => {
  test.each<[string, string[], { index: number; message: string }[]]>([
    ["a copy is reported, the first occurrence is not", ["a.com", "b.com", "a.com", "a.com"], [
      { index: 2, message: '"a.com" is listed twice' },
      { index: 3, message: '"a.com" is listed twice' },
    ]],
    ["a coverer later in the list counts", ["api.github.com", "github.com", ".github.com"], [
      { index: 0, message: '"api.github.com" is already covered by ".github.com"' },
      { index: 1, message: '"github.com" is already covered by ".github.com"' },
    ]],
    ["the earliest coverer in list order is named", ["a.b.example.com", ".example.com", ".b.example.com"], [
      { index: 0, message: '"a.b.example.com" is already covered by ".example.com"' },
      { index: 2, message: '".b.example.com" is already covered by ".example.com"' },
    ]],
    ["an earlier copy before any coverer makes it a duplicate", ["api.x.com", ".x.com", "api.x.com"], [
      { index: 0, message: '"api.x.com" is already covered by ".x.com"' },
      { index: 2, message: '"api.x.com" is listed twice' },
    ]],
    ["a coverer before the first copy is named instead", [".x.com", "api.x.com", "api.x.com"], [
      { index: 1, message: '"api.x.com" is already covered by ".x.com"' },
      { index: 2, message: '"api.x.com" is already covered by ".x.com"' },
    ]],
    ["a domain with a dot covers the bare host, not the reverse", ["x.com", ".x.com"], [{ index: 0, message: '"x.com" is already covered by ".x.com"' }]],
    ["hosts cover nothing but themselves; suffixes must end at a dot", ["github.com", "api.github.com", "notgithub.com", ".hub.com"], []],
    ["invalid entries cover nothing", ["*.x.com", "api.x.com", "API.x.com", "api.x.com"], [
      { index: 0, message: '"*.x.com" has a wildcard; write ".x.com" to allow a domain and its subdomains' },
      { index: 2, message: '"API.x.com" has capitals; write "api.x.com"' },
      { index: 3, message: '"api.x.com" is listed twice' },
    ]],
  ])("%s", (_, entries, expected) => {
    expect(domainListProblems(entries)).toEqual(expected);
  });

  test("against the global list: exact, the earliest coverer, and the list's own coverer first", () => {
    const name = "hub.proxy.allowedDomains";
    expect(domainListProblems(["pypi.org", "x.amazonaws.com"], ["pypi.org", ".amazonaws.com"], name)).toEqual([
      { index: 0, message: '"pypi.org" is already allowed for every spoke by "pypi.org" in hub.proxy.allowedDomains' },
      { index: 1, message: '"x.amazonaws.com" is already allowed for every spoke by ".amazonaws.com" in hub.proxy.allowedDomains' },
    ]);
    expect(domainListProblems(["a.b.c.com"], [".c.com", ".b.c.com"], name)[0].message).toMatch(/by "\.c\.com"/);
    expect(domainListProblems(["a.b.c.com"], [".b.c.com", ".c.com"], name)[0].message).toMatch(/by "\.b\.c\.com"/);
    expect(domainListProblems([".x.com", "a.x.com"], [".x.com"], name)).toEqual([
      { index: 0, message: '".x.com" is already allowed for every spoke by ".x.com" in hub.proxy.allowedDomains' },
      { index: 1, message: '"a.x.com" is already covered by ".x.com"' },
    ]);
    expect(domainListProblems(["a.x.com"], [".x.com"])[0].message).toMatch(/in the global allow-list$/);
    expect(domainListProblems(["x.com", "api.x.com"], ["api.x.com.evil.com", "x.co"], name)).toEqual([]);
  });

  test("reports the same entries, by the same coverers, as the original quadratic check", () => {
    const vocabulary = ["a.com", ".a.com", "b.a.com", ".b.a.com", "c.b.a.com", ".c.b.a.com", "x.org", ".x.org", "y.x.org", "A.com", "*.a.com", ".com", "com", "a.co", "ba.com"];
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const list = (max: number) => Array.from({ length: Math.floor(random() * max) }, () => vocabulary[Math.floor(random() * vocabulary.length)]);
    for (let i = 0; i < 3000; i++) {
      const entries = list(10);
      const global = list(4);
      expect(domainListProblems(entries, global, "G")).toEqual(referenceProblems(entries, global, "G"));
    }
  });

  test("1,000 distinct subdomains pass; under one domain, each is named against it", () => {
    const hosts = Array.from({ length: MAX_ALLOWED_DOMAINS - 1 }, (_, i) => `h${i}.team${i % 37}.example.com`);
    expect(domainListProblems([...hosts, ".other.example"])).toEqual([]);
    const problems = domainListProblems([...hosts, ".example.com"]);
    expect(problems).toHaveLength(MAX_ALLOWED_DOMAINS - 1);
    expect(problems[998]).toEqual({ index: 998, message: '"h998.team36.example.com" is already covered by ".example.com"' });
    expect(new Set(problems.map((p) => p.index)).size).toBe(MAX_ALLOWED_DOMAINS - 1);
  });
});

describe("domainListProblems: the size limit", () => {
  const distinct = (n: number) => Array.from({ length: n }, (_, i) => `host${i}.example.com`);

  test(`${MAX_ALLOWED_DOMAINS} entries are fine`, () => {
    expect(MAX_ALLOWED_DOMAINS).toBe(1000);
    expect(domainListProblems(distinct(1000))).toEqual([]);
  });

  test("1,001 entries: one problem with the whole list, naming the limit and the count", () => {
    expect(domainListProblems(distinct(1001))).toEqual([
      { index: 1000, wholeList: true, message: 'the list has 1001 entries, more than the 1000 allowed; ".example.com" allows a domain and all its subdomains in one entry' },
    ]);
  });

  test("10,000 entries: the same single problem, without reading any entry", () => {
    // Holes: reading any entry as a string would throw.
    const unread = new Array<string>(10_000);
    expect(domainListProblems(unread, ["x.com"])).toEqual([{ index: 1000, wholeList: true, message: expect.stringMatching(/^the list has 10000 entries, more than the 1000 allowed/) }]);
    expect(domainListProblems(distinct(10_000))).toHaveLength(1);
  });
});
