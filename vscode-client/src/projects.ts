/**
 * The detected migration projects (the server's `migrationLsp/projects` notification) as the
 * status item shows them. Pure: unit-tested without VS Code.
 */
import * as path from "node:path";

export interface Project {
  tool: string;
  flavor?: string | null;
  root: string;
  folder: string;
  dialect?: string | null;
  dialectSource?: string | null;
  migrations: string[];
}

export interface ProjectsNotification {
  projects: Project[];
}

/** "alembic · postgresql", "alembic, flyway · postgresql, mysql"; tools and dialects once each. */
export function statusText(projects: Project[]): string {
  if (projects.length === 0) {
    return "no migrations found";
  }
  const tools = unique(projects.map((p) => p.tool));
  const dialects = unique(projects.map((p) => p.dialect ?? "").filter((d) => d));
  const shown = tools.length > 3 ? [...tools.slice(0, 3), `+${tools.length - 3}`] : tools;
  return dialects.length ? `${shown.join(", ")} · ${dialects.join(", ")}` : shown.join(", ");
}

/** Markdown: one section per workspace folder, one line per project. */
export function statusTooltip(projects: Project[]): string {
  if (projects.length === 0) {
    return "migration-lsp found no migration project in this workspace.";
  }
  const byFolder = new Map<string, Project[]>();
  for (const project of projects) {
    const list = byFolder.get(project.folder) ?? [];
    list.push(project);
    byFolder.set(project.folder, list);
  }
  const lines: string[] = [];
  for (const [folder, list] of byFolder) {
    lines.push(`**${escape(path.basename(folder) || folder)}**`, "");
    for (const project of list) {
      lines.push(`- ${projectLine(project)}`);
    }
    lines.push("");
  }
  return lines.join("\n").trimEnd();
}

/** "alembic (flask-migrate) in billing-api — postgresql (from alembic.ini)". */
export function projectLine(project: Project): string {
  const tool =
    project.flavor && project.flavor !== project.tool
      ? `${project.tool} (${project.flavor})`
      : project.tool;
  const where = path.relative(project.folder, project.root) || ".";
  const dialect = project.dialect
    ? project.dialectSource
      ? `${project.dialect} (from ${project.dialectSource})`
      : project.dialect
    : "dialect unknown";
  return `${escape(tool)} in \`${where}\` — ${escape(dialect)}`;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function escape(text: string): string {
  return text.replace(/([\\`*_{}[\]<>#|])/g, "\\$1");
}
