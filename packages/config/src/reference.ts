import type { TSchema } from 'typebox';
import { ENV_BINDINGS, FREE_FORM_TABLES, schemaLeaves } from './env.js';
import { FileConfigSchema } from './schema.js';

type Node = TSchema & {
  properties?: Record<string, Node>;
  enum?: unknown[];
  type?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  description?: string;
};

function allowed(s: Node): string {
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(', ');
  const bounds = [
    s.minimum !== undefined && `>= ${s.minimum}`,
    s.exclusiveMinimum !== undefined && `> ${s.exclusiveMinimum}`,
    s.maximum !== undefined && `<= ${s.maximum}`,
  ];
  return [s.type ?? 'table', ...bounds.filter(Boolean)].join(' ');
}

/** The markdown tables of every file setting: key, default, allowed values, environment variables. */
export function configReference(): string {
  const named = new Map(
    ENV_BINDINGS.filter((b) => !b.name.startsWith('TECHSAPO_')).map((b) => [
      b.path.join('.'),
      [b.name, ...(b.aliases ?? [])],
    ]),
  );
  const out: string[] = [];
  for (const [section, schema] of Object.entries(FileConfigSchema.properties as Record<string, TSchema>)) {
    out.push(`### [${section}]`, '', '| key | default | allowed | environment |', '| --- | --- | --- | --- |');
    for (const [path, s] of schemaLeaves(schema, [section]) as [string[], Node][]) {
      const dotted = path.join('.');
      const env = FREE_FORM_TABLES.includes(dotted)
        ? ['(file only)']
        : [...(named.get(dotted) ?? []), `TECHSAPO_${path.join('_').toUpperCase()}`].map((n) => `\`${n}\``);
      const key = path.slice(1).join('.') || `[${section}]`;
      out.push(`| \`${key}\` | \`${JSON.stringify(s.default ?? null)}\` | ${allowed(s)} | ${env.join(', ')} |`);
    }
    out.push('');
  }
  return out.join('\n').trimEnd();
}
