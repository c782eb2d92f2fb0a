import WebSocket from 'ws';

export type Frame = [number, string, ...unknown[]];

/**
 * A charger written with nothing but a WebSocket: it sends OCPP-J frames as text and reads what
 * comes back. It shares no code with the gateway, so it checks the wire, not our own assumptions.
 */
export class RawCharger {
  private readonly frames: Frame[] = [];
  private readonly waiters: Array<(frame: Frame) => void> = [];
  private readonly pending = new Map<string, (frame: Frame) => void>();
  private nextId = 1;

  private constructor(
    private readonly ws: WebSocket,
    readonly id: string,
  ) {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      const answer = this.pending.get(frame[1]);
      if (answer) {
        this.pending.delete(frame[1]);
        return answer(frame);
      }
      const waiter = this.waiters.shift();
      if (waiter) waiter(frame);
      else this.frames.push(frame);
    });
  }

  /**
   * Connects with HTTP Basic auth; rejects with the HTTP status when the handshake is refused.
   * `answerPings: false` plays a dead link: the server's pings go unanswered.
   */
  static connect(url: string, id: string, password: string | null, protocols: string[] = ['ocpp1.6'], { answerPings = true } = {}): Promise<RawCharger> {
    const headers: Record<string, string> = {};
    if (password !== null) headers.authorization = `Basic ${Buffer.from(`${id}:${password}`).toString('base64')}`;
    const ws = new WebSocket(`${url}/ocpp/${encodeURIComponent(id)}`, protocols, { headers, autoPong: answerPings });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new RawCharger(ws, id)));
      ws.once('unexpected-response', (_request, response) => {
        reject(new HandshakeRefused(response.statusCode ?? 0));
        ws.terminate();
      });
      ws.once('error', reject);
    });
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a CALL and waits for the frame that answers it (CALLRESULT or CALLERROR); calls may overlap. */
  call(action: string, payload: unknown, timeoutMs = 10_000): Promise<Frame> {
    const id = `m${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no answer to ${action} ${id}`));
      }, timeoutMs);
      this.pending.set(id, (frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
      this.ws.send(JSON.stringify([2, id, action, payload]));
    });
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  nextFrame(timeoutMs = 10_000): Promise<Frame> {
    const queued = this.frames.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no frame from the server')), timeoutMs);
      this.waiters.push((frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
    });
  }

  /** Resolves when the server closes the socket. */
  closed(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => this.ws.once('close', () => resolve()));
  }

  /** Answers a CALL the server sent, with a result or (given an error code) a CALLERROR. */
  answer(call: Frame, result: unknown, errorCode?: string): void {
    this.ws.send(JSON.stringify(errorCode ? [4, call[1], errorCode, 'refused by the test charger', {}] : [3, call[1], result]));
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

export class HandshakeRefused extends Error {
  constructor(readonly status: number) {
    super(`handshake refused with HTTP ${status}`);
  }
}
