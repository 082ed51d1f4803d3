import { z } from 'zod';

/** The modes a turn can take (triage decides); each has its own base, learned separately. */
export const BUDGET_MODES = ['express', 'council', 'emergency'] as const;
export type BudgetMode = (typeof BUDGET_MODES)[number];

/**
 * The founding design's seed figures: express 800 and council 2 500 tokens, plus 400 per role. An emergency is a
 * council that gets "a larger budget": half as much again as a council's base, our choice, stated here.
 */
export const SEED_BASES: Readonly<Record<BudgetMode, number>> = { express: 800, council: 2_500, emergency: 3_750 };
export const TOKENS_PER_ROLE = 400;

/** A base learnt from reconciliations, with how many it learnt from (0: still the seed). */
export interface LearnedBase {
  base: number;
  learnedFrom: number;
}

export type LearnedBases = Readonly<Record<BudgetMode, LearnedBase>>;

export const seedLearnedBases: LearnedBases = {
  express: { base: SEED_BASES.express, learnedFrom: 0 },
  council: { base: SEED_BASES.council, learnedFrom: 0 },
  emergency: { base: SEED_BASES.emergency, learnedFrom: 0 },
};

/** `budget.estimated`: every term of the estimate, so an auditor can redo the arithmetic from the record alone. */
export const budgetEstimateSchema = z.strictObject({
  turn: z.number().int().nonnegative(),
  mode: z.enum(BUDGET_MODES),
  /** Roles working on the turn, the synthesiser included. */
  roles: z.number().int().positive(),
  confidence: z.number().min(0).max(1),
  seedBase: z.number().int().positive(),
  /**
   * The base in force: the seed moved by what past reconciliations taught. It may fall below zero: the seed's 400
   * tokens per role are themselves more than short turns use, and the base is the one term that learns.
   */
  base: z.number().int(),
  learnedFrom: z.number().int().nonnegative(),
  /** The event id of the newest `budget.reconciled` the base learnt from; null while it is the seed. */
  learnedThrough: z.string().min(1).nullable(),
  perRole: z.number().int().nonnegative(),
  roleTokens: z.number().int().nonnegative(),
  /** `1 + confidence − 0.5`. */
  confidenceFactor: z.number().positive(),
  total: z.number().int().positive(),
  /**
   * What cross-session memory said of the query: the similar turns it recalled, the tokens it suggests, and the
   * position it had folded through (so an audit can refold the log there and recall the same turns).
   */
  memory: z.strictObject({
    similar: z.array(z.strictObject({
      sessionId: z.string().min(1), turn: z.number().int().nonnegative(), similarity: z.number().min(0).max(1), tokens: z.number().int().nonnegative(),
      mode: z.enum(BUDGET_MODES), outcome: z.enum(['answered', 'failed']), position: z.string().regex(/^\d+$/),
    })),
    suggestedTokens: z.number().int().nonnegative().nullable(),
    basis: z.string().min(1),
    through: z.string().regex(/^\d+$/).nullable(),
  }).optional(),
  /**
   * The tokens given to the turn's agents: memory's suggestion with a margin when it has one, else `total`. `total`
   * stays the formula's, which is what budget learning measures and moves.
   */
  allocated: z.number().int().positive().optional(),
});

export type BudgetEstimate = z.infer<typeof budgetEstimateSchema>;

/** Memory's suggestion is what similar turns used; the margin keeps a turn that runs a little longer in budget. */
export const MEMORY_MARGIN = 1.15;

export function confidenceFactor(confidence: number): number {
  return 1 + confidence - 0.5;
}

/**
 * Estimate = (base by mode + 400 per role) × (1 + confidence − 0.5), the base being the learnt one. Rounded up
 * to whole tokens: a budget is a number of tokens, and under is the worse side to round to.
 */
export function estimateBudget(
  input: { turn: number; mode: BudgetMode; roles: number; confidence: number },
  learned: LearnedBases = seedLearnedBases,
  learnedThrough: string | null = null,
): BudgetEstimate {
  const { base, learnedFrom } = learned[input.mode];
  const roleTokens = TOKENS_PER_ROLE * input.roles;
  const factor = confidenceFactor(input.confidence);
  return {
    turn: input.turn, mode: input.mode, roles: input.roles, confidence: input.confidence,
    seedBase: SEED_BASES[input.mode], base: Math.round(base), learnedFrom, learnedThrough: learnedFrom === 0 ? null : learnedThrough,
    perRole: TOKENS_PER_ROLE, roleTokens, confidenceFactor: factor,
    total: Math.max(1, Math.ceil((Math.round(base) + roleTokens) * factor)),
  };
}
