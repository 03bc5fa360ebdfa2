/**
 * Every prompt the engine sends, in one place. Prompts ask for exactly the JSON of the schemas in schemas.ts,
 * describe the claims format, and show other models' answers only under anonymous labels ("Answer A"), with
 * claim ids ("A1"), never a provider or model name, and without their stated confidence (so no answer wins by
 * sounding sure).
 */

/** What one call sends besides the schema. */
export interface PromptPair {
  system: string;
  prompt: string;
}

/** Another model's answer as shown in a prompt: a label and the content, nothing that says who wrote it. */
export interface LabelledAnswer {
  /** One capital letter: `A`, `B`, ... */
  label: string;
  answer: string;
  claims: readonly string[];
}

/** A model's own previous answer, shown back to it. */
export interface OwnAnswer {
  answer: string;
  confidence: number;
  claims: readonly string[];
}

const CLAIMS_RULES = [
  '"claims": 1 to 8 key claims your answer rests on. Each is one short, self-contained statement',
  '(at most 25 words) that another expert could agree or disagree with on its own: a fact, a step, a number.',
  'No numbering, no references to other claims.',
].join(' ');

const ANSWER_RULES = [
  '"answer": your answer. When the question asks for a number, a choice, a name or a yes/no, put only that in',
  '"answer" (for example "1000", "B", "Paris") and your reasoning in "claims".',
  '"confidence": a number from 0 to 1, how likely you think your answer is correct.',
].join(' ');

const JSON_ONLY = 'Reply with one JSON object and nothing else.';

/** Round 0 and the first link of a chain: answer on your own. */
export function answerPrompt(query: string): PromptPair {
  return {
    system: [
      'You are one of several independent experts answering the same question. Answer on your own.',
      JSON_ONLY,
      'It has exactly these fields: "answer" (string), "confidence" (number), "claims" (array of strings).',
      ANSWER_RULES,
      CLAIMS_RULES,
    ].join('\n'),
    prompt: `Question:\n${query}`,
  };
}

const MARK_RULES = [
  '"marks": one entry per claim of every other answer shown, {"claim": "<id>", "vote": "agree" | "partial" |',
  '"disagree"}, where <id> is the claim id shown (for example "B2" is claim 2 of Answer B). "partial" means',
  'partly right or right with a caveat. A claim you leave unmarked counts as disagree.',
].join(' ');

const BOUNCE_FIELDS =
  'It has exactly these fields: "critique" (string), "marks" (array), "answer" (string), "confidence" ' +
  '(number), "claims" (array of strings).';

/** A bounce round: the others' latest answers (anonymised, already shuffled), to judge and learn from. */
export function bouncePrompt(query: string, own: OwnAnswer, others: readonly LabelledAnswer[]): PromptPair {
  return {
    system: [
      'You are one of several independent experts answering the same question. You answered before; now you see',
      "the other experts' answers. They are anonymous and in no particular order: judge them on their merits only.",
      JSON_ONLY,
      BOUNCE_FIELDS,
      '"critique": what is right or wrong in the other answers and in yours, briefly.',
      MARK_RULES,
      'Then revise your answer, or keep it if you still think it is right: do not follow the others only because',
      'they agree with each other.',
      ANSWER_RULES,
      CLAIMS_RULES,
    ].join('\n'),
    prompt: [`Question:\n${query}`, formatOwn(own), ...others.map(formatLabelled)].join('\n\n'),
  };
}

/** A link of the sequential chain: the previous answer (anonymised) to judge and refine. */
export function chainPrompt(query: string, previous: LabelledAnswer, own: OwnAnswer | null): PromptPair {
  return {
    system: [
      'You are one of several experts refining an answer in turn. You see the latest answer, written by another',
      'expert. Check it, correct what is wrong, add what is missing, and give the improved answer.',
      JSON_ONLY,
      BOUNCE_FIELDS,
      '"critique": what is right or wrong in the answer you were given, briefly.',
      MARK_RULES,
      ANSWER_RULES,
      CLAIMS_RULES,
    ].join('\n'),
    prompt: [`Question:\n${query}`, ...(own ? [formatOwn(own)] : []), formatLabelled(previous)].join('\n\n'),
  };
}

/** Synthesis of a long answer by one member of the majority. */
export function synthesisPrompt(
  query: string,
  majority: readonly LabelledAnswer[],
  minority: readonly LabelledAnswer[],
  disputedClaims: readonly string[],
): PromptPair {
  const minorityText =
    minority.length === 0 ? 'Minority answers: none.' : ['Minority answers:', ...minority.map(formatLabelled)];
  const disputedText =
    disputedClaims.length === 0
      ? 'Disputed claims of the majority: none.'
      : ['Disputed claims of the majority:', ...disputedClaims.map((claim) => `- ${claim}`)].join('\n');
  return {
    system: [
      'Several experts answered the same question and most of them agree. Write the final answer from the',
      'majority answers: keep what they agree on, resolve small differences, do not add new claims.',
      JSON_ONLY,
      'It has exactly these fields: "answer" (string), "dissent" (string).',
      '"answer": the final answer, complete and self-contained.',
      '"dissent": what the minority answers and the disputed claims say differently, briefly and fairly; an',
      'empty string when there is none.',
    ].join('\n'),
    prompt: [
      `Question:\n${query}`,
      ['Majority answers:', ...majority.map(formatLabelled)].join('\n\n'),
      Array.isArray(minorityText) ? minorityText.join('\n\n') : minorityText,
      disputedText,
    ].join('\n\n'),
  };
}

/** Appended to the prompt of the one retry after an answer that did not fit the schema. */
export function retryNote(problem: string): string {
  return `\n\nYour previous reply could not be used: ${problem}. ${JSON_ONLY} Follow the fields exactly.`;
}

/**
 * Replaces provider names and model ids inside other models' answers ("As gemini-2.5-pro, I ...") so a bounce
 * prompt names no one; a model calling itself by a name we do not know is not caught.
 */
export function redactIdentities(text: string, identities: readonly string[]): string {
  let redacted = text;
  // Longest first: a name inside a model id ("codex" in "gpt-5-codex") must not split the id.
  for (const identity of [...identities].sort((a, b) => b.length - a.length)) {
    if (identity.trim().length < 2) continue;
    const pattern = new RegExp(identity.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi');
    redacted = redacted.replace(pattern, '[a model]');
  }
  return redacted;
}

function formatOwn(own: OwnAnswer): string {
  const claims = own.claims.map((claim) => `- ${claim}`).join('\n');
  return `Your previous answer (confidence ${own.confidence}):\n${own.answer}\nYour claims:\n${claims}`;
}

function formatLabelled(answer: LabelledAnswer): string {
  const claims = answer.claims.map((claim, index) => `${answer.label}${index + 1}: ${claim}`).join('\n');
  return `Answer ${answer.label}:\n${answer.answer}\nClaims of Answer ${answer.label}:\n${claims}`;
}
