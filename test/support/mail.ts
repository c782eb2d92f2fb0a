import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SMTPServer, type SMTPServerError } from 'smtp-server';
import { createLogger } from '../../platform/log.js';
import { createMailer } from '../../platform/mailer.js';
import { freePort } from '../../testkit/ports.js';

export interface ReceivedMail {
  mailFrom: string | null;
  rcptTo: string[];
  raw: string;
}

/**
 * A real SMTP server in this process, without TLS or authentication; `refuseRecipients` answers
 * every RCPT TO with that reply code (550: no such mailbox, for good; 451: try again later).
 */
export async function startSmtpServer(options: { refuseRecipients?: 550 | 451 } = {}) {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    onRcptTo(address, _session, callback) {
      if (!options.refuseRecipients) return callback();
      const error: SMTPServerError = Object.assign(new Error(`mailbox ${address.address} unavailable`), { responseCode: options.refuseRecipients });
      callback(error);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const mailFrom = session.envelope.mailFrom;
        received.push({ mailFrom: mailFrom ? mailFrom.address : null, rcptTo: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface ParsedMail {
  /** Header names in lower case, values unfolded and with encoded words decoded. */
  headers: Map<string, string>;
  text: string | null;
  html: string | null;
}

/**
 * Just enough MIME for what nodemailer writes: a single part or multipart/alternative of
 * text/plain and text/html, in 7bit, quoted-printable or base64, with RFC 2047 encoded headers.
 */
export function parseMail(raw: string): ParsedMail {
  const { headers, body } = splitPart(raw);
  const parts: Array<{ headers: Map<string, string>; body: string }> = [];
  const boundary = /boundary="?([^";]+)"?/i.exec(headers.get('content-type') ?? '')?.[1];
  if (boundary) {
    const sections = body.split(`--${boundary}`).slice(1);
    for (const section of sections) {
      if (section.startsWith('--')) break;
      parts.push(splitPart(section.replace(/^\r?\n/, '')));
    }
  } else {
    parts.push({ headers, body });
  }
  const partOf = (type: string) => {
    const part = parts.find((p) => (p.headers.get('content-type') ?? 'text/plain').toLowerCase().startsWith(type));
    return part ? decodeBody(part.body, part.headers.get('content-transfer-encoding') ?? '7bit') : null;
  };
  return { headers, text: partOf('text/plain'), html: partOf('text/html') };
}

function splitPart(raw: string) {
  const end = raw.search(/\r?\n\r?\n/);
  const head = raw.slice(0, end);
  const body = raw.slice(end).replace(/^\r?\n\r?\n/, '');
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), decodeWords(line.slice(colon + 1).trim()));
  }
  return { headers, body };
}

function decodeBody(body: string, encoding: string): string {
  switch (encoding.toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable':
      return decodeQuotedPrintable(body.replace(/=\r?\n/g, ''));
    default:
      return body;
  }
}

function decodeQuotedPrintable(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const hex = text[i] === '=' ? /^[0-9A-F]{2}$/i.exec(text.slice(i + 1, i + 3)) : null;
    if (hex) {
      bytes.push(parseInt(hex[0], 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(text[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[QB]\?[^?]*\?=)\s+(?==\?)/gi, '$1')
    .replace(/=\?([^?]+)\?([QB])\?([^?]*)\?=/gi, (_, _charset: string, kind: string, data: string) =>
      kind.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : decodeQuotedPrintable(data.replace(/_/g, ' ')),
    );
}

/** A mailer that writes into `outbox-mail/` of a fresh temporary folder, for suites whose workflows escalate. */
export function tempOutboxMailer() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'concierge-mail-'));
  const mailer = createMailer({ smtpUrl: undefined, dataDir, from: 'Concierge <concierge@localhost>', log: createLogger('silent') });
  return {
    mailer,
    outbox: path.join(dataDir, 'outbox-mail'),
    dispose() {
      mailer.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
