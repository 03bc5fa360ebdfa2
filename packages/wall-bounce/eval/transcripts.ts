/**
 * Recorded real-provider runs, scored like the simulations. A transcripts directory holds `*.json` files; each is
 * one record or an array of records:
 *
 *   { "id": "optional name", "question": "...", "expected": "exact answer", "result": <WallBounceResult> }
 *
 * `result` is what `runWallBounce` returned with real providers (it is checked against `WallBounceResultSchema`);
 * its `history` gives the round-0 answers the vote baselines and the single providers are scored on. Recorded runs
 * have no extra independent samples, so the equal-call baselines are not computed for them.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Value } from 'typebox/value';
import { type WallBounceResult, WallBounceResultSchema } from '../src/schemas.js';
import { type ItemOutcome, outcomeFromResult } from './outcomes.js';

/** What loading a transcripts directory gave: the scored items, and why anything was skipped. */
export interface TranscriptLoad {
  outcomes: ItemOutcome[];
  notes: string[];
}

/** Loads and scores every record under `dir`; a missing or empty directory gives no outcomes and a note. */
export async function loadTranscripts(dir: string, seed: number): Promise<TranscriptLoad> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.json')).sort();
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    return { outcomes: [], notes: [`transcripts directory ${dir} could not be read (${reason}): skipped`] };
  }
  if (names.length === 0) return { outcomes: [], notes: [`transcripts directory ${dir} holds no *.json: skipped`] };

  const outcomes: ItemOutcome[] = [];
  const notes: string[] = [];
  for (const name of names) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(join(dir, name), 'utf8'));
    } catch (error) {
      notes.push(`${name}: not JSON (${(error as Error).message}): skipped`);
      continue;
    }
    const records = Array.isArray(parsed) ? parsed : [parsed];
    records.forEach((record, index) => {
      const problem = recordProblem(record);
      if (problem !== null) {
        notes.push(`${name}[${index}]: ${problem}: skipped`);
        return;
      }
      const { id, question, expected, result } = record as TranscriptRecord;
      outcomes.push(outcomeFromResult(id ?? `${name}#${index}:${question.slice(0, 40)}`, expected, result, seed));
    });
  }
  return { outcomes, notes };
}

/** One recorded run, with the exact answer it is scored against. */
export interface TranscriptRecord {
  id?: string;
  question: string;
  expected: string;
  result: WallBounceResult;
}

/** Why a record cannot be scored, or null. */
function recordProblem(record: unknown): string | null {
  if (typeof record !== 'object' || record === null) return 'not an object';
  const fields = record as Record<string, unknown>;
  if (typeof fields.question !== 'string') return '"question" is not a string';
  if (typeof fields.expected !== 'string' || fields.expected === '') return '"expected" is not a non-empty string';
  if (fields.id !== undefined && typeof fields.id !== 'string') return '"id" is not a string';
  if (!Value.Check(WallBounceResultSchema, fields.result)) {
    const first = [...Value.Errors(WallBounceResultSchema, fields.result)][0];
    return `"result" is not a WallBounceResult (${first ? `${first.instancePath || '(root)'} ${first.message}` : 'invalid'})`;
  }
  return null;
}
