/**
 * A follow-up conversation about one flood plan, each question building on the last: the demo asks it in a small
 * context window so its agent is handed over mid-way, and tests that need a long, coherent session use it too.
 */
export const KHULNA_FOLLOW_UPS: readonly string[] = [
  'Which districts of Khulna flood first when the monsoon peaks?',
  'How high should the embankments be raised there?',
  'What do mangrove belts add to the embankments?',
  'Who maintains the sluice gates, and who pays for them?',
  'How should the early-warning sirens be placed?',
  'What does the plan cost in its first year?',
  'Which households are left exposed by the plan?',
  'How do we measure whether the plan is working?',
  'What should change if the sea rises faster than forecast?',
  'Summarise the plan for the district council.',
];
