import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { ServerRequestHandler } from '../codex/runtime.js';
import { type ApprovalPolicy, type Assessment, assessCommand, assessFileChanges, decide } from '../security/risk.js';
import { maskSecrets, type SecretMasker } from '../security/secrets.js';
import type { ApprovalQuestion, Ask } from './askers.js';

/** An approval waiting for a person (`GET /api/v1/mcp/approvals`). */
export interface PendingApproval {
  id: string;
  threadId: string;
  turnId: string;
  kind: 'command' | 'file_change';
  /** The command line, or the files touched (secrets masked). */
  summary: string;
  cwd: string | null;
  risk: Assessment['risk'];
  reasons: string[];
  createdAt: string;
  deadline: string;
}

/** A decision, as recorded in the audit stream. */
export interface ApprovalRecord {
  threadId: string;
  kind: PendingApproval['kind'];
  summary: string;
  risk: Assessment['risk'];
  reasons: string[];
  decision: 'accept' | 'decline';
  /** `client`: the caller whose turn asked, through its MCP client. */
  by: 'policy' | 'operator' | 'client' | 'deadline' | 'shutdown';
}

/** Options of `ApprovalCenter`. */
export interface ApprovalOptions {
  policy: ApprovalPolicy;
  /** `[security] risk_assessment`: when off, every request is treated as medium risk. */
  riskAssessment: boolean;
  /** Running under CI (the `CI` variable): with `require_manual_approval_for_ci`, risky requests wait for a person. */
  isCi: boolean;
  timeoutMs: number;
  /** Codex's home: commands that touch it are high risk wherever it is. */
  codexHome?: string | undefined;
  /** Masks summaries (listed, logged, audited); default `maskSecrets`. */
  mask?: SecretMasker | undefined;
  onDecision: (record: ApprovalRecord) => void;
  /** The caller of the turn running on a thread, when it can be asked (task calls): manual approvals are put to it too. */
  askerFor?: ((threadId: string) => Ask | undefined) | undefined;
  log: FastifyBaseLogger;
}

type FileChange = { path: string; kind: { type: 'add' | 'delete' | 'update'; move_path?: string | null } };

/**
 * Answers Codex's approval requests: classifies each command or file change by risk, decides per
 * `[security.approval_workflows]`, and parks what needs a person in a queue with a deadline after which it
 * is declined, so a turn never hangs. Such an approval is also put to the caller of the turn when it can be
 * asked; the first answer (caller or operator) wins.
 */
export class ApprovalCenter implements ServerRequestHandler {
  private readonly pending = new Map<
    string,
    PendingApproval & { settle: (decision: 'accept' | 'decline', by: ApprovalRecord['by']) => void }
  >();
  /** File changes announced by `item/started`, by item id: the approval request itself carries no diff. */
  private readonly fileChanges = new Map<string, FileChange[]>();

  private readonly mask: SecretMasker;

  constructor(private readonly options: ApprovalOptions) {
    this.mask = options.mask ?? maskSecrets;
  }

  /** Watches notifications for the file changes that later approval requests refer to. */
  observe(method: string, params: Record<string, unknown>): void {
    const item = params.item as { type?: string; id?: string; changes?: FileChange[] } | undefined;
    if (item?.type !== 'fileChange' || !item.id) return;
    if (method === 'item/started') this.fileChanges.set(item.id, item.changes ?? []);
    else if (method === 'item/completed') this.fileChanges.delete(item.id);
  }

  /**
   * Answers one server request from app-server; commands are judged against `threadWorkspace`, the working
   * directory of the thread (else the request's own cwd).
   */
  async handle(
    method: string,
    params: Record<string, unknown>,
    threadWorkspace?: string,
  ): Promise<{ decision: 'accept' | 'decline' }> {
    const threadId = String(params.threadId ?? '');
    const workspace = threadWorkspace ?? String(params.cwd ?? process.cwd());
    let kind: PendingApproval['kind'];
    let summary: string;
    let assessment: Assessment;
    if (method === 'item/commandExecution/requestApproval') {
      kind = 'command';
      const command = String(params.command ?? '');
      summary = this.mask(command);
      const cwd = String(params.cwd ?? workspace);
      // A request without a command (a stdin write, a network access) cannot be judged: never automatic.
      assessment = command.trim()
        ? assessCommand(command, cwd, [workspace], { codexHome: this.options.codexHome })
        : { risk: 'high', reasons: [`names no command (${String(params.kind ?? 'unknown kind')})`] };
    } else if (method === 'item/fileChange/requestApproval') {
      kind = 'file_change';
      const changes = this.fileChanges.get(String(params.itemId)) ?? [];
      const files = changes.map((c) => `${c.kind.type} ${c.path}${c.kind.move_path ? ` -> ${c.kind.move_path}` : ''}`);
      summary = this.mask(files.join(', ') || '(unknown files)');
      assessment = changes.length
        ? assessFileChanges(
            changes.map((c) => ({ path: c.path, kind: c.kind.type, movePath: c.kind.move_path ?? null })),
            [workspace],
          )
        : { risk: 'high', reasons: ['the files to change are unknown'] };
    } else {
      this.options.log.warn({ method }, 'declining an app-server request the bridge does not handle');
      return { decision: 'decline' };
    }
    if (!this.options.riskAssessment) assessment = { risk: 'medium', reasons: ['risk assessment is disabled'] };

    const verdict = decide(assessment, this.options.policy, this.options.isCi);
    const record = (decision: 'accept' | 'decline', by: ApprovalRecord['by']): { decision: 'accept' | 'decline' } => {
      this.options.onDecision({
        threadId,
        kind,
        summary,
        risk: assessment.risk,
        reasons: assessment.reasons,
        decision,
        by,
      });
      return { decision };
    };
    if (verdict !== 'manual') return record(verdict, 'policy');

    const id = randomUUID();
    const now = Date.now();
    const asked = new AbortController();
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle('decline', 'deadline'), this.options.timeoutMs);
      const settle = (decision: 'accept' | 'decline', by: ApprovalRecord['by']): void => {
        if (!this.pending.delete(id)) return;
        clearTimeout(timer);
        asked.abort();
        resolve(record(decision, by));
      };
      const approval: PendingApproval = {
        id,
        threadId,
        turnId: String(params.turnId ?? ''),
        kind,
        summary,
        cwd: params.cwd === undefined || params.cwd === null ? null : this.mask(String(params.cwd)),
        risk: assessment.risk,
        reasons: assessment.reasons.map((reason) => this.mask(reason)),
        createdAt: new Date(now).toISOString(),
        deadline: new Date(now + this.options.timeoutMs).toISOString(),
      };
      this.pending.set(id, { ...approval, settle });
      const ask = this.options.askerFor?.(threadId);
      if (ask) {
        ask(questionOf(approval), asked.signal).then(
          (answer) => answer && settle(answer, 'client'),
          (error: unknown) => this.options.log.warn({ err: error }, 'could not put an approval to the caller'),
        );
      }
    });
  }

  list(): PendingApproval[] {
    return [...this.pending.values()].map(({ settle: _settle, ...approval }) => approval);
  }

  /** An operator's decision; false when no such approval is pending (decided, expired, unknown). */
  resolve(id: string, decision: 'accept' | 'decline'): boolean {
    const approval = this.pending.get(id);
    approval?.settle(decision, 'operator');
    return approval !== undefined;
  }

  /** Declines everything still pending (shutdown). */
  close(): void {
    for (const approval of [...this.pending.values()]) approval.settle('decline', 'shutdown');
  }
}

/** What a person reads when an approval is put to them. */
function questionOf(approval: PendingApproval): ApprovalQuestion {
  const what =
    approval.kind === 'command'
      ? `Codex asks to run: ${approval.summary}`
      : `Codex asks to change files: ${approval.summary}`;
  const where = approval.cwd ? `\nin: ${approval.cwd}` : '';
  const why = approval.reasons.length ? ` (${approval.reasons.join('; ')})` : '';
  const message = `${what}${where}\nrisk: ${approval.risk}${why}\nAccept to allow it, decline to refuse it (declined at ${approval.deadline} if unanswered).`;
  const { id, kind, summary, cwd, risk, reasons, deadline } = approval;
  return { id, kind, summary, cwd, risk, reasons, deadline, message };
}
