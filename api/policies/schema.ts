import { z } from 'zod';

// PUT /policies: the operator's middleware, as configurable.middleware lists it (options are checked per middleware).

export const middlewareEntry = z
  .object({
    name: z.string().min(1),
    id: z.string().min(1).optional(),
    options: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export const policiesBody = z.object({ middleware: z.array(middlewareEntry) }).strict();
export type PoliciesBody = z.infer<typeof policiesBody>;
export const policiesResponse = z.object({ middleware: z.array(middlewareEntry) });
