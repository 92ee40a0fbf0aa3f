import { spawn, spawnSync, type ChildProcessByStdio } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderLogDaemon } from "../modules/proxy/user-data";
import { programDescribe } from "./helpers-programs";
import { waitFor } from "./helpers-squid";

// Each test starts the daemon and waits on its output: on a loaded machine (CI runs suites in
// parallel) bash and awk can take seconds to start. The waits end as soon as the line is there.
jest.setTimeout(60_000);
const DAEMON_WAIT_MS = 20_000;

/**
 * Runs the instance's access-log daemon for real (bash and the system's awk), fed the commands
 * Squid's ModDaemon writes on its stdin, against a squid.conf of our own.
 */
programDescribe("the access-log daemon", () => {
  let dir: string;
  let conf: string;
  let script: string;
  let log: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "egresslink-logd-"));
    conf = join(dir, "squid.conf");
    script = join(dir, "egresslink-log-daemon");
    log = join(dir, "access.log");
    writeFileSync(conf, ["http_port 3128 name=alpha", "http_port 0.0.0.0:3129 name=beta", "http_port 3130", "http_port 32767 name=egresslink-health", "acl x src 10.0.0.0/8", ""].join("\n"));
    writeFileSync(script, renderLogDaemon(conf), { mode: 0o755 });
  });
  let running: ChildProcessByStdio<Writable, null, Readable>[] = [];
  afterEach(() => {
    // A daemon that failed its test still waits on its input: end it, so jest can exit.
    for (const daemon of running) if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill("SIGKILL");
    running = [];
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the daemon on a pipe, as Squid does. */
  const start = () => {
    const daemon = spawn(script, [log], { stdio: ["pipe", "ignore", "pipe"] });
    running.push(daemon);
    return daemon;
  };

  /** Runs the daemon on `commands` (one per line, as Squid sends them) to the end of its input. */
  const feed = (commands: readonly string[]) => {
    const result = spawnSync(script, [log], { input: commands.map((c) => `${c}\n`).join(""), encoding: "utf8", timeout: 10_000 });
    expect([result.status, result.stderr]).toEqual([0, ""]);
  };
  const read = (file: string) => (existsSync(file) ? readFileSync(file, "utf8") : undefined);
  // ACCESS_LOG_FIELDS: time spoke client local_port method status result bytes_out bytes_in host url
  const line = (spoke: string, port: string, rest = "PRI 400 NONE_NONE 0 3400 - *") => `1795278560.987 ${spoke} 10.0.1.7 ${port} ${rest}`;

  test("names the spoke of lines without one by their port, drops the health check's, and writes every other line, changed or not, in order", () => {
    feed([
      "r10",
      "b0",
      `L${line("-", "3128")}`,
      `L${line("-", "3129", "GET 400 NONE_NONE 70 3400 - http://api.github.com:99999/")}`,
      // A URL that looks like a line of its own does not fool the daemon.
      `L${line("alpha", "3128", "GET 403 TCP_DENIED 80 3400 a.example http://a.example/x%20-%2010.0.1.7%203129%20")}`,
      `L${line("-", "32767", "- 0 NONE_NONE 0 0 - error:transaction-end-before-headers")}`,
      `L${line("-", "3130")}`,
      `L${line("-", "4000")}`,
      "L1795278560.987 - - - -",
      "F",
      "L",
      "X something Squid's own daemon writes as it came",
    ]);
    expect(read(log)).toBe(
      [
        line("alpha", "3128"),
        line("beta", "3129", "GET 400 NONE_NONE 70 3400 - http://api.github.com:99999/"),
        line("alpha", "3128", "GET 403 TCP_DENIED 80 3400 a.example http://a.example/x%20-%2010.0.1.7%203129%20"),
        // An unnamed port, a port squid.conf does not have, no port: left as they are, never dropped.
        line("-", "3130"),
        line("-", "4000"),
        "1795278560.987 - - - -",
        "",
        "X something Squid's own daemon writes as it came",
        "",
      ].join("\n"),
    );
  });

  test("R rotates as Squid's daemon does: logfile_rotate N keeps .0 to .N-1, the newest in .0", () => {
    feed(["r3", "b0", "Lfirst", "R", "Lsecond", "R", "Lthird", "R", "Lfourth", "R", "Lfifth"]);
    expect(readdirSync(dir).filter((f) => f.startsWith("access.log")).sort()).toEqual(["access.log", "access.log.0", "access.log.1", "access.log.2"]);
    expect([read(log), read(`${log}.0`), read(`${log}.1`), read(`${log}.2`)]).toEqual(["fifth\n", "fourth\n", "third\n", "second\n"]);
  });

  test("R with logfile_rotate 0 (logrotate's way) only reopens: the moved file is left alone, a new one started", () => {
    const daemon = start();
    return (async () => {
      daemon.stdin.write("r0\nb0\nLbefore\n");
      await waitFor("the first line", DAEMON_WAIT_MS, () => read(log) === "before\n");
      renameSync(log, `${log}-20260101`);
      daemon.stdin.write("R\nLafter\n");
      daemon.stdin.end();
      await new Promise((resolve) => daemon.once("exit", resolve));
      expect([read(`${log}-20260101`), read(log), read(`${log}.0`)]).toEqual(["before\n", "after\n", undefined]);
    })();
  });

  test("T and O reopen the file (no truncation: Squid's daemon ignores both) and re-read squid.conf's ports", () => {
    const daemon = start();
    return (async () => {
      daemon.stdin.write(`b0\nL${line("-", "3128")}\n`);
      await waitFor("the first line", DAEMON_WAIT_MS, () => read(log) === `${line("alpha", "3128")}\n`);
      renameSync(log, `${log}.moved`);
      writeFileSync(conf, "http_port 3128 name=gamma\n");
      daemon.stdin.write(`T\nL${line("-", "3128")}\nO\nL${line("-", "3128")}\n`);
      daemon.stdin.end();
      await new Promise((resolve) => daemon.once("exit", resolve));
      expect(read(`${log}.moved`)).toBe(`${line("alpha", "3128")}\n`);
      expect(read(log)).toBe(`${line("gamma", "3128")}\n${line("gamma", "3128")}\n`);
    })();
  });

  test("b0 writes each line at once; b1 holds lines until F; SIGTERM (sent by Squid as it closes the pipe) loses none", async () => {
    const daemon = start();
    let stderr = "";
    daemon.stderr.on("data", (c) => (stderr += c));
    daemon.stdin.write("b0\nLone\n");
    await waitFor("an unbuffered line before the input ends", DAEMON_WAIT_MS, () => read(log) === "one\n");
    daemon.stdin.write("b1\nLtwo\n");
    await new Promise((r) => setTimeout(r, 300));
    expect(read(log)).toBe("one\n");
    daemon.stdin.write("F\n");
    await waitFor("the flush", DAEMON_WAIT_MS, () => read(log) === "one\ntwo\n");
    const exited = new Promise((resolve) => daemon.once("exit", (code, signal) => resolve([code, signal])));
    daemon.stdin.write(Array.from({ length: 2000 }, (_, i) => `Lline ${i}\n`).join(""));
    daemon.stdin.end();
    daemon.kill("SIGTERM");
    expect(await exited).toEqual([0, null]);
    expect(read(log)!.split("\n")).toHaveLength(2 + 2000 + 1);
    expect(stderr).toBe("");
  });

  test("is valid bash and reads the instance's squid.conf by default", () => {
    const check = spawnSync("bash", ["-n"], { input: renderLogDaemon(), encoding: "utf8" });
    expect([check.status, check.stderr]).toEqual([0, ""]);
    expect(renderLogDaemon()).toContain("EGL_CONF='/etc/squid/squid.conf'");
  });
});
