// The parts of @xmpp/* (0.14, shipped without types) that agent-client.ts uses.
declare module '@xmpp/connection-tcp' {
  import type { EventEmitter } from 'node:events';
  import type { Socket } from 'node:net';
  import type { Element } from 'ltx';
  export default class ConnectionTCP extends EventEmitter {
    constructor(options?: Record<string, unknown>);
    status: string;
    socket: (Socket & { secure?: boolean }) | null;
    parser: (EventEmitter & { write(data: Buffer | string): void }) | null;
    root: Element | null;
    timeout: number;
    options: Record<string, unknown>;
    Parser: new () => EventEmitter & { write(data: Buffer | string): void; end(data?: string): void };
    connect(service: string): Promise<void>;
    open(options: { domain?: string; lang?: string }): Promise<Element>;
    disconnect(): Promise<Element | undefined>;
    write(s: string): Promise<void>;
    header(el: Element): string;
    socketParameters(service: string): Record<string, unknown> | undefined;
    _onData(data: Buffer): void;
    _attachParser(parser: EventEmitter): void;
    _detachParser(): void;
    _attachSocket(socket: Socket): void;
    _detachSocket(): void;
    restart(): Promise<Element>;
  }
}

declare module '@xmpp/reconnect' {
  import type { EventEmitter } from 'node:events';
  export interface Reconnect extends EventEmitter {
    delay: number;
    start(): void;
    stop(): void;
    scheduleReconnect(): void;
    reconnect(): Promise<void>;
  }
  export default function reconnect(a: { entity: EventEmitter }): Reconnect;
}

declare module '@xmpp/middleware' {
  import type { EventEmitter } from 'node:events';
  import type { Element } from 'ltx';
  export interface IncomingContext { stanza: Element; name: string; id: string; type: string; entity: EventEmitter }
  export type Middleware = (ctx: IncomingContext, next: () => Promise<unknown>) => unknown;
  export interface MiddlewareApi { use(fn: Middleware): Middleware; filter(fn: Middleware): Middleware }
  export default function middleware(a: { entity: EventEmitter }): MiddlewareApi;
}
