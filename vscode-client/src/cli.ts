/**
 * Runs a `migration-lsp` CLI subcommand (`graph`, `check`) with the same program the server
 * runs, so the editor, the CLI and CI agree.
 */
import { spawn } from "node:child_process";
import type { CancellationToken } from "vscode";

import { LaunchPlan, cliCommand } from "./launch";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const TIMEOUT_MS = 120_000;

export function runCli(
  plan: Extract<LaunchPlan, { kind: "run" }>,
  args: string[],
  cwd: string,
  token?: CancellationToken,
): Promise<CliResult> {
  const { command, args: argv } = cliCommand(plan, args);
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, {
      cwd,
      env: { ...process.env, NO_COLOR: "1", PYTHONIOENCODING: "utf-8" },
      windowsHide: true,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const timer = setTimeout(() => child.kill(), TIMEOUT_MS);
    const cancel = token?.onCancellationRequested(() => child.kill());
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (error) => {
      clearTimeout(timer);
      cancel?.dispose();
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      cancel?.dispose();
      resolve({
        code,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
      });
    });
  });
}
