import { registerAjvFormats, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';

registerAjvFormats();

/**
 * TypeBox validation for every route: bodies are checked as sent (no type coercion: `"60"` is not a
 * number), query strings, params and headers are converted from text; schema defaults are applied.
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = (route) => {
  const check = TypeBoxValidatorCompiler(route);
  return (value: unknown) => check(Value.Default(route.schema, value));
};

/** One readable line per problem: `body/ttlSeconds must be <= 86400`, `body/foo is not allowed`. */
export function describeValidation(errors: readonly FastifySchemaValidationError[], part: string): string[] {
  const lines: string[] = [];
  for (const error of errors) {
    const path = `${part}${error.instancePath}`;
    const params = error.params as Record<string, unknown>;
    if (error.keyword === 'additionalProperties' || error.keyword === 'anyOf') continue; // reported per property / branch
    if (error.keyword === 'boolean' && error.schemaPath.endsWith('additionalProperties'))
      lines.push(`${path} is not allowed`);
    else if (error.keyword === 'required')
      lines.push(...(params.requiredProperties as string[]).map((p) => `${path}/${p} is required`));
    else if (error.keyword === 'enum')
      lines.push(
        `${path} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      );
    else lines.push(`${path} ${error.message}`);
  }
  return [...new Set(lines)];
}
