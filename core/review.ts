// Human review of tool calls (interrupt_on): the decisions a person may take and the review set up for a tool.

export const ReviewDecision = { approve: 'approve', edit: 'edit', reject: 'reject', respond: 'respond' } as const;
export type ReviewDecisionType = (typeof ReviewDecision)[keyof typeof ReviewDecision];
export const allDecisions: readonly ReviewDecisionType[] = ['approve', 'edit', 'reject', 'respond'];

export interface ReviewConfig {
  allowedDecisions: ReviewDecisionType[];
  description?: string;
}

/** The review configured for a tool, looked up as an own property: a tool named `constructor` has none by default. */
export function reviewFor(interruptOn: Record<string, ReviewConfig>, toolName: string): ReviewConfig | undefined {
  return Object.hasOwn(interruptOn, toolName) ? interruptOn[toolName] : undefined;
}
