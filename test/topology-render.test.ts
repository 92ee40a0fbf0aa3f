/**
 * The topology diagrams as a reader sees them: Mermaid (from the npm registry) renders the
 * default config's and examples/interconnect.yaml's diagrams in headless Chromium (Debian's
 * package), to SVG (the page's DOM) and to PNG (a screenshot). The SVG must hold every spoke's
 * name and port, every site's prefixes, and no sign of Mermaid's error picture. Full tier;
 * fails without chromium.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { renderTopology } from "../modules/app/topology";
import { loadConfigFile } from "../modules/config/load";
import type { EgressConfig } from "../modules/config/model";
import { DEFAULT_CONFIG_PATH, ROOT } from "./helpers";
import { programDescribe, requireProgram } from "./helpers-programs";

const MERMAID = join(ROOT, "node_modules", "mermaid", "dist", "mermaid.min.js");

/** A page that renders `diagram` with Mermaid and marks the body when done (or failed). */
function page(diagram: string): string {
  const escaped = diagram.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return `<!doctype html><html><head><meta charset="utf-8"></head><body>
<pre class="mermaid">${escaped}</pre>
<script src="${pathToFileURL(MERMAID).href}"></script>
<script>
mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
mermaid.run({ querySelector: ".mermaid" })
  .then(() => document.body.setAttribute("data-rendered", "yes"))
  .catch((e) => document.body.setAttribute("data-error", String(e && e.message || e)));
</script></body></html>`;
}

/** Text of an SVG with its tags dropped and entities decoded, spaces collapsed. */
const textOf = (svg: string) => svg.replace(/<[^>]+>/g, " ").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&").replace(/&#39;/g, "'").replace(/\s+/g, " ");

programDescribe("the topology diagram rendered by Mermaid in headless Chromium", () => {
  const chromium = requireProgram("chromium");
  const work = mkdtempSync(join(tmpdir(), "egresslink-render-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const browse = (args: string[]) =>
    spawnSync(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files", "--virtual-time-budget=20000", ...args], { encoding: "utf8", timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });

  test.each([
    ["egress.config.yaml", DEFAULT_CONFIG_PATH],
    ["examples/interconnect.yaml", join(ROOT, "examples", "interconnect.yaml")],
  ])("%s: the SVG holds every spoke's name and port and every site's prefixes, and the PNG is drawn", (label, file) => {
    const config: EgressConfig = loadConfigFile(file);
    const html = join(work, `${label.replace(/\W+/g, "-")}.html`);
    writeFileSync(html, page(renderTopology(config)));
    const dom = browse(["--dump-dom", pathToFileURL(html).href]);
    const body = dom.stdout.match(/<body[^>]*>/)?.[0] ?? "";
    expect([dom.status, body]).toEqual([0, '<body data-rendered="yes">']);
    const svg = dom.stdout.match(/<svg[^]*<\/svg>/)?.[0] ?? "";
    const text = textOf(svg);
    // Mermaid's error picture says "Syntax error in text".
    expect(/Syntax error|Parse error/i.test(text)).toBe(false);
    for (const spoke of config.spokes) {
      expect([spoke.name, text.includes(spoke.name)]).toEqual([spoke.name, true]);
      expect([spoke.name, text.includes(`${spoke.proxyDnsName}:${spoke.port}`)]).toEqual([spoke.name, true]);
    }
    for (const site of config.interconnect?.sites ?? []) {
      expect([site.name, text.includes(`site ${site.name}`), text.includes(site.plan.realCidr), text.includes(`ASN ${site.plan.asn}`)]).toEqual([site.name, true, true, true]);
      if (site.plan.translatedCidr) expect([site.name, text.includes(site.plan.translatedCidr)]).toEqual([site.name, true]);
    }
    expect(text.includes(`hub ${config.hub.cidr}, ${config.hub.region}`)).toBe(true);
    const png = join(work, `${label.replace(/\W+/g, "-")}.png`);
    const shot = browse([`--screenshot=${png}`, "--window-size=1600,1000", "--hide-scrollbars", pathToFileURL(html).href]);
    expect(shot.status).toBe(0);
    const bytes = readFileSync(png);
    expect(bytes.subarray(1, 4).toString("latin1")).toBe("PNG");
    expect(statSync(png).size).toBeGreaterThan(20_000);
  }, 150_000);
});
