/** An approval put to the caller whose turn asked for it (secrets masked). */
export interface ApprovalQuestion {
  /** The pending approval's id (as `GET /api/v1/mcp/approvals` lists it). */
  id: string;
  kind: 'command' | 'file_change';
  /** The command line, or the files touched. */
  summary: string;
  cwd: string | null;
  risk: 'low' | 'medium' | 'high';
  reasons: string[];
  deadline: string;
  /** The question as a person reads it: what, where, how risky and why. */
  message: string;
}

/**
 * Puts an approval to a caller. Resolves with the caller's decision, or undefined when the caller gave none
 * (dismissed it, or could not be asked). `signal` aborts when the approval was decided elsewhere (operator,
 * deadline, shutdown): the question is then withdrawn.
 */
export type Ask = (question: ApprovalQuestion, signal: AbortSignal) => Promise<'accept' | 'decline' | undefined>;

/** Who can answer approvals for a thread right now: the caller whose turn runs on it, if it can be asked. */
export class ThreadAskers {
  private readonly askers = new Map<string, Ask>();

  /** Registers `ask` for `threadId` while its turn runs; returns the release. */
  register(threadId: string, ask: Ask): () => void {
    this.askers.set(threadId, ask);
    return () => {
      if (this.askers.get(threadId) === ask) this.askers.delete(threadId);
    };
  }

  /** The caller of the turn running on `threadId`, when it can be asked. */
  askerFor(threadId: string): Ask | undefined {
    return this.askers.get(threadId);
  }
}
