import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** A 32-byte AES key and the id written next to every ciphertext it makes. */
interface Key {
  id: string;
  secret: Buffer;
}

/** Raised at start for a key that is not 32 bytes of base64. */
export class InvalidKeyError extends Error {
  override readonly name = 'InvalidKeyError';
}

/** The key id is derived from the key itself, so rotating needs no id bookkeeping. */
function toKey(base64: string, variable: string): Key {
  const secret = Buffer.from(base64, 'base64');
  if (secret.length !== 32)
    throw new InvalidKeyError(
      `${variable} must be 32 bytes in base64 (e.g. \`openssl rand -base64 32\`), got ${secret.length} bytes`,
    );
  return { id: createHash('sha256').update(secret).digest('hex').slice(0, 8), secret };
}

/**
 * AES-256-GCM for session data. Writes with the current key; reads with it or any previous key, chosen
 * by the key id in the envelope `v1.<kid>.<iv>.<tag>.<ciphertext>`. The session id is bound in as
 * additional data, so a ciphertext copied to another session does not decrypt.
 */
export class SessionCipher {
  private readonly current: Key;
  private readonly keys: Map<string, Key>;

  constructor(currentKey: string, previousKeys: readonly string[] = []) {
    this.current = toKey(currentKey, 'SESSION_ENCRYPTION_KEY');
    this.keys = new Map(
      [this.current, ...previousKeys.map((k) => toKey(k, 'SESSION_ENCRYPTION_PREVIOUS_KEYS'))].map((k) => [k.id, k]),
    );
  }

  /** A random key, for development without SESSION_ENCRYPTION_KEY. */
  static randomKey(): string {
    return randomBytes(32).toString('base64');
  }

  get keyId(): string {
    return this.current.id;
  }

  encrypt(plaintext: string, boundTo: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.secret, iv);
    cipher.setAAD(Buffer.from(boundTo));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      'v1',
      this.current.id,
      iv.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
      body.toString('base64url'),
    ].join('.');
  }

  /** Returns null when the envelope's key is unknown here; throws when the ciphertext was tampered with. */
  decrypt(envelope: string, boundTo: string): string | null {
    const [version, kid, iv, tag, body] = envelope.split('.');
    const key = kid ? this.keys.get(kid) : undefined;
    if (version !== 'v1' || !key || iv === undefined || tag === undefined || body === undefined) return null;
    const decipher = createDecipheriv('aes-256-gcm', key.secret, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(boundTo));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  }
}
