/**
 * The package's public API, read by the TypeScript compiler from `modules/index.ts`: exactly the
 * names below (an addition or removal is a deliberate, CHANGELOG-worthy change, so it must be made
 * here too), each documented, each exported interface's properties and each exported class's public
 * members documented, `@default` on optional properties, and every named type a consumer meets in
 * an exported signature exported too.
 */
import { join } from "node:path";
import * as ts from "typescript";
import { ROOT } from "./helpers";

const PUBLIC_API = [
  // the whole job: config in, stacks out
  "buildApp", "buildStacks", "EgressStacks", "synthesizeTo", "SynthesisResult", "SynthesizeOptions", "OutputRefusedError",
  // configuration
  "ConfigError", "ConfigIssue", "configJsonSchema", "DEFAULT_CONFIG_FILE", "loadConfigFile", "parseConfigText", "validateConfig", "EgressConfigInput",
  "EgressConfig", "ExistingVpcConfig", "ExternalSpokeVpc", "HubConfig", "InterconnectConfig", "InterconnectSiteConfig", "NewVpcConfig",
  "ProxyConfig", "SpokeConfig", "SpokeVpcConfig", "StateConfig", "S3StateConfig", "CloudStateConfig", "ZonePlacement",
  // stacks and state
  "EgressStack", "EgressStackProps", "HUB_STACK", "HubStack", "HUB_PORTS_STACK_PREFIX", "portBlockStackName", "HubPortBlockStack",
  "SpokeStack", "spokeStackName", "INTERCONNECT_STACK", "InterconnectStack",
  "STATE_STACK", "StateStack", "StateBucket", "StateBucketProps", "StateKeyGrant", "stateKey", "useS3Backend", "StateLocation", "CloudWorkspace",
  // hub, its contract and how spokes read it
  "EgressHub", "EgressHubProps", "HubSpoke", "HUB_OUTPUT_DESCRIPTIONS", "HubOutputName", "HubOutputs", "HubCoreOutputs", "SpokeOutputName",
  "HubRemoteState", "HubStateLocation", "HubPortBlock", "HubPortBlockProps",
  "EgressVpc", "EgressVpcProps", "ProxyFleet", "ProxyFleetProps", "ProxyFleetAttributes", "ProxyPortBlock", "ProxyPortBlockProps", "ProxyTarget",
  "PORT_BLOCK_SIZE", "PortBlock", "portBlocks", "portBlockStart",
  // the proxy's policy and what operators watch
  "renderSquidConf", "renderSquidBase", "renderSquidPortBlock", "assembleSquidConf", "PORT_BLOCKS_MARKER", "SquidConfInput", "ProxyListener",
  "ACCESS_LOG_FORMAT", "ACCESS_LOG_FIELDS", "AccessLogField", "parseAccessLine", "PROXY_HEALTH_PORT",
  "HubMonitoring", "HubMonitoringProps", "PortBlockAlarms", "PortBlockAlarmsProps", "renderHubDashboard", "HubDashboardInput",
  "METRIC_SHARD_PORTS", "metricNamespace", "metricShards", "PROXY_METRICS", "proxyMetricFilters", "SPOKE_DIMENSION", "MetricShard", "ProxyMetric", "ProxyMetricFilter", "ConfigCheckOptions",
  // spokes and the proxy settings they publish
  "EgressSpoke", "EgressSpokeProps", "PROXY_SETTINGS_TAG", "spokeParameterNames", "ServiceEndpoints", "ServiceEndpointsProps",
  "ENDPOINT_PRESETS", "EndpointSet", "GatewayService", "ProxySettings", "NoProxyInput", "ALWAYS_DIRECT", "noProxyEntries",
  "renderApplyScript", "renderDnfProxy", "renderDockerDropIn", "renderEcsEnvironment", "renderEnvironmentFile", "renderKubernetesEnv",
  // cost and topology
  "CostConfig", "costReport", "costReportFor", "CostReport", "CostLine", "DesignCost", "renderCostMarkdown", "PRICE_TABLE_DATE", "pricesFor", "Price", "PriceItem",
  "PriceOverrides", "RegionPrices", "renderTopology", "MonitoringConfig", "Chargeback",
  // allow-lists from the access log
  "suggestAllowLists", "renderSuggestionYaml", "SpokeSuggestion", "KnownLists",
  // interconnect
  "Interconnect", "InterconnectProps", "planInterconnect", "PlanError", "PlanInput", "SiteInput", "SitePlan",
].sort();

const INDEX = join(ROOT, "modules", "index.ts");
const MODULES = join(ROOT, "modules") + "/";

const program = ts.createProgram([INDEX], { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, skipLibCheck: true, types: [] });
const checker = program.getTypeChecker();
const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(INDEX)!)!);
const target = (s: ts.Symbol): ts.Symbol => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
const docOf = (s: ts.Symbol): string => ts.displayPartsToString(s.getDocumentationComment(checker)).trim();
const fromModules = (d: ts.Declaration): boolean => d.getSourceFile().fileName.startsWith(MODULES);

describe("the public API (modules/index.ts)", () => {
  test("exports exactly the listed names", () => {
    expect(exported.map((s) => s.name).sort()).toEqual(PUBLIC_API);
  });

  test("every value export exists at run time, and only the type exports are erased", () => {
    const runtime = require("../modules") as Record<string, unknown>;
    const values = exported.filter((s) => target(s).flags & ts.SymbolFlags.Value).map((s) => s.name);
    expect(values.filter((name) => runtime[name] === undefined)).toEqual([]);
    expect(Object.keys(runtime).sort()).toEqual(values.sort());
  });

  test("every export has a doc comment", () => {
    expect(exported.filter((s) => docOf(target(s)) === "").map((s) => s.name)).toEqual([]);
  });

  test("every property of an exported interface is documented, and every optional one has @default", () => {
    const problems: string[] = [];
    for (const symbol of exported.map(target).filter((s) => s.flags & ts.SymbolFlags.Interface)) {
      for (const property of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol))) {
        if (!property.declarations?.some(fromModules)) continue;
        const where = `${symbol.name}.${property.name}`;
        if (docOf(property) === "") problems.push(`${where}: no doc comment`);
        if (property.flags & ts.SymbolFlags.Optional && !property.getJsDocTags().some((t) => t.name === "default")) problems.push(`${where}: optional without @default`);
      }
    }
    expect(problems).toEqual([]);
  });

  test("every public member of an exported class is documented", () => {
    const undocumented: string[] = [];
    for (const symbol of exported.map(target).filter((s) => s.flags & ts.SymbolFlags.Class)) {
      for (const decl of (symbol.declarations ?? []).filter(ts.isClassDeclaration)) {
        for (const member of decl.members) {
          if (ts.isConstructorDeclaration(member) || (ts.canHaveModifiers(member) && ts.getModifiers(member)?.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword))) continue;
          const name = member.name && checker.getSymbolAtLocation(member.name);
          if (name && docOf(name) === "") undocumented.push(`${symbol.name}.${name.name}`);
        }
      }
    }
    expect(undocumented).toEqual([]);
  });

  test("every named type in an exported signature is exported", () => {
    const names = new Set(PUBLIC_API);
    const missing = new Set<string>();
    const visit = (node: ts.Node, owner: string): void => {
      // Bodies and private members are not part of the signature a consumer sees.
      if (ts.isBlock(node) || (ts.canHaveModifiers(node) && ts.getModifiers(node)?.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword))) return;
      if (ts.isPropertyDeclaration(node) && node.initializer && !node.type) return;
      if (ts.isTypeReferenceNode(node)) {
        const ref = checker.getSymbolAtLocation(node.typeName);
        const symbol = ref && target(ref);
        const decl = symbol?.declarations?.find(fromModules);
        if (symbol && decl && !ts.isTypeParameterDeclaration(decl) && !names.has(symbol.name)) missing.add(`${symbol.name} (in ${owner})`);
      }
      ts.forEachChild(node, (child) => visit(child, owner));
    };
    for (const symbol of exported.map(target)) {
      for (const decl of symbol.declarations ?? []) {
        // A constant's value is not its signature: only an explicit annotation is.
        if (ts.isVariableDeclaration(decl)) {
          if (decl.type) visit(decl.type, symbol.name);
        } else visit(decl, symbol.name);
      }
    }
    expect([...missing].sort()).toEqual([]);
  });
});
