// Query strings are text, and the route schemas type their numbers and booleans. The body
// validator never coerces (a JSON body's "5" is not 5), so query values are coerced here, per
// route, from the properties its querystring schema types: `?limit=5` reads as the integer 5.

import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';

type Kind = 'integer' | 'number' | 'boolean';

function coercible(schema: unknown): Map<string, Kind> {
  const out = new Map<string, Kind>();
  const props = (schema as { properties?: Record<string, { type?: unknown }> } | undefined)?.properties ?? {};
  for (const [name, p] of Object.entries(props)) {
    if (p.type === 'integer' || p.type === 'number' || p.type === 'boolean') out.set(name, p.type);
  }
  return out;
}

function coerce(value: string, kind: Kind): unknown {
  if (kind === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  // Only plain decimal numerals; anything else stays text for the validator to refuse.
  if (!/^-?\d+(\.\d+)?$/.test(value) || value.length > 20) return value;
  return Number(value);
}

export function registerQueryCoercion(app: FastifyInstance): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    const kinds = coercible(route.schema?.querystring);
    if (kinds.size === 0) return;
    const hook = async (req: FastifyRequest) => {
      const q = req.query as Record<string, unknown> | null;
      if (q === null || typeof q !== 'object') return;
      for (const [name, kind] of kinds) if (typeof q[name] === 'string') q[name] = coerce(q[name] as string, kind);
    };
    const existing =
      route.preValidation === undefined ? [] : Array.isArray(route.preValidation) ? route.preValidation : [route.preValidation];
    route.preValidation = [...existing, hook] as typeof route.preValidation;
  });
}
