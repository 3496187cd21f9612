/**
 * `migration-lsp check --format json` output → per-file problems with VS Code positions
 * (0-based, UTF-16 columns; the CLI counts 1-based code points). Pure: unit-tested.
 */
import * as path from "node:path";

export interface CliFinding {
  path: string;
  rule: string;
  severity: "error" | "warning" | "info" | "hint";
  message: string;
  start: { line: number; column: number };
  end: { line: number; column: number };
  url?: string | null;
}

export interface Problem {
  rule: string;
  severity: CliFinding["severity"];
  message: string;
  url?: string;
  /** 0-based line and UTF-16 column. */
  start: { line: number; character: number };
  end: { line: number; character: number };
}

export function parseFindings(output: string): CliFinding[] {
  const parsed: unknown = JSON.parse(output);
  if (!Array.isArray(parsed)) {
    throw new Error("migration-lsp check did not print a JSON list");
  }
  return parsed as CliFinding[];
}

/** The UTF-16 column of code point `column` (0-based) in `line`. */
export function utf16Column(line: string, column: number): number {
  let units = 0;
  let points = 0;
  for (const char of line) {
    if (points >= column) {
      break;
    }
    units += char.length;
    points += 1;
  }
  return units + Math.max(0, column - points);
}

/**
 * Findings grouped by absolute file path; `lines(file)` gives a file's lines (or undefined if
 * unreadable, when code-point columns are used as they are).
 */
export function problemsByFile(
  findings: CliFinding[],
  cwd: string,
  lines: (file: string) => string[] | undefined,
): Map<string, Problem[]> {
  const result = new Map<string, Problem[]>();
  for (const finding of findings) {
    const file = path.resolve(cwd, finding.path);
    const text = lines(file);
    const position = (p: { line: number; column: number }) => {
      const line = Math.max(0, p.line - 1);
      const column = Math.max(0, p.column - 1);
      const content = text?.[line];
      return { line, character: content === undefined ? column : utf16Column(content, column) };
    };
    const problems = result.get(file) ?? [];
    problems.push({
      rule: finding.rule,
      severity: finding.severity,
      message: finding.message,
      url: finding.url ?? undefined,
      start: position(finding.start),
      end: position(finding.end),
    });
    result.set(file, problems);
  }
  return result;
}
