import { configJsonSchema } from "../modules/config/json-schema";
import { EPHEMERAL_PORTS, PROXY_HOST_PORTS } from "../modules/config/schema";
import { captureConfigError, configFrom, defaultConfigData } from "./helpers";

/** The default example with project-b on `port` (and the spoke that had it, if any, on 3200). */
function withPort(port: number): Record<string, any> {
  const data = defaultConfigData();
  for (const spoke of Object.values<any>(data.spokes)) if (spoke.port === port) spoke.port = 3200;
  data.spokes["project-b"].port = port;
  return data;
}

describe("spoke ports Squid may fail to bind are refused", () => {
  test.each([
    [32768, /32768 is in Linux's ephemeral port range 32768-60999, where the proxy's own outbound connections get their ports: Squid could find it taken and run without it\. Choose 1024-32767 or 61000-65535$/],
    [45000, /45000 is in Linux's ephemeral port range 32768-60999/],
    [32767, /32767 is taken on the proxy instances: Squid's health-check port/],
    [60999, /60999 is in Linux's ephemeral port range 32768-60999/],
    [5355, /^5355 is taken on the proxy instances: systemd-resolved \(Amazon Linux 2023's resolver\) answers LLMNR on it, TCP and UDP on every address$/],
  ])("%i: one problem, at spokes.project-b.port, with the reason", (port, reason) => {
    const err = captureConfigError(() => configFrom(withPort(port)));
    expect(err.issues).toEqual([{ path: "spokes.project-b.port", message: expect.stringMatching(reason) }]);
  });

  test("each spoke with such a port gets its own problem", () => {
    const data = withPort(50000);
    data.spokes["project-c"].port = 5355;
    expect(captureConfigError(() => configFrom(data)).issues.map((i) => i.path)).toEqual(["spokes.project-b.port", "spokes.project-c.port"]);
  });

  test.each([
    [32766, "below the ephemeral range"],
    [61000, "just above it"],
    [65535, "the highest port"],
    [3130, "Squid's ICP port: off by default, and UDP"],
    [3401, "Squid's SNMP port: off by default, and UDP"],
    [4827, "Squid's HTCP port: off by default, and UDP"],
  ])("%i (%s) is accepted", (port) => {
    expect(configFrom(withPort(port)).spokes.find((s) => s.name === "project-b")?.port).toBe(port);
  });

  test("the JSON Schema tells editors the same", () => {
    const spokes = (configJsonSchema() as any).properties.spokes.additionalProperties.properties;
    expect(spokes.port.not).toEqual({ anyOf: [{ minimum: EPHEMERAL_PORTS.from, maximum: EPHEMERAL_PORTS.to }, { enum: [...PROXY_HOST_PORTS.keys()] }] });
    expect(spokes.port.description).toMatch(/outside Linux's ephemeral range 32768-60999 and ports the proxy host uses \(5355, 32767\)/);
  });
});
