// A loopback HTTP server standing for a team's own service that Parley
// calls (an outgoing webhook's URL): it keeps each request and answers
// with the JSON it is given.
import { createServer, type IncomingMessage, type Server } from "node:http";
import { createHmac } from "node:crypto";

export type Received = { path: string; headers: IncomingMessage["headers"]; body: string };

export class Receiver {
  private server: Server;
  private received: Received[] = [];
  private waiting: ((r: Received) => void)[] = [];

  private constructor(answer: string) {
    this.server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" }).end(answer);
        const got = { path: req.url ?? "", headers: req.headers, body };
        const next = this.waiting.shift();
        if (next) next(got);
        else this.received.push(got);
      });
    });
  }

  /** A receiver answering `answer` (JSON) to every request. */
  static async start(answer: string): Promise<Receiver> {
    const r = new Receiver(answer);
    await new Promise<void>((done) => r.server.listen(0, "127.0.0.1", done));
    return r;
  }

  url(path: string): string {
    const address = this.server.address();
    if (address === null || typeof address === "string") throw new Error("not listening");
    return `http://127.0.0.1:${address.port}${path}`;
  }

  /** The next request, waited for up to `ms`. */
  next(ms = 10_000): Promise<Received> {
    const had = this.received.shift();
    if (had) return Promise.resolve(had);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no request within ${ms} ms`)), ms);
      this.waiting.push((r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((done) => this.server.close(() => done()));
  }
}

/** Whether `r` is signed with `secret` as Slack signs: v0= and the HMAC-SHA256 of v0:timestamp:body. */
export function signedWith(r: Received, secret: string): boolean {
  const ts = String(r.headers["x-parley-request-timestamp"]);
  const expected = "v0=" + createHmac("sha256", secret).update(`v0:${ts}:${r.body}`).digest("hex");
  return r.headers["x-parley-signature"] === expected;
}
