/**
 * Checks of VPC endpoint policies (IAM policy documents) as plain data, so a misspelt element or a
 * missing one is reported with its path at validation instead of by AWS at apply. Pure.
 *
 * Endpoint-specific rules are from AWS's "Control access to VPC endpoints using endpoint policies",
 * https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html, read 2026-11-21:
 * a policy must contain a Principal element; it may not exceed 20,480 characters including white
 * space; a gateway endpoint's Principal must be "*"; no wildcards or numeric operators with global
 * keys holding system-generated identifiers (the page names aws:PrincipalAccount and aws:SourceVpc).
 */
import { editDistance, quoted } from "../core/text";

/** Longest endpoint policy AWS accepts, in characters including white space. */
export const ENDPOINT_POLICY_MAX_CHARS = 20_480;

/** A problem in a policy document: where (keys and indexes from the document's root) and why. */
export interface PolicyProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

type Path = readonly (string | number)[];
type Json = Record<string, unknown>;

const TOP_KEYS = ["Version", "Id", "Statement"];
const STATEMENT_KEYS = ["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"];
const PRINCIPAL_TYPES = ["AWS", "Service", "Federated", "CanonicalUser"];
const VERSIONS = ["2012-10-17", "2008-10-17"];
const EXAMPLE_STATEMENT = `{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}`;
/** `service:Action` with wildcards, or `*`. IAM compares actions case-insensitively, so any case passes. */
const ACTION = /^(\*|[A-Za-z0-9-]+:[A-Za-z0-9*?_-]+)$/;
/** IAM condition operators, before a ForAllValues:/ForAnyValue: prefix and an IfExists suffix. */
const OPERATORS = [
  "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike",
  "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals",
  "DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals",
  "Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
];
/** Keys AWS compares to exact, system-generated identifiers in endpoint policies (lower case: keys are case-insensitive). */
const SYSTEM_ID_KEYS = ["aws:principalaccount", "aws:sourcevpc"];

/**
 * What is wrong with `doc` as the endpoint policy of an `endpointType` endpoint: empty when AWS
 * should accept it. Checks the IAM policy grammar (elements and their spelling, Effect, exactly
 * one of Action/NotAction, action syntax, Principal, Resource, Condition) and the endpoint policy
 * rules above. The size is measured as compact JSON, the form the spoke stack hands to AWS.
 */
export function policyDocumentProblems(doc: unknown, endpointType: "Interface" | "Gateway" = "Interface"): PolicyProblem[] {
  if (!isMap(doc)) return [{ path: [], message: `must be a policy document (a map with a "Statement"), not ${describe(doc)}` }];
  const problems: PolicyProblem[] = [];
  const add = (path: Path, message: string) => problems.push({ path, message });
  const given = checkKeys(doc, TOP_KEYS, [], "a policy element", add, (key) => (STATEMENT_KEYS.includes(key) ? `belongs in a statement: move it into "Statement": [${EXAMPLE_STATEMENT}]` : undefined));
  if (doc.Version !== undefined && !VERSIONS.includes(doc.Version as string)) add(["Version"], `must be "2012-10-17" (or the older "2008-10-17"), not ${describe(doc.Version)}`);
  if (doc.Id !== undefined && typeof doc.Id !== "string") add(["Id"], `must be a string, not ${describe(doc.Id)}`);
  const statement = doc.Statement;
  if (statement === undefined) {
    if (!given.has("Statement")) add(["Statement"], `is required: a statement, or a list of them, like ${EXAMPLE_STATEMENT}`);
  } else if (Array.isArray(statement)) {
    if (statement.length === 0) add(["Statement"], `must list at least one statement, like ${EXAMPLE_STATEMENT}`);
    statement.forEach((s, i) => checkStatement(s, ["Statement", i], endpointType, add));
  } else if (isMap(statement)) {
    checkStatement(statement, ["Statement"], endpointType, add);
  } else {
    add(["Statement"], `must be a statement or a list of statements, not ${describe(statement)}`);
  }
  const size = JSON.stringify(doc).length;
  if (size > ENDPOINT_POLICY_MAX_CHARS) {
    add([], `is ${size} characters as JSON, over the ${ENDPOINT_POLICY_MAX_CHARS.toLocaleString("en-US")} AWS allows in an endpoint policy: merge statements or use wildcards in actions`);
  }
  return problems;
}

function checkStatement(statement: unknown, at: Path, endpointType: "Interface" | "Gateway", add: (path: Path, message: string) => void): void {
  if (!isMap(statement)) return add(at, `must be a statement (a map like ${EXAMPLE_STATEMENT}), not ${describe(statement)}`);
  const given = checkKeys(statement, STATEMENT_KEYS, at, "a statement element", add);
  const has = (key: string) => statement[key] !== undefined;
  if (has("Sid") && typeof statement.Sid !== "string") add([...at, "Sid"], `must be a string, not ${describe(statement.Sid)}`);
  if (has("Effect")) {
    if (statement.Effect !== "Allow" && statement.Effect !== "Deny") add([...at, "Effect"], `must be "Allow" or "Deny" (capitalised), not ${describe(statement.Effect)}`);
  } else if (!given.has("Effect")) {
    add([...at, "Effect"], `is required: "Allow" or "Deny"`);
  }

  if (has("Action") && has("NotAction")) add([...at, "NotAction"], "cannot be given with Action: a statement has Action (what it covers) or NotAction (everything but), not both");
  else if (!given.has("Action") && !given.has("NotAction")) add([...at, "Action"], `is required (or NotAction): the actions the statement covers, like "s3:GetObject", "sqs:Send*" or "*"`);
  for (const key of ["Action", "NotAction"]) if (has(key)) checkStrings(statement[key], [...at, key], `an action like "s3:GetObject"`, add, actionProblem);

  const gateway = endpointType === "Gateway";
  if (gateway && has("NotPrincipal")) add([...at, "NotPrincipal"], `is not allowed for a gateway endpoint: write "Principal": "*" and exclude principals with a Condition on aws:PrincipalArn`);
  else if (has("Principal") && has("NotPrincipal")) add([...at, "NotPrincipal"], "cannot be given with Principal: write one of them");
  else if (!given.has("Principal") && !given.has("NotPrincipal")) {
    add([...at, "Principal"], gateway
      ? `is required in an endpoint policy: write "*", and narrow it with a Condition on aws:PrincipalArn`
      : `is required in an endpoint policy: write "*" (any principal, narrowed with a Condition) or a map like {"AWS": "arn:aws:iam::123456789012:role/app"}`);
  }
  if (has("Principal")) checkPrincipal(statement.Principal, [...at, "Principal"], gateway, add);
  if (has("NotPrincipal") && !gateway) checkPrincipal(statement.NotPrincipal, [...at, "NotPrincipal"], false, add);

  if (has("Resource") && has("NotResource")) add([...at, "NotResource"], "cannot be given with Resource: write one of them");
  for (const key of ["Resource", "NotResource"]) if (has(key)) checkStrings(statement[key], [...at, key], `an ARN or "*"`, add);
  if (has("Condition")) checkCondition(statement.Condition, [...at, "Condition"], add);
}

function checkPrincipal(principal: unknown, at: Path, gateway: boolean, add: (path: Path, message: string) => void): void {
  if (principal === "*") return;
  if (gateway) {
    if (isMap(principal) && Object.keys(principal).length === 1 && principal.AWS === "*") return;
    return add(at, `must be "*" for a gateway endpoint (s3, dynamodb): name principals with a Condition on aws:PrincipalArn instead`);
  }
  if (!isMap(principal)) {
    const example = typeof principal === "string" ? `{"AWS": ${quoted(principal)}}` : `{"AWS": "arn:aws:iam::123456789012:role/app"}`;
    return add(at, `must be "*" or a map like ${example}, not ${describe(principal)}`);
  }
  checkKeys(principal, PRINCIPAL_TYPES, at, "a principal type", add);
  for (const type of PRINCIPAL_TYPES) if (principal[type] !== undefined) checkStrings(principal[type], [...at, type], "a principal", add);
}

function checkCondition(condition: unknown, at: Path, add: (path: Path, message: string) => void): void {
  const example = `{"StringEquals": {"aws:PrincipalAccount": "123456789012"}}`;
  if (!isMap(condition)) return add(at, `must be a map of operators to keys and values, like ${example}, not ${describe(condition)}`);
  for (const [operator, block] of Object.entries(condition)) {
    // Null takes no IfExists: NullIfExists stays whole and is refused.
    const base = operator.replace(/^(ForAllValues|ForAnyValue):/, "").replace(/(?<!^Null)IfExists$/, "");
    if (!OPERATORS.includes(base)) {
      const meant = closest(base, OPERATORS);
      add([...at, operator], `is not a condition operator; ${meant ? `did you mean ${quoted(operator.replace(base, meant))}?` : `use one like StringEquals, StringLike, ArnLike or Bool`}`);
      continue;
    }
    if (!isMap(block)) {
      add([...at, operator], `must map condition keys to values, like {"aws:PrincipalAccount": "123456789012"}, not ${describe(block)}`);
      continue;
    }
    for (const [key, value] of Object.entries(block)) {
      const values = Array.isArray(value) ? value : [value];
      if (values.length === 0 || values.some((v) => !["string", "number", "boolean"].includes(typeof v))) {
        add([...at, operator, key], `must be a value or a list of values (strings, numbers or booleans), not ${describe(value)}`);
      } else if (SYSTEM_ID_KEYS.includes(key.toLowerCase())) {
        if (base.startsWith("Numeric")) add([...at, operator, key], "cannot be compared with a numeric operator in an endpoint policy: use StringEquals");
        else if (values.some((v) => typeof v === "string" && /[*?]/.test(v))) add([...at, operator, key], "cannot hold wildcards in an endpoint policy: list the exact values with StringEquals");
      }
    }
  }
}

/** A string or a non-empty list of strings (Action, Resource, principals), each passing `problem`. */
function checkStrings(value: unknown, at: Path, what: string, add: (path: Path, message: string) => void, problem?: (s: string) => string | undefined): void {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) return add(at, `must list at least one ${what.replace(/^an? /, "")}`);
  list.forEach((item, i) => {
    const path = Array.isArray(value) ? [...at, i] : at;
    if (typeof item !== "string") add(path, `must be ${what}${Array.isArray(value) ? "" : ` or a list of them`}, not ${describe(item)}`);
    else {
      const message = problem?.(item);
      if (message) add(path, message);
    }
  });
}

function actionProblem(action: string): string | undefined {
  return ACTION.test(action) ? undefined : `${quoted(action)} is not an action: write "<service>:<action>", like "s3:GetObject" or "sqs:Send*", or "*" for all`;
}

/**
 * Reports keys of `map` outside `allowed`, with the allowed key meant when one is close (a case
 * difference counts as a misspelling). Returns the keys given, misspelt ones as meant, so a
 * misspelt element is not also reported missing.
 */
function checkKeys(map: Json, allowed: readonly string[], at: Path, what: string, add: (path: Path, message: string) => void, misplaced?: (key: string) => string | undefined): Set<string> {
  const given = new Set<string>();
  for (const key of Object.keys(map)) {
    if (allowed.includes(key)) {
      given.add(key);
      continue;
    }
    const meant = closest(key, allowed);
    if (meant) given.add(meant);
    add([...at, key], misplaced?.(key) ?? `is not ${what}; ${meant ? `did you mean ${quoted(meant)}?` : `use ${allowed.slice(0, -1).join(", ")} or ${allowed[allowed.length - 1]}`}`);
  }
  return given;
}

/** The word of `words` that `word` misspells: same letters in another case, or within 2 edits (1 for short words). */
function closest(word: string, words: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const reach = lower.length <= 3 ? 1 : 2;
  let best: { word: string; distance: number } | undefined;
  for (const candidate of words) {
    if (Math.abs(candidate.length - lower.length) > reach) continue;
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance <= reach && (!best || distance < best.distance)) best = { word: candidate, distance };
  }
  return best?.word;
}

function isMap(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A value as a message names it: short strings quoted, containers by kind. */
function describe(value: unknown): string {
  if (typeof value === "string") return quoted(value);
  if (Array.isArray(value)) return "a list";
  if (isMap(value)) return "a map";
  return String(value);
}

